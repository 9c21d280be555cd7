package domain

import "time"

// Fields holds a record's values by field name. Values are JSON-shaped: nil,
// string, bool, float64, int64 or a json-like number string, and never
// nested deeper than one level of []any or map[string]any.
type Fields map[string]any

// Record is one side's copy of an entity, as the hub keeps it for a
// connection and object.
type Record struct {
	ID           string // the hub's own id
	WorkspaceID  string
	ConnectionID string
	Object       string
	ExternalID   string // the id in the source system
	Fields       Fields
	Hash         string // content hash of Fields, Active and Deleted; unchanged records are skipped
	Active       bool
	Deleted      bool
	DeletedAt    *time.Time
	// SourceUpdatedAt is the record's own updated-at, when its source reports one.
	SourceUpdatedAt *time.Time
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	// Version increases with every change the hub stores; it is the record's ETag.
	Version int64
}

// ScopeType says which records a pull or run covers.
type ScopeType string

// The scopes of SYSTEM.md.
const (
	ScopeAll          ScopeType = "all"
	ScopeRange        ScopeType = "range"
	ScopeChangedSince ScopeType = "changed_since"
)

// Scope selects the records a pull or run covers: all, an id range (numeric
// when both ends are numbers) or those changed since a time. Only a complete
// listing (ScopeAll) may turn missing records into tombstones.
type Scope struct {
	Type  ScopeType
	From  string
	To    string
	Since time.Time
}

// Complete reports whether a listing under this scope sees every record, so
// that records it does not return count as deleted.
func (s Scope) Complete() bool { return s.Type == "" || s.Type == ScopeAll }
