package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"syncd/domain"
)

type operationRow struct {
	ID            string `gorm:"primaryKey"`
	WorkspaceID   string
	SyncID        string
	Object        string
	ItemID        string
	Side          string
	Kind          string
	PlannedBy     string
	ExternalID    string
	Fields        string
	Status        string
	Attempts      int
	Error         string
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (operationRow) TableName() string { return "operations" }

// Who planned an operation: the reconciler's are replaced whenever it runs
// again; a person's (create a counterpart, delete the remaining side,
// activate) stay until applied.
const (
	plannedByReconcile = "reconcile"
	plannedByAction    = "action"
)

var operationColumns = []column{{"id", "text"}, {"workspace_id", "text"}, {"sync_id", "text"}, {"object", "text"}, {"item_id", "text"},
	{"side", "text"}, {"kind", "text"}, {"planned_by", "text"}, {"external_id", "text"}, {"fields", "text"}, {"status", "text"},
	{"attempts", "integer"}, {"error", "text"}, {"next_attempt_at", "timestamptz"}, {"lease_until", "timestamptz"},
	{"created_at", "timestamptz"}, {"updated_at", "timestamptz"}}

func opToRow(op domain.Operation, plannedBy string, now time.Time) (operationRow, error) {
	fields, err := encodeFields(op.Fields)
	if err != nil {
		return operationRow{}, err
	}
	if op.ID == "" {
		op.ID = newID()
	}
	return operationRow{
		ID: op.ID, WorkspaceID: op.WorkspaceID, SyncID: op.SyncID, Object: op.Object, ItemID: op.ItemID,
		Side: string(op.Side), Kind: string(op.Kind), PlannedBy: plannedBy, ExternalID: op.ExternalID, Fields: fields,
		Status: string(domain.OpPending), NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}, nil
}

func (r operationRow) domain() (domain.Operation, error) {
	op := domain.Operation{
		ID: r.ID, WorkspaceID: r.WorkspaceID, SyncID: r.SyncID, Object: r.Object, ItemID: r.ItemID,
		Side: domain.Side(r.Side), Kind: domain.OpKind(r.Kind), ExternalID: r.ExternalID, Attempts: r.Attempts,
		Status: domain.OpStatus(r.Status), Error: r.Error, NextAttemptAt: r.NextAttemptAt.UTC(), CreatedAt: r.CreatedAt.UTC(),
	}
	return op, decodeFields(r.Fields, &op.Fields)
}

// insertOps writes operations in multi-row statements.
func insertOps(db *gorm.DB, ops []domain.Operation, plannedBy string, now time.Time) error {
	rows := make([][]any, 0, len(ops))
	for _, op := range ops {
		r, err := opToRow(op, plannedBy, now)
		if err != nil {
			return err
		}
		rows = append(rows, []any{r.ID, r.WorkspaceID, r.SyncID, r.Object, r.ItemID, r.Side, r.Kind, r.PlannedBy, r.ExternalID,
			r.Fields, r.Status, r.Attempts, r.Error, r.NextAttemptAt, r.LeaseUntil, r.CreatedAt, r.UpdatedAt})
	}
	return insertRows(db, "operations", operationColumns, rows)
}

// replacePlanned swaps the reconciler's pending operations (by id, as
// queuedOps found them) for ops. One a worker claimed since stays.
func replacePlanned(db *gorm.DB, opIDs []string, ops []domain.Operation, now time.Time) error {
	for in := range inLists(db, opIDs) {
		err := db.Where("id IN ? AND status = ?", in, string(domain.OpPending)).Delete(&operationRow{}).Error
		if err != nil {
			return translate(err)
		}
	}
	return insertOps(db, ops, plannedByReconcile, now)
}

// queued is what an item still has in the outbox: writes of a person's
// action or already running, which a reconcile must leave alone, and the
// reconciler's own pending ones (their ids), which it replaces.
type queued struct {
	held    bool
	planned []string
}

func (q queued) any() bool { return q.held || len(q.planned) > 0 }

// queuedOps reports, for the items with anything pending or running, what
// they have queued.
func queuedOps(db *gorm.DB, itemIDs []string) (map[string]queued, error) {
	out := map[string]queued{}
	add := func(id, itemID, status, plannedBy string) {
		q := out[itemID]
		if status == string(domain.OpPending) && plannedBy == plannedByReconcile {
			q.planned = append(q.planned, id)
		} else {
			q.held = true
		}
		out[itemID] = q
	}
	if db.Dialector.Name() == DialectPostgres {
		err := queuedOpsPostgres(db, itemIDs, add)
		return sortedQueue(out), err
	}
	for in := range inLists(db, itemIDs) {
		var rows []struct{ ID, ItemID, Status, PlannedBy string }
		err := db.Model(&operationRow{}).Select("id, item_id, status, planned_by").
			Where("item_id IN ? AND status IN ?", in, queuedStatuses).Scan(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			add(r.ID, r.ItemID, r.Status, r.PlannedBy)
		}
	}
	return sortedQueue(out), nil
}

// sortedQueue orders each item's planned operations, so that two readings
// of one queue compare equal.
func sortedQueue(q map[string]queued) map[string]queued {
	for _, v := range q {
		slices.Sort(v.planned)
	}
	return q
}

var queuedStatuses = []string{string(domain.OpPending), string(domain.OpRunning)}

// queuedOpsPostgres looks each item up in operations_item on its own. The
// outbox fills and empties in bursts, so its statistics are often those of
// an empty table; with them PostgreSQL reads a list of ids as "most rows"
// and scans the whole queue, while the lateral form can only probe the
// index once per id. The status test is an OR, not IN, which would probe
// once per id and status.
func queuedOpsPostgres(db *gorm.DB, itemIDs []string, add func(id, itemID, status, plannedBy string)) error {
	rows, err := db.Statement.ConnPool.QueryContext(db.Statement.Context, `SELECT o.id, o.item_id, o.status, o.planned_by
		FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
			SELECT id, item_id, status, planned_by FROM operations
			WHERE item_id = k.id AND (status = $2 OR status = $3) OFFSET 0) AS o`,
		itemIDs, queuedStatuses[0], queuedStatuses[1])
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, itemID, status, plannedBy string
		if err := rows.Scan(&id, &itemID, &status, &plannedBy); err != nil {
			return translate(err)
		}
		add(id, itemID, status, plannedBy)
	}
	return translate(rows.Err())
}

// ClaimOperations leases up to n due operations for a worker: pending ones
// whose time has come, and running ones whose lease ran out (their worker
// died). FOR UPDATE SKIP LOCKED lets replicas claim side by side without ever
// taking the same row; SQLite serialises the claim instead.
func (s *Store) ClaimOperations(ctx context.Context, n int, lease time.Duration, now time.Time) ([]domain.Operation, error) {
	now = utc(now)
	var out []domain.Operation
	err := s.InTx(ctx, func(tx *Store) error {
		// Two range scans of operations_due, which holds the queue in the
		// claim's order, rather than one OR. PostgreSQL, planning with
		// statistics from when the bursty outbox was near empty, would
		// rather collect and sort every due operation than walk the index
		// and stop after n; this transaction only claims, so it forbids
		// the sort.
		if tx.dialect == DialectPostgres {
			if err := tx.db.Exec("SET LOCAL enable_sort = off").Error; err != nil {
				return translate(err)
			}
		}
		var rows, due []operationRow
		lock := clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}
		err := tx.db.Clauses(lock).Where("status = ? AND lease_until < ?", string(domain.OpRunning), now).
			Order("next_attempt_at, id").Limit(n).Find(&rows).Error
		if err == nil && len(rows) < n {
			err = tx.db.Clauses(lock).Where("status = ? AND next_attempt_at <= ?", string(domain.OpPending), now).
				Order("next_attempt_at, id").Limit(n - len(rows)).Find(&due).Error
			rows = append(rows, due...)
		}
		if err != nil || len(rows) == 0 {
			return translate(err)
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		err = tx.db.Model(&operationRow{}).Where("id IN ?", ids).Updates(map[string]any{
			"status": string(domain.OpRunning), "lease_until": now.Add(lease), "attempts": gorm.Expr("attempts + 1"), "updated_at": now,
		}).Error
		if err != nil {
			return translate(err)
		}
		for _, r := range rows {
			op, err := r.domain()
			if err != nil {
				return err
			}
			op.Attempts++
			op.Status = domain.OpRunning
			out = append(out, op)
		}
		return nil
	})
	return out, err
}

// pendingCreate reports whether an item already waits for a create, so a
// second create-counterpart or restore would make a duplicate record.
func pendingCreate(db *gorm.DB, itemID string) (bool, error) {
	var n int64
	err := db.Model(&operationRow{}).Where("item_id = ? AND kind = ? AND status IN ?", itemID, string(domain.OpCreate), queuedStatuses).Count(&n).Error
	return n > 0, translate(err)
}

// FailOperation records a failed attempt: the operation is retried at retryAt,
// or, when retryAt is zero, given up. Either way the item shows the error.
func (s *Store) FailOperation(ctx context.Context, op domain.Operation, msg string, retryAt time.Time, now time.Time) error {
	now = utc(now)
	return s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(op.WorkspaceID)
		set := map[string]any{"error": msg, "updated_at": now, "lease_until": nil}
		if retryAt.IsZero() {
			set["status"] = string(domain.OpFailed)
		} else {
			set["status"], set["next_attempt_at"] = string(domain.OpPending), utc(retryAt)
		}
		if err := tx.db.Model(&operationRow{}).Where("id = ?", op.ID).Updates(set).Error; err != nil {
			return translate(err)
		}
		return translate(tx.db.Model(&itemRow{}).Where("id = ?", op.ItemID).Updates(map[string]any{
			"status": string(domain.StatusFailed), "error": msg, "version": gorm.Expr("version + 1"), "updated_at": now,
		}).Error)
	})
}

// Operations lists an item's operations, newest first, for display and tests.
func (s *Store) Operations(ctx context.Context, workspaceID, itemID string) ([]domain.Operation, error) {
	var rows []operationRow
	err := s.db.WithContext(ctx).Where("workspace_id = ? AND item_id = ?", workspaceID, itemID).Order("created_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Operation, len(rows))
	for i, r := range rows {
		if out[i], err = r.domain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
