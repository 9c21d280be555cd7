package cli

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// keys are the server's secrets: credential encryption, token signing and
// the api key pepper.
type keys struct {
	Encryption string // keyring spec, see store.ParseKeyring
	JWT        []byte
	Pepper     []byte
}

// loadKeys takes each key from the configuration. In development a missing
// key is generated once into the data folder (with a warning) and reused on
// later starts; in production a missing key is a start-up error.
func loadKeys(c Config, log *slog.Logger) (keys, error) {
	var k keys
	var missing []string
	get := func(value, name, file string) (string, error) {
		if value != "" {
			return value, nil
		}
		if c.Production() {
			missing = append(missing, name)
			return "", nil
		}
		return keyFile(filepath.Join(c.DataDir, "keys", file), name, log)
	}
	enc, err := get(c.EncryptionKey, "SYNCD_ENCRYPTION_KEY", "encryption.key")
	if err != nil {
		return k, err
	}
	if enc != "" && !strings.Contains(enc, ":") {
		enc = "1:" + enc // a bare key is version 1
	}
	jwtKey, err := get(c.JWTKey, "SYNCD_JWT_KEY", "jwt.key")
	if err != nil {
		return k, err
	}
	pepper, err := get(c.APIKeyPepper, "SYNCD_API_KEY_PEPPER", "api-key-pepper.key")
	if err != nil {
		return k, err
	}
	if len(missing) > 0 {
		return k, fmt.Errorf("SYNCD_ENV=production needs %s", strings.Join(missing, ", "))
	}
	if len(jwtKey) < 32 {
		return k, fmt.Errorf("SYNCD_JWT_KEY must be at least 32 characters")
	}
	if len(pepper) < 32 {
		return k, fmt.Errorf("SYNCD_API_KEY_PEPPER must be at least 32 characters")
	}
	return keys{Encryption: enc, JWT: []byte(jwtKey), Pepper: []byte(pepper)}, nil
}

// keyFile reads a generated key, generating it first when absent.
func keyFile(path, name string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	// O_EXCL: two processes starting at once must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return keyFile(path, name, log)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(key + "\n"); err != nil {
		return "", err
	}
	log.Warn("generated a key; set it explicitly in production", "variable", name, "file", path)
	return key, nil
}
