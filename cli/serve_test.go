package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/cli"
	"syncd/store"
	"syncd/store/storetest"
)

// syncBuffer is a buffer the server writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeDrainsInFlightRequestsOnShutdown starts `syncd serve` on the
// test database, begins an upload whose body trickles in, stops the server
// (as SIGTERM does) in the middle of it, and checks that the upload still
// completes and the command then returns cleanly.
func TestServeDrainsInFlightRequestsOnShutdown(t *testing.T) {
	env := map[string]string{
		"SYNCD_ADDR": "127.0.0.1:0", "DATABASE_URL": storetest.NewURL(t), "SYNCD_DATA_DIR": t.TempDir(),
		"SYNCD_ADMIN_EMAIL": "ops@example.com", "SYNCD_ADMIN_PASSWORD": "a long enough password",
		"SYNCD_LOG_LEVEL": "error", "SYNCD_SHUTDOWN_TIMEOUT": "20s",
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &out, io.Discard)
	}()

	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	require.NotEmpty(t, base, "the server printed its address:\n%s", out.String())
	require.Contains(t, out.String(), "ops@example.com", "and how to log in")

	call := func(method, path, token string, body any) map[string]any {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		require.Less(t, res.StatusCode, 300, "%s %s: %v", method, path, m)
		return m
	}
	token := call("POST", "/v1/auth/login", "", map[string]string{"email": "ops@example.com", "password": "a long enough password"})["access_token"].(string)
	conn := call("POST", "/v1/connections", token, map[string]any{"name": "erp", "kind": "file",
		"config": map[string]any{"objects": map[string]any{"customers": map[string]any{"id_column": "id"}}}})["id"].(string)

	// The upload's file arrives slowly: a row every 20 ms.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("object", "customers")
		_ = mw.WriteField("mode", "full")
		fw, _ := mw.CreateFormFile("file", "slow.csv")
		_, _ = io.WriteString(fw, "id;name\n")
		for i := range 50 {
			_, _ = fmt.Fprintf(fw, "%d;Kunde %d\n", i, i)
			time.Sleep(20 * time.Millisecond)
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/v1/connections/"+conn+"/uploads", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	answered := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("the in-flight upload failed: %v", err)
		}
		answered <- res
	}()
	time.Sleep(300 * time.Millisecond) // the upload is under way
	stop()                             // SIGTERM

	res := <-answered
	require.NotNil(t, res)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode, string(body))
	require.True(t, strings.Contains(string(body), `"rows":50`), string(body))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after draining")
	}
	_, err := http.Get(base + "/healthz")
	require.Error(t, err, "the server no longer listens")
}

// startServe runs `syncd serve` with env until the test ends and returns
// its address once it listens, or the error it stopped with.
func startServe(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &out, io.Discard)
	}()
	t.Cleanup(func() { stop(); <-done })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err // for the cleanup
			return "", err
		default:
		}
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			return m[1], nil
		}
	}
	t.Fatalf("the server neither listened nor stopped:\n%s", out.String())
	return "", nil
}

// A SQLite file has one server, which alone knows every change to the
// windows it keeps in memory; PostgreSQL has replicas.
func TestOneServerPerSQLiteFile(t *testing.T) {
	env := map[string]string{
		"SYNCD_ADDR": "127.0.0.1:0", "DATABASE_URL": storetest.NewURL(t), "SYNCD_DATA_DIR": t.TempDir(),
		"SYNCD_ADMIN_EMAIL": "ops@example.com", "SYNCD_ADMIN_PASSWORD": "a long enough password", "SYNCD_LOG_LEVEL": "error",
	}
	first, err := startServe(t, env)
	require.NoError(t, err)
	require.NotEmpty(t, first)
	second, err := startServe(t, env)
	if storetest.Dialect() == store.DialectPostgres {
		require.NoError(t, err, "replicas share PostgreSQL")
		require.NotEqual(t, first, second)
		return
	}
	require.ErrorContains(t, err, "another syncd server uses this SQLite database")
}
