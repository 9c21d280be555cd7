package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // creates and drops the benchmark database
)

// server is a running syncd process.
type server struct {
	cmd   *exec.Cmd
	base  string
	token string
}

const (
	adminEmail    = "bench@example.com"
	adminPassword = "bench-password-1234"
)

// startServer starts syncd on a free port and logs in as the first admin.
func startServer(ctx context.Context, bin, dbURL, dataDir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(),
		"SYNCD_ADDR="+addr, "DATABASE_URL="+dbURL, "SYNCD_DATA_DIR="+dataDir,
		"SYNCD_ADMIN_EMAIL="+adminEmail, "SYNCD_ADMIN_PASSWORD="+adminPassword,
		"SYNCD_LOG_LEVEL=warn", "SYNCD_RATE_LIMIT=0",
	)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("syncd did not become ready at %s", s.base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := s.call("POST", "/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, 200, &tok); err != nil {
		s.stop()
		return nil, err
	}
	s.token = tok.AccessToken
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// call sends a JSON request and decodes the answer, which must have status want.
func (s *server) call(method, path string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s answered %d: %s", method, path, res.StatusCode, text)
	}
	if out != nil {
		return json.Unmarshal(text, out)
	}
	return nil
}

// createConnection makes the file connection the uploads go to.
func (s *server) createConnection() (string, error) {
	var c struct {
		ID string `json:"id"`
	}
	err := s.call("POST", "/v1/connections", map[string]any{
		"name": "ERP export", "kind": "file",
		"config": map[string]any{"objects": map[string]any{"customers": map[string]any{
			"id_column": "Kundennr", "active_column": "Aktiv", "updated_at_column": "Geändert",
		}}},
	}, 201, &c)
	return c.ID, err
}

// createSync pairs the file connection's customers with an empty hosted
// side, matched on the customer number, so every upload is categorised
// (within the upload's request) before it answers.
func (s *server) createSync(fileConn string) error {
	var hosted, sy struct {
		ID string `json:"id"`
	}
	err := s.call("POST", "/v1/connections", map[string]any{"name": "hub", "kind": "hosted",
		"config": map[string]any{"objects": map[string]any{"customers": map[string]any{}}}}, 201, &hosted)
	if err != nil {
		return err
	}
	return s.call("POST", "/v1/syncs", map[string]any{
		"name": "customers", "left_connection_id": hosted.ID, "right_connection_id": fileConn,
		"objects": []any{map[string]any{
			"name": "customers", "left_object": "customers", "right_object": "customers",
			"fields": []any{
				map[string]any{"left": "first_name", "right": "Vorname", "type": "string"},
				map[string]any{"left": "last_name", "right": "Nachname", "type": "string"},
				map[string]any{"left": "email", "right": "E-Mail", "type": "email"},
			},
			"match_keys": []any{map[string]any{"left": "email", "right": "E-Mail", "normalize": "email"}},
			"auto_pair":  true,
		}},
	}, 201, &sy)
}

// upload streams the file as a full upload and returns the time until the
// 201 and the answer's counts.
func (s *server) upload(conn, path string) (time.Duration, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("object", "customers")
		_ = mw.WriteField("mode", "full")
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", s.base+"/v1/connections/"+conn+"/uploads", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.token)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	took := time.Since(start)
	if res.StatusCode != 201 {
		return 0, "", fmt.Errorf("upload answered %d: %s", res.StatusCode, body)
	}
	var u struct{ Inserted, Updated, Unchanged, Deleted int }
	_ = json.Unmarshal(body, &u)
	return took, fmt.Sprintf("+%d ~%d =%d -%d", u.Inserted, u.Updated, u.Unchanged, u.Deleted), nil
}

// peakRSS reads the server's resident high-water mark in MiB.
func (s *server) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// createDatabase makes a fresh database next to the one base names and
// returns its URL and a function that drops it.
func createDatabase(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "syncd_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create benchmark database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// psqlCopy loads the file into a plain ten-column table with psql's \copy
// and returns how long the \copy took.
func psqlCopy(ctx context.Context, dbURL, path string) (time.Duration, error) {
	create := exec.CommandContext(ctx, "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qc",
		"CREATE TABLE bench_copy (kundennr text, vorname text, nachname text, strasse text, plz text, ort text, email text, telefon text, aktiv text, geaendert text)")
	if out, err := create.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("psql: %v: %s", err, out)
	}
	cp := exec.CommandContext(ctx, "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qc",
		fmt.Sprintf(`\copy bench_copy FROM '%s' WITH (FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')`, path))
	start := time.Now()
	if out, err := cp.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("psql \\copy: %v: %s", err, out)
	}
	return time.Since(start), nil
}
