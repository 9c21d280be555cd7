package store

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"syncd/domain"
)

// The bulk paths of the reconciler, actions and the worker: multi-row
// INSERT and UPDATE statements built once per chunk, without gorm's
// reflection, for batches of up to a few thousand rows.

// column is a column a bulk statement writes, with the PostgreSQL type its
// values are cast to in an UPDATE's VALUES list.
type column struct{ name, pgType string }

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// insertRows writes rows into table.
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

// updateRows rewrites rows of table by id, one UPDATE joined to a VALUES
// list per chunk; each row is the id followed by the columns' values.
// PostgreSQL takes the column types from casts in the first row; SQLite
// from a common table expression, as it cannot name a VALUES list's columns.
func updateRows(db *gorm.DB, table string, columns []column, rows [][]any) error {
	per := rowsPerInsert(db, len(columns)+1)
	pg := db.Dialector.Name() == DialectPostgres
	casts := make([]string, len(columns))
	set := make([]string, len(columns))
	for i, c := range columns {
		casts[i] = "?::" + c.pgType
		set[i] = fmt.Sprintf("%s = v.%s", c.name, c.name)
	}
	first := "(?::text, " + strings.Join(casts, ", ") + ")"
	other := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)+1), ", ") + ")"
	cols := "id, " + strings.Join(names(columns), ", ")
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var values strings.Builder
		args := make([]any, 0, len(chunk)*(len(columns)+1))
		for i, r := range chunk {
			switch {
			case i > 0:
				values.WriteString(", " + other)
			case pg:
				values.WriteString(first)
			default:
				values.WriteString(other)
			}
			args = append(args, r...)
		}
		var sql string
		if pg {
			sql = fmt.Sprintf("UPDATE %s SET %s FROM (VALUES %s) AS v(%s) WHERE %s.id = v.id", table, strings.Join(set, ", "), values.String(), cols, table)
		} else {
			sql = fmt.Sprintf("WITH v(%s) AS (VALUES %s) UPDATE %s SET %s FROM v WHERE %s.id = v.id", cols, values.String(), table, strings.Join(set, ", "), table)
		}
		if err := db.Exec(sql, args...).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

// itemColumns are the columns a reconcile or an action rewrites.
var itemColumns = []column{{"left_record_id", "text"}, {"right_record_id", "text"}, {"side", "text"}, {"base", "text"},
	{"resolutions", "text"}, {"disabled", "boolean"}, {"no_auto_pair", "boolean"}, {"category", "text"}, {"shown", "boolean"},
	{"status", "text"}, {"error", "text"}, {"conflicts", "text"}, {"search", "text"}, {"version", "bigint"}, {"updated_at", "timestamptz"}}

func itemValues(r itemRow) []any {
	return []any{r.LeftRecordID, r.RightRecordID, r.Side, r.Base, r.Resolutions, r.Disabled, r.NoAutoPair,
		r.Category, r.Shown, r.Status, r.Error, r.Conflicts, r.Search, r.Version, r.UpdatedAt}
}

var itemInsertColumns = append([]string{"id", "workspace_id", "sync_id", "object"}, names(itemColumns)...)

// insertItems writes new items.
func insertItems(db *gorm.DB, items []itemRow) error {
	rows := make([][]any, len(items))
	for i, r := range items {
		rows[i] = append([]any{r.ID, r.WorkspaceID, r.SyncID, r.Object}, itemValues(r)...)
	}
	return insertRows(db, "items", itemInsertColumns, rows)
}

// updateItems rewrites items.
func updateItems(db *gorm.DB, items []itemRow) error {
	rows := make([][]any, len(items))
	for i, r := range items {
		rows[i] = append([]any{r.ID}, itemValues(r)...)
	}
	return updateRows(db, "items", itemColumns, rows)
}

// insertKeys writes match-key values of unpaired items.
func insertKeys(db *gorm.DB, keys []itemKeyRow) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.ItemID, k.SyncID, k.Object, k.Side, k.KeyIndex, k.Value}
	}
	return insertRows(db, "item_keys", []string{"item_id", "sync_id", "object", "side", "key_index", "value"}, rows)
}

// recordColumns are the columns a write to the hub's copy rewrites.
var recordColumns = []column{{"fields", "text"}, {"hash", "text"}, {"active", "boolean"}, {"deleted", "boolean"},
	{"deleted_at", "timestamptz"}, {"source_updated_at", "timestamptz"}, {"last_seen_at", "timestamptz"},
	{"changed_at", "timestamptz"}, {"seq", "bigint"}, {"origin", "text"}, {"version", "bigint"}}

func recordValues(r recordRow) []any {
	return []any{r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt, r.LastSeenAt, r.ChangedAt, r.Seq, r.Origin, r.Version}
}

var recordInsertColumns = append([]string{"id", "workspace_id", "connection_id", "object", "external_id", "first_seen_at"}, names(recordColumns)...)

// insertRecords writes new records of the hub's copy.
func insertRecords(db *gorm.DB, recs []recordRow) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = append([]any{r.ID, r.WorkspaceID, r.ConnectionID, r.Object, r.ExternalID, r.FirstSeenAt}, recordValues(r)...)
	}
	return insertRows(db, "records", recordInsertColumns, rows)
}

// updateRecords rewrites records of the hub's copy.
func updateRecords(db *gorm.DB, recs []recordRow) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = append([]any{r.ID}, recordValues(r)...)
	}
	return updateRows(db, "records", recordColumns, rows)
}

// recordsByExternalID loads a set's records by their external ids.
func recordsByExternalID(db *gorm.DB, set domain.RecordSet, ids []string) (map[string]*domain.Record, error) {
	out := map[string]*domain.Record{}
	for start := 0; start < len(ids); start += 900 {
		var rows []recordRow
		chunk := ids[start:min(start+900, len(ids))]
		err := db.Where("workspace_id = ? AND connection_id = ? AND object = ? AND external_id IN ?", set.WorkspaceID, set.ConnectionID, set.Object, chunk).Find(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			rec, err := r.domain(nil)
			if err != nil {
				return nil, err
			}
			out[r.ExternalID] = &rec
		}
	}
	return out, nil
}
