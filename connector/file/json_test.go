package file

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"

	"syncd/domain"
)

func TestReadJSON(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		encoding string
		columns  []string
		want     []gotRow
	}{
		{
			name: "array_keeps_json_types",
			data: []byte(`[{"id": 1, "name": "Anna", "n": 12.50, "i": -3, "big": 12345678901234567890, "ok": true, "none": null,
				"tags": ["a", 2], "addr": {"city": "Oslo", "zip": 150}}]`),
			encoding: "utf-8",
			columns:  []string{"addr", "big", "i", "id", "n", "name", "none", "ok", "tags"},
			want: []gotRow{{1, rec("1", domain.Fields{
				"name": "Anna", "n": 12.5, "i": int64(-3), "big": "12345678901234567890", "ok": true, "none": nil,
				"tags": []any{"a", int64(2)}, "addr": map[string]any{"city": "Oslo", "zip": int64(150)},
			})}},
		},
		{
			name:     "array_string_ids_trimmed_and_rows_are_positions",
			data:     []byte("[\n {\"id\": \" a \"},\n {\"id\": \"b\", \"x\": \"\"}\n]\n"),
			encoding: "utf-8",
			want:     []gotRow{{1, rec("a", domain.Fields{})}, {2, rec("b", domain.Fields{"x": ""})}},
		},
		{
			name:     "empty_array_is_valid",
			data:     []byte(" [ ] "),
			encoding: "utf-8",
		},
		{
			name:     "ndjson_rows_are_lines",
			data:     []byte("{\"id\": 7, \"v\": 0.1}\n\n{\"id\": \"8\", \"v\": 1e3}\r\n{\"id\": 9.5}"),
			encoding: "utf-8",
			want: []gotRow{
				{1, rec("7", domain.Fields{"v": 0.1})},
				{3, rec("8", domain.Fields{"v": float64(1000)})},
				{4, rec("9.5", domain.Fields{})},
			},
		},
		{
			name:     "utf16le_bom_array",
			data:     utf16(t, `[{"id":"x","name":"Ærø"}]`, unicode.LittleEndian, true),
			encoding: "utf-16le",
			want:     []gotRow{{1, rec("x", domain.Fields{"name": "Ærø"})}},
		},
		{
			name:     "windows1252_json_is_decoded",
			data:     cp1252(t, `[{"id":"x","name":"Müller"}]`),
			encoding: "windows-1252",
			want:     []gotRow{{1, rec("x", domain.Fields{"name": "Müller"})}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := read(t, tt.data, Options{}, Mapping{IDColumn: "id"})
			require.NoError(t, g.err)
			require.Empty(t, g.errs)
			require.Equal(t, FormatJSON, g.det.Format)
			require.Equal(t, tt.encoding, g.det.Encoding)
			if tt.columns != nil {
				got := append([]string(nil), g.det.Columns...)
				require.ElementsMatch(t, tt.columns, got)
			}
			require.Equal(t, tt.want, g.rows)
		})
	}
}

func TestReadJSONMapping(t *testing.T) {
	data := `[
{"ID": 1, "active": true,  "updated": "2024-03-31T14:05:00+02:00"},
{"ID": 2, "active": false, "updated": 1711893900},
{"ID": 3, "active": "ja",  "updated": 1711893900000},
{"ID": 4,                  "updated": null},
{"ID": 5, "active": 1,     "updated": "31.03.2024"}
]`
	g := read(t, []byte(data), Options{}, Mapping{IDColumn: "id", ActiveColumn: "Active", UpdatedAtColumn: "updated"})
	require.NoError(t, g.err)
	require.Empty(t, g.errs)
	at := func(s string) *time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return &ts
	}
	want := []domain.Record{
		{ExternalID: "1", Active: true, SourceUpdatedAt: at("2024-03-31T12:05:00Z"), Fields: domain.Fields{}},
		{ExternalID: "2", Active: false, SourceUpdatedAt: at("2024-03-31T14:05:00Z"), Fields: domain.Fields{}},
		{ExternalID: "3", Active: true, SourceUpdatedAt: at("2024-03-31T14:05:00Z"), Fields: domain.Fields{}},
		{ExternalID: "4", Active: false, Fields: domain.Fields{}},
		{ExternalID: "5", Active: true, SourceUpdatedAt: at("2024-03-31T00:00:00Z"), Fields: domain.Fields{}},
	}
	require.Len(t, g.rows, len(want))
	for i, w := range want {
		require.Equal(t, w, g.rows[i].rec, "element %d", i+1)
	}
}

func TestReadJSONRowErrors(t *testing.T) {
	data := "{\"id\": 1, \"at\": \"2024-01-01\"}\n" +
		"{\"name\": \"no id\"}\n" +
		"{\"id\": true}\n" +
		"{\"id\": \"1\"}\n" +
		"{\"id\": 2, \"at\": \"soon\"}\n" +
		"{\"id\": 3, \"on\": [1]}\n" +
		"{\"id\": 4}\n"
	g := read(t, []byte(data), Options{}, Mapping{IDColumn: "id", ActiveColumn: "on", UpdatedAtColumn: "at"})
	require.NoError(t, g.err)
	require.Equal(t, []string{"1", "4"}, g.ids())
	type where struct {
		row        int
		column, id string
	}
	var gotAt []where
	for _, e := range g.errs {
		gotAt = append(gotAt, where{e.Row, e.Column, e.ID})
		require.Equal(t, e.Row, e.Line, "NDJSON rows are lines")
	}
	require.Equal(t, []where{{2, "id", ""}, {3, "id", ""}, {4, "id", ""}, {5, "at", "2"}, {6, "on", "3"}}, gotAt)
	require.Contains(t, g.errs[2].Message, "first seen in row 1")
}
