package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// auditHandlers serve the audit log: who did what to which window item.
type auditHandlers struct {
	store Store
}

func auditEntryOut(e *domain.AuditEntry) AuditEntry {
	return AuditEntry{
		Id: e.ID, SyncId: e.SyncID, Object: e.Object, ItemId: e.ItemID, Action: string(e.Action), Actor: e.Subject,
		Before: auditState(e.Before), After: auditState(e.After), CreatedAt: e.CreatedAt,
	}
}

// auditState is a snapshot of an item as the log keeps it; nil when the
// item was gone.
func auditState(v any) *map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return &m
}

// ListAudit lists the workspace's audit entries, newest first.
func (h *auditHandlers) ListAudit(c echo.Context, params ListAuditParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	f := domain.AuditFilter{SyncID: orZero(params.SyncId), ItemID: orZero(params.ItemId)}
	entries, err := h.store.AuditLog(c.Request().Context(), principal(c).WorkspaceID, f, p)
	if err != nil {
		return err
	}
	out := AuditList{Data: make([]AuditEntry, len(entries))}
	for i := range entries {
		out.Data[i] = auditEntryOut(&entries[i])
	}
	out.NextCursor = nextCursor(len(entries), p, func() string { return entries[len(entries)-1].ID })
	return c.JSON(http.StatusOK, out)
}
