// Command window measures reading the sync window of an object with a
// million items: the first page and a page deep in the keyset cursor, each
// under `hey` with 8 connections for a fixed time, beside a bare echo
// handler measured in the same run as the baseline: once as served (window
// answers kept until the window changes) and once with that off, so every
// request reads the database. It also times a bulk
// resolve of the object's conflicts through the actions endpoint. It runs
// against a fresh PostgreSQL database and a fresh SQLite file.
//
//	go run ./bench/window -items 1000000 -conflicts 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"syncd/auth"
	"syncd/bench/syncdproc"
	"syncd/store"
)

func hashPassword(ctx context.Context, pw string) (string, error) {
	return auth.NewHasher(auth.DefaultArgon2, 1).Hash(ctx, pw)
}

func main() {
	items := flag.Int("items", 1_000_000, "items in the object")
	conflicts := flag.Int("conflicts", 100_000, "of which in conflict, resolved in bulk at the end")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server to create the benchmark database on; empty skips PostgreSQL")
	sqlite := flag.Bool("sqlite", true, "also measure SQLite")
	duration := flag.Duration("duration", 10*time.Second, "how long each load runs; 0 measures only the bulk resolve")
	bare := flag.String("bare", "", "internal: serve the bare echo baseline on this address")
	keep := flag.Bool("keep", false, "keep the PostgreSQL benchmark database and print its URL, to inspect its plans")
	flag.Parse()
	if *bare != "" {
		log.Fatal(serveBare(*bare))
	}
	if err := run(*items, *conflicts, *pg, *sqlite, *keep, *duration); err != nil {
		log.Fatal(err)
	}
}

func run(items, conflicts int, pgURL string, sqlite, keep bool, d time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "syncd-window-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := syncdproc.Build(dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dbs := map[string]string{}
	dropPG := func() {}
	if pgURL != "" {
		u, drop, err := syncdproc.FreshPostgres(ctx, pgURL)
		if err != nil {
			return err
		}
		if keep {
			log.Printf("keeping the PostgreSQL database: %s", u)
		} else {
			dropPG = sync.OnceFunc(drop)
			defer dropPG()
		}
		dbs["postgres"] = u
	}
	if sqlite {
		dbs["sqlite"] = "sqlite:" + filepath.Join(dir, "window.db")
	}
	for _, name := range []string{"postgres", "sqlite"} {
		url, ok := dbs[name]
		if !ok {
			continue
		}
		r, err := measure(ctx, name, url, bin, self, dir, items, conflicts, d)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}

		printRows(r) // each database as it finishes, in case a later one fails
		if name == "postgres" {
			// PostgreSQL goes on vacuuming the million new rows for minutes;
			// dropping its database now keeps that off the SQLite figures.
			dropPG()
		}
	}
	return nil
}

func printRows(rows []row) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "db\tload\treq/s\tp50 ms\tp99 ms\tthroughput vs bare echo")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.1f\t%s\n", r.db, r.load, r.rps, r.p50*1000, r.p99*1000, r.ratio)
	}
	tw.Flush()
}

// row is one measured load.
type row struct {
	db, load, ratio string
	rps, p50, p99   float64
}

func measure(ctx context.Context, db, url, bin, self, dir string, items, conflicts int, d time.Duration) ([]row, error) {
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	f, err := seed(ctx, s, items, conflicts)
	s.Close()
	if err != nil {
		return nil, err
	}
	log.Printf("%s: seeded %d items in %s", db, items, time.Since(start).Round(time.Millisecond))
	bare, err := startBare(ctx, self)
	if err != nil {
		return nil, err
	}
	defer bare.Stop()
	var out []row
	var base float64
	if d > 0 {
		rps, p50, p99, err := hey(bare.Base+"/bare", "", d)
		if err != nil {
			return nil, err
		}
		base = rps
		out = append(out, row{db: db, load: "bare echo", rps: rps, p50: p50, p99: p99, ratio: "1.00 (baseline)"})
	}
	// The server keeps window answers until the window changes, so the
	// loads below, which read one page over and over, are answered from
	// memory after their first request; a second server with that off
	// shows what each read costs the database.
	var took time.Duration
	var n int
	passes := []bool{true, false}
	if d <= 0 { // -duration 0: only the bulk resolve, on the second
		passes = passes[1:]
	}
	for _, kept := range passes {
		label, env := "", []string(nil)
		if !kept {
			label, env = " (not kept)", []string{"SYNCD_WINDOW_CACHE_MB=0"}
		}
		srv, err := syncdproc.StartServer(ctx, bin, url, filepath.Join(dir, db+"-data"), env...)
		if err != nil {
			return nil, err
		}
		window := srv.Base + "/v1/syncs/" + f.syncID + "/objects/customers/window?limit=50"
		loads := []struct{ name, url string }{
			{"window, first page", window},
			{"window, page at 90%", window + "&cursor=" + cursor(f.deepCursor)},
			{"window, conflicts only", window + "&category=conflict"},
			{"summary", srv.Base + "/v1/syncs/" + f.syncID + "/objects/customers/window/summary"},
		}
		if d <= 0 {
			loads = nil
		}
		for _, l := range loads {
			rps, p50, p99, err := hey(l.url, srv.Token, d)
			if err != nil {
				srv.Stop()
				return nil, err
			}
			out = append(out, row{db: db, load: l.name + label, rps: rps, p50: p50, p99: p99, ratio: fmt.Sprintf("%.2f", rps/base)})
		}
		if !kept {
			took, n, err = bulkResolve(srv, f.syncID)
		}
		srv.Stop()
		if err != nil {
			return nil, err
		}
	}
	out = append(out, row{db: db, load: fmt.Sprintf("bulk resolve of %d conflicts: %.1f s", n, took.Seconds()), ratio: "-"})
	return out, nil
}
