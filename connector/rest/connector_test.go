package rest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"syncd/connector/outbound"
	"syncd/connector/rest/resttest"
	"syncd/domain"
)

// testClient reaches the fake CRM on loopback and keeps retry waits short.
func testClient() *outbound.Client {
	return outbound.New(outbound.Options{
		AllowPrivate: true,
		Timeout:      2 * time.Second,
		RetryWaitMin: 5 * time.Millisecond,
		RetryWaitMax: 50 * time.Millisecond,
		RateLimit:    rate.Inf,
	})
}

// crmConfig describes the CRM's customers at one API version.
func crmConfig(crm *resttest.CRM, version string, pg Pagination, recordsPath string) Config {
	return Config{
		BaseURL: crm.URL,
		Objects: map[string]ObjectConfig{"customers": {
			ListPath:          "/" + version + "/customers",
			RecordsPath:       recordsPath,
			UpdatedAtField:    "updated_at",
			ActiveField:       "active",
			Pagination:        pg,
			UpdatedSinceParam: "updated_since",
			Create:            &Endpoint{Path: "/v1/customers"},
			Update:            &Endpoint{Path: "/v1/customers/{id}"},
			Delete:            &Endpoint{Path: "/v1/customers/{id}"},
			CreateIDPath:      "data.id",
		}},
	}
}

// v1 pages with page/per_page and asks for more than the CRM gives.
func v1(crm *resttest.CRM) Config {
	return crmConfig(crm, "v1", Pagination{Type: PageNumber, SizeParam: "per_page", Size: 100}, "data")
}

func newConnector(t *testing.T, cfg Config, creds Credentials) *Connector {
	t.Helper()
	c, err := New(cfg, creds, testClient())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func list(t *testing.T, c *Connector, scope domain.Scope) []domain.Record {
	t.Helper()
	var out []domain.Record
	err := c.List(t.Context(), "customers", scope, func(r domain.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return out
}

func ids(recs []domain.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ExternalID
	}
	return out
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func requireCode(t *testing.T, err error, code domain.Code) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	return de
}

func TestList_full_pull_through_every_paging_style(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(60)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"page_number", v1(crm)},
		{"offset_string_ids", crmConfig(crm, "v2", Pagination{Type: PageOffset, Size: 20}, "")},
		{"cursor_in_body", crmConfig(crm, "v3", Pagination{Type: PageCursor, CursorPath: "paging.next", Size: 25}, "results")},
		{"link_header_absolute", crmConfig(crm, "v4", Pagination{Type: PageLink, SizeParam: "per_page", Size: 25}, "")},
		{"link_header_relative_lines", crmConfig(crm, "v5", Pagination{Type: PageLink}, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, newConnector(t, tc.cfg, Credentials{}), domain.Scope{Type: domain.ScopeAll})
			if !slices.Equal(ids(got), seq(1, 60)) {
				t.Fatalf("ids = %v", ids(got))
			}
			r := got[6]
			if r.Fields["email"] != "customer007@example.com" || !r.Active || r.Deleted {
				t.Errorf("record 7 = %+v", r)
			}
			if r.SourceUpdatedAt == nil || !r.SourceUpdatedAt.Equal(crm.Now()) {
				t.Errorf("SourceUpdatedAt = %v, want %v", r.SourceUpdatedAt, crm.Now())
			}
		})
	}
}

func TestList_keeps_numbers_exact(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Add(map[string]any{"email": "a@example.com", "balance": 12.5, "visits": 3, "address": map[string]any{"zip": "10115"}})
	got := list(t, newConnector(t, v1(crm), Credentials{}), domain.Scope{})
	f := got[0].Fields
	if f["id"] != int64(1) || f["balance"] != 12.5 || f["visits"] != int64(3) {
		t.Errorf("fields = %#v", f)
	}
	if addr, ok := f["address"].(map[string]any); !ok || addr["zip"] != "10115" {
		t.Errorf("nested value not kept: %#v", f["address"])
	}
}

func TestList_survives_429_500_and_a_slow_answer(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(60)
	crm.Inject(
		resttest.Fault{Status: 429, RetryAfter: "1"},
		resttest.Fault{Status: 500},
		resttest.Fault{Delay: 5 * time.Second},
	)
	client := outbound.New(outbound.Options{
		AllowPrivate: true, Timeout: 300 * time.Millisecond, RateLimit: rate.Inf,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond,
	})
	c, err := New(v1(crm), Credentials{}, client)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := list(t, c, domain.Scope{})
	if !slices.Equal(ids(got), seq(1, 60)) {
		t.Fatalf("ids = %v", ids(got))
	}
	// 3 full pages (the CRM caps at 25) + the empty one, each fault retried once.
	if crm.Requests() != 4+3 {
		t.Errorf("requests = %d: %v", crm.Requests(), crm.Log())
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("took %s; the 429 asked for a 1 s pause", d)
	}
}

func TestList_changed_since(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(10)
	crm.Advance(time.Hour)
	crm.Touch("3", map[string]any{"name": "Renamed"})
	crm.Touch("7", map[string]any{"active": false})
	since := crm.Now().Add(-30 * time.Minute)

	for _, tc := range []struct {
		name      string
		param     string
		format    string
		wantQuery string
	}{
		{"server_filters_rfc3339", "updated_since", "", "updated_since=2026-01-01T00%3A30%3A00Z"},
		{"server_filters_unix", "updated_since", "unix", "updated_since=1767227400"},
		// Without a parameter every record comes back; updated_at filters.
		{"client_filters", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := v1(crm)
			o := cfg.Objects["customers"]
			o.UpdatedSinceParam, o.UpdatedSinceFormat = tc.param, tc.format
			cfg.Objects["customers"] = o
			before := len(crm.Log())

			got := list(t, newConnector(t, cfg, Credentials{}), domain.Scope{Type: domain.ScopeChangedSince, Since: since})
			if !slices.Equal(ids(got), []string{"3", "7"}) {
				t.Fatalf("ids = %v", ids(got))
			}
			if got[0].Fields["name"] != "Renamed" || got[1].Active {
				t.Errorf("records = %+v", got)
			}
			first := crm.Log()[before]
			if tc.wantQuery != "" && !strings.Contains(first, tc.wantQuery) {
				t.Errorf("request %q lacks %q", first, tc.wantQuery)
			}
		})
	}
}

func TestList_range_is_numeric_when_both_ends_are(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(30)
	c := newConnector(t, v1(crm), Credentials{})

	got := list(t, c, domain.Scope{Type: domain.ScopeRange, From: "5", To: "12"})
	if !slices.Equal(ids(got), seq(5, 12)) {
		t.Errorf("5..12 = %v", ids(got))
	}
	got = list(t, c, domain.Scope{Type: domain.ScopeRange, From: "28"})
	if !slices.Equal(ids(got), seq(28, 30)) {
		t.Errorf("28.. = %v", ids(got))
	}
}

func TestList_refuses_to_loop(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(5)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"page_param_ignored", crmConfig(crm, "v6", Pagination{Type: PageNumber}, "data"), "does not advance"},
		{"cursor_repeats", crmConfig(crm, "v7", Pagination{Type: PageCursor, CursorPath: "paging.next"}, "results"), "loops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newConnector(t, tc.cfg, Credentials{}).List(t.Context(), "customers", domain.Scope{}, func(domain.Record) error { return nil })
			de := requireCode(t, err, domain.CodeInvalid)
			if !strings.Contains(de.Message, tc.want) {
				t.Errorf("message = %q", de.Message)
			}
		})
	}
}

func TestList_wrong_records_path_is_an_error_not_an_empty_listing(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(3)
	cfg := crmConfig(crm, "v1", Pagination{Type: PageNumber}, "items")
	err := newConnector(t, cfg, Credentials{}).List(t.Context(), "customers", domain.Scope{}, func(domain.Record) error { return nil })
	requireCode(t, err, domain.CodeInvalid)
}

func TestList_stops_when_fn_fails(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(60)
	stop := errors.New("stop")
	n := 0
	err := newConnector(t, v1(crm), Credentials{}).List(t.Context(), "customers", domain.Scope{}, func(domain.Record) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 || crm.Requests() != 1 {
		t.Errorf("err=%v n=%d requests=%d", err, n, crm.Requests())
	}
}

func TestCreate_returns_the_new_id(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(3)
	for _, tc := range []struct {
		name   string
		edit   func(*ObjectConfig)
		wantID string
	}{
		{"from_create_id_path", func(*ObjectConfig) {}, "4"},
		{"from_location_header", func(o *ObjectConfig) { o.CreateIDPath = "" }, "5"},
		{"wrapped_under_body_path", func(o *ObjectConfig) { o.BodyPath = "data" }, "6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := v1(crm)
			o := cfg.Objects["customers"]
			tc.edit(&o)
			cfg.Objects["customers"] = o
			email := tc.name + "@example.com"

			id, err := newConnector(t, cfg, Credentials{}).Create(t.Context(), "customers", "", domain.Fields{"name": "New", "email": email})
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID {
				t.Errorf("id = %q, want %q", id, tc.wantID)
			}
			if rec, ok := crm.Record(id); !ok || rec["email"] != email {
				t.Errorf("CRM holds %v", rec)
			}
		})
	}
}

func TestCreate_refused_by_the_target_is_a_conflict(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(1)
	c := newConnector(t, v1(crm), Credentials{})

	_, err := c.Create(t.Context(), "customers", "", domain.Fields{"name": "No email"})
	if de := requireCode(t, err, domain.CodeConflict); !strings.Contains(de.Message, "email is required") {
		t.Errorf("message = %q", de.Message)
	}
	_, err = c.Create(t.Context(), "customers", "", domain.Fields{"email": "customer001@example.com"})
	requireCode(t, err, domain.CodeConflict)
	if crm.Len() != 1 {
		t.Errorf("CRM has %d customers", crm.Len())
	}
}

func TestUpdate_and_delete(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(2)
	c := newConnector(t, v1(crm), Credentials{})
	ctx := t.Context()

	if err := c.Update(ctx, "customers", "2", domain.Fields{"name": "Grace"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := crm.Record("2"); rec["name"] != "Grace" || rec["email"] != "customer002@example.com" {
		t.Errorf("after PATCH: %v", rec)
	}
	requireCode(t, c.Update(ctx, "customers", "99", domain.Fields{"name": "x"}), domain.CodeNotFound)

	if err := c.Delete(ctx, "customers", "2"); err != nil {
		t.Fatal(err)
	}
	if _, ok := crm.Record("2"); ok {
		t.Error("record 2 still exists")
	}
	if err := c.Delete(ctx, "customers", "2"); err != nil {
		t.Errorf("deleting a record already gone: %v", err)
	}
}

func TestWrites_without_an_endpoint_are_refused(t *testing.T) {
	crm := resttest.NewCRM(t)
	cfg := v1(crm)
	o := cfg.Objects["customers"]
	o.Create, o.Update, o.Delete = nil, nil, nil
	cfg.Objects["customers"] = o
	c := newConnector(t, cfg, Credentials{})

	_, err := c.Create(t.Context(), "customers", "", domain.Fields{"email": "a@example.com"})
	requireCode(t, err, domain.CodeConflict)
	requireCode(t, c.Delete(t.Context(), "customers", "1"), domain.CodeConflict)
	if crm.Requests() != 0 {
		t.Errorf("requests = %d", crm.Requests())
	}
}

// authCases pairs each CRM auth mode with the connection settings for it.
var authCases = []struct {
	name  string
	mode  resttest.AuthMode
	auth  AuthConfig
	creds Credentials
}{
	{"api_key_header", resttest.AuthAPIKeyHeader, AuthConfig{Type: AuthAPIKey}, Credentials{APIKey: resttest.APIKey}},
	{"api_key_query", resttest.AuthAPIKeyQuery, AuthConfig{Type: AuthAPIKey, In: AuthInQuery}, Credentials{APIKey: resttest.APIKey}},
	{"bearer", resttest.AuthBearer, AuthConfig{Type: AuthBearer}, Credentials{Token: resttest.Token}},
	{"basic", resttest.AuthBasic, AuthConfig{Type: AuthBasic}, Credentials{Username: resttest.Username, Password: resttest.Password}},
	{"oauth2_basic_client_auth", resttest.AuthOAuth2, AuthConfig{Type: AuthOAuth2}, Credentials{ClientID: resttest.ClientID, ClientSecret: resttest.ClientSecret, TokenURL: "/oauth/token"}},
	{"oauth2_body_client_auth", resttest.AuthOAuth2, AuthConfig{Type: AuthOAuth2, ClientAuth: ClientAuthBody}, Credentials{ClientID: resttest.ClientID, ClientSecret: resttest.ClientSecret, TokenURL: "/oauth/token"}},
}

func withAuth(crm *resttest.CRM, cfg Config, auth AuthConfig, creds Credentials) (Config, Credentials) {
	cfg.Auth = auth
	if creds.TokenURL != "" {
		creds.TokenURL = crm.URL + creds.TokenURL
	}
	return cfg, creds
}

func TestAuth_every_kind(t *testing.T) {
	for _, tc := range authCases {
		t.Run(tc.name, func(t *testing.T) {
			crm := resttest.NewCRM(t)
			crm.Seed(3)
			crm.UseAuth(tc.mode)
			cfg, creds := withAuth(crm, v1(crm), tc.auth, tc.creds)
			c := newConnector(t, cfg, creds)

			if got := list(t, c, domain.Scope{}); len(got) != 3 {
				t.Errorf("listed %d records", len(got))
			}
			if _, err := c.Create(t.Context(), "customers", "", domain.Fields{"email": "new@example.com"}); err != nil {
				t.Errorf("Create: %v", err)
			}
		})
	}
}

func TestAuth_failures_never_show_secrets(t *testing.T) {
	secrets := []string{resttest.APIKey, resttest.Token, resttest.Password, resttest.ClientSecret, "wrong-s3cret-value"}
	for _, tc := range authCases {
		t.Run(tc.name, func(t *testing.T) {
			crm := resttest.NewCRM(t)
			crm.Seed(1)
			crm.UseAuth(tc.mode)
			creds := tc.creds
			// Right secrets, but the API fails; then wrong secrets.
			cfg, creds := withAuth(crm, v1(crm), tc.auth, creds)
			crm.Inject(resttest.Fault{Status: 500}, resttest.Fault{Status: 500}, resttest.Fault{Status: 500}, resttest.Fault{Status: 500}, resttest.Fault{Status: 500})
			err1 := newConnector(t, cfg, creds).List(t.Context(), "customers", domain.Scope{}, func(domain.Record) error { return nil })

			wrong := creds
			for _, p := range []*string{&wrong.APIKey, &wrong.Token, &wrong.Password, &wrong.ClientSecret} {
				if *p != "" {
					*p = "wrong-s3cret-value"
				}
			}
			err2 := newConnector(t, cfg, wrong).Test(t.Context())

			for _, err := range []error{err1, err2} {
				requireCode(t, err, domain.CodeUnavailable)
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error shows %q: %s", s, err)
					}
				}
			}
		})
	}
}

func TestOAuth2_token_is_cached_and_refreshed(t *testing.T) {
	setup := func(t *testing.T) (*resttest.CRM, *Connector) {
		crm := resttest.NewCRM(t)
		crm.Seed(3)
		crm.UseAuth(resttest.AuthOAuth2)
		cfg, creds := withAuth(crm, v1(crm), authCases[4].auth, authCases[4].creds)
		return crm, newConnector(t, cfg, creds)
	}

	t.Run("one_token_for_many_calls", func(t *testing.T) {
		crm, c := setup(t)
		list(t, c, domain.Scope{})
		list(t, c, domain.Scope{})
		if crm.TokenRequests() != 1 {
			t.Errorf("token requests = %d", crm.TokenRequests())
		}
	})

	t.Run("expired_token_rejected_then_refreshed", func(t *testing.T) {
		crm, c := setup(t)
		list(t, c, domain.Scope{})
		crm.Advance(2 * time.Hour) // the CRM now rejects the cached token with 401
		if got := list(t, c, domain.Scope{}); len(got) != 3 {
			t.Fatalf("listed %d", len(got))
		}
		if crm.TokenRequests() != 2 {
			t.Errorf("token requests = %d", crm.TokenRequests())
		}
	})

	t.Run("renewed_shortly_before_expires_in", func(t *testing.T) {
		crm, c := setup(t)
		crm.SetTokenTTL(60 * time.Second)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c.tokens.now = func() time.Time { return now }
		list(t, c, domain.Scope{})
		now = now.Add(45 * time.Second)
		list(t, c, domain.Scope{})
		if crm.TokenRequests() != 1 {
			t.Errorf("token requests after 45 s = %d", crm.TokenRequests())
		}
		now = now.Add(5 * time.Second) // within the last fifth of 60 s
		requests := crm.Requests()
		list(t, c, domain.Scope{})
		if crm.TokenRequests() != 2 || crm.Requests()-requests != 2 {
			t.Errorf("token requests = %d, API requests = %d (no 401 expected)", crm.TokenRequests(), crm.Requests()-requests)
		}
	})

	t.Run("refreshes_once_then_gives_up", func(t *testing.T) {
		crm, c := setup(t)
		crm.UseAuth(resttest.AuthBearer) // no OAuth2 token is ever accepted
		err := c.Test(t.Context())
		requireCode(t, err, domain.CodeUnavailable)
		if crm.TokenRequests() != 2 || crm.Requests() != 2 {
			t.Errorf("token requests = %d, API requests = %d", crm.TokenRequests(), crm.Requests())
		}
	})

	t.Run("concurrent_callers_share_one_fetch", func(t *testing.T) {
		crm, c := setup(t)
		errs := make(chan error, 8)
		for range 8 {
			go func() { errs <- c.Test(context.Background()) }()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if crm.TokenRequests() != 1 {
			t.Errorf("token requests = %d", crm.TokenRequests())
		}
	})
}

func TestPrivate_target_refused_when_not_allowed(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(1)
	c, err := New(v1(crm), Credentials{}, outbound.New(outbound.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Test(t.Context())
	if de := requireCode(t, err, domain.CodeUnavailable); !strings.Contains(de.Message, "SYNCD_ALLOW_PRIVATE_TARGETS") {
		t.Errorf("message = %q", de.Message)
	}
	if !errors.Is(err, outbound.ErrBlocked) || crm.Requests() != 0 {
		t.Errorf("blocked=%v requests=%d", errors.Is(err, outbound.ErrBlocked), crm.Requests())
	}
}

func TestTest_uses_the_probe_or_the_first_page(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(30)
	crm.UseAuth(resttest.AuthBearer)

	cfg := v1(crm)
	cfg.Auth = AuthConfig{Type: AuthBearer}
	cfg.Probe = &Endpoint{Path: "/v1/ping"}
	if err := newConnector(t, cfg, Credentials{Token: resttest.Token}).Test(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg.Probe = nil
	if err := newConnector(t, cfg, Credentials{Token: resttest.Token}).Test(t.Context()); err != nil {
		t.Fatal(err)
	}
	if log := crm.Log(); len(log) != 2 || log[0] != "GET /v1/ping" || !strings.HasPrefix(log[1], "GET /v1/customers?") {
		t.Errorf("log = %v", log)
	}
	requireCode(t, newConnector(t, cfg, Credentials{Token: "nope"}).Test(t.Context()), domain.CodeUnavailable)
}

// An empty endpoint enables the write with the default method and path:
// POST list_path, PATCH and DELETE list_path/{id}.
func TestWrites_with_empty_endpoints_take_the_defaults(t *testing.T) {
	crm := resttest.NewCRM(t)
	crm.Seed(2)
	cfg := v1(crm)
	o := cfg.Objects["customers"]
	o.Create, o.Update, o.Delete = &Endpoint{}, &Endpoint{}, &Endpoint{}
	cfg.Objects["customers"] = o
	c := newConnector(t, cfg, Credentials{})
	ctx := t.Context()

	id, err := c.Create(ctx, "customers", "", domain.Fields{"name": "Ada", "email": "ada@example.com"})
	if err != nil || id == "" {
		t.Fatalf("create: %q, %v", id, err)
	}
	if err := c.Update(ctx, "customers", "2", domain.Fields{"name": "Grace"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := crm.Record("2"); rec["name"] != "Grace" {
		t.Errorf("after PATCH: %v", rec)
	}
	if err := c.Delete(ctx, "customers", "1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := crm.Record("1"); ok {
		t.Error("record 1 still exists")
	}
	var methods []string
	for _, line := range crm.Log() {
		methods = append(methods, strings.Fields(line)[0]+" "+strings.Fields(line)[1])
	}
	if !slices.Contains(methods, "POST /v1/customers") || !slices.Contains(methods, "PATCH /v1/customers/2") || !slices.Contains(methods, "DELETE /v1/customers/1") {
		t.Errorf("requests: %v", methods)
	}
}
