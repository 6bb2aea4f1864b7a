package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const signingKeyColumns = "tenant_id, id, algorithm, private_key, created_at, retired_at"

func scanSigningKey(row scanner) (*gatehouse.SigningKey, error) {
	var k gatehouse.SigningKey
	var created, retired int64
	if err := row.Scan(&k.TenantID, &k.ID, &k.Algorithm, &k.PrivateKey, &created, &retired); err != nil {
		return nil, err
	}
	k.PrivateKey = nilIfEmpty(k.PrivateKey)
	k.CreatedAt = fromMicros(created)
	k.RetiredAt = fromMicros(retired)
	return &k, nil
}

// SigningKeys returns all of the tenant's signing keys, newest first (by
// CreatedAt, then by ID descending).
func (r *reader) SigningKeys(ctx context.Context, tenantID string) ([]*gatehouse.SigningKey, error) {
	rows, err := r.query(ctx, "SELECT "+signingKeyColumns+" FROM signing_keys WHERE tenant_id = ? ORDER BY created_at DESC, id DESC",
		tenantID)
	if err != nil {
		return nil, internal("list signing keys", err)
	}
	defer rows.Close()
	var ks []*gatehouse.SigningKey
	for rows.Next() {
		k, err := scanSigningKey(rows)
		if err != nil {
			return nil, internal("list signing keys", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list signing keys", err)
	}
	return ks, nil
}

func (t *tx) signingKey(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.SigningKey, error) {
	k, err := scanSigningKey(t.queryRow(ctx, "SELECT "+signingKeyColumns+" FROM signing_keys WHERE tenant_id = ? AND id = ?"+
		t.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Signing key", id), "read signing key")
	}
	return k, nil
}

// CreateSigningKey stores k, filling in its ID (the kid, when empty) and
// CreatedAt. It returns ECONFLICT if the tenant has a key with the ID and
// ENOTFOUND if there is no such tenant.
func (t *tx) CreateSigningKey(ctx context.Context, k *gatehouse.SigningKey) error {
	if k.ID == "" {
		k.ID = uuid.NewString()
	}
	k.CreatedAt = t.s.now()
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A signing key with ID %q already exists.", k.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO signing_keys ("+signingKeyColumns+") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		k.TenantID, k.ID, k.Algorithm, nonNil(k.PrivateKey), micros(k.CreatedAt), micros(k.RetiredAt))
	if err != nil {
		return t.writeError(err, "create signing key", conflictErr, notFound("Tenant", k.TenantID))
	}
	if !ok {
		return conflictErr("signing_keys_pkey")
	}
	return nil
}

// UpdateSigningKey reads the tenant's signing key with the ID, calls fn
// with it and stores what fn left there (its ID, TenantID and CreatedAt
// cannot change), returning the stored key. It returns ENOTFOUND if there
// is no such key and fn's error unchanged.
func (t *tx) UpdateSigningKey(ctx context.Context, tenantID, id string, fn func(*gatehouse.SigningKey) error) (*gatehouse.SigningKey, error) {
	old, err := t.signingKey(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	k := *old
	if err := fn(&k); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE signing_keys SET algorithm = ?, private_key = ?, retired_at = ? WHERE tenant_id = ? AND id = ?",
		k.Algorithm, nonNil(k.PrivateKey), micros(k.RetiredAt), tenantID, id); err != nil {
		return nil, internal("update signing key", err)
	}
	return t.signingKey(ctx, tenantID, id, false)
}

// nonNil returns b, or an empty slice for nil, which drivers would store as
// NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nilIfEmpty returns b, or nil when b is empty, so that an empty BLOB reads
// back the same on every engine.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
