package store

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// itemColumns are the columns a reconcile or an action rewrites.
var itemColumns = []string{"left_record_id", "right_record_id", "side", "base", "resolutions", "disabled", "no_auto_pair",
	"category", "shown", "status", "error", "conflicts", "search", "version", "updated_at"}

// updateItems rewrites items in multi-row statements: one UPDATE joined to
// a VALUES list per chunk instead of one statement per item. PostgreSQL
// takes the column types from casts in the first row; SQLite from a
// common table expression, as it cannot name a VALUES list's columns.
func updateItems(db *gorm.DB, rows []itemRow) error {
	per := rowsPerInsert(db, len(itemColumns)+1)
	for start := 0; start < len(rows); start += per {
		if err := updateChunk(db, rows[start:min(start+per, len(rows))]); err != nil {
			return err
		}
	}
	return nil
}

func updateChunk(db *gorm.DB, rows []itemRow) error {
	if len(rows) == 0 {
		return nil
	}
	pg := db.Dialector.Name() == DialectPostgres
	first := "(?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::boolean, ?::boolean, ?::text, ?::boolean, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::timestamptz)"
	other := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(itemColumns)+1), ", ") + ")"
	var values strings.Builder
	args := make([]any, 0, len(rows)*(len(itemColumns)+1))
	for i, r := range rows {
		switch {
		case i > 0:
			values.WriteString(", " + other)
		case pg:
			values.WriteString(first)
		default:
			values.WriteString(other)
		}
		args = append(args, r.ID, r.LeftRecordID, r.RightRecordID, r.Side, r.Base, r.Resolutions, r.Disabled, r.NoAutoPair,
			r.Category, r.Shown, r.Status, r.Error, r.Conflicts, r.Search, r.Version, r.UpdatedAt)
	}
	set := make([]string, len(itemColumns))
	for i, c := range itemColumns {
		set[i] = fmt.Sprintf("%s = v.%s", c, c)
	}
	cols := "id, " + strings.Join(itemColumns, ", ")
	var sql string
	if pg {
		sql = fmt.Sprintf("UPDATE items SET %s FROM (VALUES %s) AS v(%s) WHERE items.id = v.id", strings.Join(set, ", "), values.String(), cols)
	} else {
		sql = fmt.Sprintf("WITH v(%s) AS (VALUES %s) UPDATE items SET %s FROM v WHERE items.id = v.id", cols, values.String(), strings.Join(set, ", "))
	}
	return translate(db.Exec(sql, args...).Error)
}
