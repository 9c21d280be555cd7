package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

// prematch matches each staged batch against the stored records while the
// next one is read, so that Commit need not: a re-upload's merge after the
// file was read (a unique index on staging, statistics, and the match of
// every staged record against the copy) was a third of its time.
//
// Each batch is split as it is staged. Records the copy holds with the
// same hash go to the staging table by their external id alone (same
// rows), to tell a full apply which records it names; so do kept ones.
// Changed records (with the id of the record they change) and new ones go
// to a second, small table, the delta. Commit then writes the delta alone.
//
// What a batch was matched against is the set as it was when the apply
// opened, provided no record of it has changed since: every change to a
// record gives it a new, higher change number, so a set whose highest
// change number is the one read at open (read first, before any batch) has
// changed in no record. Commit checks that under the workspace's change
// number lock; if another writer changed the set meanwhile, the delta goes
// back into staging and the whole apply is merged as before, except that
// a same row leaves its record as it is now: the apply did not change that
// record, the other writer did, and its change stands.
//
// On SQLite batches are matched only against an empty set, which needs no
// lookup: every record is new.
type prematch struct {
	sid, top int64 // the set's number (0 when it has none yet) and highest change number at open
	off      bool  // batches are not matched; Commit merges
	// Counted over every batch, as merge counts its match table.
	added, changed, matchedLive int
	same                        int // rows staged without their fields
}

// newPrematch matches against a set of the given number (0 when it has
// none yet) and highest change number, read at open.
func newPrematch(sid, top int64, dialect string) *prematch {
	// SQLite works in the server's process: there the lookups took the
	// writer as long as staging itself (6.4 s of a million rows), more
	// than the merge they spare. An empty set needs none.
	return &prematch{sid: sid, top: top, off: dialect == DialectSQLite && top > 0}
}

// matchBatch marks each row of the batch with what it matched (Matched,
// Changed) and returns the batch split into staging's rows and the delta's.
// Staging's rows reuse the batch's backing array.
func (a *recordApply) matchBatch(ctx context.Context, batch []stagedRow) (stay, delta []stagedRow, err error) {
	p := a.pre
	if p.off {
		return batch, nil, nil
	}
	room := len(batch) // in an empty set every record is new
	if p.top > 0 {
		if err := a.lookup(ctx, batch); err != nil {
			return nil, nil, err
		}
		room = len(batch) / 8
	}
	delta = make([]stagedRow, 0, room)
	stay = batch[:0]
	for _, r := range batch {
		if r.Matched {
			if !r.Kept {
				p.added++
			}
			if !r.WasDeleted {
				p.matchedLive++
			}
		}
		if r.Matched && !r.Kept && !r.Changed {
			r.Same, r.Fields, r.Hash = true, "", ""
			p.same++
		}
		if r.Kept || r.Same {
			stay = append(stay, r)
			continue
		}
		if r.Changed {
			p.changed++
		}
		delta = append(delta, r)
	}
	return stay, delta, nil
}

// lookup finds the batch's stored records, by external id, in one query
// on a connection of the pool (on PostgreSQL: 5,000 probes of the set's
// unique index). The ids go in their order in that index, so the probes
// walk it forward, and the hashes go along: only the rows that are new,
// match a tombstone or change a record come back, the last with the
// record's id. Every other row matched a live record as it is.
func (a *recordApply) lookup(ctx context.Context, batch []stagedRow) error {
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(batch[x].ExternalID, batch[y].ExternalID) })
	ids, hashes := make([]string, len(batch)), make([]string, len(batch))
	for i, n := range order {
		ids[i], hashes[i] = batch[n].ExternalID, batch[n].Hash
		batch[n].Matched = true
	}
	rows, err := a.s.SQL().QueryContext(ctx, `SELECT s.n - 1, r.id IS NOT NULL, COALESCE(r.deleted, false), CASE WHEN r.hash <> s.hash THEN r.id END
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(external_id, hash, n)
		LEFT JOIN records r ON r.set_id = $3 AND r.external_id = s.external_id
		WHERE r.id IS NULL OR r.deleted OR r.hash <> s.hash`, textArray(ids), textArray(hashes), a.pre.sid)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n                int
			matched, deleted bool
			id               sql.NullString
		)
		if err := rows.Scan(&n, &matched, &deleted, &id); err != nil {
			return err
		}
		if n < 0 || n >= len(batch) {
			return domain.Errorf(domain.CodeInternal, "a record matched row %d of a batch of %d", n, len(batch))
		}
		r := &batch[order[n]]
		r.Matched, r.WasDeleted, r.Changed = matched, deleted, id.Valid && !r.Kept
		if r.Changed {
			r.RecordID = id.String
		}
	}
	return rows.Err()
}

// commitMatched merges an apply whose batches were matched as they were
// staged, writing the delta alone, when the set is as they were matched
// against; otherwise it merges the whole apply as merge does.
func (a *recordApply) commitMatched(db *gorm.DB, o domain.ApplyOptions, now time.Time, stats *domain.ApplyStats) error {
	p, set, st, d := a.pre, a.set, a.table, a.delta()
	if p.off {
		return a.merge(db, o, now, stats) // everything is in staging
	}
	// When nothing changes, rolling back to here returns the change number.
	if err := db.SavePoint("before_seq").Error; err != nil {
		return translate(err)
	}
	// Taking the change number serialises the workspace's record writers:
	// what is read below cannot change until the commit.
	seq, err := nextSeq(db, set.WorkspaceID)
	if err != nil {
		return err
	}
	top, err := topSeq(db, set.ConnectionID, set.Object)
	if err != nil {
		return err
	}
	if top != p.top {
		if err := db.RollbackTo("before_seq").Error; err != nil {
			return translate(err)
		}
		if err := db.Exec(`INSERT INTO ` + st + ` SELECT ` + strings.Join(names(stagingColumns), ", ") + ` FROM ` + d).Error; err != nil {
			return translate(err)
		}
		return a.merge(db, o, now, stats)
	}
	if !o.UniqueIDs {
		var dups []string
		err := db.Raw(`SELECT external_id FROM (SELECT external_id FROM ` + st + ` UNION ALL SELECT external_id FROM ` + d + `) x
			GROUP BY external_id HAVING COUNT(*) > 1 LIMIT 1`).Scan(&dups).Error
		if err != nil {
			return translate(err)
		}
		if len(dups) > 0 {
			return errDuplicateInBatch
		}
	}
	sid, err := setID(db, set)
	if err != nil {
		return err
	}
	missing, done, err := a.settle(db, sid, seq, o, now, stats, int64(p.added), int64(p.changed), int64(p.matchedLive))
	if err != nil || done {
		return err
	}
	if stats.Updated > 0 {
		err := db.Exec(`UPDATE records SET `+recordMergeSet+` FROM `+d+` s WHERE s.record_id IS NOT NULL AND records.id = s.record_id`,
			now, now, seq, string(o.Origin)).Error
		if err != nil {
			return translate(err)
		}
	}
	if stats.Inserted > 0 {
		if err := a.insertNew(db, d, "WHERE s.record_id IS NULL", sid, seq, now, o); err != nil {
			return err
		}
	}
	if missing > 0 {
		// The records that stay are looked up in both tables by external id.
		for _, t := range []string{st, d} {
			if err := db.Exec("CREATE INDEX " + t + "_external_id ON " + t + " (external_id)").Error; err != nil {
				return translate(err)
			}
		}
	}
	return a.finish(db, sid, seq, missing, now, o, stats, st, d)
}
