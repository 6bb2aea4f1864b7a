package sqlstore

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const applicationColumns = "tenant_id, id, app_id, display_name, web_redirect_uris, spa_redirect_uris, " +
	"public_client_redirect_uris, post_logout_redirect_uris, is_fallback_public_client, require_pkce, " +
	"id_token_signing_alg, password_credentials, permissions, admin_api_delegated, admin_api_delegated_since, created_at, updated_at, " +
	"access_token_signing_alg"

func scanApplication(row scanner) (*gatehouse.Application, error) {
	var a gatehouse.Application
	var web, spa, public, logout, creds, perms string
	var created, updated, since int64
	if err := row.Scan(&a.TenantID, &a.ID, &a.AppID, &a.DisplayName, &web, &spa, &public, &logout,
		&a.IsFallbackPublicClient, &a.RequirePKCE, &a.IDTokenSigningAlg, &creds, &perms, &a.AdminAPIDelegated, &since, &created, &updated, &a.AccessTokenSigningAlg); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		text string
		v    any
	}{
		{web, &a.WebRedirectURIs}, {spa, &a.SPARedirectURIs}, {public, &a.PublicClientRedirectURIs},
		{logout, &a.PostLogoutRedirectURIs}, {creds, &a.PasswordCredentials}, {perms, &a.Permissions},
	} {
		if err := fromJSON(f.text, f.v); err != nil {
			return nil, err
		}
	}
	a.AdminAPIDelegatedSince = fromMicros(since)
	a.CreatedAt = fromMicros(created)
	a.UpdatedAt = fromMicros(updated)
	return &a, nil
}

// applicationArgs returns the values of the application's columns after
// tenant_id and id, in applicationColumns order.
func applicationArgs(a *gatehouse.Application) ([]any, error) {
	// Times inside the JSON are stored as the store returns every time:
	// UTC, to the microsecond.
	creds := slices.Clone(a.PasswordCredentials)
	for i := range creds {
		creds[i].Start, creds[i].End = utcMicro(creds[i].Start), utcMicro(creds[i].End)
	}
	perms := slices.Clone(a.Permissions)
	for i := range perms {
		perms[i].CreatedAt = utcMicro(perms[i].CreatedAt)
	}
	web, err1 := jsonList(a.WebRedirectURIs)
	spa, err2 := jsonList(a.SPARedirectURIs)
	public, err3 := jsonList(a.PublicClientRedirectURIs)
	logout, err4 := jsonList(a.PostLogoutRedirectURIs)
	credsText, err5 := jsonList(creds)
	permsText, err6 := jsonList(perms)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	return []any{a.AppID, a.DisplayName, web, spa, public, logout, a.IsFallbackPublicClient, a.RequirePKCE,
		a.IDTokenSigningAlg, credsText, permsText, a.AdminAPIDelegated, micros(a.AdminAPIDelegatedSince), micros(a.CreatedAt), micros(a.UpdatedAt), a.AccessTokenSigningAlg}, nil
}

// Application returns the tenant's application with the object ID, or
// ENOTFOUND.
func (r *reader) Application(ctx context.Context, tenantID, id string) (*gatehouse.Application, error) {
	return r.application(ctx, tenantID, id, false)
}

func (r *reader) application(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.Application, error) {
	a, err := scanApplication(r.queryRow(ctx, "SELECT "+applicationColumns+" FROM applications WHERE tenant_id = ? AND id = ?"+
		r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Application", id), "read application")
	}
	return a, nil
}

// ApplicationByAppID returns the tenant's application with the appId
// (client ID), or ENOTFOUND.
func (r *reader) ApplicationByAppID(ctx context.Context, tenantID, appID string) (*gatehouse.Application, error) {
	a, err := scanApplication(r.queryRow(ctx, "SELECT "+applicationColumns+" FROM applications WHERE tenant_id = ? AND app_id = ?",
		tenantID, appID))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "Application with appId %q was not found.", appID),
			"read application")
	}
	return a, nil
}

// ListApplications returns a page of the tenant's applications in object
// ID order. It filters on "appId" and "displayName"; another filter is
// EINVALID.
func (r *reader) ListApplications(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.Application, string, error) {
	return list(ctx, r, listing[*gatehouse.Application]{
		query:   "SELECT " + applicationColumns + " FROM applications WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: map[string]filter{"appId": eq("app_id"), "displayName": eq("display_name")},
		scan:    scanApplication,
		id:      func(a *gatehouse.Application) string { return a.ID },
		what:    "list applications",
	}, opt)
}

// CreateApplication stores a, filling in its object ID (when empty),
// CreatedAt and UpdatedAt; the caller chooses its AppID. It returns
// ECONFLICT if the tenant has an application with the appId or object ID,
// and ENOTFOUND if there is no such tenant.
func (t *tx) CreateApplication(ctx context.Context, a *gatehouse.Application) error {
	if a.ID == "" {
		a.ID = uuid.NewString()
	}
	now := t.s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	args, err := applicationArgs(a)
	if err != nil {
		return err
	}
	conflictErr := func(c string) *gatehouse.Error { return applicationConflict(c, a) }
	ok, err := t.insert(ctx, "INSERT INTO applications ("+applicationColumns+") VALUES "+
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		append([]any{a.TenantID, a.ID}, args...)...)
	if err != nil {
		return t.writeError(err, "create application", conflictErr, notFound("Tenant", a.TenantID))
	}
	if !ok {
		return t.insertConflict(ctx, "create application", conflictErr, "applications_pkey", "applications_app_id_key",
			"SELECT 1 FROM applications WHERE tenant_id = ? AND id = ?", a.TenantID, a.ID)
	}
	return nil
}

// UpdateApplication reads the tenant's application with the object ID,
// calls fn with it and stores what fn left there (its ID, TenantID and
// CreatedAt cannot change), setting UpdatedAt and returning the stored
// application. It returns ENOTFOUND if there is no such application,
// ECONFLICT if another application has the new appId, and fn's error
// unchanged.
func (t *tx) UpdateApplication(ctx context.Context, tenantID, id string, fn func(*gatehouse.Application) error) (*gatehouse.Application, error) {
	old, err := t.application(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	a := *old
	if err := fn(&a); err != nil {
		return nil, err
	}
	a.ID, a.TenantID, a.CreatedAt = old.ID, old.TenantID, old.CreatedAt
	a.UpdatedAt = t.s.now()
	if a.AppID != old.AppID {
		taken, err := t.exists(ctx, "SELECT 1 FROM applications WHERE tenant_id = ? AND app_id = ?", tenantID, a.AppID)
		if err != nil {
			return nil, internal("update application", err)
		}
		if taken {
			return nil, applicationConflict("applications_app_id_key", &a)
		}
	}
	args, err := applicationArgs(&a)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE applications SET app_id = ?, display_name = ?, web_redirect_uris = ?, "+
		"spa_redirect_uris = ?, public_client_redirect_uris = ?, post_logout_redirect_uris = ?, "+
		"is_fallback_public_client = ?, require_pkce = ?, id_token_signing_alg = ?, password_credentials = ?, "+
		"permissions = ?, admin_api_delegated = ?, admin_api_delegated_since = ?, created_at = ?, updated_at = ?, "+
		"access_token_signing_alg = ? WHERE tenant_id = ? AND id = ?",
		append(args, tenantID, id)...); err != nil {
		return nil, t.writeError(err, "update application",
			func(c string) *gatehouse.Error { return applicationConflict(c, &a) }, nil)
	}
	return t.application(ctx, tenantID, id, false)
}

// DeleteApplication removes the tenant's application with the object ID.
// It returns ENOTFOUND if there is no such application.
func (t *tx) DeleteApplication(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM applications WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete application", err)
	}
	if n == 0 {
		return notFound("Application", id)
	}
	return nil
}

// applicationConflict returns the ECONFLICT error for the violated
// constraint.
func applicationConflict(constraint string, a *gatehouse.Application) *gatehouse.Error {
	if constraint == "applications_pkey" {
		return conflict("", "An application with ID %q already exists.", a.ID)
	}
	return conflict("appId", "An application with appId %q already exists.", a.AppID)
}
