package store

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"syncd/domain"
)

// literalTable opens a fresh SQLite store with a table of every kind of
// value the bulk statements write.
func literalTable(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "literal.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.db.Exec("CREATE TABLE lit (id text PRIMARY KEY, s text, p text, b boolean, n bigint, at datetime)").Error; err != nil {
		t.Fatal(err)
	}
	return s
}

var litColumns = []column{{"id", "text"}, {"s", "text"}, {"p", "text"}, {"b", "boolean"}, {"n", "bigint"}, {"at", "timestamptz"}}

// litRow is one row of the table, as written and as read back.
type litRow struct {
	S    string
	P    *string
	B    bool
	N    int64
	At   time.Time
	Kind string // the SQLite type of s, which must be text however s looks
}

// fataler is what the checks need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// roundTrip writes rows through insertRows and through updateRows, and
// reads each back as stored.
func roundTrip(t fataler, s *Store, rows []litRow) (inserted, updated []litRow) {
	t.Helper()
	db := s.db.WithContext(context.Background())
	if err := db.Exec("DELETE FROM lit").Error; err != nil {
		t.Fatal(err)
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		values[i] = []any{strconv.Itoa(i), r.S, r.P, r.B, r.N, r.At}
	}
	if err := insertRows(db, "lit", litColumns, values); err != nil {
		t.Fatalf("insert: %v", err)
	}
	read := func() []litRow {
		out := make([]litRow, len(rows))
		for i := range rows {
			var got litRow
			err := db.Raw("SELECT s, p, b, n, at, typeof(s) AS kind FROM lit WHERE id = ?", values[i][0]).Scan(&got).Error
			if err != nil {
				t.Fatal(err)
			}
			out[i] = got
		}
		return out
	}
	inserted = read()
	// Every value is found again by an IN list of them all.
	distinct := map[string]bool{}
	var all []string
	for _, r := range rows {
		if !distinct[r.S] {
			distinct[r.S] = true
			all = append(all, r.S)
		}
	}
	var found []string
	if err := db.Raw("SELECT s FROM lit WHERE s IN ?", inList(db, all)).Scan(&found).Error; err != nil {
		t.Fatal(err)
	}
	if len(found) != len(rows) {
		t.Fatalf("an IN list of %d values found %d of %d rows", len(all), len(found), len(rows))
	}
	// Rewrite every row with its own values, through the update path.
	if err := updateRows(db, "lit", litColumns[1:], values); err != nil {
		t.Fatalf("update: %v", err)
	}
	return inserted, read()
}

func checkRoundTrip(t fataler, s *Store, rows []litRow) {
	t.Helper()
	inserted, updated := roundTrip(t, s, rows)
	for i, want := range rows {
		for step, got := range map[string]litRow{"insert": inserted[i], "update": updated[i]} {
			if got.S != want.S || (got.P == nil) != (want.P == nil) || (got.P != nil && *got.P != *want.P) ||
				got.B != want.B || got.N != want.N || !got.At.Equal(want.At) || got.Kind != "text" {
				t.Fatalf("%s of row %d: wrote %+v, read back %+v", step, i, want, got)
			}
		}
	}
}

func ptr(s string) *string { return &s }

// Values written into a VALUES list read back exactly as written, whether
// they go in as literals or bound, and an IN list of them finds them.
func TestBulkValuesReadBackAsWritten(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456000, time.UTC)
	checkRoundTrip(t, literalTable(t), []litRow{
		{S: "plain", P: ptr("x"), B: true, N: 1, At: at},
		{S: "", P: nil, B: false, N: 0, At: at},
		{S: "it's", P: ptr("''"), N: -42, At: at},
		{S: "'); DROP TABLE lit; --", P: ptr("?"), N: 1 << 62, At: at},
		{S: "a\x00b", P: ptr("\x00"), At: at},
		{S: "æøå äöüß 🚀", P: ptr("\\'\""), At: at},
		{S: "\xff\xfe not UTF-8", At: at},
		{S: "123", P: ptr("1e5"), At: at},
		{S: "NULL", P: ptr("null"), At: at},
		{S: strings.Repeat("'", 1000), At: at},
	})
}

func TestBulkValuesReadBackAsWrittenProperty(t *testing.T) {
	s := literalTable(t)
	rapid.Check(t, func(rt *rapid.T) {
		rows := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) litRow {
			r := litRow{
				S: rapid.OneOf(rapid.String(), rapid.StringOf(rapid.SampledFrom([]rune{'\'', 0, 'a', '?', '"', '\\', 'ø'})),
					rapid.StringN(0, 40, -1)).Draw(rt, "s"),
				B:  rapid.Bool().Draw(rt, "b"),
				N:  rapid.Int64().Draw(rt, "n"),
				At: time.Unix(rapid.Int64Range(0, 4e9).Draw(rt, "at"), 0).UTC(),
			}
			if rapid.Bool().Draw(rt, "p set") {
				r.P = ptr(rapid.String().Draw(rt, "p"))
			}
			return r
		}), 1, 40).Draw(rt, "rows")
		checkRoundTrip(rt, s, rows)
	})
}

// A bulk write that breaks a unique key is a conflict, as gorm's own
// statements report it, and writes nothing.
func TestBulkValuesDuplicateIsConflict(t *testing.T) {
	s := literalTable(t)
	db := s.db.WithContext(context.Background())
	row := func(id string) []any { return []any{id, "s", nil, true, int64(1), time.Now()} }
	if err := insertRows(db, "lit", litColumns, [][]any{row("a")}); err != nil {
		t.Fatal(err)
	}
	err := insertRows(db, "lit", litColumns, [][]any{row("b"), row("a")})
	if !domain.IsCode(err, domain.CodeConflict) {
		t.Fatalf("inserting a duplicate id: %v, want a conflict", err)
	}
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM lit").Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d rows (%v), want the one written before", n, err)
	}
}
