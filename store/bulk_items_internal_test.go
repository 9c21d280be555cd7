package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestUpdateItemsSetsTheWindowPlaceOnlyWhereItChanged writes the three
// kinds of update of an item that kept its records, which set fewer
// columns the less changed, and reads every column back.
func TestUpdateItemsSetsTheWindowPlaceOnlyWhereItChanged(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "items.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := s.db.WithContext(ctx)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	left, right := "l", "r"
	item := func(id, category string) itemRow {
		return itemRow{ID: id, WorkspaceID: "w", SyncID: "s", Object: "o", ObjectID: 1, LeftRecordID: &left, RightRecordID: &right,
			Resolutions: "{}", Conflicts: "[]", Category: category, Shown: category != "", Status: "ok", Version: 1, UpdatedAt: at}
	}
	rows := []itemRow{item("stays", "conflict"), item("recategorised", "conflict"), item("hidden", "deleted"), item("shown again", "")}
	for i := range rows {
		l, r := left+rows[i].ID, right+rows[i].ID
		rows[i].LeftRecordID, rows[i].RightRecordID = &l, &r
	}
	if err := insertItems(db, rows); err != nil {
		t.Fatal(err)
	}
	was := map[string]string{}
	var kept []keptItem
	for _, r := range rows {
		was[r.ID] = r.Category
		r.Status, r.Version = "pending", 2
		switch r.ID {
		case "recategorised":
			r.Category = "synced"
		case "hidden":
			r.Category, r.Shown = "", false
		case "shown again":
			r.Category, r.Shown = "deleted", true
		}
		kept = append(kept, keptItem{row: r, wasCategory: was[r.ID]})
	}
	if err := updateItems(db, nil, kept); err != nil {
		t.Fatal(err)
	}
	for _, k := range kept {
		var got struct {
			Category, Status string
			Shown            bool
			Version          int64
			LeftRecordID     string
		}
		if err := db.Raw("SELECT category, status, shown, version, left_record_id FROM items WHERE id = ?", k.row.ID).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.Category != k.row.Category || got.Shown != k.row.Shown || got.Status != "pending" || got.Version != 2 || got.LeftRecordID != *k.row.LeftRecordID {
			t.Errorf("%s: read back %+v, want category %q shown %v", k.row.ID, got, k.row.Category, k.row.Shown)
		}
	}
}
