package domain

import "testing"

func TestSummaryAdd(t *testing.T) {
	var s Summary
	for _, c := range []struct {
		category Category
		side     Side
		n        int64
	}{
		{CategoryConflict, "", 1}, {CategoryDeleted, "", 2}, {CategoryDisabled, "", 3}, {CategorySynced, "", 4},
		{CategoryInactive, "", 5}, {CategoryNew, SideLeft, 6}, {CategoryNew, SideRight, 7}, {CategorySynced, "", 10},
		{"", "", 99}, // a hidden item's empty category counts nowhere
	} {
		s.Add(c.category, c.side, c.n)
	}
	want := Summary{Conflict: 1, Deleted: 2, Disabled: 3, Synced: 14, Inactive: 5, NewLeft: 6, NewRight: 7}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
}
