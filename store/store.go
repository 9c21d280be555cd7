// Package store persists syncd's domain behind the interfaces domain declares,
// with gorm over SQLite (embedded default) or PostgreSQL. Every query is scoped
// by workspace; driver errors become domain errors in one place (error.go).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects syncd speaks.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Store is syncd's persistence. An exported method is one transaction; the
// work inside is done by unexported functions taking the *gorm.DB of that
// transaction, so they compose.
type Store struct {
	db      *gorm.DB
	reads   *gorm.DB // prepared statements for the hot reads (see openReads)
	dialect string
	url     string // as given to Open
	path    string // the SQLite file; "" on PostgreSQL
	keyring *Keyring
	hooks   *hooks // shared by the Stores of its transactions
	// versions number the changes to each workspace's window, shared by
	// the Stores of its transactions; changed collects, in a transaction,
	// the workspaces whose windows it changed (nil outside one).
	versions *windowVersions
	changed  *[]string
	// writes queues this process's transactions on SQLite, which has one
	// writer at a time: a Go mutex hands the lock over in order, where
	// SQLite's busy handler lets a waiter starve past its timeout under a
	// long bulk action. nil on PostgreSQL.
	writes *sync.Mutex
}

// inTx reports whether the Store is bound to a transaction.
func (s *Store) inTx() bool { return s.changed != nil }

// Options tunes Open.
type Options struct {
	Logger *slog.Logger
	// MaxOpenConns caps the pool on PostgreSQL (default 20); the window's
	// reads have a pool of their own, half that size.
	MaxOpenConns int
	// Keyring seals connection credentials; without one, storing credentials fails.
	Keyring *Keyring
}

// Open connects to the database named by url: a postgres:// or postgresql://
// URL, or a sqlite:PATH / file:PATH / plain path for SQLite (its folder is
// created). It does not migrate; call Migrate.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return utc(time.Now()) },
		// A few dozen query shapes (times the page sizes clients ask for)
		// are kept prepared, the least recently used dropped past 256 (see
		// openReads). A ten-year lifetime is gorm's "never expire", which
		// also spares a sweeping goroutine per pool that would outlive Close.
		PrepareStmtMaxSize: 256,
		PrepareStmtTTL:     10 * 365 * 24 * time.Hour,
	}
	var (
		dialector gorm.Dialector
		dialect   string
		path      string
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		dialector, dialect = postgres.Open(withCustomPlans(url)), DialectPostgres
	default:
		dsn, p, err := sqliteDSN(url)
		if err != nil {
			return nil, err
		}
		path = p
		dialector, dialect = sqlite.Open(dsn), DialectSQLite
	}
	if path != "" && path != ":memory:" {
		// The first connection to a new file switches it to WAL, which two
		// processes opening it at once can race on (SQLITE_BUSY, past the
		// busy timeout); the migration lock file serialises that moment.
		unlock, err := lockFile(path + ".migrate.lock")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	conns := o.MaxOpenConns
	if conns <= 0 {
		conns = 20
	}
	if dialect == DialectPostgres {
		sizePool(sqlDB, conns)
	} else {
		// WAL allows readers beside the one writer; _txlock=immediate makes
		// writers queue on busy_timeout instead of failing with SQLITE_BUSY.
		// Idle connections stay open: opening one re-runs the pragmas.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("reach %s database: %w", dialect, err)
	}
	reads, err := openReads(ctx, db, url, cfg, max(2, conns/2))
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	st := &Store{db: db, reads: reads, dialect: dialect, url: url, path: path, keyring: o.Keyring, hooks: &hooks{}, versions: newWindowVersions()}
	if dialect == DialectSQLite {
		st.writes = &sync.Mutex{}
	}
	return st, nil
}

// openReads gives the hot reads of the window (its pages and summary) their
// statements kept prepared. The SQLite driver parses every statement anew
// unless it is prepared. On PostgreSQL they also get a pool of their own
// that lets the server reuse a plan: the main pool plans every execution
// (see withCustomPlans), which for a window page took about twice as long
// as running it. The window's queries are index walks whose plans do not
// turn with the statistics, and ANALYZE replans them anyway.
func openReads(ctx context.Context, db *gorm.DB, url string, cfg *gorm.Config, conns int) (*gorm.DB, error) {
	prepared := &gorm.Session{PrepareStmt: true}
	if db.Dialector.Name() != DialectPostgres {
		return db.Session(prepared), nil
	}
	rdb, err := gorm.Open(postgres.Open(url), cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	pool, err := rdb.DB()
	if err != nil {
		return nil, err
	}
	sizePool(pool, conns)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach postgres database: %w", err)
	}
	return rdb.Session(prepared), nil
}

// sizePool keeps up to n PostgreSQL connections, idle ones for a while.
func sizePool(pool *sql.DB, n int) {
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
}

// withCustomPlans asks PostgreSQL to plan every execution of a cached
// statement for its own parameters. The generic plan it would otherwise
// settle on is made from statistics of the moment; for tables that grow
// from nothing inside one reconcile (items, item_keys) it chose sequential
// scans and made batches a hundred times slower.
func withCustomPlans(url string) string {
	if strings.Contains(url, "plan_cache_mode=") {
		return url
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "plan_cache_mode=force_custom_plan"
}

// sqliteDSN turns a sqlite:/file:/plain path into the DSN with the pragmas
// syncd relies on, creating the folder.
func sqliteDSN(url string) (dsn, path string, err error) {
	path = strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	path = strings.TrimPrefix(path, "//")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "", "", fmt.Errorf("database url %q names no sqlite file", url)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", "", fmt.Errorf("create database folder: %w", err)
		}
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate", path, nil
}

// Dialect names the database in use: DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// SQL exposes the pool, for migrations and health checks.
func (s *Store) SQL() *sql.DB {
	d, _ := s.db.DB() // never fails after Open
	return d
}

// Close stops listening to other replicas and releases the pools.
func (s *Store) Close() error {
	s.versions.close()
	err := s.SQL().Close()
	if reads, _ := s.reads.DB(); reads != s.SQL() {
		err = errors.Join(err, reads.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.SQL().PingContext(ctx) }

// InTx runs fn in one transaction on a Store bound to it; an error rolls back.
// The windows it changed are announced with its commit (see windowChanged).
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	defer s.lockWrites()()
	outer, changed := !s.inTx(), s.changed
	if outer {
		changed = new([]string)
		defer func() { s.versions.bump(*changed...) }()
	}
	db, release, err := s.txConn(ctx, outer)
	if err != nil {
		return translate(err)
	}
	defer release()
	return translate(db.Transaction(func(tx *gorm.DB) error {
		err := fn(&Store{db: tx, reads: tx, dialect: s.dialect, url: s.url, path: s.path, keyring: s.keyring,
			hooks: s.hooks, versions: s.versions, changed: changed, writes: s.writes})
		if err != nil || !outer {
			return err
		}
		return announce(tx, *changed)
	}))
}

// copyConnKey is the context key of the connection a PostgreSQL
// transaction runs on: database/sql does not give a transaction's
// connection out, and bulk inserts inside it need that to COPY.
type copyConnKey struct{}

// txConn is the database to begin a transaction on and the function that
// releases it. On PostgreSQL an outer transaction gets a connection of its
// own, carried in the context for COPY (see copyRows); a nested one keeps
// its transaction's.
func (s *Store) txConn(ctx context.Context, outer bool) (*gorm.DB, func(), error) {
	if s.dialect != DialectPostgres {
		return s.db.WithContext(ctx), func() {}, nil
	}
	if !outer {
		return s.db.WithContext(context.WithValue(ctx, copyConnKey{}, s.db.Statement.Context.Value(copyConnKey{}))), func() {}, nil
	}
	conn, err := s.SQL().Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	db := s.db.WithContext(context.WithValue(ctx, copyConnKey{}, conn))
	db.Statement.ConnPool = conn
	return db, func() { _ = conn.Close() }, nil
}

// lockWrites waits for this process's turn to write on SQLite and returns
// the function that ends it; inside a transaction, and on PostgreSQL, it
// does nothing.
func (s *Store) lockWrites() func() {
	if s.writes == nil || s.inTx() {
		return func() {}
	}
	s.writes.Lock()
	return s.writes.Unlock
}

// newID returns a time-ordered opaque id (UUIDv7), so ids sort by creation
// and serve as keyset cursors.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// utc truncates to microseconds (PostgreSQL's precision) in UTC, so a value
// reads back equal on both databases.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// idsPerQuery is how many values one "IN (...)" list carries, well within
// SQLite's limit on a statement's parameters.
const idsPerQuery = 900

// rowsPerInsert is how many rows one multi-row statement should carry. On
// SQLite a few hundred values: most are literals (see appendTuple), and
// statements of 256, 1,024 and 4,096 values measured alike; the driver
// still matches each value bound by a linear search. PostgreSQL takes
// larger statements gladly.
func rowsPerInsert(db *gorm.DB, columns int) int {
	if db.Dialector.Name() == DialectPostgres {
		return 500
	}
	return max(1, 256/columns)
}

// forUpdate ends a query that reads rows to rewrite them: on PostgreSQL it
// locks them until the transaction ends; SQLite's one writer needs nothing.
func forUpdate(db *gorm.DB) string {
	if db.Dialector.Name() == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// analyze refreshes PostgreSQL's statistics of tables that just grew a lot,
// so that the next queries are planned for their real size (autovacuum
// would get there only later). SQLite plans without them.
func (s *Store) analyze(ctx context.Context, tables ...string) {
	if s.dialect != DialectPostgres {
		return
	}
	_ = s.db.WithContext(ctx).Exec("ANALYZE " + strings.Join(tables, ", ")).Error
}
