package store

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

// OpTarget is where an operation writes: the sync's connection and object on
// the operation's side.
func (s *Store) OpTarget(ctx context.Context, op domain.Operation) (domain.RecordSet, error) {
	return opTarget(s.db.WithContext(ctx), op)
}

func opTarget(db *gorm.DB, op domain.Operation) (domain.RecordSet, error) {
	sy, objects, err := loadSync(db, op.WorkspaceID, op.SyncID)
	if err != nil {
		return domain.RecordSet{}, err
	}
	for _, o := range objects {
		if o.Name != op.Object {
			continue
		}
		if op.Side == domain.SideLeft {
			return domain.RecordSet{WorkspaceID: op.WorkspaceID, ConnectionID: sy.LeftConnectionID, Object: o.LeftObject}, nil
		}
		return domain.RecordSet{WorkspaceID: op.WorkspaceID, ConnectionID: sy.RightConnectionID, Object: o.RightObject}, nil
	}
	return domain.RecordSet{}, domain.Errorf(domain.CodeNotFound, "sync object %q not found", op.Object)
}

// CompleteOperations records, in one transaction, that the operations'
// writes succeeded: the hub's copy of each target takes the written values
// (origin hub, so the change feed serves them and they never come back as the
// side's own changes), created records are linked to their items, the
// operations are done and their items ok, or pending while another write of
// theirs is queued. A worker completes a whole round of writes to the hub's
// own copies at once; a batch fails or commits whole. All operations must be
// of one workspace: its change number orders the written records.
func (s *Store) CompleteOperations(ctx context.Context, done []domain.Completion, now time.Time) error {
	if len(done) == 0 {
		return nil
	}
	for _, c := range done {
		if c.Op.WorkspaceID != done[0].Op.WorkspaceID || c.Target.WorkspaceID != done[0].Op.WorkspaceID {
			return domain.Errorf(domain.CodeInternal, "operations of several workspaces cannot complete together")
		}
	}
	now = utc(now)
	byTarget := map[domain.RecordSet][]domain.Completion{}
	for _, c := range done {
		byTarget[c.Target] = append(byTarget[c.Target], c)
	}
	err := s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(done[0].Op.WorkspaceID)
		if err := holdObjects(tx.db, done); err != nil {
			return err
		}
		seq, err := nextSeq(tx.db, done[0].Op.WorkspaceID)
		if err != nil {
			return err
		}
		for set, writes := range byTarget {
			if err := writeCopies(tx.db, set, writes, seq, now); err != nil {
				return err
			}
		}
		if err := settleBases(tx.db, done); err != nil {
			return err
		}
		return finishOperations(tx.db, done, now)
	})
	if err == nil {
		for set := range byTarget {
			s.RecordsChanged(ctx, set)
		}
	}
	return err
}

// writeCopies applies completed writes to one record set's copy: it reads
// the records they touch once, applies the writes in order and stores the
// results in multi-row statements, numbered seq.
func writeCopies(db *gorm.DB, set domain.RecordSet, done []domain.Completion, seq int64, now time.Time) error {
	ids := make([]string, len(done))
	for i, c := range done {
		ids[i] = targetID(c)
	}
	stored, err := recordsByExternalID(db, set, ids)
	if err != nil {
		return err
	}
	sid, err := setID(db, set)
	if err != nil {
		return err
	}
	recs := maps.Clone(stored)
	var created []domain.Completion
	written := map[string]bool{}
	for _, c := range done {
		id := targetID(c)
		rec := recs[id]
		if rec == nil {
			if c.Op.Kind != domain.OpCreate {
				continue // the record left the copy meanwhile; the target has the write
			}
			rec = &domain.Record{ID: newID(), ExternalID: id, Active: true, FirstSeenAt: now}
			recs[id] = rec
		}
		written[id] = true
		applyWrite(rec, c.Op, now)
		if c.Op.Kind == domain.OpCreate {
			created = append(created, c)
		}
	}
	var inserts, updates []recordRow
	for _, id := range slices.Sorted(maps.Keys(written)) {
		row, err := copyRow(set, sid, recs[id], seq, now)
		if err != nil {
			return err
		}
		if stored[id] != nil {
			updates = append(updates, row)
		} else {
			inserts = append(inserts, row)
		}
	}
	if err := updateRecords(db, updates); err != nil {
		return err
	}
	if err := insertRecords(db, inserts); err != nil {
		return err
	}
	for _, c := range created {
		if err := linkCreated(db, c.Op, recs[targetID(c)].ID); err != nil {
			return err
		}
	}
	return nil
}

// copyRow is the stored form of a record the hub wrote.
func copyRow(set domain.RecordSet, setID int64, rec *domain.Record, seq int64, now time.Time) (recordRow, error) {
	fields, err := encodeFields(rec.Fields)
	if err != nil {
		return recordRow{}, err
	}
	hash := domain.RecordHash(*rec)
	if rec.Deleted {
		hash = "" // as a tombstone of a full apply: a record that comes back counts as changed
	}
	return recordRow{
		ID: rec.ID, WorkspaceID: set.WorkspaceID, ConnectionID: set.ConnectionID, Object: set.Object, SetID: setID, ExternalID: rec.ExternalID,
		Fields: fields, Hash: hash, Active: rec.Active, Deleted: rec.Deleted, DeletedAt: rec.DeletedAt, SourceUpdatedAt: rec.SourceUpdatedAt,
		FirstSeenAt: rec.FirstSeenAt, LastSeenAt: now, ChangedAt: now, Seq: seq, Origin: string(domain.OriginHub), Version: rec.Version + 1,
	}, nil
}

// targetID is the external id a completed write landed on.
func targetID(c domain.Completion) string {
	if c.ExternalID != "" {
		return c.ExternalID
	}
	return c.Op.ExternalID
}

// applyWrite changes the hub's copy of a record as the operation changed the
// record itself.
func applyWrite(rec *domain.Record, op domain.Operation, now time.Time) {
	switch op.Kind {
	case domain.OpCreate:
		rec.Fields, rec.Active, rec.Deleted, rec.DeletedAt = domain.Fields{}, true, false, nil
		for k, v := range op.Fields {
			rec.Fields[k] = v
		}
	case domain.OpUpdate, domain.OpActivate:
		if rec.Fields == nil {
			rec.Fields = domain.Fields{}
		}
		for k, v := range op.Fields {
			rec.Fields[k] = v
		}
		if op.Kind == domain.OpActivate {
			rec.Active = true
		}
	case domain.OpDelete:
		rec.Deleted, rec.DeletedAt = true, &now
	}
}

// finishOperations marks the operations done and their items ok, or pending
// while another write of theirs is still queued.
func finishOperations(db *gorm.DB, done []domain.Completion, now time.Time) error {
	opIDs := make([]string, len(done))
	itemIDs := make([]string, len(done))
	for i, c := range done {
		opIDs[i], itemIDs[i] = c.Op.ID, c.Op.ItemID
	}
	for in := range inLists(db, opIDs) {
		err := db.Model(&operationRow{}).Where("id IN ?", in).Updates(map[string]any{
			"status": string(domain.OpDone), "error": "", "lease_until": nil, "updated_at": now,
		}).Error
		if err != nil {
			return translate(err)
		}
	}
	queue, err := queuedOps(db, itemIDs)
	if err != nil {
		return err
	}
	byStatus := map[domain.ItemStatus][]string{}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(itemIDs))) {
		st := domain.StatusOK
		if queue[id].any() {
			st = domain.StatusPending
		}
		byStatus[st] = append(byStatus[st], id)
	}
	for st, ids := range byStatus {
		for in := range inLists(db, ids) {
			err := db.Model(&itemRow{}).Where("id IN ?", in).Updates(map[string]any{
				"status": string(st), "error": "", "version": gorm.Expr("version + 1"), "updated_at": now,
			}).Error
			if err != nil {
				return translate(err)
			}
		}
	}
	return nil
}

// linkCreated pairs the item with the record its create made.
func linkCreated(db *gorm.DB, op domain.Operation, recordID string) error {
	col := recordColumn(op.Side)
	var owners []itemRow
	if err := db.Where(objectIDOf+" AND "+col+" = ?", op.WorkspaceID, op.SyncID, op.Object, recordID).Find(&owners).Error; err != nil {
		return translate(err)
	}
	for _, o := range owners {
		if o.ID == op.ItemID {
			return nil
		}
		// The record was already known unpaired: its item gives way to the link.
		if o.LeftRecordID != nil && o.RightRecordID != nil {
			return domain.Errorf(domain.CodeConflict, "record %s on the %s side is already paired with another record", op.ExternalID, op.Side)
		}
		it, err := o.domain()
		if err != nil {
			return err
		}
		if err := deleteItem(db, it); err != nil {
			return err
		}
	}
	var row itemRow
	if err := db.Take(&row, "id = ?", op.ItemID).Error; err != nil {
		return notFound("item", err)
	}
	before, err := row.domain()
	if err != nil {
		return err
	}
	// The link keeps its category until the reconcile that follows; only
	// its side changes, which moves it between the summary's cells.
	after := before
	after.Side = ""
	moves := counts{}
	moves.move(&before, &after)
	if err := moves.apply(db, op.SyncID, op.Object); err != nil {
		return err
	}
	return translate(db.Model(&itemRow{}).Where("id = ?", op.ItemID).Updates(map[string]any{
		col: recordID, "side": "", "version": gorm.Expr("version + 1"),
	}).Error)
}

// holdObjects keeps, on PostgreSQL, the completions' objects from being
// reconciled until the transaction ends (a reconcile batch skips an object
// held, and the records written here reconcile it right after): a batch
// that read the items before would otherwise store them over the bases
// settled here. On SQLite the one writer already keeps them apart.
func holdObjects(db *gorm.DB, done []domain.Completion) error {
	if db.Dialector.Name() != DialectPostgres {
		return nil
	}
	objects := map[[2]string]bool{}
	for _, c := range done {
		objects[[2]string{c.Op.SyncID, c.Op.Object}] = true
	}
	for _, o := range slices.SortedFunc(maps.Keys(objects), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		err := db.Exec("SELECT 1 FROM sync_objects WHERE workspace_id = ? AND sync_id = ? AND name = ? FOR SHARE", done[0].Op.WorkspaceID, o[0], o[1]).Error
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// settleBases moves the base of each written field to the value the write
// put there (see domain.Object.Landed), in the transaction that records
// the write.
func settleBases(db *gorm.DB, done []domain.Completion) error {
	objects := map[[2]string]*domain.Object{}
	settled := map[string]domain.Fields{} // item id → base values
	for _, c := range done {
		if (c.Op.Kind != domain.OpUpdate && c.Op.Kind != domain.OpCreate) || len(c.Op.Fields) == 0 {
			continue
		}
		key := [2]string{c.Op.SyncID, c.Op.Object}
		o, ok := objects[key]
		if !ok {
			_, all, err := loadSync(db, c.Op.WorkspaceID, c.Op.SyncID)
			if err != nil {
				return err
			}
			if i := slices.IndexFunc(all, func(o domain.Object) bool { return o.Name == c.Op.Object }); i >= 0 {
				o = &all[i]
			}
			objects[key] = o
		}
		if o == nil {
			continue
		}
		landed := o.Landed(c.Op.Side, c.Op.Fields)
		if len(landed) == 0 {
			continue
		}
		if settled[c.Op.ItemID] == nil {
			settled[c.Op.ItemID] = domain.Fields{}
		}
		maps.Copy(settled[c.Op.ItemID], landed)
	}
	for in := range inLists(db, slices.Sorted(maps.Keys(settled))) {
		var bases []struct {
			ID   string
			Base *string
		}
		err := db.Raw("SELECT id, base FROM items WHERE workspace_id = ? AND id IN ? ORDER BY id"+forUpdate(db), done[0].Op.WorkspaceID, in).Scan(&bases).Error
		if err != nil {
			return translate(err)
		}
		rows := make([][]any, 0, len(bases))
		for _, b := range bases {
			base := domain.Fields{}
			if b.Base != nil {
				if err := decodeFields(*b.Base, &base); err != nil {
					return err
				}
			}
			maps.Copy(base, settled[b.ID])
			enc, err := encodeFields(base)
			if err != nil {
				return err
			}
			rows = append(rows, []any{b.ID, enc})
		}
		if err := updateRows(db, "items", []column{{"base", "text"}}, rows); err != nil {
			return err
		}
	}
	return nil
}
