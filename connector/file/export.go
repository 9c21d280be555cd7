package file

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"

	"syncd/domain"
)

// Exporter writes records as the CSV a file connection's own system can load
// again: the id column first, the active column when the object has one,
// then every field in name order. It writes UTF-8 with a byte-order mark, so
// spreadsheet programs open umlauts and æøå correctly.
type Exporter struct {
	w       *csv.Writer
	buf     *bufio.Writer
	cfg     ObjectConfig
	columns []string
	row     []string
}

// NewExporter starts a CSV export of the given field columns to w.
func NewExporter(w io.Writer, cfg ObjectConfig, fields []string) (*Exporter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	if _, err := buf.WriteString("\uFEFF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true // what spreadsheet programs and Windows ERPs expect
	if d, _ := utf8.DecodeRuneInString(cfg.Delimiter); cfg.Delimiter != "" && d != utf8.RuneError {
		cw.Comma = d
	}
	idCol := cfg.IDColumn
	if idCol == "" {
		idCol = "id"
	}
	header := []string{idCol}
	if cfg.ActiveColumn != "" {
		header = append(header, cfg.ActiveColumn)
	}
	cols := make([]string, 0, len(fields))
	for _, f := range fields {
		if f != idCol && f != cfg.ActiveColumn {
			cols = append(cols, f)
		}
	}
	sort.Strings(cols)
	header = append(header, cols...)
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &Exporter{w: cw, buf: buf, cfg: cfg, columns: cols, row: make([]string, len(header))}, nil
}

// Write adds one record; tombstones are skipped.
func (e *Exporter) Write(r domain.Record) error {
	if r.Deleted {
		return nil
	}
	row := e.row[:0]
	row = append(row, r.ExternalID)
	if e.cfg.ActiveColumn != "" {
		active := "false"
		if r.Active {
			active = "true"
			if len(e.cfg.ActiveValues) > 0 {
				active = e.cfg.ActiveValues[0]
			}
		}
		row = append(row, active)
	}
	for _, c := range e.columns {
		row = append(row, cell(r.Fields[c]))
	}
	return e.w.Write(row)
}

// Close flushes what is buffered.
func (e *Exporter) Close() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return err
	}
	return e.buf.Flush()
}

// cell prints a field value as a CSV cell: text as is, nested values as JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, float64, int64, int, json.Number:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
