package store

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// The bulk paths of the reconciler, actions and the worker: INSERT and
// UPDATE statements over many rows, without gorm's reflection — one array
// per column on PostgreSQL, multi-row VALUES lists on SQLite.

// column is a column a bulk statement writes, with the PostgreSQL type of
// its array parameter's elements.
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
	cols := strings.Join(names(columns), ", ")
	if db.Dialector.Name() == DialectPostgres {
		if conn, ok := db.Statement.Context.Value(copyConnKey{}).(*sql.Conn); ok {
			return copyRows(db, conn, table, columns, rows)
		}
		return execArrays(db, fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM unnest(%s)", table, cols, arrayParams(columns, 0)), rows)
	}
	return execValues(db, rows, func(values string) string {
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, cols, values)
	})
}

// copyRows writes rows into table with COPY, on conn, the connection of
// db's transaction: PostgreSQL's bulk path, which took 0.7 of the time of
// an INSERT of unnested arrays for items (measured with 300,000 of them).
func copyRows(db *gorm.DB, conn *sql.Conn, table string, columns []column, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	i := 0
	next := func() []any {
		if i == len(rows) {
			return nil
		}
		i++
		return rows[i-1]
	}
	if err := copyFrom(db.Statement.Context, conn, table, columns, copyValues(columns, next)); err != nil {
		return execError(db, err)
	}
	return nil
}

// updateRows rewrites rows of table by id; each row is the id followed by
// the columns' values.
func updateRows(db *gorm.DB, table string, columns []column, rows [][]any) error {
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = fmt.Sprintf("%s = v.%s", c.name, c.name)
	}
	cols := "id, " + strings.Join(names(columns), ", ")
	if db.Dialector.Name() == DialectPostgres {
		return execArrays(db, fmt.Sprintf("UPDATE %s SET %s FROM unnest($1::text[], %s) AS v(%s) WHERE %s.id = v.id",
			table, strings.Join(set, ", "), arrayParams(columns, 1), cols, table), rows)
	}
	// SQLite cannot name a VALUES list's columns; a common table expression
	// can.
	return execValues(db, rows, func(values string) string {
		return fmt.Sprintf("WITH v(%s) AS (VALUES %s) UPDATE %s SET %s FROM v WHERE %s.id = v.id", cols, values, table, strings.Join(set, ", "), table)
	})
}

// unnestChunk is how many rows one PostgreSQL array statement carries.
const unnestChunk = 5000

// arrayParams is "$1::type[], $2::type[], ..." for the columns, numbered
// after skip parameters.
func arrayParams(columns []column, skip int) string {
	ps := make([]string, len(columns))
	for i, c := range columns {
		ps[i] = fmt.Sprintf("$%d::%s[]", skip+i+1, c.pgType)
	}
	return strings.Join(ps, ", ")
}

// execArrays runs sql on PostgreSQL once per chunk of rows, with one array
// argument per column: the server unnests them into rows, one small
// statement instead of one parameter per value, which it parses and binds
// much faster. It goes to the connection directly: gorm would expand a
// slice argument into a list of values.
func execArrays(db *gorm.DB, sql string, rows [][]any) error {
	for chunk := range slices.Chunk(rows, unnestChunk) {
		cols := make([]any, len(chunk[0]))
		for c := range cols {
			vals := make([]any, len(chunk))
			for i, r := range chunk {
				vals[i] = r[c]
			}
			cols[c] = vals
		}
		if _, err := db.Statement.ConnPool.ExecContext(db.Statement.Context, sql, cols...); err != nil {
			return execError(db, err)
		}
	}
	return nil
}

// execValues runs sql(values) once per chunk of rows SQLite takes well in
// one statement, values being the chunk's VALUES list. It goes to the
// connection directly, as gorm would rebuild the SQL around every value.
func execValues(db *gorm.DB, rows [][]any, sql func(values string) string) error {
	if len(rows) == 0 {
		return nil
	}
	ctx, pool := db.Statement.Context, db.Statement.ConnPool
	var values []byte // reused from chunk to chunk
	var args []any
	for chunk := range slices.Chunk(rows, rowsPerInsert(db, len(rows[0]))) {
		values, args = values[:0], args[:0]
		for i, r := range chunk {
			if i > 0 {
				values = append(values, ", "...)
			}
			values, args = appendTuple(values, r, args)
		}
		if _, err := pool.ExecContext(ctx, sql(string(values)), args...); err != nil {
			return execError(db, err)
		}
	}
	return nil
}

// execError maps the error of a statement sent past gorm as gorm maps its
// own (a unique violation is a duplicate key), then to a domain error.
func execError(db *gorm.DB, err error) error {
	if t, ok := db.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	return translate(err)
}

// appendTuple appends one row of a VALUES list, "(v, ...)", to b and the
// row's bound values to args. Text, integers, booleans and NULL are written
// as SQLite literals, which read back exactly as bound values would: the
// driver prepares every statement anew and finds each bound value by a
// linear search, which took a sixth of a bulk action's time. The rest
// (times, text holding a NUL, which would end the statement's text) is
// bound with "?".
func appendTuple(b []byte, row []any, args []any) ([]byte, []any) {
	b = append(b, '(')
	for i, v := range row {
		if i > 0 {
			b = append(b, ", "...)
		}
		var ok bool
		if b, ok = appendLiteral(b, v); !ok {
			b = append(b, '?')
			args = append(args, v)
		}
	}
	return append(b, ')'), args
}

// appendLiteral appends v as an SQLite literal when it has an exact one.
func appendLiteral(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...), true
	case *string:
		if x == nil {
			return append(b, "NULL"...), true
		}
		return appendLiteral(b, *x)
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return b, false
		}
		// Inside a quoted literal only the quote is special; it is doubled.
		b = append(b, '\'')
		for {
			i := strings.IndexByte(x, '\'')
			if i < 0 {
				break
			}
			b = append(b, x[:i+1]...)
			b = append(b, '\'')
			x = x[i+1:]
		}
		b = append(b, x...)
		return append(b, '\''), true
	case bool:
		if x {
			return append(b, '1'), true // as the driver binds true
		}
		return append(b, '0'), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	}
	return b, false
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

var itemInsertColumns = append([]column{{"id", "text"}, {"workspace_id", "text"}, {"sync_id", "text"}, {"object", "text"}, {"object_id", "bigint"}}, itemColumns...)

// insertItems writes new items.
func insertItems(db *gorm.DB, items []itemRow) error {
	rows := make([][]any, len(items))
	for i, r := range items {
		rows[i] = append([]any{r.ID, r.WorkspaceID, r.SyncID, r.Object, r.ObjectID}, itemValues(r)...)
	}
	return insertRows(db, "items", itemInsertColumns, rows)
}

// keptItem is the new row of an item that kept its records, and the
// category it had.
type keptItem struct {
	row         itemRow
	wasCategory string
}

// itemUpdate is the item columns one update statement sets, and where
// their values are in itemValues.
type itemUpdate struct {
	columns []column
	at      []int
}

// itemUpdateOf sets every item column but the skipped ones.
func itemUpdateOf(skip ...string) itemUpdate {
	var u itemUpdate
	for i, c := range itemColumns {
		if !slices.Contains(skip, c.name) {
			u.columns, u.at = append(u.columns, c), append(u.at, i)
		}
	}
	return u
}

// write updates the items' columns u sets.
func (u itemUpdate) write(db *gorm.DB, items []itemRow) error {
	rows := make([][]any, len(items))
	for i, r := range items {
		vals := itemValues(r)
		row := make([]any, 1, 1+len(u.at))
		row[0] = r.ID
		for _, j := range u.at {
			row = append(row, vals[j])
		}
		rows[i] = row
	}
	return updateRows(db, "items", u.columns, rows)
}

// SQLite rewrites an index's entry whenever a statement sets one of its
// columns, even to the value it had. Most updates (an action, a record's
// new values) keep an item's records, and many keep its place in the
// window (the category, and whether it is shown, which is whether it has a
// category), so each of those columns is set only where it changed.
var (
	relinkedUpdate = itemUpdateOf()
	shownUpdate    = itemUpdateOf("left_record_id", "right_record_id")
	categoryUpdate = itemUpdateOf("left_record_id", "right_record_id", "shown")
	keptUpdate     = itemUpdateOf("left_record_id", "right_record_id", "category", "shown")
)

// updateItems rewrites items: relinked ones (whose records changed) first
// and in their order, then those that kept their records.
func updateItems(db *gorm.DB, relinked []itemRow, kept []keptItem) error {
	if err := relinkedUpdate.write(db, relinked); err != nil {
		return err
	}
	var shown, category, same []itemRow
	for _, k := range kept {
		switch {
		case k.row.Category == k.wasCategory:
			same = append(same, k.row)
		case (k.wasCategory != "") == k.row.Shown:
			category = append(category, k.row)
		default:
			shown = append(shown, k.row)
		}
	}
	if err := shownUpdate.write(db, shown); err != nil {
		return err
	}
	if err := categoryUpdate.write(db, category); err != nil {
		return err
	}
	return keptUpdate.write(db, same)
}

var itemKeyColumns = []column{{"item_id", "text"}, {"object_id", "bigint"}, {"side", "text"}, {"key_index", "integer"}, {"value", "text"}}

// insertKeys writes match-key values of unpaired items.
func insertKeys(db *gorm.DB, keys []itemKeyRow) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.ItemID, k.ObjectID, k.Side, k.KeyIndex, k.Value}
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
	{"set_id", "bigint"}, {"external_id", "text"}, {"first_seen_at", "timestamptz"}}, recordColumns...)

// recordInsertValues are a new record's values in the order of
// recordInsertColumns.
func recordInsertValues(r recordRow) []any {
	return append([]any{r.ID, r.WorkspaceID, r.ConnectionID, r.Object, r.SetID, r.ExternalID, r.FirstSeenAt}, recordValues(r)...)
}

// appendCopy appends the record's COPY tuple in the order of
// recordInsertColumns, as copyValues would from recordInsertValues (a test
// holds the two alike) but without boxing each value.
func (r *recordRow) appendCopy(b []byte) []byte {
	b = appendCopyFields(b, 18)
	b = appendCopyText(b, r.ID)
	b = appendCopyText(b, r.WorkspaceID)
	b = appendCopyText(b, r.ConnectionID)
	b = appendCopyText(b, r.Object)
	b = appendCopyInt8(b, r.SetID)
	b = appendCopyText(b, r.ExternalID)
	b = appendCopyTime(b, r.FirstSeenAt)
	b = appendCopyText(b, r.Fields)
	b = appendCopyText(b, r.Hash)
	b = appendCopyBool(b, r.Active)
	b = appendCopyBool(b, r.Deleted)
	b = appendCopyTimeOrNull(b, r.DeletedAt)
	b = appendCopyTimeOrNull(b, r.SourceUpdatedAt)
	b = appendCopyTime(b, r.LastSeenAt)
	b = appendCopyTime(b, r.ChangedAt)
	b = appendCopyInt8(b, r.Seq)
	b = appendCopyText(b, r.Origin)
	return appendCopyInt8(b, r.Version)
}

// insertRecords writes new records of the hub's copy.
func insertRecords(db *gorm.DB, recs []recordRow) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = recordInsertValues(r)
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

// inList is values for an "IN ?" of a query, as one parameter: on
// PostgreSQL a text array the server unnests, on SQLite one JSON array that
// json_each unpacks. Either saves the driver and the parser hundreds of
// bound values, which gorm would otherwise spell out one by one. On SQLite,
// text JSON cannot carry exactly (not UTF-8, or holding a NUL) is bound as
// it is.
func inList(db *gorm.DB, values []string) any {
	if len(values) == 0 {
		return values
	}
	if db.Dialector.Name() == DialectPostgres {
		return gorm.Expr("(SELECT unnest(?::text[]))", textArray(values))
	}
	for _, v := range values {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return values
		}
	}
	b, err := json.Marshal(values)
	if err != nil {
		return values
	}
	return gorm.Expr("(SELECT value FROM json_each(?))", string(b))
}

// inLists splits values into the arguments of "IN ?" (see inList), one per
// query: on PostgreSQL as many values as a bulk statement's arrays hold, on
// SQLite few enough to bind one by one where JSON cannot carry them.
func inLists(db *gorm.DB, values []string) iter.Seq[any] {
	n := idsPerQuery
	if db.Dialector.Name() == DialectPostgres {
		n = unnestChunk
	}
	return func(yield func(any) bool) {
		for chunk := range slices.Chunk(values, n) {
			if !yield(inList(db, chunk)) {
				return
			}
		}
	}
}

// textArray is a []string bound as one PostgreSQL text[] parameter: as a
// driver.Valuer gorm passes it on whole instead of expanding it.
type textArray []string

func (a textArray) Value() (driver.Value, error) { return []string(a), nil }
