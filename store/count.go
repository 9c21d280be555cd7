package store

import (
	"cmp"
	"maps"
	"slices"

	"gorm.io/gorm"

	"syncd/domain"
)

// countKey is one cell of the window summary.
type countKey struct {
	category domain.Category
	side     domain.Side // for category new only
}

func countOf(it domain.Item) (countKey, bool) {
	if it.Category == "" { // hidden items have no category and are not counted
		return countKey{}, false
	}
	k := countKey{category: it.Category}
	if it.Category == domain.CategoryNew {
		k.side = it.Side
	}
	return k, true
}

// counts collects how a transaction moves items between summary cells.
type counts map[countKey]int64

// move records an item leaving its old state (nil for a new item) for its
// new one (nil for a removed item).
func (c counts) move(from, to *domain.Item) {
	if from != nil {
		if k, ok := countOf(*from); ok {
			c[k]--
		}
	}
	if to != nil {
		if k, ok := countOf(*to); ok {
			c[k]++
		}
	}
}

// apply adds the moves to the stored counts, in one order for every
// transaction, so two that move the same cells cannot deadlock.
func (c counts) apply(db *gorm.DB, syncID, object string) error {
	keys := slices.SortedFunc(maps.Keys(c), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.category, b.category), cmp.Compare(a.side, b.side))
	})
	for _, k := range keys {
		d := c[k]
		if d == 0 {
			continue
		}
		err := db.Exec(`INSERT INTO window_counts (sync_id, object, category, side, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (sync_id, object, category, side) DO UPDATE SET n = window_counts.n + excluded.n`,
			syncID, object, string(k.category), string(k.side), d).Error
		if err != nil {
			return translate(err)
		}
	}
	return nil
}
