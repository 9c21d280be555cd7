package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type workspaceRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	CreatedAt time.Time
}

func (workspaceRow) TableName() string { return "workspaces" }

// CreateWorkspace stores a new workspace together with its first admin.
func (s *Store) CreateWorkspace(ctx context.Context, w *domain.Workspace, admin *domain.User) error {
	now := utc(time.Now())
	return s.InTx(ctx, func(tx *Store) error {
		if w.ID == "" {
			w.ID = newID()
		}
		w.CreatedAt = now
		if err := tx.db.Create(&workspaceRow{ID: w.ID, Name: w.Name, CreatedAt: now}).Error; err != nil {
			return translate(err)
		}
		admin.WorkspaceID = w.ID
		admin.Role = domain.RoleAdmin
		return createUser(tx.db, admin, now)
	})
}

// CountWorkspaces counts all workspaces; zero means a first start.
func (s *Store) CountWorkspaces(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&workspaceRow{}).Count(&n).Error
	return n, translate(err)
}

// Workspace finds a workspace by id.
func (s *Store) Workspace(ctx context.Context, id string) (*domain.Workspace, error) {
	var r workspaceRow
	if err := s.db.WithContext(ctx).Take(&r, "id = ?", id).Error; err != nil {
		return nil, notFound("workspace", err)
	}
	return &domain.Workspace{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}, nil
}

// page applies a keyset page ordered by id to q.
func page(q *gorm.DB, p domain.Page) *gorm.DB {
	p = p.Normalized()
	if p.After != "" {
		q = q.Where("id > ?", p.After)
	}
	return q.Order("id").Limit(p.Limit)
}
