package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

// PutRecord creates or replaces one record in its own transaction.
func (s *Store) PutRecord(ctx context.Context, set domain.RecordSet, r domain.Record, ifVersion int64, origin domain.Origin, now time.Time) (*domain.Record, domain.WriteOutcome, error) {
	var (
		out     *domain.Record
		outcome domain.WriteOutcome
	)
	err := s.writeRecords(ctx, set, origin, now, func(w *recordWriter) (err error) {
		out, outcome, err = w.put(r, ifVersion)
		return err
	})
	return out, outcome, err
}

// DeleteRecord tombstones one record in its own transaction.
func (s *Store) DeleteRecord(ctx context.Context, set domain.RecordSet, externalID string, ifVersion int64, origin domain.Origin, now time.Time) (*domain.Record, domain.WriteOutcome, error) {
	var (
		out     *domain.Record
		outcome domain.WriteOutcome
	)
	err := s.writeRecords(ctx, set, origin, now, func(w *recordWriter) (err error) {
		out, outcome, err = w.delete(externalID, ifVersion)
		return err
	})
	return out, outcome, err
}

// ApplyRecordBatch applies the writes in order in one transaction. A write
// that fails its own checks was refused before anything of it was written,
// so it only needs its error recorded; any other error aborts the batch.
func (s *Store) ApplyRecordBatch(ctx context.Context, set domain.RecordSet, writes []domain.RecordWrite, origin domain.Origin, now time.Time) ([]domain.WriteResult, error) {
	if len(writes) > domain.MaxBatchWrites {
		return nil, domain.Invalid("too many writes in one batch", map[string]string{"items": "must have at most 1000 items"})
	}
	var results []domain.WriteResult
	err := s.writeRecords(ctx, set, origin, now, func(w *recordWriter) error {
		results = make([]domain.WriteResult, len(writes))
		for i, wr := range writes {
			res := domain.WriteResult{ExternalID: wr.Record.ExternalID}
			err := domain.ValidateRecordWrite(wr)
			switch {
			case err != nil:
			case wr.Op == domain.WriteDelete:
				res.Record, res.Outcome, err = w.delete(wr.Record.ExternalID, wr.IfVersion)
			default:
				res.Record, res.Outcome, err = w.put(wr.Record, wr.IfVersion)
			}
			switch domain.ErrorCode(err) {
			case "":
			case domain.CodeInvalid, domain.CodeStale, domain.CodeNotFound:
				res.Err = err
			default:
				return err
			}
			results[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// recordWriter writes records of one set inside a transaction. All its
// changes share one change number, taken at the first change.
type recordWriter struct {
	db       *gorm.DB
	set      domain.RecordSet
	setID    int64
	origin   domain.Origin
	now      time.Time
	seq      int64
	lastFull *time.Time
}

// writeRecords runs fn in a transaction holding the workspace's change
// counter. Holding it from the start serialises the workspace's record
// writers, so a version read here stays true until the write, and locks are
// always taken counter first, then rows, as the bulk apply does.
func (s *Store) writeRecords(ctx context.Context, set domain.RecordSet, origin domain.Origin, now time.Time, fn func(*recordWriter) error) error {
	if origin == "" {
		origin = domain.OriginSource
	}
	var w *recordWriter
	err := s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(set.WorkspaceID)
		if err := connectionExists(tx.db, set.WorkspaceID, set.ConnectionID); err != nil {
			return err
		}
		if err := lockChanges(tx.db, set.WorkspaceID); err != nil {
			return err
		}
		full, err := lastFullAt(tx.db, set)
		if err != nil {
			return err
		}
		sid, err := setID(tx.db, set)
		if err != nil {
			return err
		}
		w = &recordWriter{db: tx.db, set: set, setID: sid, origin: origin, now: utc(now), lastFull: full}
		return fn(w)
	})
	if err == nil && w.seq != 0 {
		s.RecordsChanged(ctx, set) // reconcile the syncs reading this set now
	}
	return err
}

// lockChanges locks the workspace's change counter without taking a number,
// so a transaction that ends up changing nothing leaves no gap.
func lockChanges(db *gorm.DB, workspaceID string) error {
	return translate(db.Exec(`INSERT INTO change_seq (workspace_id, value) VALUES (?, 0)
		ON CONFLICT (workspace_id) DO UPDATE SET value = change_seq.value`, workspaceID).Error)
}

// change takes the transaction's change number on its first use.
func (w *recordWriter) change() (int64, error) {
	if w.seq == 0 {
		seq, err := nextSeq(w.db, w.set.WorkspaceID)
		if err != nil {
			return 0, err
		}
		w.seq = seq
	}
	return w.seq, nil
}

// current finds the stored row for an external id; nil when there is none.
func (w *recordWriter) current(externalID string) (*recordRow, error) {
	var rows []recordRow
	err := w.db.Where("set_id = ? AND external_id = ?", w.setID, externalID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err)
	}
	return &rows[0], nil
}

// checkVersion applies If-Match: cur may be nil for a record never stored.
func checkVersion(cur *recordRow, ifVersion int64) error {
	switch {
	case ifVersion == 0:
		return nil
	case ifVersion == domain.IfExists && (cur == nil || cur.Deleted):
		return domain.Errorf(domain.CodeStale, "the record does not exist (If-Match: * needs a live record)")
	case ifVersion == domain.IfExists:
		return nil
	case cur == nil:
		return domain.Errorf(domain.CodeStale, "the record does not exist, so If-Match cannot match")
	case cur.Version != ifVersion:
		return domain.Errorf(domain.CodeStale, "the record changed since it was read: If-Match is version %d, the record is at %d", ifVersion, cur.Version)
	}
	return nil
}

func (w *recordWriter) put(r domain.Record, ifVersion int64) (*domain.Record, domain.WriteOutcome, error) {
	if err := domain.ValidateRecordWrite(domain.RecordWrite{Op: domain.WriteUpsert, Record: r, IfVersion: ifVersion}); err != nil {
		return nil, "", err
	}
	cur, err := w.current(r.ExternalID)
	if err != nil {
		return nil, "", err
	}
	if err := checkVersion(cur, ifVersion); err != nil {
		return nil, "", err
	}
	r.Deleted, r.DeletedAt = false, nil
	if r.SourceUpdatedAt != nil {
		t := utc(*r.SourceUpdatedAt)
		r.SourceUpdatedAt = &t
	}
	hash := domain.RecordHash(r)
	if cur != nil && cur.Hash == hash { // a tombstone's hash is empty, so it never matches
		out, err := cur.domain(w.lastFull)
		return &out, domain.OutcomeUnchanged, err
	}
	fields, err := encodeFields(r.Fields)
	if err != nil {
		return nil, "", err
	}
	seq, err := w.change()
	if err != nil {
		return nil, "", err
	}
	row := recordRow{
		ID: newID(), WorkspaceID: w.set.WorkspaceID, ConnectionID: w.set.ConnectionID, Object: w.set.Object, SetID: w.setID, ExternalID: r.ExternalID,
		Fields: fields, Hash: hash, Active: r.Active, SourceUpdatedAt: r.SourceUpdatedAt,
		FirstSeenAt: w.now, LastSeenAt: w.now, ChangedAt: w.now, Seq: seq, Origin: string(w.origin), Version: 1,
	}
	outcome := domain.OutcomeCreated
	if cur == nil {
		err = w.db.Create(&row).Error
	} else {
		// A restored tombstone keeps its id and first sighting but, to the
		// client, it is created again.
		row.ID, row.FirstSeenAt, row.Version = cur.ID, cur.FirstSeenAt, cur.Version+1
		if !cur.Deleted {
			outcome = domain.OutcomeUpdated
		}
		err = w.db.Model(&recordRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"fields": row.Fields, "hash": row.Hash, "active": row.Active, "deleted": false, "deleted_at": nil,
			"source_updated_at": row.SourceUpdatedAt, "last_seen_at": w.now, "changed_at": w.now,
			"seq": seq, "origin": row.Origin, "version": row.Version,
		}).Error
	}
	if err != nil {
		return nil, "", translate(err)
	}
	out, err := row.domain(w.lastFull)
	return &out, outcome, err
}

func (w *recordWriter) delete(externalID string, ifVersion int64) (*domain.Record, domain.WriteOutcome, error) {
	if err := domain.ValidateRecordWrite(domain.RecordWrite{Op: domain.WriteDelete, Record: domain.Record{ExternalID: externalID}, IfVersion: ifVersion}); err != nil {
		return nil, "", err
	}
	cur, err := w.current(externalID)
	if err != nil {
		return nil, "", err
	}
	if cur == nil {
		return nil, "", domain.Errorf(domain.CodeNotFound, "record not found")
	}
	if err := checkVersion(cur, ifVersion); err != nil {
		return nil, "", err
	}
	if cur.Deleted {
		out, err := cur.domain(w.lastFull)
		return &out, domain.OutcomeUnchanged, err
	}
	seq, err := w.change()
	if err != nil {
		return nil, "", err
	}
	// As in a full apply: an empty hash makes a record that comes back count as changed.
	row := *cur
	row.Deleted, row.DeletedAt, row.Hash = true, &w.now, ""
	row.ChangedAt, row.Seq, row.Origin, row.Version = w.now, seq, string(w.origin), cur.Version+1
	err = w.db.Model(&recordRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
		"deleted": true, "deleted_at": w.now, "hash": "", "changed_at": w.now, "seq": seq, "origin": row.Origin, "version": row.Version,
	}).Error
	if err != nil {
		return nil, "", translate(err)
	}
	out, err := row.domain(w.lastFull)
	return &out, domain.OutcomeDeleted, err
}

// Changes lists the hub's changes to a set after the cursor, in (seq, id)
// order: change numbers commit in order, so nothing can appear behind a
// cursor later, and the id orders the records one transaction changed.
func (s *Store) Changes(ctx context.Context, set domain.RecordSet, after domain.ChangeCursor, limit int) ([]domain.RecordChange, error) {
	db := s.db.WithContext(ctx)
	if err := connectionExists(db, set.WorkspaceID, set.ConnectionID); err != nil {
		return nil, err
	}
	limit = domain.Page{Limit: limit}.Normalized().Limit
	var rows []recordRow
	err := db.Where("workspace_id = ? AND "+setIDOf+" AND origin = ?",
		set.WorkspaceID, set.ConnectionID, set.Object, string(domain.OriginHub)).
		Where("(seq > ? OR (seq = ? AND id > ?))", after.Seq, after.Seq, after.ID).
		Order("seq, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	full, err := lastFullAt(db, set)
	if err != nil {
		return nil, err
	}
	out := make([]domain.RecordChange, len(rows))
	for i, r := range rows {
		rec, err := r.domain(full)
		if err != nil {
			return nil, err
		}
		out[i] = domain.RecordChange{Record: rec, Seq: r.Seq, ChangedAt: r.ChangedAt.UTC()}
	}
	return out, nil
}
