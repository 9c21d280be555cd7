// Package storetest gives each test its own migrated store: a fresh SQLite
// file, or, when TEST_DATABASE_URL names a PostgreSQL database, a fresh
// schema in it that is dropped afterwards. The same suites thus run against
// both databases, each test isolated.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates schemas

	"syncd/store"
)

// URL returns TEST_DATABASE_URL, "" when tests run on SQLite.
func URL() string { return os.Getenv("TEST_DATABASE_URL") }

// Dialect names the database the tests run on.
func Dialect() string {
	if URL() != "" {
		return store.DialectPostgres
	}
	return store.DialectSQLite
}

// New returns a migrated store private to t.
func New(t testing.TB) *store.Store {
	t.Helper()
	s := Open(t, NewURL(t), KeyringSpec)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Open opens the database at url (not migrating it) with the keyring keys
// names, closing it when t ends.
func Open(t testing.TB, url, keys string) *store.Store {
	t.Helper()
	k, err := store.ParseKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), url, store.Options{Keyring: k})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// KeyringSpec is the fixed test encryption key (version 1); NewerKeySpec
// is a second key (version 2), for tests that rotate keys.
const (
	KeyringSpec  = "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	NewerKeySpec = "2:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

// Keyring returns the test keyring.
func Keyring(t testing.TB) *store.Keyring {
	k, err := store.ParseKeyring(KeyringSpec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewURL returns the URL of an empty database private to t (not migrated).
func NewURL(t testing.TB) string {
	t.Helper()
	base := URL()
	if base == "" {
		return "sqlite:" + filepath.Join(t.TempDir(), "syncd.db")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + strings.ToLower(hex.EncodeToString(b))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
