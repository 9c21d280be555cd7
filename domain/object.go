package domain

import (
	"fmt"
	"regexp"
	"slices"
)

// FieldType says how a mapped field's values are compared (see Normalize).
type FieldType string

// Field types.
const (
	FieldString  FieldType = "string"
	FieldNumber  FieldType = "number"
	FieldBoolean FieldType = "boolean"
	FieldDate    FieldType = "date"
	FieldEmail   FieldType = "email"
)

// Direction says which way a mapped field's values flow.
type Direction string

// Directions. A one-way field is owned by its source side.
const (
	DirectionBoth        Direction = "both"
	DirectionLeftToRight Direction = "left_to_right"
	DirectionRightToLeft Direction = "right_to_left"
)

// Owner returns the side that owns a one-way field, or "" for both ways.
func (d Direction) Owner() Side {
	switch d {
	case DirectionLeftToRight:
		return SideLeft
	case DirectionRightToLeft:
		return SideRight
	}
	return ""
}

// FieldMap maps a left field to a right field.
type FieldMap struct {
	Left, Right string
	Type        FieldType
	Direction   Direction
}

// On returns the field's name on side s.
func (m FieldMap) On(s Side) string { return bySide(s, m.Left, m.Right) }

// Normalizer says how a match key's values are made comparable (see NormalizeKey).
type Normalizer string

// Normalizers for match keys.
const (
	NormalizerTrim   Normalizer = "trim"
	NormalizerLower  Normalizer = "lower"
	NormalizerDigits Normalizer = "digits"
	NormalizerEmail  Normalizer = "email"
)

// MatchKey names a left and a right field whose equal values suggest that two
// unpaired records are the same entity. The fields need not be mapped.
type MatchKey struct {
	Left, Right string
	Normalize   Normalizer
}

// On returns the key's field name on side s.
func (k MatchKey) On(s Side) string { return bySide(s, k.Left, k.Right) }

// FieldPair names one field on each side; "" where a side has none.
type FieldPair struct{ Left, Right string }

// On returns the field's name on side s.
func (f FieldPair) On(s Side) string { return bySide(s, f.Left, f.Right) }

// Object is one kind of record inside a sync: which object on each side, the
// field mapping and the match keys.
type Object struct {
	SyncID       string
	Name         string // unique in the sync; used in URLs
	LeftObject   string
	RightObject  string
	LeftIDField  string
	RightIDField string
	Fields       []FieldMap
	MatchKeys    []MatchKey
	// AutoPair pairs unpaired records whose match key is unambiguous.
	AutoPair bool
	// ActiveField names the boolean field that marks a record active, per side;
	// a side without one reports every record as active.
	ActiveField FieldPair
}

// Landed is what a write that landed on side settles: each written mapped
// field's value under its left name. The hub chose that value for both
// sides, so it becomes the field's base: from then on a side that differs
// from it has changed, also a source that went back to the old value
// before a merge saw both sides agree. Unmapped fields are left out.
func (o Object) Landed(side Side, written Fields) Fields {
	var out Fields
	for _, m := range o.Fields {
		if v, ok := written[m.On(side)]; ok {
			out = put(out, m.Left, v)
		}
	}
	return out
}

// WithDefaults fills what a client may leave out: fields flow both ways and
// match keys are trimmed.
func (o Object) WithDefaults() Object {
	o.Fields = slices.Clone(o.Fields)
	for i := range o.Fields {
		o.Fields[i].Direction = orDefault(o.Fields[i].Direction, DirectionBoth)
	}
	o.MatchKeys = slices.Clone(o.MatchKeys)
	for i := range o.MatchKeys {
		o.MatchKeys[i].Normalize = orDefault(o.MatchKeys[i].Normalize, NormalizerTrim)
	}
	return o
}

// Validate checks the object on its own, with paths such as "fields[1].type".
func (o Object) Validate() error {
	p := problems{}
	o.problems(p, "")
	return p.err("the object is invalid")
}

func (o Object) problems(p problems, prefix string) {
	if !objectName.MatchString(o.Name) {
		p.add(prefix+"name", "must be 1 to 100 letters, digits, '_', '-' or '.'")
	}
	p.required(prefix+"left_object", o.LeftObject)
	p.required(prefix+"right_object", o.RightObject)
	if len(o.Fields) == 0 {
		p.add(prefix+"fields", "map at least one field")
	}
	// Two mappings writing one field would fight over it.
	seen := map[Side]map[string]bool{SideLeft: {}, SideRight: {}}
	for i, m := range o.Fields {
		path := fmt.Sprintf("%sfields[%d].", prefix, i)
		for _, s := range []Side{SideLeft, SideRight} {
			name := m.On(s)
			p.required(path+string(s), name)
			if name != "" && seen[s][name] {
				p.add(path+string(s), fmt.Sprintf("%s field %q is mapped twice", s, name))
			}
			seen[s][name] = true
		}
		checkEnum(p, path+"type", m.Type, FieldString, FieldNumber, FieldBoolean, FieldDate, FieldEmail)
		checkEnum(p, path+"direction", m.Direction, DirectionBoth, DirectionLeftToRight, DirectionRightToLeft)
	}
	for i, k := range o.MatchKeys {
		path := fmt.Sprintf("%smatch_keys[%d].", prefix, i)
		p.required(path+"left", k.Left)
		p.required(path+"right", k.Right)
		checkEnum(p, path+"normalize", k.Normalize, NormalizerTrim, NormalizerLower, NormalizerDigits, NormalizerEmail)
	}
}

// objectName keeps object names usable as a URL path segment.
var objectName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
