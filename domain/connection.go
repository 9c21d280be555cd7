package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ConnectionKind says how records reach the hub from a connection.
type ConnectionKind string

// The connection kinds of SYSTEM.md.
const (
	KindFile   ConnectionKind = "file"   // uploaded files; read-only as a target, exported as CSV
	KindREST   ConnectionKind = "rest"   // an HTTP/JSON API the hub reads and writes
	KindHosted ConnectionKind = "hosted" // the hub is the system of record; clients write through the API
)

// Valid reports whether k is a known kind.
func (k ConnectionKind) Valid() bool { return k == KindFile || k == KindREST || k == KindHosted }

// Connection is one configured system. Config is the kind's JSON document,
// validated by that kind's connector; Credentials is a JSON object that is
// encrypted at rest and never leaves the server.
type Connection struct {
	ID          string
	WorkspaceID string
	Name        string
	Kind        ConnectionKind
	Config      []byte
	// Credentials is nil in lists; a single lookup decrypts it.
	Credentials []byte
	// CredentialFields names the credential fields that are set, so a client
	// can see what is configured without seeing a value.
	CredentialFields []string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int64 // the ETag
}

// ValidateConnectionName checks a connection's name. Errors: CodeInvalid.
func ValidateConnectionName(name string) error {
	if n := strings.TrimSpace(name); n == "" || len(n) > 200 {
		return Invalid("invalid connection name", map[string]string{"name": "must be 1 to 200 characters"})
	}
	return nil
}

// ConnectionPatch holds the changes of a connection update; nil fields stay.
type ConnectionPatch struct {
	Name        *string
	Config      []byte
	Credentials []byte // replaces all credentials when not nil
}

// ConnectionStore persists connections, sealing credentials.
type ConnectionStore interface {
	// CreateConnection stores c with its credentials encrypted.
	CreateConnection(ctx context.Context, c *Connection) error
	// Connection finds a connection of the workspace with its credentials
	// decrypted. Errors: CodeNotFound.
	Connection(ctx context.Context, workspaceID, id string) (*Connection, error)
	// Connections lists the workspace's connections, without credential values.
	Connections(ctx context.Context, workspaceID string, page Page) ([]Connection, error)
	// UpdateConnection applies p when the stored version is ifVersion (0 =
	// any). Errors: CodeNotFound, CodeStale.
	UpdateConnection(ctx context.Context, workspaceID, id string, p ConnectionPatch, ifVersion int64, now time.Time) (*Connection, error)
	// DeleteConnection removes a connection and the hub's copy of its records.
	// Errors: CodeNotFound; CodeConflict while a sync uses it.
	DeleteConnection(ctx context.Context, workspaceID, id string) error
}

// ValidateObjects checks the objects map of a connection's config: at least
// one object, no blank name, and each object's own problems (keyed by its
// fields) under "objects.<name>.". Errors: CodeInvalid naming the kind.
func ValidateObjects[T any](kind ConnectionKind, objects map[string]T, problems func(T) map[string]string) error {
	fields := map[string]string{}
	if len(objects) == 0 {
		fields["objects"] = "at least one object is required"
	}
	for name, o := range objects {
		at := "objects." + name
		if strings.TrimSpace(name) == "" {
			fields[at] = "object names must not be empty"
			continue
		}
		for k, v := range problems(o) {
			fields[at+"."+k] = v
		}
	}
	if len(fields) > 0 {
		return Invalid(fmt.Sprintf("the %s connection's config is invalid", kind), fields)
	}
	return nil
}
