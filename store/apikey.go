package store

import (
	"context"
	"time"

	"syncd/domain"
)

type apiKeyRow struct {
	ID          string `gorm:"primaryKey"`
	WorkspaceID string
	Name        string
	Prefix      string
	Hash        string
	Role        string
	CreatedBy   string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) domain() domain.APIKey {
	return domain.APIKey{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Prefix: r.Prefix, Hash: r.Hash,
		Role: domain.Role(r.Role), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utcPtr(r.LastUsedAt),
	}
}

// CreateAPIKey stores k (its hash, never the key).
func (s *Store) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	if k.ID == "" {
		k.ID = newID()
	}
	k.CreatedAt = utc(time.Now())
	return translate(s.db.WithContext(ctx).Create(&apiKeyRow{
		ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, Prefix: k.Prefix, Hash: k.Hash,
		Role: string(k.Role), CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
	}).Error)
}

// APIKeyByHash finds a key by its keyed hash, for authentication.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*domain.APIKey, error) {
	var r apiKeyRow
	if err := s.db.WithContext(ctx).Take(&r, "hash = ?", hash).Error; err != nil {
		return nil, notFound("api key", err)
	}
	k := r.domain()
	return &k, nil
}

// APIKeys lists the workspace's keys in id order after the cursor.
func (s *Store) APIKeys(ctx context.Context, workspaceID string, p domain.Page) ([]domain.APIKey, error) {
	var rows []apiKeyRow
	if err := page(s.db.WithContext(ctx).Where("workspace_id = ?", workspaceID), p).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteAPIKey revokes a key of the workspace.
func (s *Store) DeleteAPIKey(ctx context.Context, workspaceID, id string) error {
	res := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&apiKeyRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.CodeNotFound, "api key not found")
	}
	return nil
}

// TouchAPIKey records the time of a use.
func (s *Store) TouchAPIKey(ctx context.Context, id string, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ?", id).UpdateColumn("last_used_at", utc(now)).Error)
}
