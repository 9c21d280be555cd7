package store

import (
	"context"
	"time"

	"syncd/domain"
)

// DoneOperationsKept is how long applied operations stay for inspection.
const DoneOperationsKept = 7 * 24 * time.Hour

// Prune deletes what has served its time: applied operations after
// DoneOperationsKept, idempotency records after domain.IdempotencyTTL and
// failed logins after domain.LoginFailuresKept. It returns how many rows it
// removed.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	db := s.db.WithContext(ctx)
	ops := db.Where("status = ? AND updated_at < ?", string(domain.OpDone), utc(now.Add(-DoneOperationsKept))).Delete(&operationRow{})
	if ops.Error != nil {
		return 0, translate(ops.Error)
	}
	keys := db.Where("created_at < ?", utc(now.Add(-domain.IdempotencyTTL))).Delete(&idempotencyRow{})
	if keys.Error != nil {
		return 0, translate(keys.Error)
	}
	logins := db.Where("last_at < ?", utc(now.Add(-domain.LoginFailuresKept))).Delete(&loginFailureRow{})
	return ops.RowsAffected + keys.RowsAffected + logins.RowsAffected, translate(logins.Error)
}
