package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/bench/syncdproc"
)

// cursor is the API's opaque cursor for a keyset position.
func cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// hey runs the load generator with 8 connections for d and reads its
// summary: requests per second, median and 99th percentile latency.
func hey(url, token string, d time.Duration) (rps, p50, p99 float64, err error) {
	bin, err := exec.LookPath("hey")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("hey is not installed: go install github.com/rakyll/hey@v0.1.4 (and put $(go env GOPATH)/bin on PATH)")
	}
	out, err := exec.Command(bin, "-c", "8", "-z", d.String(), "-H", "Authorization: Bearer "+token, url).CombinedOutput()
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

// startBare runs this program again as the bare echo server.
func startBare(ctx context.Context, self string) (*syncdproc.Process, error) {
	addr, err := syncdproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	return syncdproc.Start(exec.CommandContext(ctx, self, "-bare", addr), addr, "/bare")
}

// bulkResolve resolves every conflict of the object with the left side's
// values in one bulk action and returns how long it took.
func bulkResolve(p *syncdproc.Process, syncID string) (time.Duration, int, error) {
	var res struct {
		Results []json.RawMessage `json:"results"`
	}
	start := time.Now()
	err := p.Call("POST", "/v1/syncs/"+syncID+"/objects/customers/actions",
		map[string]any{"action": "resolve", "winner": "left", "filter": map[string]any{"category": "conflict"}}, http.StatusOK, &res)
	return time.Since(start), len(res.Results), err
}
