package domain

import (
	"context"
	"time"
)

// Workspace is a tenant. Every other row belongs to exactly one workspace and
// no query ever crosses from one to another.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// WorkspaceStore persists workspaces.
type WorkspaceStore interface {
	// CreateWorkspace stores a new workspace together with its first admin.
	// Errors: CodeConflict when the admin's email is taken.
	CreateWorkspace(ctx context.Context, w *Workspace, admin *User) error
	// Workspace finds a workspace by id. Errors: CodeNotFound.
	Workspace(ctx context.Context, id string) (*Workspace, error)
	// CountWorkspaces tells whether the database is still empty (first start).
	CountWorkspaces(ctx context.Context) (int64, error)
}
