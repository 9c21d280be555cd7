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

// BenchmarkActResolve measures bulk-resolving b.N conflicts with one side's
// values, as POST .../actions does with a filter.
func BenchmarkActResolve(b *testing.B) {
	ctx := context.Background()
	s := storetest.New(b)
	f := newSyncFixture(b, s, true)
	n := b.N
	stage := func(set domain.RecordSet, name string) {
		a, _ := s.StageRecords(ctx, set)
		for i := range n {
			num := strconv.Itoa(i)
			_ = a.Add(ctx, domain.Record{ExternalID: "x" + num, Active: true,
				Fields: domain.Fields{"number": num, "nr": num, "name": name + num, "navn": name + num}})
		}
		_, _ = a.Commit(ctx, domain.ApplyOptions{Mode: domain.ApplyPartial})
	}
	stage(f.left, "Left ")
	stage(f.right, "Right ")
	if _, err := s.ReconcileObject(ctx, f.ref, time.Now()); err != nil {
		b.Fatal(err)
	}
	ids, err := s.ItemIDs(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{Category: domain.CategoryConflict}, n)
	if err != nil || len(ids) != n {
		b.Fatalf("%d conflicts, %v", len(ids), err)
	}
	b.ResetTimer()
	res, err := s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids,
		domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}, Subject: "bench", Now: time.Now()}, 0)
	if err != nil || res[0].Err != nil {
		b.Fatal(err, res[0].Err)
	}
}
