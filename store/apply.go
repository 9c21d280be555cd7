package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"syncd/domain"
)

// stagedRow is one record waiting in record_staging.
type stagedRow struct {
	ID, ExternalID, Fields, Hash string
	Active, Deleted              bool
	DeletedAt, SourceUpdatedAt   *time.Time
}

var stagingColumns = []string{"apply_id", "id", "external_id", "fields", "hash", "active", "deleted", "deleted_at", "source_updated_at"}

// stageBatch is how many records are written to staging at once: large
// enough to amortise a round trip, small enough to keep memory flat.
const stageBatch = 5000

// recordApply stages records and merges them into records at Commit.
type recordApply struct {
	s   *Store
	set domain.RecordSet
	id  string
	buf []stagedRow
	n   int
	now time.Time
}

// StageRecords opens an apply for a set of the workspace.
func (s *Store) StageRecords(ctx context.Context, set domain.RecordSet) (domain.RecordApply, error) {
	if err := connectionExists(s.db.WithContext(ctx), set.WorkspaceID, set.ConnectionID); err != nil {
		return nil, err
	}
	return &recordApply{s: s, set: set, id: newID(), now: utc(time.Now()), buf: make([]stagedRow, 0, stageBatch)}, nil
}

// Add stages one record, flushing a full batch to the database.
func (a *recordApply) Add(ctx context.Context, r domain.Record) error {
	fields, err := encodeFields(r.Fields)
	if err != nil {
		return err
	}
	row := stagedRow{
		ID: newID(), ExternalID: r.ExternalID, Fields: fields, Hash: domain.RecordHash(r),
		Active: r.Active, Deleted: r.Deleted, SourceUpdatedAt: r.SourceUpdatedAt,
	}
	if row.SourceUpdatedAt != nil {
		t := utc(*row.SourceUpdatedAt)
		row.SourceUpdatedAt = &t
	}
	if r.Deleted {
		row.DeletedAt = &a.now
	}
	a.buf = append(a.buf, row)
	a.n++
	if len(a.buf) >= stageBatch {
		return a.flush(ctx)
	}
	return nil
}

func (a *recordApply) flush(ctx context.Context) error {
	if len(a.buf) == 0 {
		return nil
	}
	var err error
	if a.s.dialect == DialectPostgres {
		err = a.copyPostgres(ctx)
	} else {
		err = a.insertSQLite(ctx)
	}
	a.buf = a.buf[:0]
	if isDuplicate(err) {
		return domain.Errorf(domain.CodeInvalid, "an external id occurs twice in one batch")
	}
	return translate(err)
}

// isDuplicate reports a unique violation, from gorm or from a raw COPY.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pe) && pe.Code == "23505")
}

// copyPostgres streams the batch with COPY, PostgreSQL's bulk path.
func (a *recordApply) copyPostgres(ctx context.Context) error {
	conn, err := a.s.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		rows := make([][]any, len(a.buf))
		for i, r := range a.buf {
			rows[i] = []any{a.id, r.ID, r.ExternalID, r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt}
		}
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"record_staging"}, stagingColumns, pgx.CopyFromRows(rows))
		return err
	})
}

// insertSQLite writes the batch with multi-row inserts in one transaction.
func (a *recordApply) insertSQLite(ctx context.Context) error {
	const perStatement = 400 // 9 variables each, well under SQLite's limit
	return a.s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for start := 0; start < len(a.buf); start += perStatement {
			chunk := a.buf[start:min(start+perStatement, len(a.buf))]
			var sb strings.Builder
			sb.WriteString("INSERT INTO record_staging (" + strings.Join(stagingColumns, ", ") + ") VALUES ")
			args := make([]any, 0, len(chunk)*len(stagingColumns))
			for i, r := range chunk {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString("(?,?,?,?,?,?,?,?,?)")
				args = append(args, a.id, r.ID, r.ExternalID, r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt)
			}
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// Discard removes whatever was staged.
func (a *recordApply) Discard(ctx context.Context) {
	a.buf = a.buf[:0]
	_ = a.s.db.WithContext(context.WithoutCancel(ctx)).Exec("DELETE FROM record_staging WHERE apply_id = ?", a.id).Error
}

// Commit merges the staged records into the set in one transaction.
func (a *recordApply) Commit(ctx context.Context, o domain.ApplyOptions) (domain.ApplyStats, error) {
	defer a.Discard(ctx)
	if err := a.flush(ctx); err != nil {
		return domain.ApplyStats{}, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Origin == "" {
		o.Origin = domain.OriginSource
	}
	now := utc(o.Now)
	stats := domain.ApplyStats{Rows: a.n}
	err := a.s.InTx(ctx, func(tx *Store) error {
		return a.merge(tx.db, o, now, &stats)
	})
	if err == nil && stats.Seq != 0 {
		a.s.RecordsChanged(ctx, a.set)
	}
	return stats, err
}

func (a *recordApply) merge(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	set := a.set
	var counts struct{ Inserted, Updated sql.NullInt64 }
	err := db.Raw(`SELECT
			SUM(CASE WHEN r.id IS NULL THEN 1 ELSE 0 END) AS inserted,
			SUM(CASE WHEN r.id IS NOT NULL AND r.hash <> s.hash THEN 1 ELSE 0 END) AS updated
		FROM record_staging s
		LEFT JOIN records r ON r.connection_id = ? AND r.object = ? AND r.external_id = s.external_id
		WHERE s.apply_id = ?`, set.ConnectionID, set.Object, a.id).Scan(&counts).Error
	if err != nil {
		return translate(err)
	}
	stats.Inserted, stats.Updated = int(counts.Inserted.Int64), int(counts.Updated.Int64)
	stats.Unchanged = stats.Rows - stats.Inserted - stats.Updated

	var missing int64
	if o.Mode == domain.ApplyFull {
		var live int64
		err := db.Raw(`SELECT COUNT(*) FROM records r WHERE r.connection_id = ? AND r.object = ? AND NOT r.deleted`,
			set.ConnectionID, set.Object).Scan(&live).Error
		if err != nil {
			return translate(err)
		}
		err = db.Raw(`SELECT COUNT(*) FROM records r WHERE r.connection_id = ? AND r.object = ? AND NOT r.deleted
			AND NOT EXISTS (SELECT 1 FROM record_staging s WHERE s.apply_id = ? AND s.external_id = r.external_id)`,
			set.ConnectionID, set.Object, a.id).Scan(&missing).Error
		if err != nil {
			return translate(err)
		}
		if live > 0 && float64(missing)/float64(live) > o.MaxDeleteRatio && !o.ConfirmMassDelete {
			return &domain.Error{
				Code: domain.CodeConflict,
				Message: fmt.Sprintf("this full upload would delete %d of %d records (more than %.0f%%); send confirm_mass_delete=true to apply it",
					missing, live, o.MaxDeleteRatio*100),
				Details: map[string]any{"would_delete": missing, "live_records": live},
			}
		}
	}
	if stats.Inserted+stats.Updated == 0 && missing == 0 {
		return markFull(db, set, o, now)
	}
	seq, err := nextSeq(db, set.WorkspaceID)
	if err != nil {
		return err
	}
	stats.Seq = seq
	err = db.Exec(`INSERT INTO records (id, workspace_id, connection_id, object, external_id, fields, hash, active, deleted,
			deleted_at, source_updated_at, first_seen_at, last_seen_at, changed_at, seq, origin, version)
		SELECT s.id, ?, ?, ?, s.external_id, s.fields, s.hash, s.active, s.deleted,
			s.deleted_at, s.source_updated_at, ?, ?, ?, ?, ?, 1
		FROM record_staging s WHERE s.apply_id = ?
		ON CONFLICT (connection_id, object, external_id) DO UPDATE SET
			fields = excluded.fields, hash = excluded.hash, active = excluded.active, deleted = excluded.deleted,
			deleted_at = excluded.deleted_at, source_updated_at = excluded.source_updated_at,
			last_seen_at = excluded.last_seen_at, changed_at = excluded.changed_at, seq = excluded.seq,
			origin = excluded.origin, version = records.version + 1
		WHERE records.hash <> excluded.hash`,
		set.WorkspaceID, set.ConnectionID, set.Object, now, now, now, seq, string(o.Origin), a.id).Error
	if err != nil {
		return translate(err)
	}
	// Staged records that the source itself marks deleted count as deletions.
	var sourceDeleted int64
	if err := db.Raw(`SELECT COUNT(*) FROM record_staging WHERE apply_id = ? AND deleted`, a.id).Scan(&sourceDeleted).Error; err != nil {
		return translate(err)
	}
	stats.Deleted = int(sourceDeleted)
	if o.Mode == domain.ApplyFull && missing > 0 {
		// An empty hash makes a tombstoned record that comes back count as changed.
		res := db.Exec(`UPDATE records SET deleted = ?, deleted_at = ?, hash = '', changed_at = ?, seq = ?, origin = ?, version = version + 1
			WHERE connection_id = ? AND object = ? AND NOT deleted
			AND NOT EXISTS (SELECT 1 FROM record_staging s WHERE s.apply_id = ? AND s.external_id = records.external_id)`,
			true, now, now, seq, string(o.Origin), set.ConnectionID, set.Object, a.id)
		if res.Error != nil {
			return translate(res.Error)
		}
		stats.Deleted += int(res.RowsAffected)
	}
	return markFull(db, set, o, now)
}

// markFull records when a full listing last saw the whole set.
func markFull(db *gorm.DB, set domain.RecordSet, o domain.ApplyOptions, now time.Time) error {
	if o.Mode != domain.ApplyFull {
		return nil
	}
	return translate(db.Exec(`INSERT INTO record_sets (connection_id, object, workspace_id, last_full_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (connection_id, object) DO UPDATE SET last_full_at = excluded.last_full_at`,
		set.ConnectionID, set.Object, set.WorkspaceID, now).Error)
}
