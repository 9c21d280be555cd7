package rest

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"syncd/domain"
)

// decodeJSON decodes body keeping numbers exact (json.Number), so that a
// large numeric id is not rounded through float64.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// lookup follows a dot path ("data.items", "result.0.id") through maps and
// arrays. The empty path is v itself.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, key := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// nest wraps v under a dot path: nest("data.attributes", v) is
// {"data": {"attributes": v}}.
func nest(path string, v any) any {
	if path == "" {
		return v
	}
	keys := strings.Split(path, ".")
	for i := len(keys) - 1; i >= 0; i-- {
		v = map[string]any{keys[i]: v}
	}
	return v
}

// idString renders a record id, which APIs send as a number or a string.
// Numbers keep their literal text, so 10000000000000001 stays exact.
func idString(v any) string {
	switch id := v.(type) {
	case string:
		return id
	case json.Number:
		return id.String()
	}
	return ""
}

// normalize turns decoded JSON into domain.Fields values: json.Number
// becomes int64 when it is a whole number that fits, else float64 when
// that is exact enough to round-trip, else its text.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil && !math.IsInf(f, 0) {
			return f
		}
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// flag reads an active or deleted marker: a boolean, 0/1, or a word. Null
// gives ifNull; any other non-empty string (such as a deleted_at
// timestamp) counts as true.
func flag(v any, ifNull bool) bool {
	switch x := v.(type) {
	case nil:
		return ifNull
	case bool:
		return x
	case json.Number:
		f, err := x.Float64()
		return err == nil && f != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "false", "0", "no", "n", "off", "inactive", "disabled":
			return false
		}
		return true
	}
	return true
}

// parseTime reads an updated-at value: RFC 3339, a date-time without zone
// (taken as UTC), a date, or unix seconds or milliseconds.
func parseTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		return unixTime(x.String())
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
		return unixTime(s)
	}
	return time.Time{}, false
}

func unixTime(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	if f > 1e12 { // milliseconds: 1e12 s is the year 33658
		return time.UnixMilli(int64(f)).UTC(), true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// formatSince renders the changed-since time for the API's query parameter.
func formatSince(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case "", "rfc3339":
		return t.Format(time.RFC3339)
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "unix_ms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	case "date":
		return t.Format(time.DateOnly)
	}
	return t.Format(format)
}

func validSinceFormat(f string) bool {
	switch f {
	case "", "rfc3339", "unix", "unix_ms", "date":
		return true
	}
	// A Go layout names at least the year; anything else would be sent
	// verbatim and silently ignored by the API.
	return strings.Contains(f, "06")
}

// idRange is the client-side filter of a range scope. Ends are inclusive
// and optional; the comparison is numeric when every given end is a
// number, else by string.
type idRange struct {
	from, to string
	numeric  bool
}

func newIDRange(s domain.Scope) idRange {
	r := idRange{from: strings.TrimSpace(s.From), to: strings.TrimSpace(s.To), numeric: true}
	for _, end := range []string{r.from, r.to} {
		if _, ok := number(end); end != "" && !ok {
			r.numeric = false
		}
	}
	return r
}

func (r idRange) contains(id string) bool {
	if !r.numeric {
		return (r.from == "" || id >= r.from) && (r.to == "" || id <= r.to)
	}
	n, ok := number(id)
	if !ok {
		return false // a non-numeric id lies outside any numeric range
	}
	if f, _ := number(r.from); r.from != "" && n.Cmp(f) < 0 {
		return false
	}
	if t, _ := number(r.to); r.to != "" && n.Cmp(t) > 0 {
		return false
	}
	return true
}

// number parses s exactly, so ids beyond float64's precision still compare
// correctly.
func number(s string) (*big.Rat, bool) {
	if s == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	return r, ok
}
