package api

import (
	"encoding/json"
	"strconv"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// windowHandlers serve the sync window: an object's items by category, and
// how many each category holds.
type windowHandlers struct {
	store Store
	cache *windowCache // nil: every read goes to the store
}

func itemOut(v *domain.ItemView) Item {
	it := v.Item
	out := Item{
		Id: it.ID, Category: ItemCategory(it.Category), Status: ItemStatus(it.Status), Error: omitEmpty(it.Error),
		Disabled: it.Disabled, Conflicts: it.Conflicts, Left: itemRecordOut(v.Left), Right: itemRecordOut(v.Right),
		Version: it.Version, UpdatedAt: it.UpdatedAt,
	}
	if out.Conflicts == nil {
		out.Conflicts = []string{}
	}
	if it.Side != "" {
		s := Side(it.Side)
		out.Side = &s
	}
	return out
}

func itemRecordOut(r *domain.Record) *ItemRecord {
	if r == nil {
		return nil
	}
	fields := json.RawMessage(r.RawFields)
	if fields == nil {
		b, err := json.Marshal(r.Fields)
		if err != nil || r.Fields == nil {
			b = []byte("{}")
		}
		fields = b
	}
	return &ItemRecord{
		Id: r.ID, ExternalId: r.ExternalID, Fields: fields, Active: r.Active, Deleted: r.Deleted,
		SourceUpdatedAt: r.SourceUpdatedAt, Version: r.Version,
	}
}

// filterOf reads the window's filter parameters, shared by the list and the
// bulk actions.
func filterOf(category *ItemCategory, side *Side, status *ItemStatus, q *string) domain.ItemFilter {
	return domain.ItemFilter{
		Category: domain.Category(orZero(category)), Side: domain.Side(orZero(side)),
		Status: domain.ItemStatus(orZero(status)), Query: orZero(q),
	}
}

// ListWindow pages through an object's window in item id order.
func (h *windowHandlers) ListWindow(c echo.Context, syncID, object string, params ListWindowParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	f := filterOf(params.Category, params.Side, params.Status, params.Q)
	return h.cachedJSON(c, func() (any, error) {
		views, err := h.store.Items(c.Request().Context(), principal(c).WorkspaceID, syncID, object, f, p)
		if err != nil {
			return nil, err
		}
		out := WindowList{Data: make([]Item, len(views))}
		for i := range views {
			out.Data[i] = itemOut(&views[i])
		}
		out.NextCursor = nextCursor(len(views), p, func() string { return views[len(views)-1].Item.ID })
		return out, nil
	}, "window", syncID, object, string(f.Category), string(f.Side), string(f.Status), f.Query, p.After, strconv.Itoa(p.Limit))
}

// GetWindowSummary counts an object's window per category.
func (h *windowHandlers) GetWindowSummary(c echo.Context, syncID, object string, _ GetWindowSummaryParams) error {
	return h.cachedJSON(c, func() (any, error) {
		s, err := h.store.Summary(c.Request().Context(), principal(c).WorkspaceID, syncID, object)
		if err != nil {
			return nil, err
		}
		return WindowSummary{
			Conflict: s.Conflict, New: SideCounts{Left: s.NewLeft, Right: s.NewRight},
			Deleted: s.Deleted, Disabled: s.Disabled, Synced: s.Synced, Inactive: s.Inactive,
		}, nil
	}, "summary", syncID, object)
}
