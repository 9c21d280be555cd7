package file

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"syncd/domain"
)

// object checks one decoded object and turns it into a record or row
// errors. n is the row number, line the NDJSON line (0 in an array).
func (j *jsonReader) object(obj map[string]any, n, line int) error {
	s := j.s
	if err := s.count(); err != nil {
		return err
	}
	if len(obj) > s.lim.MaxColumns {
		return structural(domain.CodeTooLarge, pos{row: n, line: line}, "%s has %d keys; at most %d are allowed", where(n, line), len(obj), s.lim.MaxColumns)
	}
	for k, v := range obj {
		if len(k) > s.lim.MaxFieldBytes {
			return structural(domain.CodeTooLarge, pos{row: n, line: line}, "%s has a key longer than %s", where(n, line), byteSize(int64(s.lim.MaxFieldBytes)))
		}
		if err := j.value(v, 2, n, line, k); err != nil {
			return err
		}
		obj[k] = jsonValue(v)
		if _, ok := j.keys[k]; !ok {
			if len(j.keys) >= s.lim.MaxColumns {
				return structural(domain.CodeTooLarge, pos{row: n, line: line}, "the objects have more than %d different keys", s.lim.MaxColumns)
			}
			j.keys[k] = struct{}{}
			j.columns = append(j.columns, k)
		}
	}
	idKey, id := j.take(obj, s.m.IDColumn)
	rec := domain.Record{Active: true}
	ok := true
	switch v := id.(type) {
	case string:
		rec.ExternalID = strings.TrimSpace(v)
	case int64:
		rec.ExternalID = strconv.FormatInt(v, 10)
	case float64:
		rec.ExternalID = strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
	default:
		ok = false
		if err := s.rowError(RowError{Row: n, Line: line, Column: idKey, Message: "the id must be a string or a number"}); err != nil {
			return err
		}
	}
	if ok {
		var err error
		if ok, err = s.checkID(rec.ExternalID, n, line, idKey); err != nil {
			return err
		}
	}
	named := ""
	if ok {
		named = rec.ExternalID
	}
	if s.m.ActiveColumn != "" {
		key, v := j.take(obj, s.m.ActiveColumn)
		a, good := jsonActive(v, s.active)
		if !good {
			ok = false
			if err := s.badValue(named, RowError{Row: n, Line: line, Column: key,
				Message: fmt.Sprintf("%s is not a known active value (%s)", jsonText(v), s.active.describe())}); err != nil {
				return err
			}
		}
		rec.Active = a
	}
	if s.m.UpdatedAtColumn != "" {
		key, v := j.take(obj, s.m.UpdatedAtColumn)
		t, good := jsonTime(v)
		if !good {
			ok = false
			if err := s.badValue(named, RowError{Row: n, Line: line, Column: key,
				Message: fmt.Sprintf("%s is not a date and time (use RFC 3339, e.g. 2024-03-31T14:05:00Z)", jsonText(v))}); err != nil {
				return err
			}
		}
		rec.SourceUpdatedAt = t
	}
	if !ok {
		return nil
	}
	rec.Fields = domain.Fields(obj)
	return s.emit(n, rec)
}

// take removes the mapped key from obj and returns the key as the file
// spells it and its value (nil when absent).
func (j *jsonReader) take(obj map[string]any, name string) (string, any) {
	name = strings.TrimSpace(name)
	if v, ok := obj[name]; ok {
		delete(obj, name)
		return name, v
	}
	match := ""
	for k := range obj {
		if strings.EqualFold(k, name) {
			if match != "" {
				return name, nil // ambiguous: as good as absent
			}
			match = k
		}
	}
	if match == "" {
		return name, nil
	}
	v := obj[match]
	delete(obj, match)
	return match, v
}

// value checks nesting depth and string sizes within a field value.
func (j *jsonReader) value(v any, depth, n, line int, key string) error {
	lim := j.s.lim
	switch v := v.(type) {
	case string:
		if len(v) > lim.MaxFieldBytes {
			return structural(domain.CodeTooLarge, pos{row: n, line: line, column: key}, "%s, key %q: the value is longer than %s", where(n, line), clip(key), byteSize(int64(lim.MaxFieldBytes)))
		}
	case map[string]any:
		if depth > lim.MaxDepth {
			return structural(domain.CodeTooLarge, pos{row: n, line: line, column: key}, "%s, key %q is nested deeper than %d levels", where(n, line), clip(key), lim.MaxDepth)
		}
		for _, e := range v {
			if err := j.value(e, depth+1, n, line, key); err != nil {
				return err
			}
		}
	case []any:
		if depth > lim.MaxDepth {
			return structural(domain.CodeTooLarge, pos{row: n, line: line, column: key}, "%s, key %q is nested deeper than %d levels", where(n, line), clip(key), lim.MaxDepth)
		}
		for _, e := range v {
			if err := j.value(e, depth+1, n, line, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonValue converts decoded numbers to the types domain.Fields allows:
// int64 for integers that fit, float64 when that keeps the number's value
// as written (12.50 becomes 12.5, 0.1 stays 0.1), else the number's text as
// a string, so that no digit of a long number is lost. Objects and arrays
// are converted in place.
func jsonValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			if k, ok := decimalKey(v.String()); ok && k == mustDecimalKey(strconv.FormatFloat(f, 'g', -1, 64)) {
				return f
			}
		}
		return v.String()
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
	}
	return v
}

// decimalKey renders a JSON number's value canonically (sign, significant
// digits, power of ten), so that 12.50, 1.25e1 and 12.5 compare equal.
func decimalKey(s string) (string, bool) {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 1000 || e < -1000 {
			return "", false
		}
		s, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "" {
		return "0", true
	}
	return sign + digits + "e" + strconv.Itoa(exp), true
}

// mustDecimalKey is decimalKey for text strconv produced.
func mustDecimalKey(s string) string {
	k, _ := decimalKey(s)
	return k
}

// jsonActive reads an active flag: a boolean, or a string or number
// matched like a CSV value; null and a missing key read as an empty value.
func jsonActive(v any, rule activeRule) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case nil:
		return rule.parse("")
	case string:
		return rule.parse(v)
	case int64:
		return rule.parse(strconv.FormatInt(v, 10))
	case float64:
		return rule.parse(strconv.FormatFloat(v, 'f', -1, 64))
	}
	return false, false
}

// jsonTime reads an updated-at value: a string in one of timeLayouts, or
// Unix seconds or milliseconds; null, a missing key or "" give nil.
func jsonTime(v any) (*time.Time, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, true
		}
		t, ok := parseTime(v, false)
		return &t, ok
	case int64:
		t, ok := unixTime(strconv.FormatInt(v, 10))
		return &t, ok
	case float64:
		t, ok := unixTime(strconv.FormatFloat(v, 'f', -1, 64))
		return &t, ok
	}
	return nil, false
}

// jsonText renders a value as JSON for a message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b))
}
