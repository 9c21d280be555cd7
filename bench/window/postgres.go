package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"

	_ "github.com/jackc/pgx/v5/stdlib" // creates and drops the benchmark database
)

// freshPostgres creates an empty database on the server of base and returns
// its URL and the function that drops it.
func freshPostgres(ctx context.Context, base string) (string, func(), error) {
	b := make([]byte, 4)
	rand.Read(b)
	name := "syncd_window_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, _ := url.Parse(base)
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}
