package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/connector/rest/resttest"
)

// The seed scenario of the sync window: a hosted customers side and a second
// side, matched on the customer number with auto_pair, walked through every
// action a person takes, checking the window summary after each step.

// summary is the window summary as the API answers it.
type summary struct {
	Conflict int            `json:"conflict"`
	New      map[string]int `json:"new"`
	Deleted  int            `json:"deleted"`
	Disabled int            `json:"disabled"`
	Synced   int            `json:"synced"`
	Inactive int            `json:"inactive"`
}

func want(conflict, newLeft, newRight, deleted, disabled, synced, inactive int) summary {
	return summary{conflict, map[string]int{"left": newLeft, "right": newRight}, deleted, disabled, synced, inactive}
}

// scenario is one sync under test, seen through the API only.
type scenario struct {
	t      *testing.T
	ts     *testServer
	tok    string
	base   string // /v1/syncs/{id}/objects/customers
	hosted string // the hosted connection's id
	other  string // the other side's connection id
}

func (s *scenario) summary() summary {
	s.t.Helper()
	r := s.ts.do("GET", s.base+"/window/summary", s.tok, nil)
	require.Equal(s.t, 200, r.Status, r.Text())
	var out summary
	r.decode(&out)
	return out
}

// expect waits until the worker has applied what the last step queued and
// the summary is as wanted.
func (s *scenario) expect(step string, w summary) {
	s.t.Helper()
	var got summary
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got = s.summary(); fmt.Sprint(got) == fmt.Sprint(w) && s.settled() {
			require.Equal(s.t, w, s.listed(), "after %s the window lists what the summary counts", step)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(s.t, w, got, "after %s", step)
	require.True(s.t, s.settled(), "after %s some items are still pending", step)
}

// listed counts the window's rows per category, as the summary should.
func (s *scenario) listed() summary {
	s.t.Helper()
	out := want(0, 0, 0, 0, 0, 0, 0)
	for _, it := range s.items("limit=500") {
		switch it["category"] {
		case "conflict":
			out.Conflict++
		case "new":
			out.New[it["side"].(string)]++
		case "deleted":
			out.Deleted++
		case "disabled":
			out.Disabled++
		case "synced":
			out.Synced++
		case "inactive":
			out.Inactive++
		}
	}
	return out
}

// settled reports that no item waits for a write or its retry.
func (s *scenario) settled() bool {
	for _, status := range []string{"pending", "failed"} {
		r := s.ts.do("GET", s.base+"/window?status="+status, s.tok, nil)
		if len(r.JSON()["data"].([]any)) > 0 {
			return false
		}
	}
	return true
}

// items lists the window rows of a category, optionally of one side.
func (s *scenario) items(query string) []map[string]any {
	s.t.Helper()
	r := s.ts.do("GET", s.base+"/window?"+query, s.tok, nil)
	require.Equal(s.t, 200, r.Status, r.Text())
	var page struct {
		Data []map[string]any `json:"data"`
	}
	r.decode(&page)
	return page.Data
}

// find returns the item whose record on side has the external id.
func (s *scenario) find(query, side, externalID string) map[string]any {
	s.t.Helper()
	for _, it := range s.items(query) {
		if rec, ok := it[side].(map[string]any); ok && rec["external_id"] == externalID {
			return it
		}
	}
	s.t.Fatalf("no item with %s record %s in %s", side, externalID, query)
	return nil
}

func (s *scenario) act(itemID, action string, body any, headers ...string) *response {
	s.t.Helper()
	return s.ts.do("POST", s.base+"/items/"+itemID+"/"+action, s.tok, body, headers...)
}

// hostedRecord reads a record of the hosted side.
func (s *scenario) hostedRecord(externalID string) map[string]any {
	s.t.Helper()
	r := s.ts.do("GET", "/v1/connections/"+s.hosted+"/objects/customers/records?include_deleted=true&limit=500", s.tok, nil)
	require.Equal(s.t, 200, r.Status, r.Text())
	for _, rec := range r.JSON()["data"].([]any) {
		if m := rec.(map[string]any); m["external_id"] == externalID {
			return m
		}
	}
	return nil
}

// newScenario creates the hosted side with five customers, the other side
// through otherSide, and the sync between them.
func newScenario(t *testing.T, ts *testServer, otherKind string, otherConfig any, credentials any) *scenario {
	t.Helper()
	tok := ts.Admin.Access
	conn := func(name, kind string, config, creds any) string {
		body := map[string]any{"name": name, "kind": kind, "config": config}
		if creds != nil {
			body["credentials"] = creds
		}
		r := ts.do("POST", "/v1/connections", tok, body)
		require.Equal(t, 201, r.Status, r.Text())
		return r.JSON()["id"].(string)
	}
	s := &scenario{t: t, ts: ts, tok: tok}
	s.hosted = conn("our customers", "hosted", map[string]any{"objects": map[string]any{"customers": map[string]any{}}}, nil)
	s.other = conn("the other system", otherKind, otherConfig, credentials)
	r := ts.do("POST", "/v1/syncs", tok, map[string]any{
		"name": "customers", "left_connection_id": s.hosted, "right_connection_id": s.other,
		"conflict_policy": map[string]any{"mode": "manual"}, "delete_policy": "manual",
		"objects": []any{map[string]any{
			"name": "customers", "left_object": "customers", "right_object": "customers",
			"left_id_field": "id", "right_id_field": "id",
			"fields": []any{
				map[string]any{"left": "name", "right": "name", "type": "string"},
				map[string]any{"left": "email", "right": "email", "type": "email"},
				map[string]any{"left": "city", "right": "city", "type": "string"},
			},
			"match_keys": []any{map[string]any{"left": "number", "right": "number", "normalize": "digits"}},
			"auto_pair":  true,
		}},
	})
	require.Equal(t, 201, r.Status, r.Text())
	s.base = "/v1/syncs/" + r.JSON()["id"].(string) + "/objects/customers"
	batch := []any{}
	for i, c := range []struct{ number, name, city string }{
		{"1001", "Ærø ApS", "Odense"}, {"1002", "Bäckerei Müller", "Köln"}, {"1003", "Søren & Co", "Aarhus"},
		{"1004", "Dünen GmbH", "Kiel"}, {"1005", "Only Here", "Berlin"},
	} {
		batch = append(batch, map[string]any{"op": "upsert", "external_id": fmt.Sprintf("h%d", i+1),
			"fields": map[string]any{"number": c.number, "name": c.name, "email": "kunde" + c.number + "@example.com", "city": c.city}})
	}
	r = ts.do("POST", "/v1/connections/"+s.hosted+"/objects/customers/records/batch", tok, map[string]any{"items": batch})
	require.Equal(t, 200, r.Status, r.Text())
	return s
}

// csvFile is the other system's export: ; separated, Windows-1252 capable text.
func csvFile(rows ...string) []byte {
	return []byte("ID;number;name;email;city;active\r\n" + strings.Join(rows, "\r\n") + "\r\n")
}

var seedRows = []string{
	"e1;1001;Ærø ApS;kunde1001@example.com;Odense;ja",
	"e2;1002;Bäckerei Müller;KUNDE1002@example.com;Köln;ja",
	"e3;10-03;Søren & Co;kunde1003@example.com;Aarhus;ja",
	"e4;1004;Dünen GmbH;kunde1004@example.com;Flensburg;ja",
	"e5;2001;Neu Eins;neu1@example.com;Hamburg;ja",
	"e6;2002;Neu Zwei;neu2@example.com;Bremen;ja",
	"e7;2003;Schläfer;schlaefer@example.com;Husum;nein",
}

func TestScenarioHostedAndFile(t *testing.T) {
	ts := newServer(t)
	s := newScenario(t, ts, "file", map[string]any{"objects": map[string]any{"customers": map[string]any{
		"id_column": "ID", "active_column": "active", "active_values": []string{"ja"}, "delimiter": ";"}}}, nil)
	s.expect("the hosted side arrived", want(0, 5, 0, 0, 0, 0, 0))

	up := ts.upload(s.tok, s.other, uploadCase{fields: form("full"), filename: "kunden.csv", file: csvFile(seedRows...)})
	require.Equal(t, 201, up.Status, up.Text())
	s.expect("the first upload", want(1, 1, 2, 0, 0, 3, 1))

	// Set up a partner on the hosted side for a record only in the file.
	n := s.find("category=new&side=right", "right", "e5")
	r := s.act(n["id"].(string), "create-counterpart", nil)
	require.Equal(t, 200, r.Status, r.Text())
	s.expect("create-counterpart", want(1, 1, 1, 0, 0, 4, 1))
	created := s.hostedRecord("e5")
	require.NotNil(t, created, "the partner was created with the same id")
	require.Equal(t, "Neu Eins", created["fields"].(map[string]any)["name"])
	feed := ts.do("GET", "/v1/connections/"+s.hosted+"/objects/customers/changes", s.tok, nil)
	require.Contains(t, feed.Text(), `"e5"`, "the hub's write is in the hosted change feed")

	// Resolve the conflict per field: the file's city wins.
	c := s.items("category=conflict")[0]
	detail := ts.do("GET", s.base+"/items/"+c["id"].(string), s.tok, nil)
	require.Equal(t, 200, detail.Status)
	etag := detail.Header.Get("ETag")
	r = s.act(c["id"].(string), "resolve", map[string]any{"fields": map[string]any{"city": "right"}}, "If-Match", etag)
	require.Equal(t, 200, r.Status, r.Text())
	s.expect("resolve", want(0, 1, 1, 0, 0, 5, 1))
	require.Equal(t, "Flensburg", s.hostedRecord("h4")["fields"].(map[string]any)["city"])
	s.act(c["id"].(string), "resolve", map[string]any{"winner": "left"}, "If-Match", etag).problem(412)
	s.act(c["id"].(string), "resolve", map[string]any{"winner": "left"}).problem(409)

	// Disable one synced item and enable it again.
	syncedItem := s.find("category=synced", "left", "h1")
	require.Equal(t, 200, s.act(syncedItem["id"].(string), "disable", nil).Status)
	s.expect("disable", want(0, 1, 1, 0, 1, 4, 1))
	require.Equal(t, 200, s.act(syncedItem["id"].(string), "enable", nil).Status)
	s.expect("enable", want(0, 1, 1, 0, 0, 5, 1))

	// A full upload without e2: its link becomes deleted.
	var rows []string
	for _, row := range seedRows {
		if !strings.HasPrefix(row, "e2;") {
			rows = append(rows, strings.Replace(row, "Flensburg", "Flensburg", 1))
		}
	}
	up = ts.upload(s.tok, s.other, uploadCase{fields: form("full"), filename: "kunden.csv", file: csvFile(rows...)})
	require.Equal(t, 201, up.Status, up.Text())
	s.expect("a full upload without one synced record", want(0, 1, 1, 1, 0, 4, 1))

	// Delete the remaining side: the item leaves the window.
	d := s.items("category=deleted")[0]
	require.Equal(t, 200, s.act(d["id"].(string), "delete-remaining", nil).Status)
	s.expect("delete-remaining", want(0, 1, 1, 0, 0, 4, 1))
	require.Equal(t, true, s.hostedRecord("h2")["deleted"])

	// Unpair one: two new items.
	u := s.find("category=synced", "left", "h3")
	require.Equal(t, 200, s.act(u["id"].(string), "unpair", nil).Status)
	s.expect("unpair", want(0, 2, 2, 0, 0, 3, 1))

	// The file's desired state carries the hub's writes: e2 is gone from the
	// export only once the file itself dropped it; h5 never went to the file.
	exp := ts.do("GET", "/v1/connections/"+s.other+"/objects/customers/export.csv", s.tok, nil)
	require.Equal(t, 200, exp.Status)
	require.True(t, strings.HasPrefix(exp.Text(), "\uFEFFID;active;city;email;name;number\r\n"), exp.Text())
	require.Contains(t, exp.Text(), "e4;ja;Flensburg;")
	require.NotContains(t, exp.Text(), "e2;")
}

func TestScenarioHostedAndREST(t *testing.T) {
	ts, crm := crmServer(t, true)
	crm.UseAuth(resttest.AuthAPIKeyHeader)
	for _, c := range []map[string]any{
		{"number": "1001", "name": "Ærø ApS", "email": "kunde1001@example.com", "city": "Odense"},
		{"number": "1002", "name": "Bäckerei Müller", "email": "kunde1002@example.com", "city": "Köln"},
		{"number": "1003", "name": "Søren & Co", "email": "kunde1003@example.com", "city": "Aarhus"},
		{"number": "1004", "name": "Dünen GmbH", "email": "kunde1004@example.com", "city": "Flensburg"},
		{"number": "2001", "name": "Neu Eins", "email": "neu1@example.com", "city": "Hamburg"},
		{"number": "2002", "name": "Neu Zwei", "email": "neu2@example.com", "city": "Bremen"},
		{"number": "2003", "name": "Schläfer", "email": "schlaefer@example.com", "city": "Husum", "active": false},
	} {
		crm.Add(c)
	}
	cfg := map[string]any{
		"base_url": crm.URL, "auth": map[string]any{"type": "api_key", "in": "header", "name": "X-API-Key"},
		"objects": map[string]any{"customers": map[string]any{
			"list_path": "/v1/customers", "records_path": "data", "id_field": "id", "updated_at_field": "updated_at", "active_field": "active",
			"pagination":     map[string]any{"type": "page", "page_param": "page", "size_param": "per_page", "size": 25},
			"create":         map[string]any{"method": "POST", "path": "/v1/customers"},
			"update":         map[string]any{"method": "PATCH", "path": "/v1/customers/{id}"},
			"delete":         map[string]any{"method": "DELETE", "path": "/v1/customers/{id}"},
			"create_id_path": "data.id",
		}},
	}
	s := newScenario(t, ts, "rest", cfg, map[string]any{"api_key": resttest.APIKey})
	pull := func() {
		r := ts.do("POST", "/v1/connections/"+s.other+"/objects/customers/pull", s.tok, map[string]any{})
		require.Equal(t, 200, r.Status, r.Text())
	}
	pull()
	s.expect("the first pull", want(1, 1, 2, 0, 0, 3, 1))

	// Set up a partner in the CRM: the CRM gives it a new id, which is linked.
	n := s.find("category=new&side=left", "left", "h5")
	require.Equal(t, 200, s.act(n["id"].(string), "create-counterpart", nil).Status)
	s.expect("create-counterpart", want(1, 0, 2, 0, 0, 4, 1))
	linked := s.find("category=synced", "left", "h5")
	newID := linked["right"].(map[string]any)["external_id"].(string)
	rec, ok := crm.Record(newID)
	require.True(t, ok, "the CRM has the created record under the id it gave")
	require.Equal(t, "Only Here", rec["name"])

	// Resolve the conflict with the hub's value: the write to the CRM fails
	// once with a 500, the item shows failed, then the retry succeeds.
	crm.Inject(resttest.Fault{Status: 500})
	c := s.items("category=conflict")[0]
	require.Equal(t, 200, s.act(c["id"].(string), "resolve", map[string]any{"winner": "left"}).Status)
	sawFailed := false
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !sawFailed {
		detail := ts.do("GET", s.base+"/items/"+c["id"].(string), s.tok, nil).JSON()
		sawFailed = detail["status"] == "failed"
		if detail["status"] == "ok" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, sawFailed, "the 500 showed the item as failed")
	s.expect("resolve after a retry", want(0, 0, 2, 0, 0, 5, 1))
	detail := ts.do("GET", s.base+"/items/"+c["id"].(string), s.tok, nil).JSON()
	require.Equal(t, "ok", detail["status"])
	for _, line := range crm.Log() {
		require.NotContains(t, line, resttest.APIKey)
	}
	got, _ := json.Marshal(crm.Log())
	require.Contains(t, string(got), "PATCH /v1/customers/")
}
