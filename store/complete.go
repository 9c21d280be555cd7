package store

import (
	"context"
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

// CompleteOperation records that an operation's write succeeded: the hub's
// copy of the target side takes the written values (origin hub, so the change
// feed serves it and it never comes back as the side's own change), a created
// record is linked to the item, and the operation is done. set is the
// operation's target (OpTarget); externalID is the id the target gave a
// created record.
func (s *Store) CompleteOperation(ctx context.Context, op domain.Operation, set domain.RecordSet, externalID string, now time.Time) error {
	now = utc(now)
	err := s.InTx(ctx, func(tx *Store) error {
		if err := writeCopy(tx.db, set, op, externalID, now); err != nil {
			return err
		}
		if err := tx.db.Model(&operationRow{}).Where("id = ?", op.ID).Updates(map[string]any{
			"status": string(domain.OpDone), "error": "", "lease_until": nil, "updated_at": now,
		}).Error; err != nil {
			return translate(err)
		}
		busy, err := busyItems(tx.db, []string{op.ItemID}, true)
		if err != nil {
			return err
		}
		status := domain.StatusOK
		if busy[op.ItemID] {
			status = domain.StatusPending
		}
		return translate(tx.db.Model(&itemRow{}).Where("id = ?", op.ItemID).Updates(map[string]any{
			"status": string(status), "error": "", "version": gorm.Expr("version + 1"), "updated_at": now,
		}).Error)
	})
	if err == nil {
		s.RecordsChanged(ctx, set)
	}
	return err
}

// writeCopy applies a successful write to the hub's copy of the target set.
func writeCopy(db *gorm.DB, set domain.RecordSet, op domain.Operation, externalID string, now time.Time) error {
	if externalID == "" {
		externalID = op.ExternalID
	}
	var rows []recordRow
	err := db.Where("connection_id = ? AND object = ? AND external_id = ?", set.ConnectionID, set.Object, externalID).Limit(1).Find(&rows).Error
	if err != nil {
		return translate(err)
	}
	var rec domain.Record
	exists := len(rows) == 1
	if exists {
		if rec, err = rows[0].domain(nil); err != nil {
			return err
		}
	} else {
		if op.Kind != domain.OpCreate {
			// The record left the copy meanwhile; the target has the write.
			return nil
		}
		rec = domain.Record{ID: newID(), ExternalID: externalID, Active: true, FirstSeenAt: now}
	}
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
	seq, err := nextSeq(db, set.WorkspaceID)
	if err != nil {
		return err
	}
	fields, err := encodeFields(rec.Fields)
	if err != nil {
		return err
	}
	hash := domain.RecordHash(rec)
	if rec.Deleted {
		hash = "" // as a tombstone of a full apply: a record that comes back counts as changed
	}
	row := recordRow{
		ID: rec.ID, WorkspaceID: set.WorkspaceID, ConnectionID: set.ConnectionID, Object: set.Object, ExternalID: externalID,
		Fields: fields, Hash: hash, Active: rec.Active, Deleted: rec.Deleted, DeletedAt: rec.DeletedAt, SourceUpdatedAt: rec.SourceUpdatedAt,
		FirstSeenAt: rec.FirstSeenAt, LastSeenAt: now, ChangedAt: now, Seq: seq, Origin: string(domain.OriginHub), Version: rec.Version + 1,
	}
	if exists {
		err = db.Model(&recordRow{}).Where("id = ?", rec.ID).Select("*").Omit("id", "first_seen_at").Updates(&row).Error
	} else {
		err = db.Create(&row).Error
	}
	if err != nil {
		return translate(err)
	}
	if op.Kind != domain.OpCreate {
		return nil
	}
	return linkCreated(db, op, rec.ID)
}

// linkCreated pairs the item with the record its create made.
func linkCreated(db *gorm.DB, op domain.Operation, recordID string) error {
	col := recordColumn(op.Side)
	var owners []itemRow
	if err := db.Where("sync_id = ? AND object = ? AND "+col+" = ?", op.SyncID, op.Object, recordID).Find(&owners).Error; err != nil {
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
