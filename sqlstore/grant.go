package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const grantColumns = "tenant_id, id, user_id, client_id, session_id, scope, nonce, auth_time, amr, acr, created_at, " +
	"expires_at, revoked_at, methods, claims"

func scanGrant(row scanner) (*gatehouse.Grant, error) {
	var g gatehouse.Grant
	var amr, methods string
	var authTime, created, expires, revoked int64
	if err := row.Scan(&g.TenantID, &g.ID, &g.UserID, &g.ClientID, &g.SessionID, &g.Scope, &g.Nonce, &authTime, &amr,
		&g.ACR, &created, &expires, &revoked, &methods, &g.Claims); err != nil {
		return nil, err
	}
	if err := fromJSON(amr, &g.AMR); err != nil {
		return nil, err
	}
	if err := fromJSON(methods, &g.Methods); err != nil {
		return nil, err
	}
	if len(g.Methods) == 0 {
		g.Methods = legacyMethods(g.AMR, fromMicros(authTime))
	}
	g.AuthTime = fromMicros(authTime)
	g.CreatedAt = fromMicros(created)
	g.ExpiresAt = fromMicros(expires)
	g.RevokedAt = fromMicros(revoked)
	return &g, nil
}

// Grant returns the tenant's grant with the ID, expired or revoked or not,
// or ENOTFOUND.
func (r *reader) Grant(ctx context.Context, tenantID, id string) (*gatehouse.Grant, error) {
	g, err := scanGrant(r.queryRow(ctx, "SELECT "+grantColumns+" FROM grants WHERE tenant_id = ? AND id = ?", tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Grant", id), "read grant")
	}
	return g, nil
}

// CreateGrant stores g, filling in its ID (when empty) and CreatedAt;
// RevokedAt is stored as given (normally zero). It returns ENOTFOUND if the
// user is not a user of the tenant or the client is not one of its
// applications (by appId), and ECONFLICT if the tenant has a grant with the
// ID. A grant goes when its user or its application is deleted.
func (t *tx) CreateGrant(ctx context.Context, g *gatehouse.Grant) error {
	if err := t.userExists(ctx, g.TenantID, g.UserID); err != nil {
		return err
	}
	ok, err := t.exists(ctx, "SELECT 1 FROM applications WHERE tenant_id = ? AND app_id = ?", g.TenantID, g.ClientID)
	if err != nil {
		return internal("create grant", err)
	}
	if !ok {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "Application with appId %q was not found.", g.ClientID)
	}
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	g.CreatedAt = t.s.now()
	amr, err1 := jsonList(g.AMR)
	methods, err2 := jsonList(g.Methods)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error { return conflict("", "A grant with ID %q already exists.", g.ID) }
	ok, err = t.insert(ctx, "INSERT INTO grants ("+grantColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", g.TenantID, g.ID, g.UserID, g.ClientID, g.SessionID, g.Scope, g.Nonce, micros(g.AuthTime),
		amr, g.ACR, micros(g.CreatedAt), micros(g.ExpiresAt), micros(g.RevokedAt), methods, g.Claims)
	if err != nil {
		// Only a user or application deleted meanwhile explains a foreign
		// key violation.
		return t.writeError(err, "create grant", conflictErr,
			gatehouse.Errorf(gatehouse.ENOTFOUND, "User %q or application %q was not found.", g.UserID, g.ClientID))
	}
	if !ok {
		return conflictErr("grants_pkey")
	}
	return nil
}

// RevokeGrant marks the tenant's grant with the ID revoked at now (the
// store's clock when now is zero). A grant that is already revoked keeps
// the time of its first revocation. It returns ENOTFOUND if there is no
// such grant.
func (t *tx) RevokeGrant(ctx context.Context, tenantID, id string, now time.Time) error {
	n, err := t.affected(ctx, "UPDATE grants SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at = 0",
		t.stamp(now), tenantID, id)
	if err != nil {
		return internal("revoke grant", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "SELECT 1 FROM grants WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return internal("revoke grant", err)
		}
		if !ok {
			return notFound("Grant", id)
		}
	}
	return nil
}

// RevokeUserGrants marks every unrevoked grant of the tenant's user
// revoked at now (the store's clock when now is zero). A user without
// grants, or one that does not exist, is not an error.
func (t *tx) RevokeUserGrants(ctx context.Context, tenantID, userID string, now time.Time) error {
	if _, err := t.exec(ctx, "UPDATE grants SET revoked_at = ? WHERE tenant_id = ? AND user_id = ? AND revoked_at = 0",
		t.stamp(now), tenantID, userID); err != nil {
		return internal("revoke user's grants", err)
	}
	return nil
}

// RevokeSessionGrants marks every unrevoked grant that came from the
// tenant's browser session revoked at now (the store's clock when now is
// zero). A session without grants, or one that does not exist, is not an
// error; the empty session ID names no session, so it revokes nothing.
func (t *tx) RevokeSessionGrants(ctx context.Context, tenantID, sessionID string, now time.Time) error {
	if sessionID == "" {
		return nil
	}
	if _, err := t.exec(ctx, "UPDATE grants SET revoked_at = ? WHERE tenant_id = ? AND session_id = ? AND revoked_at = 0",
		t.stamp(now), tenantID, sessionID); err != nil {
		return internal("revoke session's grants", err)
	}
	return nil
}

const refreshTokenColumns = "tenant_id, id, grant_id, created_at, expires_at, used_at"

func scanRefreshToken(row scanner) (*gatehouse.RefreshToken, error) {
	var rt gatehouse.RefreshToken
	var created, expires, used int64
	if err := row.Scan(&rt.TenantID, &rt.ID, &rt.GrantID, &created, &expires, &used); err != nil {
		return nil, err
	}
	rt.CreatedAt = fromMicros(created)
	rt.ExpiresAt = fromMicros(expires)
	rt.UsedAt = fromMicros(used)
	return &rt, nil
}

// refreshTokenNotFound is the error for a refresh token that does not
// exist or has expired; it says nothing about which, nor the ID (a hash of
// the token).
func refreshTokenNotFound() *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Refresh token was not found or has expired.")
}

// CreateRefreshToken stores rt, filling in its ID (when empty) and
// CreatedAt; UsedAt is stored as given (normally zero). It returns
// ENOTFOUND if the tenant has no grant with rt's GrantID and ECONFLICT if
// it has a refresh token with the ID. A refresh token goes with its grant.
func (t *tx) CreateRefreshToken(ctx context.Context, rt *gatehouse.RefreshToken) error {
	ok, err := t.exists(ctx, "SELECT 1 FROM grants WHERE tenant_id = ? AND id = ?", rt.TenantID, rt.GrantID)
	if err != nil {
		return internal("create refresh token", err)
	}
	if !ok {
		return notFound("Grant", rt.GrantID)
	}
	if rt.ID == "" {
		rt.ID = uuid.NewString()
	}
	rt.CreatedAt = t.s.now()
	conflictErr := func(string) *gatehouse.Error { return conflict("", "A refresh token with this ID already exists.") }
	ok, err = t.insert(ctx, "INSERT INTO refresh_tokens ("+refreshTokenColumns+") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		rt.TenantID, rt.ID, rt.GrantID, micros(rt.CreatedAt), micros(rt.ExpiresAt), micros(rt.UsedAt))
	if err != nil {
		// Only a grant deleted meanwhile explains a foreign key violation.
		return t.writeError(err, "create refresh token", conflictErr, notFound("Grant", rt.GrantID))
	}
	if !ok {
		return conflictErr("refresh_tokens_pkey")
	}
	return nil
}

// UseRefreshToken marks the tenant's refresh token with the ID used at now
// (the store's clock when now is zero) and returns it. Exactly one of any number of concurrent calls for one
// token succeeds: the mark is a conditional UPDATE of an unused, unexpired
// row. Every other call, then or later, returns the used token together
// with ECONFLICT, even once it has expired, so that the caller can revoke
// its grant (AS-6). A token that was never used and has expired (ExpiresAt
// is not after now), or that does not exist, is ENOTFOUND.
func (t *tx) UseRefreshToken(ctx context.Context, tenantID, id string, now time.Time) (*gatehouse.RefreshToken, error) {
	at := t.stamp(now)
	n, err := t.affected(ctx, "UPDATE refresh_tokens SET used_at = ? WHERE tenant_id = ? AND id = ? AND used_at = 0 AND expires_at > ?",
		at, tenantID, id, at)
	if err != nil {
		return nil, internal("use refresh token", err)
	}
	rt, err := scanRefreshToken(t.queryRow(ctx, "SELECT "+refreshTokenColumns+" FROM refresh_tokens WHERE tenant_id = ? AND id = ?",
		tenantID, id))
	if err != nil {
		return nil, noRows(err, refreshTokenNotFound(), "read refresh token")
	}
	switch {
	case n == 1:
		return rt, nil
	case !rt.UsedAt.IsZero():
		return rt, gatehouse.Errorf(gatehouse.ECONFLICT, "Refresh token was already used.")
	}
	return nil, refreshTokenNotFound()
}
