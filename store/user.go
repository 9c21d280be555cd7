package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type userRow struct {
	ID           string `gorm:"primaryKey"`
	WorkspaceID  string
	Email        string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	return domain.User{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Email: r.Email, PasswordHash: r.PasswordHash,
		Role: domain.Role(r.Role), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), LastLoginAt: utcPtr(r.LastLoginAt),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func createUser(db *gorm.DB, u *domain.User, now time.Time) error {
	if u.ID == "" {
		u.ID = newID()
	}
	u.CreatedAt, u.UpdatedAt = now, now
	err := db.Create(&userRow{
		ID: u.ID, WorkspaceID: u.WorkspaceID, Email: u.Email, PasswordHash: u.PasswordHash,
		Role: string(u.Role), CreatedAt: now, UpdatedAt: now,
	}).Error
	if domain.IsCode(translate(err), domain.CodeConflict) {
		return domain.Invalid("email already in use", map[string]string{"email": "another user has this email"})
	}
	return translate(err)
}

// CreateUser stores u in its workspace.
func (s *Store) CreateUser(ctx context.Context, u *domain.User) error {
	return createUser(s.db.WithContext(ctx), u, utc(time.Now()))
}

// UserByEmail finds a user by email in any workspace, for login.
func (s *Store) UserByEmail(ctx context.Context, email string) (*domain.User, error) {
	var r userRow
	if err := s.db.WithContext(ctx).Take(&r, "email = ?", email).Error; err != nil {
		return nil, notFound("user", err)
	}
	u := r.domain()
	return &u, nil
}

// User finds a user of the workspace.
func (s *Store) User(ctx context.Context, workspaceID, id string) (*domain.User, error) {
	return user(s.db.WithContext(ctx), workspaceID, id)
}

func user(db *gorm.DB, workspaceID, id string) (*domain.User, error) {
	var r userRow
	if err := db.Take(&r, "workspace_id = ? AND id = ?", workspaceID, id).Error; err != nil {
		return nil, notFound("user", err)
	}
	u := r.domain()
	return &u, nil
}

// Users lists the workspace's users in id order after the cursor.
func (s *Store) Users(ctx context.Context, workspaceID string, p domain.Page) ([]domain.User, error) {
	var rows []userRow
	if err := page(s.db.WithContext(ctx).Where("workspace_id = ?", workspaceID), p).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateUser changes a user's role or password; the last admin keeps its role.
func (s *Store) UpdateUser(ctx context.Context, workspaceID, id string, p domain.UserPatch, now time.Time) (*domain.User, error) {
	var out *domain.User
	err := s.InTx(ctx, func(tx *Store) error {
		u, err := user(tx.db, workspaceID, id)
		if err != nil {
			return err
		}
		set := map[string]any{"updated_at": utc(now)}
		if p.Role != nil && *p.Role != u.Role {
			if u.Role == domain.RoleAdmin {
				if err := keepAnAdmin(tx.db, workspaceID); err != nil {
					return err
				}
			}
			set["role"] = string(*p.Role)
		}
		if p.PasswordHash != nil {
			set["password_hash"] = *p.PasswordHash
			// A new password ends every session of the old one.
			if err := revokeUserSessions(tx.db, workspaceID, id, now); err != nil {
				return err
			}
		}
		if err := tx.db.Model(&userRow{}).Where("workspace_id = ? AND id = ?", workspaceID, id).Updates(set).Error; err != nil {
			return translate(err)
		}
		out, err = user(tx.db, workspaceID, id)
		return err
	})
	return out, err
}

// DeleteUser removes a user; its refresh tokens go with it.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		u, err := user(tx.db, workspaceID, id)
		if err != nil {
			return err
		}
		if u.Role == domain.RoleAdmin {
			if err := keepAnAdmin(tx.db, workspaceID); err != nil {
				return err
			}
		}
		return translate(tx.db.Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&userRow{}).Error)
	})
}

// keepAnAdmin refuses a change that would leave the workspace without admins.
func keepAnAdmin(db *gorm.DB, workspaceID string) error {
	var n int64
	if err := db.Model(&userRow{}).Where("workspace_id = ? AND role = ?", workspaceID, domain.RoleAdmin).Count(&n).Error; err != nil {
		return translate(err)
	}
	if n <= 1 {
		return domain.Errorf(domain.CodeConflict, "the workspace must keep at least one admin")
	}
	return nil
}

// TouchLogin records a successful login.
func (s *Store) TouchLogin(ctx context.Context, id string, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&userRow{}).Where("id = ?", id).UpdateColumn("last_login_at", utc(now)).Error)
}
