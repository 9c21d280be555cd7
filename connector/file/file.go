// Package file turns an uploaded CSV, XLSX or JSON file into records.
//
// Reading streams: rows reach the callback one at a time and only a bounded
// window of the file is held in memory, so a file of millions of rows costs
// about as much memory as a small one (plus a few dozen bytes per row for
// duplicate-id detection). Problems come back in two kinds. A structural
// problem (not a CSV at all, a quote never closed, a ragged row, a zip bomb,
// a limit exceeded) ends the read with a *domain.Error naming the row and
// column where possible; the caller must then apply nothing, including rows
// it was already given. A row problem (missing or duplicate id, a bad
// active or updated-at value) is reported as a RowError; that row is not
// handed to the callback and the others are.
package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"syncd/domain"
)

// Format names a file format.
type Format string

// The formats Read understands.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
	FormatJSON Format = "json" // an array of objects, or NDJSON (one object per line)
)

// Options say how to read a file. The zero value detects everything.
type Options struct {
	// Format forces a format; "" detects it from the content, with the
	// filename's extension deciding between CSV and JSON.
	Format Format
	// Filename is the uploaded file's name, used only to detect the format.
	Filename string
	// Delimiter is the CSV field separator; 0 sniffs it among ; , tab and |.
	Delimiter rune
	// Encoding is the character set of a CSV or JSON file that is not
	// Unicode. A byte-order mark always wins, then UTF-16 recognised by its
	// zero bytes, then valid UTF-8; only then is this encoding used. ""
	// means windows-1252. Also known: iso-8859-1 (read as windows-1252, as
	// browsers do), iso-8859-15, utf-8 (invalid bytes become an error),
	// utf-16, utf-16le and utf-16be.
	Encoding string
	// Sheet names the XLSX worksheet to read; "" reads the first.
	Sheet string
	// SpoolDir holds the temporary copy of an XLSX upload (the zip format
	// needs random access) and excelize's unpacked parts; "" is os.TempDir().
	// Files are named syncd-upload-* and excelize-* and removed before
	// Read returns.
	SpoolDir string
	// Limits bound the work a file may cause; zero fields take the values
	// of DefaultLimits.
	Limits Limits
}

// Limits bound what one file may cost. Exceeding any of them is a
// structural error with domain.CodeTooLarge.
type Limits struct {
	MaxBytes      int64 // size of the upload as received
	MaxRows       int   // data rows, header excluded
	MaxColumns    int   // header columns (CSV, XLSX) or distinct keys (JSON)
	MaxFieldBytes int   // one value, in bytes of UTF-8
	// MaxRecordBytes bounds one CSV record or JSON object as text. It keeps
	// memory small when a quote is never closed.
	MaxRecordBytes int
	// MaxDepth bounds the nesting of JSON objects and arrays in a record;
	// the record object itself is level 1.
	MaxDepth int
	// MaxRowErrors is how many row errors are collected before the whole
	// file is refused with domain.CodeUnprocessable.
	MaxRowErrors int
	// MaxUnzipBytes bounds the unpacked size of all parts of an XLSX file
	// together; it is what stops a zip bomb.
	MaxUnzipBytes int64
	// MaxXMLInMemory is the largest XLSX part held in memory: larger
	// worksheets and shared-string tables are unpacked to SpoolDir, larger
	// other parts (styles, images) are refused.
	MaxXMLInMemory int64
}

// DefaultLimits returns the limits used for zero fields of Options.Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:       512 << 20,
		MaxRows:        5_000_000,
		MaxColumns:     1000,
		MaxFieldBytes:  64 << 10,
		MaxRecordBytes: 4 << 20,
		MaxDepth:       8,
		MaxRowErrors:   1000,
		MaxUnzipBytes:  1 << 30,
		MaxXMLInMemory: 16 << 20,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = d.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = d.MaxColumns
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = d.MaxFieldBytes
	}
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = d.MaxRecordBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxRowErrors <= 0 {
		l.MaxRowErrors = d.MaxRowErrors
	}
	if l.MaxUnzipBytes <= 0 {
		l.MaxUnzipBytes = d.MaxUnzipBytes
	}
	if l.MaxXMLInMemory <= 0 {
		l.MaxXMLInMemory = d.MaxXMLInMemory
	}
	// excelize refuses an in-memory limit above the total.
	l.MaxXMLInMemory = min(l.MaxXMLInMemory, l.MaxUnzipBytes)
	return l
}

// Detected describes what Read found, for showing back to the person who
// uploaded the file.
type Detected struct {
	Format    Format
	Encoding  string   // CSV and JSON: the character set the text was read in
	Delimiter string   // CSV only
	Sheet     string   // XLSX only
	Columns   []string // header names, or JSON keys in order of first appearance
	Rows      int      // rows handed to the callback
}

// RowError is a problem with one row; the row was not handed to the
// callback. Row is the 1-based row number as a person sees it: in XLSX the
// sheet's row number; in CSV the record number, the header (the first
// record with a value, normally the first line) being row 1, a value
// spanning lines counting once and blank lines not at all; in a JSON array
// the element's position; in NDJSON the line.
type RowError struct {
	Row     int    `json:"row"`
	Line    int    `json:"line,omitempty"` // CSV: the text line the row starts on
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
	// ID is the row's id when the fault is in another column and the id
	// itself is good, so the row still names its record.
	ID string `json:"id,omitempty"`
}

// Read streams every row of the file in r to fn, in file order, with the
// row number as in RowError. It returns what it detected and the row
// errors. A structural problem ends the read with a *domain.Error
// (CodeInvalid for malformed files, CodeTooLarge for exceeded limits,
// CodeUnprocessable for an empty file or too many row errors) whose Details
// carry "row", "line", "column" or "cell" where known; fn may already have
// seen earlier rows, so callers stage rows and apply them only when Read
// succeeds. An error returned by fn stops the read and is returned as is;
// so is ctx's error. A header without data rows is valid and yields no rows.
func Read(ctx context.Context, r io.Reader, opts Options, m Mapping, fn func(row int, rec domain.Record) error) (Detected, []RowError, error) {
	if err := opts.validate(); err != nil {
		return Detected{}, nil, err
	}
	if err := m.validate(); err != nil {
		return Detected{}, nil, err
	}
	lim := opts.Limits.withDefaults()
	in := &limitReader{r: r, max: lim.MaxBytes}
	br := bufio.NewReaderSize(in, prefixSize)
	prefix, err := br.Peek(prefixSize)
	atEOF := errors.Is(err, io.EOF)
	if err != nil && !atEOF {
		return Detected{}, nil, readErr(err)
	}
	format, err := detectFormat(prefix, opts.Format, opts.Filename)
	if err != nil {
		return Detected{Format: format}, nil, err
	}
	s := newSink(ctx, m, lim, fn)
	var det Detected
	switch format {
	case FormatXLSX:
		det, err = readXLSX(ctx, r, in, br, opts, s)
	case FormatJSON:
		det, err = readJSON(br, prefix, atEOF, opts, s)
	default:
		det, err = readCSV(br, prefix, atEOF, opts, s)
	}
	det.Format, det.Rows = format, s.rows
	if err != nil {
		if err == s.stop { // fn's or ctx's error, passed through untouched
			return det, s.errs, err
		}
		return det, s.errs, readErr(err)
	}
	return det, s.errs, nil
}

// validate checks the options that do not depend on the file.
func (o Options) validate() error {
	switch o.Format {
	case "", FormatCSV, FormatXLSX, FormatJSON:
	default:
		return domain.Invalid("unknown file format", map[string]string{"format": "must be csv, xlsx or json"})
	}
	if o.Delimiter != 0 && !validDelimiter(o.Delimiter) {
		return domain.Invalid("unusable CSV delimiter", map[string]string{"delimiter": "must be a single character other than a quote or line break"})
	}
	if _, ok := lookupEncoding(o.Encoding); !ok {
		return domain.Invalid("unknown encoding", map[string]string{"encoding": "must be one of " + strings.Join(encodingNames, ", ")})
	}
	return nil
}

// prefixSize is how much of the upload is inspected before reading: format,
// encoding and delimiter are decided from it.
const prefixSize = 64 << 10

// detectFormat decides the format: a forced one, else magic bytes, else the
// filename's extension, else the first significant character.
func detectFormat(prefix []byte, forced Format, filename string) (Format, error) {
	if forced != "" {
		return forced, nil
	}
	switch {
	case bytes.HasPrefix(prefix, []byte("PK\x03\x04")):
		return FormatXLSX, nil
	case bytes.HasPrefix(prefix, []byte("\xD0\xCF\x11\xE0")):
		return "", domain.Errorf(domain.CodeInvalid, "old Excel (.xls) and password-protected workbooks are not supported; save the file as .xlsx or CSV")
	}
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".csv", ".tsv", ".txt", ".tab":
		return FormatCSV, nil
	case ".json", ".ndjson", ".jsonl":
		return FormatJSON, nil
	case ".xlsx", ".xlsm":
		return FormatXLSX, nil
	}
	if c := firstSignificant(prefix); c == '[' || c == '{' {
		return FormatJSON, nil
	}
	return FormatCSV, nil
}

// firstSignificant returns the first byte that is not a byte-order mark,
// white space or a zero byte (so UTF-16 text is seen too), or 0.
func firstSignificant(b []byte) byte {
	b = b[min(len(bomOf(b)), len(b)):]
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', 0:
			continue
		}
		return c
	}
	return 0
}

// limitReader fails with CodeTooLarge once more than max bytes arrive.
type limitReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	if rest := l.max - l.n + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	return n, err
}

func (l *limitReader) tooLarge() error {
	return domain.Errorf(domain.CodeTooLarge, "the file is larger than %s", byteSize(l.max))
}

// readErr turns an error met while reading the upload into the error Read
// returns: our own structural errors (which may arrive through encoding/csv,
// encoding/json or a transform.Reader) as they are, failures of the
// underlying reader wrapped.
func readErr(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	return fmt.Errorf("file: read upload: %w", err)
}

// byteSize renders a byte count for messages.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// structural builds a structural error at a position in the file. Zero
// position parts are left out of Details.
func structural(code domain.Code, at pos, format string, args ...any) *domain.Error {
	e := domain.Errorf(code, format, args...)
	d := map[string]any{}
	if at.row > 0 {
		d["row"] = at.row
	}
	if at.line > 0 {
		d["line"] = at.line
	}
	if at.column != "" {
		d["column"] = at.column
	}
	if at.cell != "" {
		d["cell"] = at.cell
	}
	if len(d) > 0 {
		e.Details = d
	}
	return e
}

// pos locates a structural problem.
type pos struct {
	row, line    int
	column, cell string
}
