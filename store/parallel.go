package store

import (
	"runtime"
	"sync"
)

// perWorker is the least work, in items, worth a goroutine of its own.
const perWorker = 256

// inParallel runs fn for every index below n, in contiguous runs spread over
// the machine's cores, and returns the first error. Reconcile batches and
// bulk actions decode and evaluate their thousands of records and items
// this way while their database connection waits; fewer than two runs'
// worth stay in the caller's goroutine. fn must touch only its own index's
// results.
func inParallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/perWorker)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				if err := fn(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
