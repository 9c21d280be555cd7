package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// floorTables are syncd's tables an upload fills: the hub's copy of the
// side and, when a sync reads it, the window's items and their match keys.
var floorTables = []string{"records", "items", "item_keys"}

// leanRecords is the hub's copy reduced to what a record must say, in the
// narrowest types PostgreSQL has for it (no workspace, connection or object
// beside the set's number, a uuid id, a binary hash): with only the set's
// unique external-id index, a lower bound for any layout of the records.
const leanRecords = `SELECT id::uuid AS id, set_id, external_id COLLATE "C" AS external_id, fields, decode(hash, 'hex') AS hash,
	active, deleted, deleted_at, source_updated_at, first_seen_at, last_seen_at, changed_at, seq, origin, version FROM records`

// floor measures what PostgreSQL alone takes to store the rows syncd
// stored: each table's rows are written out in COPY's binary format and
// loaded with psql's \copy into an empty table like it, once with the
// table's indexes and once without. Nothing of syncd runs meanwhile, so
// syncd's own time can only be above these; the goal of 2× \copy is
// reachable only where they leave room for it.
func floor(ctx context.Context, dbURL, dir string) ([]result, error) {
	var out []result
	all := result{db: "postgres", step: `psql \copy of all these, with their indexes`}
	records := 0
	for _, table := range floorTables {
		n, err := psqlValue(ctx, dbURL, "SELECT count(*) FROM "+table)
		if err != nil {
			return nil, err
		}
		rows, _ := strconv.Atoi(n)
		if rows == 0 {
			continue
		}
		file := filepath.Join(dir, table+".bin")
		if err := psql(ctx, dbURL, fmt.Sprintf(`\copy %s TO '%s' WITH (FORMAT binary)`, table, file)); err != nil {
			return nil, err
		}
		opts, err := psqlValue(ctx, dbURL, "SELECT COALESCE(array_to_string(reloptions, ', '), '') FROM pg_class WHERE relname = '"+table+"'")
		if err != nil {
			return nil, err
		}
		for _, v := range []struct{ like, label string }{
			{"INCLUDING ALL", "with its indexes"},
			{"INCLUDING DEFAULTS", "without indexes"},
		} {
			create := fmt.Sprintf("CREATE TABLE floor_%s (LIKE %s %s)", table, table, v.like)
			if opts != "" {
				create += " WITH (" + opts + ")"
			}
			r, err := timedLoad(ctx, dbURL, fmt.Sprintf(`psql \copy of syncd's %s %s`, table, v.label), "floor_"+table, create, file)
			if err != nil {
				return nil, err
			}
			if v.like == "INCLUDING ALL" {
				all.took, all.dbCPU = all.took+r.took, all.dbCPU+r.dbCPU
			}
			r.rows, all.rows = rows, rows
			out = append(out, r)
		}
		if table == "records" {
			records = rows
		}
	}
	if len(out) > 2 {
		out = append(out, all)
	}
	// The leanest records: with their one unique index, without it, and
	// loaded without it and indexed afterwards, as a first load into a table
	// of its own could be.
	lean := filepath.Join(dir, "records-lean.bin")
	if err := psql(ctx, dbURL, fmt.Sprintf(`\copy (%s) TO '%s' WITH (FORMAT binary)`, leanRecords, lean)); err != nil {
		return nil, err
	}
	const index = "CREATE UNIQUE INDEX ON floor_lean (set_id, external_id)"
	for _, v := range []struct {
		before string
		after  []string
		label  string
	}{
		{"; " + index, nil, "with only the unique external-id index"},
		{"", nil, "without indexes"},
		{"", []string{index}, "without indexes, then that index built"},
	} {
		r, err := timedLoad(ctx, dbURL, `psql \copy of the leanest records `+v.label, "floor_lean", "CREATE TABLE floor_lean AS "+leanRecords+" LIMIT 0"+v.before, lean, v.after...)
		if err != nil {
			return nil, err
		}
		r.rows = records
		out = append(out, r)
	}
	return out, nil
}

// timedLoad creates a table, loads a binary COPY file into it after a
// checkpoint (so that no earlier writes are flushed during the load), runs
// the statements after, if any, and drops the table again; it times the
// \copy and those statements as step.
func timedLoad(ctx context.Context, dbURL, step, table, create, file string, after ...string) (result, error) {
	if err := psql(ctx, dbURL, "DROP TABLE IF EXISTS "+table, create, "CHECKPOINT"); err != nil {
		return result{}, err
	}
	load := append([]string{fmt.Sprintf(`\copy %s FROM '%s' WITH (FORMAT binary)`, table, file)}, after...)
	r, err := timed("postgres", step, func() error { return psql(ctx, dbURL, load...) })
	if err != nil {
		return result{}, err
	}
	return r, psql(ctx, dbURL, "DROP TABLE "+table)
}

// psql runs each command with psql, stopping at the first error.
func psql(ctx context.Context, dbURL string, commands ...string) error {
	args := []string{dbURL, "-v", "ON_ERROR_STOP=1", "-q"}
	for _, c := range commands {
		args = append(args, "-c", c)
	}
	if out, err := exec.CommandContext(ctx, "psql", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("psql %q: %v: %s", commands, err, out)
	}
	return nil
}

// psqlValue runs a query with psql and returns its one value.
func psqlValue(ctx context.Context, dbURL, query string) (string, error) {
	out, err := exec.CommandContext(ctx, "psql", dbURL, "-v", "ON_ERROR_STOP=1", "-qtAc", query).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql %q: %v: %s", query, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
