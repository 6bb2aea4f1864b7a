package sqlstore

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const authRequestColumns = "tenant_id, id, browser_binding, client_id, redirect_uri, response_mode, scope, state, nonce, " +
	"code_challenge, code_challenge_method, prompt, max_age, login_hint, acr_values, ui_locales, step, mail, verified, " +
	"attribute_values, user_id, created_at, expires_at, claims, purpose, return_to, methods, session_id, progress, register"

func scanAuthRequest(row scanner) (*gatehouse.AuthRequest, error) {
	var r gatehouse.AuthRequest
	var values, methods, progress string
	var maxAge, created, expires int64
	if err := row.Scan(&r.TenantID, &r.ID, &r.BrowserBinding, &r.ClientID, &r.RedirectURI, &r.ResponseMode, &r.Scope,
		&r.State, &r.Nonce, &r.CodeChallenge, &r.CodeChallengeMethod, &r.Prompt, &maxAge, &r.LoginHint, &r.ACRValues,
		&r.UILocales, &r.Step, &r.Mail, &r.Verified, &values, &r.UserID, &created, &expires, &r.Claims, &r.Purpose,
		&r.ReturnTo, &methods, &r.SessionID, &progress, &r.Register); err != nil {
		return nil, err
	}
	if err := errors.Join(fromJSON(values, &r.Values), fromJSON(methods, &r.Methods), fromJSON(progress, &r.Progress)); err != nil {
		return nil, err
	}
	r.MaxAge = int(maxAge)
	r.CreatedAt = fromMicros(created)
	r.ExpiresAt = fromMicros(expires)
	return &r, nil
}

// authRequestArgs returns the values of the request's columns after
// tenant_id and id, in authRequestColumns order.
func authRequestArgs(r *gatehouse.AuthRequest) ([]any, error) {
	values, err1 := jsonMap(r.Values)
	methods, err2 := jsonList(r.Methods)
	progress := ""
	var err3 error
	if !r.Progress.IsZero() {
		progress, err3 = jsonText(r.Progress)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	return []any{r.BrowserBinding, r.ClientID, r.RedirectURI, r.ResponseMode, r.Scope, r.State, r.Nonce, r.CodeChallenge,
		r.CodeChallengeMethod, r.Prompt, int64(r.MaxAge), r.LoginHint, r.ACRValues, r.UILocales, r.Step, r.Mail, r.Verified,
		values, r.UserID, micros(r.CreatedAt), micros(r.ExpiresAt), r.Claims, r.Purpose, r.ReturnTo, methods, r.SessionID,
		progress, r.Register}, nil
}

// AuthRequest returns the tenant's authorization request with the ID,
// expired or not, or ENOTFOUND.
func (r *reader) AuthRequest(ctx context.Context, tenantID, id string) (*gatehouse.AuthRequest, error) {
	return r.authRequest(ctx, tenantID, id, false)
}

func (r *reader) authRequest(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.AuthRequest, error) {
	ar, err := scanAuthRequest(r.queryRow(ctx, "SELECT "+authRequestColumns+" FROM auth_requests WHERE tenant_id = ? AND id = ?"+
		r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Authorization request", id), "read authorization request")
	}
	return ar, nil
}

// CreateAuthRequest stores r, filling in its ID (when empty) and
// CreatedAt. It returns ECONFLICT if the tenant has a request with the ID
// and ENOTFOUND if there is no such tenant.
func (t *tx) CreateAuthRequest(ctx context.Context, r *gatehouse.AuthRequest) error {
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	r.CreatedAt = t.s.now()
	args, err := authRequestArgs(r)
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "An authorization request with ID %q already exists.", r.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO auth_requests ("+authRequestColumns+") VALUES "+
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		append([]any{r.TenantID, r.ID}, args...)...)
	if err != nil {
		return t.writeError(err, "create authorization request", conflictErr, notFound("Tenant", r.TenantID))
	}
	if !ok {
		return conflictErr("auth_requests_pkey")
	}
	return nil
}

// UpdateAuthRequest reads the tenant's authorization request with the ID,
// calls fn with it and stores what fn left there (its ID, TenantID and
// CreatedAt cannot change), returning the stored request. The request
// stays locked until the transaction ends, so concurrent updaters take
// turns. It returns ENOTFOUND if there is no such request and fn's error
// unchanged.
func (t *tx) UpdateAuthRequest(ctx context.Context, tenantID, id string, fn func(*gatehouse.AuthRequest) error) (*gatehouse.AuthRequest, error) {
	old, err := t.authRequest(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	r := *old
	r.Values = maps.Clone(old.Values)
	r.Methods = slices.Clone(old.Methods)
	if p := old.Progress.Pending; p != nil {
		r.Progress.Pending = p.Clone()
	}
	r.Progress.WebAuthn = slices.Clone(old.Progress.WebAuthn)
	if err := fn(&r); err != nil {
		return nil, err
	}
	r.ID, r.TenantID, r.CreatedAt = old.ID, old.TenantID, old.CreatedAt
	args, err := authRequestArgs(&r)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE auth_requests SET browser_binding = ?, client_id = ?, redirect_uri = ?, response_mode = ?, "+
		"scope = ?, state = ?, nonce = ?, code_challenge = ?, code_challenge_method = ?, prompt = ?, max_age = ?, "+
		"login_hint = ?, acr_values = ?, ui_locales = ?, step = ?, mail = ?, verified = ?, attribute_values = ?, "+
		"user_id = ?, created_at = ?, expires_at = ?, claims = ?, purpose = ?, return_to = ?, methods = ?, session_id = ?, "+
		"progress = ?, register = ? WHERE tenant_id = ? AND id = ?",
		append(args, tenantID, id)...); err != nil {
		return nil, internal("update authorization request", err)
	}
	return t.authRequest(ctx, tenantID, id, false)
}

// DeleteAuthRequest removes the tenant's authorization request with the
// ID. It returns ENOTFOUND if there is no such request.
func (t *tx) DeleteAuthRequest(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM auth_requests WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete authorization request", err)
	}
	if n == 0 {
		return notFound("Authorization request", id)
	}
	return nil
}
