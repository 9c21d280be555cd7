package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/connector/outbound"
	"syncd/connector/rest/resttest"
	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
	"syncd/worker"
)

// crmSync is a sync from a hosted side (left) to the fake CRM (right), with
// n customers paired and then renamed on the left: n update operations wait.
type crmSync struct {
	url         string
	crm         *resttest.CRM
	ref         domain.ObjectRef
	ids         []string
	left, right domain.RecordSet
}

func newCRMSync(t *testing.T, n int) crmSync {
	t.Helper()
	ctx := context.Background()
	url := storetest.NewURL(t)
	s := open(t, url)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	crm := resttest.NewCRM(t)
	ids := crm.Seed(n)
	w := &domain.Workspace{Name: "w"}
	require.NoError(t, s.CreateWorkspace(ctx, w, &domain.User{Email: "w@example.com", PasswordHash: "x"}))
	hosted := &domain.Connection{WorkspaceID: w.ID, Name: "hub", Kind: domain.KindHosted, Config: []byte(`{}`)}
	require.NoError(t, s.CreateConnection(ctx, hosted))
	cfg, _ := json.Marshal(map[string]any{
		"base_url": crm.URL,
		"objects": map[string]any{"customers": map[string]any{
			"list_path": "/v1/customers", "records_path": "data", "id_field": "id",
			"pagination":     map[string]any{"type": "page", "page_param": "page", "size_param": "per_page", "size": 25},
			"create":         map[string]any{"method": "POST", "path": "/v1/customers"},
			"update":         map[string]any{"method": "PATCH", "path": "/v1/customers/{id}"},
			"delete":         map[string]any{"method": "DELETE", "path": "/v1/customers/{id}"},
			"create_id_path": "data.id",
		}},
	})
	remote := &domain.Connection{WorkspaceID: w.ID, Name: "crm", Kind: domain.KindREST, Config: cfg}
	require.NoError(t, s.CreateConnection(ctx, remote))
	sy := &domain.Sync{WorkspaceID: w.ID, Name: "s", LeftConnectionID: hosted.ID, RightConnectionID: remote.ID}
	*sy = sy.WithDefaults()
	require.NoError(t, s.CreateSync(ctx, sy, []domain.Object{{
		Name: "customers", LeftObject: "customers", RightObject: "customers",
		Fields:    []domain.FieldMap{{Left: "name", Right: "name", Type: domain.FieldString, Direction: domain.DirectionBoth}},
		MatchKeys: []domain.MatchKey{{Left: "email", Right: "email", Normalize: domain.NormalizerEmail}}, AutoPair: true,
	}}))
	left := domain.RecordSet{WorkspaceID: w.ID, ConnectionID: hosted.ID, Object: "customers"}
	right := domain.RecordSet{WorkspaceID: w.ID, ConnectionID: remote.ID, Object: "customers"}
	stage := func(set domain.RecordSet, rename string) {
		a, err := s.StageRecords(ctx, set)
		require.NoError(t, err)
		for _, id := range ids {
			rec, _ := crm.Record(id)
			require.NoError(t, a.Add(ctx, domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"name": fmt.Sprint(rec["name"]) + rename, "email": rec["email"]}}))
		}
		_, err = a.Commit(ctx, domain.ApplyOptions{Mode: domain.ApplyFull, MaxDeleteRatio: 1})
		require.NoError(t, err)
	}
	stage(left, "")
	stage(right, "")
	ref := domain.ObjectRef{WorkspaceID: w.ID, SyncID: sy.ID, Object: "customers"}
	_, err := s.ReconcileObject(ctx, ref, time.Now())
	require.NoError(t, err)
	stage(left, " (renamed)")
	_, err = s.ReconcileObject(ctx, ref, time.Now())
	require.NoError(t, err)
	return crmSync{url: url, crm: crm, ref: ref, ids: ids, left: left, right: right}
}

func open(t *testing.T, url string) *store.Store {
	return storetest.Open(t, url, storetest.KeyringSpec)
}

func newWorker(s *store.Store) *worker.Worker {
	return worker.New(s, worker.Options{
		Concurrency: 4, RetryBase: 20 * time.Millisecond,
		Outbound: outbound.Options{AllowPrivate: true, RateLimit: 1e6, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond},
	})
}

// drain runs the worker until no operation is left to claim.
func drain(t *testing.T, w *worker.Worker) {
	t.Helper()
	for {
		n, err := w.RunOnce(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

func TestTwoWorkersApplyEachOperationOnce(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	f := newCRMSync(t, n)
	before := len(f.crm.Log())
	// Two replicas: separate pools on one database, claiming side by side.
	var wg sync.WaitGroup
	for range 2 {
		w := newWorker(open(t, f.url))
		wg.Add(1)
		go func() { defer wg.Done(); drain(t, w) }()
	}
	wg.Wait()
	patches := map[string]int{}
	for _, line := range f.crm.Log()[before:] {
		if strings.HasPrefix(line, "PATCH /v1/customers/") {
			patches[strings.TrimPrefix(line, "PATCH /v1/customers/")]++
		}
	}
	require.Len(t, patches, n, "every record was written")
	for id, c := range patches {
		require.Equal(t, 1, c, "customer %s was written %d times", id, c)
	}
	rec, _ := f.crm.Record(f.ids[0])
	require.True(t, strings.HasSuffix(fmt.Sprint(rec["name"]), " (renamed)"))
}

func TestFailedWriteIsRetriedAndTheItemRecovers(t *testing.T) {
	f := newCRMSync(t, 1)
	s := open(t, f.url)
	w := newWorker(s)
	f.crm.Inject(resttest.Fault{Status: 500})
	_, err := w.RunOnce(context.Background())
	require.NoError(t, err)
	items, err := s.Items(context.Background(), f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{}, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, domain.StatusFailed, items[0].Item.Status)
	require.Contains(t, items[0].Item.Error, "500")
	time.Sleep(50 * time.Millisecond) // past the first backoff
	drain(t, w)
	_, err = s.ReconcileObject(context.Background(), f.ref, time.Now())
	require.NoError(t, err)
	items, err = s.Items(context.Background(), f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{}, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, domain.StatusOK, items[0].Item.Status, items[0].Item.Error)
	require.Equal(t, domain.CategorySynced, items[0].Item.Category)
	rec, _ := f.crm.Record(f.ids[0])
	require.True(t, strings.HasSuffix(fmt.Sprint(rec["name"]), " (renamed)"))
}

// Writes to a hosted side complete a whole round at once: every record of the
// hub's copy takes its new value, the change feed serves each once, and the
// items end synced with nothing left to do.
func TestHostedWritesCompleteInBatches(t *testing.T) {
	ctx := context.Background()
	n := 450 // three rounds of claims at a batch of 200
	f := newCRMSync(t, 0)
	s := open(t, f.url)
	right := f.right
	stage := func(set domain.RecordSet, name string) {
		a, err := s.StageRecords(ctx, set)
		require.NoError(t, err)
		for i := range n {
			require.NoError(t, a.Add(ctx, domain.Record{ExternalID: fmt.Sprint("c", i), Active: true,
				Fields: domain.Fields{"name": fmt.Sprint(name, i), "email": fmt.Sprintf("c%d@example.com", i)}}))
		}
		_, err = a.Commit(ctx, domain.ApplyOptions{Mode: domain.ApplyPartial})
		require.NoError(t, err)
	}
	stage(f.left, "Customer ")
	stage(right, "Customer ")
	_, err := s.ReconcileObject(ctx, f.ref, time.Now())
	require.NoError(t, err)
	stage(right, "Kunde ") // renamed in the CRM: n updates of the hosted side
	_, err = s.ReconcileObject(ctx, f.ref, time.Now())
	require.NoError(t, err)
	w := worker.New(s, worker.Options{})
	drain(t, w)
	recs, err := s.Records(ctx, f.left, domain.RecordFilter{}, domain.Page{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, recs, n)
	for _, r := range recs {
		require.True(t, strings.HasPrefix(fmt.Sprint(r.Fields["name"]), "Kunde "), r.Fields)
	}
	changes, err := s.Changes(ctx, f.left, domain.ChangeCursor{}, 1000)
	require.NoError(t, err)
	require.Len(t, changes, n, "the change feed serves each written record once")
	_, err = s.ReconcileObject(ctx, f.ref, time.Now())
	require.NoError(t, err)
	sum, err := s.Summary(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object)
	require.NoError(t, err)
	require.Equal(t, domain.Summary{Synced: int64(n)}, sum)
	items, err := s.Items(ctx, f.ref.WorkspaceID, f.ref.SyncID, f.ref.Object, domain.ItemFilter{}, domain.Page{Limit: 1000})
	require.NoError(t, err)
	for _, it := range items {
		require.Equal(t, domain.StatusOK, it.Item.Status, it.Item.Error)
	}
	n2, err := w.RunOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n2, "nothing echoes back")
}

// A worker round holding writes of two workspaces completes each in its
// own transaction, numbered by its own workspace's change counter, so each
// workspace's reconciler reads every change in order.
func TestHostedWritesOfTwoWorkspacesKeepTheirOwnChangeNumbers(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.NewURL(t))
	_, err := s.Migrate(ctx)
	require.NoError(t, err)
	type side struct {
		ref         domain.ObjectRef
		left, right domain.RecordSet
	}
	var sides []side
	for i, n := range []int{3, 40} { // counters far apart
		w := &domain.Workspace{Name: fmt.Sprint("w", i)}
		require.NoError(t, s.CreateWorkspace(ctx, w, &domain.User{Email: fmt.Sprintf("w%d@example.com", i), PasswordHash: "x"}))
		var conns [2]*domain.Connection
		for j := range conns {
			conns[j] = &domain.Connection{WorkspaceID: w.ID, Name: fmt.Sprint("hub ", j), Kind: domain.KindHosted, Config: []byte(`{}`)}
			require.NoError(t, s.CreateConnection(ctx, conns[j]))
		}
		sy := &domain.Sync{WorkspaceID: w.ID, Name: "s", LeftConnectionID: conns[0].ID, RightConnectionID: conns[1].ID}
		*sy = sy.WithDefaults()
		require.NoError(t, s.CreateSync(ctx, sy, []domain.Object{{
			Name: "customers", LeftObject: "customers", RightObject: "customers",
			Fields:    []domain.FieldMap{{Left: "name", Right: "name", Type: domain.FieldString, Direction: domain.DirectionBoth}},
			MatchKeys: []domain.MatchKey{{Left: "email", Right: "email", Normalize: domain.NormalizerEmail}}, AutoPair: true,
		}}))
		sd := side{ref: domain.ObjectRef{WorkspaceID: w.ID, SyncID: sy.ID, Object: "customers"},
			left:  domain.RecordSet{WorkspaceID: w.ID, ConnectionID: conns[0].ID, Object: "customers"},
			right: domain.RecordSet{WorkspaceID: w.ID, ConnectionID: conns[1].ID, Object: "customers"}}
		for k := range n { // advance this workspace's counter
			stageNames(t, s, sd.left, 5, fmt.Sprint("Customer ", k, " "))
		}
		stageNames(t, s, sd.left, 5, "Customer ")
		stageNames(t, s, sd.right, 5, "Customer ")
		_, err := s.ReconcileObject(ctx, sd.ref, time.Now())
		require.NoError(t, err)
		stageNames(t, s, sd.right, 5, "Kunde ") // five updates of the left side wait
		_, err = s.ReconcileObject(ctx, sd.ref, time.Now())
		require.NoError(t, err)
		sides = append(sides, sd)
	}
	n, err := worker.New(s, worker.Options{}).RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 10, n, "one round holds both workspaces' writes")
	for _, sd := range sides {
		// The hub's writes are read as changes and move the base.
		_, err := s.ReconcileObject(ctx, sd.ref, time.Now())
		require.NoError(t, err)
		sum, err := s.Summary(ctx, sd.ref.WorkspaceID, sd.ref.SyncID, sd.ref.Object)
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Synced: 5}, sum)

		// A later change of the workspace must still be read after the
		// hub's writes: it is, only if they took this workspace's numbers.
		stageNames(t, s, sd.right, 5, "Kunde neu ")
		_, err = s.ReconcileObject(ctx, sd.ref, time.Now())
		require.NoError(t, err)
		drain(t, worker.New(s, worker.Options{}))
		_, err = s.ReconcileObject(ctx, sd.ref, time.Now())
		require.NoError(t, err)
		recs, err := s.Records(ctx, sd.left, domain.RecordFilter{}, domain.Page{})
		require.NoError(t, err)
		for _, r := range recs {
			require.True(t, strings.HasPrefix(fmt.Sprint(r.Fields["name"]), "Kunde neu "), "%v", r.Fields)
		}
		sum, err = s.Summary(ctx, sd.ref.WorkspaceID, sd.ref.SyncID, sd.ref.Object)
		require.NoError(t, err)
		require.Equal(t, domain.Summary{Synced: 5}, sum)
	}
}

// stageNames writes n customers c0..c(n-1) to a set with the given name prefix.
func stageNames(t *testing.T, s *store.Store, set domain.RecordSet, n int, name string) {
	t.Helper()
	a, err := s.StageRecords(context.Background(), set)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, a.Add(context.Background(), domain.Record{ExternalID: fmt.Sprint("c", i), Active: true,
			Fields: domain.Fields{"name": fmt.Sprint(name, i), "email": fmt.Sprintf("c%d@example.com", i)}}))
	}
	_, err = a.Commit(context.Background(), domain.ApplyOptions{Mode: domain.ApplyPartial})
	require.NoError(t, err)
}

// bulkStore is a store whose bulk actions the test switches on and off.
type bulkStore struct {
	*store.Store
	acting atomic.Bool
}

func (s *bulkStore) BulkActing() bool { return s.acting.Load() }

// While a bulk action is under way the worker applies nothing, and applies
// the queue once woken after it; a bulk action that goes on and on is
// waited for only GiveWay.
func TestApplyingGivesWayToBulkActions(t *testing.T) {
	patches := func(crm *resttest.CRM) (n int) {
		for _, line := range crm.Log() {
			if strings.HasPrefix(line, "PATCH ") {
				n++
			}
		}
		return n
	}
	run := func(t *testing.T, giveWay time.Duration) (crmSync, *bulkStore, *worker.Worker) {
		f := newCRMSync(t, 5)
		s := &bulkStore{Store: open(t, f.url)}
		s.acting.Store(true)
		w := worker.New(s, worker.Options{Poll: 10 * time.Millisecond, GiveWay: giveWay,
			Outbound: outbound.Options{AllowPrivate: true, RateLimit: 1e6}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return f, s, w
	}
	t.Run("until_the_action_ends", func(t *testing.T) {
		f, s, w := run(t, time.Hour)
		time.Sleep(300 * time.Millisecond) // thirty polls
		require.Zero(t, patches(f.crm), "nothing is applied while the action runs")
		s.acting.Store(false)
		w.Wake()
		require.Eventually(t, func() bool { return patches(f.crm) == 5 }, 10*time.Second, 10*time.Millisecond)
	})
	t.Run("at_most_give_way", func(t *testing.T) {
		f, _, _ := run(t, 200*time.Millisecond)
		require.Eventually(t, func() bool { return patches(f.crm) == 5 }, 10*time.Second, 10*time.Millisecond,
			"applied after GiveWay though the action goes on")
	})
}
