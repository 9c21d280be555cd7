package store

import (
	"context"
	"slices"
	"time"

	"syncd/domain"
)

// Suggestions lists the unpaired items on the other side that share a match
// key with an unpaired item, ambiguous ones included, with the key that matched.
func (s *Store) Suggestions(ctx context.Context, workspaceID, syncID, object, itemID string) ([]domain.Suggestion, error) {
	db := s.db.WithContext(ctx)
	v, err := item(db, workspaceID, syncID, object, itemID)
	if err != nil {
		return nil, err
	}
	if v.Item.Linked() {
		return nil, domain.Errorf(domain.CodeConflict, "suggestions are for unpaired items; this one is paired")
	}
	var own []itemKeyRow
	if err := db.Where("item_id = ?", itemID).Order("key_index").Find(&own).Error; err != nil {
		return nil, translate(err)
	}
	var out []domain.Suggestion
	seen := map[string]bool{}
	for _, k := range own {
		var hits []itemKeyRow
		err := db.Where("object_id = ? AND key_index = ? AND value = ? AND side = ?",
			k.ObjectID, k.KeyIndex, k.Value, string(v.Item.Side.Other())).Order("item_id").Limit(domain.MaxPageLimit).Find(&hits).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, h := range hits {
			if seen[h.ItemID] {
				continue
			}
			seen[h.ItemID] = true
			pv, err := item(db, workspaceID, syncID, object, h.ItemID)
			if err != nil {
				continue // hidden meanwhile
			}
			out = append(out, domain.Suggestion{View: *pv, Key: k.KeyIndex})
		}
	}
	return out, nil
}

// AutoPair pairs every unambiguous match-key pair among the object's
// unpaired items, in chunks, and returns how many pairs it made.
func (s *Store) AutoPair(ctx context.Context, workspaceID, syncID, object, subject string, now time.Time) (int, error) {
	db := s.db.WithContext(ctx)
	objID, err := objectID(db, workspaceID, syncID, object)
	if err != nil {
		return 0, err
	}
	// Key values held by exactly one left and one right item are the only
	// possible pairs; AutoPairs then drops those a rival on another key spoils.
	var groups []struct {
		KeyIndex int
		Value    string
	}
	err = db.Model(&itemKeyRow{}).Select("key_index, value").Where("object_id = ?", objID).
		Group("key_index, value").
		Having("SUM(CASE WHEN side = 'left' THEN 1 ELSE 0 END) = 1 AND SUM(CASE WHEN side = 'right' THEN 1 ELSE 0 END) = 1").
		Scan(&groups).Error
	if err != nil {
		return 0, translate(err)
	}
	values := map[int][]string{}
	for _, g := range groups {
		values[g.KeyIndex] = append(values[g.KeyIndex], g.Value)
	}
	found, _, err := candidates(db, objID, values)
	if err != nil {
		return 0, err
	}
	more := map[int][]string{}
	for _, c := range found {
		for i, v := range c.Keys {
			if v != "" {
				more[i] = append(more[i], v)
			}
		}
	}
	rivals, rivalSides, err := candidates(db, objID, more)
	if err != nil {
		return 0, err
	}
	matches := domain.AutoPairs(bySides(rivals, rivalSides))
	paired := 0
	for chunk := range slices.Chunk(matches, actChunk) {
		for _, m := range chunk {
			res, err := s.Act(ctx, workspaceID, syncID, object, []string{m.LeftItemID},
				domain.ActionRequest{Action: domain.ActionPair, PartnerItemID: m.RightItemID, Subject: subject, Now: now}, 0)
			if err != nil {
				return paired, err
			}
			if res[0].Err == nil {
				paired++
			}
		}
	}
	return paired, nil
}
