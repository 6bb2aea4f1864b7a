package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the prepared statements one pool keeps: the
// store's queries are constant strings, a few hundred of them, but list
// queries are put together from their options, and those past the bound
// are run unprepared.
const maxCachedStatements = 512

// stmtCache keeps the prepared statements of one SQLite pool by query
// text. database/sql prepares every query it is given afresh, and for
// SQLite (a library in the process, not a server) parsing and planning the
// statement is a good part of running it: a fifth of the database's time
// in a sign-in. PostgreSQL's driver (pgx) caches the statements of each
// connection itself, so its store has no stmtCache.
//
// A statement is prepared on the pool, outside any transaction: the
// writer pool has a single connection, which a transaction holds, so a
// transaction that meets a query not yet prepared runs it unprepared and
// leaves it in pending, and the next Update prepares it before it begins.
// Inside a transaction a prepared statement is used through Tx.StmtContext,
// which reuses what was prepared on the transaction's connection.
type stmtCache struct {
	db *sql.DB

	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]struct{}
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// stmt returns the prepared statement for query, bound to tx when tx is
// not nil, or nil when query is to be run unprepared.
func (c *stmtCache) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	c.mu.RLock()
	s := c.stmts[query]
	c.mu.RUnlock()
	switch {
	case s != nil && tx != nil:
		return tx.StmtContext(ctx, s)
	case s != nil:
		return s
	case tx != nil:
		c.mu.Lock()
		if len(c.stmts)+len(c.pending) < maxCachedStatements {
			c.pending[query] = struct{}{}
		}
		c.mu.Unlock()
		return nil
	}
	return c.prepare(ctx, query)
}

// prepare prepares query on the pool and keeps it, or returns nil when the
// cache is full or the query does not prepare (running it unprepared then
// reports why).
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	s, full := c.stmts[query], len(c.stmts) >= maxCachedStatements
	c.mu.RUnlock()
	if s != nil || full {
		return s
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil {
		// Prepared by another goroutine meanwhile.
		s.Close()
		return old
	}
	c.stmts[query] = s
	return s
}

// preparePending prepares the queries that transactions met unprepared.
// It must not be called inside a transaction of the pool.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// close closes every statement of the cache.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}
