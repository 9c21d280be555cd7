package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store/storetest"
)

// TestNumberingMigrationsKeepItemsAndRecords fills a database as it was
// before sync objects and record sets were numbered, migrates it, and
// checks that every item, match key and record now names its object's or
// set's number and that nothing else was lost; an item of no object
// (unreachable before) goes. A new object and a new set then take numbers
// no other has.
func TestNumberingMigrationsKeepItemsAndRecords(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, storetest.NewURL(t), storetest.KeyringSpec)
	require.NoError(t, s.MigrateTo(ctx, 9))
	db := s.SQL()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec(`INSERT INTO workspaces (id, name, created_at) VALUES ('w', 'W', $1)`, now)
	for _, c := range []string{"c1", "c2"} {
		exec(`INSERT INTO connections (id, workspace_id, name, kind, config, created_at, updated_at) VALUES ($1, 'w', $1, 'hosted', '{}', $2, $2)`, c, now)
	}
	exec(`INSERT INTO syncs (id, workspace_id, name, left_connection_id, right_connection_id, conflict_mode, conflict_winner,
		delete_policy, on_error, schedule, created_at, updated_at, version) VALUES ('s', 'w', 'S', 'c1', 'c2', 'manual', '', 'manual', 'continue', '', $1, $1, 1)`, now)
	for i, o := range []string{"customers", "articles"} {
		exec(`INSERT INTO sync_objects (sync_id, name, workspace_id, position, left_object, right_object, left_id_field, right_id_field,
			fields, match_keys, auto_pair, active_left, active_right, updated_at) VALUES ('s', $1, 'w', $2, $1, $1, 'id', 'id', '[]', '[]', false, '', '', $3)`, o, i, now)
	}
	item := func(id, object string) {
		exec(`INSERT INTO items (id, workspace_id, sync_id, object, left_record_id, side, resolutions, disabled, no_auto_pair,
			category, shown, status, error, conflicts, search, version, updated_at)
			VALUES ($1, 'w', 's', $2, $3, 'left', '{}', false, false, 'new', true, 'ok', '', '[]', '', 1, $4)`, id, object, "r-"+id, now)
		exec(`INSERT INTO item_keys (item_id, sync_id, object, side, key_index, value) VALUES ($1, 's', $2, 'left', 0, $3)`, id, object, id+"@x")
	}
	item("i1", "customers")
	item("i2", "customers")
	item("i3", "articles")
	item("gone", "removed")
	record := func(id, conn, object string) {
		exec(`INSERT INTO records (id, workspace_id, connection_id, object, external_id, fields, hash, active, deleted,
			first_seen_at, last_seen_at, changed_at, seq, origin, version)
			VALUES ($1, 'w', $2, $3, $1, '{"n":1}', 'h', true, false, $4, $4, $4, 1, 'source', 1)`, id, conn, object, now)
	}
	record("r1", "c1", "customers")
	record("r2", "c1", "customers")
	record("r3", "c2", "customers")
	record("r4", "c1", "articles")
	exec(`INSERT INTO record_sets (connection_id, object, workspace_id, last_full_at) VALUES ('c2', 'customers', 'w', $1)`, now)

	_, err := s.Migrate(ctx)
	require.NoError(t, err)
	ids := map[string]int64{}
	rows, err := db.QueryContext(ctx, `SELECT name, id FROM sync_objects ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		var id int64
		require.NoError(t, rows.Scan(&name, &id))
		ids[name] = id
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, 2)
	require.NotEqual(t, ids["customers"], ids["articles"])
	for id, object := range map[string]string{"i1": "customers", "i2": "customers", "i3": "articles"} {
		var item, key int64
		var value string
		require.NoError(t, db.QueryRowContext(ctx, `SELECT object_id FROM items WHERE id = $1`, id).Scan(&item))
		require.NoError(t, db.QueryRowContext(ctx, `SELECT object_id, value FROM item_keys WHERE item_id = $1`, id).Scan(&key, &value))
		require.Equal(t, ids[object], item, id)
		require.Equal(t, ids[object], key, id)
		require.Equal(t, id+"@x", value)
	}
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE id = 'gone'`).Scan(&n))
	require.Zero(t, n, "an item of no object goes")

	sets := map[[2]string]int64{}
	rows, err = db.QueryContext(ctx, `SELECT connection_id, object, id FROM record_sets`)
	require.NoError(t, err)
	for rows.Next() {
		var conn, object string
		var id int64
		require.NoError(t, rows.Scan(&conn, &object, &id))
		sets[[2]string{conn, object}] = id
	}
	require.NoError(t, rows.Err())
	require.Len(t, sets, 3, "every set that holds records has its row")
	for id, set := range map[string][2]string{"r1": {"c1", "customers"}, "r2": {"c1", "customers"}, "r3": {"c2", "customers"}, "r4": {"c1", "articles"}} {
		var got int64
		require.NoError(t, db.QueryRowContext(ctx, `SELECT set_id FROM records WHERE id = $1`, id).Scan(&got))
		require.Equal(t, sets[set], got, id)
	}
	c1 := domain.RecordSet{WorkspaceID: "w", ConnectionID: "c1", Object: "customers"}
	recs, err := s.Records(ctx, c1, domain.RecordFilter{}, domain.Page{})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, domain.Fields{"n": json.Number("1")}, recs[0].Fields)
	full, err := s.Record(ctx, domain.RecordSet{WorkspaceID: "w", ConnectionID: "c2", Object: "customers"}, "r3")
	require.NoError(t, err)
	require.Equal(t, now, full.LastSeenAt, "the set keeps its last full listing")
	fresh := domain.RecordSet{WorkspaceID: "w", ConnectionID: "c2", Object: "contacts"}
	a, err := s.StageRecords(ctx, fresh)
	require.NoError(t, err)
	require.NoError(t, a.Add(ctx, domain.Record{ExternalID: "x", Active: true}))
	_, err = a.Commit(ctx, domain.ApplyOptions{Mode: domain.ApplyPartial})
	require.NoError(t, err)
	var freshSet int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT set_id FROM records WHERE external_id = 'x'`).Scan(&freshSet))
	require.NotContains(t, []int64{0, sets[[2]string{"c1", "customers"}], sets[[2]string{"c2", "customers"}], sets[[2]string{"c1", "articles"}]}, freshSet)

	// The store reads the migrated window, and a new object gets a new number.
	page, err := s.Items(ctx, "w", "s", "customers", domain.ItemFilter{}, domain.Page{})
	require.NoError(t, err)
	require.Len(t, page, 2)
	_, objects, err := s.Sync(ctx, "w", "s")
	require.NoError(t, err)
	extra := objects[0]
	extra.Name = "contacts"
	_, err = s.PutObject(ctx, "w", extra)
	require.NoError(t, err)
	var freshObject int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT id FROM sync_objects WHERE name = 'contacts'`).Scan(&freshObject))
	require.NotContains(t, []int64{0, ids["customers"], ids["articles"]}, freshObject)
}
