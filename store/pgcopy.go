package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// copyFrom streams rows into table's columns with COPY on conn, a
// PostgreSQL connection of database/sql. tuples appends one row at a time.
//
// The rows travel in COPY's binary format, encoded here by the columns'
// types: pgx's own CopyFrom asks the server for the columns' types first
// (a round trip per COPY) and plans every value through its type map,
// which was a quarter of the server's CPU in a first upload.
func copyFrom(ctx context.Context, conn *sql.Conn, table string, columns []column, tuples copyTuples) error {
	stmt := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(names(columns), ", ") + ") FROM STDIN (FORMAT binary)"
	r := &copyReader{tuples: tuples, buf: append(make([]byte, 0, 128<<10), copyHeader...)}
	return conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().PgConn().CopyFrom(ctx, r, stmt)
		return err
	})
}

// copyTuples appends the next row's tuple to b; ok is false after the
// last row.
type copyTuples func(b []byte) (out []byte, ok bool, err error)

// copyValues are the tuples of the rows next returns (nil after the last),
// each value encoded by its column's type.
func copyValues(columns []column, next func() []any) copyTuples {
	kinds := make([]copyKind, len(columns))
	for i, c := range columns {
		k, ok := copyKinds[c.pgType]
		if !ok {
			return func(b []byte) ([]byte, bool, error) {
				return b, false, fmt.Errorf("COPY: column %s has type %s, which has no binary encoding here", c.name, c.pgType)
			}
		}
		kinds[i] = k
	}
	return func(b []byte) ([]byte, bool, error) {
		row := next()
		if row == nil {
			return b, false, nil
		}
		if len(row) != len(kinds) {
			return b, false, fmt.Errorf("COPY: a row of %d values for %d columns", len(row), len(kinds))
		}
		b = appendCopyFields(b, len(row))
		for i, v := range row {
			var err error
			if b, err = appendCopyValue(b, kinds[i], v); err != nil {
				return b, false, fmt.Errorf("COPY: column %s: %w", columns[i].name, err)
			}
		}
		return b, true, nil
	}
}

// copyHeader opens a binary COPY: the signature, no flags, no extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyKind is how a column's values are encoded.
type copyKind uint8

const (
	copyText copyKind = iota
	copyBool
	copyInt4
	copyInt8
	copyTimestamptz
)

var copyKinds = map[string]copyKind{"text": copyText, "boolean": copyBool, "integer": copyInt4, "bigint": copyInt8, "timestamptz": copyTimestamptz}

// pgEpoch is where PostgreSQL's binary timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// copyReader encodes rows as the server reads them.
type copyReader struct {
	tuples copyTuples
	buf    []byte
	off    int
	done   bool
}

func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.buf)-r.off < len(p) && !r.done {
		var more bool
		var err error
		if r.buf, more, err = r.tuples(r.buf); err != nil {
			return 0, err
		}
		if !more {
			r.buf = append(r.buf, 0xff, 0xff) // the trailer: a tuple of -1 fields
			r.done = true
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	if r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
		if r.done {
			return n, io.EOF
		}
	}
	return n, nil
}

// The appenders of one tuple: its number of fields, then each field (its
// length, then its bytes; a length of -1 is NULL).

func appendCopyFields(b []byte, n int) []byte { return binary.BigEndian.AppendUint16(b, uint16(n)) }

func appendCopyNull(b []byte) []byte { return binary.BigEndian.AppendUint32(b, math.MaxUint32) }

func appendCopyText(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

func appendCopyBool(b []byte, v bool) []byte {
	x := byte(0)
	if v {
		x = 1
	}
	return append(binary.BigEndian.AppendUint32(b, 1), x)
}

func appendCopyInt8(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(v))
}

func appendCopyTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(t.UnixMicro()-pgEpoch))
}

// appendCopyTimeOrNull is a nullable time.
func appendCopyTimeOrNull(b []byte, t *time.Time) []byte {
	if t == nil {
		return appendCopyNull(b)
	}
	return appendCopyTime(b, *t)
}

// appendCopyValue appends one field: its length, then its bytes; a length
// of -1 is NULL.
func appendCopyValue(b []byte, k copyKind, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return appendCopyNull(b), nil
	case string:
		if k == copyText {
			return appendCopyText(b, v), nil
		}
	case bool:
		if k == copyBool {
			return appendCopyBool(b, v), nil
		}
	case int64:
		return appendCopyInt(b, k, v)
	case int:
		return appendCopyInt(b, k, int64(v))
	case int32:
		return appendCopyInt(b, k, int64(v))
	case time.Time:
		if k == copyTimestamptz {
			return appendCopyTime(b, v), nil
		}
	case driver.Valuer:
		x, err := v.Value()
		if err != nil {
			return b, err
		}
		return appendCopyValue(b, k, x)
	default:
		// Pointers (NULL when nil) and named string, bool and integer types.
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Pointer:
			if rv.IsNil() {
				return appendCopyValue(b, k, nil)
			}
			return appendCopyValue(b, k, rv.Elem().Interface())
		case reflect.String:
			return appendCopyValue(b, k, rv.String())
		case reflect.Bool:
			return appendCopyValue(b, k, rv.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return appendCopyValue(b, k, rv.Int())
		}
	}
	return b, fmt.Errorf("cannot encode a %T as %s", v, copyKindNames[k])
}

var copyKindNames = [...]string{copyText: "text", copyBool: "boolean", copyInt4: "integer", copyInt8: "bigint", copyTimestamptz: "timestamptz"}

func appendCopyInt(b []byte, k copyKind, v int64) ([]byte, error) {
	switch k {
	case copyInt8:
		return appendCopyInt8(b, v), nil
	case copyInt4:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return b, fmt.Errorf("%d does not fit an integer", v)
		}
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v))), nil
	}
	return b, fmt.Errorf("cannot encode a number as %s", copyKindNames[k])
}
