package domain

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var (
	t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

// oneField is an object with a single both-ways field: "name" left, "Name" right.
func oneField(typ FieldType, dir Direction) Object {
	return Object{Name: "customers", LeftObject: "c", RightObject: "C",
		Fields: []FieldMap{{Left: "name", Right: "Name", Type: typ, Direction: dir}}}
}

func TestMerge(t *testing.T) {
	str := oneField(FieldString, DirectionBoth)
	auto := func(w Winner) ConflictPolicy { return ConflictPolicy{Mode: ConflictAuto, Winner: w} }
	tests := []struct {
		name      string
		in        MergeInput
		outcome   Outcome
		base      Fields
		left      Fields // LeftUpdate
		right     Fields // RightUpdate
		resolved  map[string]Resolution
		conflicts []string
	}{
		{name: "agreed_moves_base", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "b"}, Base: Fields{"name": "a"}},
			outcome: OutcomeAgreed, base: Fields{"name": "b"}},
		{name: "only_left_changed_goes_right", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "a"}, Base: Fields{"name": "a"}},
			outcome: OutcomeToRight, base: Fields{"name": "a"}, right: Fields{"Name": "b"}},
		{name: "only_right_changed_goes_left", in: MergeInput{Object: str, Left: Fields{"name": "a"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"}},
			outcome: OutcomeToLeft, base: Fields{"name": "a"}, left: Fields{"name": "c"}},
		{name: "cleared_on_one_side_goes_across", in: MergeInput{Object: str, Left: Fields{}, Right: Fields{"Name": "a"}, Base: Fields{"name": "a"}},
			outcome: OutcomeToRight, base: Fields{"name": "a"}, right: Fields{"Name": nil}},
		{name: "both_changed_is_conflict", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"}},
			outcome: OutcomeConflict, base: Fields{"name": "a"}, conflicts: []string{"name"}},
		{name: "fresh_pairing_difference_is_conflict", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}},
			outcome: OutcomeConflict, conflicts: []string{"name"}},
		{name: "fresh_pairing_agreement_starts_base", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "b"}},
			outcome: OutcomeAgreed, base: Fields{"name": "b"}},
		{name: "field_missing_from_base_is_fresh", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, Base: Fields{"other": "x"}},
			outcome: OutcomeConflict, conflicts: []string{"name"}},
		{name: "equal_by_type_is_agreed", in: MergeInput{Object: oneField(FieldNumber, DirectionBoth), Left: Fields{"name": "1.234,5"}, Right: Fields{"Name": 1234.5}, Base: Fields{"name": 1.0}},
			outcome: OutcomeAgreed, base: Fields{"name": "1.234,5"}},
		{name: "policy_left_wins", in: MergeInput{Object: str, Policy: auto(WinnerLeft), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"}},
			outcome: OutcomeResolved, base: Fields{"name": "a"}, right: Fields{"Name": "b"}},
		{name: "policy_right_wins_fresh_pairing", in: MergeInput{Object: str, Policy: auto(WinnerRight), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}},
			outcome: OutcomeResolved, left: Fields{"name": "c"}},
		{name: "manual_mode_ignores_winner", in: MergeInput{Object: str, Policy: ConflictPolicy{Mode: ConflictManual, Winner: WinnerLeft}, Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}},
			outcome: OutcomeConflict, conflicts: []string{"name"}},
		{name: "newest_wins", in: MergeInput{Object: str, Policy: auto(WinnerNewest), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, LeftUpdatedAt: &t0, RightUpdatedAt: &t1},
			outcome: OutcomeResolved, left: Fields{"name": "c"}},
		{name: "newest_without_time_is_conflict", in: MergeInput{Object: str, Policy: auto(WinnerNewest), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, LeftUpdatedAt: &t0},
			outcome: OutcomeConflict, conflicts: []string{"name"}},
		{name: "newest_with_equal_times_is_conflict", in: MergeInput{Object: str, Policy: auto(WinnerNewest), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, LeftUpdatedAt: &t0, RightUpdatedAt: &t0},
			outcome: OutcomeConflict, conflicts: []string{"name"}},
		{name: "one_way_owner_wins_without_conflict", in: MergeInput{Object: oneField(FieldString, DirectionRightToLeft), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"}},
			outcome: OutcomeToLeft, base: Fields{"name": "a"}, left: Fields{"name": "c"}},
		{name: "one_way_overrides_target_edit", in: MergeInput{Object: oneField(FieldString, DirectionLeftToRight), Left: Fields{"name": "a"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"}},
			outcome: OutcomeToRight, base: Fields{"name": "a"}, right: Fields{"Name": "a"}},
		{name: "live_resolution_writes_both_sides", in: MergeInput{Object: str, Left: Fields{"name": "b"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"},
			Resolutions: map[string]Resolution{"name": {Value: "d", Left: "b", Right: "c"}}},
			outcome: OutcomeResolved, base: Fields{"name": "a"}, left: Fields{"name": "d"}, right: Fields{"Name": "d"},
			resolved: map[string]Resolution{"name": {Value: "d", Left: "b", Right: "c"}}},
		{name: "resolution_beats_policy", in: MergeInput{Object: str, Policy: auto(WinnerLeft), Left: Fields{"name": "b"}, Right: Fields{"Name": "c"},
			Resolutions: map[string]Resolution{"name": {Value: "c", Left: "b", Right: "c"}}},
			outcome: OutcomeResolved, left: Fields{"name": "c"}, resolved: map[string]Resolution{"name": {Value: "c", Left: "b", Right: "c"}}},
		{name: "half_applied_resolution_stays_live", in: MergeInput{Object: str, Left: Fields{"name": "a"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"},
			Resolutions: map[string]Resolution{"name": {Value: "a", Left: "b", Right: "c"}}},
			outcome: OutcomeResolved, base: Fields{"name": "a"}, right: Fields{"Name": "a"},
			resolved: map[string]Resolution{"name": {Value: "a", Left: "b", Right: "c"}}},
		{name: "stale_resolution_keeps_later_change", in: MergeInput{Object: str, Left: Fields{"name": "e"}, Right: Fields{"Name": "c"}, Base: Fields{"name": "a"},
			Resolutions: map[string]Resolution{"name": {Value: "c", Left: "b", Right: "c"}}},
			outcome: OutcomeConflict, base: Fields{"name": "a"}, conflicts: []string{"name"}},
		{name: "resolution_dropped_once_agreed", in: MergeInput{Object: str, Left: Fields{"name": "d"}, Right: Fields{"Name": "d"}, Base: Fields{"name": "a"},
			Resolutions: map[string]Resolution{"name": {Value: "d", Left: "b", Right: "c"}}},
			outcome: OutcomeAgreed, base: Fields{"name": "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.in)
			if len(got.Diffs) != 1 || got.Diffs[0].Outcome != tt.outcome {
				t.Fatalf("diffs = %+v, want one with outcome %s", got.Diffs, tt.outcome)
			}
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", what, got, want)
				}
			}
			check("Base", got.Base, tt.base)
			check("LeftUpdate", got.LeftUpdate, tt.left)
			check("RightUpdate", got.RightUpdate, tt.right)
			check("Resolutions", got.Resolutions, tt.resolved)
			check("Conflicts", got.Conflicts, tt.conflicts)
		})
	}
}

func TestMerge_diffs_follow_mapping_order(t *testing.T) {
	obj := Object{Fields: []FieldMap{
		{Left: "z", Right: "Z", Type: FieldString, Direction: DirectionBoth},
		{Left: "a", Right: "A", Type: FieldNumber, Direction: DirectionBoth},
	}}
	got := Merge(MergeInput{Object: obj, Left: Fields{"z": "1", "a": "1", "unmapped": "x"}, Right: Fields{"Z": "2", "A": "1.0"}})
	want := []FieldDiff{
		{Field: "z", RightField: "Z", Type: FieldString, Left: "1", Right: "2", Outcome: OutcomeConflict},
		{Field: "a", RightField: "A", Type: FieldNumber, Left: "1", Right: "1.0", Outcome: OutcomeAgreed},
	}
	if !reflect.DeepEqual(got.Diffs, want) {
		t.Errorf("Diffs = %+v, want %+v", got.Diffs, want)
	}
}

// Values per type, chosen so that equal values in different spellings and
// unparseable values are common.
var valuePool = map[FieldType][]any{
	FieldString:  {nil, "", "a", "b", "A"},
	FieldNumber:  {nil, "1", "1.0", 1.0, int64(2), "2,5", 2.5, "n/a"},
	FieldBoolean: {nil, true, false, "yes", "0", "x", "maybe"},
	FieldDate:    {nil, "2024-01-02", "02.01.2024", "2024-01-03T10:00:00Z", "soon"},
	FieldEmail:   {nil, "A@x.de", " a@x.de", "b@x.de"},
}

func genObject(t *rapid.T) Object {
	n := rapid.IntRange(1, 4).Draw(t, "fields")
	obj := Object{Name: "things", LeftObject: "l", RightObject: "r"}
	for i := range n {
		obj.Fields = append(obj.Fields, FieldMap{
			Left:      fmt.Sprintf("l%d", i),
			Right:     fmt.Sprintf("r%d", i),
			Type:      rapid.SampledFrom(slices.Sorted(maps.Keys(valuePool))).Draw(t, "type"),
			Direction: rapid.SampledFrom([]Direction{DirectionBoth, DirectionBoth, DirectionLeftToRight, DirectionRightToLeft}).Draw(t, "direction"),
		})
	}
	return obj
}

func genValue(t *rapid.T, typ FieldType, label string) any {
	return rapid.SampledFrom(valuePool[typ]).Draw(t, label)
}

// genChanged draws a value that differs from old by the type's equality.
func genChanged(t *rapid.T, typ FieldType, old any, label string) any {
	return rapid.SampledFrom(valuePool[typ]).Filter(func(v any) bool { return !Equal(v, old, typ) }).Draw(t, label)
}

func genPolicy(t *rapid.T) ConflictPolicy {
	return ConflictPolicy{
		Mode:   rapid.SampledFrom([]ConflictMode{ConflictManual, ConflictAuto}).Draw(t, "mode"),
		Winner: rapid.SampledFrom([]Winner{WinnerLeft, WinnerRight, WinnerNewest}).Draw(t, "winner"),
	}
}

func genTime(t *rapid.T, label string) *time.Time {
	return rapid.SampledFrom([]*time.Time{nil, &t0, &t1}).Draw(t, label)
}

// edit says which sides a generated scenario changed since the base.
type edit int

const (
	editNone edit = iota
	editLeft
	editRight
	editBoth
)

// genLink draws a linked pair that agreed on a base and was then edited on
// zero, one or both sides per field. Resolutions, when drawn, were chosen
// against the base state, as if from an earlier, settled conflict.
func genLink(t *rapid.T) (MergeInput, []edit) {
	obj := genObject(t)
	in := MergeInput{Object: obj, Policy: genPolicy(t), Left: Fields{}, Right: Fields{}, Base: Fields{},
		LeftUpdatedAt: genTime(t, "left_at"), RightUpdatedAt: genTime(t, "right_at")}
	edits := make([]edit, len(obj.Fields))
	for i, m := range obj.Fields {
		b := genValue(t, m.Type, "base")
		in.Base[m.Left], in.Left[m.Left], in.Right[m.Right] = b, b, b
		edits[i] = edit(rapid.IntRange(0, 3).Draw(t, "edit"))
		if edits[i] == editLeft || edits[i] == editBoth {
			in.Left[m.Left] = genChanged(t, m.Type, b, "left")
		}
		if edits[i] == editRight || edits[i] == editBoth {
			in.Right[m.Right] = genChanged(t, m.Type, b, "right")
		}
		if rapid.Bool().Draw(t, "resolution") {
			in.Resolutions = put(in.Resolutions, m.Left, Resolution{Value: genValue(t, m.Type, "chosen"), Left: b, Right: b})
		}
	}
	return in, edits
}

// apply returns f with the update written over it.
func apply(f, update Fields) Fields {
	out := maps.Clone(f)
	maps.Copy(out, update)
	return out
}

// TestMerge_no_lost_update: a change made on one side only is written to
// the other side and never overwritten, unless the other side owns the field.
func TestMerge_no_lost_update(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, edits := genLink(t)
		got := Merge(in)
		for i, m := range in.Object.Fields {
			for _, s := range []Side{SideLeft, SideRight} {
				if edits[i] != bySide(s, editLeft, editRight) || m.Direction.Owner() == s.Other() {
					continue
				}
				mine := bySide(s, got.LeftUpdate, got.RightUpdate)
				theirs := bySide(s.Other(), got.LeftUpdate, got.RightUpdate)
				value := bySide(s, in.Left[m.Left], in.Right[m.Right])
				if _, ok := mine[m.On(s)]; ok {
					t.Fatalf("%s's change to %s was overwritten with %#v", s, m.On(s), mine[m.On(s)])
				}
				if !Equal(theirs[m.On(s.Other())], value, m.Type) {
					t.Fatalf("%s's change to %s (%#v) was not propagated: %#v", s, m.On(s), value, theirs)
				}
			}
		}
	})
}

// TestMerge_resolving_converges: once every conflict is resolved, by the
// policy or by a person, the planned updates make both sides agree and a
// second merge over the new base and the new values plans nothing.
func TestMerge_resolving_converges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, _ := genLink(t)
		if rapid.Bool().Draw(t, "fresh") {
			in.Base = nil
		}
		in.Resolutions = nil
		first := Merge(in)
		if len(first.Conflicts) > 0 {
			item := Item{Category: CategoryConflict}
			req := ResolveRequest{Winner: rapid.SampledFrom([]Side{"", SideLeft, SideRight}).Draw(t, "whole_side")}
			if req.Winner == "" {
				req.Fields = map[string]FieldChoice{}
				for _, d := range first.Diffs {
					if d.Conflict() {
						c := FieldChoice{Side: rapid.SampledFrom([]Side{"", SideLeft, SideRight}).Draw(t, "side")}
						if c.Side == "" {
							c.Value = rapid.SampledFrom(valuePool[d.Type]).Filter(func(v any) bool { _, ok := Normalize(v, d.Type); return ok }).Draw(t, "custom")
						}
						req.Fields[d.Field] = c
					}
				}
			}
			res, err := Resolve(item, first.Diffs, req)
			if err != nil {
				t.Fatalf("Resolve(%+v) = %v", req, err)
			}
			in.Resolutions = res
		}
		second := Merge(in)
		if len(second.Conflicts) > 0 {
			t.Fatalf("conflicts left after resolving: %v", second.Conflicts)
		}
		left, right := apply(in.Left, second.LeftUpdate), apply(in.Right, second.RightUpdate)
		for _, m := range in.Object.Fields {
			if !Equal(left[m.Left], right[m.Right], m.Type) {
				t.Fatalf("%s: left %#v and right %#v did not converge", m.Left, left[m.Left], right[m.Right])
			}
		}
		in.Left, in.Right, in.Base, in.Resolutions = left, right, second.Base, second.Resolutions
		if third := Merge(in); third.LeftUpdate != nil || third.RightUpdate != nil || third.Resolutions != nil {
			t.Fatalf("merge after applying plans again: %+v", third)
		}
	})
}

// mirror swaps the sides of a merge input: names, values, directions,
// times, the policy's winner and each resolution.
func mirror(in MergeInput) MergeInput {
	out := in
	out.Object.Fields = nil
	out.Base, out.Resolutions = nil, nil
	for _, m := range in.Object.Fields {
		out.Object.Fields = append(out.Object.Fields, FieldMap{Left: m.Right, Right: m.Left, Type: m.Type,
			Direction: map[Direction]Direction{DirectionBoth: DirectionBoth, DirectionLeftToRight: DirectionRightToLeft, DirectionRightToLeft: DirectionLeftToRight}[m.Direction]})
		if b, ok := in.Base[m.Left]; ok {
			out.Base = put(out.Base, m.Right, b)
		}
		if r, ok := in.Resolutions[m.Left]; ok {
			out.Resolutions = put(out.Resolutions, m.Right, Resolution{Value: r.Value, Left: r.Right, Right: r.Left})
		}
	}
	out.Left, out.Right = in.Right, in.Left
	out.LeftUpdatedAt, out.RightUpdatedAt = in.RightUpdatedAt, in.LeftUpdatedAt
	out.Policy.Winner = map[Winner]Winner{WinnerLeft: WinnerRight, WinnerRight: WinnerLeft, WinnerNewest: WinnerNewest}[in.Policy.Winner]
	return out
}

// TestMerge_mirror: swapping the sides swaps the result.
func TestMerge_mirror(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, _ := genLink(t)
		if rapid.Bool().Draw(t, "fresh") {
			in.Base = nil
		}
		got, mirrored := Merge(in), Merge(mirror(in))
		flip := map[Outcome]Outcome{OutcomeToLeft: OutcomeToRight, OutcomeToRight: OutcomeToLeft}
		var conflicts []string
		for i, m := range in.Object.Fields {
			d, md := got.Diffs[i], mirrored.Diffs[i]
			if want := cmp.Or(flip[d.Outcome], d.Outcome); md.Outcome != want {
				t.Fatalf("%s: outcome %s, mirrored %s", m.Left, d.Outcome, md.Outcome)
			}
			if md.Conflict() {
				conflicts = append(conflicts, m.Left)
			}
			sameValue(t, "base", m, got.Base, m.Left, mirrored.Base, m.Right)
			sameValue(t, "left update", m, got.LeftUpdate, m.Left, mirrored.RightUpdate, m.Left)
			sameValue(t, "right update", m, got.RightUpdate, m.Right, mirrored.LeftUpdate, m.Right)
		}
		if !slices.Equal(conflicts, got.Conflicts) {
			t.Fatalf("conflicts %v, mirrored %v", got.Conflicts, mirrored.Conflicts)
		}
	})
}

// sameValue checks that a[ka] and b[kb] are both absent or equal values.
func sameValue(t *rapid.T, what string, m FieldMap, a Fields, ka string, b Fields, kb string) {
	t.Helper()
	va, oka := a[ka]
	vb, okb := b[kb]
	if oka != okb || !Equal(va, vb, m.Type) {
		t.Fatalf("%s of %s: %#v (%v), mirrored %#v (%v)", what, m.Left, va, oka, vb, okb)
	}
}

func TestResolve(t *testing.T) {
	conflict := Item{Category: CategoryConflict, Resolutions: map[string]Resolution{"old": {Value: 1}}}
	diffs := []FieldDiff{
		{Field: "name", RightField: "Name", Type: FieldString, Left: "b", Right: "c", Outcome: OutcomeConflict},
		{Field: "born", RightField: "Born", Type: FieldDate, Left: "2001-01-01", Right: "2002-02-02", Outcome: OutcomeConflict},
		{Field: "city", RightField: "City", Type: FieldString, Left: "x", Right: "x", Outcome: OutcomeAgreed},
	}
	tests := []struct {
		name   string
		item   Item
		req    ResolveRequest
		want   map[string]Resolution
		code   Code
		fields []string // problem paths
	}{
		{name: "whole_side_answers_every_conflict", item: conflict, req: ResolveRequest{Winner: SideRight},
			want: map[string]Resolution{"old": {Value: 1}, "name": {Value: "c", Left: "b", Right: "c"}, "born": {Value: "2002-02-02", Left: "2001-01-01", Right: "2002-02-02"}}},
		{name: "per_field_side_and_custom_value", item: conflict, req: ResolveRequest{Fields: map[string]FieldChoice{"name": {Side: SideLeft}, "born": {Value: "03.03.2003"}}},
			want: map[string]Resolution{"old": {Value: 1}, "name": {Value: "b", Left: "b", Right: "c"}, "born": {Value: "03.03.2003", Left: "2001-01-01", Right: "2002-02-02"}}},
		{name: "unknown_field_is_invalid", item: conflict, req: ResolveRequest{Fields: map[string]FieldChoice{"nope": {Side: SideLeft}}},
			code: CodeInvalid, fields: []string{"fields.nope"}},
		{name: "agreed_field_is_invalid", item: conflict, req: ResolveRequest{Fields: map[string]FieldChoice{"city": {Side: SideLeft}}},
			code: CodeInvalid, fields: []string{"fields.city"}},
		{name: "bad_custom_date_is_invalid", item: conflict, req: ResolveRequest{Fields: map[string]FieldChoice{"born": {Value: "someday"}}},
			code: CodeInvalid, fields: []string{"fields.born"}},
		{name: "bad_side_is_invalid", item: conflict, req: ResolveRequest{Fields: map[string]FieldChoice{"name": {Side: "middle"}}},
			code: CodeInvalid, fields: []string{"fields.name"}},
		{name: "winner_and_fields_is_invalid", item: conflict, req: ResolveRequest{Winner: SideLeft, Fields: map[string]FieldChoice{"name": {Side: SideLeft}}},
			code: CodeInvalid, fields: []string{"winner"}},
		{name: "empty_request_is_invalid", item: conflict, code: CodeInvalid, fields: []string{"winner"}},
		{name: "bad_winner_is_invalid", item: conflict, req: ResolveRequest{Winner: "newest"}, code: CodeInvalid, fields: []string{"winner"}},
		{name: "synced_item_is_conflict", item: Item{Category: CategorySynced}, req: ResolveRequest{Winner: SideLeft}, code: CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.item, diffs, tt.req)
			if ErrorCode(err) != tt.code {
				t.Fatalf("Resolve() error = %v, want code %q", err, tt.code)
			}
			if err != nil {
				var problems []string
				if e, ok := err.(*Error); ok {
					problems = slices.Sorted(maps.Keys(e.Fields))
				}
				if !slices.Equal(problems, tt.fields) {
					t.Errorf("problem fields = %v, want %v", problems, tt.fields)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Resolve() = %#v, want %#v", got, tt.want)
			}
		})
	}
}
