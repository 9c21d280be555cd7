package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"syncd/store"
)

// rotateKey re-encrypts every stored credential under the newest key of
// the keyring, so that older keys can then be dropped from it. The keyring
// is SYNCD_ENCRYPTION_KEY ("2:NEWKEY,1:OLDKEY": every key that sealed a
// stored credential, the newest highest) or, in development, the generated
// key file in the data folder. All of it happens in one transaction: a
// credential no key opens leaves everything as it was.
func rotateKey(ctx context.Context, cfg Config, stdout io.Writer) error {
	spec, err := keyringSpec(cfg)
	if err != nil {
		return err
	}
	keyring, err := store.ParseKeyring(spec)
	if err != nil {
		return fmt.Errorf("SYNCD_ENCRYPTION_KEY: %w", err)
	}
	s, err := openStore(ctx, cfg, nil, keyring)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		return fmt.Errorf("the database is not ready (run syncd migrate first): %w", err)
	}
	n, err := s.RotateKeys(ctx)
	if err != nil {
		return fmt.Errorf("rotate-key: nothing was changed: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "re-encrypted %d connection credential(s) under key version %d\n", n, keyring.Current())
	return err
}

// keyringSpec finds the keyring without generating a key: rotating to a
// key nobody has seen would lock every credential away.
func keyringSpec(cfg Config) (string, error) {
	spec := strings.TrimSpace(cfg.EncryptionKey)
	if spec == "" && !cfg.Production() {
		path := filepath.Join(cfg.DataDir, "keys", "encryption.key")
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		spec = strings.TrimSpace(string(b))
	}
	if spec == "" {
		return "", errors.New(`rotate-key needs SYNCD_ENCRYPTION_KEY, such as "2:NEWKEY,1:OLDKEY" (the newest version seals)`)
	}
	if !strings.Contains(spec, ":") {
		spec = "1:" + spec // a bare key is version 1, as at start-up
	}
	return spec, nil
}
