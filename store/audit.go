package store

import (
	"context"
	"encoding/json"

	"syncd/domain"
)

// AuditLog lists the workspace's audit entries, newest first, optionally for
// one item, keyset paged by id (ids are time-ordered).
func (s *Store) AuditLog(ctx context.Context, workspaceID string, f domain.AuditFilter, p domain.Page) ([]domain.AuditEntry, error) {
	p = p.Normalized()
	q := s.db.WithContext(ctx).Where("workspace_id = ?", workspaceID)
	if f.SyncID != "" {
		q = q.Where("sync_id = ?", f.SyncID)
	}
	if f.ItemID != "" {
		q = q.Where("item_id = ?", f.ItemID)
	}
	if p.After != "" {
		q = q.Where("id < ?", p.After)
	}
	var rows []auditRow
	if err := q.Order("id DESC").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = domain.AuditEntry{
			ID: r.ID, WorkspaceID: r.WorkspaceID, SyncID: r.SyncID, Object: r.Object, ItemID: r.ItemID,
			Action: domain.Action(r.Action), Subject: r.Subject, CreatedAt: r.CreatedAt.UTC(),
		}
		_ = json.Unmarshal([]byte(r.Before), &out[i].Before)
		_ = json.Unmarshal([]byte(r.After), &out[i].After)
		restoreRecords(out[i].Before, out[i].After)
	}
	return out, nil
}

// restoreRecords gives an after's records kept without their fields (see
// recordSnapshot) the fields of the same record in the before.
func restoreRecords(before, after any) {
	b, _ := before.(map[string]any)
	a, _ := after.(map[string]any)
	if a == nil || b == nil {
		return
	}
	for _, side := range []string{"left", "right"} {
		ar, _ := a[side].(map[string]any)
		br, _ := b[side].(map[string]any)
		if ar == nil || br == nil || ar["fields"] != nil || ar["external_id"] != br["external_id"] {
			continue
		}
		ar["fields"] = br["fields"]
	}
}
