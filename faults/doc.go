// Package faults holds Gatehouse's fault tests (SECURITY.md FT-1 to FT-6):
// what happens to acknowledged writes, single-use tokens and signature
// verification when a process is killed, the database restarts, the mail
// server is down or stalls, signing keys rotate under load, or two nodes
// share one PostgreSQL database. It has no code of its own: the tests
// build the real gatehouse binary with `go build` where a process must die
// or several must run, and drive it with the load package's clients.
//
// The PostgreSQL tests use GATEHOUSE_TEST_DATABASE_URL as the other
// packages do; the test that restarts PostgreSQL starts a cluster of its
// own with the initdb and pg_ctl of /usr/lib/postgresql/*/bin, so that
// restarting it disturbs nobody else. docs/architecture.md ("Faults") says
// what each test shows.
package faults
