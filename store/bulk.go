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
func insertRows(db *gorm.DB, table string, columns []column, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.Dialector.Name() == DialectPostgres {
		return insertUnnest(db, table, columns, rows)
	}
	per := rowsPerInsert(db, len(columns))
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(names(columns), ", ") + ") VALUES "
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

// unnestChunk is how many rows one PostgreSQL array statement carries.
const unnestChunk = 5000

// insertUnnest writes rows on PostgreSQL as one array per column, unnested
// into rows by the server: one small statement per chunk instead of one
// parameter per value, which PostgreSQL parses and binds much faster.
func insertUnnest(db *gorm.DB, table string, columns []column, rows [][]any) error {
	sql := fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s)", table, strings.Join(names(columns), ", "), arrayParams(columns, 0))
	for start := 0; start < len(rows); start += unnestChunk {
		if err := execArrays(db, sql, len(columns), rows[start:min(start+unnestChunk, len(rows))]); err != nil {
			return err
		}
	}
	return nil
}

// arrayParams is "$1::type[], $2::type[], ..." for the columns, numbered
// after skip parameters.
func arrayParams(columns []column, skip int) string {
	ps := make([]string, len(columns))
	for i, c := range columns {
		ps[i] = fmt.Sprintf("$%d::%s[]", skip+i+1, c.pgType)
	}
	return strings.Join(ps, ", ")
}

// execArrays runs sql with one array argument per column of rows. It goes
// to the connection directly: gorm would expand a slice argument into a
// list of values.
func execArrays(db *gorm.DB, sql string, width int, rows [][]any) error {
	cols := make([]any, width)
	for c := range width {
		vals := make([]any, len(rows))
		for i, r := range rows {
			vals[i] = r[c]
		}
		cols[c] = vals
	}
	_, err := db.Statement.ConnPool.ExecContext(db.Statement.Context, sql, cols...)
	return translate(err)
}

// updateRows rewrites rows of table by id; each row is the id followed by
// the columns' values.
func updateRows(db *gorm.DB, table string, columns []column, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = fmt.Sprintf("%s = v.%s", c.name, c.name)
	}
	cols := "id, " + strings.Join(names(columns), ", ")
	if db.Dialector.Name() == DialectPostgres {
		sql := fmt.Sprintf("UPDATE %s SET %s FROM unnest($1::text[], %s) AS v(%s) WHERE %s.id = v.id",
			table, strings.Join(set, ", "), arrayParams(columns, 1), cols, table)
		for start := 0; start < len(rows); start += unnestChunk {
			if err := execArrays(db, sql, len(columns)+1, rows[start:min(start+unnestChunk, len(rows))]); err != nil {
				return err
			}
		}
		return nil
	}
	// SQLite cannot name a VALUES list's columns; a common table expression
	// can.
	per := rowsPerInsert(db, len(columns)+1)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)+1), ", ") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var values strings.Builder
		args := make([]any, 0, len(chunk)*(len(columns)+1))
		for i, r := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString(tuple)
			args = append(args, r...)
		}
		sql := fmt.Sprintf("WITH v(%s) AS (VALUES %s) UPDATE %s SET %s FROM v WHERE %s.id = v.id", cols, values.String(), table, strings.Join(set, ", "), table)
		if err := db.Exec(sql, args...).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

// itemColumns are the columns a reconcile or an action rewrites.
var itemColumns = []column{{"left_record_id", "text"}, {"right_record_id", "text"}, {"side", "text"}, {"base", "text"},
	{"resolutions", "text"}, {"disabled", "boolean"}, {"no_auto_pair", "boolean"}, {"category", "text"}, {"shown", "boolean"},
	{"status", "text"}, {"error", "text"}, {"conflicts", "text"}, {"search", "text"}, {"left_active", "boolean"}, {"right_active", "boolean"},
	{"version", "bigint"}, {"updated_at", "timestamptz"}}

func itemValues(r itemRow) []any {
	return []any{r.LeftRecordID, r.RightRecordID, r.Side, r.Base, r.Resolutions, r.Disabled, r.NoAutoPair,
		r.Category, r.Shown, r.Status, r.Error, r.Conflicts, r.Search, r.LeftActive, r.RightActive, r.Version, r.UpdatedAt}
}

var itemInsertColumns = append([]column{{"id", "text"}, {"workspace_id", "text"}, {"sync_id", "text"}, {"object", "text"}}, itemColumns...)

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

var itemKeyColumns = []column{{"item_id", "text"}, {"sync_id", "text"}, {"object", "text"}, {"side", "text"}, {"key_index", "integer"}, {"value", "text"}}

// insertKeys writes match-key values of unpaired items.
func insertKeys(db *gorm.DB, keys []itemKeyRow) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.ItemID, k.SyncID, k.Object, k.Side, k.KeyIndex, k.Value}
	}
	return insertRows(db, "item_keys", itemKeyColumns, rows)
}

// recordColumns are the columns a write to the hub's copy rewrites.
var recordColumns = []column{{"fields", "text"}, {"hash", "text"}, {"active", "boolean"}, {"deleted", "boolean"},
	{"deleted_at", "timestamptz"}, {"source_updated_at", "timestamptz"}, {"last_seen_at", "timestamptz"},
	{"changed_at", "timestamptz"}, {"seq", "bigint"}, {"origin", "text"}, {"version", "bigint"}}

func recordValues(r recordRow) []any {
	return []any{r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt, r.LastSeenAt, r.ChangedAt, r.Seq, r.Origin, r.Version}
}

var recordInsertColumns = append([]column{{"id", "text"}, {"workspace_id", "text"}, {"connection_id", "text"}, {"object", "text"},
	{"external_id", "text"}, {"first_seen_at", "timestamptz"}}, recordColumns...)

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
