package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
)

const oneTimeColumns = "tenant_id, kind, item_key, payload, expires_at, consumed_at, created_at"

func scanOneTime(row scanner) (*gatehouse.OneTime, error) {
	var o gatehouse.OneTime
	var expires, consumed, created int64
	if err := row.Scan(&o.TenantID, &o.Kind, &o.Key, &o.Payload, &expires, &consumed, &created); err != nil {
		return nil, err
	}
	o.Payload = nilIfEmpty(o.Payload)
	o.ExpiresAt = fromMicros(expires)
	o.ConsumedAt = fromMicros(consumed)
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

// oneTimeNotFound is the error for a single-use item that does not exist or
// has expired; it says nothing about which, nor the key.
func oneTimeNotFound(kind string) *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Single-use item of kind %q was not found or has expired.", kind)
}

// CreateOneTime stores the single-use item o under (TenantID, Kind, Key),
// filling in CreatedAt; ConsumedAt is stored as given (normally zero). It
// returns ECONFLICT if the tenant has an item of the kind with the key and
// ENOTFOUND if there is no such tenant.
func (t *tx) CreateOneTime(ctx context.Context, o *gatehouse.OneTime) error {
	o.CreatedAt = t.s.now()
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A single-use item of kind %q with this key already exists.", o.Kind)
	}
	ok, err := t.insert(ctx, "INSERT INTO one_times ("+oneTimeColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		o.TenantID, o.Kind, o.Key, nonNil(o.Payload), micros(o.ExpiresAt), micros(o.ConsumedAt), micros(o.CreatedAt))
	if err != nil {
		return t.writeError(err, "create single-use item", conflictErr, notFound("Tenant", o.TenantID))
	}
	if !ok {
		return conflictErr("one_times_pkey")
	}
	return nil
}

// ConsumeOneTime marks the tenant's item of the kind with the key consumed
// at now (the store's clock when now is zero) and returns it. Exactly one
// of any number of concurrent calls for one item succeeds: the mark is a
// conditional UPDATE of an unconsumed, unexpired row. Every other call,
// then or later, returns the consumed item together with ECONFLICT, even
// once it has expired, so that the caller can revoke what the first use
// issued. An item that was never consumed and has expired (ExpiresAt is
// not after now), or that does not exist, is ENOTFOUND.
func (t *tx) ConsumeOneTime(ctx context.Context, tenantID, kind, key string, now time.Time) (*gatehouse.OneTime, error) {
	at := t.stamp(now)
	n, err := t.affected(ctx, "UPDATE one_times SET consumed_at = ? WHERE tenant_id = ? AND kind = ? AND item_key = ? "+
		"AND consumed_at = 0 AND expires_at > ?", at, tenantID, kind, key, at)
	if err != nil {
		return nil, internal("consume single-use item", err)
	}
	o, err := scanOneTime(t.queryRow(ctx, "SELECT "+oneTimeColumns+" FROM one_times WHERE tenant_id = ? AND kind = ? AND item_key = ?",
		tenantID, kind, key))
	if err != nil {
		return nil, noRows(err, oneTimeNotFound(kind), "read single-use item")
	}
	switch {
	case n == 1:
		return o, nil
	case !o.ConsumedAt.IsZero():
		return o, gatehouse.Errorf(gatehouse.ECONFLICT, "Single-use item of kind %q was already used.", kind)
	}
	return nil, oneTimeNotFound(kind)
}
