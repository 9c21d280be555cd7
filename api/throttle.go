package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"syncd/domain"
)

// Failed logins are slowed down per email and address, and per address
// across emails (password spraying).
var (
	perEmail   = domain.LoginThrottle{Free: 5, Max: 15 * time.Minute}
	perAddress = domain.LoginThrottle{Free: 50, Max: 15 * time.Minute}
)

// loginThrottle counts failed logins in the store, so every replica slows
// down the same guessing. Keys are hashed: the store keeps no email or
// address, nor whatever was typed into the email field.
type loginThrottle struct {
	store domain.LoginFailureStore
}

// loginKeys are the hashed keys of a login attempt: per email and address,
// and per address.
func loginKeys(email, address string) (emailKey, addressKey string) {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	return hash("email\x00" + email + "\x00" + address), hash("address\x00" + address)
}

// wait returns how long the attempt must still wait.
func (t loginThrottle) wait(ctx context.Context, email, address string, now time.Time) (time.Duration, error) {
	ek, ak := loginKeys(email, address)
	got, err := t.store.LoginFailures(ctx, []string{ek, ak})
	if err != nil {
		return 0, err
	}
	return max(perEmail.Wait(got[ek], now), perAddress.Wait(got[ak], now)), nil
}

// fail counts a failed attempt under both keys.
func (t loginThrottle) fail(ctx context.Context, email, address string, now time.Time) error {
	ek, ak := loginKeys(email, address)
	return t.store.LoginFailed(ctx, []string{ek, ak}, now)
}

// succeed forgets the email's failures from this address; the address's
// count across emails stays.
func (t loginThrottle) succeed(ctx context.Context, email, address string) error {
	ek, _ := loginKeys(email, address)
	return t.store.LoginSucceeded(ctx, ek)
}
