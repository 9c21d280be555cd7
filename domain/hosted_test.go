package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateRecordWrite(t *testing.T) {
	many := Fields{}
	for i := range MaxRecordFields + 1 {
		many[fmt.Sprint("f", i)] = i
	}
	upsert := func(id string, f Fields) RecordWrite {
		return RecordWrite{Op: WriteUpsert, Record: Record{ExternalID: id, Fields: f}}
	}
	tests := []struct {
		name  string
		w     RecordWrite
		field string // "" = valid
	}{
		{"plain_upsert", upsert("C-1", Fields{"name": "Ada", "tags": []any{"a", "b"}, "address": map[string]any{"city": "Kiel"}}), ""},
		{"empty_fields_are_fine", upsert("C-1", Fields{}), ""},
		{"delete_needs_no_fields", RecordWrite{Op: WriteDelete, Record: Record{ExternalID: "C-1"}}, ""},
		{"if_exists_is_a_version", RecordWrite{Op: WriteDelete, Record: Record{ExternalID: "C-1"}, IfVersion: IfExists}, ""},
		{"255_characters_fit", upsert(strings.Repeat("ü", 255), Fields{}), ""},
		{"256_characters_do_not", upsert(strings.Repeat("ü", 256), Fields{}), "external_id"},
		{"empty_id", upsert("", Fields{}), "external_id"},
		{"invalid_utf8_id", upsert("\xff", Fields{}), "external_id"},
		{"upsert_without_fields", upsert("C-1", nil), "fields"},
		{"too_many_fields", upsert("C-1", many), "fields"},
		{"empty_field_name", upsert("C-1", Fields{"": 1}), "fields"},
		{"list_in_a_list", upsert("C-1", Fields{"deep": []any{[]any{1}}}), "fields.deep"},
		{"object_in_an_object", upsert("C-1", Fields{"deep": map[string]any{"a": map[string]any{}}}), "fields.deep"},
		{"unknown_op", RecordWrite{Op: "merge", Record: Record{ExternalID: "C-1"}}, "op"},
		{"negative_version", RecordWrite{Op: WriteDelete, Record: Record{ExternalID: "C-1"}, IfVersion: -2}, "if_match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRecordWrite(tt.w)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid {
				t.Fatalf("want CodeInvalid, got %v", err)
			}
			if _, ok := e.Fields[tt.field]; !ok {
				t.Fatalf("want a problem with %q, got %v", tt.field, e.Fields)
			}
		})
	}
}

func TestRequireHosted(t *testing.T) {
	if err := RequireHosted(&Connection{Kind: KindHosted}); err != nil {
		t.Fatalf("hosted: %v", err)
	}
	for _, k := range []ConnectionKind{KindFile, KindREST} {
		err := RequireHosted(&Connection{Name: "crm", Kind: k})
		if !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), string(k)+" connection") {
			t.Fatalf("%s: want a conflict naming the kind, got %v", k, err)
		}
	}
}
