package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// restConnection is the create body of a rest connection to baseURL that
// authenticates with an api key header.
func restConnection(name, baseURL, apiKey string) map[string]any {
	return map[string]any{
		"name": name,
		"kind": "rest",
		"config": map[string]any{
			"base_url": baseURL,
			"auth":     map[string]any{"type": "api_key"},
			"probe":    map[string]any{"path": "/v1/ping"},
			"objects": map[string]any{"customers": map[string]any{
				"list_path":           "/v1/customers",
				"records_path":        "data",
				"updated_at_field":    "updated_at",
				"active_field":        "active",
				"pagination":          map[string]any{"type": "page", "size_param": "per_page", "size": 100},
				"updated_since_param": "updated_since",
			}},
		},
		"credentials": map[string]any{"api_key": apiKey},
	}
}

const connSecret = "sk-live-9f8e7d6c5b4a"

func TestConnectionCRUD(t *testing.T) {
	ts := newServer(t)
	admin := ts.Admin.Access
	var bodies []string

	created := ts.do("POST", "/v1/connections", admin, restConnection("CRM", "https://crm.example.com/api", connSecret))
	require.Equal(t, 201, created.Status, created.Text())
	require.Equal(t, `"1"`, created.Header.Get("ETag"))
	c := created.JSON()
	id := c["id"].(string)
	bodies = append(bodies, created.Text())

	t.Run("responses_name_credential_fields_never_values", func(t *testing.T) {
		require.Equal(t, true, c["credentials_set"])
		require.Equal(t, []any{"api_key"}, c["credential_fields"])
		require.Equal(t, "rest", c["kind"])
		require.Equal(t, "https://crm.example.com/api", c["config"].(map[string]any)["base_url"])
		got := ts.do("GET", "/v1/connections/"+id, admin, nil)
		require.Equal(t, 200, got.Status, got.Text())
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		list := ts.do("GET", "/v1/connections", admin, nil)
		require.Equal(t, 200, list.Status, list.Text())
		require.Len(t, list.JSON()["data"], 1)
		bodies = append(bodies, got.Text(), list.Text())
	})
	t.Run("file_and_hosted_connections", func(t *testing.T) {
		r := ts.do("POST", "/v1/connections", admin, map[string]any{"name": "ERP export", "kind": "file",
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "Kundennummer", "delimiter": ";"}}}})
		require.Equal(t, 201, r.Status, r.Text())
		require.Equal(t, false, r.JSON()["credentials_set"])
		require.Equal(t, []any{}, r.JSON()["credential_fields"])
		r = ts.do("POST", "/v1/connections", admin, map[string]any{"name": "Field app", "kind": "hosted",
			"config": map[string]any{"objects": map[string]any{"contacts": map[string]any{"fields": []string{"name", "email"}}}}})
		require.Equal(t, 201, r.Status, r.Text())
	})
	t.Run("patch_checks_if_match", func(t *testing.T) {
		p := ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"name": "CRM live"}, "If-Match", `"7"`).problem(412)
		require.Contains(t, p["detail"], "If-Match")
		r := ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"name": "CRM live"}, "If-Match", `"1"`)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, `"2"`, r.Header.Get("ETag"))
		require.Equal(t, "CRM live", r.JSON()["name"])
		ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"name": "stale"}, "If-Match", `"1"`).problem(412)
		require.Equal(t, "CRM live", ts.do("GET", "/v1/connections/"+id, admin, nil).JSON()["name"], "a stale write changes nothing")
		bodies = append(bodies, r.Text())
	})
	t.Run("patch_checks_config_and_credentials_together", func(t *testing.T) {
		p := ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"credentials": map[string]any{}}).problem(422)
		require.Contains(t, p["errors"], "credentials.api_key", "an api_key connection cannot lose its key")
		p = ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"config": map[string]any{
			"objects": map[string]any{"customers": map[string]any{"id_column": "nr"}}}}).problem(422)
		require.Contains(t, p["errors"], "config.base_url", "the kind stays rest, so the config must be a rest config")

		cfg := restConnection("", "https://crm.example.com/v2", "")["config"].(map[string]any)
		cfg["auth"] = map[string]any{"type": "bearer"}
		r := ts.do("PATCH", "/v1/connections/"+id, admin, map[string]any{"config": cfg, "credentials": map[string]any{"token": connSecret + "-bearer"}})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, []any{"token"}, r.JSON()["credential_fields"])
		require.Equal(t, "https://crm.example.com/v2", r.JSON()["config"].(map[string]any)["base_url"])
		bodies = append(bodies, r.Text(), p["detail"].(string))
	})
	t.Run("credentials_never_appear_in_bodies_or_logs", func(t *testing.T) {
		for _, b := range append(bodies, ts.Logs.String()) {
			require.NotContains(t, b, connSecret)
		}
	})
	t.Run("delete_then_gone", func(t *testing.T) {
		r := ts.do("POST", "/v1/connections", admin, restConnection("temp", "https://t.example.com", "k"))
		require.Equal(t, 201, r.Status, r.Text())
		tmp := r.JSON()["id"].(string)
		require.Equal(t, 204, ts.do("DELETE", "/v1/connections/"+tmp, admin, nil).Status)
		ts.do("GET", "/v1/connections/"+tmp, admin, nil).problem(404)
		ts.do("DELETE", "/v1/connections/"+tmp, admin, nil).problem(404)
	})
}

func TestConnectionValidation(t *testing.T) {
	ts := newServer(t)
	create := func(body map[string]any) map[string]any {
		t.Helper()
		p := ts.do("POST", "/v1/connections", ts.Admin.Access, body).problem(422)
		require.NotEmpty(t, p["errors"], "a 422 names the fields")
		return p["errors"].(map[string]any)
	}
	rest := func(mutate func(cfg, customers map[string]any)) map[string]any {
		b := restConnection("CRM", "https://crm.example.com", "k")
		cfg := b["config"].(map[string]any)
		mutate(cfg, cfg["objects"].(map[string]any)["customers"].(map[string]any))
		return b
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown_kind", map[string]any{"name": "x", "kind": "ftp", "config": map[string]any{}}, "kind"},
		{"unknown_pagination_type", rest(func(_, o map[string]any) { o["pagination"] = map[string]any{"type": "pages"} }),
			"config.objects.customers.pagination.type"},
		{"cursor_paging_without_cursor_path", rest(func(_, o map[string]any) { o["pagination"] = map[string]any{"type": "cursor"} }),
			"config.objects.customers.pagination.cursor_path"},
		{"unknown_config_field", rest(func(_, o map[string]any) { o["lst_path"] = "/typo" }), "config.objects.customers.lst_path"},
		{"base_url_not_http", rest(func(c, _ map[string]any) { c["base_url"] = "ftp://crm.example.com" }), "config.base_url"},
		{"list_path_missing", rest(func(_, o map[string]any) { delete(o, "list_path") }), "config.objects.customers.list_path"},
		{"path_pointing_elsewhere", rest(func(_, o map[string]any) { o["list_path"] = "https://evil.example.com/x" }),
			"config.objects.customers.list_path"},
		{"api_key_without_key", func() map[string]any {
			b := restConnection("CRM", "https://crm.example.com", "")
			delete(b, "credentials")
			return b
		}(), "credentials.api_key"},
		{"file_object_without_id_column", map[string]any{"name": "f", "kind": "file",
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"delimiter": ";"}}}}, "config.objects.customers.id_column"},
		{"file_unknown_encoding", map[string]any{"name": "f", "kind": "file",
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "nr", "encoding": "klingon"}}}},
			"config.objects.customers.encoding"},
		{"file_without_objects", map[string]any{"name": "f", "kind": "file", "config": map[string]any{"objects": map[string]any{}}}, "config.objects"},
		{"file_takes_no_credentials", map[string]any{"name": "f", "kind": "file", "credentials": map[string]any{"api_key": "x"},
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "nr"}}}}, "credentials"},
		{"hosted_duplicate_field", map[string]any{"name": "h", "kind": "hosted",
			"config": map[string]any{"objects": map[string]any{"contacts": map[string]any{"fields": []string{"email", "email"}}}}},
			"config.objects.contacts.fields"},
		{"blank_name", map[string]any{"name": "   ", "kind": "hosted",
			"config": map[string]any{"objects": map[string]any{"contacts": map[string]any{}}}}, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := create(tc.body)
			require.Contains(t, errs, tc.field, "errors: %v", errs)
		})
	}
	t.Run("every_problem_is_named_at_once", func(t *testing.T) {
		b := rest(func(c, o map[string]any) {
			o["pagination"] = map[string]any{"type": "cursor"}
			c["base_url"] = "ftp://x"
		})
		b["name"] = " "
		errs := create(b)
		require.Contains(t, errs, "name")
		require.Contains(t, errs, "config.base_url")
		require.Contains(t, errs, "config.objects.customers.pagination.cursor_path")
	})
	require.Empty(t, ts.do("GET", "/v1/connections", ts.Admin.Access, nil).JSON()["data"], "nothing invalid was stored")
}

func TestConnectionAccess(t *testing.T) {
	ts := newServer(t)
	r := ts.do("POST", "/v1/connections", ts.Admin.Access, restConnection("CRM", "https://crm.example.com", connSecret))
	require.Equal(t, 201, r.Status, r.Text())
	id := r.JSON()["id"].(string)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	operator := ts.login(createUser(t, ts, "operator@example.com", "operator"), "password-operator@example.com")

	t.Run("viewer_reads_but_cannot_write", func(t *testing.T) {
		require.Equal(t, 200, ts.do("GET", "/v1/connections", viewer.Access, nil).Status)
		require.Equal(t, 200, ts.do("GET", "/v1/connections/"+id, viewer.Access, nil).Status)
		ts.do("POST", "/v1/connections", viewer.Access, restConnection("x", "https://x.example.com", "k")).problem(403)
		ts.do("POST", "/v1/connections/"+id+"/test", viewer.Access, nil).problem(403)
		ts.do("POST", "/v1/connections/"+id+"/objects/customers/pull", viewer.Access, nil).problem(403)
	})
	t.Run("credentials_are_the_admins_concern", func(t *testing.T) {
		ts.do("POST", "/v1/connections", operator.Access, restConnection("x", "https://x.example.com", "k")).problem(403)
		ts.do("PATCH", "/v1/connections/"+id, operator.Access, map[string]any{"credentials": map[string]any{"api_key": "mine"}}).problem(403)
		ts.do("DELETE", "/v1/connections/"+id, operator.Access, nil).problem(403)
	})
	t.Run("another_workspace_sees_nothing", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		require.Empty(t, ts.do("GET", "/v1/connections", other.Access, nil).JSON()["data"])
		ts.do("GET", "/v1/connections/"+id, other.Access, nil).problem(404)
		ts.do("PATCH", "/v1/connections/"+id, other.Access, map[string]any{"name": "mine"}).problem(404)
		ts.do("DELETE", "/v1/connections/"+id, other.Access, nil).problem(404)
		ts.do("POST", "/v1/connections/"+id+"/test", other.Access, nil).problem(404)
		ts.do("POST", "/v1/connections/"+id+"/objects/customers/pull", other.Access, nil).problem(404)
		require.Equal(t, "CRM", ts.do("GET", "/v1/connections/"+id, ts.Admin.Access, nil).JSON()["name"])
	})
	t.Run("pages_follow_the_cursor", func(t *testing.T) {
		for i := range 4 {
			r := ts.do("POST", "/v1/connections", ts.Admin.Access, restConnection(fmt.Sprintf("c%d", i), "https://crm.example.com", "k"))
			require.Equal(t, 201, r.Status, r.Text())
		}
		seen := map[string]bool{}
		path := "/v1/connections?limit=2"
		for pages := 0; path != ""; pages++ {
			require.Less(t, pages, 4)
			page := ts.do("GET", path, viewer.Access, nil).JSON()
			for _, c := range page["data"].([]any) {
				seen[c.(map[string]any)["id"].(string)] = true
			}
			path = ""
			if next, ok := page["next_cursor"].(string); ok {
				path = "/v1/connections?limit=2&cursor=" + next
			}
		}
		require.Len(t, seen, 5)
	})
	require.False(t, strings.Contains(ts.Logs.String(), connSecret))
}
