package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
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

// stagedRow is one record waiting in the apply's staging table.
type stagedRow struct {
	ID, ExternalID, Fields, Hash string
	Active, Deleted              bool
	DeletedAt, SourceUpdatedAt   *time.Time
}

var stagingColumns = []string{"id", "external_id", "fields", "hash", "active", "deleted", "deleted_at", "source_updated_at"}

// stageBatch is how many records are written to staging at once: large
// enough to amortise a round trip, small enough to keep memory flat.
const stageBatch = 5000

// recordApply stages records and merges them into records at Commit.
//
// The staging table is a temporary table of one pinned connection: it is
// written without WAL, index or locks on shared tables, it vanishes with
// the session if the process dies, and dropping it is instant however many
// rows it holds. The merge runs in a transaction on the same connection.
// While one batch is written, the next is filled (one batch in flight).
type recordApply struct {
	s       *Store
	set     domain.RecordSet
	conn    *sql.Conn // pinned until Commit or Discard
	table   string
	buf     []stagedRow
	spare   []stagedRow // the batch in flight, reused when it is done
	flying  chan error  // the in-flight batch's result; nil when none
	n       int         // records added
	deleted int         // of those, marked deleted by the source
	now     time.Time
	closed  bool
}

// StageRecords opens an apply for a set of the workspace. It holds one
// database connection until Commit or Discard.
func (s *Store) StageRecords(ctx context.Context, set domain.RecordSet) (domain.RecordApply, error) {
	if err := connectionExists(s.db.WithContext(ctx), set.WorkspaceID, set.ConnectionID); err != nil {
		return nil, err
	}
	conn, err := s.SQL().Conn(ctx)
	if err != nil {
		return nil, translate(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	a := &recordApply{
		s: s, set: set, conn: conn, table: "record_stage_" + hex.EncodeToString(b), now: utc(time.Now()),
		buf: make([]stagedRow, 0, stageBatch), spare: make([]stagedRow, 0, stageBatch),
	}
	ts := "timestamptz"
	if s.dialect == DialectSQLite {
		ts = "datetime"
	}
	err = a.db(ctx).Exec(`CREATE TEMPORARY TABLE ` + a.table + ` (
		id text NOT NULL, external_id text NOT NULL, fields text NOT NULL, hash text NOT NULL,
		active boolean NOT NULL, deleted boolean NOT NULL, deleted_at ` + ts + `, source_updated_at ` + ts + `)`).Error
	if err != nil {
		conn.Close()
		return nil, translate(err)
	}
	return a, nil
}

// db is gorm on the apply's pinned connection.
func (a *recordApply) db(ctx context.Context) *gorm.DB {
	db := a.s.db.WithContext(ctx) // a fresh statement, safe to point elsewhere
	db.Statement.ConnPool = a.conn
	return db
}

var errApplyClosed = domain.Errorf(domain.CodeInternal, "the apply was already committed or discarded")

// Add stages one record, handing a full batch to the database.
func (a *recordApply) Add(ctx context.Context, r domain.Record) error {
	if a.closed {
		return errApplyClosed
	}
	// The stored fields and the hash come from one encoding.
	enc, err := json.Marshal(r.Fields)
	if err != nil {
		return domain.Wrap(domain.CodeInvalid, err, "record fields must be JSON values")
	}
	row := stagedRow{
		ID: newID(), ExternalID: r.ExternalID, Fields: string(enc), Hash: domain.RecordHashEncoded(enc, r),
		Active: r.Active, Deleted: r.Deleted, SourceUpdatedAt: r.SourceUpdatedAt,
	}
	if r.Fields == nil {
		row.Fields = "{}"
	}
	if row.SourceUpdatedAt != nil {
		t := utc(*row.SourceUpdatedAt)
		row.SourceUpdatedAt = &t
	}
	if r.Deleted {
		row.DeletedAt = &a.now
		a.deleted++
	}
	a.buf = append(a.buf, row)
	a.n++
	if len(a.buf) >= stageBatch {
		return a.send(ctx)
	}
	return nil
}

// send hands the filled batch to a writer goroutine once the previous one
// has landed, and goes on with an empty buffer.
func (a *recordApply) send(ctx context.Context) error {
	if err := a.wait(); err != nil {
		return err
	}
	batch := a.buf
	a.buf, a.spare = a.spare[:0], batch
	a.flying = make(chan error, 1)
	go func() { a.flying <- a.write(ctx, batch) }()
	return nil
}

// wait returns the in-flight batch's result.
func (a *recordApply) wait() error {
	if a.flying == nil {
		return nil
	}
	err := <-a.flying
	a.flying = nil
	return err
}

// flush writes what is buffered and waits until everything has landed.
func (a *recordApply) flush(ctx context.Context) error {
	if err := a.wait(); err != nil {
		return err
	}
	err := a.write(ctx, a.buf)
	a.buf = a.buf[:0]
	return err
}

func (a *recordApply) write(ctx context.Context, batch []stagedRow) error {
	if len(batch) == 0 {
		return nil
	}
	if a.s.dialect == DialectPostgres {
		return translate(a.copyPostgres(ctx, batch))
	}
	return translate(a.insertSQLite(ctx, batch))
}

// isDuplicate reports a unique violation, from gorm or from a raw COPY.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pe) && pe.Code == "23505")
}

// copyPostgres streams the batch with COPY, PostgreSQL's bulk path.
func (a *recordApply) copyPostgres(ctx context.Context, batch []stagedRow) error {
	return a.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(batch) {
				return nil, nil
			}
			r := &batch[i]
			i++
			return []any{r.ID, r.ExternalID, r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt}, nil
		})
		_, err := pc.CopyFrom(ctx, pgx.Identifier{a.table}, stagingColumns, src)
		return err
	})
}

// insertSQLite writes the batch with multi-row inserts. The staging table
// is in the connection's temporary database, so the writes take no lock on
// the main database and need no transaction of their own.
func (a *recordApply) insertSQLite(ctx context.Context, batch []stagedRow) error {
	const perStatement = 400 // 8 variables each, well under SQLite's limit
	db := a.db(ctx)
	for start := 0; start < len(batch); start += perStatement {
		chunk := batch[start:min(start+perStatement, len(batch))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + a.table + " (" + strings.Join(stagingColumns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(stagingColumns))
		for i, r := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?,?,?,?,?)")
			args = append(args, r.ID, r.ExternalID, r.Fields, r.Hash, r.Active, r.Deleted, r.DeletedAt, r.SourceUpdatedAt)
		}
		if err := db.Exec(sb.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// Discard drops whatever was staged and releases the connection. It is
// safe to call more than once.
func (a *recordApply) Discard(ctx context.Context) {
	if a.closed {
		return
	}
	a.closed = true
	_ = a.wait()
	a.buf, a.spare = nil, nil
	_ = a.db(context.WithoutCancel(ctx)).Exec("DROP TABLE IF EXISTS " + a.table).Error
	_ = a.conn.Close()
}

// Commit merges the staged records into the set in one transaction.
func (a *recordApply) Commit(ctx context.Context, o domain.ApplyOptions) (domain.ApplyStats, error) {
	if a.closed {
		return domain.ApplyStats{}, errApplyClosed
	}
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
	err := translate(a.db(ctx).Transaction(func(tx *gorm.DB) error {
		return a.merge(tx, o, now, &stats)
	}))
	if err == nil && stats.Seq != 0 {
		a.s.RecordsChanged(ctx, a.set)
	}
	return stats, err
}

// merge applies the staged records: it refuses duplicates and unconfirmed
// mass deletes, then updates the records whose hash changed, inserts the
// new ones and, for a full apply, tombstones the ones the batch lacks.
// Unchanged records are never written.
func (a *recordApply) merge(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	set, st := a.set, a.table
	// The index finds duplicates, and serves the lookups below.
	if err := db.Exec("CREATE UNIQUE INDEX " + st + "_external_id ON " + st + " (external_id)").Error; err != nil {
		if isDuplicate(err) {
			return domain.Errorf(domain.CodeInvalid, "an external id occurs twice in one batch")
		}
		return translate(err)
	}
	if a.s.dialect == DialectPostgres {
		// Temporary tables are never analysed automatically; without
		// statistics the planner guesses their size badly.
		if err := db.Exec("ANALYZE " + st).Error; err != nil {
			return translate(err)
		}
	}
	var missing int64
	if o.Mode == domain.ApplyFull {
		var live int64
		err := db.Raw(`SELECT COUNT(*) FROM records r WHERE r.connection_id = ? AND r.object = ? AND NOT r.deleted`,
			set.ConnectionID, set.Object).Scan(&live).Error
		if err != nil {
			return translate(err)
		}
		err = db.Raw(`SELECT COUNT(*) FROM records r WHERE r.connection_id = ? AND r.object = ? AND NOT r.deleted
			AND NOT EXISTS (SELECT 1 FROM `+st+` s WHERE s.external_id = r.external_id)`,
			set.ConnectionID, set.Object).Scan(&missing).Error
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
	// A change number is taken before knowing whether anything changes;
	// when nothing does, rolling back to here returns it.
	if err := db.SavePoint("before_seq").Error; err != nil {
		return translate(err)
	}
	seq, err := nextSeq(db, set.WorkspaceID)
	if err != nil {
		return err
	}
	res := db.Exec(`UPDATE records SET fields = s.fields, hash = s.hash, active = s.active, deleted = s.deleted,
			deleted_at = s.deleted_at, source_updated_at = s.source_updated_at, last_seen_at = ?, changed_at = ?,
			seq = ?, origin = ?, version = records.version + 1
		FROM `+st+` s
		WHERE records.connection_id = ? AND records.object = ? AND records.external_id = s.external_id AND records.hash <> s.hash`,
		now, now, seq, string(o.Origin), set.ConnectionID, set.Object)
	if res.Error != nil {
		return translate(res.Error)
	}
	stats.Updated = int(res.RowsAffected)
	// The anti-join skips every stored record; the conflict clause only
	// matters when another apply inserted the same record meanwhile.
	res = db.Exec(`INSERT INTO records (id, workspace_id, connection_id, object, external_id, fields, hash, active, deleted,
			deleted_at, source_updated_at, first_seen_at, last_seen_at, changed_at, seq, origin, version)
		SELECT s.id, ?, ?, ?, s.external_id, s.fields, s.hash, s.active, s.deleted,
			s.deleted_at, s.source_updated_at, ?, ?, ?, ?, ?, 1
		FROM `+st+` s
		WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.connection_id = ? AND r.object = ? AND r.external_id = s.external_id)
		ON CONFLICT (connection_id, object, external_id) DO UPDATE SET
			fields = excluded.fields, hash = excluded.hash, active = excluded.active, deleted = excluded.deleted,
			deleted_at = excluded.deleted_at, source_updated_at = excluded.source_updated_at,
			last_seen_at = excluded.last_seen_at, changed_at = excluded.changed_at, seq = excluded.seq,
			origin = excluded.origin, version = records.version + 1
		WHERE records.hash <> excluded.hash`,
		set.WorkspaceID, set.ConnectionID, set.Object, now, now, now, seq, string(o.Origin), set.ConnectionID, set.Object)
	if res.Error != nil {
		return translate(res.Error)
	}
	stats.Inserted = int(res.RowsAffected)
	stats.Unchanged = stats.Rows - stats.Inserted - stats.Updated
	if stats.Inserted+stats.Updated == 0 && missing == 0 {
		if err := db.RollbackTo("before_seq").Error; err != nil {
			return translate(err)
		}
		return markFull(db, set, o, now)
	}
	stats.Seq = seq
	// Staged records that the source itself marks deleted count as deletions.
	stats.Deleted = a.deleted
	if o.Mode == domain.ApplyFull && missing > 0 {
		// An empty hash makes a tombstoned record that comes back count as changed.
		res := db.Exec(`UPDATE records SET deleted = ?, deleted_at = ?, hash = '', changed_at = ?, seq = ?, origin = ?, version = version + 1
			WHERE connection_id = ? AND object = ? AND NOT deleted
			AND NOT EXISTS (SELECT 1 FROM `+st+` s WHERE s.external_id = records.external_id)`,
			true, now, now, seq, string(o.Origin), set.ConnectionID, set.Object)
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
