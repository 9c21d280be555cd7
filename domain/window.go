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

// ItemStore reads the sync window. Reading never recomputes anything: items
// are kept current as records change.
type ItemStore interface {
	// Items lists a window page in id order after the cursor.
	// Errors: CodeNotFound when the sync or object is not the workspace's.
	Items(ctx context.Context, workspaceID, syncID, object string, f ItemFilter, page Page) ([]ItemView, error)
	// Item finds one item with its records. Errors: CodeNotFound.
	Item(ctx context.Context, workspaceID, syncID, object, id string) (*ItemView, error)
	// Summary counts the window. Errors: CodeNotFound.
	Summary(ctx context.Context, workspaceID, syncID, object string) (Summary, error)
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
