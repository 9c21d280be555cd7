package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

// fill is an apply into a set that holds no record, on PostgreSQL: the
// records go straight into the hub's copy while they are read, instead of
// into staging to be merged at Commit. Writing a million records into the
// copy is most of a first upload's time; this way it overlaps reading the
// file, and the staging table, its index and the merge's second copy of
// every row are gone.
//
// The records are written in a transaction of the apply's own under a
// private set number, which no query of the set names: until Commit the set
// reads as it was, and a discarded apply rolls back and leaves nothing.
// Commit gives the set that number when the set is still empty (adopt); if
// another apply filled it meanwhile, the records go back into staging and
// are merged like any other apply's (unstage).
//
// The records carry the time the apply opened (first seen, last seen,
// changed), where merged ones carry Commit's, and a change number taken
// then, so numbers taken later may commit before theirs. Within the set,
// which is what every reader of change numbers reads, order still holds: a
// set empty at Commit has never held a record (records leave the copy only
// with their connection), so no reader has a position in it.
type fill struct {
	tx      *sql.Tx
	private int64    // the set number the records are written under
	seq     int64    // their change number
	kept    []string // external ids kept as they are (see Keep)
}

// openFill starts a fill of a set that holds no record, on PostgreSQL
// only: SQLite's one writer must not wait for a file to be read.
func (a *recordApply) openFill(ctx context.Context) (*fill, error) {
	db := a.db(ctx) // the apply's own connection, idle until the fill begins on it
	f := &fill{}
	if err := db.Raw("SELECT nextval(pg_get_serial_sequence('record_sets', 'id'))").Scan(&f.private).Error; err != nil {
		return nil, translate(err)
	}
	err := db.Transaction(func(tx *gorm.DB) (err error) {
		f.seq, err = nextSeq(tx, a.set.WorkspaceID)
		return err
	})
	if err != nil {
		return nil, translate(err)
	}
	if f.tx, err = a.conn.BeginTx(ctx, nil); err != nil {
		return nil, translate(err)
	}
	return f, nil
}

// copyFill writes a batch into the copy under the fill's private number.
// Kept rows are only remembered: in an empty set there is nothing to keep,
// and if the fill has to be merged after all, they go to staging then.
func (a *recordApply) copyFill(ctx context.Context, batch []stagedRow) error {
	f, i := a.fill, 0
	err := copyFrom(ctx, a.conn, "records", recordInsertColumns, func(b []byte) ([]byte, bool, error) {
		for ; i < len(batch) && batch[i].Kept; i++ {
			f.kept = append(f.kept, batch[i].ExternalID)
		}
		if i == len(batch) {
			return b, false, nil
		}
		r := &batch[i]
		i++
		row := a.fillRow(r)
		return row.appendCopy(b), true, nil
	})
	if isDuplicate(err) {
		return errDuplicateInBatch
	}
	return err
}

// fillRow is the record a staged row becomes in the fill.
func (a *recordApply) fillRow(r *stagedRow) recordRow {
	return recordRow{
		ID: r.ID, WorkspaceID: a.set.WorkspaceID, ConnectionID: a.set.ConnectionID, Object: a.set.Object, SetID: a.fill.private, ExternalID: r.ExternalID,
		Fields: r.Fields, Hash: r.Hash, Active: r.Active, Deleted: r.Deleted, DeletedAt: r.DeletedAt, SourceUpdatedAt: r.SourceUpdatedAt,
		FirstSeenAt: a.now, LastSeenAt: a.now, ChangedAt: a.now, Seq: a.fill.seq, Origin: string(domain.OriginSource), Version: 1,
	}
}

var errDuplicateInBatch = domain.Errorf(domain.CodeInvalid, "an external id occurs twice in one batch")

// commitFill ends the fill in its transaction: adopt, or unstage and merge.
func (a *recordApply) commitFill(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	f, set := a.fill, a.set
	// The workspace's change number, locked: the set's other writers wait
	// from here until the commit, so the set stays as it is read below.
	if err := db.Exec("SELECT value FROM change_seq WHERE workspace_id = ? FOR UPDATE", set.WorkspaceID).Error; err != nil {
		return translate(err)
	}
	sid, err := setID(db, set)
	if err != nil {
		return err
	}
	top, err := topSeq(db, set.ConnectionID, set.Object)
	if err != nil {
		return err
	}
	if top != 0 || o.Origin != domain.OriginSource {
		return a.unstage(db, o, now, stats)
	}
	if a.n > 0 {
		if err := db.Exec("UPDATE record_sets SET id = ? WHERE id = ?", f.private, sid).Error; err != nil {
			return translate(err)
		}
		stats.Inserted, stats.Deleted, stats.Seq = a.n, a.deleted, f.seq
	}
	return markFull(db, set, o, now)
}

// unstage moves the fill's records from the copy into staging and merges
// them as any apply's.
func (a *recordApply) unstage(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	f := a.fill
	if err := a.createStaging(db); err != nil {
		return err
	}
	err := db.Exec(`INSERT INTO `+a.table+` (id, external_id, fields, hash, active, deleted, kept, same, deleted_at, source_updated_at)
		SELECT id, external_id, fields, hash, active, deleted, false, false, deleted_at, source_updated_at FROM records WHERE set_id = ?`, f.private).Error
	if err != nil {
		return translate(err)
	}
	if err := db.Exec("DELETE FROM records WHERE set_id = ?", f.private).Error; err != nil {
		return translate(err)
	}
	kept := make([][]any, len(f.kept))
	for i, id := range f.kept {
		kept[i] = keptRow(id).values()
	}
	if err := insertRows(db, a.table, stagingColumns, kept); err != nil {
		return err
	}
	return a.merge(db, o, now, stats)
}
