package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

// Conditional Access policies and named locations. A policy's conditions
// and controls, and a location's ranges or countries, are stored as JSON;
// ca_policy_locations mirrors the locations each policy names, so that a
// location in use cannot be deleted; every change raises the tenant's
// version in ca_versions in the same transaction.

const policyColumns = "tenant_id, id, display_name, state, body, created_at, modified_at"

// policyBody is the JSON of a policy's body column.
type policyBody struct {
	Description string                     `json:"description,omitempty"`
	Conditions  gatehouse.PolicyConditions `json:"conditions"`
	Grant       *gatehouse.GrantControls   `json:"grantControls,omitempty"`
	Session     *gatehouse.SessionControls `json:"sessionControls,omitempty"`
}

func scanPolicy(row scanner) (*gatehouse.Policy, error) {
	var p gatehouse.Policy
	var state, body string
	var created, modified int64
	if err := row.Scan(&p.TenantID, &p.ID, &p.DisplayName, &state, &body, &created, &modified); err != nil {
		return nil, err
	}
	var b policyBody
	if err := fromJSON(body, &b); err != nil {
		return nil, err
	}
	p.State, p.Description, p.Conditions, p.Grant, p.Session = gatehouse.PolicyState(state), b.Description, b.Conditions, b.Grant, b.Session
	p.CreatedAt, p.ModifiedAt = fromMicros(created), fromMicros(modified)
	return &p, nil
}

// Policy returns the tenant's Conditional Access policy with the ID, or
// ENOTFOUND.
func (r *reader) Policy(ctx context.Context, tenantID, id string) (*gatehouse.Policy, error) {
	return r.policy(ctx, tenantID, id, false)
}

func (r *reader) policy(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.Policy, error) {
	p, err := scanPolicy(r.queryRow(ctx, "SELECT "+policyColumns+" FROM ca_policies WHERE tenant_id = ? AND id = ?"+r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Conditional Access policy", id), "read policy")
	}
	return p, nil
}

// ListPolicies returns a page of the tenant's policies in ID order. It
// filters on "displayName" and "state"; another filter is EINVALID.
func (r *reader) ListPolicies(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.Policy, string, error) {
	return list(ctx, r, listing[*gatehouse.Policy]{
		query:   "SELECT " + policyColumns + " FROM ca_policies WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: map[string]filter{"displayName": eq("display_name"), "state": eq("state")},
		scan:    scanPolicy,
		id:      func(p *gatehouse.Policy) string { return p.ID },
		what:    "list policies",
	}, opt)
}

// CreatePolicy stores p, filling in its ID (when empty) and CreatedAt;
// ModifiedAt stays zero until the first update. It returns ECONFLICT if
// the tenant has a policy with the ID, ENOTFOUND naming the property if
// p names a location the tenant does not have, and ENOTFOUND if there is
// no such tenant.
func (t *tx) CreatePolicy(ctx context.Context, p *gatehouse.Policy) error {
	if p.ID == "" {
		p.ID = uuid.NewString()
	}
	p.CreatedAt, p.ModifiedAt = t.s.now(), time.Time{}
	body, err := jsonText(policyBody{p.Description, p.Conditions, p.Grant, p.Session})
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A Conditional Access policy with ID %q already exists.", p.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO ca_policies ("+policyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		p.TenantID, p.ID, p.DisplayName, string(p.State), body, micros(p.CreatedAt), 0)
	if err != nil {
		return t.writeError(err, "create policy", conflictErr, notFound("Tenant", p.TenantID))
	}
	if !ok {
		return conflictErr("ca_policies_pkey")
	}
	if err := t.setPolicyLocations(ctx, p); err != nil {
		return err
	}
	return t.bumpPolicies(ctx, p.TenantID)
}

// UpdatePolicy reads the tenant's policy with the ID, calls fn with a copy
// and stores what fn left there (its ID, TenantID and CreatedAt cannot
// change), setting ModifiedAt and returning the stored policy. It returns
// ENOTFOUND if there is no such policy or the new conditions name a
// location the tenant does not have, and fn's error unchanged.
func (t *tx) UpdatePolicy(ctx context.Context, tenantID, id string, fn func(*gatehouse.Policy) error) (*gatehouse.Policy, error) {
	old, err := t.policy(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	p := old.Clone()
	if err := fn(p); err != nil {
		return nil, err
	}
	p.ID, p.TenantID, p.CreatedAt = old.ID, old.TenantID, old.CreatedAt
	p.ModifiedAt = t.s.now()
	body, err := jsonText(policyBody{p.Description, p.Conditions, p.Grant, p.Session})
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE ca_policies SET display_name = ?, state = ?, body = ?, modified_at = ? WHERE tenant_id = ? AND id = ?",
		p.DisplayName, string(p.State), body, micros(p.ModifiedAt), tenantID, id); err != nil {
		return nil, internal("update policy", err)
	}
	if _, err := t.exec(ctx, "DELETE FROM ca_policy_locations WHERE tenant_id = ? AND policy_id = ?", tenantID, id); err != nil {
		return nil, internal("update policy", err)
	}
	if err := t.setPolicyLocations(ctx, p); err != nil {
		return nil, err
	}
	if err := t.bumpPolicies(ctx, tenantID); err != nil {
		return nil, err
	}
	return t.policy(ctx, tenantID, id, false)
}

// DeletePolicy removes the tenant's policy with the ID, or returns
// ENOTFOUND.
func (t *tx) DeletePolicy(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM ca_policies WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete policy", err)
	}
	if n == 0 {
		return notFound("Conditional Access policy", id)
	}
	return t.bumpPolicies(ctx, tenantID)
}

// setPolicyLocations records the named locations p's conditions name; it
// returns ENOTFOUND, naming the property, for one the tenant does not
// have.
func (t *tx) setPolicyLocations(ctx context.Context, p *gatehouse.Policy) error {
	l := p.Conditions.Locations
	if l == nil {
		return nil
	}
	for _, side := range []struct {
		field string
		ids   []string
	}{{"conditions.locations.includeLocations", l.Include}, {"conditions.locations.excludeLocations", l.Exclude}} {
		for i, id := range side.ids {
			if !gatehouse.IsGUID(id) {
				continue // All, AllTrusted
			}
			missing := gatehouse.Errorf(gatehouse.ENOTFOUND, "%s[%d]: named location %q was not found.", side.field, i, id)
			missing.Field = fmt.Sprintf("%s[%d]", side.field, i)
			exists, err := t.exists(ctx, "SELECT 1 FROM named_locations WHERE tenant_id = ? AND id = ?"+t.lock(true), p.TenantID, id)
			if err != nil {
				return internal("check policy locations", err)
			}
			if !exists {
				return missing
			}
			// A location both included and excluded is recorded once.
			if _, err := t.insert(ctx, "INSERT INTO ca_policy_locations (tenant_id, policy_id, location_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				p.TenantID, p.ID, id); err != nil {
				return t.writeError(err, "set policy locations", nil, missing)
			}
		}
	}
	return nil
}

// bumpPolicies raises the tenant's policies version.
func (t *tx) bumpPolicies(ctx context.Context, tenantID string) error {
	if _, err := t.exec(ctx, "INSERT INTO ca_versions (tenant_id, version) VALUES (?, 1) "+
		"ON CONFLICT (tenant_id) DO UPDATE SET version = ca_versions.version + 1", tenantID); err != nil {
		return t.writeError(err, "raise policies version", nil, notFound("Tenant", tenantID))
	}
	return nil
}

// PoliciesVersion returns the tenant's policies version, 0 before its
// first policy or location change.
func (r *reader) PoliciesVersion(ctx context.Context, tenantID string) (int64, error) {
	var v int64
	err := r.queryRow(ctx, "SELECT version FROM ca_versions WHERE tenant_id = ?", tenantID).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, internal("read policies version", err)
	}
	return v, nil
}

// PolicySet returns the tenant's policies (in ID order) and named
// locations with the policies version, read first: the sets are at least
// as new as the version, so a cache keyed by it never keeps stale
// policies past its next check.
func (r *reader) PolicySet(ctx context.Context, tenantID string) (*gatehouse.PolicySet, error) {
	v, err := r.PoliciesVersion(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	set := &gatehouse.PolicySet{Version: v}
	if set.Policies, err = all(ctx, r, "SELECT "+policyColumns+" FROM ca_policies WHERE tenant_id = ? ORDER BY id", scanPolicy, "read policies", tenantID); err != nil {
		return nil, err
	}
	if set.Locations, err = all(ctx, r, "SELECT "+locationColumns+" FROM named_locations WHERE tenant_id = ? ORDER BY id", scanLocation, "read named locations", tenantID); err != nil {
		return nil, err
	}
	return set, nil
}

// all returns every row query reads, scanned.
func all[T any](ctx context.Context, r *reader, query string, scan func(scanner) (T, error), what string, args ...any) ([]T, error) {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, internal(what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, internal(what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(what, err)
	}
	return out, nil
}

const locationColumns = "tenant_id, id, display_name, kind, body, created_at, modified_at"

// locationBody is the JSON of a named location's body column.
type locationBody struct {
	IPRanges       []string `json:"ipRanges,omitempty"`
	Trusted        bool     `json:"isTrusted,omitempty"`
	Countries      []string `json:"countriesAndRegions,omitempty"`
	IncludeUnknown bool     `json:"includeUnknownCountriesAndRegions,omitempty"`
}

func scanLocation(row scanner) (*gatehouse.NamedLocation, error) {
	var l gatehouse.NamedLocation
	var body string
	var created, modified int64
	if err := row.Scan(&l.TenantID, &l.ID, &l.DisplayName, &l.Kind, &body, &created, &modified); err != nil {
		return nil, err
	}
	var b locationBody
	if err := fromJSON(body, &b); err != nil {
		return nil, err
	}
	l.IPRanges, l.Trusted, l.Countries, l.IncludeUnknown = b.IPRanges, b.Trusted, b.Countries, b.IncludeUnknown
	l.CreatedAt, l.ModifiedAt = fromMicros(created), fromMicros(modified)
	return &l, nil
}

// NamedLocation returns the tenant's named location with the ID, or
// ENOTFOUND.
func (r *reader) NamedLocation(ctx context.Context, tenantID, id string) (*gatehouse.NamedLocation, error) {
	return r.namedLocation(ctx, tenantID, id, false)
}

func (r *reader) namedLocation(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.NamedLocation, error) {
	l, err := scanLocation(r.queryRow(ctx, "SELECT "+locationColumns+" FROM named_locations WHERE tenant_id = ? AND id = ?"+r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Named location", id), "read named location")
	}
	return l, nil
}

// ListNamedLocations returns a page of the tenant's named locations in ID
// order. It filters on "displayName"; another filter is EINVALID.
func (r *reader) ListNamedLocations(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.NamedLocation, string, error) {
	return list(ctx, r, listing[*gatehouse.NamedLocation]{
		query:   "SELECT " + locationColumns + " FROM named_locations WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: map[string]filter{"displayName": eq("display_name")},
		scan:    scanLocation,
		id:      func(l *gatehouse.NamedLocation) string { return l.ID },
		what:    "list named locations",
	}, opt)
}

// CreateNamedLocation stores l, filling in its ID (when empty), CreatedAt
// and ModifiedAt (equal, as Graph shows a new location). It returns
// ECONFLICT if the tenant has a location with the ID and ENOTFOUND if
// there is no such tenant.
func (t *tx) CreateNamedLocation(ctx context.Context, l *gatehouse.NamedLocation) error {
	if l.ID == "" {
		l.ID = uuid.NewString()
	}
	now := t.s.now()
	l.CreatedAt, l.ModifiedAt = now, now
	body, err := jsonText(locationBody{l.IPRanges, l.Trusted, l.Countries, l.IncludeUnknown})
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A named location with ID %q already exists.", l.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO named_locations ("+locationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		l.TenantID, l.ID, l.DisplayName, l.Kind, body, micros(now), micros(now))
	if err != nil {
		return t.writeError(err, "create named location", conflictErr, notFound("Tenant", l.TenantID))
	}
	if !ok {
		return conflictErr("named_locations_pkey")
	}
	return t.bumpPolicies(ctx, l.TenantID)
}

// UpdateNamedLocation reads the tenant's named location with the ID,
// calls fn with a copy and stores what fn left there (its ID, TenantID,
// Kind and CreatedAt cannot change), setting ModifiedAt and returning the
// stored location. It returns ENOTFOUND if there is no such location, and
// fn's error unchanged.
func (t *tx) UpdateNamedLocation(ctx context.Context, tenantID, id string, fn func(*gatehouse.NamedLocation) error) (*gatehouse.NamedLocation, error) {
	old, err := t.namedLocation(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	l := old.Clone()
	if err := fn(l); err != nil {
		return nil, err
	}
	l.ID, l.TenantID, l.Kind, l.CreatedAt = old.ID, old.TenantID, old.Kind, old.CreatedAt
	l.ModifiedAt = t.s.now()
	body, err := jsonText(locationBody{l.IPRanges, l.Trusted, l.Countries, l.IncludeUnknown})
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE named_locations SET display_name = ?, body = ?, modified_at = ? WHERE tenant_id = ? AND id = ?",
		l.DisplayName, body, micros(l.ModifiedAt), tenantID, id); err != nil {
		return nil, internal("update named location", err)
	}
	if err := t.bumpPolicies(ctx, tenantID); err != nil {
		return nil, err
	}
	return t.namedLocation(ctx, tenantID, id, false)
}

// DeleteNamedLocation removes the tenant's named location with the ID. It
// returns ENOTFOUND if there is no such location and ECONFLICT, naming
// them, while policies name it.
func (t *tx) DeleteNamedLocation(ctx context.Context, tenantID, id string) error {
	if _, err := t.namedLocation(ctx, tenantID, id, true); err != nil {
		return err
	}
	var names []string
	rows, err := t.query(ctx, "SELECT p.display_name FROM ca_policy_locations pl JOIN ca_policies p ON p.tenant_id = pl.tenant_id AND p.id = pl.policy_id "+
		"WHERE pl.tenant_id = ? AND pl.location_id = ? ORDER BY p.display_name, p.id", tenantID, id)
	if err != nil {
		return internal("delete named location", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return internal("delete named location", err)
		}
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("delete named location", err)
	}
	if len(names) > 0 {
		return conflict("", "The named location %q is used by the Conditional Access %s %s; remove it from %s first.",
			id, plural(len(names), "policy", "policies"), quoteList(slices.Compact(names)), plural(len(names), "it", "them"))
	}
	if _, err := t.exec(ctx, "DELETE FROM named_locations WHERE tenant_id = ? AND id = ?", tenantID, id); err != nil {
		// A policy that came to name the location since the check.
		if v, _ := t.d.constraint(err); v == foreignKeyViolation {
			return conflict("", "The named location %q is used by a Conditional Access policy; remove it from the policy first.", id)
		}
		return internal("delete named location", err)
	}
	return t.bumpPolicies(ctx, tenantID)
}

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
