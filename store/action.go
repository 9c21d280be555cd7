package store

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"syncd/domain"
)

// actChunk bounds how many items one action transaction handles, so a bulk
// action over 100k items is a few dozen short transactions.
const actChunk = 2000

// Act applies an action to items in chunks of actChunk per transaction. On
// PostgreSQL several chunks run at once (see actWorkers), so one computes
// while the others write.
// A chunk the database fails fails its items (their results carry the error)
// and leaves the other chunks as they committed.
func (s *Store) Act(ctx context.Context, workspaceID, syncID, object string, itemIDs []string, req domain.ActionRequest, ifVersion int64) ([]domain.ActionResult, error) {
	if err := objectExists(s.db.WithContext(ctx), workspaceID, syncID, object); err != nil {
		return nil, err
	}
	req.Now = utc(req.Now)
	ref := ObjectRef{WorkspaceID: workspaceID, SyncID: syncID, Object: object}
	chunks := (len(itemIDs) + actChunk - 1) / actChunk
	defer s.acting(chunks > 1)()
	results := make([][]domain.ActionResult, chunks)
	part := func(i int) []string { return itemIDs[i*actChunk : min((i+1)*actChunk, len(itemIDs))] }
	next := make(chan int)
	var wg sync.WaitGroup
	for range s.actWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pre *ahead // this chunk, read ahead
			for i := range next {
				// With one worker the chunks come in order: read the next
				// one while this one writes.
				var after *ahead
				if s.actWorkers() == 1 && i+1 < chunks {
					after = s.readAhead(ctx, ref, part(i+1), req, ifVersion)
				}
				chunk := part(i)
				if pre != nil { // wait outside the transaction: it reads on a connection of its own
					<-pre.done
				}
				res, err := s.actOnce(ctx, ref, chunk, req, ifVersion, pre)
				if err != nil {
					res = make([]domain.ActionResult, len(chunk))
					for j, id := range chunk {
						res[j] = domain.ActionResult{ItemID: id, Err: err}
					}
				}
				results[i], pre = res, after
				if afterChunk != nil {
					afterChunk(pre)
				}
			}
		}()
	}
	for i := range chunks {
		next <- i
	}
	close(next)
	wg.Wait()
	return slices.Concat(results...), nil
}

// afterChunk, when a test sets it, runs between two chunks of an action
// with the next chunk's read ahead (nil when it is not read ahead).
var afterChunk func(next *ahead)

// acting counts a bulk action for BulkActing until the function it returns
// runs, which then wakes the worker for the operations queued.
func (s *Store) acting(bulk bool) (done func()) {
	if bulk {
		s.hooks.bulk.Add(1)
	}
	return func() {
		if bulk {
			s.hooks.bulk.Add(-1)
		}
		s.OperationsQueued()
	}
}

// actOnce runs one chunk in its own transaction, again when PostgreSQL
// aborted it to break a deadlock with another chunk.
func (s *Store) actOnce(ctx context.Context, ref ObjectRef, ids []string, req domain.ActionRequest, ifVersion int64, pre *ahead) (res []domain.ActionResult, err error) {
	for range 3 {
		err = s.InTx(ctx, func(tx *Store) error {
			var err error
			tx.windowChanged(ref.WorkspaceID)
			res, err = act(tx.db, ref, ids, req, ifVersion, pre)
			return err
		})
		if !isDeadlock(err) {
			break
		}
	}
	return res, err
}

// actWorkers is how many chunks of a bulk action run at once: SQLite has one
// writer, so one. On PostgreSQL one chunk's work in Go overlaps the others'
// round trips; on two cores three did best (bulk resolve of 100,000: two
// 10.5–11.0 s, three 9.1–10.2 s, four 9.6–10.0 s).
func (s *Store) actWorkers() int {
	if s.dialect == DialectPostgres {
		return 3
	}
	return 1
}

// act runs one chunk inside a transaction. It holds the object's row shared,
// which reconcile batches (taking it exclusively) skip, leaving the object
// to their next run, and the items' rows exclusively (see itemsByID), so two
// actions on one item take turns. pre, when not nil, is the chunk read and
// worked out ahead of the transaction (see ahead).
func act(db *gorm.DB, ref ObjectRef, ids []string, req domain.ActionRequest, ifVersion int64, pre *ahead) ([]domain.ActionResult, error) {
	var objs []syncObjectRow
	if err := db.Clauses(clause.Locking{Strength: "SHARE"}).Where("sync_id = ? AND name = ?", ref.SyncID, ref.Object).Find(&objs).Error; err != nil || len(objs) == 0 {
		return nil, translate(err)
	}
	sy, err := syncOnly(db, ref.WorkspaceID, ref.SyncID)
	if err != nil {
		return nil, err
	}
	r := newReconciler(db, *sy, objs[0], req.Now)
	p, err := r.planned(ids, req, ifVersion, pre)
	if err != nil {
		return nil, err
	}
	return p.results, p.write(db, req.Now)
}

// actPlan is an action on one chunk worked out: the answers, the writes a
// person's action queues, the items to store and the audit entries.
type actPlan struct {
	results []domain.ActionResult
	ops     []domain.Operation
	items   *reconciled
	audits  []auditRow
}

// planAct works out an action on the loaded items of ids. It writes nothing
// but for pair, which removes the item merged into its partner.
func (r *reconciler) planAct(ids []string, loaded map[string]domain.Item, req domain.ActionRequest, ifVersion int64) (*actPlan, error) {
	ref := ObjectRef{WorkspaceID: r.sync.WorkspaceID, SyncID: r.sync.ID, Object: r.obj.Name}
	p := &actPlan{results: make([]domain.ActionResult, len(ids))}
	var befores []domain.ItemView // of each audit
	r.held = map[string]bool{}
	for i, id := range ids {
		p.results[i].ItemID = id
		it, ok := loaded[id]
		if !ok {
			p.results[i].Err = domain.Errorf(domain.CodeNotFound, "item not found")
			continue
		}
		if ifVersion != 0 && it.Version != ifVersion {
			p.results[i].Err = domain.Errorf(domain.CodeStale, "the item changed since it was read (If-Match is stale)")
			continue
		}
		before := r.view(it)
		orig := it
		op, err := r.apply(&it, req)
		if err != nil {
			p.results[i].Err = err
			continue
		}
		if op != nil {
			op.ItemID, op.WorkspaceID, op.SyncID, op.Object = it.ID, ref.WorkspaceID, ref.SyncID, ref.Object
			p.ops = append(p.ops, *op)
			it.Status, it.Error = domain.StatusPending, ""
			r.held[it.ID] = true
		}
		if req.Action != domain.ActionPair { // pairWith touched the surviving partner
			r.touch(&work{item: it, was: &orig})
		}
		p.audits = append(p.audits, auditOf(ref, id, req, before))
		befores = append(befores, before)
	}
	if err := r.loadRecords(); err != nil {
		return nil, err
	}
	var err error
	if p.items, err = r.plan(); err != nil {
		return nil, err
	}
	at := map[string]int{}
	for i := range p.results {
		at[p.results[i].ItemID] = i
		if p.results[i].Err != nil {
			continue
		}
		it, ok := r.stored[p.results[i].ItemID]
		if !ok { // merged into its partner by pair
			it = r.stored[req.PartnerItemID]
		}
		v := r.view(it)
		p.results[i].View = &v
	}
	for i := range p.audits {
		if v := p.results[at[p.audits[i].ItemID]].View; v != nil {
			p.audits[i].After = snapshot(*v, &befores[i])
		}
	}
	return p, nil
}

// write queues the person's operations, stores the items and logs the
// action.
func (p *actPlan) write(db *gorm.DB, now time.Time) error {
	if err := insertOps(db, p.ops, plannedByAction, now); err != nil {
		return err
	}
	if err := p.items.write(db); err != nil {
		return err
	}
	return insertAudits(db, p.audits)
}

// apply changes one item for an action and returns the write it plans, if any.
func (r *reconciler) apply(it *domain.Item, req domain.ActionRequest) (*domain.Operation, error) {
	in := domain.ReconcileInput{Sync: r.sync, Object: r.obj, Item: *it, Left: r.records[it.LeftRecordID], Right: r.records[it.RightRecordID], Now: r.now}
	if err := domain.CheckAction(*it, req.Action); err != nil {
		return nil, err
	}
	var (
		op  domain.Operation
		err error
	)
	switch req.Action {
	case domain.ActionDisable:
		it.Disabled = true
		return nil, nil
	case domain.ActionEnable:
		it.Disabled = false
		return nil, nil
	case domain.ActionResolve:
		res := domain.Reconcile(in)
		it.Resolutions, err = domain.Resolve(*it, res.Merge.Diffs, req.Resolve)
		return nil, err
	case domain.ActionUnpair:
		return nil, r.unpair(it)
	case domain.ActionPair:
		return nil, r.pairWith(it, req.PartnerItemID)
	case domain.ActionCreateCounterpart, domain.ActionRestore:
		if busy, err := pendingCreate(r.db, it.ID); err != nil || busy {
			if err == nil {
				err = domain.Errorf(domain.CodeConflict, "%s is already under way for this item", req.Action)
			}
			return nil, err
		}
		if req.Action == domain.ActionRestore {
			op, err = domain.PlanRestore(in)
		} else {
			op, err = domain.PlanCreateCounterpart(in)
		}
	case domain.ActionDeleteRemaining:
		op, err = domain.PlanDeleteRemaining(in)
	case domain.ActionActivate:
		op, err = domain.PlanActivate(in)
	default:
		return nil, domain.Errorf(domain.CodeInvalid, "unknown action %q", req.Action)
	}
	if err != nil {
		return nil, err
	}
	return &op, nil
}

// unpair splits a link into two unpaired items that are never auto-paired again.
func (r *reconciler) unpair(it *domain.Item) error {
	right := domain.Item{
		ID: newID(), WorkspaceID: it.WorkspaceID, SyncID: it.SyncID, Object: it.Object,
		RightRecordID: it.RightRecordID, Side: domain.SideRight, NoAutoPair: true, Status: domain.StatusOK,
	}
	it.RightRecordID, it.Side, it.NoAutoPair = "", domain.SideLeft, true
	it.Base, it.Resolutions, it.Conflicts = nil, nil, nil
	r.touch(&work{item: right, fresh: true})
	return nil
}

// pairWith joins an unpaired item with an unpaired partner on the other side.
// A fresh pairing has no base: fields that differ conflict unless the policy
// resolves them.
func (r *reconciler) pairWith(it *domain.Item, partnerID string) error {
	if partnerID == "" || partnerID == it.ID {
		return domain.Invalid("pair needs a partner", map[string]string{"partner_item_id": "give the id of an unpaired item on the other side"})
	}
	partners, err := r.itemsByID([]string{partnerID})
	if err != nil {
		return err
	}
	p, ok := partners[partnerID]
	switch {
	case !ok:
		return domain.Invalid("no such partner", map[string]string{"partner_item_id": "no such item in this object"})
	case p.Linked() || p.Side == it.Side:
		return domain.Errorf(domain.CodeConflict, "the partner must be an unpaired item on the %s side", it.Side.Other())
	}
	if err := domain.CheckAction(p, domain.ActionPair); err != nil {
		return domain.Errorf(domain.CodeConflict, "the partner cannot be paired: %s", domain.ErrorMessage(err))
	}
	// The partner's id survives, so a client holding it can follow the link.
	pOrig := p
	rec := it.RecordID(it.Side)
	if it.Side == domain.SideLeft {
		p.LeftRecordID = rec
	} else {
		p.RightRecordID = rec
	}
	p.Side, p.Base, p.Resolutions = "", nil, nil
	if err := r.loadFor(map[string]domain.Item{p.ID: p}); err != nil {
		return err
	}
	if err := deleteItem(r.db, *it); err != nil {
		return err
	}
	r.touch(&work{item: p, was: &pOrig})
	*it = p
	return nil
}

// deleteItem removes an item merged into another (as stored: its category
// leaves the window counts) with its queued writes.
func deleteItem(db *gorm.DB, it domain.Item) error {
	if err := db.Where("item_id = ? AND status = ?", it.ID, string(domain.OpPending)).Delete(&operationRow{}).Error; err != nil {
		return translate(err)
	}
	if err := db.Where("id = ?", it.ID).Delete(&itemRow{}).Error; err != nil {
		return translate(err)
	}
	if err := deleteKeys(db, []string{it.ID}); err != nil {
		return err
	}
	moves := counts{}
	moves.move(&it, nil)
	return moves.apply(db, it.SyncID, it.Object)
}

// itemsByID loads the object's items by id; on PostgreSQL it locks their
// rows, in id order, until the transaction ends.
func (r *reconciler) itemsByID(ids []string) (map[string]domain.Item, error) {
	out := make(map[string]domain.Item, len(ids))
	for in := range inLists(r.db, ids) {
		items, err := findItems(r.db, "workspace_id = ? AND sync_id = ? AND object = ? AND id IN ? ORDER BY id"+forUpdate(r.db),
			r.sync.WorkspaceID, r.sync.ID, r.obj.Name, in)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out[it.ID] = it
		}
	}
	return out, nil
}

// loadFor reads the records of the given items.
func (r *reconciler) loadFor(items map[string]domain.Item) error {
	for _, it := range items {
		r.touchRecords(it)
	}
	return r.loadRecords()
}

// touchRecords makes loadRecords fetch an item's records.
func (r *reconciler) touchRecords(it domain.Item) {
	if _, ok := r.work[it.ID]; !ok {
		r.pending = append(r.pending, it.LeftRecordID, it.RightRecordID)
	}
}

// view is the item with its records as the API shows it.
func (r *reconciler) view(it domain.Item) domain.ItemView {
	return domain.ItemView{Item: it, Left: r.records[it.LeftRecordID], Right: r.records[it.RightRecordID]}
}

// auditRow is one entry of the audit log.
type auditRow struct {
	ID          string `gorm:"primaryKey"`
	WorkspaceID string
	SyncID      string
	Object      string
	ItemID      string
	Action      string
	Subject     string
	Before      string
	After       string
	CreatedAt   time.Time
}

func (auditRow) TableName() string { return "audit_log" }

var auditColumns = []column{{"id", "text"}, {"workspace_id", "text"}, {"sync_id", "text"}, {"object", "text"}, {"item_id", "text"},
	{"action", "text"}, {"subject", "text"}, {"before", "text"}, {"after", "text"}, {"created_at", "timestamptz"}}

func insertAudits(db *gorm.DB, audits []auditRow) error {
	rows := make([][]any, len(audits))
	for i, a := range audits {
		rows[i] = []any{a.ID, a.WorkspaceID, a.SyncID, a.Object, a.ItemID, a.Action, a.Subject, a.Before, a.After, a.CreatedAt}
	}
	return insertRows(db, "audit_log", auditColumns, rows)
}

// auditOf is the audit entry of an action on an item, until its after is known.
func auditOf(ref ObjectRef, itemID string, req domain.ActionRequest, before domain.ItemView) auditRow {
	return auditRow{
		ID: newID(), WorkspaceID: ref.WorkspaceID, SyncID: ref.SyncID, Object: ref.Object, ItemID: itemID,
		Action: string(req.Action), Subject: req.Subject, Before: snapshot(before, nil), After: "null", CreatedAt: req.Now,
	}
}

// recordSnapshot is a record as the audit log keeps it. An after's record
// that is the before's record on that side is kept without its fields
// (an action changes no record); reading the log restores them.
type recordSnapshot struct {
	ExternalID string          `json:"external_id"`
	Fields     json.RawMessage `json:"fields,omitempty"`
}

// fieldsJSON is a record's fields as JSON: as stored when the record was
// read with them, so a bulk action does not encode them again.
func fieldsJSON(r *domain.Record) json.RawMessage {
	if r.RawFields != nil {
		return r.RawFields
	}
	b, err := json.Marshal(r.Fields)
	if err != nil || r.Fields == nil {
		return json.RawMessage("{}")
	}
	return b
}

// snapshot is what the audit log keeps of an item: enough to see what
// changed. Given the before of an after, it leaves out the fields of the
// records the two share.
func snapshot(v domain.ItemView, before *domain.ItemView) string {
	s := itemSnapshot{Base: v.Item.Base, Category: v.Item.Category, Conflicts: v.Item.Conflicts, Disabled: v.Item.Disabled, Status: v.Item.Status}
	side := func(r, was *domain.Record) *recordSnapshot {
		switch {
		case r == nil:
			return nil
		case was != nil && was.ID == r.ID:
			return &recordSnapshot{ExternalID: r.ExternalID}
		}
		return &recordSnapshot{r.ExternalID, fieldsJSON(r)}
	}
	var wasLeft, wasRight *domain.Record
	if before != nil {
		wasLeft, wasRight = before.Left, before.Right
	}
	s.Left, s.Right = side(v.Left, wasLeft), side(v.Right, wasRight)
	if len(v.Item.Resolutions) > 0 {
		s.Resolutions = make(map[string]any, len(v.Item.Resolutions))
		for k, x := range v.Item.Resolutions {
			s.Resolutions[k] = x.Value
		}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// itemSnapshot is an item as the audit log keeps it.
type itemSnapshot struct {
	Base        domain.Fields     `json:"base"`
	Category    domain.Category   `json:"category"`
	Conflicts   []string          `json:"conflicts"`
	Disabled    bool              `json:"disabled"`
	Left        *recordSnapshot   `json:"left,omitempty"`
	Resolutions map[string]any    `json:"resolutions,omitempty"`
	Right       *recordSnapshot   `json:"right,omitempty"`
	Status      domain.ItemStatus `json:"status"`
}
