// Package syncdproc runs syncd as a separate process for the benchmarks
// under bench/: it builds the binary, starts it on a free port against a
// database, logs in as the first admin, calls the API, reads the process's
// peak memory, and makes and drops fresh PostgreSQL databases.
package syncdproc

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // creates and drops the benchmark databases
)

// The first admin every benchmark server has.
const (
	AdminEmail    = "bench@example.com"
	AdminPassword = "bench-password-1234"
)

// Build compiles ./cmd/syncd into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := dir + "/syncd"
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/syncd").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build syncd: %v\n%s", err, out)
	}
	return bin, nil
}

// Process is a started child process and the URL it serves.
type Process struct {
	Cmd   *exec.Cmd
	Base  string
	Token string // the admin's access token, for a syncd server
}

// FreeAddr is a loopback address nobody listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs cmd, which listens on addr, and waits until path answers 200.
func Start(cmd *exec.Cmd, addr, path string) (*Process, error) {
	p := &Process{Cmd: cmd, Base: "http://" + addr}
	p.Cmd.Stdout, p.Cmd.Stderr = io.Discard, os.Stderr
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(p.Base + path); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
	}
	p.Stop()
	return nil, fmt.Errorf("%s did not answer %s", cmd.Path, path)
}

// StartServer starts `syncd serve` on dbURL with rate limiting off, the
// first admin as above, and logs in; env adds or overrides settings.
func StartServer(ctx context.Context, bin, dbURL, dataDir string, env ...string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(),
		"SYNCD_ADDR="+addr, "DATABASE_URL="+dbURL, "SYNCD_DATA_DIR="+dataDir,
		"SYNCD_ADMIN_EMAIL="+AdminEmail, "SYNCD_ADMIN_PASSWORD="+AdminPassword,
		"SYNCD_LOG_LEVEL=warn", "SYNCD_RATE_LIMIT=0",
	)
	cmd.Env = append(cmd.Env, env...)
	p, err := Start(cmd, addr, "/readyz")
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := p.Call("POST", "/v1/auth/login", map[string]string{"email": AdminEmail, "password": AdminPassword}, http.StatusOK, &tok); err != nil {
		p.Stop()
		return nil, err
	}
	p.Token = tok.AccessToken
	return p, nil
}

// Stop interrupts the process, as SIGINT does, and waits for it.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-done
	}
}

// Call sends a JSON request as the admin and decodes the answer, which
// must have status want.
func (p *Process) Call(method, path string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, p.Base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s answered %d: %.300s", method, path, res.StatusCode, text)
	}
	if out != nil {
		return json.Unmarshal(text, out)
	}
	return nil
}

// PeakRSS reads the process's resident high-water mark in MiB.
func (p *Process) PeakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
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

// CPUTime is the processor time the process has used so far, in user and
// system mode, from /proc (0 where that cannot be read).
func (p *Process) CPUTime() time.Duration {
	return procCPU(p.Cmd.Process.Pid, false)
}

// PostgresCPU is the processor time every PostgreSQL process on this
// machine has used so far, the postmaster's exited children included (a
// psql session's backend ends with it), so that the difference over a step
// is what the database spent on it.
func PostgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/stat")
		if err != nil || !bytes.Contains(b, []byte("(postgres)")) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		total += procCPU(pid, true)
	}
	return total
}

// procCPU reads a process's user and system time from /proc and, with
// children, its waited-for children's too (0 where that cannot be read).
func procCPU(pid int, children bool) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command's name, in parentheses, may hold spaces: count from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 15 {
		return 0
	}
	fields := f[11:13] // utime, stime
	if children {
		fields = f[11:15] // and cutime, cstime
	}
	var ticks int64
	for _, v := range fields {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's times: 100 on
// every Linux platform Go builds for.
const clockTicks = 100

// FreshPostgres creates an empty database on the server base names and
// returns its URL and the function that drops it.
func FreshPostgres(ctx context.Context, base string) (string, func(), error) {
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
