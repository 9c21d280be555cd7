package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"syncd/domain"
)

// Keyring encrypts secrets at rest with AES-256-GCM. Each ciphertext names the
// version of the key that sealed it ("v2:..."), so keys can be rotated: the
// newest key seals, every listed key opens.
type Keyring struct {
	current int
	aeads   map[int]cipher.AEAD
}

// ParseKeyring reads "VERSION:BASE64KEY[,VERSION:BASE64KEY...]"; the highest
// version seals new secrets. Each key is 32 bytes, standard base64.
func ParseKeyring(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[int]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		v, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		version, err := strconv.Atoi(v)
		if !ok || err != nil || version < 1 {
			return nil, fmt.Errorf("encryption key %q: want VERSION:BASE64KEY", redactKey(part))
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("encryption key version %d: want 32 bytes in base64", version)
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		k.aeads[version] = aead
		k.current = max(k.current, version)
	}
	return k, nil
}

func redactKey(s string) string {
	if v, _, ok := strings.Cut(s, ":"); ok {
		return v + ":***"
	}
	return "***"
}

// Versions lists the key versions, newest first.
func (k *Keyring) Versions() []int {
	out := make([]int, 0, len(k.aeads))
	for v := range k.aeads {
		out = append(out, v)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

// Seal encrypts plaintext under the current key, bound to aad (the owning
// row's id, so a ciphertext copied to another row does not open).
func (k *Keyring) Seal(plaintext, aad []byte) string {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plaintext, aad)
	return "v" + strconv.Itoa(k.current) + ":" + base64.StdEncoding.EncodeToString(sealed)
}

// Open decrypts a Seal result. Errors: CodeInternal when the key version is
// unknown or the ciphertext was tampered with or belongs to another row.
func (k *Keyring) Open(ciphertext string, aad []byte) ([]byte, error) {
	v, b64, ok := strings.Cut(ciphertext, ":")
	version, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
	if !ok || err != nil || !strings.HasPrefix(v, "v") {
		return nil, domain.Wrap(domain.CodeInternal, errors.New("malformed ciphertext"), "cannot read stored secret")
	}
	aead, ok := k.aeads[version]
	if !ok {
		return nil, domain.Wrap(domain.CodeInternal, fmt.Errorf("no key version %d", version), "cannot read stored secret")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, domain.Wrap(domain.CodeInternal, errors.New("malformed ciphertext"), "cannot read stored secret")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, domain.Wrap(domain.CodeInternal, err, "cannot read stored secret")
	}
	return plain, nil
}

// Current is the version that seals new secrets.
func (k *Keyring) Current() int { return k.current }
