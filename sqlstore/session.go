package sqlstore

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const sessionColumns = "tenant_id, id, sid, user_id, auth_time, amr, acr, created_at, last_seen_at, expires_at, methods"

func scanSession(row scanner) (*gatehouse.Session, error) {
	var s gatehouse.Session
	var amr, methods string
	var authTime, created, lastSeen, expires int64
	if err := row.Scan(&s.TenantID, &s.ID, &s.SID, &s.UserID, &authTime, &amr, &s.ACR, &created, &lastSeen, &expires, &methods); err != nil {
		return nil, err
	}
	if err := fromJSON(amr, &s.AMR); err != nil {
		return nil, err
	}
	if err := fromJSON(methods, &s.Methods); err != nil {
		return nil, err
	}
	if len(s.Methods) == 0 {
		s.Methods = legacyMethods(s.AMR, fromMicros(authTime))
	}
	s.AuthTime = fromMicros(authTime)
	s.CreatedAt = fromMicros(created)
	s.LastSeenAt = fromMicros(lastSeen)
	s.ExpiresAt = fromMicros(expires)
	return &s, nil
}

// sessionNotFound is the error for a session that does not exist. It does
// not repeat the ID, a hash of the browser's cookie.
func sessionNotFound() *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Session was not found.")
}

// Session returns the tenant's session with the ID, expired or not, or
// ENOTFOUND.
func (r *reader) Session(ctx context.Context, tenantID, id string) (*gatehouse.Session, error) {
	return r.session(ctx, tenantID, id, false)
}

func (r *reader) session(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.Session, error) {
	s, err := scanSession(r.queryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE tenant_id = ? AND id = ?"+
		r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, sessionNotFound(), "read session")
	}
	return s, nil
}

// CreateSession stores s, filling in its ID (when empty), CreatedAt and,
// when zero, LastSeenAt with the store's clock. It returns ENOTFOUND if
// the user is not a user of the tenant and ECONFLICT if the tenant has a
// session with the ID.
func (t *tx) CreateSession(ctx context.Context, s *gatehouse.Session) error {
	if err := t.userExists(ctx, s.TenantID, s.UserID); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	s.CreatedAt = t.s.now()
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	amr, err1 := jsonList(s.AMR)
	methods, err2 := jsonList(s.Methods)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error { return conflict("", "A session with this ID already exists.") }
	ok, err := t.insert(ctx, "INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		s.TenantID, s.ID, s.SID, s.UserID, micros(s.AuthTime), amr, s.ACR, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), methods)
	if err != nil {
		// Only a user deleted meanwhile explains a foreign key violation.
		return t.writeError(err, "create session", conflictErr, notFound("User", s.UserID))
	}
	if !ok {
		return conflictErr("sessions_pkey")
	}
	return nil
}

// UpdateSession reads the tenant's session with the ID, calls fn with it
// and stores what fn left there (its ID, TenantID, UserID and CreatedAt
// cannot change), returning the stored session. It returns ENOTFOUND if
// there is no such session and fn's error unchanged.
func (t *tx) UpdateSession(ctx context.Context, tenantID, id string, fn func(*gatehouse.Session) error) (*gatehouse.Session, error) {
	old, err := t.session(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	s := old.Clone()
	if err := fn(s); err != nil {
		return nil, err
	}
	amr, err1 := jsonList(s.AMR)
	methods, err2 := jsonList(s.Methods)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE sessions SET auth_time = ?, amr = ?, acr = ?, last_seen_at = ?, expires_at = ?, methods = ? "+
		"WHERE tenant_id = ? AND id = ?", micros(s.AuthTime), amr, s.ACR, micros(s.LastSeenAt), micros(s.ExpiresAt), methods,
		tenantID, id); err != nil {
		return nil, internal("update session", err)
	}
	return t.session(ctx, tenantID, id, false)
}

// DeleteSession removes the tenant's session with the ID; the grants that
// came from it stay (RevokeSessionGrants ends them). It returns ENOTFOUND
// if there is no such session.
func (t *tx) DeleteSession(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete session", err)
	}
	if n == 0 {
		return sessionNotFound()
	}
	return nil
}

// DeleteUserSessions removes every session of the tenant's user. A user
// without sessions, or one that does not exist, is not an error.
func (t *tx) DeleteUserSessions(ctx context.Context, tenantID, userID string) error {
	if _, err := t.exec(ctx, "DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?", tenantID, userID); err != nil {
		return internal("delete user's sessions", err)
	}
	return nil
}
