package worker

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"syncd/domain"
)

// RunOnce claims one batch of due operations and applies them, several at a
// time, returning how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ops, err := w.store.ClaimOperations(ctx, w.opt.Batch, w.opt.Lease, w.opt.Now())
	if err != nil || len(ops) == 0 {
		return 0, err
	}
	slots := make(chan struct{}, w.opt.Concurrency)
	var wg sync.WaitGroup
	for _, op := range ops {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			w.apply(ctx, op)
		}()
	}
	wg.Wait()
	return len(ops), nil
}

// apply writes one operation to its side and records the outcome.
func (w *Worker) apply(ctx context.Context, op domain.Operation) {
	log := w.opt.Logger.With("operation_id", op.ID, "item_id", op.ItemID, "kind", op.Kind, "side", op.Side)
	err := w.applyOnce(ctx, op)
	if err == nil {
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and another round retries it
	}
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

// applyOnce writes the operation to its target and records the success.
func (w *Worker) applyOnce(ctx context.Context, op domain.Operation) error {
	set, err := w.store.OpTarget(ctx, op)
	if err != nil {
		return err
	}
	externalID, err := w.write(ctx, op, set)
	if err != nil {
		return err
	}
	return w.store.CompleteOperation(ctx, op, set, externalID, w.opt.Now())
}

// write performs the operation on its side and returns the id a created
// record got. Hosted and file sides are the hub's own copy, which
// CompleteOperation writes; REST sides go through their connector first.
func (w *Worker) write(ctx context.Context, op domain.Operation, set domain.RecordSet) (string, error) {
	conn, err := w.store.Connection(ctx, op.WorkspaceID, set.ConnectionID)
	if err != nil {
		return "", err
	}
	if conn.Kind != domain.KindREST {
		return "", nil
	}
	c, err := w.connectors.get(conn)
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
