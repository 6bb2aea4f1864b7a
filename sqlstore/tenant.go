package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const tenantColumns = "id, name, display_name, branding, access_token_signing_alg, id_token_signing_alg, created_at"

func scanTenant(row scanner) (*gatehouse.Tenant, error) {
	var t gatehouse.Tenant
	var branding string
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.DisplayName, &branding, &t.TokenSigning.AccessTokenAlg, &t.TokenSigning.IDTokenAlg, &created); err != nil {
		return nil, err
	}
	if err := fromJSON(branding, &t.Branding); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// Tenant returns the tenant with the ID, or ENOTFOUND.
func (r *reader) Tenant(ctx context.Context, id string) (*gatehouse.Tenant, error) {
	return r.tenant(ctx, id, false)
}

func (r *reader) tenant(ctx context.Context, id string, forUpdate bool) (*gatehouse.Tenant, error) {
	t, err := scanTenant(r.queryRow(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = ?"+r.lock(forUpdate), id))
	if err != nil {
		return nil, noRows(err, notFound("Tenant", id), "read tenant")
	}
	return t, nil
}

// TenantByName returns the tenant with the name, or ENOTFOUND.
func (r *reader) TenantByName(ctx context.Context, name string) (*gatehouse.Tenant, error) {
	t, err := scanTenant(r.queryRow(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE name = ?", name))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "Tenant named %q was not found.", name), "read tenant")
	}
	return t, nil
}

// ListTenants returns every tenant, ordered by name.
func (r *reader) ListTenants(ctx context.Context) ([]*gatehouse.Tenant, error) {
	rows, err := r.query(ctx, "SELECT "+tenantColumns+" FROM tenants ORDER BY name")
	if err != nil {
		return nil, internal("list tenants", err)
	}
	defer rows.Close()
	var ts []*gatehouse.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, internal("list tenants", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list tenants", err)
	}
	return ts, nil
}

// CreateTenant stores tn, filling in its ID (when empty) and CreatedAt. It
// returns ECONFLICT if a tenant with the name or ID exists.
func (t *tx) CreateTenant(ctx context.Context, tn *gatehouse.Tenant) error {
	if tn.ID == "" {
		tn.ID = uuid.NewString()
	}
	tn.CreatedAt = t.s.now()
	branding, err := jsonText(tn.Branding)
	if err != nil {
		return err
	}
	conflictErr := func(c string) *gatehouse.Error { return tenantConflict(c, tn) }
	ok, err := t.insert(ctx, "INSERT INTO tenants ("+tenantColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		tn.ID, tn.Name, tn.DisplayName, branding, tn.TokenSigning.AccessTokenAlg, tn.TokenSigning.IDTokenAlg, micros(tn.CreatedAt))
	if err != nil {
		return t.writeError(err, "create tenant", conflictErr, nil)
	}
	if !ok {
		return t.insertConflict(ctx, "create tenant", conflictErr, "tenants_pkey", "tenants_name_key",
			"SELECT 1 FROM tenants WHERE id = ?", tn.ID)
	}
	return nil
}

// UpdateTenant reads the tenant with the ID, calls fn with it and stores
// what fn left there (its ID and CreatedAt cannot change), returning the
// stored tenant. It returns ENOTFOUND if there is no such tenant, ECONFLICT
// if the new name is taken, and fn's error unchanged.
func (t *tx) UpdateTenant(ctx context.Context, id string, fn func(*gatehouse.Tenant) error) (*gatehouse.Tenant, error) {
	old, err := t.tenant(ctx, id, true)
	if err != nil {
		return nil, err
	}
	tn := *old
	if err := fn(&tn); err != nil {
		return nil, err
	}
	tn.ID, tn.CreatedAt = old.ID, old.CreatedAt
	if tn.Name != old.Name {
		taken, err := t.exists(ctx, "SELECT 1 FROM tenants WHERE name = ?", tn.Name)
		if err != nil {
			return nil, internal("update tenant", err)
		}
		if taken {
			return nil, tenantConflict("tenants_name_key", &tn)
		}
	}
	branding, err := jsonText(tn.Branding)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE tenants SET name = ?, display_name = ?, branding = ?, access_token_signing_alg = ?, id_token_signing_alg = ? WHERE id = ?",
		tn.Name, tn.DisplayName, branding, tn.TokenSigning.AccessTokenAlg, tn.TokenSigning.IDTokenAlg, id); err != nil {
		return nil, t.writeError(err, "update tenant", func(c string) *gatehouse.Error { return tenantConflict(c, &tn) }, nil)
	}
	return t.tenant(ctx, id, false)
}

// tenantConflict returns the ECONFLICT error for the violated constraint.
func tenantConflict(constraint string, tn *gatehouse.Tenant) *gatehouse.Error {
	if constraint == "tenants_pkey" {
		return conflict("", "A tenant with ID %q already exists.", tn.ID)
	}
	return conflict("name", "A tenant named %q already exists.", tn.Name)
}
