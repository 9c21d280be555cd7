package domain

import (
	"context"
	"time"
)

// RefreshToken is one link in a refresh-token family. A login starts a family;
// each refresh marks the presented token used and adds a successor. Presenting
// a used token again means it was stolen, so the whole family is revoked.
type RefreshToken struct {
	ID          string
	WorkspaceID string
	UserID      string
	FamilyID    string
	Hash        string // SHA-256 of the opaque token
	ExpiresAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
	CreatedAt   time.Time
}

// SessionStore persists refresh tokens.
type SessionStore interface {
	// CreateRefreshToken stores a new token (a new family when FamilyID is new).
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RotateRefreshToken marks the token with this hash used and stores next in
	// its family, atomically. Errors: CodeUnauthorized when the token is unknown,
	// expired or revoked; when it was already used the family is revoked and
	// CodeUnauthorized returned (reuse detection).
	RotateRefreshToken(ctx context.Context, hash string, next *RefreshToken, now time.Time) (*RefreshToken, error)
	// RevokeFamily revokes the family of the token with this hash. Errors: CodeNotFound.
	RevokeFamily(ctx context.Context, hash string, now time.Time) error
}

// Principal is the authenticated caller of a request: a user or an api key.
type Principal struct {
	WorkspaceID string
	Role        Role
	UserID      string // set for users
	APIKeyID    string // set for api keys
	Email       string // set for users
	Name        string // set for api keys
}

// Subject names the principal for audit logs: "user:ID" or "api_key:ID".
func (p Principal) Subject() string {
	if p.APIKeyID != "" {
		return "api_key:" + p.APIKeyID
	}
	return "user:" + p.UserID
}
