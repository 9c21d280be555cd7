package domain

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Role is what a user or api key may do in its workspace.
type Role string

// The three roles, from most to least powerful.
const (
	RoleAdmin    Role = "admin"    // users, connections, credentials, settings
	RoleOperator Role = "operator" // runs and window actions
	RoleViewer   Role = "viewer"   // read only
)

// rank orders roles so that a check reads "at least operator".
var rank = map[Role]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return rank[r] > 0 }

// Allows reports whether a caller with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return rank[r] >= rank[need] && rank[need] > 0 }

// User is a person in a workspace.
type User struct {
	ID           string
	WorkspaceID  string
	Email        string // stored lower-cased; unique across all workspaces, since login names only the email
	PasswordHash string // PHC-formatted argon2id; never leaves the server
	Role         Role
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
}

// NormalizeEmail trims and lower-cases an email address and checks its form.
// Errors: CodeInvalid.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", Invalid("invalid email address", map[string]string{"email": "must be a plain email address like name@example.com"})
	}
	return s, nil
}

// MinPasswordLength is the shortest password syncd accepts.
const MinPasswordLength = 10

// ValidatePassword checks a new password against the policy. Errors: CodeInvalid.
func ValidatePassword(p string) error {
	if len(p) < MinPasswordLength {
		return Invalid("password too short", map[string]string{"password": "must be at least 10 characters"})
	}
	if len(p) > 256 {
		return Invalid("password too long", map[string]string{"password": "must be at most 256 characters"})
	}
	return nil
}

// UserPatch holds the changes of a user update; nil fields stay as they are.
type UserPatch struct {
	Role         *Role
	PasswordHash *string
}

// UserStore persists users. Every method is scoped to one workspace except
// the login lookup, which finds the workspace from the email.
type UserStore interface {
	// CreateUser stores u. Errors: CodeConflict when the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// UserByEmail finds a user for login, in any workspace. Errors: CodeNotFound.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// User finds a user of the workspace. Errors: CodeNotFound.
	User(ctx context.Context, workspaceID, id string) (*User, error)
	// Users lists the workspace's users by id after the cursor.
	Users(ctx context.Context, workspaceID string, page Page) ([]User, error)
	// UpdateUser applies p. Errors: CodeNotFound; CodeConflict when it would leave
	// the workspace without an admin.
	UpdateUser(ctx context.Context, workspaceID, id string, p UserPatch, now time.Time) (*User, error)
	// DeleteUser removes a user and revokes its sessions. Errors: CodeNotFound;
	// CodeConflict for the last admin.
	DeleteUser(ctx context.Context, workspaceID, id string) error
	// TouchLogin records a successful login.
	TouchLogin(ctx context.Context, id string, now time.Time) error
}
