package store

import (
	"strings"

	"gorm.io/gorm"
)

// insertRows writes rows into table with multi-row INSERT statements built
// once per chunk, without gorm's reflection: the bulk path of the
// reconciler, which creates up to a few thousand rows per batch.
func insertRows(db *gorm.DB, table string, columns []string, rows [][]any) error {
	per := rowsPerInsert(db, len(columns))
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var sql strings.Builder
		sql.WriteString(head)
		args := make([]any, 0, len(chunk)*len(columns))
		for i, r := range chunk {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString(tuple)
			args = append(args, r...)
		}
		if err := db.Exec(sql.String(), args...).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

var itemInsertColumns = append([]string{"id", "workspace_id", "sync_id", "object"}, itemColumns...)

// insertItems writes new items.
func insertItems(db *gorm.DB, items []itemRow) error {
	rows := make([][]any, len(items))
	for i, r := range items {
		rows[i] = []any{r.ID, r.WorkspaceID, r.SyncID, r.Object, r.LeftRecordID, r.RightRecordID, r.Side, r.Base, r.Resolutions,
			r.Disabled, r.NoAutoPair, r.Category, r.Shown, r.Status, r.Error, r.Conflicts, r.Search, r.Version, r.UpdatedAt}
	}
	return insertRows(db, "items", itemInsertColumns, rows)
}

// insertKeys writes match-key values of unpaired items.
func insertKeys(db *gorm.DB, keys []itemKeyRow) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.ItemID, k.SyncID, k.Object, k.Side, k.KeyIndex, k.Value}
	}
	return insertRows(db, "item_keys", []string{"item_id", "sync_id", "object", "side", "key_index", "value"}, rows)
}
