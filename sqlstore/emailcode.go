package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const emailCodeColumns = "tenant_id, id, purpose, binding, mail, code_hash, attempts, expires_at, consumed_at, created_at"

func scanEmailCode(row scanner) (*gatehouse.EmailCode, error) {
	var c gatehouse.EmailCode
	var attempts, expires, consumed, created int64
	if err := row.Scan(&c.TenantID, &c.ID, &c.Purpose, &c.Binding, &c.Mail, &c.CodeHash, &attempts, &expires, &consumed,
		&created); err != nil {
		return nil, err
	}
	c.Attempts = int(attempts)
	c.ExpiresAt = fromMicros(expires)
	c.ConsumedAt = fromMicros(consumed)
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// ActiveEmailCode returns the tenant's newest unconsumed code of the
// purpose bound to the binding, expired or not, or ENOTFOUND. The store
// keeps at most one such code.
func (r *reader) ActiveEmailCode(ctx context.Context, tenantID, purpose, binding string) (*gatehouse.EmailCode, error) {
	c, err := scanEmailCode(r.queryRow(ctx, "SELECT "+emailCodeColumns+" FROM email_codes "+
		"WHERE tenant_id = ? AND purpose = ? AND binding = ? AND consumed_at = 0 ORDER BY created_at DESC, id DESC LIMIT 1",
		tenantID, purpose, binding))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "No unused %s code was found for this request.", purpose),
			"read email code")
	}
	return c, nil
}

func (t *tx) emailCode(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.EmailCode, error) {
	c, err := scanEmailCode(t.queryRow(ctx, "SELECT "+emailCodeColumns+" FROM email_codes WHERE tenant_id = ? AND id = ?"+
		t.lock(forUpdate), tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Email code", id), "read email code")
	}
	return c, nil
}

// CreateEmailCode stores c, filling in its ID (when empty) and CreatedAt,
// and marks every earlier unconsumed code of the tenant with c's purpose
// and binding consumed at CreatedAt (EO-3); ConsumedAt is stored as given
// (normally zero). Concurrent creators of codes of one purpose and binding
// take turns (on PostgreSQL through an advisory lock), and the schema lets
// at most one such code be unconsumed, so that of two codes created at
// once the later one still invalidates the earlier. It returns
// ECONFLICT if the tenant has a code with the ID and ENOTFOUND if there is
// no such tenant.
func (t *tx) CreateEmailCode(ctx context.Context, c *gatehouse.EmailCode) error {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	c.CreatedAt = t.s.now()
	conflictErr := func(string) *gatehouse.Error { return conflict("", "An email code with ID %q already exists.", c.ID) }
	// Creators of codes of one binding take turns, so that each finds the
	// code of the one before committed and invalidates it.
	if err := t.lockName(ctx, lockClassEmailCode, fmt.Sprintf("%q %q %q", c.TenantID, c.Purpose, c.Binding)); err != nil {
		return internal("create email code", err)
	}
	for range maxAttempts {
		if _, err := t.exec(ctx, "UPDATE email_codes SET consumed_at = ? WHERE tenant_id = ? AND purpose = ? AND binding = ? "+
			"AND consumed_at = 0", micros(c.CreatedAt), c.TenantID, c.Purpose, c.Binding); err != nil {
			return internal("create email code", err)
		}
		ok, err := t.insert(ctx, "INSERT INTO email_codes ("+emailCodeColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "+
			"ON CONFLICT DO NOTHING", c.TenantID, c.ID, c.Purpose, c.Binding, c.Mail, c.CodeHash, int64(c.Attempts),
			micros(c.ExpiresAt), micros(c.ConsumedAt), micros(c.CreatedAt))
		if err != nil {
			return t.writeError(err, "create email code", conflictErr, notFound("Tenant", c.TenantID))
		}
		if ok {
			return nil
		}
		taken, err := t.exists(ctx, "SELECT 1 FROM email_codes WHERE tenant_id = ? AND id = ?", c.TenantID, c.ID)
		if err != nil {
			return internal("create email code", err)
		}
		if taken {
			return conflictErr("email_codes_pkey")
		}
		// Another transaction made a code of the binding unconsumed after
		// the UPDATE above (UpdateEmailCode does not take the name lock):
		// invalidate it too, and insert again.
	}
	return internal("create email code", errors.New("other codes of the binding kept being created"))
}

// UpdateEmailCode reads the tenant's code with the ID, calls fn with it and
// stores what fn left there (its ID, TenantID, Purpose, Binding and
// CreatedAt cannot change), returning the stored code. The code stays
// locked until the transaction ends (on SQLite the whole database does),
// so concurrent tries of one code take turns and each sees what the one
// before wrote. It returns ENOTFOUND if there is no such code, ECONFLICT if
// fn un-consumes it while another code of its binding is unconsumed, and
// fn's error unchanged.
func (t *tx) UpdateEmailCode(ctx context.Context, tenantID, id string, fn func(*gatehouse.EmailCode) error) (*gatehouse.EmailCode, error) {
	old, err := t.emailCode(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	c := *old
	if err := fn(&c); err != nil {
		return nil, err
	}
	c.ID, c.TenantID, c.Purpose, c.Binding, c.CreatedAt = old.ID, old.TenantID, old.Purpose, old.Binding, old.CreatedAt
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "Another %s code of this request is in use.", c.Purpose)
	}
	if c.ConsumedAt.IsZero() && !old.ConsumedAt.IsZero() {
		taken, err := t.exists(ctx, "SELECT 1 FROM email_codes WHERE tenant_id = ? AND purpose = ? AND binding = ? "+
			"AND consumed_at = 0", tenantID, c.Purpose, c.Binding)
		if err != nil {
			return nil, internal("update email code", err)
		}
		if taken {
			return nil, conflictErr("email_codes_active_key")
		}
	}
	if _, err := t.exec(ctx, "UPDATE email_codes SET mail = ?, code_hash = ?, attempts = ?, expires_at = ?, consumed_at = ? "+
		"WHERE tenant_id = ? AND id = ?", c.Mail, c.CodeHash, int64(c.Attempts), micros(c.ExpiresAt), micros(c.ConsumedAt),
		tenantID, id); err != nil {
		return nil, t.writeError(err, "update email code", conflictErr, nil)
	}
	return t.emailCode(ctx, tenantID, id, false)
}
