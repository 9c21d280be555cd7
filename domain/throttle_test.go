package domain

import (
	"testing"
	"time"
)

func TestLoginThrottleWait(t *testing.T) {
	p := LoginThrottle{Free: 5, Max: 15 * time.Minute}
	last := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		count int
		after time.Duration // since the last failure
		want  time.Duration
	}{
		{"free failures cost nothing", 5, 0, 0},
		{"the first one over waits a second", 6, 0, time.Second},
		{"each further one doubles", 8, 0, 4 * time.Second},
		{"time already waited counts", 8, 3 * time.Second, time.Second},
		{"the wait is over", 8, 5 * time.Second, 0},
		{"capped at the maximum", 20, 0, 15 * time.Minute},
		{"no overflow however many", 1 << 20, time.Minute, 14 * time.Minute},
		{"forgotten after a quiet hour", 1 << 20, LoginFailuresKept + time.Second, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := p.Wait(LoginFailures{Count: c.count, Last: last}, last.Add(c.after))
			if got != c.want {
				t.Fatalf("Wait = %v, want %v", got, c.want)
			}
		})
	}
}
