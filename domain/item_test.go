package domain

import (
	"reflect"
	"testing"
)

func TestCategorize(t *testing.T) {
	live := &Record{ID: "r", Active: true}
	inactive := &Record{ID: "r"}
	deleted := &Record{ID: "r", Active: true, Deleted: true}
	link := Item{LeftRecordID: "l", RightRecordID: "r"}
	disabledLink := Item{LeftRecordID: "l", RightRecordID: "r", Disabled: true}
	onLeft := Item{LeftRecordID: "l", Side: SideLeft}
	onRight := Item{RightRecordID: "r", Side: SideRight}
	conflict := MergeResult{Conflicts: []string{"name"}}
	tests := []struct {
		name        string
		item        Item
		left, right *Record
		merge       MergeResult
		want        Category
		shown       bool
	}{
		{"agreeing_link_is_synced", link, live, live, MergeResult{}, CategorySynced, true},
		{"link_with_open_conflict_is_conflict", link, live, live, conflict, CategoryConflict, true},
		{"deleted_left_is_deleted", link, deleted, live, MergeResult{}, CategoryDeleted, true},
		{"missing_right_is_deleted", link, live, nil, MergeResult{}, CategoryDeleted, true},
		{"deleted_wins_over_conflict", link, live, deleted, conflict, CategoryDeleted, true},
		{"deleted_on_both_sides_is_hidden", link, deleted, deleted, MergeResult{}, "", false},
		{"disabled_wins_over_conflict", disabledLink, live, live, conflict, CategoryDisabled, true},
		{"disabled_wins_over_deleted", disabledLink, deleted, live, MergeResult{}, CategoryDisabled, true},
		{"unpaired_active_is_new", onLeft, live, nil, MergeResult{}, CategoryNew, true},
		{"unpaired_right_is_new", onRight, nil, live, MergeResult{}, CategoryNew, true},
		{"unpaired_inactive_is_inactive", onRight, nil, inactive, MergeResult{}, CategoryInactive, true},
		{"unpaired_disabled_is_disabled", Item{LeftRecordID: "l", Side: SideLeft, Disabled: true}, inactive, nil, MergeResult{}, CategoryDisabled, true},
		{"unpaired_deleted_is_hidden", onLeft, deleted, nil, MergeResult{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, shown := Categorize(tt.item, tt.left, tt.right, tt.merge)
			if got != tt.want || shown != tt.shown {
				t.Errorf("Categorize() = %q, %v; want %q, %v", got, shown, tt.want, tt.shown)
			}
		})
	}
}

func TestCheckAction(t *testing.T) {
	tests := []struct {
		name     string
		category Category
		action   Action
		code     Code
		message  string
	}{
		{name: "resolve_fits_conflict", category: CategoryConflict, action: ActionResolve},
		{name: "pair_fits_new", category: CategoryNew, action: ActionPair},
		{name: "restore_fits_deleted", category: CategoryDeleted, action: ActionRestore},
		{name: "enable_fits_disabled", category: CategoryDisabled, action: ActionEnable},
		{name: "activate_fits_inactive", category: CategoryInactive, action: ActionActivate},
		{name: "resolve_on_synced_is_conflict", category: CategorySynced, action: ActionResolve, code: CodeConflict,
			message: "resolve needs an item in category conflict, this one is synced"},
		{name: "unpair_on_new_names_every_fit", category: CategoryNew, action: ActionUnpair, code: CodeConflict,
			message: "unpair needs an item in category conflict, deleted or synced, this one is new"},
		{name: "disable_twice_is_conflict", category: CategoryDisabled, action: ActionDisable, code: CodeConflict},
		{name: "unknown_action_is_invalid", category: CategoryNew, action: "explode", code: CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAction(Item{Category: tt.category}, tt.action)
			if ErrorCode(err) != tt.code {
				t.Fatalf("CheckAction() = %v, want code %q", err, tt.code)
			}
			if tt.message != "" && err.(*Error).Message != tt.message {
				t.Errorf("message = %q, want %q", err.(*Error).Message, tt.message)
			}
		})
	}
}

func TestAllowedActions(t *testing.T) {
	for _, c := range categoryOrder {
		item := Item{Category: c}
		allowed := AllowedActions(item)
		if len(allowed) == 0 {
			t.Errorf("%s allows nothing", c)
		}
		for _, a := range allowed {
			if err := CheckAction(item, a); err != nil {
				t.Errorf("%s allows %s, but CheckAction says %v", c, a, err)
			}
		}
	}
}

func TestMatchKeyValues(t *testing.T) {
	obj := Object{MatchKeys: []MatchKey{
		{Left: "email", Right: "mail", Normalize: NormalizerEmail},
		{Left: "no", Right: "number", Normalize: NormalizerDigits},
	}}
	rec := &Record{Fields: Fields{"mail": "Anna <ANNA@x.de>"}}
	if got, want := MatchKeyValues(obj, SideRight, rec), []string{"anna@x.de", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("MatchKeyValues() = %q, want %q", got, want)
	}
	if got := MatchingKey([]string{"", "17"}, []string{"", "17"}); got != 1 {
		t.Errorf("MatchingKey() = %d, want 1", got)
	}
	if got := MatchingKey([]string{"", ""}, []string{"", ""}); got != -1 {
		t.Errorf("empty keys matched on key %d", got)
	}
}

func TestAutoPairs(t *testing.T) {
	c := func(id string, keys ...string) Candidate { return Candidate{ItemID: id, Keys: keys} }
	tests := []struct {
		name        string
		left, right []Candidate
		want        []Match
	}{
		{"unique_key_pairs", []Candidate{c("L1", "a@x", "1")}, []Candidate{c("R1", "", "1"), c("R2", "b@x", "2")},
			[]Match{{LeftItemID: "L1", RightItemID: "R1", Key: 1}}},
		{"same_partner_by_two_keys_pairs", []Candidate{c("L1", "a@x", "1")}, []Candidate{c("R1", "a@x", "1")},
			[]Match{{LeftItemID: "L1", RightItemID: "R1", Key: 0}}},
		{"two_partners_is_ambiguous", []Candidate{c("L1", "a@x", "1")}, []Candidate{c("R1", "a@x", "9"), c("R2", "", "1")}, nil},
		{"shared_partner_is_ambiguous", []Candidate{c("L1", "a@x"), c("L2", "a@x")}, []Candidate{c("R1", "a@x")}, nil},
		{"empty_keys_never_match", []Candidate{c("L1", "")}, []Candidate{c("R1", "")}, nil},
		{"unpaired_by_a_person_stays_apart", []Candidate{{ItemID: "L1", Keys: []string{"a@x"}, NoAutoPair: true}}, []Candidate{c("R1", "a@x")}, nil},
		{"unpaired_by_a_person_still_blocks_others",
			[]Candidate{{ItemID: "L1", Keys: []string{"a@x"}, NoAutoPair: true}, c("L2", "a@x")}, []Candidate{c("R1", "a@x")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AutoPairs(tt.left, tt.right); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AutoPairs() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
