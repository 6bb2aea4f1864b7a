package sqlstore

import (
	"context"
	"time"
)

// deleteBatch is how many rows one statement of DeleteExpired removes at
// most, so that it never holds SQLite's write lock for long.
const deleteBatch = 500

// rateLimitRetention is how long DeleteExpired keeps a rate limit window
// after it ended.
const rateLimitRetention = 24 * time.Hour

// strikeRetention is how long DeleteExpired keeps a failure record after
// its last failure. The longest sign-in delay is far shorter, but a record
// at the cap of failures then stops counting: a day without a failure
// starts the address afresh (RL-2: no permanent lockout).
const strikeRetention = 24 * time.Hour

// expiry names the rows of one table that DeleteExpired removes.
type expiry struct {
	table string
	key   string // the primary key's columns
	cond  string // the condition on the rows, with one ? for the cut-off
	what  string // for error messages
}

var (
	expireOneTimes = expiry{"one_times", "tenant_id, kind, item_key", "expires_at < ?", "single-use items"}
	// expiries are the tables whose rows expire at expires_at. Grants come
	// last: the refresh tokens that go with them (ON DELETE CASCADE) are
	// not counted, so expired ones are removed, and counted, before.
	expiries = []expiry{
		expireOneTimes,
		{"email_codes", "tenant_id, id", "expires_at < ?", "email codes"},
		{"auth_requests", "tenant_id, id", "expires_at < ?", "authorization requests"},
		{"sessions", "tenant_id, id", "expires_at < ?", "sessions"},
		{"refresh_tokens", "tenant_id, id", "expires_at < ?", "refresh tokens"},
		{"grants", "tenant_id, id", "expires_at < ?", "grants"},
	}
	expireRateLimits = expiry{"rate_limits", "tenant_id, bucket_key, window_size, window_start", "window_end < ?", "rate limit windows"}
	expireStrikes    = expiry{"strikes", "tenant_id, strike_key", "last_at < ?", "failure records"}
	expireSignIns    = expiry{"sign_ins", "tenant_id, id", "created_at < ?", "sign-in log entries"}
)

// DeleteExpired removes, in every tenant, what expired before now: single-use
// items, email codes, authorization requests, sessions past their absolute
// timeout, refresh tokens, and grants past ExpiresAt (with their refresh
// tokens), used, consumed or revoked or not; an object without an expiry
// time counts as expired. It also removes rate limit windows that ended
// more than a day before now, failure records whose last failure was more
// than a day before now, and sign-in log entries older than the store's
// SignInRetention. It returns how many it removed (not counting
// refresh tokens that went with their grants). Each statement removes at
// most a few hundred rows in a transaction of its own, so other writers go
// on between them; run it now and then.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, e := range expiries {
		n, err := s.deleteExpired(ctx, e, micros(now))
		total += n
		if err != nil {
			return total, err
		}
	}
	n, err := s.deleteExpired(ctx, expireRateLimits, micros(now.Add(-rateLimitRetention)))
	total += n
	if err != nil {
		return total, err
	}
	n, err = s.deleteExpired(ctx, expireStrikes, micros(now.Add(-strikeRetention)))
	total += n
	if err != nil {
		return total, err
	}
	n, err = s.deleteExpired(ctx, expireSignIns, micros(now.Add(-s.signInRetention())))
	return total + n, err
}

// signInRetention returns how long sign-in log entries are kept.
func (s *Store) signInRetention() time.Duration {
	if s.SignInRetention > 0 {
		return s.SignInRetention
	}
	return DefaultSignInRetention
}

// DeleteExpiredOneTimes removes the single-use items of every tenant that
// expired before the time, consumed or not, and returns how many it
// removed. Items stay until then so that a replay of a consumed one is
// still recognized while it could be valid. DeleteExpired does this and
// more.
func (s *Store) DeleteExpiredOneTimes(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, expireOneTimes, micros(before))
}

// deleteExpired removes the rows of e's table that match its condition
// with the cut-off, in batches, and returns how many it removed.
func (s *Store) deleteExpired(ctx context.Context, e expiry, cutoff int64) (int64, error) {
	query := s.d.rebind("DELETE FROM " + e.table + " WHERE (" + e.key + ") IN (SELECT " + e.key + " FROM " + e.table +
		" WHERE " + e.cond + " LIMIT ?)")
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, internal("delete expired "+e.what, err)
		}
		res, err := s.writer.ExecContext(ctx, query, cutoff, deleteBatch)
		if err != nil {
			return total, internal("delete expired "+e.what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, internal("delete expired "+e.what, err)
		}
		total += n
		if n < deleteBatch {
			return total, nil
		}
	}
}
