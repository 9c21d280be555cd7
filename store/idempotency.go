package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"syncd/domain"
)

type idempotencyRow struct {
	WorkspaceID string `gorm:"primaryKey"`
	Subject     string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	Method      string
	Path        string
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// IdempotentResponse finds the stored first response for a key.
func (s *Store) IdempotentResponse(ctx context.Context, workspaceID, subject, key string, now time.Time) (*domain.IdempotentResponse, error) {
	var r idempotencyRow
	err := s.db.WithContext(ctx).Take(&r, "workspace_id = ? AND subject = ? AND key = ? AND created_at > ?",
		workspaceID, subject, key, utc(now.Add(-domain.IdempotencyTTL))).Error
	if err != nil {
		return nil, notFound("idempotency key", err)
	}
	return &domain.IdempotentResponse{
		WorkspaceID: r.WorkspaceID, Subject: r.Subject, Key: r.Key, Method: r.Method, Path: r.Path,
		Status: r.Status, ContentType: r.ContentType, Body: r.Body, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// SaveIdempotentResponse stores a first response, replacing an expired one.
func (s *Store) SaveIdempotentResponse(ctx context.Context, r *domain.IdempotentResponse) error {
	now := utc(r.CreatedAt)
	return s.InTx(ctx, func(tx *Store) error {
		err := tx.db.Where("workspace_id = ? AND subject = ? AND key = ? AND created_at <= ?",
			r.WorkspaceID, r.Subject, r.Key, now.Add(-domain.IdempotencyTTL)).Delete(&idempotencyRow{}).Error
		if err != nil {
			return translate(err)
		}
		return translate(tx.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&idempotencyRow{
			WorkspaceID: r.WorkspaceID, Subject: r.Subject, Key: r.Key, Method: r.Method, Path: r.Path,
			Status: r.Status, ContentType: r.ContentType, Body: r.Body, CreatedAt: now,
		}).Error)
	})
}
