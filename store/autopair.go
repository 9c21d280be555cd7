package store

import (
	"syncd/domain"
)

// autoPair pairs the batch's new unpaired records with an unambiguous
// partner on the other side: one that shares a match key with it and with
// nothing else. Only records as they appear are paired; inactive ones wait
// to be activated, and a pair a person unpaired is never paired again.
func (r *reconciler) autoPair() error {
	if !r.obj.AutoPair || len(r.obj.MatchKeys) == 0 {
		return nil
	}
	all := map[string]*domain.Candidate{}
	sides := map[string]domain.Side{}
	queried := map[int]map[string]bool{}
	next := map[int][]string{}
	want := func(keys []string) {
		for i, v := range keys {
			if v == "" || queried[i][v] {
				continue
			}
			if queried[i] == nil {
				queried[i] = map[string]bool{}
			}
			queried[i][v] = true
			next[i] = append(next[i], v)
		}
	}
	fresh := map[string]bool{}
	for _, id := range r.order {
		w := r.work[id]
		if w == nil || !w.fresh {
			continue
		}
		rec := r.records[w.item.RecordID(w.item.Side)]
		if rec == nil || rec.Deleted || !rec.Active {
			continue
		}
		keys := domain.MatchKeyValues(r.obj, w.item.Side, rec)
		all[id] = &domain.Candidate{ItemID: id, Keys: keys}
		sides[id] = w.item.Side
		fresh[id] = true
		want(keys)
	}
	if len(fresh) == 0 {
		return nil
	}
	if alone, err := r.partnerless(sides); alone || err != nil {
		return err
	}
	// Two rounds: the stored items sharing a key with a new one, then those
	// sharing a key with them, so that every rival of a possible pair is seen.
	for round := 0; round < 2 && len(next) > 0; round++ {
		values := next
		next = map[int][]string{}
		found, foundSides, err := candidates(r.db, r.objID, values)
		if err != nil {
			return err
		}
		for id, c := range found {
			if _, ok := all[id]; ok {
				continue
			}
			all[id], sides[id] = c, foundSides[id]
			want(c.Keys)
		}
	}
	matches := domain.AutoPairs(bySides(all, sides))
	// Load the stored partners in one query rather than one by one.
	var stored []string
	for _, m := range matches {
		for _, id := range []string{m.LeftItemID, m.RightItemID} {
			if !fresh[id] && r.work[id] == nil {
				stored = append(stored, id)
			}
		}
	}
	found, err := r.itemsByID(stored)
	if err != nil {
		return err
	}
	for _, it := range found {
		r.touch(loaded(it))
	}
	for _, m := range matches {
		if !fresh[m.LeftItemID] && !fresh[m.RightItemID] {
			continue
		}
		if err := r.pair(m.LeftItemID, m.RightItemID, fresh); err != nil {
			return err
		}
	}
	return nil
}

// pair joins two unpaired items into one link, keeping a stored item's id
// when there is one.
func (r *reconciler) pair(leftID, rightID string, fresh map[string]bool) error {
	keep, drop := leftID, rightID
	if fresh[leftID] && !fresh[rightID] {
		keep, drop = rightID, leftID
	}
	kw, err := r.workOf(keep)
	if err != nil {
		return err
	}
	dw, err := r.workOf(drop)
	if err != nil {
		return err
	}
	if kw.item.LeftRecordID == "" {
		kw.item.LeftRecordID = dw.item.LeftRecordID
	} else {
		kw.item.RightRecordID = dw.item.RightRecordID
	}
	kw.item.Side = ""
	kw.item.Base, kw.item.Resolutions = nil, nil
	r.touch(kw)
	if !fresh[drop] {
		return domain.Errorf(domain.CodeInternal, "auto-pair would drop a stored item")
	}
	r.work[drop] = nil
	return nil
}

// workOf returns the touched item id; autoPair loaded the stored ones.
func (r *reconciler) workOf(id string) (*work, error) {
	if w := r.work[id]; w != nil {
		return w, nil
	}
	return nil, domain.Errorf(domain.CodeInternal, "item %s to pair was not loaded", id)
}

// bySides splits candidates into the left and right lists AutoPairs takes.
func bySides(all map[string]*domain.Candidate, sides map[string]domain.Side) (left, right []domain.Candidate) {
	for id, c := range all {
		if sides[id] == domain.SideLeft {
			left = append(left, *c)
		} else {
			right = append(right, *c)
		}
	}
	return left, right
}

// partnerless tells whether the new records, by their sides, can have no
// partner: all are on one side and the other side's set holds no record at
// all, deleted ones included, so it has no item either. A first load
// against an empty side then skips the lookups. Records that reach the
// other side later are reconciled in a later batch, after this one
// commits (a batch holds the object's row), and find these records' keys.
func (r *reconciler) partnerless(sides map[string]domain.Side) (bool, error) {
	var left, right bool
	for _, s := range sides {
		left, right = left || s == domain.SideLeft, right || s == domain.SideRight
	}
	if left == right {
		return false, nil
	}
	conn, object := r.sync.LeftConnectionID, r.obj.LeftObject
	if left {
		conn, object = r.sync.RightConnectionID, r.obj.RightObject
	}
	top, err := topSeq(r.db, conn, object) // every record has a change number from 1 on
	return top == 0, err
}
