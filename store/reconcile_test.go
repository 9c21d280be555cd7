package store_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

// syncFixture is a customers sync between two connections of one workspace.
type syncFixture struct {
	s           *store.Store
	ref         store.ObjectRef
	left, right domain.RecordSet
}

// fixtures numbers the fixtures' owners, so that one store holds several.
var fixtures atomic.Int64

func newSyncFixture(t testing.TB, s *store.Store, autoPair bool) syncFixture {
	t.Helper()
	w, _ := workspace(t, s, fmt.Sprintf("sync%d@example.com", fixtures.Add(1)))
	l, r := connection(t, s, w.ID), connection(t, s, w.ID)
	sy := &domain.Sync{WorkspaceID: w.ID, Name: "crm", LeftConnectionID: l, RightConnectionID: r}
	*sy = sy.WithDefaults()
	obj := domain.Object{
		Name: "customers", LeftObject: "customers", RightObject: "kunden",
		Fields: []domain.FieldMap{
			{Left: "name", Right: "navn", Type: domain.FieldString, Direction: domain.DirectionBoth},
			{Left: "email", Right: "mail", Type: domain.FieldEmail, Direction: domain.DirectionBoth},
		},
		MatchKeys: []domain.MatchKey{{Left: "number", Right: "nr", Normalize: domain.NormalizerDigits}},
		AutoPair:  autoPair,
	}
	require.NoError(t, s.CreateSync(context.Background(), sy, []domain.Object{obj}))
	return syncFixture{s: s, ref: store.ObjectRef{WorkspaceID: w.ID, SyncID: sy.ID, Object: "customers"},
		left:  domain.RecordSet{WorkspaceID: w.ID, ConnectionID: l, Object: "customers"},
		right: domain.RecordSet{WorkspaceID: w.ID, ConnectionID: r, Object: "kunden"}}
}

func (f syncFixture) reconcile(t *testing.T) domain.Summary {
	t.Helper()
	_, err := f.s.ReconcileObject(context.Background(), f.ref, time.Now())
	require.NoError(t, err)
	sum, err := f.s.Summary(context.Background(), f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object)
	require.NoError(t, err)
	require.Equal(t, recount(t, f.s, f.ref), sum, "the kept counts match a count of the items")
	require.Zero(t, orphanKeys(t, f.s), "every match key belongs to an item")
	return sum
}

// orphanKeys counts match keys whose item is gone; the store removes them
// with their items.
func orphanKeys(t testing.TB, s *store.Store) int {
	t.Helper()
	var n int
	require.NoError(t, s.SQL().QueryRow(`SELECT COUNT(*) FROM item_keys k WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = k.item_id)`).Scan(&n))
	return n
}

// recount counts the window the slow way, to check the counts the store keeps.
func recount(t testing.TB, s *store.Store, ref store.ObjectRef) domain.Summary {
	t.Helper()
	rows, err := s.SQL().Query(`SELECT category, side, COUNT(*) FROM items WHERE sync_id = $1 AND object = $2 AND shown GROUP BY category, side`, ref.SyncID, ref.Object)
	require.NoError(t, err)
	defer rows.Close()
	var out domain.Summary
	for rows.Next() {
		var c, side string
		var n int64
		require.NoError(t, rows.Scan(&c, &side, &n))
		out.Add(domain.Category(c), domain.Side(side), n)
	}
	return out
}

func customer(id, number, name, email string) domain.Record {
	return domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"number": number, "name": name, "email": email}}
}

func kunde(id, nr, navn, mail string) domain.Record {
	return domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"nr": nr, "navn": navn, "mail": mail}}
}

// full applies a whole side, whatever it deletes.
var full = domain.ApplyOptions{Mode: domain.ApplyFull, MaxDeleteRatio: 1}

func TestReconcile(t *testing.T) {
	t.Run("auto_pair_sorts_records_into_categories", func(t *testing.T) {
		f := newSyncFixture(t, storetest.New(t), true)
		_, err := apply(t, f.s, f.left, full,
			customer("1", "1001", "Ærø ApS", "a@x.dk"), customer("2", "1002", "Bøg", "b@x.dk"),
			customer("3", "1003", "Çe", "c@x.dk"), customer("4", "1004", "Dora", "d@x.dk"), customer("5", "1005", "Only left", "e@x.dk"))
		require.NoError(t, err)
		inactive := kunde("k7", "1007", "Sleepy", "s@x.dk")
		inactive.Active = false
		_, err = apply(t, f.s, f.right, full,
			kunde("k1", "1001", "Ærø ApS", "A@X.dk"), kunde("k2", "1002", "Bøg", "b@x.dk"), kunde("k3", "10-03", "Çe", "c@x.dk"),
			kunde("k4", "1004", "Dora changed", "d@x.dk"), kunde("k5", "2001", "New 1", "n1@x.dk"), kunde("k6", "2002", "New 2", "n2@x.dk"), inactive)
		require.NoError(t, err)
		sum := f.reconcile(t)
		require.Equal(t, domain.Summary{Synced: 3, Conflict: 1, NewLeft: 1, NewRight: 2, Inactive: 1}, sum)
		require.Equal(t, sum, f.reconcile(t), "reconciling again changes nothing")
	})
	t.Run("deleting_the_sync_removes_its_items_keys_and_operations", func(t *testing.T) {
		ctx := context.Background()
		s := storetest.New(t)
		f := newSyncFixture(t, s, true)
		// A second sync over the same records, which keeps all of its own.
		_, objects, err := s.Sync(ctx, f.ref.WorkspaceID, f.ref.SyncID)
		require.NoError(t, err)
		sy := &domain.Sync{WorkspaceID: f.ref.WorkspaceID, Name: "other", LeftConnectionID: f.left.ConnectionID, RightConnectionID: f.right.ConnectionID}
		*sy = sy.WithDefaults()
		require.NoError(t, s.CreateSync(ctx, sy, objects))
		other := f
		other.ref.SyncID = sy.ID
		// Match keys name their object by number, which goes with the object.
		objectIDs := map[string]int64{}
		for _, id := range []string{f.ref.SyncID, other.ref.SyncID} {
			var n int64
			require.NoError(t, s.SQL().QueryRow(`SELECT id FROM sync_objects WHERE sync_id = $1`, id).Scan(&n))
			objectIDs[id] = n
		}
		rows := func(table, syncID string) (n int) {
			q, arg := `SELECT COUNT(*) FROM `+table+` WHERE sync_id = $1`, any(syncID)
			if table == "item_keys" {
				q, arg = `SELECT COUNT(*) FROM item_keys WHERE object_id = $1`, objectIDs[syncID]
			}
			require.NoError(t, s.SQL().QueryRow(q, arg).Scan(&n))
			return n
		}
		_, err = apply(t, s, f.left, full, customer("1", "1001", "A", "a@x"), customer("2", "1002", "B", "b@x"), customer("3", "1003", "C", "c@x"))
		require.NoError(t, err)
		_, err = apply(t, s, f.right, full, kunde("k3", "1003", "C", "c@x"))
		require.NoError(t, err)
		f.reconcile(t)
		other.reconcile(t)
		// A change on the left plans a write to the right.
		_, err = apply(t, s, f.left, full, customer("1", "1001", "A", "a@x"), customer("2", "1002", "B", "b@x"), customer("3", "1003", "C changed", "c@x"))
		require.NoError(t, err)
		for _, g := range []syncFixture{f, other} {
			require.Equal(t, domain.Summary{Synced: 1, NewLeft: 2}, g.reconcile(t))
		}
		for _, table := range []string{"items", "item_keys", "operations"} {
			require.NotZero(t, rows(table, f.ref.SyncID), table)
		}
		require.NoError(t, s.DeleteSync(ctx, f.ref.WorkspaceID, f.ref.SyncID))
		for _, table := range []string{"items", "item_keys", "operations", "window_counts", "sync_objects"} {
			require.Zero(t, rows(table, f.ref.SyncID), table)
		}
		for _, table := range []string{"items", "item_keys", "operations"} {
			require.NotZero(t, rows(table, other.ref.SyncID), "the other sync keeps its %s", table)
		}
	})
	t.Run("the_active_field_decides_and_the_window_shows_it", func(t *testing.T) {
		ctx := context.Background()
		f := newSyncFixture(t, storetest.New(t), true)
		_, objects, err := f.s.Sync(ctx, f.ref.WorkspaceID, f.ref.SyncID)
		require.NoError(t, err)
		obj := objects[0]
		obj.ActiveField = domain.FieldPair{Right: "aktiv"}
		_, err = f.s.PutObject(ctx, f.ref.WorkspaceID, obj)
		require.NoError(t, err)
		off := kunde("k1", "1001", "A", "a@x")
		off.Fields["aktiv"] = false // the record itself is active; its field says no
		on := kunde("k2", "1002", "B", "b@x")
		on.Fields["aktiv"] = true
		_, err = apply(t, f.s, f.right, full, off, on)
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Inactive: 1, NewRight: 1}, f.reconcile(t))
		list, err := f.s.Items(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{Category: domain.CategoryInactive}, domain.Page{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.False(t, list[0].Right.Active, "the window shows the record as the sync sees it")
		detail, err := f.s.Item(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, list[0].Item.ID)
		require.NoError(t, err)
		require.False(t, detail.Right.Active)
		stored, err := f.s.Record(ctx, f.right, "k1")
		require.NoError(t, err)
		require.True(t, stored.Active, "the hub's copy keeps the record's own flag")
	})
	t.Run("a_first_load_against_an_empty_side_pairs_when_the_other_side_arrives", func(t *testing.T) {
		f := newSyncFixture(t, storetest.New(t), true)
		_, err := apply(t, f.s, f.right, full, kunde("k1", "1001", "A", "a@x"), kunde("k2", "1002", "B", "b@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{NewRight: 2}, f.reconcile(t), "nothing on the left to pair with")
		_, err = apply(t, f.s, f.left, full, customer("1", "1001", "A", "a@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Synced: 1, NewRight: 1}, f.reconcile(t), "the left record finds its partner's key")
		// And the other way round: the left side first, then the right.
		g := newSyncFixture(t, storetest.New(t), true)
		_, err = apply(t, g.s, g.left, full, customer("1", "1001", "A", "a@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{NewLeft: 1}, g.reconcile(t))
		_, err = apply(t, g.s, g.right, full, kunde("k1", "1001", "A", "a@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Synced: 1}, g.reconcile(t))
	})
	t.Run("ambiguous_keys_stay_new", func(t *testing.T) {
		f := newSyncFixture(t, storetest.New(t), true)
		_, err := apply(t, f.s, f.left, full, customer("1", "1001", "A", "a@x"))
		require.NoError(t, err)
		_, err = apply(t, f.s, f.right, full, kunde("k1", "1001", "A", "a@x"), kunde("k2", "1001", "A2", "a@x"))
		require.NoError(t, err)
		require.Equal(t, domain.Summary{NewLeft: 1, NewRight: 2}, f.reconcile(t))
	})
	t.Run("one_sided_change_propagates_through_an_operation", func(t *testing.T) {
		f := linkedFixture(t)
		it, ops := f.renameLeft(t, "A renamed")
		require.Equal(t, domain.StatusPending, it.Status)
		require.Len(t, ops, 1)
		require.Equal(t, domain.SideRight, ops[0].Side)
		require.Equal(t, domain.Fields{"navn": "A renamed"}, ops[0].Fields)
	})
	t.Run("a_newer_change_replaces_the_planned_operation_but_not_a_claimed_one", func(t *testing.T) {
		ctx := context.Background()
		f := linkedFixture(t)
		rename := func(name string) []domain.Operation {
			_, ops := f.renameLeft(t, name)
			return ops
		}
		rename("B")
		ops := rename("C")
		require.Len(t, ops, 1, "the write planned for B is replaced, not queued beside the one for C")
		require.Equal(t, domain.Fields{"navn": "C"}, ops[0].Fields)

		claimed, err := f.s.ClaimOperations(ctx, 10, time.Minute, time.Now().Add(time.Second))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		ops = rename("D")
		require.Len(t, ops, 2, "a claimed write is a worker's now; the reconcile plans beside it")
		byStatus := map[domain.OpStatus]domain.Fields{}
		for _, op := range ops {
			byStatus[op.Status] = op.Fields
		}
		require.Equal(t, domain.Fields{"navn": "C"}, byStatus[domain.OpRunning])
		require.Equal(t, domain.Fields{"navn": "D"}, byStatus[domain.OpPending])
	})
	t.Run("a_source_going_back_while_the_hub_writes_its_change_keeps_going_back", func(t *testing.T) {
		ctx := context.Background()
		f := linkedFixture(t)
		f.renameLeft(t, "B")
		claimed, err := f.s.ClaimOperations(ctx, 10, time.Minute, time.Now().Add(time.Second))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		require.Equal(t, domain.Fields{"navn": "B"}, claimed[0].Fields)
		// The write of B lands on the right; before any merge sees both
		// sides hold B, the left's source goes back to A.
		require.NoError(t, f.s.CompleteOperations(ctx, []domain.Completion{{Op: claimed[0], Target: f.right, ExternalID: "k1"}}, time.Now()))
		_, ops := f.renameLeft(t, "A")
		var pending []domain.Operation
		for _, op := range ops {
			if op.Status == domain.OpPending {
				pending = append(pending, op)
			}
		}
		require.Len(t, pending, 1, "one write: A to the right")
		require.Equal(t, domain.SideRight, pending[0].Side, "the hub's own write of B must not come back as a change of the right")
		require.Equal(t, domain.Fields{"navn": "A"}, pending[0].Fields)
	})
	t.Run("large_batches_reconcile_completely", func(t *testing.T) {
		f := newSyncFixture(t, storetest.New(t), true)
		var ls, rs []domain.Record
		for i := range 4500 {
			n := string(rune('a'+i%26)) + string(rune('0'+i%10))
			ls = append(ls, customer("l"+itoa(i), itoa(100000+i), n, ""))
			rs = append(rs, kunde("r"+itoa(i), itoa(100000+i), n, ""))
		}
		_, err := apply(t, f.s, f.left, full, ls...)
		require.NoError(t, err)
		_, err = apply(t, f.s, f.right, full, rs...)
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Synced: 4500}, f.reconcile(t))
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// linkedFixture is a sync whose one item links customer 1 and kunde k1,
// both named A, synced.
func linkedFixture(t *testing.T) syncFixture {
	t.Helper()
	f := newSyncFixture(t, storetest.New(t), true)
	_, err := apply(t, f.s, f.left, full, customer("1", "1001", "A", "a@x"))
	require.NoError(t, err)
	_, err = apply(t, f.s, f.right, full, kunde("k1", "1001", "A", "a@x"))
	require.NoError(t, err)
	require.Equal(t, domain.Summary{Synced: 1}, f.reconcile(t))
	return f
}

// renameLeft gives the left record of a linkedFixture another name,
// reconciles, and returns the item with its queued operations.
func (f syncFixture) renameLeft(t *testing.T, name string) (domain.Item, []domain.Operation) {
	t.Helper()
	ctx := context.Background()
	_, err := apply(t, f.s, f.left, full, customer("1", "1001", name, "a@x"))
	require.NoError(t, err)
	require.Equal(t, domain.Summary{Synced: 1}, f.reconcile(t))
	items, err := f.s.Items(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{}, domain.Page{})
	require.NoError(t, err)
	require.Len(t, items, 1)
	ops, err := f.s.Operations(ctx, f.ref.WorkspaceID, items[0].Item.ID)
	require.NoError(t, err)
	return items[0].Item, ops
}

// A reconcile goes through the changes batch by batch, each side's
// records in change order, and pairs records that arrive in different
// batches: what one batch left unpaired, a later one finds by its keys.
func TestReconcileInBatches(t *testing.T) {
	store.ReconcileInBatchesOf(t, 7)
	f := newSyncFixture(t, storetest.New(t), true)
	pairs(t, f, 40, "Left ", "Right ")
	// Ten more on the right only, so the sides end in different batches.
	var extra []domain.Record
	for i := 40; i < 50; i++ {
		s := strconv.Itoa(i)
		extra = append(extra, kunde("k"+s, s, "Right "+s, s+"@x"))
	}
	_, err := apply(t, f.s, f.right, domain.ApplyOptions{Mode: domain.ApplyPartial}, extra...)
	require.NoError(t, err)
	n, err := f.s.ReconcileObject(context.Background(), f.ref, time.Now())
	require.NoError(t, err)
	require.Equal(t, 90, n, "every record read once")
	require.Equal(t, domain.Summary{Conflict: 40, NewRight: 10}, f.reconcile(t))

	// The next run starts where the last one stopped: only the changes.
	_, err = apply(t, f.s, f.left, domain.ApplyOptions{Mode: domain.ApplyPartial}, customer("c3", "3", "Right 3", "3@x"), customer("c45", "45", "Left 45", "45@x"))
	require.NoError(t, err)
	n, err = f.s.ReconcileObject(context.Background(), f.ref, time.Now())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, domain.Summary{Conflict: 40, Synced: 1, NewRight: 9}, f.reconcile(t),
		"c3 now agrees with k3; c45 pairs with k45, stored in an earlier run, and differs from it")
}

// A record that changes after the batch holding it was read ahead is not
// reconciled as it was read: the batch reads again, and the record's new
// version waits for its own turn.
func TestReconcileReadAheadIsCurrent(t *testing.T) {
	store.ReconcileInBatchesOf(t, 7)
	f := newSyncFixture(t, storetest.New(t), true)
	pairs(t, f, 40, "Left ", "Right ")
	require.Equal(t, domain.Summary{Conflict: 40}, f.reconcile(t))

	var agree []domain.Record
	for i := range 40 {
		s := strconv.Itoa(i)
		agree = append(agree, customer("c"+s, s, "Right "+s, s+"@x"))
	}
	_, err := apply(t, f.s, f.left, domain.ApplyOptions{Mode: domain.ApplyPartial}, agree...)
	require.NoError(t, err)

	category := func(recordID string) string {
		var c string
		require.NoError(t, f.s.SQL().QueryRow(`SELECT category FROM items WHERE left_record_id = $1`, recordID).Scan(&c))
		return c
	}
	var late string // changed again once the batch holding it was read ahead
	batches := 0
	store.AfterBatchReadAhead(t, func(next []string) {
		batches++
		switch batches {
		case 1:
			require.NotEmpty(t, next)
			late = next[0]
			var ext, num string
			require.NoError(t, f.s.SQL().QueryRow(`SELECT external_id FROM records WHERE id = $1`, late).Scan(&ext))
			num = ext[1:]
			_, err := apply(t, f.s, f.left, domain.ApplyOptions{Mode: domain.ApplyPartial}, customer(ext, num, "Late "+num, num+"@x"))
			require.NoError(t, err)
		case 2:
			require.Equal(t, string(domain.CategoryConflict), category(late),
				"the batch read ahead took the late record's version from before its change")
		}
	})
	n, err := f.s.ReconcileObject(context.Background(), f.ref, time.Now())
	require.NoError(t, err)
	require.GreaterOrEqual(t, batches, 2)
	require.Equal(t, 40, n, "every record read once, the late one in its new version")
	require.Equal(t, string(domain.CategoryConflict), category(late))
	sum, err := f.s.Summary(context.Background(), f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object)
	require.NoError(t, err)
	require.Equal(t, domain.Summary{Synced: 39, Conflict: 1}, sum)
}

// Reconciles that read ahead never wait for a connection while holding
// one: with a pool of two, three objects reconciled at once in many batches
// all finish.
func TestReconcileReadAheadOnASmallPool(t *testing.T) {
	store.ReconcileInBatchesOf(t, 7)
	k, err := store.ParseKeyring(storetest.KeyringSpec)
	require.NoError(t, err)
	s, err := store.Open(context.Background(), storetest.NewURL(t), store.Options{MaxOpenConns: 2, Keyring: k})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	var objects []syncFixture
	for range 3 {
		f := newSyncFixture(t, s, true)
		pairs(t, f, 40, "Left ", "Right ")
		objects = append(objects, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, len(objects))
	for _, f := range objects {
		go func() {
			_, err := s.ReconcileObject(ctx, f.ref, time.Now())
			errs <- err
		}()
	}
	for range objects {
		require.NoError(t, <-errs)
	}
	for _, f := range objects {
		require.Equal(t, domain.Summary{Conflict: 40}, f.reconcile(t))
	}
}
