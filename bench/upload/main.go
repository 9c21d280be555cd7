// Command upload measures file uploads end to end: it generates a customer
// CSV (ten columns, ";", Windows-1252, Danish and German names), starts the
// built syncd binary against a fresh PostgreSQL database and against
// SQLite, uploads the file through the HTTP API, re-uploads it with 1% of
// the rows changed, and loads the same file with psql's \copy into a plain
// table for comparison. It prints the times, the ratios to \copy and the
// server's peak resident memory (VmHWM). On PostgreSQL it then times psql
// loading the very rows syncd stored into empty copies of its tables: the
// floor under syncd's own time (see floor).
//
//	go run ./bench/upload -rows 1000000 -pg 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"syncd/bench/syncdproc"
)

// result is one measured step.
type result struct {
	db, step string
	rows     int
	took     time.Duration
	rssMiB   float64       // the server's peak resident memory so far; 0 for \copy
	cpu      time.Duration // the server's processor time in the step; 0 for \copy
	dbCPU    time.Duration // PostgreSQL's processor time in the step; 0 on SQLite
	stats    string
}

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the generated file")
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL to create the benchmark database from; empty skips PostgreSQL")
	sqlite := flag.Bool("sqlite", true, "also measure SQLite")
	bin := flag.String("syncd", "", "the syncd binary; built from ./cmd/syncd when empty")
	dir := flag.String("dir", "", "work folder for files and data; a temporary one when empty")
	withSync := flag.Bool("sync", false, "also keep a sync over the uploaded object, so each upload's time includes categorising its records in the sync window")
	flag.BoolVar(&withFloor, "floor", true, "on PostgreSQL, also time psql loading the rows syncd stored into empty copies of its tables (see floor)")
	flag.Parse()
	categorise = *withSync
	if err := run(*rows, *pg, *sqlite, *bin, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(rows int, pgURL string, sqlite bool, bin, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "syncd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if bin == "" {
		log.Printf("building syncd")
		b, err := syncdproc.Build(dir)
		if err != nil {
			return err
		}
		bin = b
	}
	first, changed := filepath.Join(dir, "kunden.csv"), filepath.Join(dir, "kunden-1pct.csv")
	start := time.Now()
	if err := generate(first, rows, 0); err != nil {
		return err
	}
	if err := generate(changed, rows, 100); err != nil {
		return err
	}
	info, _ := os.Stat(first)
	log.Printf("generated 2 files of %d rows (%.0f MB each) in %s", rows, float64(info.Size())/1e6, time.Since(start).Round(time.Millisecond))

	var results []result
	var copyTook time.Duration
	if pgURL != "" {
		dbURL, drop, err := syncdproc.FreshPostgres(ctx, pgURL)
		if err != nil {
			return err
		}
		defer drop()
		rs, err := measure(ctx, "postgres", bin, dbURL, filepath.Join(dir, "pg"), first, changed, rows)
		if err != nil {
			return err
		}
		results = append(results, rs...)
		r, err := psqlCopy(ctx, dbURL, first)
		if err != nil {
			return err
		}
		r.rows, copyTook = rows, r.took
		results = append(results, r)
		if withFloor {
			rs, err := floor(ctx, dbURL, dir)
			if err != nil {
				return err
			}
			results = append(results, rs...)
		}
	}
	if sqlite {
		data := filepath.Join(dir, "sqlite")
		rs, err := measure(ctx, "sqlite", bin, "sqlite:"+filepath.Join(data, "syncd.db"), data, first, changed, rows)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	report(results, copyTook, info.Size())
	return nil
}

// categorise makes measure set up a sync reading the uploaded object;
// withFloor makes run measure PostgreSQL's floor after the uploads.
var categorise, withFloor bool

// measure runs one server and times the first upload and the re-upload.
func measure(ctx context.Context, name, bin, dbURL, dataDir, first, changed string, rows int) ([]result, error) {
	p, err := syncdproc.StartServer(ctx, bin, dbURL, dataDir)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	srv := server{p}
	conn, err := srv.createConnection()
	if err != nil {
		return nil, err
	}
	if categorise {
		if err := srv.createSync(conn); err != nil {
			return nil, err
		}
	}
	var out []result
	for _, step := range []struct{ label, path string }{
		{"upload (first, all inserted)", first},
		{"re-upload, 1% of rows changed", changed},
		{"re-upload, unchanged", changed},
	} {
		log.Printf("%s: %s", name, step.label)
		cpu := srv.CPUTime()
		var stats string
		r, err := timed(name, step.label, func() (err error) {
			stats, err = srv.upload(conn, step.path)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", name, step.label, err)
		}
		r.rows, r.rssMiB, r.cpu, r.stats = rows, srv.PeakRSS(), srv.CPUTime()-cpu, stats
		if name != "postgres" {
			r.dbCPU = 0 // SQLite works in the server's process: its time is the server's
		}
		out = append(out, r)
	}
	return out, nil
}

// timed runs a step and returns its result with its wall time and the
// processor time PostgreSQL spent meanwhile.
func timed(db, step string, fn func() error) (result, error) {
	cpu, start := syncdproc.PostgresCPU(), time.Now()
	err := fn()
	return result{db: db, step: step, took: time.Since(start), dbCPU: syncdproc.PostgresCPU() - cpu}, err
}

// report prints the table; ratios are to the \copy time when there is one.
func report(results []result, copyTook time.Duration, size int64) {
	fmt.Printf("\nfile: %.0f MB, Windows-1252, \";\", 10 columns\n\n", float64(size)/1e6)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "database\tstep\trows\tseconds\tvs \\copy\trows/s\tserver CPU s\tPostgreSQL CPU s\tpeak RSS MiB\tresult")
	for _, r := range results {
		ratio := "-"
		if copyTook > 0 {
			ratio = fmt.Sprintf("%.2f×", r.took.Seconds()/copyTook.Seconds())
		}
		rss, cpu, dbCPU := "-", "-", "-"
		if r.rssMiB > 0 {
			rss, cpu = fmt.Sprintf("%.0f", r.rssMiB), fmt.Sprintf("%.2f", r.cpu.Seconds())
		}
		if r.dbCPU > 0 {
			dbCPU = fmt.Sprintf("%.2f", r.dbCPU.Seconds())
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%.2f\t%s\t%.0f\t%s\t%s\t%s\t%s\n", r.db, r.step, r.rows, r.took.Seconds(), ratio,
			float64(r.rows)/r.took.Seconds(), cpu, dbCPU, rss, r.stats)
	}
	w.Flush()
	// The re-uploads against the first upload of the same server and run.
	first := map[string]time.Duration{}
	for _, r := range results {
		switch {
		case r.step == "upload (first, all inserted)":
			first[r.db] = r.took
		case strings.HasPrefix(r.step, "re-upload") && first[r.db] > 0:
			fmt.Printf("%s: %s took %.2f× the first upload\n", r.db, r.step, r.took.Seconds()/first[r.db].Seconds())
		}
	}
}
