package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// cursor is the API's opaque cursor for a keyset position.
func cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// hey runs the load generator with 8 connections for d and reads its
// summary: requests per second, median and 99th percentile latency.
func hey(url, token string, d time.Duration) (rps, p50, p99 float64, err error) {
	out, err := exec.Command("hey", "-c", "8", "-z", d.String(), "-H", "Authorization: Bearer "+token, url).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("hey: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`\[(\d+)\]\s+(\d+) responses`).FindAllSubmatch(out, -1); len(m) != 1 || string(m[0][1]) != "200" {
		return 0, 0, 0, fmt.Errorf("not every answer was 200:\n%s", out)
	}
	num := func(re string) float64 {
		m := regexp.MustCompile(re).FindSubmatch(out)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	return num(`Requests/sec:\s+([\d.]+)`), num(`50%+ in ([\d.]+) secs`), num(`99%+ in ([\d.]+) secs`), nil
}

// serveBare is the baseline: echo answering a small JSON body, nothing else.
func serveBare(addr string) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/bare", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"data": []any{}, "next_cursor": nil})
	})
	return e.Start(addr)
}

// process is a started child process with its base URL.
type process struct {
	cmd   *exec.Cmd
	base  string
	token string
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startBare(ctx context.Context, self string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: exec.CommandContext(ctx, self, "-bare", addr), base: "http://" + addr}
	return p, p.start("/bare")
}

func startServer(ctx context.Context, bin, dbURL, dataDir string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: exec.CommandContext(ctx, bin, "serve"), base: "http://" + addr}
	p.cmd.Env = append(os.Environ(), "SYNCD_ADDR="+addr, "DATABASE_URL="+dbURL, "SYNCD_DATA_DIR="+dataDir,
		"SYNCD_LOG_LEVEL=warn", "SYNCD_RATE_LIMIT=0")
	if err := p.start("/readyz"); err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := p.call("POST", "/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, &tok); err != nil {
		p.stop()
		return nil, err
	}
	p.token = tok.AccessToken
	return p, nil
}

// start runs the process and waits until path answers 200.
func (p *process) start(path string) error {
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, os.Stderr
	if err := p.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(p.base + path); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
	}
	p.stop()
	return fmt.Errorf("%s did not answer %s", p.cmd.Path, path)
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
}

func (p *process) call(method, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, p.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(bufio.NewReader(res.Body))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s answered %d: %.300s", method, path, res.StatusCode, text)
	}
	if out != nil {
		return json.Unmarshal(text, out)
	}
	return nil
}

// bulkResolve resolves every conflict of the object with the left side's
// values in one bulk action and returns how long it took.
func (p *process) bulkResolve(syncID string) (time.Duration, int, error) {
	var res struct {
		Results []json.RawMessage `json:"results"`
	}
	start := time.Now()
	err := p.call("POST", "/v1/syncs/"+syncID+"/objects/customers/actions",
		map[string]any{"action": "resolve", "winner": "left", "filter": map[string]any{"category": "conflict"}}, &res)
	return time.Since(start), len(res.Results), err
}
