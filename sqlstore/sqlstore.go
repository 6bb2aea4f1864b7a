package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Store is a gatehouse.Store on SQLite or PostgreSQL. Create one with
// OpenSQLite or OpenPostgres and bring its schema up to date with Migrate.
type Store struct {
	// Now returns the current time, used for CreatedAt and UpdatedAt. It
	// defaults to time.Now; tests may replace it before using the store.
	Now func() time.Time
	// SignInRetention is how long DeleteExpired keeps sign-in log
	// entries: DefaultSignInRetention when zero.
	SignInRetention time.Duration

	reader // reads outside transactions

	d      dialect
	writer *sql.DB            // the pool Update runs in
	wstmts *stmtCache         // the writer's prepared statements (SQLite), or nil
	pools  map[string]*sql.DB // every pool by name, for PoolStats and Close

	closeOnce sync.Once
	closeErr  error
}

var _ gatehouse.Store = (*Store)(nil)

// sqliteBusyTimeout is how long, in milliseconds, a SQLite connection waits
// for a lock held by another process before it gives up.
const sqliteBusyTimeout = 10000

// OpenSQLite opens the SQLite database at path, creating the file (mode 0600)
// and its directory (mode 0700) if they are missing. It does not migrate.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlstore: empty SQLite path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: create database directory: %w", err)
	}
	// Create the file ourselves so that it never exists with wider
	// permissions; SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlstore: create database file: %w", err)
	}

	// A file: URI keeps any '?' or '%' in the path from being read as DSN
	// syntax.
	name := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout))
	common.Set("_foreign_keys", "on")
	common.Set("_synchronous", "NORMAL")
	common.Add("_pragma", "temp_store(MEMORY)")

	w := url.Values{}
	for k, v := range common {
		w[k] = v
	}
	w.Set("_journal_mode", "WAL")
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", name+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open SQLite writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// The writer's first connection switches the file to WAL before any
	// reader opens it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open SQLite %s: %w", abs, err)
	}

	r := url.Values{}
	for k, v := range common {
		r[k] = v
	}
	r.Set("_query_only", "on")
	readers, err := sql.Open("sqlite", name+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open SQLite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	readers.SetMaxOpenConns(n)
	readers.SetMaxIdleConns(n)
	readers.SetConnMaxIdleTime(5 * time.Minute)
	if err := readers.PingContext(ctx); err != nil {
		readers.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open SQLite %s: %w", abs, err)
	}
	return &Store{
		reader: reader{db: readers, d: sqliteDialect, stmts: newStmtCache(readers)},
		d:      sqliteDialect,
		writer: writer,
		wstmts: newStmtCache(writer),
		pools:  map[string]*sql.DB{"sqlite-writer": writer, "sqlite-reader": readers},
	}, nil
}

// OpenPostgres connects to the PostgreSQL database at databaseURL, a
// postgres://user:pass@host:port/db?… URL or key=value connection string
// as pgx accepts them (parameters it does not know, such as search_path,
// are sent to the server as run-time settings). It does not migrate.
func OpenPostgres(ctx context.Context, databaseURL string) (*Store, error) {
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	return &Store{
		reader: reader{db: db, d: postgresDialect},
		d:      postgresDialect,
		writer: db,
		pools:  map[string]*sql.DB{"postgres": db},
	}, nil
}

// Close closes every connection of the store. Calling it again does
// nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		for _, c := range []*stmtCache{s.reader.stmts, s.wstmts} {
			if c != nil {
				c.close()
			}
		}
		var errs []error
		for _, db := range s.pools {
			errs = append(errs, db.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping checks that the database answers, on every pool.
func (s *Store) Ping(ctx context.Context) error {
	for name, db := range s.pools {
		if err := db.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping %s: %w", name, err)
		}
	}
	return nil
}

// PoolStats returns the statistics of each connection pool by name:
// "sqlite-writer" and "sqlite-reader", or "postgres".
func (s *Store) PoolStats() map[string]sql.DBStats {
	m := make(map[string]sql.DBStats, len(s.pools))
	for name, db := range s.pools {
		m[name] = db.Stats()
	}
	return m
}

// now returns the store's clock reading as the database will return it:
// UTC, to the microsecond.
func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// maxAttempts bounds how often Update runs fn when PostgreSQL reports a
// serialization failure or deadlock.
const maxAttempts = 5

// Update runs fn in a read-write transaction and commits it when fn returns
// nil; otherwise it rolls back and returns fn's error unchanged. On
// PostgreSQL, fn runs again (at most 5 times in all) when the transaction
// fails with a serialization failure or deadlock. On SQLite the transaction
// holds the database's write lock from its start, so transactions never
// fail on each other; fn must not call Update itself.
func (s *Store) Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.update(ctx, fn)
		if err == nil || attempt == maxAttempts || !s.d.retryable(err) {
			return err
		}
		// Back off a little, with jitter, so that deadlocked transactions do
		// not collide again.
		backoff := time.Duration(attempt)*5*time.Millisecond + rand.N(5*time.Millisecond)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	if s.wstmts != nil {
		s.wstmts.preparePending(ctx)
	}
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin transaction: %w", err)
	}
	// Roll back when fn fails or panics (after Commit this does nothing). A
	// rollback that fails leaves a broken connection, which database/sql
	// discards; fn's error is the one that matters.
	defer sqlTx.Rollback()
	t := &tx{reader: reader{db: sqlTx, d: s.d, stmts: s.wstmts}, s: s}
	if err := fn(t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// tx is a gatehouse.Tx on one database transaction.
type tx struct {
	reader
	s *Store
}

var _ gatehouse.Tx = (*tx)(nil)

// queryer is what reads and writes run on: a pool or a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// reader implements gatehouse.Reader on a pool or a transaction. Queries are
// written with ? placeholders and rebound for the dialect.
type reader struct {
	db queryer
	d  dialect
	// stmts, when not nil, keeps the prepared statements of db's pool
	// (stmtcache.go).
	stmts *stmtCache
}

// prepared returns the prepared statement of query for r's pool or
// transaction, or nil to run query unprepared.
func (r *reader) prepared(ctx context.Context, query string) *sql.Stmt {
	if r.stmts == nil {
		return nil
	}
	tx, _ := r.db.(*sql.Tx)
	return r.stmts.stmt(ctx, tx, query)
}

func (r *reader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q := r.d.rebind(query)
	if s := r.prepared(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, q, args...)
}

func (r *reader) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	q := r.d.rebind(query)
	if s := r.prepared(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, q, args...)
}

func (r *reader) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := r.d.rebind(query)
	if s := r.prepared(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return r.db.ExecContext(ctx, q, args...)
}

// exists reports whether query returns a row.
func (r *reader) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := r.queryRow(ctx, query, args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// lock returns the clause that locks the rows a SELECT reads until the
// transaction ends.
func (r *reader) lock(forUpdate bool) string {
	if forUpdate {
		return r.d.forUpdate()
	}
	return ""
}

// Classes of the transaction-scoped PostgreSQL advisory locks lockName
// takes, the first of their two keys. (Migrate's lock is a one-key lock,
// which never collides with two-key ones.)
const (
	lockClassEmailCode = 1
	lockClassStrike    = 2
	lockClassPolicy    = 3
)

// lockName makes the transaction wait for, and then hold until it ends,
// the lock of the class on the name. On PostgreSQL it is an advisory lock
// on a hash of the name (names that collide merely share a lock); on SQLite
// it does nothing, as the transaction holds the database's write lock from
// its start. It serializes writers of rows that do not exist yet, which
// SELECT … FOR UPDATE cannot lock.
func (t *tx) lockName(ctx context.Context, class int32, name string) error {
	if t.d != postgresDialect {
		return nil
	}
	_, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", class, name)
	return err
}

// insert runs query, an INSERT … ON CONFLICT DO NOTHING, and reports
// whether it wrote the row. A row a uniqueness rule stops is not an error, so
// the transaction stays usable on every engine.
func (t *tx) insert(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// affected runs query and returns how many rows it changed.
func (t *tx) affected(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// notFound returns the ENOTFOUND error for the object of the kind (as in
// "User") named id.
func notFound(kind, id string) *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "%s %q was not found.", kind, id)
}

// internal wraps an unexpected database error with what the store was
// doing.
func internal(doing string, err error) error {
	return fmt.Errorf("sqlstore: %s: %w", doing, err)
}

// noRows returns nf when err is sql.ErrNoRows and err wrapped as internal
// otherwise.
func noRows(err error, nf *gatehouse.Error, doing string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nf
	}
	return internal(doing, err)
}

// micros returns t as Unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros returns the UTC time of Unix microseconds us, the zero time
// for 0.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// stamp returns now as Unix microseconds, or the store's clock reading when
// now is zero, for a time that marks a change of state (used, consumed,
// revoked): stored as 0, it would mean that the change never happened.
func (t *tx) stamp(now time.Time) int64 {
	if now.IsZero() {
		return micros(t.s.now())
	}
	return micros(now)
}

// utcMicro returns t in UTC truncated to the microsecond, as the store
// returns times; the zero time stays zero.
func utcMicro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// quoteList returns names quoted and comma-separated, for messages.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// conflict returns an ECONFLICT error about the input field (may be "").
func conflict(field, format string, args ...any) *gatehouse.Error {
	e := gatehouse.Errorf(gatehouse.ECONFLICT, format, args...)
	e.Field = field
	return e
}

// writeError maps the error of a write: a uniqueness violation to what
// conflictErr makes of the constraint's name, a foreign key violation to
// missing (the object the write refers to does not exist), anything else to
// an internal error saying what the store was doing.
func (t *tx) writeError(err error, doing string, conflictErr func(constraint string) *gatehouse.Error, missing *gatehouse.Error) error {
	switch v, c := t.d.constraint(err); {
	case v == uniqueViolation && conflictErr != nil:
		return conflictErr(c)
	case v == foreignKeyViolation && missing != nil:
		return missing
	}
	return internal(doing, err)
}

// insertConflict returns the ECONFLICT error for a row an insert did not
// write: conflictErr(pkey) when a row with the same primary key exists
// (pkQuery, a SELECT 1, finds it), conflictErr(other) otherwise.
func (t *tx) insertConflict(ctx context.Context, doing string, conflictErr func(constraint string) *gatehouse.Error, pkey, other, pkQuery string, pkArgs ...any) error {
	if other == "" {
		return conflictErr(pkey)
	}
	taken, err := t.exists(ctx, pkQuery, pkArgs...)
	if err != nil {
		return internal(doing, err)
	}
	if taken {
		return conflictErr(pkey)
	}
	return conflictErr(other)
}
