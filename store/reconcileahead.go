package store

import (
	"context"

	"gorm.io/gorm"

	"syncd/domain"
)

// changesFrom is where the reconciler reads a side's record changes from:
// the set, and the (seq, id) of the last record it reconciled. Many records
// share one change number, so the id breaks the tie; the row comparison is a
// range on the records_seq index.
type changesFrom struct {
	conn, object string
	seq          int64
	after        string
}

// changes is one side's next batch of changed records, decoded, and the
// position after them.
type changes struct {
	records []domain.Record
	next    changesFrom
}

// readChanges reads and decodes the batch of a side's changes from from.
func readChanges(db *gorm.DB, from changesFrom) (changes, error) {
	var rows []recordRow
	err := db.Where(setIDOf+" AND (seq, id) > (?, ?)", from.conn, from.object, from.seq, from.after).
		Order("seq, id").Limit(batchRecords).Find(&rows).Error
	if err != nil {
		return changes{}, translate(err)
	}
	out := changes{records: make([]domain.Record, len(rows)), next: from}
	err = inParallel(len(rows), func(i int) error {
		var err error
		out.records[i], err = rows[i].domain(nil)
		return err
	})
	if len(rows) > 0 {
		last := rows[len(rows)-1]
		out.next.seq, out.next.after = last.Seq, last.ID
	}
	return out, err
}

// topSeq is the highest change number of a set's records.
func topSeq(db *gorm.DB, conn, object string) (int64, error) {
	var top int64
	err := db.Raw("SELECT COALESCE(MAX(seq), 0) FROM records WHERE "+setIDOf, conn, object).Scan(&top).Error
	return top, translate(err)
}

// batchAhead is a reconcile batch's record changes, read and decoded on
// another connection while the batch before it writes: reading and
// decoding a batch of new records is about a fifth of categorising them,
// and the database's part of the batch before leaves a core free for it.
//
// The batch's transaction takes what was read only when it would read the
// same: its positions are the ones read from, and neither set has changed
// since. Every change to a record gives it a new, higher change number, so
// a set whose highest change number is as it was before the read has
// changed in no record; read first, it keeps a change that lands during the
// read from passing unseen.
type batchAhead struct {
	done  chan struct{}
	from  [2]changesFrom
	top   [2]int64
	sides [2]changes
	err   error
}

// readBatchAhead starts reading the batch of changes at positions.
func (s *Store) readBatchAhead(ctx context.Context, positions [2]changesFrom) *batchAhead {
	a := &batchAhead{done: make(chan struct{}), from: positions}
	go func() {
		defer close(a.done)
		db := s.db.WithContext(ctx)
		for i, from := range positions {
			if a.top[i], a.err = topSeq(db, from.conn, from.object); a.err != nil {
				return
			}
			if a.sides[i], a.err = readChanges(db, from); a.err != nil {
				return
			}
		}
	}()
	return a
}

// take returns side i's changes from from: those read ahead when they are
// current, else read now.
func (a *batchAhead) take(db *gorm.DB, i int, from changesFrom) (changes, error) {
	if a != nil {
		a.wait()
		if a.err == nil && a.from[i] == from {
			top, err := topSeq(db, from.conn, from.object)
			if err != nil {
				return changes{}, err
			}
			if top == a.top[i] {
				return a.sides[i], nil
			}
		}
	}
	return readChanges(db, from)
}

// wait blocks until the read ahead has finished.
func (a *batchAhead) wait() {
	if a != nil {
		<-a.done
	}
}
