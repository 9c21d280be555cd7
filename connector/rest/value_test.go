package rest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"syncd/domain"
)

func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"github_style", []string{`<https://api.example.com/x?page=3>; rel="next", <https://api.example.com/x?page=9>; rel="last"`}, "https://api.example.com/x?page=3"},
		{"next_not_first", []string{`<https://a/?p=1>; rel="prev", <https://a/?p=3>; rel="next"`}, "https://a/?p=3"},
		{"one_line_each_bare_rel", []string{`</x?page=1>; rel=first`, `</x?page=2>; rel=next`}, "/x?page=2"},
		{"several_relation_types", []string{`<https://a/2>; rel="next last"`}, "https://a/2"},
		{"upper_case", []string{`<https://a/2>; REL="Next"`}, "https://a/2"},
		{"comma_inside_url_and_title", []string{`<https://a/?ids=1,2>; title="a, b; c"; rel="next"`}, "https://a/?ids=1,2"},
		{"no_next", []string{`<https://a/1>; rel="first"`}, ""},
		{"garbage", []string{`not a link, <unterminated; rel=next`}, ""},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tc.lines {
				h.Add("Link", l)
			}
			if got := nextLink(h); got != tc.want {
				t.Errorf("nextLink = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestList_refuses_a_next_link_to_another_host(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Link", `<http://attacker.example/steal>; rel="next"`)
		w.Write([]byte(`[{"id": 1}]`))
	}))
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL, Auth: AuthConfig{Type: AuthBearer}, Objects: map[string]ObjectConfig{
		"customers": {ListPath: "/customers", Pagination: Pagination{Type: PageLink}},
	}}
	c := newConnector(t, cfg, Credentials{Token: "t0ken"})
	n := 0
	err := c.List(t.Context(), "customers", domain.Scope{}, func(domain.Record) error { n++; return nil })
	de := requireCode(t, err, domain.CodeInvalid)
	if !strings.Contains(de.Message, "another host (attacker.example)") || hits.Load() != 1 || n != 1 {
		t.Errorf("hits=%d yielded=%d err=%v", hits.Load(), n, err)
	}
}

func TestLookup(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"data": {"items": [{"id": 1}, {"id": 2}]}, "next": null}`), &doc)
	for _, tc := range []struct {
		path  string
		found bool
	}{
		{"data.items", true}, {"data.items.1.id", true}, {"next", true},
		{"data.items.2", false}, {"data.missing", false}, {"data.items.x", false},
	} {
		if _, ok := lookup(doc, tc.path); ok != tc.found {
			t.Errorf("lookup(%q) found = %v", tc.path, ok)
		}
	}
	if v, _ := lookup(doc, ""); v == nil {
		t.Error("the empty path is the document")
	}
}

func TestNormalize_numbers(t *testing.T) {
	doc, err := decodeJSON([]byte(`{"a": 42, "b": 19.99, "c": 123456789012345678901234567890, "d": [1, 2.5], "e": {"f": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := normalize(doc).(map[string]any)
	if got["a"] != int64(42) || got["b"] != 19.99 {
		t.Errorf("a=%#v b=%#v", got["a"], got["b"])
	}
	if _, ok := got["c"].(float64); !ok {
		t.Errorf("c = %#v", got["c"])
	}
	if d := got["d"].([]any); d[0] != int64(1) || d[1] != 2.5 {
		t.Errorf("d = %#v", d)
	}
	if e := got["e"].(map[string]any); e["f"] != int64(7) {
		t.Errorf("e = %#v", e)
	}
}

func TestIDString_keeps_large_ids_exact(t *testing.T) {
	doc, _ := decodeJSON([]byte(`{"id": 10000000000000001}`))
	id, _ := lookup(doc, "id")
	if got := idString(id); got != "10000000000000001" {
		t.Errorf("idString = %q", got)
	}
}

func TestFlag(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ifNull bool
		want   bool
	}{
		{`true`, false, true}, {`false`, true, false}, {`1`, false, true}, {`0`, true, false},
		{`"inactive"`, true, false}, {`"Active"`, false, true}, {`""`, true, false},
		{`null`, true, true}, {`null`, false, false},
		{`"2026-01-02T00:00:00Z"`, false, true}, // a deleted_at timestamp
	} {
		v, _ := decodeJSON([]byte(tc.in))
		if got := flag(v, tc.ifNull); got != tc.want {
			t.Errorf("flag(%s, %v) = %v", tc.in, tc.ifNull, got)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	for _, in := range []string{`"2026-03-01T12:30:00Z"`, `"2026-03-01T13:30:00+01:00"`, `"2026-03-01 12:30:00"`, `1772368200`, `1772368200000`, `"1772368200"`} {
		v, _ := decodeJSON([]byte(in))
		if got, ok := parseTime(v); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%s) = %v, %v", in, got, ok)
		}
	}
	if _, ok := parseTime("last tuesday"); ok {
		t.Error("parsed nonsense")
	}
}

func TestFormatSince(t *testing.T) {
	at := time.Date(2026, 3, 1, 13, 30, 0, 0, time.FixedZone("CET", 3600))
	for format, want := range map[string]string{
		"":                    "2026-03-01T12:30:00Z",
		"rfc3339":             "2026-03-01T12:30:00Z",
		"unix":                "1772368200",
		"unix_ms":             "1772368200000",
		"date":                "2026-03-01",
		"02.01.2006 15:04:05": "01.03.2026 12:30:00",
	} {
		if got := formatSince(at, format); got != want {
			t.Errorf("formatSince(%q) = %q, want %q", format, got, want)
		}
	}
}

func TestIDRange(t *testing.T) {
	for _, tc := range []struct {
		from, to, id string
		want         bool
	}{
		{"5", "12", "9", true},
		{"5", "12", "10", true}, // as strings "10" < "5"
		{"5", "12", "13", false},
		{"5", "12", "abc", false},
		{"5", "", "99999999999999999999", true},
		{"", "12", "12", true},
		{"A100", "A200", "A150", true},
		{"A100", "A200", "B1", false},
		{"1", "2x", "10", true}, // not both numeric: string order
	} {
		r := newIDRange(domain.Scope{Type: domain.ScopeRange, From: tc.from, To: tc.to})
		if got := r.contains(tc.id); got != tc.want {
			t.Errorf("%q in [%q, %q] = %v", tc.id, tc.from, tc.to, got)
		}
	}
}
