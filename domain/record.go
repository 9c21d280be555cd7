package domain

import (
	"context"
	"time"
)

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
	// RawFields is Fields as the store keeps them (a JSON object). Reads
	// that only pass records on — the sync window's pages — set it instead
	// of Fields; reads for reconciling set both, so what is shown or
	// audited is not encoded again. Nil when unknown.
	RawFields []byte
	Hash      string // content hash of Fields, Active and Deleted; unchanged records are skipped
	Active    bool
	Deleted   bool
	DeletedAt *time.Time
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

// Origin says who made a record's last change: its own system (an upload, a
// pull, a client's write to a hosted connection) or the hub applying an
// operation. The hosted change feed serves the hub's changes.
type Origin string

// The origins of a change.
const (
	OriginSource Origin = "source"
	OriginHub    Origin = "hub"
)

// ApplyMode says what a batch of records means: a full snapshot, where
// records it lacks become tombstones, or a partial upsert.
type ApplyMode string

// The apply modes of uploads and pulls.
const (
	ApplyFull    ApplyMode = "full"
	ApplyPartial ApplyMode = "partial"
)

// ApplyOptions control how staged records are merged into the hub's copy.
type ApplyOptions struct {
	Mode ApplyMode
	// MaxDeleteRatio refuses (CodeConflict) a full apply that would tombstone
	// more than this share of the live records, unless ConfirmMassDelete.
	MaxDeleteRatio    float64
	ConfirmMassDelete bool
	// Source names what the records came from ("upload", "pull") in messages.
	Source string
	Origin Origin
	Now    time.Time
	// UniqueIDs says the caller has already refused repeated external ids
	// (an upload checks every row, naming both rows), so the apply need not
	// look for them again.
	UniqueIDs bool
}

// ApplyStats counts what an apply changed.
type ApplyStats struct {
	Rows      int // records staged
	Inserted  int
	Updated   int
	Unchanged int
	Deleted   int // tombstoned by a full apply or marked deleted by the source
	// Seq is the change sequence the apply's changes carry (0 when nothing changed).
	Seq int64
}

// RecordSet names one side's records: a connection and one of its objects.
type RecordSet struct {
	WorkspaceID  string
	ConnectionID string
	Object       string
}

// RecordFilter selects records for a list.
type RecordFilter struct {
	ChangedSince *time.Time
	// IncludeDeleted lists tombstones too.
	IncludeDeleted bool
}

// RecordStore keeps the hub's copy of each side.
type RecordStore interface {
	// StageRecords opens an apply: records are staged (streamed into the
	// database's bulk path) and merged into the copy at Commit, atomically.
	// Errors: CodeNotFound when the connection is not in the workspace.
	StageRecords(ctx context.Context, set RecordSet) (RecordApply, error)
	// Records lists a set's records in id order after the cursor.
	Records(ctx context.Context, set RecordSet, f RecordFilter, page Page) ([]Record, error)
	// Record finds one record by external id. Errors: CodeNotFound.
	Record(ctx context.Context, set RecordSet, externalID string) (*Record, error)
}

// RecordApply is one batch of records on its way into the hub's copy.
type RecordApply interface {
	// Add stages one record; ExternalID must be unique within the apply.
	Add(ctx context.Context, r Record) error
	// Keep stages a record's external id alone: the record stays as it is
	// (for a row that could not be read), and ApplyFull does not tombstone
	// it. The id must not be added too.
	Keep(ctx context.Context, externalID string) error
	// Commit merges what was staged: new records inserted, changed ones
	// updated (by content hash), unchanged ones left alone, and with
	// ApplyFull the records missing from the batch tombstoned — all in one
	// transaction. Errors: CodeConflict for a refused mass delete.
	Commit(ctx context.Context, o ApplyOptions) (ApplyStats, error)
	// Discard drops what was staged; the copy stays as it was. It is safe
	// after Commit.
	Discard(ctx context.Context)
}
