package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"syncd/domain"
	"syncd/store/storetest"
)

// BenchmarkReconcileNew measures categorising freshly uploaded records:
// b.N records arrive on each side, half of them pair by match key.
func BenchmarkReconcileNew(b *testing.B) {
	ctx := context.Background()
	s := storetest.New(b)
	f := newSyncFixture(b, s, true)
	b.StopTimer()
	n := b.N
	stage := func(set domain.RecordSet, prefix string, offset int) {
		a, _ := s.StageRecords(ctx, set)
		for i := range n {
			_ = a.Add(ctx, domain.Record{ExternalID: prefix + strconv.Itoa(i), Active: true,
				Fields: domain.Fields{"number": strconv.Itoa(offset + i), "nr": strconv.Itoa(offset + i), "name": "Name " + strconv.Itoa(i), "navn": "Name " + strconv.Itoa(i)}})
		}
		_, _ = a.Commit(ctx, domain.ApplyOptions{Mode: domain.ApplyPartial})
	}
	stage(f.left, "l", 0)
	stage(f.right, "r", n/2)
	b.StartTimer()
	if _, err := s.ReconcileObject(ctx, f.ref, time.Now()); err != nil {
		b.Fatal(err)
	}
}
