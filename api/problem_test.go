package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProblems(t *testing.T) {
	ts := newServer(t)
	tok := ts.Admin.Access
	t.Run("malformed_json_is_400", func(t *testing.T) {
		ts.do("POST", "/v1/users", tok, `{"email": `).problem(400)
	})
	t.Run("unknown_field_and_invalid_values_name_each_field", func(t *testing.T) {
		p := ts.do("POST", "/v1/users", tok, map[string]any{"email": "x@example.com", "role": "god", "password": "short", "shoe_size": 44}).problem(422)
		errs := p["errors"].(map[string]any)
		require.Contains(t, errs, "role")
		require.Contains(t, errs, "password")
		require.Equal(t, "unknown field", errs["shoe_size"])
	})
	t.Run("invalid_email_is_422", func(t *testing.T) {
		p := ts.do("POST", "/v1/users", tok, map[string]any{"email": "not an email", "role": "viewer", "password": "long enough password"}).problem(422)
		require.Contains(t, p["errors"], "email")
	})
	t.Run("duplicate_email_is_422_and_stores_nothing", func(t *testing.T) {
		ts.do("POST", "/v1/users", tok, map[string]any{"email": ts.Admin.Email, "role": "viewer", "password": "long enough password"}).problem(422)
		require.Len(t, ts.do("GET", "/v1/users", tok, nil).JSON()["data"], 1)
	})
	t.Run("wrong_content_type_is_415", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/api-keys", strings.NewReader(`name=x`))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		ts.send(req).problem(415)
	})
	t.Run("oversized_body_is_413", func(t *testing.T) {
		big := `{"name":"` + strings.Repeat("x", 100<<10) + `","role":"viewer"}`
		ts.do("POST", "/v1/api-keys", tok, big).problem(413)
	})
	t.Run("unknown_route_is_404_problem", func(t *testing.T) {
		ts.do("GET", "/v1/nothing-here", tok, nil).problem(404)
	})
	t.Run("wrong_method_is_405_problem", func(t *testing.T) {
		ts.do("PUT", "/v1/me", tok, nil).problem(405)
	})
	t.Run("security_headers_are_set", func(t *testing.T) {
		r := ts.do("GET", "/v1/me", tok, nil)
		require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
		require.NotEmpty(t, r.Header.Get("X-Request-Id"))
		require.Contains(t, r.Header.Get("Content-Security-Policy"), "default-src 'none'")
	})
}

func TestIdempotencyKey(t *testing.T) {
	ts := newServer(t)
	body := map[string]string{"name": "once", "role": "viewer"}
	first := ts.do("POST", "/v1/api-keys", ts.Admin.Access, body, "Idempotency-Key", "abc-1")
	require.Equal(t, 201, first.Status)
	again := ts.do("POST", "/v1/api-keys", ts.Admin.Access, body, "Idempotency-Key", "abc-1")
	require.Equal(t, 201, again.Status)
	require.Equal(t, first.Text(), again.Text(), "the retry answers the first response")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Len(t, ts.do("GET", "/v1/api-keys", ts.Admin.Access, nil).JSON()["data"], 1, "and creates nothing twice")
	ts.do("POST", "/v1/users", ts.Admin.Access, map[string]string{"email": "n@example.com", "role": "viewer", "password": "long enough password"}, "Idempotency-Key", "abc-1").problem(422)
}

func TestOps(t *testing.T) {
	ts := newServer(t)
	require.Equal(t, 200, ts.do("GET", "/healthz", "", nil).Status)
	ready := ts.do("GET", "/readyz", "", nil)
	require.Equal(t, 200, ready.Status)
	require.Equal(t, "ok", ready.JSON()["status"])
	require.Contains(t, ts.do("GET", "/openapi.yaml", "", nil).Text(), "openapi: 3.0.3")
	require.Equal(t, "3.0.3", ts.do("GET", "/openapi.json", "", nil).JSON()["openapi"])
	ts.do("GET", "/v1/me", ts.Admin.Access, nil)
	m := ts.do("GET", "/metrics", "", nil)
	require.Contains(t, m.Text(), `url="/v1/me"`)
	require.Contains(t, m.Text(), "syncd_echo_request_duration_seconds")

	res, err := http.Get(ts.URL + "/docs/")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode, "Swagger UI loads")
	res, err = http.Get(ts.URL + "/docs/index.html")
	require.NoError(t, err)
	defer res.Body.Close()
	b := make([]byte, 1<<16)
	n, _ := res.Body.Read(b)
	require.Contains(t, string(b[:n]), "/openapi.json", "and points at the document")
}
