package domain

import (
	"reflect"
	"slices"
	"testing"
)

func validObject() Object {
	return Object{Name: "customers", LeftObject: "Kunden", RightObject: "contacts",
		Fields: []FieldMap{
			{Left: "Name", Right: "name", Type: FieldString},
			{Left: "EMail", Right: "email", Type: FieldEmail, Direction: DirectionLeftToRight},
		},
		MatchKeys: []MatchKey{{Left: "EMail", Right: "email"}},
	}.WithDefaults()
}

func TestObject_Validate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Object)
		want   []string
	}{
		{name: "valid", change: func(*Object) {}},
		{name: "name_with_slash", change: func(o *Object) { o.Name = "a/b" }, want: []string{"name"}},
		{name: "no_fields", change: func(o *Object) { o.Fields = nil }, want: []string{"fields"}},
		{name: "unknown_type", change: func(o *Object) { o.Fields[1].Type = "colour" }, want: []string{"fields[1].type"}},
		{name: "unknown_direction", change: func(o *Object) { o.Fields[0].Direction = "up" }, want: []string{"fields[0].direction"}},
		{name: "empty_right_name", change: func(o *Object) { o.Fields[0].Right = "" }, want: []string{"fields[0].right"}},
		{name: "left_field_mapped_twice", change: func(o *Object) { o.Fields[1].Left = "Name" }, want: []string{"fields[1].left"}},
		{name: "right_field_mapped_twice", change: func(o *Object) { o.Fields[1].Right = "name" }, want: []string{"fields[1].right"}},
		{name: "match_key_without_field", change: func(o *Object) { o.MatchKeys[0].Left = "" }, want: []string{"match_keys[0].left"}},
		{name: "unknown_normalizer", change: func(o *Object) { o.MatchKeys[0].Normalize = "soundex" }, want: []string{"match_keys[0].normalize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validObject()
			tt.change(&o)
			if got := problemPaths(t, o.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("problems = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestObject_Landed(t *testing.T) {
	o := Object{Fields: []FieldMap{
		{Left: "name", Right: "navn"}, {Left: "email", Right: "mail"}, {Left: "city", Right: "ort"},
	}}
	cases := []struct {
		name    string
		side    Side
		written Fields
		want    Fields
	}{
		{"right names become left names", SideRight, Fields{"navn": "B", "mail": "b@x"}, Fields{"name": "B", "email": "b@x"}},
		{"left names stay", SideLeft, Fields{"city": "Kiel"}, Fields{"city": "Kiel"}},
		{"a written null is a value", SideRight, Fields{"ort": nil}, Fields{"city": nil}},
		{"unmapped fields are left out", SideRight, Fields{"active": true, "name": "not a right name"}, nil},
		{"nothing written", SideLeft, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := o.Landed(c.side, c.written); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Landed(%s, %v) = %v, want %v", c.side, c.written, got, c.want)
			}
		})
	}
}
