package store

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestInParallel(t *testing.T) {
	for _, n := range []int{0, 1, perWorker - 1, 2 * perWorker, 10*perWorker + 7} {
		seen := make([]int32, n)
		if err := inParallel(n, func(i int) error { atomic.AddInt32(&seen[i], 1); return nil }); err != nil {
			t.Fatal(err)
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, c)
			}
		}
	}
	boom := errors.New("boom")
	for _, n := range []int{3, 10 * perWorker} {
		err := inParallel(n, func(i int) error {
			if i == n-1 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("n=%d: error %v, want boom", n, err)
		}
	}
}
