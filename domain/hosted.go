package domain

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of writes to hosted connections.
const (
	MaxBatchWrites      = 1000 // writes in one batch
	MaxExternalIDLength = 255  // characters
	MaxRecordFields     = 1000 // fields in one record
	maxFieldNameLength  = 255
)

// IfExists, given as the version a write expects (If-Match: *), lets the
// write apply only to a live record.
const IfExists int64 = -1

// WriteOp says what a write to a hosted set does.
type WriteOp string

// The operations of a hosted batch.
const (
	WriteUpsert WriteOp = "upsert"
	WriteDelete WriteOp = "delete"
)

// RecordWrite is one write to a hosted set, as a batch carries it.
type RecordWrite struct {
	Op WriteOp
	// Record carries the ExternalID and, for an upsert, the Fields, Active and
	// SourceUpdatedAt to store.
	Record Record
	// IfVersion is the version the record must have for the write to apply:
	// 0 for any, IfExists for any live record.
	IfVersion int64
}

// WriteOutcome says what a write did to the hub's copy.
type WriteOutcome string

// The outcomes of a write.
const (
	OutcomeCreated   WriteOutcome = "created"   // a new record, or one restored from a tombstone
	OutcomeUpdated   WriteOutcome = "updated"   // the content changed
	OutcomeUnchanged WriteOutcome = "unchanged" // same content hash (or already deleted): nothing written
	OutcomeDeleted   WriteOutcome = "deleted"   // tombstoned
)

// WriteResult is what became of one write of a batch: its outcome and the
// record as stored, or the error that stopped it, in which case nothing of
// that write was stored.
type WriteResult struct {
	ExternalID string
	Outcome    WriteOutcome
	Record     *Record
	Err        error
}

// ChangeCursor is a position in a change feed: the change number and record
// id of the last change seen. The zero cursor is the feed's start.
type ChangeCursor struct {
	Seq int64
	ID  string
}

// RecordChange is a record as its last change left it, with that change's
// number (shared by every record one transaction changed) and time.
type RecordChange struct {
	Record
	Seq       int64
	ChangedAt time.Time
}

// Cursor is the feed position right after this change.
func (c RecordChange) Cursor() ChangeCursor { return ChangeCursor{Seq: c.Seq, ID: c.ID} }

// HostedStore writes single records into the hub's copy of a set, as clients
// of hosted connections and the hub's own operations do. Every change takes a
// change number, so readers that follow change numbers see it; a write that
// leaves the content hash as it was stores nothing and takes no number.
type HostedStore interface {
	// PutRecord creates or replaces the record with r.ExternalID (restoring a
	// tombstone) when its version is ifVersion (0 = any, IfExists = any live
	// record). Errors: CodeNotFound for a connection outside the workspace,
	// CodeStale when the version does not match, CodeInvalid for a write
	// that breaks ValidateRecordWrite.
	PutRecord(ctx context.Context, set RecordSet, r Record, ifVersion int64, origin Origin, now time.Time) (*Record, WriteOutcome, error)
	// DeleteRecord tombstones a record; a record already deleted is left
	// alone (OutcomeUnchanged). Errors: CodeNotFound for an unknown record or
	// connection, CodeStale.
	DeleteRecord(ctx context.Context, set RecordSet, externalID string, ifVersion int64, origin Origin, now time.Time) (*Record, WriteOutcome, error)
	// ApplyRecordBatch applies up to MaxBatchWrites writes in order, each
	// checked on its own: a write that is invalid, stale or not found is
	// skipped with its error in its result, and the others are stored
	// together in one transaction under one change number. Only a failure of
	// the database itself fails the whole batch, and then nothing is stored.
	// Errors: CodeNotFound for the connection, CodeInvalid for too many writes.
	ApplyRecordBatch(ctx context.Context, set RecordSet, writes []RecordWrite, origin Origin, now time.Time) ([]WriteResult, error)
	// Changes lists the set's records whose last change the hub made
	// (OriginHub), after the cursor in (change number, id) order, at most
	// limit of them (normalised like a Page). Errors: CodeNotFound.
	Changes(ctx context.Context, set RecordSet, after ChangeCursor, limit int) ([]RecordChange, error)
}

// RequireHosted refuses a client write or change feed on a connection whose
// records the hub does not host. Errors: CodeConflict.
func RequireHosted(c *Connection) error {
	switch c.Kind {
	case KindHosted:
		return nil
	case KindFile:
		return Errorf(CodeConflict, "connection %q is a file connection: its records come from uploads, not record writes (only hosted connections take them)", c.Name)
	default:
		return Errorf(CodeConflict, "connection %q is a %s connection: the hub reads its records from that system, so they cannot be written here (only hosted connections take record writes)", c.Name, c.Kind)
	}
}

// ValidateRecordWrite checks one write to a hosted set: an external id of 1
// to MaxExternalIDLength characters and, for an upsert, fields that are an
// object of at most MaxRecordFields named values nested at most one level.
// Errors: CodeInvalid, naming the field.
func ValidateRecordWrite(w RecordWrite) error {
	p := map[string]string{}
	id := w.Record.ExternalID
	switch {
	case id == "" || !utf8.ValidString(id):
		p["external_id"] = "must be a non-empty UTF-8 string"
	case utf8.RuneCountInString(id) > MaxExternalIDLength:
		p["external_id"] = fmt.Sprintf("must be at most %d characters", MaxExternalIDLength)
	}
	switch w.Op {
	case WriteDelete:
	case WriteUpsert:
		validateFields(w.Record.Fields, p)
	default:
		p["op"] = "must be upsert or delete"
	}
	if w.IfVersion < IfExists {
		p["if_match"] = "is not an ETag this server gave out"
	}
	if len(p) > 0 {
		return Invalid("the record write is invalid", p)
	}
	return nil
}

func validateFields(f Fields, p map[string]string) {
	switch {
	case f == nil:
		p["fields"] = "is required for an upsert"
		return
	case len(f) > MaxRecordFields:
		p["fields"] = fmt.Sprintf("must have at most %d fields", MaxRecordFields)
		return
	}
	for k, v := range f {
		switch {
		case k == "" || utf8.RuneCountInString(k) > maxFieldNameLength:
			p["fields"] = fmt.Sprintf("field names must be 1 to %d characters", maxFieldNameLength)
		case depth(v) > 1:
			p["fields."+k] = "may hold a list or an object of plain values, nested no deeper"
		}
	}
}

// depth counts how deeply lists and objects nest in a JSON value.
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
