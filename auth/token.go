package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"syncd/domain"
)

// randomToken returns n random bytes, URL-safe base64 encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewRefreshToken returns an opaque refresh token and the hash to store.
func NewRefreshToken() (token, hash string) {
	token = randomToken(32)
	return token, HashRefreshToken(token)
}

// HashRefreshToken is the stored form of a refresh token. The token has 256
// bits of entropy, so a plain SHA-256 suffices (no pepper or stretching).
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// KeyHasher derives the stored form of api keys with HMAC-SHA256 under a
// server pepper, so a leaked table alone cannot be used to check guesses.
type KeyHasher struct{ pepper []byte }

// NewKeyHasher returns a KeyHasher with the given pepper.
func NewKeyHasher(pepper []byte) *KeyHasher { return &KeyHasher{pepper: pepper} }

// New returns a fresh api key ("sk_" + 43 characters), its display prefix and
// the hash to store.
func (h *KeyHasher) New() (key, prefix, hash string) {
	key = domain.APIKeyPrefix + randomToken(32)
	return key, key[:len(domain.APIKeyPrefix)+6], h.Hash(key)
}

// Hash returns the keyed hash of an api key. Lookups are by this hash, so the
// comparison happens inside the database index, not byte by byte in Go.
func (h *KeyHasher) Hash(key string) string {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}
