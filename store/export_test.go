package store

import (
	"context"
	"testing"
)

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

// AfterBatchReadAhead makes f run between two batches of a reconcile, once
// the next batch was read ahead, with the ids of the left records read,
// until t ends.
func AfterBatchReadAhead(t *testing.T, f func(left []string)) {
	afterBatch = func(next *batchAhead) {
		next.wait()
		var ids []string
		for _, r := range next.sides[0].records {
			ids = append(ids, r.ID)
		}
		f(ids)
	}
	t.Cleanup(func() { afterBatch = nil })
}

// MigrateTo applies the migrations up to and including version.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// CopyColumnTypes are the types the bulk paths write each table's columns
// as, by table and column.
func CopyColumnTypes() map[string]map[string]string {
	out := map[string]map[string]string{}
	for table, columns := range map[string][]column{
		"records": recordInsertColumns, "items": itemInsertColumns, "item_keys": itemKeyColumns,
		"operations": operationColumns, "audit_log": auditColumns,
	} {
		out[table] = map[string]string{}
		for _, c := range columns {
			out[table][c.name] = c.pgType
		}
	}
	return out
}
