package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"syncd/api"
	"syncd/auth"
	"syncd/connector/outbound"
	"syncd/domain"
	"syncd/openapi"
	"syncd/store"
	"syncd/store/storetest"
	"syncd/worker"
)

// testServer is a real syncd HTTP server over a private store, with a client
// that checks every response against the OpenAPI document.
type testServer struct {
	t      *testing.T
	URL    string
	Store  *store.Store
	Tokens *auth.Tokens
	Logs   *bytes.Buffer
	Admin  session // the first workspace's admin, logged in
	dbURL  string
	deps   api.Deps
}

// replica starts another server on the same database, as a second replica
// of syncd would run (PostgreSQL only), and returns a testServer that
// sends to it.
func (ts *testServer) replica() *testServer {
	ts.t.Helper()
	d := ts.deps
	d.Store = storetest.Open(ts.t, ts.dbURL, storetest.KeyringSpec)
	e, err := api.NewServer(d)
	require.NoError(ts.t, err)
	hs := httptest.NewServer(e)
	ts.t.Cleanup(hs.Close)
	other := *ts
	other.URL, other.Store = hs.URL, d.Store.(*store.Store)
	return &other
}

type session struct {
	Email, Password   string
	Access, Refresh   string
	WorkspaceID, User string
}

const jwtKey = "test-signing-key-that-is-long-enough-0123456789"

var (
	specOnce   sync.Once
	specRouter routers.Router
)

func router(t *testing.T) routers.Router {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, err := loader.LoadFromData(openapi.YAML)
		require.NoError(t, err)
		require.NoError(t, spec.Validate(loader.Context))
		spec.Servers = nil
		specRouter, err = gorillamux.NewRouter(spec)
		require.NoError(t, err)
	})
	return specRouter
}

// fastArgon keeps tests quick; production uses auth.DefaultArgon2.
var fastArgon = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func newServer(t *testing.T, tweak ...func(*api.Deps)) *testServer {
	t.Helper()
	dbURL := storetest.NewURL(t)
	s := storetest.Open(t, dbURL, storetest.KeyringSpec)
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.ServeAlone())
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tokens := auth.NewTokens([]byte(jwtKey), 15*time.Minute)
	d := api.Deps{
		Store: s, Tokens: tokens, Passwords: auth.NewHasher(fastArgon, 4),
		Keys: auth.NewKeyHasher([]byte("pepper-pepper-pepper-pepper-pepper")), Logger: logger,
		Config: api.Config{Version: "test", BodyLimit: 64 << 10, RateLimit: 0, MassDeleteRatio: 0.5, WindowCache: 1 << 20},
	}
	for _, f := range tweak {
		f(&d)
	}
	// The worker applies queued operations and reconciles record changes
	// promptly, as in `syncd serve`; retries come quickly in tests.
	w := worker.New(s, worker.Options{RetryBase: 50 * time.Millisecond, Poll: 20 * time.Millisecond, CatchUp: 200 * time.Millisecond,
		Logger: logger, Outbound: outbound.Options{AllowPrivate: true, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond}})
	s.OnRecordsChanged(w.RecordsChanged)
	s.OnOperationsQueued(w.Wake)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	e, err := api.NewServer(d)
	require.NoError(t, err)
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, URL: hs.URL, Store: s, Tokens: tokens, Logs: logs, dbURL: dbURL, deps: d}
	ts.Admin = ts.newWorkspace("admin@example.com")
	return ts
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// newWorkspace creates a workspace with an admin and logs in as it.
func (ts *testServer) newWorkspace(email string) session {
	ts.t.Helper()
	h := auth.NewHasher(fastArgon, 1)
	pw := "password-of-" + email
	hash, err := h.Hash(context.Background(), pw)
	require.NoError(ts.t, err)
	w := &domain.Workspace{Name: "ws of " + email}
	u := &domain.User{Email: email, PasswordHash: hash}
	require.NoError(ts.t, ts.Store.CreateWorkspace(context.Background(), w, u))
	return ts.login(email, pw)
}

func (ts *testServer) login(email, password string) session {
	ts.t.Helper()
	r := ts.do("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password})
	require.Equal(ts.t, 200, r.Status, r.Text())
	var tp struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	r.decode(&tp)
	me := ts.do("GET", "/v1/me", tp.AccessToken, nil)
	require.Equal(ts.t, 200, me.Status, me.Text())
	return session{Email: email, Password: password, Access: tp.AccessToken, Refresh: tp.RefreshToken,
		WorkspaceID: me.JSON()["workspace_id"].(string), User: me.JSON()["id"].(string)}
}

// response is an HTTP answer already checked against the document.
type response struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) Text() string { return string(r.Body) }

func (r *response) decode(v any) {
	r.t.Helper()
	require.NoError(r.t, json.Unmarshal(r.Body, v), r.Text())
}

func (r *response) JSON() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.decode(&m)
	return m
}

// problem asserts a problem+json answer with the status and returns it.
func (r *response) problem(status int) map[string]any {
	r.t.Helper()
	require.Equal(r.t, status, r.Status, r.Text())
	require.Equal(r.t, "application/problem+json", r.Header.Get("Content-Type"))
	p := r.JSON()
	require.EqualValues(r.t, status, p["status"])
	require.NotEmpty(r.t, p["detail"])
	return p
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (ts *testServer) do(method, path, token string, body any, headers ...string) *response {
	ts.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(ts.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	require.NoError(ts.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return ts.send(req)
}

func (ts *testServer) send(req *http.Request) *response {
	ts.t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(ts.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(ts.t, err)
	r := &response{t: ts.t, Status: res.StatusCode, Header: res.Header, Body: b}
	checkAgainstSpec(ts.t, req, r)
	return r
}

// checkAgainstSpec validates a response (status, headers, body) against the
// operation the request matched in the OpenAPI document. Requests to routes
// the document does not have must be answered with a 404/405 problem.
func checkAgainstSpec(t *testing.T, req *http.Request, r *response) {
	t.Helper()
	probe := req.Clone(context.Background())
	probe.URL.Host, probe.URL.Scheme, probe.Host = "", "", ""
	route, params, err := router(t).FindRoute(probe)
	if err != nil {
		require.Contains(t, []int{404, 405}, r.Status, "a route outside the document answered %d", r.Status)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(r.Body)
	err = openapi3filter.ValidateResponse(context.Background(), in)
	require.NoError(t, err, "%s %s answered %d, which breaks the document:\n%s", req.Method, req.URL.Path, r.Status, r.Text())
}
