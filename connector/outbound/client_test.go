package outbound

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"syncd/domain"
)

// testOptions allow loopback targets and keep waits short.
func testOptions() Options {
	return Options{
		AllowPrivate: true,
		Timeout:      2 * time.Second,
		MaxRetries:   3,
		RetryWaitMin: 5 * time.Millisecond,
		RetryWaitMax: 20 * time.Millisecond,
		RateLimit:    rate.Inf,
	}
}

// server answers with the statuses in order (the last one repeats) and
// counts the requests it receives.
func server(t *testing.T, hits *atomic.Int32, answer func(n int32, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(hits.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func requireCode(t *testing.T, err error, code domain.Code) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if de.Code != code {
		t.Fatalf("code = %s, want %s (%v)", de.Code, code, err)
	}
	return de
}

func TestDo_retries_429_after_retry_after(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(n int32, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	c := New(testOptions())

	start := time.Now()
	resp, err := c.Do(t.Context(), Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 950*time.Millisecond {
		t.Errorf("retried after %s, want Retry-After's 1s", waited)
	}
	if hits.Load() != 2 || resp.Status != 200 || string(resp.Body) != `{"ok":true}` {
		t.Errorf("hits=%d status=%d body=%q", hits.Load(), resp.Status, resp.Body)
	}
}

func TestDo_retry_after_longer_than_cap_gives_up(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c := New(testOptions())

	resp, err := c.Do(t.Context(), Request{URL: srv.URL})
	de := requireCode(t, err, domain.CodeUnavailable)
	if de.RetryAfter != 3600 || hits.Load() != 1 || resp == nil || resp.Status != 429 {
		t.Errorf("RetryAfter=%d hits=%d resp=%v", de.RetryAfter, hits.Load(), resp)
	}
}

func TestDo_retries_5xx_with_the_same_body(t *testing.T) {
	var hits atomic.Int32
	var mu sync.Mutex
	var bodies []string
	srv := server(t, &hits, func(n int32, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	c := New(testOptions())

	resp, err := c.Do(t.Context(), Request{Method: "PUT", URL: srv.URL, Body: []byte(`{"name":"Ada"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || hits.Load() != 3 {
		t.Fatalf("status=%d hits=%d", resp.Status, hits.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	for i, b := range bodies {
		if b != `{"name":"Ada"}` {
			t.Errorf("attempt %d sent body %q", i+1, b)
		}
	}
}

func TestDo_gives_up_after_max_retries_with_status_and_excerpt(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream   down\n"+strings.Repeat("x", 1000))
	})
	c := New(testOptions())

	resp, err := c.Do(t.Context(), Request{URL: srv.URL + "/customers"})
	de := requireCode(t, err, domain.CodeUnavailable)
	if hits.Load() != 4 {
		t.Errorf("hits = %d, want 1 + 3 retries", hits.Load())
	}
	for _, want := range []string{"GET " + srv.URL + "/customers", "502 Bad Gateway", "after 4 attempts", "upstream down x"} {
		if !strings.Contains(de.Message, want) {
			t.Errorf("message %q lacks %q", de.Message, want)
		}
	}
	if _, ex, _ := strings.Cut(de.Message, "attempts: "); len(ex) > excerptBytes+len("…") {
		t.Errorf("excerpt is %d bytes, want at most %d", len(ex), excerptBytes)
	}
	if resp == nil || resp.Status != 502 || de.Details["remote_status"] != 502 {
		t.Errorf("resp=%v details=%v", resp, de.Details)
	}
}

func TestDo_does_not_retry_4xx(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	resp, err := New(testOptions()).Do(t.Context(), Request{URL: srv.URL})
	requireCode(t, err, domain.CodeUnavailable)
	if hits.Load() != 1 || resp.Status != 404 {
		t.Errorf("hits=%d status=%d", hits.Load(), resp.Status)
	}
}

func TestDo_post_is_not_repeated_after_5xx_unless_idempotent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		idempotent bool
		wantHits   int32
	}{
		{"plain_post_once", false, 1},
		{"idempotent_post_retried", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := server(t, &hits, func(n int32, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusCreated)
			})
			_, _ = New(testOptions()).Do(t.Context(), Request{Method: "POST", URL: srv.URL, Body: []byte("{}"), Idempotent: tc.idempotent})
			if hits.Load() != tc.wantHits {
				t.Errorf("hits = %d, want %d", hits.Load(), tc.wantHits)
			}
		})
	}
}

func TestDo_times_out_a_slow_target(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	o := testOptions()
	o.Timeout = 100 * time.Millisecond
	o.MaxRetries = 1

	start := time.Now()
	_, err := New(o).Do(t.Context(), Request{URL: srv.URL})
	de := requireCode(t, err, domain.CodeUnavailable)
	if !strings.Contains(de.Message, "no answer within 100ms (after 2 attempts)") {
		t.Errorf("message = %q", de.Message)
	}
	if hits.Load() != 2 || time.Since(start) > 2*time.Second {
		t.Errorf("hits=%d after %s", hits.Load(), time.Since(start))
	}
}

func TestDo_refuses_private_targets(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {})
	o := testOptions()
	o.AllowPrivate = false
	o.RetryWaitMin, o.RetryWaitMax = time.Second, time.Second // a retry would show in the duration
	c := New(o)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	for _, tc := range []struct{ name, url, want string }{
		{"ip_literal", srv.URL + "/x", "outbound target 127.0.0.1 is a private or loopback address; set SYNCD_ALLOW_PRIVATE_TARGETS=true to allow it"},
		// A name is checked after it resolves, in the dialer.
		{"name_resolving_to_loopback", "http://localhost:" + port + "/x", "is a private or loopback address"},
		{"ipv6_loopback", "http://[::1]:" + port + "/x", "outbound target ::1 is a private or loopback address"},
		{"private_network", "http://10.1.2.3/x", "outbound target 10.1.2.3 is a private"},
		{"metadata_service", "http://169.254.169.254/latest/meta-data", "outbound target 169.254.169.254 is a private"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := c.Do(t.Context(), Request{URL: tc.url})
			de := requireCode(t, err, domain.CodeUnavailable)
			if !strings.Contains(de.Message, tc.want) {
				t.Errorf("message = %q, want it to contain %q", de.Message, tc.want)
			}
			if !errors.Is(err, ErrBlocked) {
				t.Errorf("errors.Is(err, ErrBlocked) = false")
			}
			if time.Since(start) > 500*time.Millisecond {
				t.Errorf("took %s: a refusal must not be retried", time.Since(start))
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the server received %d requests", hits.Load())
	}
}

func TestCheckURL(t *testing.T) {
	c := New(Options{})
	for _, tc := range []struct {
		url  string
		want string // "" = allowed
	}{
		{"https://api.example.com/v1", ""},
		{"http://93.184.216.34:8443/", ""},
		{"http://93.184.216.34:9000/", "port 9000 is not allowed; public targets may use ports 80, 443, 8080 and 8443"},
		{"https://[2606:4700::1111]:8080/", ""},
		{"http://192.168.1.10/", "192.168.1.10 is a private or loopback address"},
		{"http://[::ffff:127.0.0.1]/", "127.0.0.1 is a private or loopback address"},
		{"ftp://files.example.com/", `scheme "ftp" is not allowed`},
		{"file:///etc/passwd", `scheme "file" is not allowed`},
		{"/relative/path", "must be absolute"},
		{"https://admin:hunter2@api.example.com/", "must not contain a user name or password"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := c.CheckURL(tc.url)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			de := requireCode(t, err, domain.CodeInvalid)
			if !strings.Contains(de.Message, tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("message = %q, want %q", de.Message, tc.want)
			}
		})
	}
}

func TestDo_keeps_secrets_out_of_errors(t *testing.T) {
	const (
		apiKey = "s3cr3t-KEY+/="
		token  = "tok-ABC-123"
		pass   = "correct horse"
	)
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"bad key `+apiKey+`","access_token":"`+token+`","password":"`+pass+`","hint":"client_secret=abc123"}`)
	})
	c := New(testOptions())
	c.Redact(apiKey, pass)

	raw := srv.URL + "/customers?page=2&api_key=" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(apiKey) + "&access_token=" + token
	_, err := c.Do(t.Context(), Request{URL: raw, Header: http.Header{"Authorization": {"Bearer " + token}}, Redact: []string{token}})
	requireCode(t, err, domain.CodeUnavailable)
	msg := err.Error()
	for _, secret := range []string{apiKey, "s3cr3t", token, pass, "abc123"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error reveals %q: %s", secret, msg)
		}
	}
	for _, want := range []string{"page=2", "api_key=***", "access_token=***", "401"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}

	// A transport error quotes the URL too; it must be redacted as well.
	srv.Close()
	_, err = c.Do(t.Context(), Request{URL: raw})
	requireCode(t, err, domain.CodeUnavailable)
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), token) {
		t.Errorf("transport error reveals a secret: %s", err)
	}
}

func TestDo_rate_limits_every_attempt(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {})
	o := testOptions()
	o.RateLimit, o.Burst = 20, 1 // one request every 50 ms
	c := New(o)

	start := time.Now()
	for range 5 {
		if _, err := c.Do(t.Context(), Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("5 requests at 20/s took %s, want at least 200ms", d)
	}

	// A caller whose deadline comes before its turn is not kept waiting.
	o.RateLimit = rate.Every(time.Hour)
	slow := New(o)
	_, _ = slow.Do(t.Context(), Request{URL: srv.URL})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := slow.Do(ctx, Request{URL: srv.URL})
	de := requireCode(t, err, domain.CodeUnavailable)
	if !strings.Contains(de.Message, "rate limit") || time.Since(start) > time.Second {
		t.Errorf("after %s: %v", time.Since(start), err)
	}
}

func TestDo_caps_the_response_body(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), 1000))
	})
	o := testOptions()
	o.MaxResponseBytes = 100
	_, err := New(o).Do(t.Context(), Request{URL: srv.URL})
	de := requireCode(t, err, domain.CodeUnavailable)
	if !strings.Contains(de.Message, "larger than 100 bytes") {
		t.Errorf("message = %q", de.Message)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:30 GMT", 30 * time.Second, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"99999999999999", maxRetryAfterSeconds * time.Second, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDo_logs_retries_without_secrets(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, _ *http.Request) {})
	url := srv.URL + "/x?api_key=k-9f8e7d&page=1"
	srv.Close() // every attempt now fails to connect

	var logs bytes.Buffer
	o := testOptions()
	o.MaxRetries = 1
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := New(o)
	c.Redact("k-9f8e7d")

	_, err := c.Do(t.Context(), Request{URL: url})
	requireCode(t, err, domain.CodeUnavailable)
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("no retry logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "k-9f8e7d") || strings.Contains(err.Error(), "k-9f8e7d") {
		t.Errorf("secret leaked:\nlog: %s\nerr: %v", logs.String(), err)
	}
}

func TestDo_follows_redirects_only_on_the_same_host(t *testing.T) {
	var elsewhere atomic.Int32
	other := server(t, &elsewhere, func(_ int32, w http.ResponseWriter, _ *http.Request) {})
	var hits atomic.Int32
	srv := server(t, &hits, func(_ int32, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	})
	c := New(testOptions())

	resp, err := c.Do(t.Context(), Request{URL: srv.URL + "/moved"})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("same-host redirect: %v", err)
	}
	_, err = c.Do(t.Context(), Request{URL: srv.URL + "/away", Header: http.Header{"X-Api-Key": {"k"}}})
	de := requireCode(t, err, domain.CodeUnavailable)
	if !strings.Contains(de.Message, "redirected to another host") || elsewhere.Load() != 0 {
		t.Errorf("message = %q, other host hit %d times", de.Message, elsewhere.Load())
	}
}
