package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func (c *stmtCache) counts() (prepared, pending int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts), len(c.pending)
}

func (c *stmtCache) has(query string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query] != nil
}

// TestStatementCache: a read outside a transaction prepares its query at
// once; a query first met in a transaction runs unprepared (the writer's
// one connection is the transaction's) and is prepared by the next Update;
// prepared statements give the same answers as unprepared ones, in and
// out of transactions, and the cache holds at most maxCachedStatements.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	byName := "SELECT " + tenantColumns + " FROM tenants WHERE name = ?"
	now := time.Now().UTC().Truncate(time.Second)
	create := func(name string) {
		t.Helper()
		err := s.Update(ctx, func(tx gatehouse.Tx) error {
			return tx.CreateTenant(ctx, &gatehouse.Tenant{ID: "id-" + name, Name: name, CreatedAt: now})
		})
		if err != nil {
			t.Fatalf("create tenant %s: %v", name, err)
		}
	}
	create("acme")
	if p, q := s.wstmts.counts(); p != 0 || q == 0 {
		t.Errorf("after the first Update the writer has %d prepared and %d pending, want 0 and some", p, q)
	}
	create("globex")
	if p, q := s.wstmts.counts(); p == 0 || q != 0 {
		t.Errorf("after the second Update the writer has %d prepared and %d pending, want some and 0", p, q)
	}

	if s.reader.stmts.has(byName) {
		t.Fatal("the tenant read is prepared before any read")
	}
	for range 2 {
		got, err := s.TenantByName(ctx, "acme")
		if err != nil || got.ID != "id-acme" {
			t.Fatalf("TenantByName(acme) = %+v, %v", got, err)
		}
	}
	if !s.reader.stmts.has(byName) {
		t.Error("the tenant read is not prepared after two reads")
	}
	if _, err := s.TenantByName(ctx, "initech"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("TenantByName(initech) through the prepared statement: %v, want ENOTFOUND", err)
	}
	// In transactions, the same statement through Tx.StmtContext, twice
	// (the second time prepared), sees the transaction's own writes.
	for _, name := range []string{"initech", "umbrella"} {
		err := s.Update(ctx, func(tx gatehouse.Tx) error {
			if err := tx.CreateTenant(ctx, &gatehouse.Tenant{ID: "id-" + name, Name: name, CreatedAt: now}); err != nil {
				return err
			}
			got, err := tx.TenantByName(ctx, name)
			if err != nil || got.ID != "id-"+name {
				return fmt.Errorf("TenantByName(%s) in its transaction = %+v, %v", name, got, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !s.wstmts.has(byName) {
		t.Error("the tenant read is not prepared on the writer after two transactions")
	}

	// Past the bound, queries run unprepared, and the cache stops growing.
	for i := range maxCachedStatements + 10 {
		var n int
		if err := s.reader.queryRow(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d = %d, %v", i, n, err)
		}
	}
	if p, _ := s.reader.stmts.counts(); p != maxCachedStatements {
		t.Errorf("the readers' cache holds %d statements, want %d", p, maxCachedStatements)
	}
	// A query that does not prepare still reports its error.
	if _, err := s.reader.query(ctx, "SELECT nothing FROM nowhere"); err == nil {
		t.Error("a query of a missing table succeeded")
	}
}
