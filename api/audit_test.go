package api_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

type auditEntry struct {
	ID        string         `json:"id"`
	SyncID    string         `json:"sync_id"`
	Object    string         `json:"object"`
	ItemID    string         `json:"item_id"`
	Action    string         `json:"action"`
	Actor     string         `json:"actor"`
	Before    map[string]any `json:"before"`
	After     map[string]any `json:"after"`
	CreatedAt string         `json:"created_at"`
}

type auditPage struct {
	Data       []auditEntry `json:"data"`
	NextCursor *string      `json:"next_cursor"`
}

func audit(t *testing.T, ts *testServer, token, query string) auditPage {
	t.Helper()
	r := ts.do("GET", "/v1/audit?"+query, token, nil)
	require.Equal(t, 200, r.Status, r.Text())
	var p auditPage
	r.decode(&p)
	return p
}

func TestAudit(t *testing.T) {
	ts, f := newStandardWindow(t)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	r := ts.do("POST", "/v1/api-keys", ts.Admin.Access, map[string]any{"name": "zapier", "role": "operator"})
	require.Equal(t, 201, r.Status, r.Text())
	key, keyID := r.JSON()["key"].(string), r.JSON()["id"].(string)

	conflict := f.item(t, "L2")
	r, _ = f.act(t, ts.Admin.Access, conflict.ID, "disable", nil)
	require.Equal(t, 200, r.Status, r.Text())
	r, _ = f.act(t, key, conflict.ID, "enable", nil)
	require.Equal(t, 200, r.Status, r.Text())
	r, _ = f.act(t, key, conflict.ID, "resolve", map[string]any{"winner": "left"})
	require.Equal(t, 200, r.Status, r.Text())
	r, _ = f.act(t, ts.Admin.Access, f.item(t, "L7").ID, "disable", nil)
	require.Equal(t, 200, r.Status, r.Text())
	// A refused action is not an action taken.
	f.ts.do("POST", f.path+"/items/"+conflict.ID+"/activate", ts.Admin.Access, nil).problem(409)

	t.Run("an_items_history_newest_first_with_who_and_what", func(t *testing.T) {
		log := audit(t, ts, viewer.Access, "item_id="+conflict.ID).Data
		require.Len(t, log, 3)
		require.Equal(t, []string{"resolve", "enable", "disable"}, []string{log[0].Action, log[1].Action, log[2].Action})
		require.Equal(t, "api_key:"+keyID, log[0].Actor)
		require.Equal(t, "user:"+ts.Admin.User, log[2].Actor)
		require.Equal(t, "conflict", log[0].Before["category"])
		require.Equal(t, "synced", log[0].After["category"])
		require.Equal(t, "conflict", log[2].Before["category"])
		require.Equal(t, "disabled", log[2].After["category"])
		require.Equal(t, f.syncID, log[0].SyncID)
		require.Equal(t, "customers", log[0].Object)
		require.Equal(t, "Bøg", log[0].Before["left"].(map[string]any)["fields"].(map[string]any)["name"])
		for _, e := range log {
			require.Equal(t, e.Before["left"], e.After["left"], "%s changed no record: the after shows the same", e.Action)
			require.Equal(t, e.Before["right"], e.After["right"], "%s changed no record: the after shows the same", e.Action)
		}
	})

	t.Run("paging_and_filters", func(t *testing.T) {
		first := audit(t, ts, viewer.Access, "limit=3")
		require.Len(t, first.Data, 3)
		require.NotNil(t, first.NextCursor)
		require.Equal(t, "disable", first.Data[0].Action, "the newest first")
		rest := audit(t, ts, viewer.Access, "limit=3&cursor="+url.QueryEscape(*first.NextCursor))
		require.Len(t, rest.Data, 1)
		require.Equal(t, "disable", rest.Data[0].Action)
		require.Equal(t, conflict.ID, rest.Data[0].ItemID)
		require.Len(t, audit(t, ts, viewer.Access, "sync_id="+f.syncID).Data, 4)
		require.Empty(t, audit(t, ts, viewer.Access, "sync_id=another").Data)
	})

	t.Run("another_workspace_sees_none", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		require.Empty(t, audit(t, ts, other.Access, "").Data)
		require.Empty(t, audit(t, ts, other.Access, "item_id="+conflict.ID).Data)
	})
}

// The after of an action shows the item's records as the before does, and
// a pairing the record it joined.
func TestAuditOfAPairing(t *testing.T) {
	ts, f := newStandardWindow(t)
	left, right := f.item(t, "L4"), f.item(t, "K5")
	r, _ := f.act(t, ts.Admin.Access, left.ID, "pair", map[string]any{"partner_item_id": right.ID})
	require.Equal(t, 200, r.Status, r.Text())
	log := audit(t, ts, ts.Admin.Access, "item_id="+left.ID).Data
	require.Len(t, log, 1)
	require.Equal(t, "pair", log[0].Action)
	require.Nil(t, log[0].Before["right"])
	require.Equal(t, log[0].Before["left"], log[0].After["left"])
	require.Equal(t, "Eg", log[0].After["right"].(map[string]any)["fields"].(map[string]any)["navn"])
}
