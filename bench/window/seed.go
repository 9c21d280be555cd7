package main

import (
	"context"
	"fmt"
	"time"

	"syncd/bench/syncdproc"
	"syncd/domain"
	"syncd/store"
)

// fixture is what seed made: the ids the load needs.
type fixture struct {
	syncID     string
	deepCursor string // the id after which the page ~90% into the window starts
	conflicts  int
}

// seed fills an empty, migrated database with one sync whose object holds n
// items: 80% synced, 10% conflicts (records that differ, no base), 10% new.
// Records and items are written with set-based SQL, so a million take
// seconds; reconciling them one by one is what the categorising benchmark
// measures, not this one. The reconciler's watermarks are set past the
// seeded records, so the server does not redo the work on start.
func seed(ctx context.Context, s *store.Store, n, conflicts int) (fixture, error) {
	var f fixture
	w := &domain.Workspace{Name: "bench"}
	hash, err := hashPassword(ctx, syncdproc.AdminPassword)
	if err != nil {
		return f, err
	}
	if err := s.CreateWorkspace(ctx, w, &domain.User{Email: syncdproc.AdminEmail, PasswordHash: hash}); err != nil {
		return f, err
	}
	var conns [2]string
	for i := range conns {
		c := &domain.Connection{WorkspaceID: w.ID, Name: fmt.Sprint("side ", i), Kind: domain.KindHosted, Config: []byte(`{"objects":{"customers":{}}}`)}
		if err := s.CreateConnection(ctx, c); err != nil {
			return f, err
		}
		conns[i] = c.ID
	}
	sy := &domain.Sync{WorkspaceID: w.ID, Name: "bench", LeftConnectionID: conns[0], RightConnectionID: conns[1]}
	*sy = sy.WithDefaults()
	obj := domain.Object{Name: "customers", LeftObject: "customers", RightObject: "customers",
		Fields:    []domain.FieldMap{{Left: "name", Right: "name", Type: domain.FieldString, Direction: domain.DirectionBoth}},
		MatchKeys: []domain.MatchKey{{Left: "number", Right: "number", Normalize: domain.NormalizerDigits}}}
	if err := s.CreateSync(ctx, sy, []domain.Object{obj.WithDefaults()}); err != nil {
		return f, err
	}
	f.syncID, f.conflicts = sy.ID, conflicts
	// Times are written as the SQLite driver writes them, so reading them
	// back costs what it costs for the server's own rows.
	now := time.Now().UTC().Format("2006-01-02 15:04:05.999999999-07:00")
	pg := s.Dialect() == store.DialectPostgres
	series := "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) SELECT i FROM g"
	pad := "printf('%09d', i)"
	if pg {
		series = "SELECT i FROM generate_series(1, %d) AS g(i)"
		pad = "lpad(i::text, 9, '0')"
	}
	// Ids sort in the seeded order: "r-<side>-<nine digits>" and "i-<nine digits>".
	for side, conn := range conns {
		name := "'Customer ' || i"
		if side == 1 {
			name = fmt.Sprintf("CASE WHEN i <= %d THEN 'Kunde ' || i ELSE 'Customer ' || i END", conflicts)
		}
		set := fmt.Sprintf(`INSERT INTO record_sets (connection_id, object, workspace_id) VALUES ('%s', 'customers', '%s')
			ON CONFLICT (connection_id, object) DO NOTHING`, conn, w.ID)
		if err := runSQL(ctx, s, set); err != nil {
			return f, fmt.Errorf("seed record sets: %w", err)
		}
		q := fmt.Sprintf(`INSERT INTO records (id, workspace_id, connection_id, object, set_id, external_id, fields, hash, active, deleted,
			first_seen_at, last_seen_at, changed_at, seq, origin, version)
			SELECT 'r-%[1]d-' || %[2]s, '%[3]s', '%[4]s', 'customers', (SELECT id FROM record_sets WHERE connection_id = '%[4]s' AND object = 'customers'),
			'c' || i, '{"number":"' || i || '","name":"' || %[5]s || '"}', 'h' || i, true, false, '%[6]s', '%[6]s', '%[6]s', 1, 'source', 1
			FROM (`+series+`) AS g`, side, pad, w.ID, conn, name, now, n)
		if err := runSQL(ctx, s, q); err != nil {
			return f, fmt.Errorf("seed records: %w", err)
		}
	}
	newFrom := n - n/10
	q := fmt.Sprintf(`INSERT INTO items (id, workspace_id, sync_id, object, object_id, left_record_id, right_record_id, side, base, resolutions,
		disabled, no_auto_pair, category, shown, status, error, conflicts, search, version, updated_at)
		SELECT 'i-' || %[1]s, '%[2]s', '%[3]s', 'customers', (SELECT id FROM sync_objects WHERE sync_id = '%[3]s' AND name = 'customers'), 'r-0-' || %[1]s,
		CASE WHEN i > %[4]d THEN NULL ELSE 'r-1-' || %[1]s END,
		CASE WHEN i > %[4]d THEN 'left' ELSE '' END,
		CASE WHEN i <= %[5]d OR i > %[4]d THEN NULL ELSE '{"name":"Customer ' || i || '"}' END, '{}',
		false, false,
		CASE WHEN i <= %[5]d THEN 'conflict' WHEN i > %[4]d THEN 'new' ELSE 'synced' END, true, 'ok', '',
		CASE WHEN i <= %[5]d THEN '["name"]' ELSE '[]' END, 'c' || i || ' customer ' || i, 1, '%[6]s'
		FROM (`+series+`) AS g`, pad, w.ID, sy.ID, newFrom, conflicts, now, n)
	if err := runSQL(ctx, s, q); err != nil {
		return f, fmt.Errorf("seed items: %w", err)
	}
	// The right side's records past newFrom have no item: drop them.
	if err := runSQL(ctx, s, fmt.Sprintf(`DELETE FROM records WHERE set_id = (SELECT id FROM record_sets WHERE connection_id = '%s' AND object = 'customers') AND external_id IN (SELECT 'c' || i FROM (`+series+`) AS g WHERE i > %d)`, conns[1], n, newFrom)); err != nil {
		return f, err
	}
	if err := runSQL(ctx, s, fmt.Sprintf(`UPDATE sync_objects SET left_seq = 2, right_seq = 2 WHERE sync_id = '%s'`, sy.ID)); err != nil {
		return f, err
	}
	if pg {
		if err := runSQL(ctx, s, "ANALYZE"); err != nil {
			return f, err
		}
	}
	f.deepCursor = fmt.Sprintf("i-%09d", n*9/10)
	return f, nil
}

// runSQL runs one fixture statement on the store's pool.
func runSQL(ctx context.Context, s *store.Store, sql string) error {
	_, err := s.SQL().ExecContext(ctx, sql)
	return err
}
