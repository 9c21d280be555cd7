package domain

import (
	"math"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   any
		typ  FieldType
		want any
		ok   bool
	}{
		{"string_as_is", " Anna ", FieldString, " Anna ", true},
		{"string_nil_is_empty", nil, FieldString, nil, true},
		{"string_empty_is_empty", "", FieldString, nil, true},
		{"string_from_number", 5.0, FieldString, "5", true},
		{"number_plain", "42", FieldNumber, "42", true},
		{"number_trailing_zero", "1.0", FieldNumber, "1", true},
		{"number_float", 1234.5, FieldNumber, "1234.5", true},
		{"number_int64", int64(-7), FieldNumber, "-7", true},
		{"number_large_int_exact", "12345678901234567890", FieldNumber, "12345678901234567890", true},
		{"number_german", "1.234,50", FieldNumber, "1234.5", true},
		{"number_english_grouping", "1,234.5", FieldNumber, "1234.5", true},
		{"number_space_grouping", "1 234 567,5", FieldNumber, "1234567.5", true},
		{"number_swiss", "1'234.5", FieldNumber, "1234.5", true},
		{"number_decimal_comma", "2,5", FieldNumber, "2.5", true},
		{"number_zero_comma_three", "0,125", FieldNumber, "0.125", true},
		{"number_dots_grouping", "1.234.567", FieldNumber, "1234567", true},
		{"number_single_dot_is_decimal", "1.234", FieldNumber, "1.234", true},
		{"number_ambiguous_comma", "1,234", FieldNumber, "1,234", false},
		{"number_bad_grouping", "12,34,5", FieldNumber, "12,34,5", false},
		{"number_doubled_separator", "1..234", FieldNumber, "1..234", false},
		{"number_exponent", "1.5e3", FieldNumber, "1500", true},
		{"number_negative_zero", "-0.0", FieldNumber, "0", true},
		{"number_leading_dot", ".5", FieldNumber, "0.5", true},
		{"number_empty", "  ", FieldNumber, nil, true},
		{"number_text", " n/a ", FieldNumber, "n/a", false},
		{"number_nan", math.NaN(), FieldNumber, "NaN", false},
		{"number_inf_text", "Inf", FieldNumber, "Inf", false},
		{"boolean_true", true, FieldBoolean, true, true},
		{"boolean_yes", " Yes ", FieldBoolean, true, true},
		{"boolean_ja", "ja", FieldBoolean, true, true},
		{"boolean_ticked", "X", FieldBoolean, true, true},
		{"boolean_one", 1.0, FieldBoolean, true, true},
		{"boolean_nein", "nein", FieldBoolean, false, true},
		{"boolean_empty_is_false", "", FieldBoolean, false, true},
		{"boolean_nil_is_false", nil, FieldBoolean, false, true},
		{"boolean_unknown", "maybe", FieldBoolean, "maybe", false},
		{"date_iso", "2024-03-01", FieldDate, "2024-03-01", true},
		{"date_german", "01.03.2024", FieldDate, "2024-03-01", true},
		{"date_german_short", "1.3.2024", FieldDate, "2024-03-01", true},
		{"date_slashes", "2024/03/01", FieldDate, "2024-03-01", true},
		{"date_midnight_timestamp", "2024-03-01T00:00:00+01:00", FieldDate, "2024-03-01", true},
		{"date_time_in_utc", "2024-03-01T10:30:00+01:00", FieldDate, "2024-03-01T09:30:00Z", true},
		{"date_time_value", time.Date(2024, 3, 1, 10, 30, 0, 0, berlin), FieldDate, "2024-03-01T09:30:00Z", true},
		{"date_sql", "2024-03-01 09:30:00", FieldDate, "2024-03-01T09:30:00Z", true},
		{"date_empty", "", FieldDate, nil, true},
		{"date_bad_month", "2024-13-01", FieldDate, "2024-13-01", false},
		{"email_trim_lower", " Anna@Example.COM ", FieldEmail, "anna@example.com", true},
		{"email_empty", " ", FieldEmail, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize(tt.in, tt.typ)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Normalize(%#v, %s) = %#v, %v; want %#v, %v", tt.in, tt.typ, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b any
		typ  FieldType
		want bool
	}{
		{"number_text_and_float", "1.0", 1.0, FieldNumber, true},
		{"number_german_and_float", "1.234,5", 1234.5, FieldNumber, true},
		{"number_differs", "1", "2", FieldNumber, false},
		{"string_case_matters", "a", "A", FieldString, false},
		{"string_nil_and_empty", nil, "", FieldString, true},
		{"email_case_ignored", "A@b.de", "a@B.de ", FieldEmail, true},
		{"boolean_x_and_true", "x", true, FieldBoolean, true},
		{"boolean_nil_and_false", nil, false, FieldBoolean, true},
		{"date_formats", "01.03.2024", "2024-03-01", FieldDate, true},
		{"unparsed_by_trimmed_text", " n/a", "n/a ", FieldNumber, true},
		{"unparsed_is_not_empty", "n/a", nil, FieldNumber, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b, tt.typ); got != tt.want {
				t.Errorf("Equal(%#v, %#v, %s) = %v, want %v", tt.a, tt.b, tt.typ, got, tt.want)
			}
		})
	}
}

func TestNormalizeKey(t *testing.T) {
	tests := []struct {
		name string
		in   any
		n    Normalizer
		want string
	}{
		{"trim_collapses_spaces", "  Muster   GmbH ", NormalizerTrim, "Muster GmbH"},
		{"lower", " Muster GmbH", NormalizerLower, "muster gmbh"},
		{"digits_phone", "+49 (30) 123-45", NormalizerDigits, "493012345"},
		{"digits_from_number", 10042.0, NormalizerDigits, "10042"},
		{"email_display_name", "Anna <Anna@Example.com>", NormalizerEmail, "anna@example.com"},
		{"email_plain", " ANNA@example.com", NormalizerEmail, "anna@example.com"},
		{"nil_is_no_key", nil, NormalizerLower, ""},
		{"digits_without_digits", "n/a", NormalizerDigits, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeKey(tt.in, tt.n); got != tt.want {
				t.Errorf("NormalizeKey(%#v, %s) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

// FuzzNormalize checks that no input panics, that Equal is reflexive and
// symmetric, and that canonical values are fixed points, for every type.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "1.234,5", "1,234", "-0", "2024-03-01", "01.03.2024", "ja", "A@b.de", "1e400", "+.", ",", "1 234", "٣"} {
		f.Add(s, "1")
	}
	types := []FieldType{FieldString, FieldNumber, FieldBoolean, FieldDate, FieldEmail}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, typ := range types {
			na, _ := Normalize(a, typ)
			if !Equal(a, a, typ) {
				t.Fatalf("Equal(%q, %q, %s) is false", a, a, typ)
			}
			if Equal(a, b, typ) != Equal(b, a, typ) {
				t.Fatalf("Equal(%q, %q, %s) is not symmetric", a, b, typ)
			}
			if again, _ := Normalize(na, typ); again != na {
				t.Fatalf("Normalize(%q, %s) = %#v, but normalising that gives %#v", a, typ, na, again)
			}
			_ = NormalizeKey(a, NormalizerEmail)
		}
	})
}
