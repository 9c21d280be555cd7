package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Side names one of a sync's two connections.
type Side string

// The two sides of every sync.
const (
	SideLeft  Side = "left"
	SideRight Side = "right"
)

// Other returns the opposite side, or "" for a value that is no side.
func (s Side) Other() Side {
	switch s {
	case SideLeft:
		return SideRight
	case SideRight:
		return SideLeft
	}
	return ""
}

// bySide picks the left or the right of two values. Sides are passed around
// as values, so the many Left/Right pairs in this package all read through it.
func bySide[T any](s Side, left, right T) T {
	if s == SideRight {
		return right
	}
	return left
}

// ConflictMode says whether conflicts wait for a person or a policy settles them.
type ConflictMode string

// Conflict modes.
const (
	ConflictManual ConflictMode = "manual"
	ConflictAuto   ConflictMode = "auto"
)

// Winner is the side an automatic conflict policy prefers.
type Winner string

// Winners: a fixed side, or the side whose source reports the later updated-at.
const (
	WinnerLeft   Winner = "left"
	WinnerRight  Winner = "right"
	WinnerNewest Winner = "newest"
)

// ConflictPolicy decides what happens when a field changed on both sides.
type ConflictPolicy struct {
	Mode   ConflictMode
	Winner Winner // used only in ConflictAuto
}

// DeletePolicy says what a deletion on one side of a link does to the other.
type DeletePolicy string

// Delete policies: wait in the deleted category, or delete the other side too.
const (
	DeleteManual    DeletePolicy = "manual"
	DeletePropagate DeletePolicy = "propagate"
)

// OnError says whether a run stops at its first failure.
type OnError string

// On-error behaviours; abort is the default.
const (
	OnErrorAbort    OnError = "abort"
	OnErrorContinue OnError = "continue"
)

// Schedule says when a sync runs by itself: every interval, or by a cron
// expression in a time zone.
type Schedule struct {
	Every    string // a Go duration such as "15m"
	Cron     string
	Timezone string
	Enabled  bool
}

// minEvery keeps schedules from hammering remote systems.
const minEvery = time.Minute

// Sync pairs a left and a right connection with the settings that govern
// how their records are reconciled.
type Sync struct {
	ID                string
	WorkspaceID       string
	Name              string
	LeftConnectionID  string
	RightConnectionID string
	ConflictPolicy    ConflictPolicy
	DeletePolicy      DeletePolicy
	OnError           OnError
	Schedule          Schedule
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Version increases with every change; it is the sync's ETag.
	Version int64
}

// WithDefaults fills the settings a client may leave out: manual conflicts,
// manual deletes, abort on error.
func (s Sync) WithDefaults() Sync {
	s.ConflictPolicy.Mode = orDefault(s.ConflictPolicy.Mode, ConflictManual)
	s.DeletePolicy = orDefault(s.DeletePolicy, DeleteManual)
	s.OnError = orDefault(s.OnError, OnErrorAbort)
	return s
}

// Validate checks the sync and, when given, the objects it is created with.
// It returns a CodeInvalid error whose Fields are keyed by wire paths such as
// "conflict_policy.winner" or "objects[0].fields[1].type". Cron expressions
// and time zones are checked by the scheduler, which owns their parsers.
func (s Sync) Validate(objects ...Object) error {
	p := problems{}
	p.required("name", s.Name)
	p.required("left_connection_id", s.LeftConnectionID)
	p.required("right_connection_id", s.RightConnectionID)
	checkEnum(p, "conflict_policy.mode", s.ConflictPolicy.Mode, ConflictManual, ConflictAuto)
	// A manual policy may keep a winner for later; an automatic one needs it.
	if s.ConflictPolicy.Mode == ConflictAuto || s.ConflictPolicy.Winner != "" {
		checkEnum(p, "conflict_policy.winner", s.ConflictPolicy.Winner, WinnerLeft, WinnerRight, WinnerNewest)
	}
	checkEnum(p, "delete_policy", s.DeletePolicy, DeleteManual, DeletePropagate)
	checkEnum(p, "on_error", s.OnError, OnErrorAbort, OnErrorContinue)
	s.Schedule.problems(p)
	seen := map[string]bool{}
	for i, o := range objects {
		prefix := fmt.Sprintf("objects[%d].", i)
		if seen[o.Name] {
			p.add(prefix+"name", fmt.Sprintf("duplicate object %q", o.Name))
		}
		seen[o.Name] = true
		o.problems(p, prefix)
	}
	return p.err("the sync is invalid")
}

func (sc Schedule) problems(p problems) {
	switch {
	case sc.Every != "" && sc.Cron != "":
		p.add("schedule", "give every or cron, not both")
	case sc.Enabled && sc.Every == "" && sc.Cron == "":
		p.add("schedule", "an enabled schedule needs every or cron")
	}
	if sc.Every != "" {
		if d, err := time.ParseDuration(sc.Every); err != nil || d < minEvery {
			p.add("schedule.every", fmt.Sprintf("must be a duration of at least %s, like 15m", minEvery))
		}
	}
}

// problems collects per-field validation messages, keeping the first per path.
type problems map[string]string

func (p problems) add(path, msg string) {
	if _, ok := p[path]; !ok {
		p[path] = msg
	}
}

func (p problems) required(path, v string) {
	if strings.TrimSpace(v) == "" {
		p.add(path, "is required")
	}
}

// err returns nil, not a typed nil *Error, when nothing was found.
func (p problems) err(msg string) error {
	if len(p) == 0 {
		return nil
	}
	return Invalid(msg, p)
}

func checkEnum[T ~string](p problems, path string, v T, allowed ...T) {
	if slices.Contains(allowed, v) {
		return
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	p.add(path, "must be one of "+strings.Join(names, ", "))
}

func orDefault[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// SyncPatch holds the changes of a sync update; nil fields stay.
type SyncPatch struct {
	Name           *string
	ConflictPolicy *ConflictPolicy
	DeletePolicy   *DeletePolicy
	OnError        *OnError
	Schedule       *Schedule
}

// Apply returns s with the patch applied.
func (p SyncPatch) Apply(s Sync) Sync {
	if p.Name != nil {
		s.Name = *p.Name
	}
	if p.ConflictPolicy != nil {
		s.ConflictPolicy = *p.ConflictPolicy
	}
	if p.DeletePolicy != nil {
		s.DeletePolicy = *p.DeletePolicy
	}
	if p.OnError != nil {
		s.OnError = *p.OnError
	}
	if p.Schedule != nil {
		s.Schedule = *p.Schedule
	}
	return s
}

// SyncStore persists syncs and their objects.
type SyncStore interface {
	// CreateSync stores a sync with its objects. Errors: CodeInvalid when a
	// connection is not the workspace's.
	CreateSync(ctx context.Context, s *Sync, objects []Object) error
	// Sync finds a sync with its objects. Errors: CodeNotFound.
	Sync(ctx context.Context, workspaceID, id string) (*Sync, []Object, error)
	// Syncs lists the workspace's syncs after the cursor.
	Syncs(ctx context.Context, workspaceID string, page Page) ([]Sync, error)
	// UpdateSync applies p when the version is ifVersion (0 = any).
	// Errors: CodeNotFound, CodeStale, CodeInvalid.
	UpdateSync(ctx context.Context, workspaceID, id string, p SyncPatch, ifVersion int64, now time.Time) (*Sync, error)
	// DeleteSync removes a sync with its items and operations. Errors: CodeNotFound.
	DeleteSync(ctx context.Context, workspaceID, id string) error
	// PutObject creates or replaces one object of a sync; a replaced object's
	// items are all reconciled again under the new mapping. Errors: CodeNotFound.
	PutObject(ctx context.Context, workspaceID string, o Object) (*Object, error)
}
