package api

import (
	"math"
	"sync"
	"time"
)

// throttle slows down repeated failed logins per key (email and address):
// after a few free failures each further one doubles the wait, up to a cap.
// It is per process; replicas each keep their own count.
type throttle struct {
	mu      sync.Mutex
	free    int
	max     time.Duration
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	until    time.Time
	last     time.Time
}

const throttleMaxEntries = 100_000

func newThrottle(free int, max time.Duration) *throttle {
	return &throttle{free: free, max: max, entries: map[string]*throttleEntry{}}
}

// wait returns how long key must still wait before its next attempt.
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.entries[key]; ok && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// fail records a failed attempt for key.
func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok || now.Sub(e.last) > t.max*4 {
		if len(t.entries) >= throttleMaxEntries {
			t.sweep(now)
		}
		e = &throttleEntry{}
		t.entries[key] = e
	}
	e.failures++
	e.last = now
	if over := e.failures - t.free; over > 0 {
		d := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(over-1)), float64(t.max)))
		e.until = now.Add(d)
	}
}

// succeed forgets key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.entries, key)
	t.mu.Unlock()
}

// sweep drops entries idle long enough to have reset anyway.
func (t *throttle) sweep(now time.Time) {
	for k, e := range t.entries {
		if now.Sub(e.last) > t.max {
			delete(t.entries, k)
		}
	}
}
