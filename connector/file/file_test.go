package file

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"syncd/domain"
)

// got is what one Read produced.
type got struct {
	det  Detected
	rows []gotRow
	errs []RowError
	err  error
}

type gotRow struct {
	row int
	rec domain.Record
}

// read runs Read over data and collects everything it produced.
func read(t testing.TB, data []byte, opts Options, m Mapping) got {
	t.Helper()
	var g got
	g.det, g.errs, g.err = Read(context.Background(), bytes.NewReader(data), opts, m, func(row int, rec domain.Record) error {
		g.rows = append(g.rows, gotRow{row, rec})
		return nil
	})
	return g
}

// ids lists the external ids of the rows, in order.
func (g got) ids() []string {
	var ids []string
	for _, r := range g.rows {
		ids = append(ids, r.rec.ExternalID)
	}
	return ids
}

// rowNumbers lists the row numbers handed to fn.
func (g got) rowNumbers() []int {
	var n []int
	for _, r := range g.rows {
		n = append(n, r.row)
	}
	return n
}

// requireCode asserts err is a *domain.Error with code and returns it.
func requireCode(t testing.TB, err error, code domain.Code) *domain.Error {
	t.Helper()
	var de *domain.Error
	require.True(t, errors.As(err, &de), "want *domain.Error %s, got %v", code, err)
	require.Equal(t, code, de.Code, "message: %s", de.Message)
	return de
}

// cp1252 encodes s as Windows-1252.
func cp1252(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

// latin9 encodes s as ISO-8859-15.
func latin9(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.ISO8859_15.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

// utf16 encodes s as UTF-16, with or without a byte-order mark.
func utf16(t testing.TB, s string, e unicode.Endianness, bom bool) []byte {
	t.Helper()
	policy := unicode.IgnoreBOM
	if bom {
		policy = unicode.UseBOM
	}
	b, err := unicode.UTF16(e, policy).NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		forced   Format
		filename string
		want     Format
	}{
		{"zip_magic_is_xlsx", "PK\x03\x04rest", "", "data.csv", FormatXLSX},
		{"array_is_json", "  [{\"id\":1}]", "", "", FormatJSON},
		{"object_is_json", "\ufeff{\"id\":1}\n", "", "", FormatJSON},
		{"utf16_object_is_json", "\xff\xfe{\x00", "", "", FormatJSON},
		{"text_is_csv", "id;name\n", "", "", FormatCSV},
		{"csv_extension_breaks_tie", "[id];name\n", "", "export.CSV", FormatCSV},
		{"json_extension_breaks_tie", "id\n", "", "x.ndjson", FormatJSON},
		{"forced_format_wins", "[1]", FormatCSV, "", FormatCSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := detectFormat([]byte(tt.prefix), tt.forced, tt.filename)
			require.NoError(t, err)
			require.Equal(t, tt.want, f)
		})
	}
	t.Run("old_xls_is_refused", func(t *testing.T) {
		_, err := detectFormat([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), "", "old.xls")
		de := requireCode(t, err, domain.CodeInvalid)
		require.Contains(t, de.Message, ".xls")
	})
}

func TestReadStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	calls := 0
	_, _, err := Read(context.Background(), bytes.NewReader([]byte("id\n1\n2\n3\n")), Options{}, Mapping{IDColumn: "id"},
		func(int, domain.Record) error {
			calls++
			return stop
		})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

func TestReadHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var data bytes.Buffer
	data.WriteString("id\n")
	for i := range 5000 {
		data.WriteString(strconv.Itoa(i) + "\n")
	}
	_, _, err := Read(ctx, &data, Options{}, Mapping{IDColumn: "id"}, func(row int, _ domain.Record) error {
		if row == 10 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestReadRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		m     Mapping
		field string
	}{
		{"no_id_column", Options{}, Mapping{}, "id_column"},
		{"active_is_id", Options{}, Mapping{IDColumn: "id", ActiveColumn: "ID"}, "active_column"},
		{"unknown_encoding", Options{Encoding: "ebcdic"}, Mapping{IDColumn: "id"}, "encoding"},
		{"unknown_format", Options{Format: "xml"}, Mapping{IDColumn: "id"}, "format"},
		{"quote_delimiter", Options{Delimiter: '"'}, Mapping{IDColumn: "id"}, "delimiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := read(t, []byte("id\n1\n"), tt.opts, tt.m)
			de := requireCode(t, g.err, domain.CodeInvalid)
			require.Contains(t, de.Fields, tt.field)
		})
	}
}
