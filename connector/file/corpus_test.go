package file

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"

	"syncd/domain"
)

// TestBadInput feeds files people really upload by mistake and checks each
// gets a clear structural error, located where possible.
func TestBadInput(t *testing.T) {
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	wide := make([]string, 10_000)
	for i := range wide {
		wide[i] = fmt.Sprintf("c%d", i)
	}
	wide[0] = "id"
	tests := []struct {
		name    string
		data    []byte
		opts    Options
		code    domain.Code
		match   string
		details map[string]any
	}{
		{name: "empty_file", data: nil, code: domain.CodeUnprocessable, match: "file is empty"},
		{name: "only_blank_lines", data: []byte("\n\r\n  \n"), code: domain.CodeUnprocessable, match: "file is empty"},
		{name: "only_a_bom", data: []byte("\ufeff"), code: domain.CodeUnprocessable, match: "file is empty"},
		{name: "empty_json_file_by_name", data: []byte("  "), opts: Options{Filename: "x.json"}, code: domain.CodeUnprocessable, match: "file is empty"},
		{name: "binary_garbage", data: garbage, code: domain.CodeInvalid, match: "not a text file"},
		{name: "png_image", data: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), code: domain.CodeInvalid, match: "not a text file"},
		{name: "zero_byte_after_the_prefix", data: []byte("id;name\n" + strings.Repeat("a;b\n", 0) + numbered(8000) + "x;a\x00b\n"),
			code: domain.CodeInvalid, match: "zero byte", details: map[string]any{"row": 8002, "line": 8002, "column": "name"}},
		{name: "unbalanced_quote", data: []byte("id;name\n1;\"open\n2;b\n"), code: domain.CodeInvalid, match: "not closed",
			details: map[string]any{"row": 2, "line": 2}},
		{name: "bare_quote", data: []byte("id;name\n1;a\"b\n"), code: domain.CodeInvalid, match: "quote inside a value",
			details: map[string]any{"row": 2, "line": 2}},
		{name: "ragged_row", data: []byte("id;name\n1;a\n2;b;c\n"), code: domain.CodeInvalid, match: "row 3 (line 3) has 3 fields but the header has 2",
			details: map[string]any{"row": 3, "line": 3}},
		{name: "value_in_a_column_without_a_name", data: []byte("id;;x\n1;;3\n2;2;3\n"), code: domain.CodeInvalid,
			match: "row 3 has a value in column 2, which has no name in the header", details: map[string]any{"row": 3, "line": 3}},
		{name: "duplicate_header_name", data: []byte("id;x;x\n1;2;3\n"), code: domain.CodeInvalid, match: `names column "x" twice`},
		{name: "one_megabyte_field", data: []byte("id;note\n1;ok\n2;" + strings.Repeat("x", 1<<20) + "\n"), code: domain.CodeTooLarge,
			match: `row 3, column "note"`, details: map[string]any{"row": 3, "line": 3, "column": "note"}},
		{name: "ten_thousand_columns", data: []byte(strings.Join(wide, ";") + "\n"), code: domain.CodeTooLarge, match: "10000 columns"},
		{name: "unclosed_quote_swallowing_the_file", data: []byte("id;note\n1;\"" + strings.Repeat("long line\n", 1<<20)),
			code: domain.CodeTooLarge, match: "starting at line 2", details: map[string]any{"line": 2}},
		{name: "over_max_bytes", data: []byte("id\n" + numbered(100)), opts: Options{Limits: Limits{MaxBytes: 100}},
			code: domain.CodeTooLarge, match: "larger than 100 bytes"},
		{name: "over_max_rows", data: []byte("id\n1\n2\n3\n"), opts: Options{Limits: Limits{MaxRows: 2}},
			code: domain.CodeTooLarge, match: "more than 2 rows"},
		{name: "windows1252_declared_utf8", data: cp1252(t, "id;name\n1;Mørk\n"), opts: Options{Encoding: "utf-8"},
			code: domain.CodeInvalid, match: "line 2 is not valid UTF-8 (byte 0xF8)", details: map[string]any{"line": 2}},
		{name: "json_scalar", data: []byte(`"just a string"`), opts: Options{Format: FormatJSON}, code: domain.CodeInvalid,
			match: "JSON must be an array of objects or NDJSON"},
		{name: "json_number_by_name", data: []byte(`42`), opts: Options{Filename: "data.json"}, code: domain.CodeInvalid,
			match: "JSON must be an array of objects or NDJSON"},
		{name: "json_array_of_numbers", data: []byte(`[{"id":1}, 2]`), code: domain.CodeInvalid, match: "element 2 of the array is a JSON number, not an object",
			details: map[string]any{"row": 2}},
		{name: "json_array_with_null", data: []byte(`[null]`), code: domain.CodeInvalid, match: "null, not an object"},
		{name: "json_wrapped_object_on_many_lines", data: []byte("{\n  \"data\": [{\"id\": 1}]\n}\n"), code: domain.CodeInvalid,
			match: "line 1"},
		{name: "json_deeply_nested", data: []byte(`[{"id":1,"a":` + strings.Repeat(`{"b":`, 20) + `1` + strings.Repeat(`}`, 20) + `}]`),
			code: domain.CodeTooLarge, match: `key "a" is nested deeper than 8 levels`, details: map[string]any{"row": 1, "column": "a"}},
		{name: "json_nested_beyond_the_decoder", data: []byte(`[{"id":1,"a":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}]`),
			code: domain.CodeInvalid, match: "element 1 of the array is not valid JSON"},
		{name: "json_syntax_error", data: []byte(`[{"id":1},{"id":2,}]`), code: domain.CodeInvalid, match: "element 2 of the array is not valid JSON"},
		{name: "json_truncated", data: []byte(`[{"id":1},{"id":`), code: domain.CodeInvalid, match: "ends in the middle of element 2"},
		{name: "json_unclosed_array", data: []byte(`[{"id":1}`), code: domain.CodeInvalid, match: "the end of the array"},
		{name: "json_data_after_array", data: []byte(`[{"id":1}] [{"id":2}]`), code: domain.CodeInvalid, match: "continues after the JSON array"},
		{name: "json_huge_element", data: []byte(`[{"id":1,"x":"` + strings.Repeat("y", 200) + `"}]`),
			opts: Options{Limits: Limits{MaxRecordBytes: 100}}, code: domain.CodeTooLarge, match: "element 1 of the array is larger than 100 bytes"},
		{name: "ndjson_long_line", data: []byte(`{"id":1,"x":"` + strings.Repeat("y", 200) + `"}`),
			opts: Options{Limits: Limits{MaxRecordBytes: 100}}, code: domain.CodeTooLarge, match: "line 1 is longer than 100 bytes"},
		{name: "ndjson_two_values_on_a_line", data: []byte("{\"id\":1} {\"id\":2}\n"), code: domain.CodeInvalid, match: "line 1 has more after its JSON object"},
		{name: "ndjson_array_line", data: []byte("{\"id\":1}\n[1]\n"), code: domain.CodeInvalid, match: "line 2 is not a JSON object",
			details: map[string]any{"row": 2, "line": 2}},
		{name: "json_big_string", data: []byte(`[{"id":1,"x":"` + strings.Repeat("y", 70<<10) + `"}]`), code: domain.CodeTooLarge,
			match: `key "x": the value is longer than 64 KiB`},
		{name: "old_excel_file", data: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), code: domain.CodeInvalid, match: ".xls"},
		{name: "csv_declared_xlsx", data: []byte("id\n1\n"), opts: Options{Format: FormatXLSX}, code: domain.CodeInvalid, match: "not a valid XLSX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := read(t, tt.data, tt.opts, Mapping{IDColumn: "id"})
			de := requireCode(t, g.err, tt.code)
			require.Contains(t, de.Message, tt.match)
			for k, v := range tt.details {
				require.Equal(t, v, de.Details[k], "details[%s] of %q", k, de.Message)
			}
		})
	}
}

// TestBadInputRowErrors covers mistakes that spoil single rows, not the
// file: those rows are reported and the rest is read.
func TestBadInputRowErrors(t *testing.T) {
	t.Run("duplicate_ids", func(t *testing.T) {
		g := read(t, []byte("id;n\n1;a\n2;b\n1;c\n 2 ;d\n3;e\n"), Options{}, Mapping{IDColumn: "id"})
		require.NoError(t, g.err)
		require.Equal(t, []string{"1", "2", "3"}, g.ids())
		require.Len(t, g.errs, 2)
		require.Equal(t, 4, g.errs[0].Row)
		require.Contains(t, g.errs[0].Message, "first seen in row 2")
		require.Equal(t, 5, g.errs[1].Row)
		require.Contains(t, g.errs[1].Message, "first seen in row 3")
	})
	t.Run("missing_id_column_names_the_columns", func(t *testing.T) {
		g := read(t, []byte("Kundennr;Name\n1;a\n"), Options{}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeInvalid)
		require.Equal(t, `the file has no column "id"; its columns are "Kundennr", "Name"`, de.Fields["id_column"])
	})
	t.Run("too_many_row_errors_refuse_the_file", func(t *testing.T) {
		g := read(t, []byte("id;n\n;a\n;b\n;c\n;d\n"), Options{Limits: Limits{MaxRowErrors: 3}}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeUnprocessable)
		require.Len(t, de.Details["row_errors"], 3)
	})
}

// TestWrongEncodingDeclared: unmistakable evidence in the bytes beats a
// wrong choice; without it, the answer is an error naming the line.
func TestWrongEncodingDeclared(t *testing.T) {
	text := "id;name\n1;Ærøskøbing\n"
	tests := []struct {
		name     string
		data     []byte
		encoding string
		detected string
	}{
		{"utf16le_with_bom_declared_windows1252", utf16(t, text, unicode.LittleEndian, true), "windows-1252", "utf-16le"},
		{"utf16le_without_bom_declared_windows1252", utf16(t, text, unicode.LittleEndian, false), "windows-1252", "utf-16le"},
		{"utf16be_without_bom_declared_iso8859_15", utf16(t, text, unicode.BigEndian, false), "iso-8859-15", "utf-16be"},
		{"utf8_declared_windows1252", []byte(text), "windows-1252", "utf-8"},
		{"utf8_bom_declared_utf16", append([]byte("\ufeff"), text...), "utf-16", "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := read(t, tt.data, Options{Encoding: tt.encoding}, Mapping{IDColumn: "id"})
			require.NoError(t, g.err)
			require.Equal(t, tt.detected, g.det.Encoding)
			require.Equal(t, []gotRow{{2, rec("1", domain.Fields{"name": "Ærøskøbing"})}}, g.rows)
		})
	}
	t.Run("windows1252_declared_utf8_is_an_error", func(t *testing.T) {
		g := read(t, cp1252(t, text), Options{Encoding: "utf-8"}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeInvalid)
		require.Contains(t, de.Message, "windows-1252")
		require.Empty(t, g.rows)
	})
	t.Run("windows1252_declared_iso8859_15_reads_as_chosen", func(t *testing.T) {
		// Both are single-byte Latin sets; only the bytes that differ
		// (€ is 0x80 in one, 0xA4 in the other) tell them apart, so the
		// choice is trusted.
		g := read(t, cp1252(t, "id;p\n1;Ø\n"), Options{Encoding: "iso-8859-15"}, Mapping{IDColumn: "id"})
		require.NoError(t, g.err)
		require.Equal(t, "iso-8859-15", g.det.Encoding)
		require.Equal(t, "Ø", g.rows[0].rec.Fields["p"])
	})
}

// TestBadInputLimitsDoNotBufferTheFile checks an unclosed quote near the
// start of a big file fails fast instead of collecting the file.
func TestBadInputLimitsDoNotBufferTheFile(t *testing.T) {
	data := []byte("id;note\n1;\"" + strings.Repeat("x;y\n", 2<<20))
	g := read(t, data, Options{Limits: Limits{MaxRecordBytes: 64 << 10}}, Mapping{IDColumn: "id"})
	de := requireCode(t, g.err, domain.CodeTooLarge)
	require.Contains(t, de.Message, "longer than 64 KiB")
	require.False(t, bytes.Contains([]byte(de.Message), []byte("x;y")))
}
