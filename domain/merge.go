package domain

import (
	"fmt"
	"maps"
	"time"
)

// Outcome says what a merge does with one mapped field.
type Outcome string

// Outcomes of a field merge.
const (
	OutcomeAgreed   Outcome = "agreed"   // both sides hold the same value
	OutcomeToLeft   Outcome = "to_left"  // only right changed (or right owns it): write it to left
	OutcomeToRight  Outcome = "to_right" // only left changed (or left owns it): write it to right
	OutcomeConflict Outcome = "conflict" // both changed and nothing decided: a person must
	OutcomeResolved Outcome = "resolved" // both changed and a Resolution or the policy chose
)

// Resolution is a person's answer to a field conflict: the chosen Value, and
// the Left and Right values it was chosen against.
type Resolution struct {
	Value       any
	Left, Right any
}

// live reports whether the resolution still answers the conflict between l
// and r: each side must hold either the value seen when it was chosen, or the
// chosen value (its write may have landed on one side already). Any other
// value is a later change, which a stale answer must not overwrite.
func (res Resolution) live(l, r any, t FieldType) bool {
	return (Equal(l, res.Left, t) || Equal(l, res.Value, t)) &&
		(Equal(r, res.Right, t) || Equal(r, res.Value, t))
}

// MergeInput is everything the three-way merge of one link looks at.
// Base and Resolutions are keyed by each FieldMap's left field name, so they
// stay readable when the right side's names are renamed in the mapping.
type MergeInput struct {
	Object Object
	Policy ConflictPolicy
	// Left and Right are each side's current values, in its own field names.
	Left, Right Fields
	// LeftUpdatedAt and RightUpdatedAt are the sources' updated-at, for WinnerNewest.
	LeftUpdatedAt, RightUpdatedAt *time.Time
	// Base holds the values both sides last agreed on. A field missing from it
	// (every field of a fresh pairing) has no base: any difference conflicts
	// unless the policy or a resolution settles it.
	Base        Fields
	Resolutions map[string]Resolution
}

// FieldDiff is one mapped field compared across the link.
type FieldDiff struct {
	Field      string // the left field name
	RightField string
	Type       FieldType
	Left       any
	Right      any
	Base       any
	HasBase    bool
	Outcome    Outcome
}

// Conflict reports whether the field waits for a person.
func (d FieldDiff) Conflict() bool { return d.Outcome == OutcomeConflict }

// MergeResult is what a merge decided for a link.
type MergeResult struct {
	Diffs     []FieldDiff // in mapping order
	Conflicts []string    // left names of the fields in conflict
	// Base is the new base: agreed fields move to the agreed value, the others
	// keep their old base until their writes land and a later merge agrees.
	Base Fields
	// Resolutions are the input's resolutions still needed; stale ones and
	// those whose field now agrees are dropped.
	Resolutions map[string]Resolution
	// LeftUpdate and RightUpdate are the values to write to each side, in that
	// side's field names; nil when there is nothing to write.
	LeftUpdate, RightUpdate Fields
}

// Merge reconciles the mapped fields of a link as SYSTEM.md describes. Values
// are compared with Equal for the field's type; unmapped fields are ignored.
// It is deterministic and never writes a value a side already holds, so
// merging again after the updates are applied plans nothing.
func Merge(in MergeInput) MergeResult {
	var res MergeResult
	for _, m := range in.Object.Fields {
		d := FieldDiff{Field: m.Left, RightField: m.Right, Type: m.Type, Left: in.Left[m.Left], Right: in.Right[m.Right]}
		d.Base, d.HasBase = in.Base[m.Left]
		var value any
		d.Outcome, value = decide(in, m, d)
		switch {
		case d.Outcome == OutcomeAgreed:
			res.Base = put(res.Base, m.Left, d.Left)
		case d.HasBase:
			res.Base = put(res.Base, m.Left, d.Base)
		}
		switch d.Outcome {
		case OutcomeConflict:
			res.Conflicts = append(res.Conflicts, m.Left)
		case OutcomeToLeft, OutcomeToRight, OutcomeResolved:
			if !Equal(d.Left, value, m.Type) {
				res.LeftUpdate = put(res.LeftUpdate, m.Left, value)
			}
			if !Equal(d.Right, value, m.Type) {
				res.RightUpdate = put(res.RightUpdate, m.Right, value)
			}
		}
		if r, ok := in.Resolutions[m.Left]; ok && d.Outcome == OutcomeResolved && r.live(d.Left, d.Right, m.Type) {
			res.Resolutions = put(res.Resolutions, m.Left, r)
		}
		res.Diffs = append(res.Diffs, d)
	}
	return res
}

// decide applies the four rules to one field and returns the outcome and the
// value both sides should end up holding.
func decide(in MergeInput, m FieldMap, d FieldDiff) (Outcome, any) {
	eq := func(a, b any) bool { return Equal(a, b, m.Type) }
	switch {
	case eq(d.Left, d.Right):
		return OutcomeAgreed, d.Left
	case m.Direction.Owner() == SideLeft:
		return OutcomeToRight, d.Left
	case m.Direction.Owner() == SideRight:
		return OutcomeToLeft, d.Right
	}
	// A live answer comes before the base rules: once its write landed on one
	// side, that side may equal the base and would otherwise look unchanged.
	if r, ok := in.Resolutions[m.Left]; ok && r.live(d.Left, d.Right, m.Type) {
		return OutcomeResolved, r.Value
	}
	switch {
	case d.HasBase && eq(d.Left, d.Base):
		return OutcomeToLeft, d.Right
	case d.HasBase && eq(d.Right, d.Base):
		return OutcomeToRight, d.Left
	}
	// Both changed, and no person answered: the sync-wide policy may.
	switch in.Policy.winner(in.LeftUpdatedAt, in.RightUpdatedAt) {
	case SideLeft:
		return OutcomeResolved, d.Left
	case SideRight:
		return OutcomeResolved, d.Right
	}
	return OutcomeConflict, nil
}

// winner returns the side the policy prefers, or "" when a person decides.
// WinnerNewest needs both updated-at times and different ones: when either is
// missing or they are equal nobody knows which edit is newer, so the field
// stays a conflict rather than silently discarding one side.
func (p ConflictPolicy) winner(leftAt, rightAt *time.Time) Side {
	if p.Mode != ConflictAuto {
		return ""
	}
	switch p.Winner {
	case WinnerLeft:
		return SideLeft
	case WinnerRight:
		return SideRight
	case WinnerNewest:
		switch {
		case leftAt == nil || rightAt == nil || leftAt.Equal(*rightAt):
			return ""
		case leftAt.After(*rightAt):
			return SideLeft
		}
		return SideRight
	}
	return ""
}

// put sets m[k] = v, allocating m on first use so empty results stay nil.
func put[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[k] = v
	return m
}

// ResolveRequest is a person's answer to a conflict item: a whole side as
// Winner, or a choice per field keyed by left field name.
type ResolveRequest struct {
	Winner Side
	Fields map[string]FieldChoice
}

// FieldChoice answers one field: a Side, or a custom Value when Side is "".
type FieldChoice struct {
	Side  Side
	Value any
}

// Resolve turns a resolve request on item into the item's new Resolutions,
// chosen against the current diffs (from Merge). Reconcile then writes them.
// Errors: CodeConflict when the item is not a conflict; CodeInvalid, with
// "winner" or "fields.<name>" problems, for a malformed request or a field
// that is unknown or not in conflict.
func Resolve(item Item, diffs []FieldDiff, req ResolveRequest) (map[string]Resolution, error) {
	if err := CheckAction(item, ActionResolve); err != nil {
		return nil, err
	}
	p := problems{}
	choices := req.Fields
	switch {
	case req.Winner != "" && len(req.Fields) > 0:
		p.add("winner", "give a winner or per-field choices, not both")
	case len(req.Fields) > 0: // per field, checked below
	case req.Winner == "":
		p.add("winner", "give a winner or per-field choices")
	case req.Winner.Other() == "":
		p.add("winner", "must be one of left, right")
	default: // a whole side answers every field in conflict
		choices = map[string]FieldChoice{}
		for _, d := range diffs {
			if d.Conflict() {
				choices[d.Field] = FieldChoice{Side: req.Winner}
			}
		}
	}
	byField := map[string]FieldDiff{}
	for _, d := range diffs {
		byField[d.Field] = d
	}
	out := maps.Clone(item.Resolutions)
	for name, c := range choices {
		path := "fields." + name
		d, ok := byField[name]
		switch {
		case !ok:
			p.add(path, "is not a mapped field")
		case !d.Conflict():
			p.add(path, fmt.Sprintf("is not in conflict (%s)", d.Outcome))
		case c.Side != "":
			checkEnum(p, path, c.Side, SideLeft, SideRight)
			out = put(out, name, Resolution{Value: bySide(c.Side, d.Left, d.Right), Left: d.Left, Right: d.Right})
		default:
			if _, ok := Normalize(c.Value, d.Type); !ok {
				p.add(path, fmt.Sprintf("is not a valid %s", d.Type))
			}
			out = put(out, name, Resolution{Value: c.Value, Left: d.Left, Right: d.Right})
		}
	}
	if err := p.err("the resolution is invalid"); err != nil {
		return nil, err
	}
	return out, nil
}
