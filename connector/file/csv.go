package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"syncd/domain"
)

// readCSV reads delimited text: it settles the encoding and delimiter from
// the first bytes, then streams records through encoding/csv (strict
// quotes, every record as wide as the header).
func readCSV(br *bufio.Reader, prefix []byte, atEOF bool, opts Options, s *sink) (det Detected, err error) {
	enc, dec, text, err := openText(br, prefix, atEOF, opts.Encoding)
	if err != nil {
		return det, err
	}
	defer func() { det.Encoding = decodedName(enc, dec) }()
	sample, err := text.Peek(prefixSize)
	textEOF := errors.Is(err, io.EOF)
	if err != nil && !textEOF {
		return det, err
	}
	crOnly := crLineEnds(sample)
	if crOnly {
		sample = bytes.ReplaceAll(sample, []byte{'\r'}, []byte{'\n'})
	}
	delim := opts.Delimiter
	if delim == 0 {
		delim = sniffDelimiter(sample, textEOF)
	}
	det.Delimiter = string(delim)

	guard := &recordGuard{r: text, max: s.lim.MaxRecordBytes, crOnly: crOnly, line: 1}
	cr := csv.NewReader(guard)
	cr.Comma = delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // until the header is found
	// The header is the first record with a value, as in XLSX.
	var header []string
	hrow := 0
	for header == nil {
		hrow++
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return det, domain.Errorf(domain.CodeUnprocessable, "file is empty")
		}
		if err != nil {
			return det, csvError(err, hrow, 0, 0, delim)
		}
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				header = rec
				break
			}
		}
	}
	t, err := newTable(header, hrow, s.m, s.lim, false)
	if err != nil {
		return det, err
	}
	cr.FieldsPerRecord = len(header)
	det.Columns = t.named()
	for row := hrow + 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return det, csvError(err, row, len(rec), len(t.columns), delim)
		}
		line, _ := cr.FieldPos(0)
		if err := s.stringRow(t, rec, row, line); err != nil {
			return det, err
		}
	}
	return det, nil
}

// csvError explains a parse error of encoding/csv at a row; a ragged row
// had got fields where the header has want.
func csvError(err error, row, got, want int, delim rune) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	at := pos{row: row, line: pe.StartLine}
	switch {
	case errors.Is(err, csv.ErrFieldCount):
		return structural(domain.CodeInvalid, at,
			"row %d (line %d) has %d fields but the header has %d; check the delimiter %q and the quotes",
			row, pe.StartLine, got, want, string(delim))
	case errors.Is(err, csv.ErrBareQuote):
		return structural(domain.CodeInvalid, at,
			"row %d (line %d, character %d) has a quote inside a value that does not start with one; put the value in quotes and double the quote inside", row, pe.Line, pe.Column)
	case errors.Is(err, csv.ErrQuote):
		return structural(domain.CodeInvalid, at,
			"row %d (starting at line %d) has a quoted value that is not closed, or text after its closing quote (line %d)", row, pe.StartLine, pe.Line)
	}
	return structural(domain.CodeInvalid, at, "row %d (line %d) cannot be read as CSV", row, pe.StartLine)
}

// recordGuard stands between the decoded text and encoding/csv, which
// would otherwise gather an unclosed quote's whole remaining file into one
// record. It follows quoting closely enough to find record ends and fails
// when a record grows past max bytes. It also turns lone carriage returns
// into line feeds for files that end lines that way.
type recordGuard struct {
	r      io.Reader
	max    int
	crOnly bool
	quoted bool
	n      int // bytes of the current record
	line   int // line the next byte is on
	start  int // line the current record started on
}

func (g *recordGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	text := p[:n]
	if g.crOnly {
		for off := 0; ; {
			i := bytes.IndexByte(text[off:], '\r')
			if i < 0 {
				break
			}
			text[off+i] = '\n'
			off += i + 1
		}
	}
	// Line by line, with the quotes of each counted at once: the bytes in
	// between need no look of their own.
	for rest := text; len(rest) > 0; {
		if g.n == 0 {
			g.start = g.line
		}
		end := bytes.IndexByte(rest, '\n')
		line := rest
		if end >= 0 {
			line = rest[:end]
		}
		g.n += len(line)
		if bytes.Count(line, []byte{'"'})%2 == 1 {
			g.quoted = !g.quoted
		}
		if g.n > g.max {
			return 0, g.tooLong()
		}
		if end < 0 {
			break
		}
		g.n++
		g.line++
		if !g.quoted {
			g.n = 0
		} else if g.n > g.max {
			return 0, g.tooLong()
		}
		rest = rest[end+1:]
	}
	return n, err
}

func (g *recordGuard) tooLong() error {
	return structural(domain.CodeTooLarge, pos{line: g.start},
		"the row starting at line %d is longer than %s; a quote may not be closed", g.start, byteSize(int64(g.max)))
}
