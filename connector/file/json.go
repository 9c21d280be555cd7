package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"syncd/domain"
)

// readJSON reads a top-level array of objects, streaming one element at a
// time, or NDJSON, one object per line. Objects keep their JSON types (see
// jsonValue); their id may be a string or a number.
func readJSON(br *bufio.Reader, prefix []byte, atEOF bool, opts Options, s *sink) (Detected, error) {
	enc, dec, text, err := openText(br, prefix, atEOF, opts.Encoding)
	if err != nil {
		return Detected{}, err
	}
	j := &jsonReader{s: s, keys: map[string]struct{}{}}
	switch first, _ := skipSpace(text); first {
	case 0:
		err = domain.Errorf(domain.CodeUnprocessable, "file is empty")
	case '[':
		err = j.array(text)
	case '{':
		err = j.lines(text)
	default:
		err = domain.Errorf(domain.CodeInvalid, "JSON must be an array of objects or NDJSON (one object per line)")
	}
	return Detected{Encoding: decodedName(enc, dec), Columns: j.columns}, err
}

// skipSpace peeks past white space and returns the next byte, 0 at the end.
func skipSpace(r *bufio.Reader) (byte, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, r.UnreadByte()
	}
}

// jsonReader turns decoded JSON objects into records.
type jsonReader struct {
	s       *sink
	keys    map[string]struct{}
	columns []string
}

// array streams the elements of a top-level array.
func (j *jsonReader) array(text io.Reader) error {
	max := int64(j.s.lim.MaxRecordBytes)
	budget := &budgetReader{r: text, limit: max}
	dec := json.NewDecoder(budget)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the '[' already seen
		return err
	}
	for n := 1; dec.More(); n++ {
		start := dec.InputOffset()
		budget.limit = start + max
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return j.decodeError(err, n, 0, budget)
		}
		if dec.InputOffset()-start > max {
			return j.decodeError(errBudget, n, 0, budget)
		}
		if obj == nil {
			return structural(domain.CodeInvalid, pos{row: n}, "element %d of the array is null, not an object", n)
		}
		if err := j.object(obj, n, 0); err != nil {
			return err
		}
	}
	budget.limit = math.MaxInt64
	if _, err := dec.Token(); err != nil {
		return j.decodeError(err, 0, 0, budget)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.CodeInvalid, "the file continues after the JSON array ends; it must hold a single array")
	}
	return nil
}

// lines reads NDJSON: one object per line, blank lines allowed.
func (j *jsonReader) lines(text *bufio.Reader) error {
	var buf []byte
	for line := 1; ; line++ {
		b, err := readLine(text, &buf, j.s.lim.MaxRecordBytes)
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, errLineTooLong) {
				return structural(domain.CodeTooLarge, pos{row: line, line: line}, "line %d is longer than %s", line, byteSize(int64(j.s.lim.MaxRecordBytes)))
			}
			return err
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			if t[0] != '{' {
				return structural(domain.CodeInvalid, pos{row: line, line: line}, "line %d is not a JSON object; NDJSON needs one object per line", line)
			}
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.UseNumber()
			var obj map[string]any
			if derr := dec.Decode(&obj); derr != nil {
				return j.decodeError(derr, line, line, nil)
			}
			if _, derr := dec.Token(); !errors.Is(derr, io.EOF) {
				return structural(domain.CodeInvalid, pos{row: line, line: line}, "line %d has more after its JSON object; NDJSON needs one object per line", line)
			}
			if err := j.object(obj, line, line); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line (without its line feed) into buf, failing with
// errLineTooLong past max bytes; at the end it returns io.EOF with the last
// line.
func readLine(r *bufio.Reader, buf *[]byte, max int) ([]byte, error) {
	*buf = (*buf)[:0]
	for {
		part, err := r.ReadSlice('\n')
		*buf = append(*buf, part...)
		if len(*buf) > max+1 {
			return nil, errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(*buf, []byte{'\n'}), err
	}
}

// decodeError explains an error of encoding/json in record n.
func (j *jsonReader) decodeError(err error, n, line int, budget *budgetReader) error {
	at := pos{row: n, line: line}
	what := where(n, line)
	if n == 0 {
		what = "the end of the array"
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		de  *domain.Error
	)
	switch {
	case budget != nil && errors.Is(err, errBudget):
		return structural(domain.CodeTooLarge, at, "%s is larger than %s", what, byteSize(int64(j.s.lim.MaxRecordBytes)))
	case errors.As(err, &de):
		return de
	case errors.As(err, &typ):
		return structural(domain.CodeInvalid, at, "%s is a JSON %s, not an object", what, typ.Value)
	case errors.As(err, &syn):
		return structural(domain.CodeInvalid, at, "%s is not valid JSON: %s", what, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return structural(domain.CodeInvalid, at, "the JSON ends in the middle of %s", what)
	}
	return err
}

// where names record n for a message: its line in NDJSON, its position
// in an array.
func where(n, line int) string {
	if line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("element %d of the array", n)
}

// budgetReader lets encoding/json read only up to limit, so one huge
// element cannot make the decoder buffer the rest of the file.
type budgetReader struct {
	r     io.Reader
	limit int64
	n     int64
}

var errBudget = errors.New("record over budget")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		return 0, errBudget
	}
	if rest := b.limit - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}
