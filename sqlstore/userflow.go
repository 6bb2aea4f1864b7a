package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const userFlowColumns = "tenant_id, id, display_name, description, identity_provider, sign_up_allowed, passkey_sign_in, attributes, " +
	"created_at, updated_at"

// userFlowAppsField is the input field a flow's applications come in, as
// Graph names it.
const userFlowAppsField = "conditions.applications.includeApplications"

// selectUserFlows returns "SELECT … FROM user_flows": the flow's columns
// followed by the JSON array of its applications' appIds, in the flow's
// order. One statement reads both, so a flow and its applications are
// always read from the same snapshot.
func (r *reader) selectUserFlows() string {
	return "SELECT " + userFlowColumns + ", (SELECT " + r.d.jsonArrayAgg("a.app_id", "a.ordinal") +
		" FROM user_flow_apps a WHERE a.tenant_id = user_flows.tenant_id AND a.flow_id = user_flows.id) FROM user_flows"
}

func scanUserFlow(row scanner) (*gatehouse.UserFlow, error) {
	var f gatehouse.UserFlow
	var attrs, apps string
	var created, updated int64
	if err := row.Scan(&f.TenantID, &f.ID, &f.DisplayName, &f.Description, &f.IdentityProvider, &f.SignUpAllowed,
		&f.PasskeySignIn, &attrs, &created, &updated, &apps); err != nil {
		return nil, err
	}
	if err := fromJSON(attrs, &f.Attributes); err != nil {
		return nil, err
	}
	if err := fromJSON(apps, &f.AppIDs); err != nil {
		return nil, err
	}
	if len(f.AppIDs) == 0 {
		f.AppIDs = nil // SQLite aggregates no rows to "[]"
	}
	f.CreatedAt = fromMicros(created)
	f.UpdatedAt = fromMicros(updated)
	return &f, nil
}

// UserFlow returns the tenant's user flow with the ID, or ENOTFOUND.
func (r *reader) UserFlow(ctx context.Context, tenantID, id string) (*gatehouse.UserFlow, error) {
	return r.userFlow(ctx, tenantID, id, false)
}

func (r *reader) userFlow(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.UserFlow, error) {
	f, err := scanUserFlow(r.queryRow(ctx, r.selectUserFlows()+" WHERE tenant_id = ? AND id = ?"+r.lock(forUpdate),
		tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("User flow", id), "read user flow")
	}
	return f, nil
}

// UserFlowByAppID returns the tenant's user flow that the application with
// the appId (client ID) uses, or ENOTFOUND if it uses none.
func (r *reader) UserFlowByAppID(ctx context.Context, tenantID, appID string) (*gatehouse.UserFlow, error) {
	f, err := scanUserFlow(r.queryRow(ctx, r.selectUserFlows()+" WHERE tenant_id = ? AND id = "+
		"(SELECT flow_id FROM user_flow_apps WHERE tenant_id = ? AND app_id = ?)", tenantID, tenantID, appID))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "No user flow for the application with appId %q was found.", appID),
			"read user flow")
	}
	return f, nil
}

// ListUserFlows returns a page of the tenant's user flows in ID order. It
// filters on "displayName"; another filter is EINVALID.
func (r *reader) ListUserFlows(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.UserFlow, string, error) {
	return list(ctx, r, listing[*gatehouse.UserFlow]{
		query:   r.selectUserFlows() + " WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: map[string]filter{"displayName": eq("display_name")},
		scan:    scanUserFlow,
		id:      func(f *gatehouse.UserFlow) string { return f.ID },
		what:    "list user flows",
	}, opt)
}

// CreateUserFlow stores f, filling in its ID (when empty), CreatedAt and
// UpdatedAt, and makes the applications of its AppIDs (duplicates dropped,
// order kept) use it. It returns ECONFLICT, naming the application, if
// one of them already uses another flow, or if the tenant has a flow with
// the ID; and ENOTFOUND if one of them is not an application of the
// tenant, or if there is no such tenant.
func (t *tx) CreateUserFlow(ctx context.Context, f *gatehouse.UserFlow) error {
	if f.ID == "" {
		f.ID = uuid.NewString()
	}
	now := t.s.now()
	f.CreatedAt, f.UpdatedAt = now, now
	f.AppIDs = distinct(f.AppIDs)
	if err := t.checkFlowApps(ctx, f); err != nil {
		return err
	}
	attrs, err := jsonList(f.Attributes)
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A user flow with ID %q already exists.", f.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO user_flows ("+userFlowColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		f.TenantID, f.ID, f.DisplayName, f.Description, f.IdentityProvider, f.SignUpAllowed, f.PasskeySignIn, attrs,
		micros(f.CreatedAt), micros(f.UpdatedAt))
	if err != nil {
		return t.writeError(err, "create user flow", conflictErr, notFound("Tenant", f.TenantID))
	}
	if !ok {
		return conflictErr("user_flows_pkey")
	}
	return t.insertFlowApps(ctx, f)
}

// UpdateUserFlow reads the tenant's user flow with the ID, calls fn with it
// and stores what fn left there (its ID, TenantID and CreatedAt cannot
// change), setting UpdatedAt and returning the stored flow. Its AppIDs
// replace the flow's applications (duplicates dropped, order kept). It
// returns ENOTFOUND if there is no such flow or one of the AppIDs is not an
// application of the tenant, ECONFLICT, naming the application, if one of
// them uses another flow, and fn's error unchanged.
func (t *tx) UpdateUserFlow(ctx context.Context, tenantID, id string, fn func(*gatehouse.UserFlow) error) (*gatehouse.UserFlow, error) {
	old, err := t.userFlow(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	f := *old
	f.Attributes = slices.Clone(old.Attributes)
	f.AppIDs = slices.Clone(old.AppIDs)
	if err := fn(&f); err != nil {
		return nil, err
	}
	f.ID, f.TenantID, f.CreatedAt = old.ID, old.TenantID, old.CreatedAt
	f.UpdatedAt = t.s.now()
	f.AppIDs = distinct(f.AppIDs)
	appsChanged := !slices.Equal(f.AppIDs, old.AppIDs)
	if appsChanged {
		if err := t.checkFlowApps(ctx, &f); err != nil {
			return nil, err
		}
	}
	attrs, err := jsonList(f.Attributes)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE user_flows SET display_name = ?, description = ?, identity_provider = ?, "+
		"sign_up_allowed = ?, passkey_sign_in = ?, attributes = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
		f.DisplayName, f.Description, f.IdentityProvider, f.SignUpAllowed, f.PasskeySignIn, attrs, micros(f.UpdatedAt), tenantID, id); err != nil {
		return nil, internal("update user flow", err)
	}
	if appsChanged {
		if _, err := t.exec(ctx, "DELETE FROM user_flow_apps WHERE tenant_id = ? AND flow_id = ?", tenantID, id); err != nil {
			return nil, internal("update user flow", err)
		}
		if err := t.insertFlowApps(ctx, &f); err != nil {
			return nil, err
		}
	}
	return t.userFlow(ctx, tenantID, id, false)
}

// DeleteUserFlow removes the tenant's user flow with the ID; its
// applications then use no flow. It returns ENOTFOUND if there is no such
// flow.
func (t *tx) DeleteUserFlow(ctx context.Context, tenantID, id string) error {
	// The flow's user_flow_apps rows go by ON DELETE CASCADE.
	n, err := t.affected(ctx, "DELETE FROM user_flows WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete user flow", err)
	}
	if n == 0 {
		return notFound("User flow", id)
	}
	return nil
}

// checkFlowApps returns ECONFLICT if an application of f's AppIDs uses
// another flow and ENOTFOUND if one is not an application of the tenant,
// so that CreateUserFlow and UpdateUserFlow fail before they write.
func (t *tx) checkFlowApps(ctx context.Context, f *gatehouse.UserFlow) error {
	for _, appID := range f.AppIDs {
		if err := t.flowAppTaken(ctx, f, appID); err != nil {
			return err
		}
		ok, err := t.exists(ctx, "SELECT 1 FROM applications WHERE tenant_id = ? AND app_id = ?", f.TenantID, appID)
		if err != nil {
			return internal("check user flow applications", err)
		}
		if !ok {
			return appNotFound(appID)
		}
	}
	return nil
}

// flowAppTaken returns the ECONFLICT error naming the application and the
// flow if the application uses a flow other than f, and nil otherwise.
func (t *tx) flowAppTaken(ctx context.Context, f *gatehouse.UserFlow, appID string) error {
	var name string
	err := t.queryRow(ctx, "SELECT f.display_name FROM user_flow_apps a JOIN user_flows f ON f.tenant_id = a.tenant_id AND f.id = a.flow_id "+
		"WHERE a.tenant_id = ? AND a.app_id = ? AND a.flow_id <> ?", f.TenantID, appID, f.ID).Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return internal("check user flow applications", err)
	}
	return conflict(userFlowAppsField, "Application %q already uses the user flow %q.", appID, name)
}

// insertFlowApps makes the applications of f's AppIDs use f; the flow
// has none when it is called.
func (t *tx) insertFlowApps(ctx context.Context, f *gatehouse.UserFlow) error {
	for i, appID := range f.AppIDs {
		ok, err := t.insert(ctx, "INSERT INTO user_flow_apps (tenant_id, app_id, flow_id, ordinal) VALUES (?, ?, ?, ?) "+
			"ON CONFLICT DO NOTHING", f.TenantID, appID, f.ID, i)
		if err != nil {
			// An application deleted since checkFlowApps.
			return t.writeError(err, "set user flow applications", nil, appNotFound(appID))
		}
		if !ok {
			// Another transaction gave the application a flow since
			// checkFlowApps.
			if err := t.flowAppTaken(ctx, f, appID); err != nil {
				return err
			}
			return internal("set user flow applications", fmt.Errorf("application %q was not added", appID))
		}
	}
	return nil
}

// appNotFound is the ENOTFOUND error about an application of a user flow.
func appNotFound(appID string) *gatehouse.Error {
	e := gatehouse.Errorf(gatehouse.ENOTFOUND, "Application with appId %q was not found.", appID)
	e.Field = userFlowAppsField
	return e
}

// distinct returns s without repeated elements, in the order of their
// first occurrences; nil when s is empty.
func distinct(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
