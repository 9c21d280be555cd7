package store

import (
	"gorm.io/gorm"

	"syncd/domain"
)

// itemKeyRow is one normalised match-key value of an unpaired item.
type itemKeyRow struct {
	ItemID   string `gorm:"primaryKey"`
	ObjectID int64  // the sync object's number
	Side     string
	KeyIndex int `gorm:"primaryKey"`
	Value    string
}

func (itemKeyRow) TableName() string { return "item_keys" }

func deleteKeys(db *gorm.DB, itemIDs []string) error {
	for in := range inLists(db, itemIDs) {
		if err := db.Where("item_id IN ?", in).Delete(&itemKeyRow{}).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

// candidates loads the unpaired items of the object that have any of the
// given key values, with all their keys, as auto-pair candidates by side.
func candidates(db *gorm.DB, objectID int64, values map[int][]string) (map[string]*domain.Candidate, map[string]domain.Side, error) {
	var hits []itemKeyRow
	for idx, vals := range values {
		for in := range inLists(db, vals) {
			var rows []itemKeyRow
			err := db.Where("object_id = ? AND key_index = ? AND value IN ?", objectID, idx, in).Find(&rows).Error
			if err != nil {
				return nil, nil, translate(err)
			}
			hits = append(hits, rows...)
		}
	}
	ids := map[string]bool{}
	for _, h := range hits {
		ids[h.ItemID] = true
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	out := map[string]*domain.Candidate{}
	sides := map[string]domain.Side{}
	for in := range inLists(db, list) {
		var keys []itemKeyRow
		if err := db.Where("item_id IN ?", in).Find(&keys).Error; err != nil {
			return nil, nil, translate(err)
		}
		var flags []struct {
			ID         string
			NoAutoPair bool
		}
		if err := db.Model(&itemRow{}).Select("id, no_auto_pair").Where("id IN ?", in).Scan(&flags).Error; err != nil {
			return nil, nil, translate(err)
		}
		for _, f := range flags {
			out[f.ID] = &domain.Candidate{ItemID: f.ID, NoAutoPair: f.NoAutoPair}
		}
		for _, k := range keys {
			c := out[k.ItemID]
			if c == nil {
				continue
			}
			for len(c.Keys) <= k.KeyIndex {
				c.Keys = append(c.Keys, "")
			}
			c.Keys[k.KeyIndex] = k.Value
			sides[k.ItemID] = domain.Side(k.Side)
		}
	}
	return out, sides, nil
}
