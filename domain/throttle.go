package domain

import (
	"context"
	"time"
)

// LoginFailuresKept is how long a key's failed logins are remembered after
// the last one: a key quiet that long starts afresh.
const LoginFailuresKept = time.Hour

// LoginThrottle is the policy for failed logins under one key: Free
// failures cost nothing, each further one doubles the wait before the next
// attempt, from one second up to Max.
type LoginThrottle struct {
	Free int
	Max  time.Duration
}

// Wait is how long a key must still wait at now, with failures counted and
// the last of them at last.
func (p LoginThrottle) Wait(f LoginFailures, now time.Time) time.Duration {
	over := f.Count - p.Free
	if over <= 0 || now.Sub(f.Last) > LoginFailuresKept {
		return 0
	}
	d := p.Max
	if over <= 30 {
		d = min(time.Second<<(over-1), p.Max)
	}
	return max(f.Last.Add(d).Sub(now), 0)
}

// LoginFailures are a key's failed logins and when the last one was.
type LoginFailures struct {
	Count int
	Last  time.Time
}

// LoginFailureStore keeps failed logins where every replica sees them. Keys
// are opaque to it.
type LoginFailureStore interface {
	// LoginFailures returns the failures of those keys that have any.
	LoginFailures(ctx context.Context, keys []string) (map[string]LoginFailures, error)
	// LoginFailed counts one more failure at now for each key; a key whose
	// last failure is older than LoginFailuresKept starts again at one.
	LoginFailed(ctx context.Context, keys []string, now time.Time) error
	// LoginSucceeded forgets the key's failures.
	LoginSucceeded(ctx context.Context, key string) error
}
