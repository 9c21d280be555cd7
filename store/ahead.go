package store

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"gorm.io/gorm"

	"syncd/domain"
)

// ahead is one chunk of a bulk action read and worked out before its
// transaction: its items and their records, and for most actions the
// action's plan, on another connection while the chunk before it writes.
// SQLite has one writer, so without it the reading, the working out and the
// writing take turns on one core; with it they share two. The transaction
// takes what was read only when none of it changed since (see current), and
// the plan only when the items' queues are also as they were; otherwise it
// reads or works out again.
type ahead struct {
	done    chan struct{}
	sync    domain.Sync
	obj     domain.Object
	items   map[string]domain.Item
	records map[string]*domain.Record
	plan    *actPlan // nil for actions that read or write while worked out
	err     error
}

// readAhead starts reading a chunk's items and records and working out the
// action on them.
func (s *Store) readAhead(ctx context.Context, ref ObjectRef, ids []string, req domain.ActionRequest, ifVersion int64) *ahead {
	a := &ahead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		db := s.db.WithContext(ctx)
		sy, err := syncOnly(db, ref.WorkspaceID, ref.SyncID)
		if err != nil {
			a.err = err
			return
		}
		var objs []syncObjectRow
		if a.err = translate(db.Where("sync_id = ? AND name = ?", ref.SyncID, ref.Object).Find(&objs).Error); a.err != nil {
			return
		}
		if len(objs) == 0 {
			a.err = errNoObject
			return
		}
		r := newReconciler(db, *sy, objs[0], req.Now)
		if a.items, a.err = r.itemsByID(ids); a.err == nil {
			a.err = r.loadFor(a.items)
		}
		if a.err == nil && plannedAhead(req.Action) {
			a.plan, a.err = r.planAct(ids, a.items, req, ifVersion)
		}
		// Every record the plan read is checked with the items.
		a.sync, a.obj, a.records = *sy, r.obj, r.records
	}()
	return a
}

// plannedAhead tells whether an action is worked out ahead: those that
// read nothing but the items, their records and their queues (which
// planned checks again), and write nothing.
func plannedAhead(a domain.Action) bool {
	switch a {
	case domain.ActionResolve, domain.ActionDisable, domain.ActionEnable, domain.ActionUnpair,
		domain.ActionDeleteRemaining, domain.ActionActivate:
		return true
	}
	return false
}

// planned works out an action on the items of ids: takes pre's plan when
// everything it was worked out from is as it was, else works it out from
// pre's items and records when those are current, else from the database.
func (r *reconciler) planned(ids []string, req domain.ActionRequest, ifVersion int64, pre *ahead) (*actPlan, error) {
	loaded, ok, err := r.read(ids, pre)
	if err != nil {
		return nil, err
	}
	if ok && pre.plan != nil {
		q, err := queuedOps(r.db, pre.plan.items.existing)
		if err != nil {
			return nil, err
		}
		if reflect.DeepEqual(q, pre.plan.items.queue) {
			return pre.plan, nil
		}
	}
	return r.planAct(ids, loaded, req, ifVersion)
}

// read loads the items of ids and their records into the reconciler: from
// pre when it is still current (and then says so), else from the database.
func (r *reconciler) read(ids []string, pre *ahead) (map[string]domain.Item, bool, error) {
	if pre != nil {
		<-pre.done
		ok, err := pre.current(r)
		if err != nil {
			return nil, false, err
		}
		if ok {
			maps.Copy(r.records, pre.records)
			return pre.items, true, nil
		}
	}
	items, err := r.itemsByID(ids)
	if err != nil {
		return nil, false, err
	}
	return items, false, r.loadFor(items)
}

// current tells whether what was read ahead is what the reconciler's
// transaction would read: the same sync and object, and items and records
// at the same versions. Every write of an item or a record raises its
// version, so a version sum over the same rows grows with any change, and
// their count falls when one is deleted.
func (a *ahead) current(r *reconciler) (bool, error) {
	if a.err != nil || !reflect.DeepEqual(a.sync, r.sync) || !reflect.DeepEqual(a.obj, r.obj) {
		return false, nil
	}
	var items, records versionSum
	ids := slices.Collect(maps.Keys(a.items))
	for in := range inLists(r.db, ids) {
		err := items.add(r.db.Table("items").Where("workspace_id = ? AND sync_id = ? AND object = ? AND id IN ?",
			r.sync.WorkspaceID, r.sync.ID, r.obj.Name, in))
		if err != nil {
			return false, err
		}
	}
	recIDs := slices.Collect(maps.Keys(a.records))
	for in := range inLists(r.db, recIDs) {
		if err := records.add(r.db.Table("records").Where("workspace_id = ? AND id IN ?", r.sync.WorkspaceID, in)); err != nil {
			return false, err
		}
	}
	var readItems, readRecords versionSum
	for _, it := range a.items {
		readItems.N, readItems.Sum = readItems.N+1, readItems.Sum+it.Version
	}
	for _, rec := range a.records {
		readRecords.N, readRecords.Sum = readRecords.N+1, readRecords.Sum+rec.Version
	}
	return items == readItems && records == readRecords, nil
}

// versionSum is how many rows and the sum of their versions.
type versionSum struct{ N, Sum int64 }

func (v *versionSum) add(q *gorm.DB) error {
	var got versionSum
	if err := q.Select("COUNT(*) AS n, COALESCE(SUM(version), 0) AS sum").Scan(&got).Error; err != nil {
		return translate(err)
	}
	v.N, v.Sum = v.N+got.N, v.Sum+got.Sum
	return nil
}
