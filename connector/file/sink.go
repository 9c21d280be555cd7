package file

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"

	"syncd/domain"
)

// sink receives rows from the format readers: it counts them, checks ids
// for duplicates, collects row errors and hands good records to fn.
type sink struct {
	ctx    context.Context
	m      Mapping
	lim    Limits
	active activeRule
	fn     func(int, domain.Record) error
	ids    idSet
	errs   []RowError
	rows   int   // rows handed to fn
	seen   int   // data rows read, good or bad
	stop   error // fn's or ctx's error, which Read returns untouched
}

func newSink(ctx context.Context, m Mapping, lim Limits, fn func(int, domain.Record) error) *sink {
	return &sink{ctx: ctx, m: m, lim: lim, active: newActiveRule(m), fn: fn, ids: newIDSet()}
}

// count registers one more data row, enforcing MaxRows and checking for
// cancellation now and then.
func (s *sink) count() error {
	s.seen++
	if s.seen > s.lim.MaxRows {
		return domain.Errorf(domain.CodeTooLarge, "the file has more than %d rows", s.lim.MaxRows)
	}
	if s.seen%1024 == 0 {
		if err := s.ctx.Err(); err != nil {
			s.stop = err
			return err
		}
	}
	return nil
}

// rowError records a row problem; past MaxRowErrors the file is refused.
func (s *sink) rowError(e RowError) error {
	if len(s.errs) >= s.lim.MaxRowErrors {
		return &domain.Error{
			Code:    domain.CodeUnprocessable,
			Message: fmt.Sprintf("more than %d row errors; fix the file or the column mapping", s.lim.MaxRowErrors),
			Details: map[string]any{"row_errors": s.errs},
		}
	}
	s.errs = append(s.errs, e)
	return nil
}

// checkID registers a row's id; a missing or repeated id is a row error and
// ok is false.
func (s *sink) checkID(id string, row, line int, column string) (ok bool, err error) {
	if id == "" {
		return false, s.rowError(RowError{Row: row, Line: line, Column: column, Message: "the id is empty"})
	}
	if first, dup := s.ids.add(id, row); dup {
		return false, s.rowError(RowError{Row: row, Line: line, Column: column,
			Message: fmt.Sprintf("id %q appears again; it was first seen in row %d", clip(id), first)})
	}
	return true, nil
}

// badValue records a fault in a value other than the id; id is the row's
// id when that is good, "" when the row has an id error too.
func (s *sink) badValue(id string, e RowError) error {
	e.ID = id
	return s.rowError(e)
}

// emit hands a good record to fn.
func (s *sink) emit(row int, rec domain.Record) error {
	if err := s.fn(row, rec); err != nil {
		s.stop = err
		return err
	}
	s.rows++
	return nil
}

// table maps the columns of a CSV or XLSX header onto a record.
type table struct {
	columns []string // by position; "" for a column without a name
	id      int
	active  int // -1 when not mapped
	updated int // -1 when not mapped
	fields  []int
	unnamed []int // columns without a name, which must stay empty
	excel   bool
}

// named returns the header names, leaving out columns without a name.
func (t *table) named() []string {
	out := make([]string, 0, len(t.columns)-len(t.unnamed))
	for _, c := range t.columns {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// unnamedValue is the error for a value in a column without a name, which
// would otherwise be dropped unseen.
func (t *table) unnamedValue(i, row, line int) error {
	return structural(domain.CodeInvalid, pos{row: row, line: line, cell: t.cell(i, row)},
		"row %d has a value in column %s, which has no name in the header", row, columnName(i, t.excel))
}

// newTable checks the header, found at row hrow, and resolves the mapping
// against it. excel says columns are named by letters rather than numbers.
// Columns without a name are allowed (spreadsheets leave spacer columns
// and trailing delimiters) as long as they hold no values.
func newTable(header []string, hrow int, m Mapping, lim Limits, excel bool) (*table, error) {
	if len(header) > lim.MaxColumns {
		return nil, structural(domain.CodeTooLarge, pos{row: hrow}, "the header has %d columns; at most %d are allowed", len(header), lim.MaxColumns)
	}
	t := &table{columns: make([]string, len(header)), excel: excel}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if len(h) > lim.MaxFieldBytes {
			return nil, structural(domain.CodeTooLarge, pos{row: hrow, column: columnName(i, excel)}, "header column %s is longer than %s", columnName(i, excel), byteSize(int64(lim.MaxFieldBytes)))
		}
		if h == "" {
			t.unnamed = append(t.unnamed, i)
			continue
		}
		if strings.IndexByte(h, 0) >= 0 {
			return nil, structural(domain.CodeInvalid, pos{row: hrow}, "not a text file: the header contains a zero byte")
		}
		if j, dup := seen[h]; dup {
			return nil, structural(domain.CodeInvalid, pos{row: hrow, column: h}, "the header names column %q twice (columns %s and %s)", clip(h), columnName(j, excel), columnName(i, excel))
		}
		seen[h] = i
		t.columns[i] = h
	}
	missing := map[string]string{}
	find := func(key, name string) int {
		if name == "" {
			return -1
		}
		i := resolve(t.columns, name)
		if i < 0 {
			missing[key] = fmt.Sprintf("the file has no column %q; its columns are %s", clip(name), listColumns(t.columns))
		}
		return i
	}
	t.id = find("id_column", m.IDColumn)
	t.active = find("active_column", m.ActiveColumn)
	t.updated = find("updated_at_column", m.UpdatedAtColumn)
	if len(missing) > 0 {
		return nil, domain.Invalid("a mapped column is not in the file", missing)
	}
	for i, c := range t.columns {
		if c != "" && i != t.id && i != t.active && i != t.updated {
			t.fields = append(t.fields, i)
		}
	}
	return t, nil
}

// stringRow turns one CSV or XLSX row (as long as the header) into a
// record. All-empty rows are skipped without counting.
func (s *sink) stringRow(t *table, vals []string, row, line int) error {
	empty := true
	for i, v := range vals {
		if v != "" {
			empty = false
		}
		if len(v) > s.lim.MaxFieldBytes {
			return structural(domain.CodeTooLarge, pos{row: row, line: line, column: t.columns[i], cell: t.cell(i, row)},
				"row %d, column %q: the value is longer than %s", row, clip(t.columns[i]), byteSize(int64(s.lim.MaxFieldBytes)))
		}
		if strings.IndexByte(v, 0) >= 0 {
			return structural(domain.CodeInvalid, pos{row: row, line: line, column: t.columns[i], cell: t.cell(i, row)},
				"not a text file: row %d, column %q contains a zero byte", row, clip(t.columns[i]))
		}
	}
	if empty {
		return nil
	}
	for _, i := range t.unnamed {
		if vals[i] != "" {
			return t.unnamedValue(i, row, line)
		}
	}
	if err := s.count(); err != nil {
		return err
	}
	rec := domain.Record{ExternalID: strings.TrimSpace(vals[t.id]), Active: true}
	ok, err := s.checkID(rec.ExternalID, row, line, t.columns[t.id])
	if err != nil {
		return err
	}
	named := ""
	if ok {
		named = rec.ExternalID
	}
	if t.active >= 0 {
		a, good := s.active.parse(vals[t.active])
		if !good {
			ok = false
			if err := s.badValue(named, RowError{Row: row, Line: line, Column: t.columns[t.active],
				Message: fmt.Sprintf("%q is not a known active value (%s)", clip(vals[t.active]), s.active.describe())}); err != nil {
				return err
			}
		}
		rec.Active = a
	}
	if t.updated >= 0 && strings.TrimSpace(vals[t.updated]) != "" {
		ts, good := parseTime(vals[t.updated], t.excel)
		if !good {
			ok = false
			if err := s.badValue(named, RowError{Row: row, Line: line, Column: t.columns[t.updated],
				Message: fmt.Sprintf("%q is not a date and time (use e.g. 2024-03-31 14:05:00 or 31.03.2024)", clip(vals[t.updated]))}); err != nil {
				return err
			}
		}
		rec.SourceUpdatedAt = &ts // only handed on when good
	}
	if !ok {
		return nil
	}
	rec.Fields = make(domain.Fields, len(t.fields))
	for _, i := range t.fields {
		rec.Fields[t.columns[i]] = vals[i]
	}
	return s.emit(row, rec)
}

// cell names an XLSX cell such as C7, "" for CSV.
func (t *table) cell(i, row int) string {
	if !t.excel {
		return ""
	}
	return columnLetters(i) + fmt.Sprint(row)
}

// columnName is how a person refers to the i-th (0-based) column: its
// letters in a spreadsheet, its number in a CSV file.
func columnName(i int, excel bool) string {
	if excel {
		return columnLetters(i)
	}
	return fmt.Sprint(i + 1)
}

// columnLetters turns a 0-based column index into A, B, ..., Z, AA, ...
func columnLetters(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}

// listColumns renders header names for a message, shortened when long.
func listColumns(cols []string) string {
	const show = 20
	q := make([]string, 0, min(len(cols), show))
	for _, c := range cols[:min(len(cols), show)] {
		q = append(q, fmt.Sprintf("%q", clip(c)))
	}
	s := strings.Join(q, ", ")
	if len(cols) > show {
		s += fmt.Sprintf(" and %d more", len(cols)-show)
	}
	return s
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// idSet remembers the ids of a file in little memory: a 64-bit hash per id
// mapped to the first row and a second, independent 32-bit check hash. Two
// different ids are confused only if both hashes collide (about 2^-96 per
// pair); two ids whose 64-bit hashes alone collide are kept apart by
// remembering those few exactly. Cost: about 20 to 40 bytes per row.
type idSet struct {
	seed, check maphash.Seed
	first       map[uint64]idEntry
	exact       map[string]int
}

type idEntry struct {
	row   uint32
	check uint32
}

func newIDSet() idSet {
	return idSet{seed: maphash.MakeSeed(), check: maphash.MakeSeed(), first: map[uint64]idEntry{}}
}

// add registers id at row; when the id was seen before it returns the row
// it was first seen in and true.
func (s *idSet) add(id string, row int) (first int, dup bool) {
	h := maphash.String(s.seed, id)
	c := uint32(maphash.String(s.check, id))
	e, ok := s.first[h]
	if !ok {
		s.first[h] = idEntry{row: uint32(row), check: c}
		return 0, false
	}
	if e.check == c {
		return int(e.row), true
	}
	if r, ok := s.exact[id]; ok {
		return r, true
	}
	if s.exact == nil {
		s.exact = map[string]int{}
	}
	s.exact[id] = row
	return 0, false
}
