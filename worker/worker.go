// Package worker runs syncd's background work inside `syncd serve`: it
// applies queued operations through each side's connector, reconciles record
// changes promptly, and catches up on changes made elsewhere (another
// replica, a crash between a commit and its reconcile). Replicas coordinate
// through the database only: operations are leased row by row.
package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"syncd/connector/outbound"
	"syncd/domain"
)

// Store is what the worker needs from persistence.
type Store interface {
	ClaimOperations(ctx context.Context, n int, lease time.Duration, now time.Time) ([]domain.Operation, error)
	FailOperation(ctx context.Context, op domain.Operation, msg string, retryAt, now time.Time) error
	CompleteOperations(ctx context.Context, done []domain.Completion, now time.Time) error
	OpTarget(ctx context.Context, op domain.Operation) (domain.RecordSet, error)
	Connection(ctx context.Context, workspaceID, id string) (*domain.Connection, error)
	ObjectsReading(ctx context.Context, set domain.RecordSet) ([]domain.ObjectRef, error)
	ReconcileObject(ctx context.Context, ref domain.ObjectRef, now time.Time) (int, error)
	BehindObjects(ctx context.Context) ([]domain.ObjectRef, error)
	Prune(ctx context.Context, now time.Time) (int64, error)
	BulkActing() bool
}

// Options tune the worker; zero values take the defaults named.
type Options struct {
	Concurrency int           // operations applied at once (4)
	Batch       int           // operations claimed per round (200)
	Lease       time.Duration // how long a claimed operation is ours before another worker may take it (5m)
	MaxAttempts int           // attempts before an operation fails for good (6)
	RetryBase   time.Duration // first retry delay; each next one is four times longer, up to 10m (2s)
	Poll        time.Duration // how often to look for due operations without being woken (1s)
	CatchUp     time.Duration // how often to reconcile changes made elsewhere (5s)
	GiveWay     time.Duration // how long applying waits at most for bulk actions under way (30s)
	Outbound    outbound.Options
	Logger      *slog.Logger
	Now         func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	def(&o.Lease, 5*time.Minute)
	def(&o.RetryBase, 2*time.Second)
	def(&o.Poll, time.Second)
	def(&o.CatchUp, 5*time.Second)
	def(&o.GiveWay, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Worker applies operations and keeps items reconciled.
type Worker struct {
	store      Store
	opt        Options
	wake       chan struct{}
	connectors *connectors
	// reconciling holds a mutex per sync object: a second reconcile of the
	// same object waits for the first and then reads what came since,
	// instead of skipping the locked object and leaving the change to the
	// catch-up loop. Different objects reconcile side by side.
	reconciling sync.Map // domain.ObjectRef → *sync.Mutex
}

// New returns a worker; call Run to start it.
func New(s Store, o Options) *Worker {
	o = o.withDefaults()
	return &Worker{store: s, opt: o, wake: make(chan struct{}, 1), connectors: newConnectors(o.Outbound)}
}

// Wake makes the worker look for due operations now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends, then waits for the operations in flight.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.applyLoop(ctx) }()
	go func() { defer wg.Done(); w.catchUpLoop(ctx) }()
	wg.Wait()
}

func (w *Worker) applyLoop(ctx context.Context) {
	t := time.NewTicker(w.opt.Poll)
	defer t.Stop()
	var waiting time.Time
	for {
		for !w.givingWay(&waiting) {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.opt.Logger.Error("apply operations", "error", err)
			}
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// givingWay reports whether applying waits for a bulk action under way in
// this process: a person waits for its answer, the machine's cores and (on
// SQLite) its one writer are the action's until then, and it wakes the
// worker when it ends. One stretch of bulk actions is waited for at most
// GiveWay; since holds when it began.
func (w *Worker) givingWay(since *time.Time) bool {
	if !w.store.BulkActing() {
		*since = time.Time{}
		return false
	}
	now := w.opt.Now()
	if since.IsZero() {
		*since = now
	}
	return now.Sub(*since) < w.opt.GiveWay
}

func (w *Worker) catchUpLoop(ctx context.Context) {
	t := time.NewTicker(w.opt.CatchUp)
	defer t.Stop()
	var lastPrune time.Time // applied operations and old idempotency keys go hourly
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		refs, err := w.store.BehindObjects(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.opt.Logger.Error("find objects to reconcile", "error", err)
			}
			continue
		}
		for _, ref := range refs {
			w.reconcileObject(ctx, ref)
		}
		if now := w.opt.Now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := w.store.Prune(ctx, now); err != nil && ctx.Err() == nil {
				w.opt.Logger.Error("prune", "error", err)
			}
		}
	}
}

// RecordsChanged reconciles, now, every sync object that reads the set. The
// store calls it after a commit changed records.
func (w *Worker) RecordsChanged(ctx context.Context, set domain.RecordSet) {
	refs, err := w.store.ObjectsReading(ctx, set)
	if err != nil {
		w.opt.Logger.Error("find objects to reconcile", "error", err)
		return
	}
	for _, ref := range refs {
		w.reconcileObject(ctx, ref)
	}
}

func (w *Worker) reconcileObject(ctx context.Context, ref domain.ObjectRef) {
	mu, _ := w.reconciling.LoadOrStore(ref, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if _, err := w.store.ReconcileObject(ctx, ref, w.opt.Now()); err != nil && ctx.Err() == nil {
		// The catch-up loop tries again; the records are safely stored.
		w.opt.Logger.Error("reconcile", "sync_id", ref.SyncID, "object", ref.Object, "error", err)
	}
}
