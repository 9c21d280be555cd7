package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

func TestActions(t *testing.T) {
	ctx := context.Background()
	f := newSyncFixture(t, storetest.New(t), true)
	_, err := apply(t, f.s, f.left, full, customer("1", "1001", "A", "a@x"), customer("2", "1002", "B", "b@x"))
	require.NoError(t, err)
	_, err = apply(t, f.s, f.right, full, kunde("k1", "1001", "A changed", "a@x"), kunde("k9", "9999", "Z", "z@x"))
	require.NoError(t, err)
	require.Equal(t, domain.Summary{Conflict: 1, NewLeft: 1, NewRight: 1}, f.reconcile(t))
	items := func(c domain.Category) []domain.ItemView {
		list, err := f.s.Items(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{Category: c}, domain.Page{})
		require.NoError(t, err)
		return list
	}
	act := func(id string, req domain.ActionRequest, ifVersion int64) domain.ActionResult {
		req.Subject, req.Now = "user:test", time.Now()
		res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, []string{id}, req, ifVersion)
		require.NoError(t, err)
		return res[0]
	}
	conflict := items(domain.CategoryConflict)[0]
	t.Run("resolve_with_a_stale_version_changes_nothing", func(t *testing.T) {
		res := act(conflict.Item.ID, domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}}, conflict.Item.Version+7)
		require.True(t, domain.IsCode(res.Err, domain.CodeStale), "%v", res.Err)
		require.Len(t, items(domain.CategoryConflict), 1)
	})
	t.Run("an_action_that_does_not_fit_says_why", func(t *testing.T) {
		res := act(conflict.Item.ID, domain.ActionRequest{Action: domain.ActionActivate}, 0)
		require.True(t, domain.IsCode(res.Err, domain.CodeConflict))
		require.Contains(t, domain.ErrorMessage(res.Err), "inactive")
	})
	t.Run("resolve_plans_the_write_and_leaves_conflict", func(t *testing.T) {
		res := act(conflict.Item.ID, domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}}, conflict.Item.Version)
		require.NoError(t, res.Err)
		require.Equal(t, domain.CategorySynced, res.View.Item.Category)
		require.Equal(t, domain.StatusPending, res.View.Item.Status)
		ops, err := f.s.Operations(ctx, f.ref.WorkspaceID, conflict.Item.ID)
		require.NoError(t, err)
		require.Len(t, ops, 1)
		require.Equal(t, domain.Fields{"navn": "A"}, ops[0].Fields)
	})
	t.Run("unpair_then_pair_again", func(t *testing.T) {
		res := act(conflict.Item.ID, domain.ActionRequest{Action: domain.ActionUnpair}, 0)
		require.NoError(t, res.Err)
		sum, err := f.s.Summary(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object)
		require.NoError(t, err)
		require.Equal(t, domain.Summary{NewLeft: 2, NewRight: 2}, sum)
		require.Equal(t, recount(t, f.s, f.ref), sum)
		// The reconciler never pairs them again by itself.
		_, err = apply(t, f.s, f.right, domain.ApplyOptions{Mode: domain.ApplyPartial}, kunde("k1", "1001", "A changed again", "a@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{NewLeft: 2, NewRight: 2}, f.reconcile(t))
		sugg, err := f.s.Suggestions(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, conflict.Item.ID)
		require.NoError(t, err)
		require.Len(t, sugg, 1)
		res = act(conflict.Item.ID, domain.ActionRequest{Action: domain.ActionPair, PartnerItemID: sugg[0].View.Item.ID}, 0)
		require.NoError(t, res.Err)
		require.Equal(t, domain.CategoryConflict, res.View.Item.Category, "a fresh pairing conflicts on differing fields")
	})
	t.Run("disable_and_enable", func(t *testing.T) {
		n := items(domain.CategoryNew)[0]
		res := act(n.Item.ID, domain.ActionRequest{Action: domain.ActionDisable}, 0)
		require.NoError(t, res.Err)
		require.Equal(t, domain.CategoryDisabled, res.View.Item.Category)
		res = act(n.Item.ID, domain.ActionRequest{Action: domain.ActionEnable}, 0)
		require.NoError(t, res.Err)
		require.Equal(t, domain.CategoryNew, res.View.Item.Category)
	})
	t.Run("create_counterpart_queues_a_create", func(t *testing.T) {
		n := items(domain.CategoryNew)[0]
		res := act(n.Item.ID, domain.ActionRequest{Action: domain.ActionCreateCounterpart}, 0)
		require.NoError(t, res.Err)
		require.Equal(t, domain.StatusPending, res.View.Item.Status)
		ops, err := f.s.Operations(ctx, f.ref.WorkspaceID, n.Item.ID)
		require.NoError(t, err)
		require.Equal(t, domain.OpCreate, ops[0].Kind)
		require.Equal(t, n.Item.Side.Other(), ops[0].Side)
	})
	t.Run("kept_counts_match_the_items", func(t *testing.T) {
		sum, err := f.s.Summary(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object)
		require.NoError(t, err)
		require.Equal(t, recount(t, f.s, f.ref), sum)
	})
	t.Run("audit_log_records_who_and_what", func(t *testing.T) {
		log, err := f.s.AuditLog(ctx, f.ref.WorkspaceID, domain.AuditFilter{}, domain.Page{})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(log), 5)
		require.Equal(t, "user:test", log[0].Subject)
		require.NotNil(t, log[0].Before)
	})
}

// A bulk action larger than one transaction's chunk acts on every item once,
// answers in the order asked, and two bulk actions over the same items at
// once (chunks run side by side on PostgreSQL) leave each item resolved once.
func TestBulkActionSpansChunks(t *testing.T) {
	ctx := context.Background()
	n := 4500 // three chunks
	f, ids := conflicts(t, n)
	req := domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}, Subject: "user:test", Now: time.Now()}
	var wg sync.WaitGroup
	outs := make([][]domain.ActionResult, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids, req, 0)
		}()
	}
	wg.Wait()
	resolved := 0
	for i := range outs {
		require.NoError(t, errs[i])
		require.Len(t, outs[i], n)
		for j, r := range outs[i] {
			require.Equal(t, ids[j], r.ItemID, "results come in the order asked")
			if r.Err == nil {
				resolved++
			} else {
				require.True(t, domain.IsCode(r.Err, domain.CodeConflict), "%v", r.Err)
			}
		}
	}
	require.Equal(t, n, resolved, "each conflict is resolved by exactly one of the two")
	require.Equal(t, domain.Summary{Synced: int64(n)}, f.reconcile(t))
	var ops int
	require.NoError(t, f.s.SQL().QueryRow(`SELECT COUNT(*) FROM operations WHERE status = 'pending'`).Scan(&ops))
	require.Equal(t, n, ops, "one write per resolved item")
}

// conflicts makes n conflicting pairs and returns their item ids in order.
func conflicts(t *testing.T, n int) (syncFixture, []string) {
	t.Helper()
	f := newSyncFixture(t, storetest.New(t), true)
	pairs(t, f, n, "Left ", "Right ")
	require.Equal(t, domain.Summary{Conflict: int64(n)}, f.reconcile(t), "paired on the number, every name differs")
	ids, err := f.s.ItemIDs(context.Background(), f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{Category: domain.CategoryConflict}, n)
	require.NoError(t, err)
	require.Len(t, ids, n)
	return f, ids
}

// When the database fails one transaction of a bulk action, that chunk's
// items report the failure and nothing of theirs changed, while the other
// chunks are done.
func TestBulkActionChunkFailureFailsOnlyItsItems(t *testing.T) {
	ctx := context.Background()
	n := 4500 // chunks [0, 2000), [2000, 4000), [4000, 4500)
	f, ids := conflicts(t, n)
	doomed := ids[2500]
	trigger := `CREATE TRIGGER fail_one BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.item_id = '` + doomed + `')
		BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`
	if f.s.Dialect() == store.DialectPostgres {
		_, err := f.s.SQL().Exec(`CREATE FUNCTION fail_one() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.item_id = '` + doomed + `' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$`)
		require.NoError(t, err)
		trigger = `CREATE TRIGGER fail_one BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_one()`
	}
	_, err := f.s.SQL().Exec(trigger)
	require.NoError(t, err)
	req := domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}, Subject: "user:test", Now: time.Now()}
	res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids, req, 0)
	require.NoError(t, err)
	require.Len(t, res, n)
	for i, r := range res {
		require.Equal(t, ids[i], r.ItemID)
		if i >= 2000 && i < 4000 {
			require.True(t, domain.IsCode(r.Err, domain.CodeUnavailable), "item %d: %v", i, r.Err)
		} else {
			require.NoError(t, r.Err, "item %d", i)
		}
	}
	require.Equal(t, domain.Summary{Conflict: 2000, Synced: int64(n - 2000)}, f.reconcile(t))
}

// A bulk action counts as under way from its start until it answers, and
// wakes the worker only after, so the worker, giving way to it, applies
// what it queued. An action of one chunk does not count.
func TestBulkActing(t *testing.T) {
	ctx := context.Background()
	f := newSyncFixture(t, storetest.New(t), true)
	var actingWhenWoken []bool
	f.s.OnOperationsQueued(func() { actingWhenWoken = append(actingWhenWoken, f.s.BulkActing()) })
	req := domain.ActionRequest{Action: domain.ActionDisable, Subject: "user:test", Now: time.Now()}
	ids := make([]string, 4001) // three chunks of items that do not exist
	for i := range ids {
		ids[i] = "missing-" + strconv.Itoa(i)
	}
	// Another transaction holds the object's row, so the action waits in
	// its first chunk.
	hold, err := f.s.SQL().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = hold.Exec(`UPDATE sync_objects SET position = position WHERE sync_id = $1`, f.ref.SyncID)
	require.NoError(t, err)
	done := make(chan []domain.ActionResult)
	go func() {
		res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids, req, 0)
		require.NoError(t, err)
		done <- res
	}()
	require.Eventually(t, f.s.BulkActing, 5*time.Second, time.Millisecond)
	require.NoError(t, hold.Rollback())
	res := <-done
	require.Len(t, res, len(ids))
	require.True(t, domain.IsCode(res[4000].Err, domain.CodeNotFound), "%v", res[4000].Err)
	require.False(t, f.s.BulkActing())
	require.Equal(t, []bool{false}, actingWhenWoken, "the worker is woken once the action no longer counts")

	hold, err = f.s.SQL().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = hold.Exec(`UPDATE sync_objects SET position = position WHERE sync_id = $1`, f.ref.SyncID)
	require.NoError(t, err)
	go func() {
		res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids[:10], req, 0)
		require.NoError(t, err)
		done <- res
	}()
	time.Sleep(100 * time.Millisecond)
	require.False(t, f.s.BulkActing(), "one chunk is not a bulk action")
	require.NoError(t, hold.Rollback())
	require.Len(t, <-done, 10)
	require.Equal(t, []bool{false, false}, actingWhenWoken)
}

// A bulk action reads each chunk ahead of its transaction while the chunk
// before it writes; what changed in between is not lost. Here one item of
// the second chunk is disabled after that chunk was read, and the left
// record of an item of the third chunk rewritten after that one was.
func TestBulkActionReadAhead(t *testing.T) {
	ctx := context.Background()
	f, ids := conflicts(t, 4010)
	disabled, changed := ids[2001], ids[4002]
	chunk := 1
	readsAhead := store.AfterReadAhead(t, f.s, func() {
		chunk++
		if chunk == 3 {
			item, err := f.s.Item(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, changed)
			require.NoError(t, err)
			_, err = apply(t, f.s, f.left, domain.ApplyOptions{Mode: domain.ApplyPartial},
				customer(item.Left.ExternalID, item.Left.Fields["number"].(string), "Renamed meanwhile", "r@x"))
			require.NoError(t, err)
			return
		}
		res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, []string{disabled},
			domain.ActionRequest{Action: domain.ActionDisable, Subject: "user:other", Now: time.Now()}, 0)
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
	})
	if !readsAhead {
		t.Skip("PostgreSQL runs chunks side by side and does not read ahead")
	}
	res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids,
		domain.ActionRequest{Action: domain.ActionResolve, Resolve: domain.ResolveRequest{Winner: domain.SideLeft}, Subject: "user:test", Now: time.Now()}, 0)
	require.NoError(t, err)
	require.Len(t, res, len(ids))
	for i, r := range res {
		switch r.ItemID {
		case disabled:
			require.True(t, domain.IsCode(r.Err, domain.CodeConflict), "resolving an item disabled meanwhile: %v", r.Err)
		case changed:
			require.NoError(t, r.Err)
			require.Equal(t, "Renamed meanwhile", r.View.Left.Fields["name"], "the record as rewritten meanwhile")
		default:
			require.NoError(t, r.Err, "item %d", i)
		}
	}
	item, err := f.s.Item(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, disabled)
	require.NoError(t, err)
	require.True(t, item.Item.Disabled, "the disable made meanwhile stands")
}

// A chunk worked out ahead is not stored when an item's queue changed in
// between, though the item did not: here a worker claims the planned
// writes of the second chunk's items after that chunk was worked out, and
// disabling them must leave them pending on the claimed writes.
func TestBulkActionPlannedAheadSeesTheQueue(t *testing.T) {
	ctx := context.Background()
	f := newSyncFixture(t, storetest.New(t), true)
	n := 2*2000 + 10
	left := pairs(t, f, n, "Name ", "Name ")
	require.Equal(t, domain.Summary{Synced: int64(n)}, f.reconcile(t))
	for i := range left {
		left[i].Fields["name"] = "Renamed " + strconv.Itoa(i)
	}
	_, err := apply(t, f.s, f.left, full, left...)
	require.NoError(t, err)
	f.reconcile(t) // every item plans an update of its right record
	ids, err := f.s.ItemIDs(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{}, 10_000)
	require.NoError(t, err)
	require.Len(t, ids, n)

	chunk := 1
	readsAhead := store.AfterReadAhead(t, f.s, func() {
		if chunk++; chunk == 2 {
			claimed, err := f.s.ClaimOperations(ctx, 10_000, time.Minute, time.Now())
			require.NoError(t, err)
			require.Len(t, claimed, n-2000, "the planned writes of the chunks not yet disabled")
		}
	})
	if !readsAhead {
		t.Skip("PostgreSQL runs chunks side by side and does not read ahead")
	}
	res, err := f.s.Act(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, ids,
		domain.ActionRequest{Action: domain.ActionDisable, Subject: "user:test", Now: time.Now()}, 0)
	require.NoError(t, err)
	for i, r := range res {
		require.NoError(t, r.Err)
		want := domain.StatusOK // its planned write was withdrawn
		if i >= 2000 {
			want = domain.StatusPending // its write is under way
		}
		require.Equal(t, want, r.View.Item.Status, "item %d", i)
	}
}

// pairs stores n customers on the left and n matching kunden on the right
// (same number, names leftName+i and rightName+i) and returns the left ones.
func pairs(t *testing.T, f syncFixture, n int, leftName, rightName string) []domain.Record {
	t.Helper()
	var left, right []domain.Record
	for i := range n {
		s := strconv.Itoa(i)
		left = append(left, customer("c"+s, s, leftName+s, s+"@x"))
		right = append(right, kunde("k"+s, s, rightName+s, s+"@x"))
	}
	_, err := apply(t, f.s, f.left, full, left...)
	require.NoError(t, err)
	_, err = apply(t, f.s, f.right, full, right...)
	require.NoError(t, err)
	return left
}
