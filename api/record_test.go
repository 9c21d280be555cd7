package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

// connectionOf creates a connection of the given kind in the session's workspace.
func connectionOf(t *testing.T, ts *testServer, s session, kind domain.ConnectionKind) string {
	t.Helper()
	c := &domain.Connection{WorkspaceID: s.WorkspaceID, Name: string(kind) + " side", Kind: kind, Config: []byte("{}")}
	require.NoError(t, ts.Store.CreateConnection(context.Background(), c))
	return c.ID
}

func recordsPath(connID string) string {
	return "/v1/connections/" + connID + "/objects/contacts/records"
}

func changesPath(connID string) string {
	return "/v1/connections/" + connID + "/objects/contacts/changes"
}

// records lists a set through the API, following every page.
func records(t *testing.T, ts *testServer, token, connID, query string) []map[string]any {
	t.Helper()
	var all []map[string]any
	cursor := ""
	for {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := ts.do("GET", recordsPath(connID)+"?"+q, token, nil)
		require.Equal(t, 200, r.Status, r.Text())
		var page struct {
			Data       []map[string]any `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		r.decode(&page)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

func byExternalID(list []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, r := range list {
		m[r["external_id"].(string)] = r
	}
	return m
}

func TestHostedRecordWrites(t *testing.T) {
	ts := newServer(t)
	op := ts.login(createUser(t, ts, "op@example.com", "operator"), "password-op@example.com")
	conn := connectionOf(t, ts, ts.Admin, domain.KindHosted)
	path := recordsPath(conn)

	t.Run("put_creates_then_updates_and_an_unchanged_put_keeps_the_etag", func(t *testing.T) {
		r := ts.do("PUT", path+"/C-1", op.Access, map[string]any{"fields": map[string]any{"name": "Ada"}})
		require.Equal(t, 201, r.Status, r.Text())
		require.Equal(t, `"1"`, r.Header.Get("ETag"))
		body := r.JSON()
		require.Equal(t, "C-1", body["external_id"])
		require.Equal(t, true, body["active"], "active defaults to true")
		require.EqualValues(t, 1, body["version"])

		r = ts.do("PUT", path+"/C-1", op.Access, map[string]any{"fields": map[string]any{"name": "Ada"}})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, `"1"`, r.Header.Get("ETag"), "same content, same version")

		r = ts.do("PUT", path+"/C-1", op.Access, map[string]any{"fields": map[string]any{"name": "Ada Lovelace"}, "active": false}, "If-Match", `"1"`)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, `"2"`, r.Header.Get("ETag"))
		require.Equal(t, false, r.JSON()["active"])
		require.Equal(t, "Ada Lovelace", r.JSON()["fields"].(map[string]any)["name"])
	})

	t.Run("numbers_are_stored_as_sent", func(t *testing.T) {
		r := ts.do("PUT", path+"/big", op.Access, `{"fields":{"n":12345678901234567890,"price":1.10}}`)
		require.Equal(t, 201, r.Status, r.Text())
		require.Contains(t, r.Text(), `"n":12345678901234567890`)
		require.Contains(t, r.Text(), `"price":1.10`)
	})

	t.Run("stale_if_match_is_412_and_changes_nothing", func(t *testing.T) {
		ts.do("PUT", path+"/S-1", op.Access, map[string]any{"fields": map[string]any{"name": "one"}})
		ts.do("PUT", path+"/S-1", op.Access, map[string]any{"fields": map[string]any{"name": "two"}})
		p := ts.do("PUT", path+"/S-1", op.Access, map[string]any{"fields": map[string]any{"name": "three"}}, "If-Match", `"1"`).problem(412)
		require.Contains(t, p["detail"], "changed since")
		ts.do("DELETE", path+"/S-1", op.Access, nil, "If-Match", `"1"`).problem(412)
		rec := byExternalID(records(t, ts, op.Access, conn, "include_deleted=true"))["S-1"]
		require.Equal(t, "two", rec["fields"].(map[string]any)["name"])
		require.EqualValues(t, 2, rec["version"])
		require.Equal(t, false, rec["deleted"])

		ts.do("PUT", path+"/never", op.Access, map[string]any{"fields": map[string]any{}}, "If-Match", "*").problem(412)
		p = ts.do("PUT", path+"/S-1", op.Access, map[string]any{"fields": map[string]any{}}, "If-Match", "W/abc").problem(422)
		require.Contains(t, p["errors"], "header.If-Match")
	})

	t.Run("delete_leaves_a_tombstone_listed_with_include_deleted", func(t *testing.T) {
		ts.do("PUT", path+"/D-1", op.Access, map[string]any{"fields": map[string]any{"name": "gone soon"}})
		r := ts.do("DELETE", path+"/D-1", op.Access, nil, "If-Match", `"1"`)
		require.Equal(t, 204, r.Status, r.Text())
		require.Equal(t, `"2"`, r.Header.Get("ETag"))
		require.NotContains(t, byExternalID(records(t, ts, op.Access, conn, "")), "D-1")
		rec := byExternalID(records(t, ts, op.Access, conn, "include_deleted=true"))["D-1"]
		require.Equal(t, true, rec["deleted"])
		require.NotNil(t, rec["deleted_at"])
		require.Equal(t, "", rec["hash"])
		require.Equal(t, 204, ts.do("DELETE", path+"/D-1", op.Access, nil).Status, "deleting again is fine")
		ts.do("DELETE", path+"/nobody", op.Access, nil).problem(404)

		r = ts.do("PUT", path+"/D-1", op.Access, map[string]any{"fields": map[string]any{"name": "back"}})
		require.Equal(t, 201, r.Status, "a deleted record put again is created again")
		require.Equal(t, `"3"`, r.Header.Get("ETag"))
	})

	t.Run("external_ids_with_slashes_are_addressable", func(t *testing.T) {
		r := ts.do("PUT", path+"/"+url.PathEscape("a/b c"), op.Access, map[string]any{"fields": map[string]any{"x": 1}})
		require.Equal(t, 201, r.Status, r.Text())
		require.Equal(t, "a/b c", r.JSON()["external_id"])
		require.Equal(t, 204, ts.do("DELETE", path+"/a%2Fb%20c", op.Access, nil).Status)
	})

	t.Run("invalid_bodies_are_422", func(t *testing.T) {
		p := ts.do("PUT", path+"/X", op.Access, map[string]any{"fields": map[string]any{"a": 1}, "colour": "red"}).problem(422)
		require.Contains(t, p["errors"], "colour")
		p = ts.do("PUT", path+"/X", op.Access, map[string]any{"active": true}).problem(422)
		require.Contains(t, p["errors"], "fields")
		p = ts.do("PUT", path+"/X", op.Access, map[string]any{"fields": map[string]any{"deep": []any{[]any{1}}}}).problem(422)
		require.Contains(t, p["errors"], "fields.deep")
		many := map[string]any{}
		for i := range 1001 {
			many[fmt.Sprint("f", i)] = i
		}
		ts.do("PUT", path+"/X", op.Access, map[string]any{"fields": many}).problem(422)
		long := make([]byte, 256)
		for i := range long {
			long[i] = 'x'
		}
		ts.do("PUT", path+"/"+string(long), op.Access, map[string]any{"fields": map[string]any{}}).problem(422)
		require.NotContains(t, byExternalID(records(t, ts, op.Access, conn, "include_deleted=true")), "X")
	})
}

func TestHostedRecordBatch(t *testing.T) {
	ts := newServer(t)
	conn := connectionOf(t, ts, ts.Admin, domain.KindHosted)
	path := recordsPath(conn)
	tok := ts.Admin.Access
	put := func(id, name string) {
		t.Helper()
		r := ts.do("PUT", path+"/"+id, tok, map[string]any{"fields": map[string]any{"name": name}})
		require.Contains(t, []int{200, 201}, r.Status, r.Text())
	}

	t.Run("mixed_items_get_their_own_results", func(t *testing.T) {
		put("keep", "k")
		put("stale", "s")
		put("drop", "d")
		r := ts.do("POST", path+"/batch", tok, map[string]any{"items": []map[string]any{
			{"op": "upsert", "external_id": "new", "fields": map[string]any{"name": "n"}},
			{"op": "upsert", "external_id": "keep", "fields": map[string]any{"name": "k2"}, "if_match": `"1"`},
			{"op": "upsert", "external_id": "stale", "fields": map[string]any{"name": "s2"}, "if_match": `"5"`},
			{"op": "upsert", "external_id": "nofields"},
			{"op": "delete", "external_id": "ghost"},
			{"op": "delete", "external_id": "drop", "if_match": `"1"`},
			{"op": "upsert", "external_id": "badtag", "fields": map[string]any{}, "if_match": "nope"},
			{"op": "upsert", "external_id": "keep", "fields": map[string]any{"name": "k2"}},
		}})
		require.Equal(t, 200, r.Status, r.Text())
		var out struct {
			Results []struct {
				ExternalID string            `json:"external_id"`
				Status     int               `json:"status"`
				Outcome    string            `json:"outcome"`
				ETag       string            `json:"etag"`
				Error      string            `json:"error"`
				Errors     map[string]string `json:"errors"`
			} `json:"results"`
		}
		r.decode(&out)
		require.Len(t, out.Results, 8)
		want := []struct {
			status  int
			outcome string
			etag    string
		}{{201, "created", `"1"`}, {200, "updated", `"2"`}, {412, "", ""}, {422, "", ""}, {404, "", ""}, {204, "deleted", `"2"`}, {422, "", ""}, {200, "unchanged", `"2"`}}
		for i, w := range want {
			got := out.Results[i]
			require.Equal(t, w.status, got.Status, "item %d: %+v", i, got)
			require.Equal(t, w.outcome, got.Outcome, "item %d", i)
			require.Equal(t, w.etag, got.ETag, "item %d", i)
			if w.status >= 400 {
				require.NotEmpty(t, got.Error, "item %d", i)
			}
		}
		require.Contains(t, out.Results[3].Errors, "fields")
		require.Contains(t, out.Results[6].Errors, "if_match")

		live := byExternalID(records(t, ts, tok, conn, ""))
		require.Equal(t, "k2", live["keep"]["fields"].(map[string]any)["name"])
		require.Equal(t, "s", live["stale"]["fields"].(map[string]any)["name"], "the stale item changed nothing")
		require.Contains(t, live, "new")
		require.NotContains(t, live, "drop")
		require.NotContains(t, live, "nofields")
		require.NotContains(t, live, "badtag")
	})

	t.Run("over_1000_items_is_422_and_applies_nothing", func(t *testing.T) {
		items := make([]map[string]any, 1001)
		for i := range items {
			items[i] = map[string]any{"op": "upsert", "external_id": fmt.Sprint("bulk-", i), "fields": map[string]any{}}
		}
		p := ts.do("POST", path+"/batch", tok, map[string]any{"items": items}).problem(422)
		require.Contains(t, p["errors"], "items")
		for id := range byExternalID(records(t, ts, tok, conn, "include_deleted=true")) {
			require.NotContains(t, id, "bulk-")
		}
		r := ts.do("POST", path+"/batch", tok, map[string]any{"items": items[:1000]})
		require.Equal(t, 200, r.Status, r.Text())
	})

	t.Run("a_retried_batch_with_the_same_idempotency_key_is_not_applied_twice", func(t *testing.T) {
		body := map[string]any{"items": []map[string]any{{"op": "upsert", "external_id": "idem", "fields": map[string]any{"v": 1}}}}
		first := ts.do("POST", path+"/batch", tok, body, "Idempotency-Key", "batch-1")
		require.Equal(t, 200, first.Status, first.Text())
		put("idem", "changed in between")
		again := ts.do("POST", path+"/batch", tok, body, "Idempotency-Key", "batch-1")
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.JSONEq(t, first.Text(), again.Text())
		rec := byExternalID(records(t, ts, tok, conn, ""))["idem"]
		require.Equal(t, "changed in between", rec["fields"].(map[string]any)["name"])
	})
}

func TestRecordList(t *testing.T) {
	ts := newServer(t)
	conn := connectionOf(t, ts, ts.Admin, domain.KindHosted)
	tok := ts.Admin.Access
	items := make([]map[string]any, 7)
	for i := range items {
		items[i] = map[string]any{"op": "upsert", "external_id": fmt.Sprint("R", i), "fields": map[string]any{"i": i}}
	}
	require.Equal(t, 200, ts.do("POST", recordsPath(conn)+"/batch", tok, map[string]any{"items": items}).Status)

	t.Run("pages_follow_the_cursor_without_gaps_or_repeats", func(t *testing.T) {
		r := ts.do("GET", recordsPath(conn)+"?limit=3", tok, nil)
		require.Equal(t, 200, r.Status)
		require.Len(t, r.JSON()["data"], 3)
		require.NotNil(t, r.JSON()["next_cursor"])
		all := records(t, ts, tok, conn, "limit=3")
		require.Len(t, all, 7)
		require.Len(t, byExternalID(all), 7)
		first := all[0]
		for _, k := range []string{"id", "external_id", "fields", "hash", "active", "deleted", "deleted_at", "source_updated_at", "first_seen_at", "last_seen_at", "version"} {
			require.Contains(t, first, k)
		}
	})

	t.Run("changed_since_lists_only_later_changes", func(t *testing.T) {
		time.Sleep(10 * time.Millisecond)
		mark := time.Now().UTC()
		time.Sleep(10 * time.Millisecond)
		r := ts.do("PUT", recordsPath(conn)+"/R3", tok, map[string]any{"fields": map[string]any{"i": 33}, "source_updated_at": "2026-01-02T03:04:05Z"})
		require.Equal(t, 200, r.Status, r.Text())
		changed := records(t, ts, tok, conn, "changed_since="+url.QueryEscape(mark.Format(time.RFC3339Nano)))
		require.Len(t, changed, 1)
		require.Equal(t, "R3", changed[0]["external_id"])
		require.Equal(t, "2026-01-02T03:04:05Z", changed[0]["source_updated_at"])
		p := ts.do("GET", recordsPath(conn)+"?changed_since=yesterday", tok, nil).problem(422)
		require.Contains(t, p["errors"], "query.changed_since")
	})

	t.Run("file_connections_are_listed_too", func(t *testing.T) {
		file := connectionOf(t, ts, ts.Admin, domain.KindFile)
		r := ts.do("GET", recordsPath(file), tok, nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Empty(t, r.JSON()["data"])
	})
}

func TestRecordChangeFeed(t *testing.T) {
	ts := newServer(t)
	ctx := context.Background()
	conn := connectionOf(t, ts, ts.Admin, domain.KindHosted)
	tok := ts.Admin.Access
	set := domain.RecordSet{WorkspaceID: ts.Admin.WorkspaceID, ConnectionID: conn, Object: "contacts"}
	hubWrite := func(ids ...string) {
		t.Helper()
		var writes []domain.RecordWrite
		for _, id := range ids {
			writes = append(writes, domain.RecordWrite{Op: domain.WriteUpsert, Record: domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"by": "hub"}}})
		}
		results, err := ts.Store.ApplyRecordBatch(ctx, set, writes, domain.OriginHub, time.Now())
		require.NoError(t, err)
		for _, r := range results {
			require.NoError(t, r.Err)
		}
	}
	type page struct {
		Data []struct {
			ExternalID string `json:"external_id"`
			Seq        int64  `json:"seq"`
			Deleted    bool   `json:"deleted"`
		} `json:"data"`
		NextCursor string `json:"next_cursor"`
		HasMore    bool   `json:"has_more"`
	}
	feed := func(query string) page {
		t.Helper()
		r := ts.do("GET", changesPath(conn)+"?"+query, tok, nil)
		require.Equal(t, 200, r.Status, r.Text())
		var p page
		r.decode(&p)
		require.NotEmpty(t, p.NextCursor)
		return p
	}

	empty := feed("")
	require.Empty(t, empty.Data)
	require.False(t, empty.HasMore)

	hubWrite("h1", "h2", "h3")
	r := ts.do("PUT", recordsPath(conn)+"/client", tok, map[string]any{"fields": map[string]any{"by": "client"}})
	require.Equal(t, 201, r.Status)

	p1 := feed("limit=2&cursor=" + url.QueryEscape(empty.NextCursor))
	require.Len(t, p1.Data, 2)
	require.True(t, p1.HasMore)
	p2 := feed("limit=2&cursor=" + url.QueryEscape(p1.NextCursor))
	require.Len(t, p2.Data, 1)
	require.False(t, p2.HasMore)
	seen := []string{p1.Data[0].ExternalID, p1.Data[1].ExternalID, p2.Data[0].ExternalID}
	require.ElementsMatch(t, []string{"h1", "h2", "h3"}, seen, "hub changes once each, the client's own write never")
	require.Equal(t, p1.Data[0].Seq, p2.Data[0].Seq, "one batch shares a change number across pages")

	idle := feed("cursor=" + url.QueryEscape(p2.NextCursor))
	require.Empty(t, idle.Data)
	require.Equal(t, p2.NextCursor, idle.NextCursor, "nothing new: the same cursor comes back")

	// Later the hub writes again; the stored cursor picks up only that.
	_, _, err := ts.Store.DeleteRecord(ctx, set, "h2", 0, domain.OriginHub, time.Now())
	require.NoError(t, err)
	hubWrite("h4")
	next := feed("cursor=" + url.QueryEscape(idle.NextCursor))
	require.Len(t, next.Data, 2)
	require.Equal(t, "h2", next.Data[0].ExternalID)
	require.True(t, next.Data[0].Deleted)
	require.Equal(t, "h4", next.Data[1].ExternalID)
	require.Greater(t, next.Data[1].Seq, next.Data[0].Seq)

	p := ts.do("GET", changesPath(conn)+"?cursor=not-a-cursor!", tok, nil).problem(422)
	require.Contains(t, p["errors"], "query.cursor")
}

func TestRecordAccess(t *testing.T) {
	ts := newServer(t)
	hosted := connectionOf(t, ts, ts.Admin, domain.KindHosted)
	file := connectionOf(t, ts, ts.Admin, domain.KindFile)
	rest := connectionOf(t, ts, ts.Admin, domain.KindREST)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	other := ts.newWorkspace("other@example.com")
	body := map[string]any{"fields": map[string]any{"name": "x"}}
	batch := map[string]any{"items": []map[string]any{{"op": "delete", "external_id": "1"}}}
	require.Equal(t, 201, ts.do("PUT", recordsPath(hosted)+"/1", ts.Admin.Access, body).Status)

	t.Run("viewers_read_but_do_not_write", func(t *testing.T) {
		require.Equal(t, 200, ts.do("GET", recordsPath(hosted), viewer.Access, nil).Status)
		require.Equal(t, 200, ts.do("GET", changesPath(hosted), viewer.Access, nil).Status)
		ts.do("PUT", recordsPath(hosted)+"/1", viewer.Access, body).problem(403)
		ts.do("DELETE", recordsPath(hosted)+"/1", viewer.Access, nil).problem(403)
		ts.do("POST", recordsPath(hosted)+"/batch", viewer.Access, batch).problem(403)
	})

	t.Run("another_workspace_gets_404", func(t *testing.T) {
		ts.do("GET", recordsPath(hosted), other.Access, nil).problem(404)
		ts.do("GET", changesPath(hosted), other.Access, nil).problem(404)
		ts.do("PUT", recordsPath(hosted)+"/1", other.Access, body).problem(404)
		ts.do("DELETE", recordsPath(hosted)+"/1", other.Access, nil).problem(404)
		ts.do("POST", recordsPath(hosted)+"/batch", other.Access, batch).problem(404)
		require.Len(t, records(t, ts, ts.Admin.Access, hosted, ""), 1, "still there")
	})

	t.Run("only_hosted_connections_take_writes", func(t *testing.T) {
		p := ts.do("PUT", recordsPath(file)+"/1", ts.Admin.Access, body).problem(409)
		require.Contains(t, p["detail"], "file connection")
		ts.do("DELETE", recordsPath(file)+"/1", ts.Admin.Access, nil).problem(409)
		ts.do("POST", recordsPath(file)+"/batch", ts.Admin.Access, batch).problem(409)
		ts.do("GET", changesPath(file), ts.Admin.Access, nil).problem(409)
		p = ts.do("PUT", recordsPath(rest)+"/1", ts.Admin.Access, body).problem(409)
		require.Contains(t, p["detail"], "rest connection")
		require.Empty(t, records(t, ts, ts.Admin.Access, file, "include_deleted=true"))
	})

	t.Run("unauthenticated_is_401", func(t *testing.T) {
		ts.do("GET", recordsPath(hosted), "", nil).problem(401)
		ts.do("PUT", recordsPath(hosted)+"/1", "", body).problem(401)
	})
}
