package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// Hit counts one event under the tenant's key in the fixed window of the
// length that holds now (the store's clock when now is zero) and returns
// the count in that window so far, this event included. Windows are
// aligned to the Unix epoch: the one holding now starts at now truncated
// to a multiple of window. The count is one upsert, so concurrent hits on
// any number of nodes each get a count of their own. Keys counted in
// windows of different lengths are different counters. It returns
// ENOTFOUND if there is no such tenant, and an error if window is shorter
// than a microsecond.
func (t *tx) Hit(ctx context.Context, tenantID, key string, window time.Duration, now time.Time) (int, error) {
	size := window.Microseconds()
	if size <= 0 {
		return 0, fmt.Errorf("sqlstore: rate limit window %v is shorter than a microsecond", window)
	}
	at := t.stamp(now)
	start := at - at%size
	if at%size < 0 { // before 1970: round down, not toward zero
		start -= size
	}
	var hits int64
	err := t.queryRow(ctx, "INSERT INTO rate_limits (tenant_id, bucket_key, window_size, window_start, window_end, hits) "+
		"VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (tenant_id, bucket_key, window_size, window_start) "+
		"DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
		tenantID, key, size, start, start+size).Scan(&hits)
	if err != nil {
		return 0, t.writeError(err, "count rate limit hit", nil, notFound("Tenant", tenantID))
	}
	return int(hits), nil
}
