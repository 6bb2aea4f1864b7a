package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Strikes returns the tenant's failure record under key: the failures
// added since it was last cleared and the time of the last one, or 0 and
// the zero time when there is none. Until the transaction ends, other
// transactions that read the same record wait (on PostgreSQL through an
// advisory lock on the key, as the record may not exist yet; on SQLite the
// transaction holds the database's write lock), so a check of the record
// and the AddStrike that follows it are one step.
func (t *tx) Strikes(ctx context.Context, tenantID, key string) (int, time.Time, error) {
	if err := t.lockName(ctx, lockClassStrike, fmt.Sprintf("%q %q", tenantID, key)); err != nil {
		return 0, time.Time{}, internal("lock failure record", err)
	}
	var n, last int64
	err := t.queryRow(ctx, "SELECT strikes, last_at FROM strikes WHERE tenant_id = ? AND strike_key = ?"+t.lock(true),
		tenantID, key).Scan(&n, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, internal("read failure record", err)
	}
	return int(n), fromMicros(last), nil
}

// AddStrike adds one failure at now (the store's clock when now is zero)
// to the tenant's record under key and returns the new count. It is one
// upsert, so concurrent calls each count. It returns ENOTFOUND if there is
// no such tenant.
func (t *tx) AddStrike(ctx context.Context, tenantID, key string, now time.Time) (int, error) {
	var n int64
	err := t.queryRow(ctx, "INSERT INTO strikes (tenant_id, strike_key, strikes, last_at) VALUES (?, ?, 1, ?) "+
		"ON CONFLICT (tenant_id, strike_key) DO UPDATE SET strikes = strikes.strikes + 1, last_at = excluded.last_at "+
		"RETURNING strikes", tenantID, key, t.stamp(now)).Scan(&n)
	if err != nil {
		return 0, t.writeError(err, "add failure", nil, notFound("Tenant", tenantID))
	}
	return int(n), nil
}

// ClearStrikes removes the tenant's record under key, if there is one.
func (t *tx) ClearStrikes(ctx context.Context, tenantID, key string) error {
	if _, err := t.exec(ctx, "DELETE FROM strikes WHERE tenant_id = ? AND strike_key = ?", tenantID, key); err != nil {
		return internal("clear failure record", err)
	}
	return nil
}
