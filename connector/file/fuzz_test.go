package file

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/transform"

	"syncd/domain"
)

// fuzzLimits keep fuzzed inputs cheap while still reaching every limit.
var fuzzLimits = Limits{MaxRecordBytes: 4 << 10, MaxFieldBytes: 1 << 10, MaxColumns: 50, MaxRowErrors: 200, MaxDepth: 4}

// fuzzEncodings are the choices the fuzzers pick from.
var fuzzEncodings = []string{"", "utf-8", "windows-1252", "iso-8859-15", "utf-16", "utf-16be"}

// fuzzRead runs Read and checks the invariants every format keeps: no
// foreign errors, every record handed on has a unique non-empty id, row
// numbers increase, and Detected.Rows counts the calls.
func fuzzRead(t *testing.T, data []byte, opts Options, m Mapping) got {
	var g got
	seen := map[string]bool{}
	last := 0
	g.det, g.errs, g.err = Read(context.Background(), bytes.NewReader(data), opts, m, func(row int, rec domain.Record) error {
		if rec.ExternalID == "" {
			t.Fatalf("row %d handed on with an empty id", row)
		}
		if seen[rec.ExternalID] {
			t.Fatalf("row %d: id %q handed on twice", row, rec.ExternalID)
		}
		seen[rec.ExternalID] = true
		if row <= last {
			t.Fatalf("row %d after row %d", row, last)
		}
		last = row
		g.rows = append(g.rows, gotRow{row, rec})
		return nil
	})
	var de *domain.Error
	if g.err != nil && !errors.As(g.err, &de) {
		t.Fatalf("foreign error %T: %v", g.err, g.err)
	}
	if g.err == nil && g.det.Rows != len(g.rows) {
		t.Fatalf("Detected.Rows = %d, fn saw %d", g.det.Rows, len(g.rows))
	}
	return g
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("id;name\n1;a\n2;b\n"), uint8(0))
	f.Add([]byte("id,name,active\n1,\"a,b\",yes\n1,x,no\n,y,maybe\n"), uint8(1))
	f.Add([]byte("\ufeffid\tnote\r\n7\t\"multi\r\nline\"\r\n"), uint8(0))
	f.Add([]byte("id|x\r1|\"q\"\"uote\"\r"), uint8(2))
	f.Add([]byte("\xff\xfei\x00d\x00\n\x001\x00\n\x00"), uint8(3))
	f.Add([]byte("id;name\n1;M\xfcller\n"), uint8(0))
	f.Add([]byte("id;name\n1;\"open\n"), uint8(0))
	f.Add([]byte("id;;\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		opts := Options{Format: FormatCSV, Encoding: fuzzEncodings[int(enc)%len(fuzzEncodings)], Limits: fuzzLimits}
		g := fuzzRead(t, data, opts, Mapping{IDColumn: "id", ActiveColumn: "active"})
		lines := bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'}) + 1
		if len(g.rows)+len(g.errs) > lines {
			t.Fatalf("%d rows and %d row errors from %d lines", len(g.rows), len(g.errs), lines)
		}
		for _, r := range g.rows {
			if r.row < 2 {
				t.Fatalf("data row %d is not after the header", r.row)
			}
			for k, v := range r.rec.Fields {
				s, ok := v.(string)
				if !ok || !utf8.ValidString(s) || !utf8.ValidString(k) {
					t.Fatalf("field %q = %#v is not a UTF-8 string", k, v)
				}
			}
		}
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`[{"id": 1, "a": {"b": [1, 2.5, "x", null, true]}}, {"id": "2"}]`), uint8(0))
	f.Add([]byte("{\"id\": 1}\n{\"id\": 1}\n\n{\"x\": 2}\n"), uint8(0))
	f.Add([]byte(`[{"id": 12345678901234567890123, "n": 1e400, "m": -0.0}]`), uint8(0))
	f.Add([]byte(`[{"id": true}, null, 3]`), uint8(0))
	f.Add([]byte(`{"id": "a", "updated": 1711893900000, "active": "ja"}`), uint8(2))
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		opts := Options{Format: FormatJSON, Encoding: fuzzEncodings[int(enc)%len(fuzzEncodings)], Limits: fuzzLimits}
		g := fuzzRead(t, data, opts, Mapping{IDColumn: "id", ActiveColumn: "active", UpdatedAtColumn: "updated"})
		lines := bytes.Count(data, []byte{'\n'}) + 1
		if data := bytes.TrimSpace(data); len(data) > 0 && data[0] == '{' && len(g.rows)+len(g.errs) > lines {
			t.Fatalf("%d rows and %d row errors from %d NDJSON lines", len(g.rows), len(g.errs), lines)
		}
		for _, r := range g.rows {
			for k, v := range r.rec.Fields {
				checkFieldValue(t, k, v, 2)
			}
		}
	})
}

// checkFieldValue asserts v has one of the types domain.Fields allows and
// respects the depth limit.
func checkFieldValue(t *testing.T, key string, v any, depth int) {
	switch v := v.(type) {
	case nil, string, bool, float64, int64:
	case []any:
		if depth > fuzzLimits.MaxDepth {
			t.Fatalf("field %q nested %d deep", key, depth)
		}
		for _, e := range v {
			checkFieldValue(t, key, e, depth+1)
		}
	case map[string]any:
		if depth > fuzzLimits.MaxDepth {
			t.Fatalf("field %q nested %d deep", key, depth)
		}
		for _, e := range v {
			checkFieldValue(t, key, e, depth+1)
		}
	default:
		t.Fatalf("field %q has type %T", key, v)
	}
}

func FuzzSniffDelimiter(f *testing.F) {
	f.Add([]byte("a;b;c\n1;2;3\n"), true)
	f.Add([]byte("a,b\n\"x,y\",z\n"), false)
	f.Add([]byte("a\tb|c\n1\t2|3\n"), true)
	f.Add([]byte("\"unclosed;a\nb;c\n"), true)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, sample []byte, atEOF bool) {
		d := sniffDelimiter(sample, atEOF)
		if !slices.Contains(delimiters, byte(d)) {
			t.Fatalf("sniffed %q, not a candidate", d)
		}
		for _, c := range delimiters {
			counts := fieldCounts(sample, c, atEOF)
			if len(counts) > sniffLines {
				t.Fatalf("%d records counted, more than %d", len(counts), sniffLines)
			}
			for _, n := range counts {
				if n < 1 || n > len(sample)+1 {
					t.Fatalf("impossible field count %d", n)
				}
			}
			if byte(d) == c && d != ',' && counts[0] < 2 {
				t.Fatalf("chose %q although it does not split the header", d)
			}
		}
	})
}

func FuzzDetectEncoding(f *testing.F) {
	f.Add([]byte("plain ascii"), uint8(0))
	f.Add([]byte("\ufeffutf-8 with bom ä"), uint8(2))
	f.Add([]byte("\xff\xfea\x00b\x00"), uint8(1))
	f.Add([]byte("a\x00b\x00c\x00d\x00"), uint8(0))
	f.Add([]byte("M\xfcller \x80"), uint8(3))
	f.Add([]byte("half \xe2\x82"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		chosen := fuzzEncodings[int(enc)%len(fuzzEncodings)]
		prefix := data[:min(len(data), 64)] // a short prefix exercises the late decision
		e := detectEncoding(prefix, len(prefix) == len(data), chosen)
		if e.bom > len(data) {
			t.Fatalf("bom of %d bytes in %d", e.bom, len(data))
		}
		_, utf16ish := looksUTF16(prefix)
		if bomOf(data) == nil && !utf16ish && utf8.Valid(data) && e.name != "utf-8" && e.name != "" {
			t.Fatalf("valid UTF-8 detected as %q", e.name)
		}
		tr := e.transformer()
		out, err := io.ReadAll(transform.NewReader(bytes.NewReader(data[e.bom:]), tr))
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("foreign error %T: %v", err, err)
			}
			return
		}
		if !utf8.Valid(out) {
			t.Fatalf("decoded text is not UTF-8: %q", out)
		}
		if bomOf(data) == nil && !utf16ish && utf8.Valid(data) && decodedName(e, tr) != "utf-8" {
			t.Fatalf("valid UTF-8 decoded as %q", decodedName(e, tr))
		}
		if decodedName(e, tr) == "utf-8" && !bytes.Equal(out, data[e.bom:]) {
			t.Fatalf("UTF-8 text changed while decoding")
		}
	})
}
