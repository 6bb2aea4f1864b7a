// Package sqlstore implements gatehouse.Store on SQL databases: SQLite (the
// default, one file beside the binary) and PostgreSQL (for scale-out). One
// database/sql implementation serves both engines; the few places where they
// differ (placeholders, row locks, error codes, column types) go through a
// small explicit dialect. The schema is embedded and applied by Migrate.
//
// On SQLite, writes go through a single connection whose transactions begin
// IMMEDIATE, so concurrent writers queue in the pool instead of failing with
// SQLITE_BUSY, and reads outside transactions use a separate pool of
// connections in WAL mode. On PostgreSQL, updaters lock their row with
// SELECT … FOR UPDATE, writers of rows that do not exist yet serialize on
// a transaction-scoped advisory lock where they must, and Update retries on
// serialization failures and deadlocks. Single-use marks (one-time items,
// refresh tokens) are conditional UPDATEs and counters are upserts, which
// are atomic on both engines.
package sqlstore
