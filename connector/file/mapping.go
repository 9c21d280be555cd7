package file

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"syncd/domain"
)

// Mapping says which columns (or JSON keys) carry a record's id, its active
// flag and its updated-at time. Every other column becomes a field. Names
// match exactly, or else case-insensitively when only one column fits.
type Mapping struct {
	// IDColumn holds the record's external id; required. Surrounding white
	// space is trimmed from ids.
	IDColumn string
	// ActiveColumn holds the active flag; "" makes every record active.
	ActiveColumn string
	// ActiveValues are the values meaning active, compared without case
	// and surrounding space. Empty means true, 1, yes, ja, x, active, aktiv.
	ActiveValues []string
	// InactiveValues are the values meaning inactive. Empty means false, 0,
	// no, nein, inactive, inaktiv and the empty value, unless ActiveValues
	// is set: then everything not active is inactive. A value in neither
	// list is a row error.
	InactiveValues []string
	// UpdatedAtColumn holds the source's updated-at time: RFC 3339,
	// 2006-01-02[ 15:04[:05]], 2006-01-02T15:04:05 or 2.1.2006[ 15:04[:05]]
	// (UTC when no zone is given); in JSON also Unix seconds, or
	// milliseconds when the number is 1e11 or more. An empty value leaves
	// SourceUpdatedAt nil.
	UpdatedAtColumn string
}

var (
	defaultActive   = []string{"true", "1", "yes", "ja", "x", "active", "aktiv"}
	defaultInactive = []string{"false", "0", "no", "nein", "inactive", "inaktiv", ""}
)

// validate checks the mapping on its own, before any file is read.
func (m Mapping) validate() error {
	id := strings.TrimSpace(m.IDColumn)
	if id == "" {
		return domain.Invalid("the id column is required", map[string]string{"id_column": "required"})
	}
	fields := map[string]string{}
	if m.ActiveColumn != "" && strings.EqualFold(strings.TrimSpace(m.ActiveColumn), id) {
		fields["active_column"] = "must differ from the id column"
	}
	if m.UpdatedAtColumn != "" && strings.EqualFold(strings.TrimSpace(m.UpdatedAtColumn), id) {
		fields["updated_at_column"] = "must differ from the id column"
	}
	if m.ActiveColumn != "" && strings.EqualFold(strings.TrimSpace(m.ActiveColumn), strings.TrimSpace(m.UpdatedAtColumn)) {
		fields["updated_at_column"] = "must differ from the active column"
	}
	if len(fields) > 0 {
		return domain.Invalid("the column mapping is inconsistent", fields)
	}
	return nil
}

// resolve finds name among names: exactly, else by a unique
// case-insensitive match. It returns -1 when nothing (or more than one
// column) fits.
func resolve(names []string, name string) int {
	name = strings.TrimSpace(name)
	if name == "" {
		return -1
	}
	fold := -1
	for i, n := range names {
		if n == name {
			return i
		}
		if strings.EqualFold(n, name) {
			if fold >= 0 {
				fold = -2
			} else if fold == -1 {
				fold = i
			}
		}
	}
	return max(fold, -1)
}

// activeRule decides whether a value means active.
type activeRule struct {
	active, inactive []string
	strict           bool // a value in neither list is an error
}

func newActiveRule(m Mapping) activeRule {
	switch {
	case len(m.ActiveValues) == 0:
		inactive := m.InactiveValues
		if len(inactive) == 0 {
			inactive = defaultInactive
		}
		return activeRule{active: defaultActive, inactive: inactive, strict: true}
	case len(m.InactiveValues) == 0:
		return activeRule{active: m.ActiveValues}
	}
	return activeRule{active: m.ActiveValues, inactive: m.InactiveValues, strict: true}
}

// parse reads an active flag, reporting false for an unknown value.
func (a activeRule) parse(v string) (active, ok bool) {
	v = strings.TrimSpace(v)
	for _, t := range a.active {
		if strings.EqualFold(v, strings.TrimSpace(t)) {
			return true, true
		}
	}
	if !a.strict {
		return false, true
	}
	for _, f := range a.inactive {
		if strings.EqualFold(v, strings.TrimSpace(f)) {
			return false, true
		}
	}
	return false, false
}

// describe lists the accepted values for a message.
func (a activeRule) describe() string {
	quote := func(vs []string) string {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = strconv.Quote(v)
		}
		return strings.Join(q, ", ")
	}
	return fmt.Sprintf("active: %s; inactive: %s", quote(a.active), quote(a.inactive))
}

// parseTime reads an updated-at value in one of the layouts Mapping
// documents, as UTC unless it names a zone; excel adds how excelize renders
// Excel's built-in date formats (14 and 22, month first by definition), so
// XLSX date cells parse. The layouts to try are picked by the value's shape:
// every failed time.Parse allocates, and this runs once per row.
func parseTime(v string, excel bool) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, l := range timeLayoutsFor(v, excel) {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Layout groups for timeLayoutsFor.
var (
	layoutsISOT       = []string{time.RFC3339, "2006-01-02T15:04:05"}
	layoutsISOSeconds = []string{"2006-01-02 15:04:05"}
	layoutsISOMinutes = []string{"2006-01-02 15:04"}
	layoutsISODate    = []string{"2006-01-02"}
	layoutsDotSeconds = []string{"2.1.2006 15:04:05"}
	layoutsDotMinutes = []string{"2.1.2006 15:04"}
	layoutsDotDate    = []string{"2.1.2006"}
	layoutsExcelTime  = []string{"1/2/06 15:04", "1/2/2006 15:04"}
	layoutsExcelDate  = []string{"01-02-06", "1/2/06", "1/2/2006"}
)

// timeLayoutsFor returns the layouts that can match v.
func timeLayoutsFor(v string, excel bool) []string {
	colons := strings.Count(v, ":")
	switch {
	case len(v) >= 10 && v[4] == '-':
		switch {
		case strings.ContainsAny(v, "Tt"):
			return layoutsISOT
		case colons == 2:
			return layoutsISOSeconds
		case colons == 1:
			return layoutsISOMinutes
		}
		return layoutsISODate
	case strings.IndexByte(v[:min(len(v), 3)], '.') > 0:
		switch colons {
		case 2:
			return layoutsDotSeconds
		case 1:
			return layoutsDotMinutes
		}
		return layoutsDotDate
	case !excel:
		return nil
	case colons == 1:
		return layoutsExcelTime
	}
	return layoutsExcelDate
}

// unixTime reads a JSON number as Unix seconds, or milliseconds from 1e11
// on: no plausible seconds value is that large (year 5138) and every
// millisecond value after 1973 is.
func unixTime(n string) (time.Time, bool) {
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || f != f || f > 1e15 || f < -1e15 {
		return time.Time{}, false
	}
	if f >= 1e11 || f <= -1e11 {
		return time.UnixMilli(int64(f)).UTC(), true
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
}
