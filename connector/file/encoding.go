package file

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"syncd/domain"
)

// openText decides a text file's encoding from its first bytes, refuses
// binary content and returns the decoded text. The decoder t reports the
// encoding finally used through decodedName.
func openText(br *bufio.Reader, prefix []byte, atEOF bool, chosen string) (e textEncoding, t transform.Transformer, text *bufio.Reader, err error) {
	e = detectEncoding(prefix, atEOF, chosen)
	if e.name != "utf-16le" && e.name != "utf-16be" && looksBinary(prefix[e.bom:]) {
		return e, nil, nil, domain.Errorf(domain.CodeInvalid, "not a text file: upload a CSV, XLSX or JSON file")
	}
	if _, err := br.Discard(e.bom); err != nil {
		return e, nil, nil, err
	}
	t = e.transformer()
	return e, t, bufio.NewReaderSize(transform.NewReader(br, t), prefixSize), nil
}

// charset is an encoding a caller may choose.
type charset struct {
	name   string
	legacy *charmap.Charmap // nil for the Unicode encodings
}

// charsets by the names and aliases Options.Encoding accepts.
var charsets = map[string]charset{
	"windows-1252": {"windows-1252", charmap.Windows1252},
	"cp1252":       {"windows-1252", charmap.Windows1252},
	// Real ISO-8859-1 text never uses 0x80-0x9F (C1 controls), while files
	// labelled so often carry windows-1252's € or quotes there; browsers
	// read the label as windows-1252 for the same reason.
	"iso-8859-1":  {"iso-8859-1", charmap.Windows1252},
	"latin1":      {"iso-8859-1", charmap.Windows1252},
	"iso-8859-15": {"iso-8859-15", charmap.ISO8859_15},
	"latin9":      {"iso-8859-15", charmap.ISO8859_15},
	"utf-8":       {name: "utf-8"},
	"utf8":        {name: "utf-8"},
	"utf-16":      {name: "utf-16"},
	"utf-16le":    {name: "utf-16le"},
	"utf-16be":    {name: "utf-16be"},
}

// encodingNames lists the canonical names for messages.
var encodingNames = []string{"windows-1252", "iso-8859-1", "iso-8859-15", "utf-8", "utf-16", "utf-16le", "utf-16be"}

// lookupEncoding finds a chosen encoding; "" is windows-1252.
func lookupEncoding(name string) (charset, bool) {
	name = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	if name == "" {
		name = "windows-1252"
	}
	c, ok := charsets[name]
	return c, ok
}

// bomOf returns the byte-order mark b starts with, or nil.
func bomOf(b []byte) []byte {
	for _, bom := range [][]byte{{0xEF, 0xBB, 0xBF}, {0xFF, 0xFE}, {0xFE, 0xFF}} {
		if bytes.HasPrefix(b, bom) {
			return bom
		}
	}
	return nil
}

// textEncoding is the decision about how to decode a text file.
type textEncoding struct {
	name string // utf-8, utf-16le, utf-16be or chosen.name; "" while undecided
	bom  int    // bytes of byte-order mark to skip
	// chosen is the caller's choice: what an undecided (so far ASCII) file
	// falls back to when it turns out not to be UTF-8.
	chosen charset
}

// detectEncoding decides from the first bytes of a file: a byte-order mark
// wins, then UTF-16 recognised by its zero bytes, then valid UTF-8, then the
// chosen encoding. When the prefix is plain ASCII the choice between UTF-8
// and a legacy charset waits for the first non-ASCII byte (see textDecoder).
func detectEncoding(prefix []byte, atEOF bool, chosen string) textEncoding {
	c, _ := lookupEncoding(chosen)
	e := textEncoding{chosen: c}
	switch bom := bomOf(prefix); {
	case len(bom) == 3:
		e.name, e.bom = "utf-8", 3
		return e
	case bom != nil:
		e.name, e.bom = "utf-16be", 2
		if bom[0] == 0xFF {
			e.name = "utf-16le"
		}
		return e
	}
	if le, ok := looksUTF16(prefix); ok {
		e.name = "utf-16be"
		if le {
			e.name = "utf-16le"
		}
		return e
	}
	body := prefix
	if !atEOF {
		body = trimIncompleteRune(body)
	}
	ascii := isASCII(body)
	switch {
	case (!ascii && utf8.Valid(body)) || (ascii && atEOF):
		e.name = "utf-8"
	case c.legacy != nil:
		if !ascii {
			e.name = c.name
		}
	case ascii || c.name == "utf-8":
		e.name = "utf-8" // a Unicode encoding was chosen
	case c.name == "utf-16be":
		e.name = "utf-16be"
	default:
		e.name = "utf-16le"
	}
	return e
}

// looksUTF16 recognises UTF-16 without a byte-order mark: text in Latin
// scripts has a zero byte in most code units, always on the same side.
func looksUTF16(b []byte) (littleEndian, ok bool) {
	n := min(len(b), 4096) / 2
	if n < 2 {
		return false, false
	}
	var even, odd int
	for i := 0; i < n; i++ {
		if b[2*i] == 0 {
			even++
		}
		if b[2*i+1] == 0 {
			odd++
		}
	}
	switch {
	case odd*2 >= n && even*20 < n:
		return true, true
	case even*2 >= n && odd*20 < n:
		return false, true
	}
	return false, false
}

// isASCII reports whether b has no byte above 0x7F.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// trimIncompleteRune drops a UTF-8 sequence cut off at the end of b.
func trimIncompleteRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// looksBinary reports whether a text file's first bytes are not text: a
// zero byte, or many control characters. UTF-16 is decided before.
func looksBinary(b []byte) bool {
	control := 0
	for _, c := range b {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v', c == 0x7F:
			control++
		}
	}
	return control*10 > len(b)
}

// transformer returns the decoder from the file's bytes (after the
// byte-order mark) to UTF-8.
func (e textEncoding) transformer() transform.Transformer {
	switch e.name {
	case "utf-16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case "utf-16be":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
	d := &textDecoder{chosen: e.chosen}
	switch {
	case e.name == "utf-8" || (e.name == "" && e.chosen.legacy == nil):
		d.start = modeUTF8
	case e.name != "":
		d.start = modeLegacy
	}
	d.Reset()
	return d
}

// decodedName is the encoding a file was read in, once it has been read.
func decodedName(e textEncoding, t transform.Transformer) string {
	if d, ok := t.(*textDecoder); ok {
		return d.name()
	}
	return e.name
}

// decodeMode is the state of a textDecoder.
type decodeMode int

const (
	modeUndecided decodeMode = iota // ASCII so far
	modeUTF8                        // validating UTF-8
	modeLegacy                      // decoding a legacy charset
)

// textDecoder decodes UTF-8 or a legacy charset streaming. Undecided, it
// passes ASCII through and decides at the first non-ASCII bytes: UTF-8 if
// they are valid UTF-8, else the fallback charset. As UTF-8 it reports an
// invalid byte as a structural error naming the line, rather than letting
// it turn silently into U+FFFD.
type textDecoder struct {
	start  decodeMode // the mode Reset returns to
	mode   decodeMode
	chosen charset
	legacy transform.Transformer
	line   int
}

// name is the encoding decided on, utf-8 for a file that stayed ASCII.
func (d *textDecoder) name() string {
	if d.mode == modeLegacy {
		return d.chosen.name
	}
	return "utf-8"
}

// Reset implements transform.Transformer.
func (d *textDecoder) Reset() {
	d.mode, d.line, d.legacy = d.start, 1, nil
	if d.mode == modeLegacy {
		d.legacy = d.chosen.legacy.NewDecoder()
	}
}

// Transform implements transform.Transformer.
func (d *textDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if d.mode == modeLegacy {
			n, m, err := d.legacy.Transform(dst[nDst:], src[nSrc:], atEOF)
			return nDst + n, nSrc + m, err
		}
		c := src[nSrc]
		if c < utf8.RuneSelf {
			if nDst >= len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
			nSrc++
			if c == '\n' {
				d.line++
			}
			continue
		}
		if d.mode == modeUndecided {
			rest := src[nSrc:]
			if !atEOF {
				rest = trimIncompleteRune(rest)
				if len(rest) == 0 {
					return nDst, nSrc, transform.ErrShortSrc
				}
			}
			if utf8.Valid(rest) || d.chosen.legacy == nil {
				d.mode = modeUTF8
			} else {
				d.mode = modeLegacy
				d.legacy = d.chosen.legacy.NewDecoder()
			}
			continue
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(src[nSrc:]) {
				return nDst, nSrc, transform.ErrShortSrc
			}
			return nDst, nSrc, d.invalid(c)
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		copy(dst[nDst:], src[nSrc:nSrc+size])
		nDst += size
		nSrc += size
	}
	return nDst, nSrc, nil
}

// invalid describes an invalid UTF-8 byte.
func (d *textDecoder) invalid(c byte) error {
	hint := "windows-1252"
	if d.chosen.legacy != nil {
		hint = d.chosen.name
	}
	return structural(domain.CodeInvalid, pos{line: d.line},
		"line %d is not valid UTF-8 (byte 0x%02X): the file seems to use another encoding such as %s, or to mix encodings; choose the file's encoding when uploading",
		d.line, c, hint)
}

// String describes the decoder in test failures.
func (d *textDecoder) String() string { return fmt.Sprintf("textDecoder(%s)", d.name()) }
