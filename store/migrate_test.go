package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store/storetest"
)

// TestObjectIDsMigrationKeepsItems fills a database as it was before sync
// objects were numbered, migrates it, and checks that every item and match
// key now names its object's number and that nothing else was lost; an item
// of no object (unreachable before) goes. A new object then takes a number
// no other has.
func TestObjectIDsMigrationKeepsItems(t *testing.T) {
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
	var fresh int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT id FROM sync_objects WHERE name = 'contacts'`).Scan(&fresh))
	require.NotContains(t, []int64{0, ids["customers"], ids["articles"]}, fresh)
}
