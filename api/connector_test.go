package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"syncd/api"
	"syncd/connector/outbound"
	"syncd/connector/rest/resttest"
	"syncd/domain"
)

// crmServer is a server allowed to call the fake CRM on loopback, with
// short retry waits.
func crmServer(t *testing.T, allowPrivate bool) (*testServer, *resttest.CRM) {
	t.Helper()
	crm := resttest.NewCRM(t)
	ts := newServer(t, func(d *api.Deps) {
		d.Config.Outbound = outbound.Options{
			AllowPrivate: allowPrivate, Timeout: 5 * time.Second, MaxRetries: 3,
			RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond, MaxRetryAfter: 5 * time.Second,
			RateLimit: rate.Inf,
		}
		d.Config.MassDeleteRatio = 0.5
	})
	return ts, crm
}

// crmConnection creates a rest connection to crm with an api key and
// returns its id.
func crmConnection(t *testing.T, ts *testServer, crm *resttest.CRM, apiKey string, mutate ...func(body map[string]any)) string {
	t.Helper()
	body := restConnection("CRM", crm.URL, apiKey)
	for _, m := range mutate {
		m(body)
	}
	r := ts.do("POST", "/v1/connections", ts.Admin.Access, body)
	require.Equal(t, 201, r.Status, r.Text())
	return r.JSON()["id"].(string)
}

// pull pulls the CRM's customers and returns the answer.
func pull(ts *testServer, connID string, body any) *response {
	ts.t.Helper()
	return ts.do("POST", "/v1/connections/"+connID+"/objects/customers/pull", ts.Admin.Access, body)
}

// hubCopy is the hub's copy of the customers, tombstones included, by
// external id.
func hubCopy(t *testing.T, ts *testServer, connID string) map[string]domain.Record {
	t.Helper()
	set := domain.RecordSet{WorkspaceID: ts.Admin.WorkspaceID, ConnectionID: connID, Object: "customers"}
	list, err := ts.Store.Records(context.Background(), set, domain.RecordFilter{IncludeDeleted: true}, domain.Page{Limit: 500})
	require.NoError(t, err)
	out := map[string]domain.Record{}
	for _, r := range list {
		out[r.ExternalID] = r
	}
	return out
}

// removeFromCRM deletes customers in the CRM, as its own users would.
func removeFromCRM(t *testing.T, crm *resttest.CRM, ids ...string) {
	t.Helper()
	for _, id := range ids {
		req, _ := http.NewRequest(http.MethodDelete, crm.URL+"/v1/customers/"+id, nil)
		req.Header.Set("X-API-Key", resttest.APIKey)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusNoContent, res.StatusCode)
	}
}

func counts(r *response) map[string]float64 {
	r.t.Helper()
	require.Equal(r.t, 200, r.Status, r.Text())
	out := map[string]float64{}
	for k, v := range r.JSON() {
		out[k] = v.(float64)
	}
	return out
}

func TestConnectionTest(t *testing.T) {
	ts, crm := crmServer(t, true)
	crm.UseAuth(resttest.AuthAPIKeyHeader)
	test := func(id string) map[string]any {
		t.Helper()
		r := ts.do("POST", "/v1/connections/"+id+"/test", ts.Admin.Access, nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.NotContains(t, r.Text(), resttest.APIKey)
		require.NotContains(t, r.Text(), "wrong-key-Qx7")
		return r.JSON()
	}
	t.Run("right_credentials_are_ok", func(t *testing.T) {
		before := crm.Requests()
		got := test(crmConnection(t, ts, crm, resttest.APIKey))
		require.Equal(t, true, got["ok"])
		require.Nil(t, got["error"])
		require.GreaterOrEqual(t, got["latency_ms"], 0.0)
		require.Equal(t, before+1, crm.Requests(), "the probe was sent")
		require.Contains(t, crm.Log()[len(crm.Log())-1], "GET /v1/ping")
	})
	t.Run("wrong_credentials_say_why", func(t *testing.T) {
		got := test(crmConnection(t, ts, crm, "wrong-key-Qx7"))
		require.Equal(t, false, got["ok"])
		require.Contains(t, got["error"], "401")
		require.Contains(t, got["error"], "invalid api key")
	})
	t.Run("operator_may_test", func(t *testing.T) {
		op := ts.login(createUser(t, ts, "op@example.com", "operator"), "password-op@example.com")
		id := crmConnection(t, ts, crm, resttest.APIKey)
		r := ts.do("POST", "/v1/connections/"+id+"/test", op.Access, nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, true, r.JSON()["ok"])
	})
	t.Run("file_connections_call_nothing", func(t *testing.T) {
		r := ts.do("POST", "/v1/connections", ts.Admin.Access, map[string]any{"name": "f", "kind": "file",
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "nr"}}}})
		require.Equal(t, 201, r.Status, r.Text())
		before := crm.Requests()
		got := test(r.JSON()["id"].(string))
		require.Equal(t, true, got["ok"])
		require.Equal(t, 0.0, got["latency_ms"])
		require.Equal(t, before, crm.Requests())
	})
	require.NotContains(t, ts.Logs.String(), resttest.APIKey)
	require.NotContains(t, ts.Logs.String(), "wrong-key-Qx7")
}

func TestPrivateTargets(t *testing.T) {
	ts, crm := crmServer(t, false)
	id := crmConnection(t, ts, crm, resttest.APIKey)

	r := ts.do("POST", "/v1/connections/"+id+"/test", ts.Admin.Access, nil)
	require.Equal(t, 200, r.Status, r.Text())
	require.Equal(t, false, r.JSON()["ok"])
	require.Contains(t, r.JSON()["error"], "SYNCD_ALLOW_PRIVATE_TARGETS")

	p := pull(ts, id, nil).problem(503)
	require.Contains(t, p["detail"], "private or loopback")
	require.Contains(t, p["detail"], "SYNCD_ALLOW_PRIVATE_TARGETS")
	require.Zero(t, crm.Requests(), "the CRM never heard from us")
}

func TestPull(t *testing.T) {
	ts, crm := crmServer(t, true)
	crm.UseAuth(resttest.AuthAPIKeyHeader)
	ids := crm.Seed(30) // more than one page of the CRM's
	id := crmConnection(t, ts, crm, resttest.APIKey)

	t.Run("full_pull_fills_the_hub_copy", func(t *testing.T) {
		got := counts(pull(ts, id, nil))
		require.Equal(t, 30.0, got["rows"])
		require.Equal(t, 30.0, got["inserted"])
		require.Zero(t, got["deleted"])
		copy := hubCopy(t, ts, id)
		require.Len(t, copy, 30)
		require.Equal(t, "Customer 7", copy["7"].Fields["name"])
		require.True(t, copy["7"].Active)
		require.NotNil(t, copy["7"].SourceUpdatedAt)
	})
	t.Run("second_full_pull_changes_nothing", func(t *testing.T) {
		got := counts(pull(ts, id, map[string]any{"scope": map[string]any{"type": "all"}}))
		require.Equal(t, 30.0, got["unchanged"])
		require.Zero(t, got["inserted"]+got["updated"]+got["deleted"])
	})
	t.Run("changed_since_fetches_only_changes", func(t *testing.T) {
		crm.Advance(time.Hour)
		since := crm.Now()
		crm.Touch(ids[4], map[string]any{"name": "Renamed"})
		added := crm.Add(map[string]any{"name": "Newcomer", "email": "new@example.com"})
		before := len(crm.Log())
		got := counts(pull(ts, id, map[string]any{"scope": map[string]any{"type": "changed_since", "since": since.Format(time.RFC3339)}}))
		require.Equal(t, 2.0, got["rows"])
		require.Equal(t, 1.0, got["inserted"])
		require.Equal(t, 1.0, got["updated"])
		require.Zero(t, got["deleted"], "a partial pull deletes nothing")
		require.Contains(t, crm.Log()[before], "updated_since=", "the API was asked for changes only")
		copy := hubCopy(t, ts, id)
		require.Equal(t, "Renamed", copy[ids[4]].Fields["name"])
		require.Contains(t, copy, added)
		require.Len(t, copy, 31)
	})
	t.Run("range_pull_adds_only_within_range", func(t *testing.T) {
		crm.Touch(ids[0], map[string]any{"name": "Edited 1"})
		crm.Touch(ids[19], map[string]any{"name": "Edited 20"})
		got := counts(pull(ts, id, map[string]any{"scope": map[string]any{"type": "range", "from": "1", "to": "9"}}))
		require.Equal(t, 9.0, got["rows"])
		require.Equal(t, 1.0, got["updated"])
		copy := hubCopy(t, ts, id)
		require.Equal(t, "Edited 1", copy[ids[0]].Fields["name"])
		require.Equal(t, "Customer 20", copy[ids[19]].Fields["name"], "outside the range")
	})
	t.Run("full_pull_tombstones_removed_records", func(t *testing.T) {
		removeFromCRM(t, crm, ids[1], ids[2], ids[3])
		got := counts(pull(ts, id, nil))
		require.Equal(t, 3.0, got["deleted"])
		require.Equal(t, 28.0, got["rows"])
		copy := hubCopy(t, ts, id)
		require.True(t, copy[ids[1]].Deleted)
		require.NotNil(t, copy[ids[1]].DeletedAt)
		require.False(t, copy[ids[5]].Deleted)
	})
	t.Run("mass_delete_needs_confirmation", func(t *testing.T) {
		removeFromCRM(t, crm, ids[5:25]...)
		p := pull(ts, id, nil).problem(409)
		require.Contains(t, p["detail"], "confirm_mass_delete")
		require.Contains(t, p["detail"], "pull")
		require.False(t, hubCopy(t, ts, id)[ids[5]].Deleted, "nothing was applied")
		got := counts(pull(ts, id, map[string]any{"confirm_mass_delete": true}))
		require.Equal(t, 20.0, got["deleted"])
		require.True(t, hubCopy(t, ts, id)[ids[5]].Deleted)
	})
}

func TestPullRetriesAndFailures(t *testing.T) {
	ts, crm := crmServer(t, true)
	crm.UseAuth(resttest.AuthAPIKeyQuery) // the key travels in the URL, which logs and errors must hide
	crm.Seed(5)
	id := crmConnection(t, ts, crm, resttest.APIKey, func(b map[string]any) {
		b["config"].(map[string]any)["auth"] = map[string]any{"type": "api_key", "in": "query"}
	})

	t.Run("rate_limit_and_server_error_are_retried", func(t *testing.T) {
		crm.Inject(resttest.Fault{Status: 429, RetryAfter: "1"}, resttest.Fault{Status: 500})
		start := time.Now()
		got := counts(pull(ts, id, nil))
		require.Equal(t, 5.0, got["inserted"])
		require.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After was honoured")
		log := crm.Log()
		require.GreaterOrEqual(t, len(log), 4, "two failed attempts, then the pages: %v", log)
		require.Equal(t, log[0], log[2], "the same page was asked for again")
	})
	t.Run("a_remote_failure_is_503_and_stores_nothing", func(t *testing.T) {
		crm.Add(map[string]any{"name": "Late", "email": "late@example.com"})
		crm.Inject(resttest.Fault{Status: 502}, resttest.Fault{Status: 502}, resttest.Fault{Status: 502}, resttest.Fault{Status: 502})
		p := pull(ts, id, nil).problem(503)
		require.Contains(t, p["detail"], "502")
		require.Contains(t, p["detail"], "after 4 attempts")
		require.NotContains(t, p["detail"], resttest.APIKey)
		require.Len(t, hubCopy(t, ts, id), 5, "nothing of the failed pull was stored")
	})
	t.Run("wrong_kind_object_or_scope_are_refused", func(t *testing.T) {
		r := ts.do("POST", "/v1/connections", ts.Admin.Access, map[string]any{"name": "f", "kind": "file",
			"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "nr"}}}})
		require.Equal(t, 201, r.Status, r.Text())
		p := pull(ts, r.JSON()["id"].(string), nil).problem(409)
		require.Contains(t, p["detail"], "uploads")
		p = ts.do("POST", "/v1/connections/"+id+"/objects/invoices/pull", ts.Admin.Access, nil).problem(404)
		require.Contains(t, p["detail"], `no object "invoices"`)
		p = pull(ts, id, map[string]any{"scope": map[string]any{"type": "changed_since"}}).problem(422)
		require.Contains(t, p["errors"], "scope.since")
		p = pull(ts, id, map[string]any{"scope": map[string]any{"type": "all", "from": "1"}}).problem(422)
		require.Contains(t, p["errors"], "scope.from")
	})
	t.Run("the_key_never_leaks", func(t *testing.T) {
		logs := ts.Logs.String()
		require.Contains(t, logs, "retrying", "retries were logged")
		require.NotContains(t, logs, resttest.APIKey)
		for _, l := range crm.Log() {
			if strings.Contains(l, "api_key=") {
				return // the key did reach the CRM, where it belongs
			}
		}
		t.Fatal("the CRM never received the key")
	})
}
