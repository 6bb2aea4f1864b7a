// Package storetest is the conformance suite of gatehouse.Store: Run checks
// that a store keeps every promise of the storage contract, and the SQLite
// and PostgreSQL stores of sqlstore both pass it. It also gives other
// packages' tests real stores to run against: Engines returns every engine
// available (SQLite always, PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is
// set) and SQLite a quick migrated SQLite store.
package storetest
