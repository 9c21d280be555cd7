package domain

import (
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Normalize returns v's canonical form as a value of type t, for comparison,
// and whether v parsed as that type. Canonical values are nil, a string or a
// bool, so they compare with ==:
//
//   - string: the value as is; nil and "" are the same empty value (nil).
//   - number: a plain decimal string without redundant zeros ("1.0" → "1").
//     Strings may use a decimal comma and grouping ("1.234,5", "1 234,5",
//     "1,234.5", "1'234.5"). A single dot is always the decimal point; a
//     single comma is the decimal comma unless exactly three digits follow it
//     after a non-zero integer part: "1,234" could mean either and is left
//     unparsed.
//   - boolean: true/false, 1/0, yes/no, y/n, ja/nein/nej, on/off, and x for a
//     ticked box; nil and "" are false.
//   - date: RFC 3339, ISO dates and times, "2006/01/02" and "02.01.2006".
//     A value at midnight on its own clock is date-only ("2006-01-02"); any
//     other instant is RFC 3339 in UTC.
//   - email: trimmed and lower-cased.
//
// A value that does not parse is compared as its trimmed string form, so
// Normalize never fails and Equal stays an equivalence.
func Normalize(v any, t FieldType) (any, bool) {
	s := valueText(v)
	if t == FieldString || t == "" {
		return orNil(s), true
	}
	s = strings.TrimSpace(s)
	switch t {
	case FieldNumber:
		if s == "" {
			return nil, true
		}
		if n, ok := parseNumber(s); ok {
			return n, true
		}
	case FieldBoolean:
		if b, ok := v.(bool); ok {
			return b, true
		}
		if b, ok := booleans[strings.ToLower(s)]; ok {
			return b, true
		}
	case FieldDate:
		if s == "" {
			return nil, true
		}
		if d, ok := parseDate(v, s); ok {
			return d, true
		}
	case FieldEmail:
		return orNil(strings.ToLower(s)), true
	}
	return s, false
}

// Equal reports whether a and b are the same value of type t.
func Equal(a, b any, t FieldType) bool {
	na, _ := Normalize(a, t)
	nb, _ := Normalize(b, t)
	return na == nb
}

// NormalizeKey returns a match key's comparable form: trim also collapses
// inner spaces, lower adds lower-casing, digits keeps only the digits (phone
// and customer numbers), email takes the address out of "Name <a@b.de>" and
// lower-cases it. "" means the record has no key and matches nothing.
func NormalizeKey(v any, n Normalizer) string {
	s := strings.Join(strings.Fields(valueText(v)), " ")
	switch n {
	case NormalizerLower:
		return strings.ToLower(s)
	case NormalizerDigits:
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	case NormalizerEmail:
		if a, err := mail.ParseAddress(s); err == nil {
			s = a.Address
		}
		return strings.ToLower(s)
	}
	return s
}

var booleans = map[string]bool{
	"true": true, "t": true, "1": true, "yes": true, "y": true, "ja": true, "j": true, "on": true, "x": true,
	"false": false, "f": false, "0": false, "no": false, "n": false, "nein": false, "nej": false, "off": false, "": false,
}

// valueText is the string form of a JSON-shaped value; nil is "".
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		// 'f' keeps large and small numbers out of exponent notation.
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parseNumber turns a localised number into a canonical decimal string.
// It works on the text, not a float64, so long ids and amounts stay exact.
func parseNumber(s string) (string, bool) {
	neg := s[0] == '-'
	if neg || s[0] == '+' {
		s = s[1:]
	}
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '.' || s[0] == ',') {
		return "", false
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", false
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	whole, frac, ok := splitDecimal(s)
	if !ok {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	n := whole
	if n == "" {
		n = "0"
	}
	if frac != "" {
		n += "." + frac
	}
	if neg && n != "0" {
		n = "-" + n
	}
	return n, true
}

// splitDecimal finds the decimal separator, drops thousands grouping and
// returns the digits before and after it.
func splitDecimal(s string) (whole, frac string, ok bool) {
	dot, comma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	sep := -1
	switch {
	case dots > 0 && commas > 0: // the later one is the decimal separator
		sep = max(dot, comma)
		if dots > 1 && sep == dot || commas > 1 && sep == comma {
			return "", "", false
		}
	case dots == 1:
		sep = dot
	case commas == 1:
		sep = comma
		if len(s)-comma-1 == 3 && strings.Trim(s[:comma], "0") != "" {
			return "", "", false // "1,234": a thousand, or one point two three four?
		}
	}
	whole = s
	if sep >= 0 {
		whole, frac = s[:sep], s[sep+1:]
	}
	if whole == "" && frac == "" || !isDigits(frac) {
		return "", "", false
	}
	groups := splitGroups(whole)
	for i, g := range groups {
		// Grouped digits come in threes after a first group of one to three.
		if !isDigits(g) || len(groups) > 1 && (g == "" || len(g) > 3 || i > 0 && len(g) != 3) {
			return "", "", false
		}
	}
	return strings.Join(groups, ""), frac, true
}

// splitGroups splits at every thousands separator, keeping empty groups so
// that "1..234" is refused rather than read as 1234.
func splitGroups(s string) []string {
	var groups []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune(".,' \u00a0\u202f", r) {
			groups = append(groups, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	return append(groups, s[start:])
}

func isDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// dateLayouts are tried in order. Layouts with single-digit day and month
// also accept two digits, so "2.1.2006" covers "02.01.2006".
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-1-2",
	"2006/1/2",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2.1.2006",
}

func parseDate(v any, s string) (string, bool) {
	t, ok := v.(time.Time)
	for i := 0; !ok && i < len(dateLayouts); i++ {
		var err error
		t, err = time.Parse(dateLayouts[i], s)
		ok = err == nil
	}
	if !ok {
		return "", false
	}
	if h, m, sec := t.Clock(); h == 0 && m == 0 && sec == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly), true
	}
	return t.UTC().Format(time.RFC3339Nano), true
}
