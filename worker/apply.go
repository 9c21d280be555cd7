package worker

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"syncd/domain"
)

// RunOnce claims one batch of due operations and applies them, returning
// how many it claimed. Writes to the hub's own copies (hosted and file
// sides) complete together, one transaction per workspace; writes through a
// connector run several at a time.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ops, err := w.store.ClaimOperations(ctx, w.opt.Batch, w.opt.Lease, w.opt.Now())
	if err != nil || len(ops) == 0 {
		return 0, err
	}
	r := round{w: w, sets: map[string]domain.RecordSet{}, conns: map[string]*domain.Connection{}}
	var own []domain.Completion
	var remote []target
	for _, op := range ops {
		t, err := r.target(ctx, op)
		switch {
		case err != nil:
			w.fail(ctx, op, err)
		case t.conn.Kind == domain.KindREST:
			remote = append(remote, t)
		default:
			own = append(own, domain.Completion{Op: op, Target: t.set})
		}
	}
	w.complete(ctx, own)
	slots := make(chan struct{}, w.opt.Concurrency)
	var wg sync.WaitGroup
	for _, t := range remote {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			w.applyRemote(ctx, t)
		}()
	}
	wg.Wait()
	return len(ops), nil
}

// target is where an operation writes: the record set and its connection.
type target struct {
	op   domain.Operation
	set  domain.RecordSet
	conn *domain.Connection
}

// round remembers the targets and connections one batch looked up.
type round struct {
	w     *Worker
	sets  map[string]domain.RecordSet // by sync, object and side
	conns map[string]*domain.Connection
}

func (r *round) target(ctx context.Context, op domain.Operation) (target, error) {
	key := op.SyncID + "\x00" + op.Object + "\x00" + string(op.Side)
	set, ok := r.sets[key]
	if !ok {
		var err error
		if set, err = r.w.store.OpTarget(ctx, op); err != nil {
			return target{}, err
		}
		r.sets[key] = set
	}
	conn, ok := r.conns[set.ConnectionID]
	if !ok {
		var err error
		if conn, err = r.w.store.Connection(ctx, op.WorkspaceID, set.ConnectionID); err != nil {
			return target{}, err
		}
		r.conns[set.ConnectionID] = conn
	}
	return target{op: op, set: set, conn: conn}, nil
}

// complete records writes to the hub's own copies, one transaction per
// workspace (each numbers its changes on its own); when that fails, one by
// one, so one bad write fails alone.
func (w *Worker) complete(ctx context.Context, done []domain.Completion) {
	byWorkspace := map[string][]domain.Completion{}
	for _, c := range done {
		byWorkspace[c.Op.WorkspaceID] = append(byWorkspace[c.Op.WorkspaceID], c)
	}
	for _, group := range byWorkspace {
		w.completeWorkspace(ctx, group)
	}
}

func (w *Worker) completeWorkspace(ctx context.Context, done []domain.Completion) {
	err := w.store.CompleteOperations(ctx, done, w.opt.Now())
	if err == nil {
		return
	}
	if len(done) == 1 {
		w.fail(ctx, done[0].Op, err)
		return
	}
	for _, c := range done {
		if err := w.store.CompleteOperations(ctx, []domain.Completion{c}, w.opt.Now()); err != nil {
			w.fail(ctx, c.Op, err)
		}
	}
}

// applyRemote writes one operation through its side's connector and records
// the outcome.
func (w *Worker) applyRemote(ctx context.Context, t target) {
	externalID, err := w.write(ctx, t)
	if err == nil {
		err = w.store.CompleteOperations(ctx, []domain.Completion{{Op: t.op, Target: t.set, ExternalID: externalID}}, w.opt.Now())
	}
	if err != nil {
		w.fail(ctx, t.op, err)
	}
}

// fail records a failed attempt: retried after a backoff while the failure
// may pass and attempts remain, given up otherwise.
func (w *Worker) fail(ctx context.Context, op domain.Operation, err error) {
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and another round retries it
	}
	log := w.opt.Logger.With("operation_id", op.ID, "item_id", op.ItemID, "kind", op.Kind, "side", op.Side)
	msg := domain.ErrorMessage(err)
	retryAt := time.Time{}
	if retryable(err) && op.Attempts < w.opt.MaxAttempts {
		retryAt = w.opt.Now().Add(w.backoff(op.Attempts, err))
	}
	log.Warn("operation failed", "attempt", op.Attempts, "error", msg, "retry_at", retryAt)
	if err := w.store.FailOperation(ctx, op, msg, retryAt, w.opt.Now()); err != nil {
		log.Error("record failed operation", "error", err)
	}
}

// write performs an operation through its REST connector and returns the
// id a created record got.
func (w *Worker) write(ctx context.Context, t target) (string, error) {
	op, set := t.op, t.set
	c, err := w.connectors.get(t.conn)
	if err != nil {
		return "", err
	}
	switch op.Kind {
	case domain.OpCreate:
		return c.Create(ctx, set.Object, op.ExternalID, op.Fields)
	case domain.OpUpdate:
		return "", c.Update(ctx, set.Object, op.ExternalID, op.Fields)
	case domain.OpDelete:
		return "", c.Delete(ctx, set.Object, op.ExternalID)
	case domain.OpActivate:
		fields := op.Fields
		if len(fields) == 0 {
			f, err := c.ActiveField(set.Object)
			if err != nil {
				return "", err
			}
			fields = domain.Fields{f: true}
		}
		return "", c.Update(ctx, set.Object, op.ExternalID, fields)
	}
	return "", domain.Errorf(domain.CodeInvalid, "unknown operation kind %q", op.Kind)
}

// retryable tells failures worth another attempt (the remote system or the
// database was unavailable) from those that would fail again.
func retryable(err error) bool {
	switch domain.ErrorCode(err) {
	case domain.CodeUnavailable, domain.CodeRateLimited, domain.CodeInternal:
		return !errors.Is(err, context.Canceled)
	}
	return false
}

// backoff is the wait before attempt n+1: RetryBase times 4^(n-1), at most
// ten minutes, or longer when the remote system asked for it.
func (w *Worker) backoff(attempt int, err error) time.Duration {
	d := time.Duration(float64(w.opt.RetryBase) * math.Pow(4, float64(attempt-1)))
	d = min(d, 10*time.Minute)
	var de *domain.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		d = max(d, time.Duration(de.RetryAfter)*time.Second)
	}
	return d
}
