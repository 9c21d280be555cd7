package api_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

// syncConnections creates a hosted left and a file right connection in the
// session's workspace.
func syncConnections(t *testing.T, ts *testServer, s session) (left, right string) {
	t.Helper()
	ids := make([]string, 2)
	for i, kind := range []domain.ConnectionKind{domain.KindHosted, domain.KindFile} {
		c := &domain.Connection{WorkspaceID: s.WorkspaceID, Name: string(kind) + " side", Kind: kind, Config: []byte("{}")}
		require.NoError(t, ts.Store.CreateConnection(context.Background(), c))
		ids[i] = c.ID
	}
	return ids[0], ids[1]
}

// customersObject is the object a test sync is created with: customers on
// the left, kunden on the right, matched by customer number.
func customersObject(autoPair bool) map[string]any {
	return map[string]any{
		"name": "customers", "left_object": "customers", "right_object": "kunden",
		"left_id_field": "id", "right_id_field": "kundennr",
		"fields": []map[string]any{
			{"left": "name", "right": "navn", "type": "string"},
			{"left": "email", "right": "mail", "type": "email"},
			{"left": "city", "right": "ort", "type": "string"},
		},
		"match_keys": []map[string]any{{"left": "number", "right": "nr", "normalize": "digits"}},
		"auto_pair":  autoPair,
	}
}

// objectPut is customersObject as PUT takes it: the name is in the path.
func objectPut(autoPair bool) map[string]any {
	o := customersObject(autoPair)
	delete(o, "name")
	return o
}

func syncBody(left, right string, objects ...map[string]any) map[string]any {
	b := map[string]any{"name": "CRM and ERP", "left_connection_id": left, "right_connection_id": right}
	if objects != nil {
		b["objects"] = objects
	}
	return b
}

func TestSyncCRUD(t *testing.T) {
	ts := newServer(t)
	admin := ts.Admin.Access
	left, right := syncConnections(t, ts, ts.Admin)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	operator := ts.login(createUser(t, ts, "operator@example.com", "operator"), "password-operator@example.com")

	r := ts.do("POST", "/v1/syncs", admin, syncBody(left, right, customersObject(true)))
	require.Equal(t, 201, r.Status, r.Text())
	require.Equal(t, `"1"`, r.Header.Get("ETag"))
	created := r.JSON()
	id := created["id"].(string)
	path := "/v1/syncs/" + id

	t.Run("create_fills_in_the_defaults", func(t *testing.T) {
		require.Equal(t, map[string]any{"mode": "manual"}, created["conflict_policy"])
		require.Equal(t, "manual", created["delete_policy"])
		require.Equal(t, "abort", created["on_error"])
		require.Equal(t, map[string]any{"enabled": false}, created["schedule"])
		obj := created["objects"].([]any)[0].(map[string]any)
		require.Equal(t, "both", obj["fields"].([]any)[0].(map[string]any)["direction"])
		require.Equal(t, "digits", obj["match_keys"].([]any)[0].(map[string]any)["normalize"])
		require.Equal(t, true, obj["auto_pair"])
	})

	t.Run("get_and_list", func(t *testing.T) {
		r := ts.do("GET", path, viewer.Access, nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, `"1"`, r.Header.Get("ETag"))
		require.Len(t, r.JSON()["objects"], 1)
		r = ts.do("GET", "/v1/syncs", viewer.Access, nil)
		require.Equal(t, 200, r.Status, r.Text())
		list := r.JSON()["data"].([]any)
		require.Len(t, list, 1)
		require.Equal(t, id, list[0].(map[string]any)["id"])
		require.NotContains(t, list[0], "objects", "lists leave objects out")
	})

	t.Run("settings_are_the_admins", func(t *testing.T) {
		ts.do("POST", "/v1/syncs", operator.Access, syncBody(left, right)).problem(403)
		ts.do("PATCH", path, operator.Access, map[string]any{"name": "x"}).problem(403)
		ts.do("PUT", path+"/objects/customers", operator.Access, objectPut(false)).problem(403)
		ts.do("DELETE", path, viewer.Access, nil).problem(403)
	})

	t.Run("patch_with_if_match", func(t *testing.T) {
		r := ts.do("PATCH", path, admin, map[string]any{
			"name": "renamed", "conflict_policy": map[string]any{"mode": "auto", "winner": "newest"},
			"schedule": map[string]any{"every": "15m", "enabled": true}, "on_error": "continue",
		}, "If-Match", `"1"`)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, `"2"`, r.Header.Get("ETag"))
		body := r.JSON()
		require.Equal(t, "renamed", body["name"])
		require.Equal(t, map[string]any{"mode": "auto", "winner": "newest"}, body["conflict_policy"])
		require.Equal(t, map[string]any{"every": "15m", "enabled": true}, body["schedule"])
		require.Equal(t, "continue", body["on_error"])
		require.Equal(t, "manual", body["delete_policy"], "left out, it stays")
		require.Len(t, body["objects"], 1)

		p := ts.do("PATCH", path, admin, map[string]any{"name": "stale"}, "If-Match", `"1"`).problem(412)
		require.Contains(t, p["detail"], "If-Match")
		require.Equal(t, "renamed", ts.do("GET", path, admin, nil).JSON()["name"], "a stale write changes nothing")
	})

	t.Run("patch_is_validated_by_the_domain", func(t *testing.T) {
		p := ts.do("PATCH", path, admin, map[string]any{"conflict_policy": map[string]any{"mode": "auto"}}).problem(422)
		require.Contains(t, p["errors"], "conflict_policy.winner")
		p = ts.do("PATCH", path, admin, map[string]any{"schedule": map[string]any{"every": "15m", "cron": "0 * * * *"}}).problem(422)
		require.Contains(t, p["errors"], "schedule")
		p = ts.do("PATCH", path, admin, map[string]any{"left_connection_id": right}).problem(422)
		require.Contains(t, p["errors"], "left_connection_id", "connections cannot change")
		ts.do("PATCH", path, admin, map[string]any{}).problem(422)
		require.Equal(t, `"2"`, ts.do("GET", path, admin, nil).Header.Get("ETag"))
	})

	t.Run("objects_put_and_get", func(t *testing.T) {
		contacts := objectPut(false)
		contacts["left_object"], contacts["right_object"] = "contacts", "kontakte"
		contacts["active_field"] = map[string]any{"right": "aktiv"}
		r := ts.do("PUT", path+"/objects/contacts", admin, contacts)
		require.Equal(t, 201, r.Status, r.Text())
		require.Equal(t, map[string]any{"right": "aktiv"}, r.JSON()["active_field"])
		contacts["fields"] = []map[string]any{{"left": "email", "right": "mail", "type": "email", "direction": "left_to_right"}}
		r = ts.do("PUT", path+"/objects/contacts", admin, contacts)
		require.Equal(t, 200, r.Status, r.Text())
		r = ts.do("GET", path+"/objects/contacts", viewer.Access, nil)
		require.Equal(t, 200, r.Status, r.Text())
		fields := r.JSON()["fields"].([]any)
		require.Len(t, fields, 1)
		require.Equal(t, "left_to_right", fields[0].(map[string]any)["direction"])
		require.Len(t, ts.do("GET", path, admin, nil).JSON()["objects"], 2)
		ts.do("GET", path+"/objects/nothing", admin, nil).problem(404)
		ts.do("PUT", "/v1/syncs/nosuchsync/objects/contacts", admin, contacts).problem(404)
	})

	t.Run("object_validation_names_the_field", func(t *testing.T) {
		bad := objectPut(false)
		bad["fields"] = []map[string]any{
			{"left": "name", "right": "navn", "type": "string"},
			{"left": "name", "right": "firma", "type": "string"},
		}
		p := ts.do("PUT", path+"/objects/customers", admin, bad).problem(422)
		require.Contains(t, p["errors"], "fields[1].left")
		bad["fields"] = []map[string]any{}
		p = ts.do("PUT", path+"/objects/customers", admin, bad).problem(422)
		require.Contains(t, p["errors"], "fields")
		bad["fields"] = []map[string]any{{"left": "name", "right": "navn", "type": "text"}}
		p = ts.do("PUT", path+"/objects/customers", admin, bad).problem(422)
		require.Contains(t, p["errors"], "fields[0].type")
		obj := ts.do("GET", path+"/objects/customers", admin, nil).JSON()
		require.Len(t, obj["fields"], 3, "an invalid put changes nothing")
	})

	t.Run("another_workspace_sees_nothing", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		ts.do("GET", path, other.Access, nil).problem(404)
		ts.do("PATCH", path, other.Access, map[string]any{"name": "mine"}).problem(404)
		ts.do("GET", path+"/objects/customers", other.Access, nil).problem(404)
		ts.do("PUT", path+"/objects/customers", other.Access, objectPut(false)).problem(404)
		ts.do("DELETE", path, other.Access, nil).problem(404)
		require.Empty(t, ts.do("GET", "/v1/syncs", other.Access, nil).JSON()["data"])
		// Its own connections do not pair with ours either.
		l2, _ := syncConnections(t, ts, other)
		p := ts.do("POST", "/v1/syncs", admin, syncBody(l2, right)).problem(422)
		require.Contains(t, p["errors"], "left_connection_id")
	})

	t.Run("delete", func(t *testing.T) {
		r := ts.do("POST", "/v1/syncs", admin, syncBody(left, right))
		require.Equal(t, 201, r.Status, r.Text())
		gone := "/v1/syncs/" + r.JSON()["id"].(string)
		require.Equal(t, 204, ts.do("DELETE", gone, admin, nil).Status)
		ts.do("GET", gone, admin, nil).problem(404)
		ts.do("DELETE", gone, admin, nil).problem(404)
	})
}

func TestSyncValidation(t *testing.T) {
	ts := newServer(t)
	admin := ts.Admin.Access
	left, right := syncConnections(t, ts, ts.Admin)
	with := func(mutate func(b map[string]any)) map[string]any {
		b := syncBody(left, right, customersObject(false))
		mutate(b)
		return b
	}
	cases := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"auto_policy_needs_a_winner", with(func(b map[string]any) { b["conflict_policy"] = map[string]any{"mode": "auto"} }), []string{"conflict_policy.winner"}},
		{"unknown_mode", with(func(b map[string]any) { b["conflict_policy"] = map[string]any{"mode": "sometimes"} }), []string{"conflict_policy.mode"}},
		{"schedule_too_often", with(func(b map[string]any) { b["schedule"] = map[string]any{"every": "10s", "enabled": true} }), []string{"schedule.every"}},
		{"enabled_schedule_needs_a_time", with(func(b map[string]any) { b["schedule"] = map[string]any{"enabled": true} }), []string{"schedule"}},
		{"unknown_connection", with(func(b map[string]any) { b["left_connection_id"] = "nope" }), []string{"left_connection_id"}},
		{"same_connection_twice", with(func(b map[string]any) { b["right_connection_id"] = left }), []string{"right_connection_id"}},
		{"unknown_field", with(func(b map[string]any) { b["colour"] = "red" }), []string{"colour"}},
		{"name_required", with(func(b map[string]any) { delete(b, "name") }), []string{"name"}},
		{"duplicate_objects", with(func(b map[string]any) {
			b["objects"] = []map[string]any{customersObject(false), customersObject(true)}
		}), []string{"objects[1].name"}},
		{"field_mapped_twice", with(func(b map[string]any) {
			o := customersObject(false)
			o["fields"] = []map[string]any{{"left": "name", "right": "navn", "type": "string"}, {"left": "email", "right": "navn", "type": "email"}}
			b["objects"] = []map[string]any{o}
		}), []string{"objects[0].fields[1].right"}},
		{"several_problems_at_once", with(func(b map[string]any) {
			b["conflict_policy"] = map[string]any{"mode": "auto"}
			b["schedule"] = map[string]any{"every": "soon"}
		}), []string{"conflict_policy.winner", "schedule.every"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ts.do("POST", "/v1/syncs", admin, c.body).problem(422)
			for _, f := range c.fields {
				require.Contains(t, p["errors"], f)
			}
		})
	}
	require.Empty(t, ts.do("GET", "/v1/syncs", admin, nil).JSON()["data"], "no invalid sync was stored")
}
