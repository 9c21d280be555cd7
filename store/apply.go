package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"syncd/domain"
)

// stagedRow is one record waiting in the apply's staging table.
// A kept row only names a record that stays as it is. A same row names a
// record found unchanged as it was staged (see prematch): its fields and
// hash are not staged. ID is given, as it is written, only to a row that
// may become a new record.
type stagedRow struct {
	ID, ExternalID, Fields, Hash string
	Active, Deleted, Kept, Same  bool
	DeletedAt, SourceUpdatedAt   *time.Time
	// What it matched (see prematch): whether it matched a stored record,
	// whether that is a tombstone, whether its hash differs, and then its id.
	Matched, WasDeleted, Changed bool
	RecordID                     string
	added                        domain.Fields // an added row's fields until encode
}

var stagingColumns = []column{{"id", "text"}, {"external_id", "text"}, {"fields", "text"}, {"hash", "text"},
	{"active", "boolean"}, {"deleted", "boolean"}, {"kept", "boolean"}, {"same", "boolean"}, {"deleted_at", "timestamptz"}, {"source_updated_at", "timestamptz"}}

// deltaColumns are the delta's (see prematch): staging's and the id of the
// record a changed row changes (NULL for a new one).
var deltaColumns = append(stagingColumns[:len(stagingColumns):len(stagingColumns)], column{"record_id", "text"})

// stageBatch is how many records are written to staging at once: large
// enough to amortise a round trip, small enough to keep memory flat.
const stageBatch = 5000

// recordApply stages records and merges them into records at Commit.
//
// The staging table is a temporary table of one pinned connection: it is
// written without WAL, index or locks on shared tables, it vanishes with
// the session if the process dies, and dropping it is instant however many
// rows it holds. The merge runs in a transaction on the same connection.
//
// Batches pass two stages, each in order: matching (see prematch), on a
// connection of the pool, and writing, on the pinned one. While one batch
// is written, the next is matched and the one after is filled.
type recordApply struct {
	s       *Store
	set     domain.RecordSet
	conn    *sql.Conn // pinned until Commit or Discard
	table   string
	buf     []stagedRow      // the batch being filled
	free    chan []stagedRow // emptied batches, for buf
	matched *stageDone       // the last batch sent: its matching
	landed  *stageDone       // and its writing
	n       int              // records added
	kept    int              // records kept as they are
	deleted int              // of those, marked deleted by the source
	now     time.Time
	closed  bool
	fill    *fill     // straight into the copy of an empty set; nil when staged
	pre     *prematch // when staged: batches matched as they are staged
	enc     []byte    // the last record's fields encoded, reused by encode
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
		buf: make([]stagedRow, 0, stageBatch), free: make(chan []stagedRow, batchesInFlight),
	}
	for range batchesInFlight {
		a.free <- make([]stagedRow, 0, stageBatch)
	}
	err = a.open(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return a, nil
}

// open reads the set's number and highest change number once, before any
// record is added, and begins a fill of an empty set on PostgreSQL or
// creates staging, whose batches are matched against what was read.
func (a *recordApply) open(ctx context.Context) error {
	db := a.db(ctx)
	var state struct{ ID, Top int64 }
	err := db.Raw(`SELECT s.id, COALESCE((SELECT MAX(seq) FROM records WHERE set_id = s.id), 0) AS top
		FROM record_sets s WHERE s.connection_id = ? AND s.object = ?`, a.set.ConnectionID, a.set.Object).Scan(&state).Error
	if err != nil {
		return translate(err)
	}
	if state.Top == 0 && a.s.dialect == DialectPostgres {
		a.fill, err = a.openFill(ctx)
		return err
	}
	a.pre = newPrematch(state.ID, state.Top, a.s.dialect)
	return a.createStaging(db)
}

// createStaging creates the apply's staging table and its delta (see
// prematch).
func (a *recordApply) createStaging(db *gorm.DB) error {
	ts := "timestamptz"
	if a.s.dialect == DialectSQLite {
		ts = "datetime"
	}
	columns := `id text NOT NULL, external_id text NOT NULL, fields text NOT NULL, hash text NOT NULL,
		active boolean NOT NULL, deleted boolean NOT NULL, kept boolean NOT NULL, same boolean NOT NULL, deleted_at ` + ts + `, source_updated_at ` + ts
	if err := db.Exec(`CREATE TEMPORARY TABLE ` + a.table + ` (` + columns + `)`).Error; err != nil {
		return translate(err)
	}
	return translate(db.Exec(`CREATE TEMPORARY TABLE ` + a.delta() + ` (` + columns + `, record_id text)`).Error)
}

// delta is the name of the staging table's delta.
func (a *recordApply) delta() string { return a.table + "_d" }

// db is gorm on the apply's pinned connection.
func (a *recordApply) db(ctx context.Context) *gorm.DB {
	db := a.s.db.WithContext(ctx) // a fresh statement, safe to point elsewhere
	db.Statement.ConnPool = a.conn
	return db
}

var errApplyClosed = domain.Errorf(domain.CodeInternal, "the apply was already committed or discarded")

// Add stages one record.
func (a *recordApply) Add(ctx context.Context, r domain.Record) error {
	if a.closed {
		return errApplyClosed
	}
	// The fields are encoded and hashed in the batch's first stage.
	row := stagedRow{ExternalID: r.ExternalID, added: r.Fields, Active: r.Active, Deleted: r.Deleted, SourceUpdatedAt: r.SourceUpdatedAt}
	if row.SourceUpdatedAt != nil {
		t := utc(*row.SourceUpdatedAt)
		row.SourceUpdatedAt = &t
	}
	if r.Deleted {
		row.DeletedAt = &a.now
		a.deleted++
	}
	a.n++
	return a.stage(ctx, row)
}

// Keep stages a record that stays as it is: a full apply does not
// tombstone it, and nothing is written when it is not stored.
func (a *recordApply) Keep(ctx context.Context, externalID string) error {
	if a.closed {
		return errApplyClosed
	}
	a.kept++
	return a.stage(ctx, keptRow(externalID))
}

// keptRow is the staged row of a record kept as it is.
func keptRow(externalID string) stagedRow {
	return stagedRow{ExternalID: externalID, Fields: "{}", Kept: true}
}

// values are the row's values in the order of stagingColumns.
func (r stagedRow) values() []any {
	return []any{r.ID, r.ExternalID, r.Fields, r.Hash, r.Active, r.Deleted, r.Kept, r.Same, r.DeletedAt, r.SourceUpdatedAt}
}

// deltaValues are the row's values in the order of deltaColumns.
func (r stagedRow) deltaValues() []any {
	var rid any
	if r.RecordID != "" {
		rid = r.RecordID
	}
	return append(r.values(), rid)
}

// appendCopy appends the row's COPY tuple in the order of stagingColumns,
// or of deltaColumns for the delta, as copyValues would from values or
// deltaValues (a test holds them alike) but without boxing each value.
func (r *stagedRow) appendCopy(b []byte, delta bool) []byte {
	if delta {
		b = appendCopyFields(b, len(deltaColumns))
	} else {
		b = appendCopyFields(b, len(stagingColumns))
	}
	b = appendCopyText(b, r.ID)
	b = appendCopyText(b, r.ExternalID)
	b = appendCopyText(b, r.Fields)
	b = appendCopyText(b, r.Hash)
	b = appendCopyBool(b, r.Active)
	b = appendCopyBool(b, r.Deleted)
	b = appendCopyBool(b, r.Kept)
	b = appendCopyBool(b, r.Same)
	b = appendCopyTimeOrNull(b, r.DeletedAt)
	b = appendCopyTimeOrNull(b, r.SourceUpdatedAt)
	if !delta {
		return b
	}
	if r.RecordID == "" {
		return appendCopyNull(b)
	}
	return appendCopyText(b, r.RecordID)
}

// stage buffers one row, handing a full batch to the database.
func (a *recordApply) stage(ctx context.Context, row stagedRow) error {
	a.buf = append(a.buf, row)
	if len(a.buf) >= stageBatch {
		return a.send(ctx)
	}
	return nil
}

// batchesInFlight is how many batches are matched or written while the
// next is filled.
const batchesInFlight = 2

// stageDone is one batch's passing of one stage.
type stageDone struct {
	done chan struct{}
	err  error // set before done closes
}

func newStageDone() *stageDone { return &stageDone{done: make(chan struct{})} }

// wait returns the stage's result; nil when there was no batch.
func (d *stageDone) wait() error {
	if d == nil {
		return nil
	}
	<-d.done
	return d.err
}

// failed returns the stage's error if it has passed, without waiting.
func (d *stageDone) failed() error {
	if d == nil {
		return nil
	}
	select {
	case <-d.done:
		return d.err
	default:
		return nil
	}
}

func (d *stageDone) finish(err error) {
	d.err = err
	close(d.done)
}

// send hands the filled batch to the stages and goes on with an emptied
// one. A batch's stage waits for the batch before it to pass it, and
// passes on its error, so the last batch's result is the first error.
func (a *recordApply) send(ctx context.Context) error {
	batch := a.buf
	prevMatched, prevLanded := a.matched, a.landed
	matched, landed := newStageDone(), newStageDone()
	a.matched, a.landed = matched, landed
	go func() {
		err := prevMatched.wait()
		var stay, delta []stagedRow
		if err == nil {
			stay, delta, err = a.match(ctx, batch)
		}
		matched.finish(err)
		if e := prevLanded.wait(); err == nil {
			err = e
		}
		if err == nil {
			err = a.write(ctx, stay, delta)
		}
		a.free <- batch[:0]
		landed.finish(err)
	}()
	a.buf = <-a.free
	// Report an error of the batches before as soon as it is known, rather
	// than reading the rest of the file.
	return prevLanded.failed()
}

// wait waits until every batch sent has landed and returns the first error.
func (a *recordApply) wait() error {
	return a.landed.wait()
}

// flush sends what is buffered and waits until everything has landed.
func (a *recordApply) flush(ctx context.Context) error {
	if len(a.buf) > 0 {
		if err := a.send(ctx); err != nil {
			return err
		}
	}
	return a.wait()
}

// match is a batch's first stage: it encodes the batch, matches it (see
// prematch), splitting it into staging's rows and the delta's, and gives
// ids.
func (a *recordApply) match(ctx context.Context, batch []stagedRow) (stay, delta []stagedRow, err error) {
	if err := a.encode(batch); err != nil {
		return nil, nil, err
	}
	stay = batch
	if a.fill == nil {
		if stay, delta, err = a.matchBatch(ctx, batch); err != nil {
			return nil, nil, translate(err)
		}
	}
	giveIDs(stay)
	giveIDs(delta)
	return stay, delta, nil
}

// encode gives each added row its stored fields and its hash, from one
// encoding. It runs in the first stage, one batch at a time, off the
// goroutine that adds the records.
func (a *recordApply) encode(batch []stagedRow) error {
	for i := range batch {
		r := &batch[i]
		if r.Kept {
			continue
		}
		enc, err := r.added.AppendJSON(a.enc[:0])
		if err != nil {
			return domain.Wrap(domain.CodeInvalid, err, "record fields must be JSON values")
		}
		a.enc = enc
		r.Hash = domain.RecordHashEncoded(enc, domain.Record{Active: r.Active, Deleted: r.Deleted, SourceUpdatedAt: r.SourceUpdatedAt})
		r.Fields = "{}"
		if r.added != nil {
			r.Fields = string(enc)
		}
		r.added = nil
	}
	return nil
}

// write is a batch's second stage: it writes the batch into the fill, or
// into staging and its delta.
func (a *recordApply) write(ctx context.Context, stay, delta []stagedRow) error {
	if a.fill != nil {
		return translate(a.copyFill(ctx, stay))
	}
	err := a.stageRows(ctx, stay, false)
	if err == nil {
		err = a.stageRows(ctx, delta, true)
	}
	return translate(err)
}

// giveIDs gives the rows that may become new records their ids: all
// but kept rows and those matched to a stored record.
func giveIDs(rows []stagedRow) {
	for i := range rows {
		if r := &rows[i]; !r.Kept && !r.Matched {
			r.ID = newID()
		}
	}
}

// isDuplicate reports a unique violation, from gorm or from a raw COPY.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pe) && pe.Code == "23505")
}

// stageRows writes rows into the staging table or its delta: on
// PostgreSQL with COPY, its bulk path; on SQLite with multi-row inserts,
// which take no lock on the main database (the staging tables are in the
// connection's temporary one) and need no transaction of their own.
func (a *recordApply) stageRows(ctx context.Context, rows []stagedRow, delta bool) error {
	if len(rows) == 0 {
		return nil
	}
	table, columns, values := a.table, stagingColumns, stagedRow.values
	if delta {
		table, columns, values = a.delta(), deltaColumns, stagedRow.deltaValues
	}
	if a.s.dialect == DialectPostgres {
		i := 0
		return copyFrom(ctx, a.conn, table, columns, func(b []byte) ([]byte, bool, error) {
			if i == len(rows) {
				return b, false, nil
			}
			i++
			return rows[i-1].appendCopy(b, delta), true, nil
		})
	}
	out := make([][]any, len(rows))
	for i := range rows {
		out[i] = values(rows[i])
	}
	return insertRows(a.db(ctx), table, columns, out)
}

// Discard drops whatever was staged and releases the connection. It is
// safe to call more than once.
func (a *recordApply) Discard(ctx context.Context) {
	if a.closed {
		return
	}
	a.closed = true
	_ = a.wait()
	a.buf = nil
	if a.fill != nil {
		_ = a.fill.tx.Rollback() // after a commit, ErrTxDone
	}
	db := a.db(context.WithoutCancel(ctx))
	_ = db.Exec("DROP TABLE IF EXISTS " + a.table + "_m").Error
	_ = db.Exec("DROP TABLE IF EXISTS " + a.delta()).Error
	_ = db.Exec("DROP TABLE IF EXISTS " + a.table).Error
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
	if o.Source == "" {
		o.Source = "listing"
	}
	now := utc(o.Now)
	stats := domain.ApplyStats{Rows: a.n}
	unlock := a.s.lockWrites()
	err := a.inTx(ctx, func(tx *gorm.DB) error {
		merge := a.merge
		switch {
		case a.fill != nil:
			merge = a.commitFill
		case a.pre != nil:
			merge = a.commitMatched
		}
		if err := merge(tx, o, now, &stats); err != nil {
			return err
		}
		return announce(tx, []string{a.set.WorkspaceID})
	})
	a.s.versions.bump(a.set.WorkspaceID)
	unlock()
	a.Discard(ctx) // the hooks need no staging and no pinned connection
	if err == nil && stats.Inserted+stats.Updated+stats.Deleted >= 50_000 {
		a.s.analyze(ctx, "records")
	}
	if err == nil && stats.Seq != 0 {
		a.s.RecordsChanged(ctx, a.set)
	}
	return stats, err
}

// inTx runs fn in the apply's transaction: the fill's, or a new one on
// the pinned connection.
func (a *recordApply) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if a.fill == nil {
		return translate(a.db(ctx).Transaction(fn))
	}
	db := a.db(ctx)
	db.Statement.ConnPool = a.fill.tx
	if err := fn(db); err != nil {
		return err
	}
	return translate(a.fill.tx.Commit())
}

// merge applies the staged records in one transaction. It takes the
// workspace's change number first, which serialises the record writers of
// the workspace, so what it reads below cannot change under it. Then it
// matches the staged records against the stored ones once, into a narrow
// match table, and from that counts, refuses duplicates and unconfirmed
// mass deletes, updates only the records whose hash changed, inserts the
// new ones and, for a full apply, tombstones the ones the batch lacks.
// Unchanged records are never written.
func (a *recordApply) merge(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	set, st, m := a.set, a.table, a.table+"_m"
	// The index finds duplicates, and serves the lookups below.
	if err := db.Exec("CREATE UNIQUE INDEX " + st + "_external_id ON " + st + " (external_id)").Error; err != nil {
		if isDuplicate(err) {
			return domain.Errorf(domain.CodeInvalid, "an external id occurs twice in one batch")
		}
		return translate(err)
	}
	// SQLite looks staged records up in the match table by its key.
	// PostgreSQL joins it by hashing, so there a key would only slow down
	// filling it, and the hash joins of a million records fit in memory
	// with more than the default 4 MB (which spilled them to disk).
	matchKey := " PRIMARY KEY"
	if a.s.dialect == DialectPostgres {
		matchKey = ""
		if err := db.Exec("SET LOCAL work_mem = '64MB'").Error; err != nil {
			return translate(err)
		}
		// Temporary tables are never analysed automatically; without
		// statistics the planner guesses their size badly.
		if err := db.Exec("ANALYZE " + st).Error; err != nil {
			return translate(err)
		}
	}
	// When nothing changes, rolling back to here returns the change number.
	if err := db.SavePoint("before_seq").Error; err != nil {
		return translate(err)
	}
	seq, err := nextSeq(db, set.WorkspaceID)
	if err != nil {
		return err
	}
	sid, err := setID(db, set)
	if err != nil {
		return err
	}
	err = db.Exec(`CREATE TEMPORARY TABLE ` + m + ` (external_id text NOT NULL` + matchKey + `, rid text NOT NULL, was_deleted boolean NOT NULL, changed boolean NOT NULL, kept boolean NOT NULL)`).Error
	if err != nil {
		return translate(err)
	}
	err = db.Exec(`INSERT INTO `+m+` (external_id, rid, was_deleted, changed, kept)
		SELECT s.external_id, r.id, r.deleted, r.hash <> s.hash AND NOT s.kept AND NOT s.same, s.kept
		FROM `+st+` s JOIN records r ON r.set_id = ? AND r.external_id = s.external_id`, sid).Error
	if err != nil {
		return translate(err)
	}
	if a.s.dialect == DialectPostgres {
		if err := db.Exec("ANALYZE " + m).Error; err != nil {
			return translate(err)
		}
	}
	// Kept records count as present (matched_live), not as added ones.
	var c struct{ Matched, Added, Changed, MatchedLive sql.NullInt64 }
	err = db.Raw(`SELECT COUNT(*) AS matched, SUM(CASE WHEN kept THEN 0 ELSE 1 END) AS added,
		SUM(CASE WHEN changed THEN 1 ELSE 0 END) AS changed,
		SUM(CASE WHEN was_deleted THEN 0 ELSE 1 END) AS matched_live FROM ` + m).Scan(&c).Error
	if err != nil {
		return translate(err)
	}
	missing, done, err := a.settle(db, sid, seq, o, now, stats, c.Added.Int64, c.Changed.Int64, c.MatchedLive.Int64)
	if err != nil || done {
		return err
	}
	if stats.Updated > 0 {
		err := db.Exec(`UPDATE records SET `+recordMergeSet+`
			FROM `+m+` m JOIN `+st+` s ON s.external_id = m.external_id
			WHERE m.changed AND records.id = m.rid`,
			now, now, seq, string(o.Origin)).Error
		if err != nil {
			return translate(err)
		}
	}
	if stats.Inserted > 0 {
		// Every stored record is in the match table; with none matched
		// (a first upload) there is nothing to leave out but kept rows.
		var conds []string
		if c.Matched.Int64 > 0 {
			conds = append(conds, "NOT EXISTS (SELECT 1 FROM "+m+" m WHERE m.external_id = s.external_id)")
		}
		if a.kept > 0 {
			conds = append(conds, "NOT s.kept")
		}
		if a.pre != nil && a.pre.same > 0 {
			conds = append(conds, "NOT s.same") // their fields were not staged
		}
		filter := ""
		if len(conds) > 0 {
			filter = "WHERE " + strings.Join(conds, " AND ")
		}
		if err := a.insertNew(db, st, filter, sid, seq, now, o); err != nil {
			return err
		}
	}
	return a.finish(db, sid, seq, missing, now, o, stats, st)
}

// recordMergeSet is what an apply writes into a changed record, from its
// staged row s; its parameters are the time (twice), the change number and
// the origin.
const recordMergeSet = `fields = s.fields, hash = s.hash, active = s.active, deleted = s.deleted,
	deleted_at = s.deleted_at, source_updated_at = s.source_updated_at, last_seen_at = ?, changed_at = ?,
	seq = ?, origin = ?, version = records.version + 1`

// insertNew inserts the staged rows of table that filter leaves as new
// records of the set.
func (a *recordApply) insertNew(db *gorm.DB, table, filter string, sid, seq int64, now time.Time, o domain.ApplyOptions) error {
	set := a.set
	return translate(db.Exec(`INSERT INTO records (id, workspace_id, connection_id, object, set_id, external_id, fields, hash, active, deleted,
			deleted_at, source_updated_at, first_seen_at, last_seen_at, changed_at, seq, origin, version)
		SELECT s.id, ?, ?, ?, ?, s.external_id, s.fields, s.hash, s.active, s.deleted,
			s.deleted_at, s.source_updated_at, ?, ?, ?, ?, ?, 1
		FROM `+table+` s `+filter,
		set.WorkspaceID, set.ConnectionID, set.Object, sid, now, now, now, seq, string(o.Origin)).Error)
}

// settle counts what the apply changes from what it matched (added: the
// matched records it does not keep; changed; matchedLive: the matched
// records that are live) and finds the records a full apply lacks (see
// missing). An apply that changes nothing is done: it gives its change
// number back (the savepoint before_seq) and only marks the set's full
// listing. Otherwise its changes carry seq.
func (a *recordApply) settle(db *gorm.DB, sid, seq int64, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats,
	added, changed, matchedLive int64) (missing int64, done bool, err error) {
	stats.Inserted = a.n - int(added)
	stats.Updated = int(changed)
	stats.Unchanged = stats.Rows - stats.Inserted - stats.Updated
	if missing, err = a.missing(db, sid, o, matchedLive); err != nil {
		return 0, false, err
	}
	if stats.Inserted+stats.Updated > 0 || missing > 0 {
		stats.Seq = seq
		return missing, false, nil
	}
	if err := db.RollbackTo("before_seq").Error; err != nil {
		return 0, false, translate(err)
	}
	return 0, true, markFull(db, a.set, o, now)
}

// missing counts the live records a full apply lacks (live ones less the
// live ones it matched), refusing an unconfirmed mass delete; 0 for a
// partial apply.
func (a *recordApply) missing(db *gorm.DB, sid int64, o domain.ApplyOptions, matchedLive int64) (int64, error) {
	if o.Mode != domain.ApplyFull {
		return 0, nil
	}
	var live int64
	if err := db.Raw(`SELECT COUNT(*) FROM records WHERE set_id = ? AND NOT deleted`, sid).Scan(&live).Error; err != nil {
		return 0, translate(err)
	}
	// Each live record matches at most one staged record.
	missing := live - matchedLive
	if live > 0 && float64(missing)/float64(live) > o.MaxDeleteRatio && !o.ConfirmMassDelete {
		return 0, &domain.Error{
			Code: domain.CodeConflict,
			Message: fmt.Sprintf("this full %s of %q would delete %d of %d records (more than %.0f%%); send confirm_mass_delete: true to apply it",
				o.Source, a.set.Object, missing, live, o.MaxDeleteRatio*100),
			Details: map[string]any{"would_delete": missing, "live_records": live},
		}
	}
	return missing, nil
}

// finish counts deletions, tombstones the missing records of a full apply
// (the live ones no staged row of tables names) and marks the set's full
// listing.
func (a *recordApply) finish(db *gorm.DB, sid, seq, missing int64, now time.Time, o domain.ApplyOptions, stats *domain.ApplyStats, tables ...string) error {
	// Staged records that the source itself marks deleted count as deletions.
	stats.Deleted = a.deleted
	if missing > 0 {
		absent := make([]string, len(tables))
		for i, t := range tables {
			absent[i] = "NOT EXISTS (SELECT 1 FROM " + t + " s WHERE s.external_id = records.external_id)"
		}
		// An empty hash makes a tombstoned record that comes back count as changed.
		res := db.Exec(`UPDATE records SET deleted = ?, deleted_at = ?, hash = '', changed_at = ?, seq = ?, origin = ?, version = version + 1
			WHERE set_id = ? AND NOT deleted AND `+strings.Join(absent, " AND "),
			true, now, now, seq, string(o.Origin), sid)
		if res.Error != nil {
			return translate(res.Error)
		}
		stats.Deleted += int(res.RowsAffected)
	}
	return markFull(db, a.set, o, now)
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
