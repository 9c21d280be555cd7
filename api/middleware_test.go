package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

func TestPanicIsA500WithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(log)
	e.Use(recoverer(log))
	e.GET("/boom", func(echo.Context) error { panic("secret internal state 0xdeadbeef") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	require.NotContains(t, rec.Body.String(), "deadbeef", "the client never sees internals")
	var p map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.EqualValues(t, 500, p["status"])
	require.Contains(t, logs.String(), "deadbeef", "the log keeps them")
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	e.Use(rateLimit(1, 2))
	e.GET("/v1/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	codes := map[int]int{}
	var last *httptest.ResponseRecorder
	for range 4 {
		last = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
		req.Header.Set("Authorization", "Bearer sk_same_caller")
		e.ServeHTTP(last, req)
		codes[last.Code]++
	}
	require.Equal(t, 2, codes[http.StatusNoContent], "the burst passes")
	require.Equal(t, 2, codes[http.StatusTooManyRequests])
	require.Equal(t, "1", last.Header().Get("Retry-After"))
	other := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
	req.Header.Set("Authorization", "Bearer sk_other_caller")
	e.ServeHTTP(other, req)
	require.Equal(t, http.StatusNoContent, other.Code, "callers are limited separately")
}
