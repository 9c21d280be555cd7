package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"syncd/domain"
)

type refreshTokenRow struct {
	ID          string `gorm:"primaryKey"`
	WorkspaceID string
	UserID      string
	FamilyID    string
	Hash        string
	ExpiresAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
	CreatedAt   time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func createRefreshToken(db *gorm.DB, t *domain.RefreshToken, now time.Time) error {
	if t.ID == "" {
		t.ID = newID()
	}
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	t.CreatedAt = now
	return translate(db.Create(&refreshTokenRow{
		ID: t.ID, WorkspaceID: t.WorkspaceID, UserID: t.UserID, FamilyID: t.FamilyID,
		Hash: t.Hash, ExpiresAt: utc(t.ExpiresAt), CreatedAt: now,
	}).Error)
}

// CreateRefreshToken stores t, starting a family when FamilyID is empty.
func (s *Store) CreateRefreshToken(ctx context.Context, t *domain.RefreshToken) error {
	return createRefreshToken(s.db.WithContext(ctx), t, utc(time.Now()))
}

var errBadRefresh = domain.Errorf(domain.CodeUnauthorized, "refresh token is invalid, expired or revoked")

// RotateRefreshToken spends the token with this hash and stores next in its
// family. A token spent before is a replay: the whole family is revoked.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, next *domain.RefreshToken, now time.Time) (*domain.RefreshToken, error) {
	now = utc(now)
	var reused bool
	err := s.InTx(ctx, func(tx *Store) error {
		var r refreshTokenRow
		// The row lock makes two concurrent refreshes with one token see each
		// other: the second finds it used.
		err := tx.db.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&r, "hash = ?", hash).Error
		if err != nil {
			return errBadRefresh
		}
		switch {
		case r.RevokedAt != nil || !now.Before(r.ExpiresAt):
			return errBadRefresh
		case r.UsedAt != nil:
			reused = true
			return revokeFamily(tx.db, r.FamilyID, now)
		}
		if err := tx.db.Model(&refreshTokenRow{}).Where("id = ?", r.ID).Update("used_at", now).Error; err != nil {
			return translate(err)
		}
		next.WorkspaceID, next.UserID, next.FamilyID = r.WorkspaceID, r.UserID, r.FamilyID
		return createRefreshToken(tx.db, next, now)
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, domain.Errorf(domain.CodeUnauthorized, "refresh token was already used; every session of this login has been revoked")
	}
	return next, nil
}

// RevokeFamily revokes the family of the token with this hash (logout).
func (s *Store) RevokeFamily(ctx context.Context, hash string, now time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		var r refreshTokenRow
		if err := tx.db.Take(&r, "hash = ?", hash).Error; err != nil {
			return notFound("refresh token", err)
		}
		return revokeFamily(tx.db, r.FamilyID, utc(now))
	})
}

func revokeFamily(db *gorm.DB, familyID string, now time.Time) error {
	return translate(db.Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", now).Error)
}

func revokeUserSessions(db *gorm.DB, workspaceID, userID string, now time.Time) error {
	return translate(db.Model(&refreshTokenRow{}).
		Where("workspace_id = ? AND user_id = ? AND revoked_at IS NULL", workspaceID, userID).
		Update("revoked_at", utc(now)).Error)
}
