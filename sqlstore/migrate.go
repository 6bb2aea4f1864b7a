package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFS holds the schema of each engine as numbered SQL files
// (0001_init.sql, 0002_….sql, …): migrations/sqlite and migrations/postgres
// hold the same numbers, each in its engine's SQL. Numbers are unique but
// may have gaps while a change made on another branch has not arrived:
// Migrate applies every migration a database lacks, whatever its number.
//
//go:embed migrations
var migrationFS embed.FS

// A migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d dialect) migrations() ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s/%s is not named NNNN_name.sql", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations %s/%s and %s share a number", dir, ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// pending returns the migrations of ms (in version order) that applied,
// the migrations a database has (by version, with their file names), lacks.
// It fails when the database has a version ms does not know (a newer
// Gatehouse migrated it), or one under another name (a build with another
// migration of that number did: its schema is not the one this build
// expects).
func pending(ms []migration, applied []appliedMigration) ([]migration, error) {
	known := map[int]string{}
	for _, m := range ms {
		known[m.version] = m.name
	}
	done := map[int]bool{}
	for _, a := range applied {
		name, ok := known[a.version]
		switch {
		case !ok:
			newest := 0
			if len(ms) > 0 {
				newest = ms[len(ms)-1].version
			}
			return nil, fmt.Errorf("sqlstore: migrate: the database schema has migration %d (%s), which this Gatehouse does not know (its newest is %d); upgrade Gatehouse", a.version, a.name, newest)
		case name != a.name:
			return nil, fmt.Errorf("sqlstore: migrate: the database schema has migration %d as %s, but this Gatehouse's migration %d is %s: the database was migrated by another build; restore it from a backup made before, or use that build", a.version, a.name, a.version, name)
		}
		done[a.version] = true
	}
	var out []migration
	for _, m := range ms {
		if !done[m.version] {
			out = append(out, m)
		}
	}
	return out, nil
}

// migrationLockID is the PostgreSQL advisory lock key that serializes
// migrations of one database.
const migrationLockID = 0x6761746568 // "gateh"

// Migrate brings the database schema up to date. It applies, in one
// transaction and in version order, the embedded migrations the
// schema_migrations table does not list yet, so it does nothing when the
// schema is current. Processes that
// migrate one database at the same time wait for each other (SQLite's write
// lock, a PostgreSQL advisory lock). It fails, changing nothing, when the
// database was migrated by a newer version of Gatehouse.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.d.migrations()
	if err != nil {
		return err
	}
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer sqlTx.Rollback()
	r := &reader{db: sqlTx, d: s.d}
	if s.d == postgresDialect {
		// Held until the transaction ends.
		if _, err := r.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationLockID)); err != nil {
			return fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
	}
	if _, err := r.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, r)
	if err != nil {
		return err
	}
	missing, err := pending(ms, applied)
	if err != nil {
		return err
	}
	for _, m := range missing {
		if _, err := r.exec(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlstore: migrate: apply %s/%s: %w", s.d, m.name, err)
		}
		if _, err := r.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, micros(s.now())); err != nil {
			return fmt.Errorf("sqlstore: migrate: record %s: %w", m.name, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

// appliedMigration is a migration schema_migrations lists.
type appliedMigration struct {
	version int
	name    string
}

// appliedVersions returns the migrations schema_migrations lists.
func appliedVersions(ctx context.Context, r *reader) ([]appliedMigration, error) {
	rows, err := r.query(ctx, "SELECT version, name FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: read schema versions: %w", err)
	}
	defer rows.Close()
	var vs []appliedMigration
	for rows.Next() {
		var a appliedMigration
		if err := rows.Scan(&a.version, &a.name); err != nil {
			return nil, fmt.Errorf("sqlstore: migrate: read schema versions: %w", err)
		}
		vs = append(vs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: read schema versions: %w", err)
	}
	return vs, nil
}

// SchemaVersion returns the version of the newest migration applied to the
// database, 0 when it was never migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	ok, err := s.tableExists(ctx, "schema_migrations")
	if err != nil || !ok {
		return 0, err
	}
	var v int
	if err := s.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: read schema version: %w", err)
	}
	return v, nil
}

// tableExists reports whether the table exists (on PostgreSQL, in the
// schemas of the search path).
func (s *Store) tableExists(ctx context.Context, table string) (bool, error) {
	q := "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.d == postgresDialect {
		q = "SELECT 1 WHERE to_regclass(?) IS NOT NULL"
	}
	ok, err := s.exists(ctx, q, table)
	if err != nil {
		return false, fmt.Errorf("sqlstore: look up table %s: %w", table, err)
	}
	return ok, nil
}
