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
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/sqlstore"
)

// DatabaseURLEnv names the environment variable with the URL of the
// PostgreSQL database tests may use; each test gets a schema of its own
// there.
const DatabaseURLEnv = "GATEHOUSE_TEST_DATABASE_URL"

const postgresSkip = "PostgreSQL tests skipped: set " + DatabaseURLEnv +
	"=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them"

// Engine opens real stores of one database engine for tests.
type Engine struct {
	Name string // "sqlite" or "postgres"
	// Open returns a new, empty, migrated store that is closed (and its
	// database removed) when the test ends. It skips the test when the
	// engine is not available.
	Open func(t *testing.T) *sqlstore.Store
	// Reopen closes s, a store Open returned, and opens its database again,
	// as a restarted server would.
	Reopen func(t *testing.T, s *sqlstore.Store) *sqlstore.Store
}

// Engines returns the SQLite engine and the PostgreSQL engine. The
// PostgreSQL one skips its tests, saying how to run them, unless
// GATEHOUSE_TEST_DATABASE_URL is set.
func Engines(t *testing.T) []Engine {
	t.Helper()
	return []Engine{
		{
			Name: "sqlite",
			Open: func(t *testing.T) *sqlstore.Store {
				t.Helper()
				return openSQLite(t, filepath.Join(t.TempDir(), "gatehouse.db"))
			},
			Reopen: func(t *testing.T, s *sqlstore.Store) *sqlstore.Store {
				t.Helper()
				return openSQLite(t, location(t, s))
			},
		},
		{
			Name: "postgres",
			Open: func(t *testing.T) *sqlstore.Store {
				t.Helper()
				return openPostgres(t, PostgresURL(t))
			},
			Reopen: func(t *testing.T, s *sqlstore.Store) *sqlstore.Store {
				t.Helper()
				return openPostgres(t, location(t, s))
			},
		},
	}
}

// SQLite returns a new, empty, migrated SQLite store in a temporary
// directory, closed when the test (or fuzz target, or benchmark) ends.
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return openSQLite(t, filepath.Join(t.TempDir(), "gatehouse.db"))
}

// locations maps each store Open returned to its SQLite path or
// PostgreSQL URL, for Reopen.
var locations sync.Map

// location closes s and returns where its database is.
func location(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	loc, ok := locations.Load(s)
	if !ok {
		t.Fatal("Reopen: the store was not opened by this engine's Open")
	}
	locations.Delete(s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return loc.(string)
}

func openSQLite(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	return migrated(t, s, path)
}

func openPostgres(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), url)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	return migrated(t, s, url)
}

// migrated migrates s, closes it when the test ends and remembers where
// its database is.
func migrated(t testing.TB, s *sqlstore.Store, loc string) *sqlstore.Store {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	locations.Store(s, loc)
	return s
}

// PostgresURL creates an empty schema in the database at
// GATEHOUSE_TEST_DATABASE_URL, drops it when the test ends, and returns a
// URL of the database that works in that schema. It skips the test when
// the variable is not set.
func PostgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(DatabaseURLEnv)
	if base == "" {
		t.Skip(postgresSkip)
	}
	schema := "gh_test_" + randomHex(8)
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	return withSearchPath(t, base, schema)
}

// admin runs one statement on the test database outside any store. The
// "pgx" driver is registered by sqlstore, the one package that imports
// SQL drivers.
func admin(t *testing.T, dbURL, stmt string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatalf("open %s: %v", DatabaseURLEnv, err)
	}
	defer db.Close()
	// Not t.Context(): cleanups run after it is canceled.
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// withSearchPath returns the connection string dbURL with search_path set
// to schema, which pgx sends to the server as a run-time parameter.
func withSearchPath(t *testing.T, dbURL, schema string) string {
	t.Helper()
	if !strings.Contains(dbURL, "://") { // a key=value connection string
		return dbURL + " search_path=" + schema
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse %s: %v", DatabaseURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
