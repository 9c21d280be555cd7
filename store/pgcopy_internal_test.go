package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"syncd/domain"
)

// Rows a PostgreSQL transaction COPYs read back as the array INSERT outside
// one writes them, and a duplicate key in a COPY is a conflict that rolls
// the transaction back.
func TestCopyRowsInATransaction(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("COPY is PostgreSQL's; set TEST_DATABASE_URL")
	}
	ctx := context.Background()
	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	table := "copy_" + hex.EncodeToString(b)
	db := s.db.WithContext(ctx)
	if err := db.Exec("CREATE TABLE " + table + " (id text PRIMARY KEY, s text, p text, b boolean, n bigint, at timestamptz)").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.db.Exec("DROP TABLE " + table).Error })

	at := time.Date(2026, 3, 1, 12, 30, 0, 123456000, time.UTC)
	rows := []litRow{
		{S: "plain", P: ptr("x"), B: true, N: 1, At: at},
		{S: "", P: nil, N: 0, At: at},
		{S: "it's \\N\t\n", P: ptr("''"), N: -42, At: at},
		{S: "æøå äöüß 🚀", P: ptr("\\'\""), N: 1 << 62, At: at},
		{S: "NULL", P: ptr("null"), At: at.Add(time.Hour)},
	}
	values := func(prefix string) [][]any {
		out := make([][]any, len(rows))
		for i, r := range rows {
			out[i] = []any{prefix + strconv.Itoa(i), r.S, r.P, r.B, r.N, r.At}
		}
		return out
	}
	if err := insertRows(db, table, litColumns, values("array ")); err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if _, ok := tx.db.Statement.Context.Value(copyConnKey{}).(*sql.Conn); !ok {
			t.Fatal("the transaction carries no connection to COPY on")
		}
		return insertRows(tx.db, table, litColumns, values("copy "))
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(prefix string) []litRow {
		var out []litRow
		if err := db.Raw("SELECT s, p, b, n, at FROM "+table+" WHERE id LIKE ? ORDER BY id", prefix+"%").Scan(&out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	copied, inserted := read("copy "), read("array ")
	if len(copied) != len(rows) || len(inserted) != len(rows) {
		t.Fatalf("COPY stored %d rows, the array INSERT %d, of %d", len(copied), len(inserted), len(rows))
	}
	for i, want := range rows {
		got := copied[i]
		if got.S != want.S || (got.P == nil) != (want.P == nil) || (got.P != nil && *got.P != *want.P) ||
			got.B != want.B || got.N != want.N || !got.At.Equal(want.At) {
			t.Fatalf("row %d: wrote %+v, COPY read back %+v", i, want, got)
		}
	}

	err = s.InTx(ctx, func(tx *Store) error {
		if err := insertRows(tx.db, table, litColumns, values("new ")); err != nil {
			return err
		}
		return insertRows(tx.db, table, litColumns, values("copy "))
	})
	if domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("a duplicate key in a COPY: got %v, want a conflict", err)
	}
	if n := len(read("new ")); n != 0 {
		t.Fatalf("the failed transaction left %d rows", n)
	}
}

// A value that does not fit its column's type is an error, not a guess.
func TestCopyValueRefusesWhatDoesNotFit(t *testing.T) {
	type name string
	s := "x"
	var none *string
	for _, c := range []struct {
		kind copyKind
		v    any
		ok   bool
	}{
		{copyText, "a", true}, {copyText, name("a"), true}, {copyText, &s, true}, {copyText, none, true}, {copyText, nil, true},
		{copyInt8, int64(1), true}, {copyInt4, 7, true}, {copyInt4, int64(1) << 40, false},
		{copyBool, true, true}, {copyTimestamptz, time.Now(), true},
		{copyText, 1, false}, {copyInt8, "1", false}, {copyBool, 1, false}, {copyTimestamptz, "2026-01-01", false}, {copyText, 1.5, false},
	} {
		_, err := appendCopyValue(nil, c.kind, c.v)
		if (err == nil) != c.ok {
			t.Errorf("%T %v as %s: error %v", c.v, c.v, copyKindNames[c.kind], err)
		}
	}
}

// The typed encoders of staged rows and records write what encoding their
// values column by column writes.
func TestCopyTypedEncodersMatchTheColumns(t *testing.T) {
	optTime := func(t *rapid.T, label string) *time.Time {
		if rapid.Bool().Draw(t, label+" null") {
			return nil
		}
		v := time.UnixMicro(rapid.Int64Range(-1e15, 1e16).Draw(t, label)).UTC()
		return &v
	}
	encode := func(columns []column, row []any) []byte {
		done := false
		b, _, err := copyValues(columns, func() []any {
			if done {
				return nil
			}
			done = true
			return row
		})(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rapid.Check(t, func(t *rapid.T) {
		s := stagedRow{
			ID: rapid.String().Draw(t, "id"), ExternalID: rapid.String().Draw(t, "external id"), Fields: rapid.String().Draw(t, "fields"),
			Hash: rapid.String().Draw(t, "hash"), Active: rapid.Bool().Draw(t, "active"), Deleted: rapid.Bool().Draw(t, "deleted"),
			Kept: rapid.Bool().Draw(t, "kept"), Same: rapid.Bool().Draw(t, "same"), DeletedAt: optTime(t, "deleted at"), SourceUpdatedAt: optTime(t, "updated at"),
			RecordID: rapid.String().Draw(t, "record id"),
		}
		if got, want := s.appendCopy(nil, false), encode(stagingColumns, s.values()); !bytes.Equal(got, want) {
			t.Fatalf("staged row\n got %x\nwant %x", got, want)
		}
		if got, want := s.appendCopy(nil, true), encode(deltaColumns, s.deltaValues()); !bytes.Equal(got, want) {
			t.Fatalf("delta row\n got %x\nwant %x", got, want)
		}
		r := recordRow{
			ID: s.ID, WorkspaceID: rapid.String().Draw(t, "workspace"), ConnectionID: rapid.String().Draw(t, "connection"),
			Object: rapid.String().Draw(t, "object"), SetID: rapid.Int64().Draw(t, "set"), ExternalID: s.ExternalID,
			Fields: s.Fields, Hash: s.Hash, Active: s.Active, Deleted: s.Deleted, DeletedAt: s.DeletedAt, SourceUpdatedAt: s.SourceUpdatedAt,
			FirstSeenAt: time.UnixMicro(rapid.Int64Range(-1e15, 1e16).Draw(t, "first seen")), LastSeenAt: time.UnixMicro(rapid.Int64().Draw(t, "last seen") / 1000),
			ChangedAt: time.UnixMicro(rapid.Int64Range(0, 1e16).Draw(t, "changed")), Seq: rapid.Int64().Draw(t, "seq"),
			Origin: rapid.String().Draw(t, "origin"), Version: rapid.Int64().Draw(t, "version"),
		}
		if got, want := r.appendCopy(nil), encode(recordInsertColumns, recordInsertValues(r)); !bytes.Equal(got, want) {
			t.Fatalf("record\n got %x\nwant %x", got, want)
		}
	})
}
