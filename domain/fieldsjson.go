package domain

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendJSON appends f as json.Marshal writes it, byte for byte (record
// hashes are taken over that form), without its reflection: keys sorted,
// strings escaped as encoding/json escapes them. Text, booleans and null,
// which are nearly all of a file's values, are written here; any other
// value is handed to json.Marshal. Encoding the fields of a million
// uploaded records with json.Marshal took a quarter of the upload's CPU.
func (f Fields) AppendJSON(b []byte) ([]byte, error) {
	if f == nil {
		return append(b, "null"...), nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := f[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case nil:
			b = append(b, "null"...)
		case bool:
			if v {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		default:
			enc, err := json.Marshal(v)
			if err != nil {
				return b, err
			}
			b = append(b, enc...)
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping: ", \ and control characters escaped, <, > and & as \u003c and
// the like, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ParseFieldsJSON reads fields as a json.Decoder with UseNumber reads them
// (numbers stay exact as json.Number). An object of plain text values, as
// AppendJSON writes a file's rows, is read here without reflection, its
// keys and values cut from s without copying; anything else (escapes,
// other values, spaces, text that is not valid UTF-8) is handed to the
// decoder. Decoding stored fields with the decoder alone was a sixth of
// the server's CPU while a million records were categorised.
func ParseFieldsJSON(s string) (Fields, error) {
	if f, ok := parsePlainObject(s); ok {
		return f, nil
	}
	var f Fields
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	err := dec.Decode(&f)
	return f, err
}

// parsePlainObject reads {"key":"text",...}, text as AppendJSON writes
// it; ok is false for anything else, and for text the decoder would
// change (invalid UTF-8, a lone surrogate).
func parsePlainObject(s string) (Fields, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	f := make(Fields, strings.Count(s, `":"`))
	i := 1
	if s[i] == '}' {
		return f, i == len(s)-1
	}
	for {
		k, next, ok := plainString(s, i)
		if !ok || next >= len(s) || s[next] != ':' {
			return nil, false
		}
		v, next, ok := plainString(s, next+1)
		if !ok || next >= len(s) {
			return nil, false
		}
		f[k] = v
		switch s[next] {
		case ',':
			i = next + 1
		case '}':
			return f, next == len(s)-1
		default:
			return nil, false
		}
	}
}

// plainString reads the string that opens s[i:]: its text, and where what
// follows it starts. Text without escapes is cut from s; ok is false for
// what the decoder must judge.
func plainString(s string, i int) (text string, next int, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	high := false
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			text = s[i+1 : j]
			return text, j + 1, !high || utf8.ValidString(text)
		case c == '\\':
			return unescape(s, i+1, j)
		case c < 0x20:
			return "", 0, false
		case c >= utf8.RuneSelf:
			high = true
		}
	}
	return "", 0, false
}

// unescape reads a string from start, whose first escape is at j.
func unescape(s string, start, j int) (text string, next int, ok bool) {
	b := append(make([]byte, 0, 2*(j-start)+8), s[start:j]...)
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return "", 0, false
			}
			return string(b), j + 1, true
		case c < 0x20:
			return "", 0, false
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(s) {
			return "", 0, false
		}
		switch s[j+1] {
		case '"', '\\', '/':
			b = append(b, s[j+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if j+6 > len(s) {
				return "", 0, false
			}
			r, err := strconv.ParseUint(s[j+2:j+6], 16, 16)
			if err != nil || utf16.IsSurrogate(rune(r)) {
				return "", 0, false // a surrogate pair is rare; the decoder reads it
			}
			b = utf8.AppendRune(b, rune(r))
			j += 4
		default:
			return "", 0, false
		}
		j += 2
	}
	return "", 0, false
}
