package store

import (
	"context"
	"time"

	"syncd/domain"
)

type loginFailureRow struct {
	LoginKey string `gorm:"primaryKey"`
	Failures int
	LastAt   time.Time
}

func (loginFailureRow) TableName() string { return "login_failures" }

// LoginFailures returns the failures of those keys that have any.
func (s *Store) LoginFailures(ctx context.Context, keys []string) (map[string]domain.LoginFailures, error) {
	var rows []loginFailureRow
	if err := s.db.WithContext(ctx).Where("login_key IN ?", keys).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[string]domain.LoginFailures, len(rows))
	for _, r := range rows {
		out[r.LoginKey] = domain.LoginFailures{Count: r.Failures, Last: r.LastAt.UTC()}
	}
	return out, nil
}

// LoginFailed counts one more failure for each key in one statement each,
// so that replicas counting at once lose no failure.
func (s *Store) LoginFailed(ctx context.Context, keys []string, now time.Time) error {
	now = utc(now)
	db := s.db.WithContext(ctx)
	for _, k := range keys {
		err := db.Exec(`INSERT INTO login_failures (login_key, failures, last_at) VALUES (?, 1, ?)
			ON CONFLICT (login_key) DO UPDATE SET
				failures = CASE WHEN login_failures.last_at < ? THEN 1 ELSE login_failures.failures + 1 END,
				last_at = excluded.last_at`, k, now, now.Add(-domain.LoginFailuresKept)).Error
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// LoginSucceeded forgets the key's failures.
func (s *Store) LoginSucceeded(ctx context.Context, key string) error {
	return translate(s.db.WithContext(ctx).Where("login_key = ?", key).Delete(&loginFailureRow{}).Error)
}
