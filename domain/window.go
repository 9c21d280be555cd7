package domain

import (
	"context"
	"time"
)

// ItemView is an item with the records the window shows beside it.
type ItemView struct {
	Item        Item
	Left, Right *Record
}

// ItemFilter selects rows of the window.
type ItemFilter struct {
	Category Category
	Side     Side
	Status   ItemStatus
	Query    string // matched against ids, match keys and display values
}

// Summary counts an object's window per category; new is split by side.
type Summary struct {
	Conflict, Deleted, Disabled, Synced, Inactive int64
	NewLeft, NewRight                             int64
}

// Add counts n items of a category; side tells new items apart.
func (s *Summary) Add(c Category, side Side, n int64) {
	switch c {
	case CategoryConflict:
		s.Conflict += n
	case CategoryDeleted:
		s.Deleted += n
	case CategoryDisabled:
		s.Disabled += n
	case CategorySynced:
		s.Synced += n
	case CategoryInactive:
		s.Inactive += n
	case CategoryNew:
		if side == SideLeft {
			s.NewLeft += n
		} else {
			s.NewRight += n
		}
	}
}

// ItemStore reads the sync window. Reading never recomputes anything: items
// are kept current as records change.
type ItemStore interface {
	// Items lists a window page in id order after the cursor. Its records
	// carry RawFields, not Fields.
	// Errors: CodeNotFound when the sync or object is not the workspace's.
	Items(ctx context.Context, workspaceID, syncID, object string, f ItemFilter, page Page) ([]ItemView, error)
	// Item finds one item with its records. Errors: CodeNotFound.
	Item(ctx context.Context, workspaceID, syncID, object, id string) (*ItemView, error)
	// ItemIDs lists the ids a filter matches, in id order, at most limit.
	// Errors: CodeNotFound.
	ItemIDs(ctx context.Context, workspaceID, syncID, object string, f ItemFilter, limit int) ([]string, error)
	// Summary counts the window. Errors: CodeNotFound.
	Summary(ctx context.Context, workspaceID, syncID, object string) (Summary, error)
	// WindowVersion numbers the changes to a workspace's window: its items,
	// their records, its syncs and objects. What was read after taking the
	// number holds while the number stays. ok is false while changes could
	// go unnoticed (then nothing read may be kept).
	WindowVersion(workspaceID string) (version uint64, ok bool)
}

// AuditEntry records one action a person or client took on an item.
type AuditEntry struct {
	ID          string
	WorkspaceID string
	SyncID      string
	Object      string
	ItemID      string
	Action      Action
	Subject     string // Principal.Subject of who did it
	Before      any    // the item's state before, as shown by the API
	After       any
	CreatedAt   time.Time
}

// ActionRequest is one action on items, with what the action needs.
type ActionRequest struct {
	Action        Action
	PartnerItemID string         // pair: the unpaired item on the other side
	Resolve       ResolveRequest // resolve
	Subject       string         // who acts, for the audit log
	Now           time.Time
}

// ActionResult is the outcome of an action on one item: the item as it is
// now, or the error (CodeConflict, CodeStale, CodeNotFound, CodeInvalid).
type ActionResult struct {
	ItemID string
	View   *ItemView
	Err    error
}

// Suggestion is a candidate partner for an unpaired item and the match key
// (an index into Object.MatchKeys) that matched.
type Suggestion struct {
	View ItemView
	Key  int
}

// ActionStore carries out window actions.
type ActionStore interface {
	// Act applies req to each item (a few thousand per transaction),
	// re-reconciles what changed, plans writes and records the audit log.
	// ifVersion (0 = any) guards a single item: stale → CodeStale and nothing
	// changes. Errors: CodeNotFound for the object; per item in the results,
	// including a transaction's failure, which fails just its items.
	Act(ctx context.Context, workspaceID, syncID, object string, itemIDs []string, req ActionRequest, ifVersion int64) ([]ActionResult, error)
	// Suggestions lists every unpaired item on the other side sharing a match
	// key with the item. Errors: CodeNotFound.
	Suggestions(ctx context.Context, workspaceID, syncID, object, itemID string) ([]Suggestion, error)
	// AutoPair pairs every unambiguous match-key pair of the object and
	// returns how many pairs it made. Errors: CodeNotFound.
	AutoPair(ctx context.Context, workspaceID, syncID, object, subject string, now time.Time) (int, error)
}

// AuditFilter narrows the audit log to a sync or an item.
type AuditFilter struct {
	SyncID string
	ItemID string
}

// AuditStore reads the audit log.
type AuditStore interface {
	// AuditLog lists entries newest first after the cursor.
	AuditLog(ctx context.Context, workspaceID string, f AuditFilter, page Page) ([]AuditEntry, error)
}

// ObjectRef names one object of one sync.
type ObjectRef struct {
	WorkspaceID, SyncID, Object string
}
