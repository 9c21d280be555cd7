package domain

import (
	"context"
	"strings"
	"time"
)

// APIKeyPrefix starts every api key, so that a bearer token is recognised as
// one without a database lookup.
const APIKeyPrefix = "sk_"

// APIKey is a machine credential with a role. The secret is shown once at
// creation; only a keyed hash of it is stored.
type APIKey struct {
	ID          string
	WorkspaceID string
	Name        string
	Prefix      string // the first characters of the key, to recognise it in a list
	Hash        string // keyed hash of the whole key
	Role        Role
	CreatedBy   string // user id
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

// IsAPIKey reports whether a bearer token looks like an api key.
func IsAPIKey(token string) bool { return strings.HasPrefix(token, APIKeyPrefix) }

// ValidateAPIKeyName checks a key's name. Errors: CodeInvalid.
func ValidateAPIKeyName(name string) error {
	n := strings.TrimSpace(name)
	if n == "" || len(n) > 100 {
		return Invalid("invalid api key name", map[string]string{"name": "must be 1 to 100 characters"})
	}
	return nil
}

// APIKeyStore persists api keys.
type APIKeyStore interface {
	// CreateAPIKey stores k.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash finds a key for authentication, in any workspace. Errors: CodeNotFound.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeys lists the workspace's keys after the cursor.
	APIKeys(ctx context.Context, workspaceID string, page Page) ([]APIKey, error)
	// DeleteAPIKey revokes a key. Errors: CodeNotFound.
	DeleteAPIKey(ctx context.Context, workspaceID, id string) error
	// TouchAPIKey records a use; callers may skip it when the last one is recent.
	TouchAPIKey(ctx context.Context, id string, now time.Time) error
}
