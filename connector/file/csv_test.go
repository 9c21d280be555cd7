package file

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"
	"pgregory.net/rapid"

	"syncd/domain"
)

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		opts      Options
		m         Mapping
		encoding  string
		delimiter string
		columns   []string
		want      []gotRow
	}{
		{
			name: "utf8_comma",
			data: []byte("id,name\n1,Anna\n2,Bo\n"), encoding: "utf-8", delimiter: ",",
			columns: []string{"id", "name"},
			want: []gotRow{
				{2, rec("1", domain.Fields{"name": "Anna"})},
				{3, rec("2", domain.Fields{"name": "Bo"})},
			},
		},
		{
			name: "utf8_bom_semicolon",
			data: []byte("\ufeffid;name\n1;Jürgen Groß\n"), encoding: "utf-8", delimiter: ";",
			want: []gotRow{{2, rec("1", domain.Fields{"name": "Jürgen Groß"})}},
		},
		{
			name: "utf16le_bom_tab",
			data: utf16(t, "id\tname\r\n1\tÅse\r\n", unicode.LittleEndian, true), encoding: "utf-16le", delimiter: "\t",
			want: []gotRow{{2, rec("1", domain.Fields{"name": "Åse"})}},
		},
		{
			name: "utf16be_bom_comma",
			data: utf16(t, "id,name\n1,Zoë\n", unicode.BigEndian, true), encoding: "utf-16be", delimiter: ",",
			want: []gotRow{{2, rec("1", domain.Fields{"name": "Zoë"})}},
		},
		{
			name: "windows1252_nordic_and_german_letters",
			data: cp1252(t, "id;name\r\n1;ÆØÅ æøå\r\n2;ÄÖÜß äöü\r\n"), encoding: "windows-1252", delimiter: ";",
			want: []gotRow{
				{2, rec("1", domain.Fields{"name": "ÆØÅ æøå"})},
				{3, rec("2", domain.Fields{"name": "ÄÖÜß äöü"})},
			},
		},
		{
			name: "iso8859_15_euro_pipe",
			data: latin9(t, "id|price\n1|5 €\n"), opts: Options{Encoding: "ISO-8859-15"}, encoding: "iso-8859-15", delimiter: "|",
			want: []gotRow{{2, rec("1", domain.Fields{"price": "5 €"})}},
		},
		{
			name: "windows1252_euro_by_default",
			data: cp1252(t, "id;price\n1;5 €\n"), encoding: "windows-1252", delimiter: ";",
			want: []gotRow{{2, rec("1", domain.Fields{"price": "5 €"})}},
		},
		{
			name: "quoted_delimiters_newlines_and_quotes",
			data: []byte("id;note;city\n1;\"a;b\nsecond line\";Oslo\n2;\"say \"\"hi\"\"\";\"\"\n"), delimiter: ";", encoding: "utf-8",
			want: []gotRow{
				{2, rec("1", domain.Fields{"note": "a;b\nsecond line", "city": "Oslo"})},
				{3, rec("2", domain.Fields{"note": `say "hi"`, "city": ""})},
			},
		},
		{
			name: "comma_in_values_does_not_fool_sniffer",
			data: []byte("id;price;name\n1;1,50;Müller, Hans\n2;2,75;Meier, Eva\n"), delimiter: ";", encoding: "utf-8",
			want: []gotRow{
				{2, rec("1", domain.Fields{"price": "1,50", "name": "Müller, Hans"})},
				{3, rec("2", domain.Fields{"price": "2,75", "name": "Meier, Eva"})},
			},
		},
		{
			name: "explicit_delimiter_wins",
			data: []byte("id,name;x\n1,a;b\n"), opts: Options{Delimiter: ';'}, delimiter: ";", encoding: "utf-8",
			columns: []string{"id,name", "x"},
			m:       Mapping{IDColumn: "id,name"},
			want:    []gotRow{{2, rec("1,a", domain.Fields{"x": "b"})}},
		},
		{
			name: "classic_mac_line_ends",
			data: []byte("id;name\r1;a\r2;b\r"), delimiter: ";", encoding: "utf-8",
			want: []gotRow{
				{2, rec("1", domain.Fields{"name": "a"})},
				{3, rec("2", domain.Fields{"name": "b"})},
			},
		},
		{
			name: "single_column",
			data: []byte("id\n7\n8\n"), delimiter: ",", encoding: "utf-8",
			want: []gotRow{{2, rec("7", domain.Fields{})}, {3, rec("8", domain.Fields{})}},
		},
		{
			name: "header_names_trimmed_and_mapping_case_insensitive",
			data: []byte(" ID ; Name \n 42 ;x\n"), m: Mapping{IDColumn: "id"}, delimiter: ";", encoding: "utf-8",
			columns: []string{"ID", "Name"},
			want:    []gotRow{{2, rec("42", domain.Fields{"Name": "x"})}},
		},
		{
			name: "empty_rows_skipped_but_counted",
			data: []byte("id;name\n1;a\n;\n\n2;b\n"), delimiter: ";", encoding: "utf-8",
			want: []gotRow{
				{2, rec("1", domain.Fields{"name": "a"})},
				{4, rec("2", domain.Fields{"name": "b"})},
			},
		},
		{
			name: "trailing_delimiters_from_excel",
			data: []byte("id;name;;\n1;a;;\n"), delimiter: ";", encoding: "utf-8",
			columns: []string{"id", "name"},
			want:    []gotRow{{2, rec("1", domain.Fields{"name": "a"})}},
		},
		{
			name: "header_only_is_valid",
			data: []byte("id;name\n"), delimiter: ";", encoding: "utf-8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if m.IDColumn == "" {
				m.IDColumn = "id"
			}
			g := read(t, tt.data, tt.opts, m)
			require.NoError(t, g.err)
			require.Empty(t, g.errs)
			require.Equal(t, FormatCSV, g.det.Format)
			require.Equal(t, tt.encoding, g.det.Encoding)
			require.Equal(t, tt.delimiter, g.det.Delimiter)
			if tt.columns != nil {
				require.Equal(t, tt.columns, g.det.Columns)
			}
			require.Equal(t, len(tt.want), g.det.Rows)
			require.Equal(t, tt.want, g.rows)
		})
	}
}

// rec builds the record Read yields for an active row without updated-at.
func rec(id string, f domain.Fields) domain.Record {
	return domain.Record{ExternalID: id, Fields: f, Active: true}
}

// The detector sees the first 64 KiB; 5000 numbered rows are well past it.
func TestReadCSVEncodingDecidedLate(t *testing.T) {
	t.Run("windows1252_after_ascii_prefix", func(t *testing.T) {
		data := append([]byte("id;name\n"), []byte(numbered(5000))...)
		data = append(data, cp1252(t, "late;Müller\n")...)
		g := read(t, data, Options{}, Mapping{IDColumn: "id"})
		require.NoError(t, g.err)
		require.Equal(t, "windows-1252", g.det.Encoding)
		last := g.rows[len(g.rows)-1]
		require.Equal(t, "late", last.rec.ExternalID)
		require.Equal(t, "Müller", last.rec.Fields["name"])
	})
	t.Run("utf8_after_ascii_prefix", func(t *testing.T) {
		data := []byte("id;name\n" + numbered(5000) + "late;Müller\n")
		g := read(t, data, Options{}, Mapping{IDColumn: "id"})
		require.NoError(t, g.err)
		require.Equal(t, "utf-8", g.det.Encoding)
		require.Equal(t, "Müller", g.rows[len(g.rows)-1].rec.Fields["name"])
	})
	t.Run("utf8_then_windows1252_is_an_error_naming_the_line", func(t *testing.T) {
		data := append([]byte("id;name\n1;Jürgen\n"+numbered(5000)), cp1252(t, "late;Müller\n")...)
		g := read(t, data, Options{}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeInvalid)
		require.Equal(t, 5003, de.Details["line"])
		require.Contains(t, de.Message, "not valid UTF-8")
	})
}

// numbered returns n CSV rows "rN;name N\n" with ASCII text only.
func numbered(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "r%d;name number %d\n", i, i)
	}
	return b.String()
}

func TestReadCSVMapping(t *testing.T) {
	data := "Nr;Name;Aktiv;Geändert\n" +
		"1;a;ja;2024-03-31T14:05:00+02:00\n" +
		"2;b;nein;2024-03-31 14:05:00\n" +
		"3;c;X;31.03.2024\n" +
		"4;d;;2024-03-31\n" +
		"5;e;1;31.03.2024 14:05\n" +
		"6;f;0;\n"
	g := read(t, []byte(data), Options{}, Mapping{IDColumn: "Nr", ActiveColumn: "Aktiv", UpdatedAtColumn: "Geändert"})
	require.NoError(t, g.err)
	require.Empty(t, g.errs)
	at := func(s string) *time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		ts = ts.UTC()
		return &ts
	}
	want := []struct {
		active  bool
		updated *time.Time
	}{
		{true, at("2024-03-31T12:05:00Z")},
		{false, at("2024-03-31T14:05:00Z")},
		{true, at("2024-03-31T00:00:00Z")},
		{false, at("2024-03-31T00:00:00Z")},
		{true, at("2024-03-31T14:05:00Z")},
		{false, nil},
	}
	require.Len(t, g.rows, len(want))
	for i, w := range want {
		r := g.rows[i].rec
		require.Equal(t, w.active, r.Active, "row %d", g.rows[i].row)
		require.Equal(t, w.updated, r.SourceUpdatedAt, "row %d", g.rows[i].row)
		require.Equal(t, domain.Fields{"Name": string(rune('a' + i))}, r.Fields, "mapped columns are not fields")
	}
}

func TestReadCSVCustomActiveValues(t *testing.T) {
	t.Run("only_active_values_make_the_rest_inactive", func(t *testing.T) {
		g := read(t, []byte("id;status\n1;A\n2;I\n3;whatever\n"), Options{}, Mapping{IDColumn: "id", ActiveColumn: "status", ActiveValues: []string{"a"}})
		require.NoError(t, g.err)
		require.Empty(t, g.errs)
		require.Equal(t, []bool{true, false, false}, []bool{g.rows[0].rec.Active, g.rows[1].rec.Active, g.rows[2].rec.Active})
	})
	t.Run("both_lists_make_other_values_errors", func(t *testing.T) {
		g := read(t, []byte("id;status\n1;A\n2;I\n3;whatever\n"), Options{}, Mapping{IDColumn: "id", ActiveColumn: "status", ActiveValues: []string{"a"}, InactiveValues: []string{"i"}})
		require.NoError(t, g.err)
		require.Equal(t, []string{"1", "2"}, g.ids())
		require.Equal(t, []RowError{{Row: 4, Line: 4, Column: "status", Message: g.errs[0].Message, ID: "3"}}, g.errs)
	})
}

func TestReadCSVRowErrors(t *testing.T) {
	data := "id;name;active;updated\n" +
		"1;a;yes;2024-01-02\n" +
		";missing id;yes;\n" +
		"\"2\";\"two\nlines\";no;\n" +
		"1;dup of row 2;yes;\n" +
		"3;bad date;yes;2024-13-45\n" +
		"4;bad active;maybe;\n" +
		"5;both bad;maybe;yesterday\n" +
		"6;ok;;\n" +
		"2;dup and bad;maybe;\n"
	g := read(t, []byte(data), Options{}, Mapping{IDColumn: "id", ActiveColumn: "active", UpdatedAtColumn: "updated"})
	require.NoError(t, g.err)
	require.Equal(t, []string{"1", "2", "6"}, g.ids())
	require.Equal(t, []int{2, 4, 9}, g.rowNumbers())
	// A fault in another column names the row's id, unless the id is at
	// fault too.
	type where struct {
		row, line  int
		column, id string
	}
	var gotAt []where
	for _, e := range g.errs {
		gotAt = append(gotAt, where{e.Row, e.Line, e.Column, e.ID})
		require.NotEmpty(t, e.Message)
	}
	require.Equal(t, []where{
		{3, 3, "id", ""},
		{5, 6, "id", ""}, // the quoted value of row 4 spans two lines
		{6, 7, "updated", "3"},
		{7, 8, "active", "4"},
		{8, 9, "active", "5"},
		{8, 9, "updated", "5"},
		{10, 11, "id", ""},
		{10, 11, "active", ""},
	}, gotAt)
	require.Contains(t, g.errs[1].Message, "first seen in row 2")
}

// byteGuard is recordGuard as first written, a byte at a time: the
// reference the line-at-a-time one must agree with.
type byteGuard struct{ recordGuard }

func (g *byteGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i, c := range p[:n] {
		if g.n == 0 {
			g.start = g.line
		}
		g.n++
		switch c {
		case '"':
			g.quoted = !g.quoted
		case '\r':
			if !g.crOnly {
				break
			}
			p[i] = '\n'
			fallthrough
		case '\n':
			g.line++
			if !g.quoted {
				g.n = 0
			}
		}
		if g.n > g.max {
			return 0, g.tooLong()
		}
	}
	return n, err
}

// chunks reads its text in the given sizes, as a decoder might hand it on.
type chunks struct {
	text  []byte
	sizes []int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.text) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.text), max(1, c.sizes[0]))
	c.sizes = append(c.sizes[1:], c.sizes[0])
	copy(p, c.text[:n])
	c.text = c.text[n:]
	return n, nil
}

// The guard passes on the same text, fails at the same read with the same
// message, and ends on the same line as the byte-at-a-time reference.
func TestRecordGuardAgreesWithTheByteAtATimeOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := []byte(rapid.StringOf(rapid.SampledFrom([]rune{'a', 'b', ';', '"', '\n', '\r'})).Draw(t, "text"))
		sizes := rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, "read sizes")
		crOnly := rapid.Bool().Draw(t, "cr only")
		limit := rapid.IntRange(1, 30).Draw(t, "max")
		bufSize := rapid.IntRange(1, 64).Draw(t, "buffer")
		read := func(r io.Reader) ([]byte, error) {
			var out []byte
			buf := make([]byte, bufSize)
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		}
		want := &byteGuard{recordGuard{r: &chunks{bytes.Clone(text), sizes}, max: limit, crOnly: crOnly, line: 1}}
		got := &recordGuard{r: &chunks{bytes.Clone(text), sizes}, max: limit, crOnly: crOnly, line: 1}
		wantOut, wantErr := read(want)
		gotOut, gotErr := read(got)
		if !bytes.Equal(gotOut, wantOut) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("got %q, %v\nwant %q, %v", gotOut, gotErr, wantOut, wantErr)
		}
		if wantErr == nil && (got.line != want.line || got.quoted != want.quoted || got.n != want.n) {
			t.Fatalf("ended on line %d (quoted %v, %d bytes), want line %d (quoted %v, %d bytes)", got.line, got.quoted, got.n, want.line, want.quoted, want.n)
		}
	})
}
