package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

// MethodsPolicy returns the tenant's authentication methods policy, the
// default one while the tenant has never changed it, or ENOTFOUND if there
// is no such tenant.
func (r *reader) MethodsPolicy(ctx context.Context, tenantID string) (*gatehouse.MethodsPolicy, error) {
	return r.methodsPolicy(ctx, tenantID, false)
}

func (r *reader) methodsPolicy(ctx context.Context, tenantID string, forUpdate bool) (*gatehouse.MethodsPolicy, error) {
	var methods string
	var updated int64
	err := r.queryRow(ctx, "SELECT methods, updated_at FROM method_policies WHERE tenant_id = ?"+r.lock(forUpdate), tenantID).
		Scan(&methods, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		ok, err := r.exists(ctx, "SELECT 1 FROM tenants WHERE id = ?", tenantID)
		if err != nil {
			return nil, internal("read authentication methods policy", err)
		}
		if !ok {
			return nil, notFound("Tenant", tenantID)
		}
		return gatehouse.DefaultMethodsPolicy(tenantID), nil
	} else if err != nil {
		return nil, internal("read authentication methods policy", err)
	}
	p := gatehouse.DefaultMethodsPolicy(tenantID)
	var stored []gatehouse.MethodConfig
	if err := fromJSON(methods, &stored); err != nil {
		return nil, err
	}
	// Stored configurations replace the defaults; a method added by a
	// later version keeps its default until it is changed.
	for _, c := range stored {
		p.SetConfig(c)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// UpdateMethodsPolicy reads the tenant's policy (the default one if it has
// none), calls fn with it and stores what fn left there, setting UpdatedAt.
// Concurrent updaters of one tenant's policy take turns. It returns
// ENOTFOUND if there is no such tenant and fn's error unchanged.
func (t *tx) UpdateMethodsPolicy(ctx context.Context, tenantID string, fn func(*gatehouse.MethodsPolicy) error) (*gatehouse.MethodsPolicy, error) {
	// The row may not exist yet, which SELECT … FOR UPDATE cannot lock.
	if err := t.lockName(ctx, lockClassPolicy, fmt.Sprintf("methods %q", tenantID)); err != nil {
		return nil, internal("lock authentication methods policy", err)
	}
	old, err := t.methodsPolicy(ctx, tenantID, true)
	if err != nil {
		return nil, err
	}
	p := old.Clone()
	if err := fn(p); err != nil {
		return nil, err
	}
	p.TenantID = tenantID
	p.UpdatedAt = t.s.now()
	methods, err := jsonText(p.Methods)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "INSERT INTO method_policies (tenant_id, methods, updated_at) VALUES (?, ?, ?) "+
		"ON CONFLICT (tenant_id) DO UPDATE SET methods = excluded.methods, updated_at = excluded.updated_at",
		tenantID, methods, micros(p.UpdatedAt)); err != nil {
		return nil, internal("update authentication methods policy", err)
	}
	return t.methodsPolicy(ctx, tenantID, false)
}

const userMethodColumns = "tenant_id, id, user_id, method, display_name, credential_id, data, created_at, last_used_at"

// userMethodData is what the data column holds: the method's own fields.
type userMethodData struct {
	TOTP          *gatehouse.TOTPSecret        `json:"totp,omitempty"`
	Phone         string                       `json:"phone,omitempty"`
	Passkey       *gatehouse.PasskeyCredential `json:"passkey,omitempty"`
	RecoveryCodes []gatehouse.RecoveryCode     `json:"recoveryCodes,omitempty"`
}

func scanUserMethod(row scanner) (*gatehouse.UserMethod, error) {
	var m gatehouse.UserMethod
	var credID, data string
	var created, used int64
	if err := row.Scan(&m.TenantID, &m.ID, &m.UserID, &m.Method, &m.DisplayName, &credID, &data, &created, &used); err != nil {
		return nil, err
	}
	var d userMethodData
	if err := fromJSON(data, &d); err != nil {
		return nil, err
	}
	m.TOTP, m.Phone, m.Passkey, m.RecoveryCodes = d.TOTP, d.Phone, d.Passkey, d.RecoveryCodes
	m.CreatedAt = fromMicros(created)
	m.LastUsedAt = fromMicros(used)
	return &m, nil
}

// userMethodArgs returns the credential_id and data columns of m.
func userMethodArgs(m *gatehouse.UserMethod) (string, string, error) {
	credID := ""
	if m.Passkey != nil {
		credID = hex.EncodeToString(m.Passkey.CredentialID)
	}
	data, err := jsonText(userMethodData{TOTP: m.TOTP, Phone: m.Phone, Passkey: m.Passkey, RecoveryCodes: m.RecoveryCodes})
	return credID, data, err
}

// UserMethods returns the methods the tenant's user registered, oldest
// first; none for a user without methods or one that does not exist.
func (r *reader) UserMethods(ctx context.Context, tenantID, userID string) ([]*gatehouse.UserMethod, error) {
	rows, err := r.query(ctx, "SELECT "+userMethodColumns+" FROM user_methods WHERE tenant_id = ? AND user_id = ? "+
		"ORDER BY created_at, id", tenantID, userID)
	if err != nil {
		return nil, internal("list user methods", err)
	}
	defer rows.Close()
	var out []*gatehouse.UserMethod
	for rows.Next() {
		m, err := scanUserMethod(rows)
		if err != nil {
			return nil, internal("list user methods", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list user methods", err)
	}
	return out, nil
}

// UserMethod returns the tenant's registered method with the ID, or
// ENOTFOUND.
func (r *reader) UserMethod(ctx context.Context, tenantID, id string) (*gatehouse.UserMethod, error) {
	return r.userMethod(ctx, tenantID, id, false)
}

func (r *reader) userMethod(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.UserMethod, error) {
	m, err := scanUserMethod(r.queryRow(ctx, "SELECT "+userMethodColumns+" FROM user_methods WHERE tenant_id = ? AND id = ?"+
		r.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Authentication method", id), "read user method")
	}
	return m, nil
}

// UserMethodByCredential returns the tenant's passkey with the credential
// ID, or ENOTFOUND.
func (r *reader) UserMethodByCredential(ctx context.Context, tenantID string, credentialID []byte) (*gatehouse.UserMethod, error) {
	if len(credentialID) == 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "No passkey with this credential ID was found.")
	}
	m, err := scanUserMethod(r.queryRow(ctx, "SELECT "+userMethodColumns+" FROM user_methods WHERE tenant_id = ? AND credential_id = ?",
		tenantID, hex.EncodeToString(credentialID)))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "No passkey with this credential ID was found."), "read user method")
	}
	return m, nil
}

// CreateUserMethod stores m, filling in its ID (when empty) and CreatedAt.
// It returns ENOTFOUND if the user is not a user of the tenant and
// ECONFLICT if the tenant has a method with the ID or a passkey with m's
// credential ID, or m is a phone (MethodSMS) of a user who has one.
func (t *tx) CreateUserMethod(ctx context.Context, m *gatehouse.UserMethod) error {
	if err := t.userExists(ctx, m.TenantID, m.UserID); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	m.CreatedAt = t.s.now()
	credID, data, err := userMethodArgs(m)
	if err != nil {
		return err
	}
	conflictErr := func(c string) *gatehouse.Error {
		switch c {
		case "user_methods_credential_key":
			return conflict("", "This passkey is registered already.")
		case "user_methods_one_phone":
			return conflict("", "This user has a phone for text messages already; a user has one.")
		}
		return conflict("", "An authentication method with ID %q already exists.", m.ID)
	}
	// Besides the primary key, a passkey can conflict with another's
	// credential ID, and a phone with the user's phone.
	other := "user_methods_credential_key"
	if m.Method == gatehouse.MethodSMS {
		other = "user_methods_one_phone"
	}
	ok, err := t.insert(ctx, "INSERT INTO user_methods ("+userMethodColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		m.TenantID, m.ID, m.UserID, m.Method, m.DisplayName, credID, data, micros(m.CreatedAt), micros(m.LastUsedAt))
	if err != nil {
		// Only a user deleted meanwhile explains a foreign key violation.
		return t.writeError(err, "create user method", conflictErr, notFound("User", m.UserID))
	}
	if !ok {
		return t.insertConflict(ctx, "create user method", conflictErr, "user_methods_pkey", other,
			"SELECT 1 FROM user_methods WHERE tenant_id = ? AND id = ?", m.TenantID, m.ID)
	}
	return nil
}

// UpdateUserMethod reads the tenant's method with the ID, calls fn with it
// and stores what fn left there (its ID, TenantID, UserID, Method,
// CreatedAt and a passkey's credential ID cannot change), returning the
// stored method. The method stays locked until the transaction ends. It
// returns ENOTFOUND if there is no such method and fn's error unchanged.
func (t *tx) UpdateUserMethod(ctx context.Context, tenantID, id string, fn func(*gatehouse.UserMethod) error) (*gatehouse.UserMethod, error) {
	old, err := t.userMethod(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	m := old.Clone()
	if err := fn(m); err != nil {
		return nil, err
	}
	m.ID, m.TenantID, m.UserID, m.Method, m.CreatedAt = old.ID, old.TenantID, old.UserID, old.Method, old.CreatedAt
	if old.Passkey != nil && m.Passkey != nil {
		m.Passkey.CredentialID = old.Passkey.CredentialID
	}
	_, data, err := userMethodArgs(m)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE user_methods SET display_name = ?, data = ?, last_used_at = ? WHERE tenant_id = ? AND id = ?",
		m.DisplayName, data, micros(m.LastUsedAt), tenantID, id); err != nil {
		return nil, internal("update user method", err)
	}
	return t.userMethod(ctx, tenantID, id, false)
}

// DeleteUserMethod removes the tenant's method with the ID, or returns
// ENOTFOUND.
func (t *tx) DeleteUserMethod(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM user_methods WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete user method", err)
	}
	if n == 0 {
		return notFound("Authentication method", id)
	}
	return nil
}
