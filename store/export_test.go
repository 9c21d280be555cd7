package store

import "testing"

// AfterReadAhead makes f run between two chunks of a bulk action, once the
// next chunk was read ahead of its transaction, until t ends. It reports
// whether the store reads ahead at all.
func AfterReadAhead(t *testing.T, s *Store, f func()) bool {
	afterChunk = func(next *ahead) {
		if next != nil {
			<-next.done
			f()
		}
	}
	t.Cleanup(func() { afterChunk = nil })
	return s.actWorkers() == 1
}

// ReconcileInBatchesOf makes reconciles read n records of a side at a time
// until t ends.
func ReconcileInBatchesOf(t *testing.T, n int) {
	was := batchRecords
	batchRecords = n
	t.Cleanup(func() { batchRecords = was })
}
