package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"syncd/domain"
)

// batchRecords is how many changed records of each side one transaction
// reconciles: large enough that a batch's fixed cost (its transaction, the
// object's lock, a dozen statements) is small beside its rows, small enough
// to keep the object's lock short (a batch of 5,000 new records took about
// 0.4 s on PostgreSQL; 2,000 made a first categorising 8% slower). A
// variable only so that tests can make batches small.
var batchRecords = 5000

// ObjectRef names one object of one sync.
type ObjectRef = domain.ObjectRef

// ObjectsReading lists the sync objects that read a set of records, so a
// change to the set reconciles just those.
func (s *Store) ObjectsReading(ctx context.Context, set domain.RecordSet) ([]ObjectRef, error) {
	var out []ObjectRef
	err := s.db.WithContext(ctx).Raw(`SELECT o.workspace_id, o.sync_id, o.name AS object
		FROM sync_objects o JOIN syncs s ON s.id = o.sync_id
		WHERE s.workspace_id = ? AND ((s.left_connection_id = ? AND o.left_object = ?) OR (s.right_connection_id = ? AND o.right_object = ?))`,
		set.WorkspaceID, set.ConnectionID, set.Object, set.ConnectionID, set.Object).Scan(&out).Error
	return out, translate(err)
}

// BehindObjects lists sync objects with changes their reconciler has not
// read yet, for the background loop that catches what prompt reconciles
// missed (another replica's writes, a crash between commit and reconcile).
func (s *Store) BehindObjects(ctx context.Context) ([]ObjectRef, error) {
	var out []ObjectRef
	err := s.db.WithContext(ctx).Raw(`SELECT o.workspace_id, o.sync_id, o.name AS object
		FROM sync_objects o JOIN syncs s ON s.id = o.sync_id
		LEFT JOIN record_sets l ON l.connection_id = s.left_connection_id AND l.object = o.left_object
		LEFT JOIN record_sets r ON r.connection_id = s.right_connection_id AND r.object = o.right_object
		WHERE COALESCE((SELECT MAX(seq) FROM records WHERE set_id = l.id), 0) > o.left_seq
		   OR COALESCE((SELECT MAX(seq) FROM records WHERE set_id = r.id), 0) > o.right_seq`).
		Scan(&out).Error
	return out, translate(err)
}

// ReconcileObject brings an object's items up to date with every record
// change since its last run, batch by batch, and returns how many records it
// read. Only changed records and their items are touched. While a batch
// writes, the next batch's records are read and decoded on another
// connection (see batchAhead).
func (s *Store) ReconcileObject(ctx context.Context, ref ObjectRef, now time.Time) (int, error) {
	total, created, analyzed := 0, 0, 0
	var pre *batchAhead
	for {
		// Wait for the read-ahead before taking a connection for the
		// batch: it needs one of its own from the same pool.
		pre.wait()
		n, c, next, err := s.reconcileBatch(ctx, ref, utc(now), pre)
		total, created, pre = total+n, created+c, next
		if afterBatch != nil && pre != nil {
			afterBatch(pre)
		}
		// A first upload grows the window from nothing by a million rows;
		// fresh statistics keep the planner on the indexes as it grows.
		// Changes to existing items do not call for them.
		if created-analyzed >= max(10_000, analyzed) {
			s.analyze(ctx, "items", "item_keys")
			analyzed = created
		}
		if err != nil || pre == nil { // a failed batch reads nothing ahead
			if total > 0 {
				s.OperationsQueued()
			}
			return total, err
		}
	}
}

// afterBatch, when a test sets it, runs between two batches of a
// reconcile with the next batch read ahead.
var afterBatch func(next *batchAhead)

// reconcileBatch reconciles the next batch of an object's record changes
// and returns how many records it read and how many items it created, and,
// when more changes wait, the next batch being read ahead. pre is this
// batch read ahead, or nil.
func (s *Store) reconcileBatch(ctx context.Context, ref ObjectRef, now time.Time, pre *batchAhead) (n, created int, next *batchAhead, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		var objs []syncObjectRow
		// Another replica reconciling this object holds the row: leave it to it.
		err := tx.db.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("workspace_id = ? AND sync_id = ? AND name = ?", ref.WorkspaceID, ref.SyncID, ref.Object).Find(&objs).Error
		if err != nil || len(objs) == 0 {
			return translate(err)
		}
		sy, err := syncOnly(tx.db, ref.WorkspaceID, ref.SyncID)
		if err != nil {
			return err
		}
		r := newReconciler(tx.db, *sy, objs[0], now)
		row := objs[0]
		positions := [2]changesFrom{
			{sy.LeftConnectionID, row.LeftObject, row.LeftSeq, row.LeftAfter},
			{sy.RightConnectionID, row.RightObject, row.RightSeq, row.RightAfter},
		}
		var batch [2]changes
		more := false
		for i, from := range positions {
			if batch[i], err = pre.take(tx.db, i, from); err != nil {
				return err
			}
			more = more || len(batch[i].records) == batchRecords
			n += len(batch[i].records)
			positions[i] = batch[i].next
		}
		if n == 0 {
			return nil
		}
		if more {
			next = s.readBatchAhead(ctx, positions)
		}
		for i, side := range []domain.Side{domain.SideLeft, domain.SideRight} {
			if err := r.changed(side, batch[i].records); err != nil {
				return err
			}
		}
		tx.windowChanged(ref.WorkspaceID)
		if err := r.flush(); err != nil {
			return err
		}
		created = r.created
		left, right := positions[0], positions[1]
		return translate(tx.db.Model(&syncObjectRow{}).Where("sync_id = ? AND name = ?", ref.SyncID, ref.Object).
			Updates(map[string]any{"left_seq": left.seq, "left_after": left.after, "right_seq": right.seq, "right_after": right.after}).Error)
	})
	if err != nil && next != nil {
		next.wait()
		next = nil
	}
	return n, created, next, err
}

// reconciler collects the items one batch of record changes touches, pairs
// new records automatically, then reconciles and stores every touched item.
type reconciler struct {
	db      *gorm.DB
	sync    domain.Sync
	obj     domain.Object
	objID   int64 // the object's number
	now     time.Time
	records map[string]*domain.Record // by the hub's record id
	work    map[string]*work          // touched items by id
	order   []string                  // item ids in the order first touched
	pending []string                  // record ids to load besides the touched items'
	stored  map[string]domain.Item    // the items as plan reconciled them
	created int                       // how many new items plan reconciled
	held    map[string]bool           // items the action being planned queues a person's operation for
}

// work is one touched item; fresh ones are not stored yet. was is the item
// as stored, before anything changed it, for the window counts.
type work struct {
	item  domain.Item
	fresh bool
	was   *domain.Item
}

// loaded is the work for an item just read from the database.
func loaded(it domain.Item) *work {
	was := it
	return &work{item: it, was: &was}
}

func newReconciler(db *gorm.DB, sy domain.Sync, obj syncObjectRow, now time.Time) *reconciler {
	return &reconciler{db: db, sync: sy, obj: obj.domain(), objID: obj.ID, now: now, records: map[string]*domain.Record{}, work: map[string]*work{}, stored: map[string]domain.Item{}}
}

func (r *reconciler) touch(w *work) {
	prev, ok := r.work[w.item.ID]
	if !ok {
		r.order = append(r.order, w.item.ID)
	}
	if prev != nil && w.was == nil {
		w.was = prev.was // keep the state as first read
	}
	r.work[w.item.ID] = w
}

func recordColumn(side domain.Side) string {
	if side == domain.SideLeft {
		return "left_record_id"
	}
	return "right_record_id"
}

// changed takes one side's changed records: their items are touched, and a
// live record with no item becomes a new unpaired one.
func (r *reconciler) changed(side domain.Side, recs []domain.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		r.records[rec.ID] = r.effective(side, rec)
		ids[i] = rec.ID
	}
	existing, err := r.itemsOf(recordColumn(side), ids)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, it := range existing {
		r.touch(loaded(it))
		have[it.RecordID(side)] = true
	}
	for _, id := range ids {
		if have[id] || r.records[id].Deleted {
			continue
		}
		it := domain.Item{ID: newID(), WorkspaceID: r.sync.WorkspaceID, SyncID: r.sync.ID, Object: r.obj.Name, Side: side, Status: domain.StatusOK}
		if side == domain.SideLeft {
			it.LeftRecordID = id
		} else {
			it.RightRecordID = id
		}
		r.touch(&work{item: it, fresh: true})
	}
	return nil
}

// effective applies the object's active field: when a side names one, that
// field decides whether its records are active.
func (r *reconciler) effective(side domain.Side, rec domain.Record) *domain.Record {
	if f := r.obj.ActiveField.On(side); f != "" {
		if v, ok := domain.Normalize(rec.Fields[f], domain.FieldBoolean); ok {
			b, _ := v.(bool)
			rec.Active = b
		}
	}
	return &rec
}

// itemsOf loads the items holding any of the records in column.
func (r *reconciler) itemsOf(column string, recordIDs []string) ([]domain.Item, error) {
	var out []domain.Item
	for in := range inLists(r.db, recordIDs) {
		items, err := findItems(r.db, "object_id = ? AND "+column+" IN ?", r.objID, in)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// flush pairs, reconciles and stores every touched item.
func (r *reconciler) flush() error {
	if err := r.autoPair(); err != nil {
		return err
	}
	if err := r.loadRecords(); err != nil {
		return err
	}
	return r.store()
}

// loadRecords fetches the records of touched items not read yet.
func (r *reconciler) loadRecords() error {
	missing := r.pending
	r.pending = nil
	for _, w := range r.work {
		if w != nil {
			missing = append(missing, w.item.LeftRecordID, w.item.RightRecordID)
		}
	}
	missing = slices.DeleteFunc(missing, func(id string) bool { return id == "" || r.records[id] != nil })
	recs, err := recordsByID(r.db, r.sync.WorkspaceID, missing)
	if err != nil {
		return err
	}
	for id, rec := range recs {
		side := domain.SideLeft
		if rec.ConnectionID == r.sync.RightConnectionID && rec.Object == r.obj.RightObject {
			side = domain.SideRight
		}
		r.records[id] = r.effective(side, *rec)
	}
	return nil
}

// store reconciles each touched item and writes the results.
func (r *reconciler) store() error {
	p, err := r.plan()
	if err != nil {
		return err
	}
	return p.write(r.db)
}

// reconciled is the touched items reconciled, ready to write: new items and
// their match keys to insert, changed ones to update, the reconciler's
// pending operations to replace, and the moves of the window counts.
type reconciled struct {
	syncID, object string
	now            time.Time
	existing       []string          // the touched items already stored
	queue          map[string]queued // what they had queued, as read
	inserts        []itemRow
	keys           []itemKeyRow
	relinked       []itemRow  // updates whose records changed
	kept           []keptItem // updates that keep their records
	ops            []domain.Operation
	replaced       []string // the reconciler's planned operations of existing items, replaced
	stale          []string // existing items whose keys are rewritten
	moves          counts
}

// plan reconciles each touched item. It reads what the items have queued
// and writes nothing.
func (r *reconciler) plan() (*reconciled, error) {
	p := &reconciled{syncID: r.sync.ID, object: r.obj.Name, now: r.now, moves: counts{}}
	for _, id := range r.order {
		if w := r.work[id]; w != nil && !w.fresh {
			p.existing = append(p.existing, id)
		}
	}
	var err error
	if p.queue, err = queuedOps(r.db, p.existing); err != nil {
		return nil, err
	}
	touched := make([]*work, 0, len(r.order))
	for _, id := range r.order {
		if w := r.work[id]; w != nil { // nil: merged into a pair
			touched = append(touched, w)
		}
	}
	results := make([]evaluated, len(touched))
	err = inParallel(len(touched), func(i int) error {
		id := touched[i].item.ID
		var err error
		results[i], err = r.evaluate(touched[i].item, p.queue[id].held || r.held[id])
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, w := range touched {
		e, id := &results[i], w.item.ID
		p.moves.move(w.was, &e.item)
		r.stored[id] = e.item
		if w.fresh {
			p.inserts = append(p.inserts, e.row)
		} else {
			if w.was == nil || w.was.LeftRecordID != e.item.LeftRecordID || w.was.RightRecordID != e.item.RightRecordID {
				p.relinked = append(p.relinked, e.row)
			} else {
				p.kept = append(p.kept, keptItem{row: e.row, wasCategory: string(w.was.Category)})
			}
			p.replaced = append(p.replaced, p.queue[id].planned...)
			if w.was == nil || !w.was.Linked() { // only unpaired items have match keys
				p.stale = append(p.stale, id)
			}
		}
		p.keys = append(p.keys, e.keys...)
		p.ops = append(p.ops, e.ops...)
	}
	r.created += len(p.inserts)
	return p, nil
}

// write stores the reconciled items.
func (p *reconciled) write(db *gorm.DB) error {
	// Updates go first: an unpaired item split off a link takes a record the
	// link still holds until it is updated.
	if err := updateItems(db, p.relinked, p.kept); err != nil {
		return err
	}
	if len(p.inserts) > 0 {
		if err := insertItems(db, p.inserts); err != nil {
			return err
		}
	}
	if err := deleteKeys(db, p.stale); err != nil {
		return err
	}
	if len(p.keys) > 0 {
		if err := insertKeys(db, p.keys); err != nil {
			return err
		}
	}
	if err := p.moves.apply(db, p.syncID, p.object); err != nil {
		return err
	}
	return replacePlanned(db, p.replaced, p.ops, p.now)
}

// evaluated is one touched item reconciled: the item to store, its row,
// its match keys (when unpaired and shown) and the writes it plans.
type evaluated struct {
	item domain.Item
	row  itemRow
	keys []itemKeyRow
	ops  []domain.Operation
}

// evaluate reconciles one touched item; held tells whether a person's
// operation of it is still queued. It only reads the reconciler, so a
// batch's items are evaluated side by side.
func (r *reconciler) evaluate(it domain.Item, held bool) (evaluated, error) {
	in := domain.ReconcileInput{Sync: r.sync, Object: r.obj, Item: it, Left: r.records[it.LeftRecordID], Right: r.records[it.RightRecordID], Now: r.now}
	res := domain.Reconcile(in)
	e := evaluated{item: res.Item}
	if len(res.Ops) == 0 && held && e.item.Status == domain.StatusOK {
		e.item.Status = domain.StatusPending // a person's operation is still queued
	}
	e.item.Version++
	e.item.UpdatedAt = r.now
	var err error
	if e.row, err = itemToRow(e.item, res.Shown, r.search(in), in.Left, in.Right); err != nil {
		return e, err
	}
	e.row.ObjectID = r.objID
	if !e.item.Linked() && res.Shown {
		rec := r.records[e.item.RecordID(e.item.Side)]
		for i, v := range domain.MatchKeyValues(r.obj, e.item.Side, rec) {
			if v != "" {
				e.keys = append(e.keys, itemKeyRow{ItemID: e.item.ID, ObjectID: r.objID, Side: string(e.item.Side), KeyIndex: i, Value: v})
			}
		}
	}
	for _, op := range res.Ops {
		op.ItemID, op.WorkspaceID, op.SyncID, op.Object = e.item.ID, r.sync.WorkspaceID, r.sync.ID, r.obj.Name
		e.ops = append(e.ops, op)
	}
	return e, nil
}

// search is an item's window search text: both external ids, match keys and
// the first mapped values, lower-cased.
func (r *reconciler) search(in domain.ReconcileInput) string {
	var b strings.Builder
	for _, side := range []domain.Side{domain.SideLeft, domain.SideRight} {
		rec := in.Left
		if side == domain.SideRight {
			rec = in.Right
		}
		if rec == nil {
			continue
		}
		b.WriteString(rec.ExternalID)
		b.WriteByte(' ')
		for _, k := range r.obj.MatchKeys {
			fmt.Fprint(&b, rec.Fields[k.On(side)], " ")
		}
		for i, f := range r.obj.Fields {
			if i == 3 {
				break
			}
			if v := rec.Fields[f.On(side)]; v != nil {
				fmt.Fprint(&b, v, " ")
			}
		}
	}
	s := strings.ToLower(b.String())
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}
