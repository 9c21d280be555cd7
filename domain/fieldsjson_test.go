package domain

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// AppendJSON must write what json.Marshal writes, byte for byte: stored
// record hashes were taken over json.Marshal's form.
// Strings drawn from bytes that need escaping, HTML characters, invalid
// UTF-8 and the two JavaScript line separators, among plain text.
var jsonText = rapid.OneOf(
	rapid.String(),
	rapid.StringOf(rapid.SampledFrom([]rune{'a', 'Æ', '"', '\\', '<', '>', '&', '\n', '\r', '\t', '\b', '\f', 0, 0x1f, 0x7f, '\u2028', '\u2029', '\ufffd', '😀'})),
	rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
)

var jsonValue = rapid.OneOf(
	rapid.Map(jsonText, func(s string) any { return s }),
	rapid.Just[any](nil),
	rapid.Map(rapid.Bool(), func(b bool) any { return b }),
	rapid.Map(rapid.Float64(), func(f float64) any { return f }),
	rapid.Map(rapid.Int64(), func(n int64) any { return json.Number(strconv.FormatInt(n, 10)) }),
	rapid.Map(rapid.SliceOf(jsonText), func(s []string) any { return s }),
	rapid.Map(rapid.MapOf(jsonText, jsonText), func(m map[string]string) any { return m }),
)

// drawFields draws fields of such values, now and then nil.
func drawFields(t *rapid.T) Fields {
	if rapid.IntRange(0, 9).Draw(t, "nil") == 0 {
		return nil
	}
	return rapid.MapOf(jsonText, jsonValue).Draw(t, "fields")
}

func TestFieldsAppendJSONIsJSONMarshal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := drawFields(t)
		want, wantErr := json.Marshal(f)
		got, err := f.AppendJSON([]byte("prefix"))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
		}
		if err == nil && string(got) != "prefix"+string(want) {
			t.Fatalf("\n got %q\nwant %q", got, "prefix"+string(want))
		}
	})
}

// decodeJSON is how stored fields were read before ParseFieldsJSON, and
// what it must read alike.
func decodeJSON(s string) (Fields, error) {
	var f Fields
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	err := dec.Decode(&f)
	return f, err
}

// ParseFieldsJSON reads what AppendJSON writes as the decoder does.
func TestParseFieldsJSONIsTheDecoder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := drawFields(t)
		b, err := f.AppendJSON(nil)
		if err != nil {
			t.Skip("json.Marshal refuses it too")
		}
		want, wantErr := decodeJSON(string(b))
		got, err := ParseFieldsJSON(string(b))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %#v, %v\nwant %#v, %v", b, got, err, want, wantErr)
		}
	})
}

// Whatever the text, ParseFieldsJSON reads it as the decoder does.
func FuzzParseFieldsJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":"b","a":"c"}`, `{"ø":"Müller","x":""}`, `{"a":"b"}}`, `{"a":"\u00e6"}`,
		`{"a":1}`, `{"a": "b"}`, `{"a":"\xff"}`, "{\"a\":\"\xff\"}", `{"a":"b",}`, `{"a"}`, `null`, `{"a":"b"`, `{"a":"b"}x`,
		`{"a":"\ud83d\ude00","b":"\ud800","c":"x\"y\\z\/\b\f\n\r\t\u003c"}`, `{"a":"\q"}`, `{"a":"\u12"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := decodeJSON(s)
		got, err := ParseFieldsJSON(s)
		if (err != nil) != (wantErr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q:\n got %#v, %v\nwant %#v, %v", s, got, err, want, wantErr)
		}
	})
}

func FuzzFieldsAppendJSON(f *testing.F) {
	f.Add("name", "Ærø <b>&\"\\\n\u2028", "\xff\xfe")
	f.Fuzz(func(t *testing.T, k, v, w string) {
		fields := Fields{k: v, v: w, w: nil}
		want, _ := json.Marshal(fields)
		got, err := fields.AppendJSON(nil)
		if err != nil || string(got) != string(want) {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	})
}

// BenchmarkFieldsJSON encodes a file row's ten text fields.
func BenchmarkFieldsJSON(b *testing.B) {
	f := Fields{"number": "100042", "name": "Jørgen Müller", "street": "Hauptstraße 12", "zip": "8000", "city": "Aarhus C",
		"email": "jorgen.muller@example.dk", "phone": "+45 12 34 56 78", "country": "DK", "segment": "B2B", "note": "Kunde seit 2019 <VIP>"}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(f)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = f.AppendJSON(buf[:0])
		}
	})
	enc, _ := f.AppendJSON(nil)
	b.Run("json.Decoder", func(b *testing.B) {
		for b.Loop() {
			_, _ = decodeJSON(string(enc))
		}
	})
	b.Run("ParseFieldsJSON", func(b *testing.B) {
		for b.Loop() {
			_, _ = ParseFieldsJSON(string(enc))
		}
	})
}
