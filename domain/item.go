package domain

import (
	"slices"
	"strings"
	"time"
)

// Category sorts an item into one section of the sync window.
type Category string

// The six categories of SYSTEM.md.
const (
	CategoryConflict Category = "conflict"
	CategoryNew      Category = "new"
	CategoryDeleted  Category = "deleted"
	CategoryDisabled Category = "disabled"
	CategorySynced   Category = "synced"
	CategoryInactive Category = "inactive"
)

// ItemStatus tells, apart from the category, whether writes for an item are
// queued or the last one failed.
type ItemStatus string

// Item statuses.
const (
	StatusOK      ItemStatus = "ok"
	StatusPending ItemStatus = "pending"
	StatusFailed  ItemStatus = "failed"
)

// Item is one row of the sync window: a link between a left and a right
// record, or an unpaired record on one side.
type Item struct {
	ID          string
	WorkspaceID string
	SyncID      string
	Object      string
	// LeftRecordID and RightRecordID are the hub's record ids; "" for none.
	LeftRecordID  string
	RightRecordID string
	// Side is the side of an unpaired item's record; "" for a link.
	Side Side
	// Base holds the values both sides last agreed on, by left field name;
	// nil for a link that never agreed on anything, such as a fresh pairing.
	Base        Fields
	Resolutions map[string]Resolution // by left field name
	Disabled    bool
	// NoAutoPair is set on the records of a pair a person unpaired: automatic
	// pairing never picks them again, only a person can pair them.
	NoAutoPair bool
	Category   Category
	Status     ItemStatus
	Error      string   // the last failed operation's error, for StatusFailed
	Conflicts  []string // left names of the fields in conflict
	// Version increases with every change; it is the item's ETag.
	Version   int64
	UpdatedAt time.Time
}

// Linked reports whether the item pairs a left and a right record.
func (it Item) Linked() bool { return it.LeftRecordID != "" && it.RightRecordID != "" }

// RecordID returns the item's record id on side s, "" for none.
func (it Item) RecordID(s Side) string { return bySide(s, it.LeftRecordID, it.RightRecordID) }

// Categorize decides an item's category from the item, its records (nil
// where absent) and the merge of a live link. It returns false when the item
// should not be shown at all: a link deleted on both sides, or an unpaired
// record that is deleted or missing.
func Categorize(item Item, left, right *Record, merge MergeResult) (Category, bool) {
	switch {
	case !item.Linked():
		rec := bySide(item.Side, left, right)
		switch {
		case gone(rec):
			return "", false
		case item.Disabled:
			return CategoryDisabled, true
		case !rec.Active:
			return CategoryInactive, true
		}
		return CategoryNew, true
	case gone(left) && gone(right):
		// Nothing is left to sync, and a disabled link is no exception.
		return "", false
	case item.Disabled:
		return CategoryDisabled, true
	case gone(left) || gone(right):
		// It stays until deleted on both sides or unlinked.
		return CategoryDeleted, true
	case len(merge.Conflicts) > 0:
		return CategoryConflict, true
	}
	return CategorySynced, true
}

// gone reports whether a link's record is missing or a tombstone.
func gone(r *Record) bool { return r == nil || r.Deleted }

// Action is something a person (or an API client) does to an item.
type Action string

// The item actions of API.md; the values are their URL path segments.
const (
	ActionPair              Action = "pair"
	ActionUnpair            Action = "unpair"
	ActionCreateCounterpart Action = "create-counterpart"
	ActionDisable           Action = "disable"
	ActionEnable            Action = "enable"
	ActionResolve           Action = "resolve"
	ActionDeleteRemaining   Action = "delete-remaining"
	ActionRestore           Action = "restore"
	ActionActivate          Action = "activate"
)

// actions lists what each category allows, in the order a window shows them.
// Beyond SYSTEM.md's table, a conflict may be unpaired (a fresh pairing that
// conflicts everywhere is usually a wrong pair) and every item but a
// disabled one may be disabled.
var actions = map[Category][]Action{
	CategoryConflict: {ActionResolve, ActionUnpair, ActionDisable},
	CategoryNew:      {ActionPair, ActionCreateCounterpart, ActionDisable},
	CategoryDeleted:  {ActionDeleteRemaining, ActionRestore, ActionUnpair, ActionDisable},
	CategoryDisabled: {ActionEnable},
	CategorySynced:   {ActionDisable, ActionUnpair},
	CategoryInactive: {ActionActivate, ActionDisable},
}

// categoryOrder fixes the order of categories in messages.
var categoryOrder = []Category{CategoryConflict, CategoryNew, CategoryDeleted, CategoryDisabled, CategorySynced, CategoryInactive}

// AllowedActions returns the actions the item's category allows.
func AllowedActions(item Item) []Action {
	return slices.Clone(actions[item.Category])
}

// CheckAction reports whether action fits the item's category.
// Errors: CodeInvalid for an unknown action; CodeConflict, saying which
// categories the action needs, when it does not fit.
func CheckAction(item Item, action Action) error {
	if slices.Contains(actions[item.Category], action) {
		return nil
	}
	var fits []string
	for _, c := range categoryOrder {
		if slices.Contains(actions[c], action) {
			fits = append(fits, string(c))
		}
	}
	if len(fits) == 0 {
		return Invalid("unknown action", map[string]string{"action": "must be one of pair, unpair, create-counterpart, disable, enable, resolve, delete-remaining, restore, activate"})
	}
	return Errorf(CodeConflict, "%s needs an item in category %s, this one is %s", action, orList(fits), item.Category)
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// MatchKeyValues returns rec's value for each of the object's match keys on
// side s, normalised, "" where empty. The store indexes them to find
// suggested partners.
func MatchKeyValues(obj Object, s Side, rec *Record) []string {
	keys := make([]string, len(obj.MatchKeys))
	for i, k := range obj.MatchKeys {
		if rec != nil {
			keys[i] = NormalizeKey(rec.Fields[k.On(s)], k.Normalize)
		}
	}
	return keys
}

// MatchingKey returns the index of the first match key on which two records'
// MatchKeyValues agree, or -1 when none does. Empty keys never match.
func MatchingKey(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != "" && a[i] == b[i] {
			return i
		}
	}
	return -1
}

// Candidate is an unpaired item offered for automatic pairing.
type Candidate struct {
	ItemID     string
	Keys       []string // MatchKeyValues of its record
	NoAutoPair bool
}

// Match is a left and a right item whose records share match key Key (an
// index into Object.MatchKeys).
type Match struct {
	LeftItemID, RightItemID string
	Key                     int
}

// AutoPairs returns the unambiguous matches between left and right: pairs
// that match each other and nothing else on either side. Candidates marked
// NoAutoPair are never paired but still make others ambiguous, since they
// may be the true partner. For the answer to hold, the slices must include
// every unpaired item that shares a key with any of them.
func AutoPairs(left, right []Candidate) []Match {
	type entry struct {
		key   int
		value string
	}
	byKey := map[entry][]int{}
	for j, r := range right {
		for i, v := range r.Keys {
			if v != "" {
				byKey[entry{i, v}] = append(byKey[entry{i, v}], j)
			}
		}
	}
	partners := make([]map[int]int, len(left)) // left → right → first key
	lefts := make([]int, len(right))           // how many lefts match each right
	for li, l := range left {
		partners[li] = map[int]int{}
		for i, v := range l.Keys {
			for _, j := range byKey[entry{i, v}] {
				if _, seen := partners[li][j]; !seen {
					partners[li][j] = i
					lefts[j]++
				}
			}
		}
	}
	var out []Match
	for li, p := range partners {
		for j, key := range p {
			if len(p) == 1 && lefts[j] == 1 && !left[li].NoAutoPair && !right[j].NoAutoPair {
				out = append(out, Match{LeftItemID: left[li].ItemID, RightItemID: right[j].ItemID, Key: key})
			}
		}
	}
	return out
}
