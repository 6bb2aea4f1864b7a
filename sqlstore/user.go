package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const userColumns = "tenant_id, id, mail, display_name, given_name, surname, city, country, postal_code, state, " +
	"street_address, job_title, account_enabled, password_hash, custom_attributes, created_at, updated_at, password_changed_at"

func scanUser(row scanner) (*gatehouse.User, error) {
	var u gatehouse.User
	var attrs string
	var created, updated, changed int64
	if err := row.Scan(&u.TenantID, &u.ID, &u.Mail, &u.DisplayName, &u.GivenName, &u.Surname, &u.City,
		&u.Country, &u.PostalCode, &u.State, &u.StreetAddress, &u.JobTitle, &u.AccountEnabled,
		&u.PasswordHash, &attrs, &created, &updated, &changed); err != nil {
		return nil, err
	}
	if err := fromJSON(attrs, &u.CustomAttributes); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(updated)
	u.PasswordChangedAt = fromMicros(changed)
	return &u, nil
}

// User returns the tenant's user with the ID, or ENOTFOUND.
func (r *reader) User(ctx context.Context, tenantID, id string) (*gatehouse.User, error) {
	return r.user(ctx, tenantID, id, false)
}

func (r *reader) user(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.User, error) {
	u, err := scanUser(r.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE tenant_id = ? AND id = ?"+r.lock(forUpdate),
		tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("User", id), "read user")
	}
	return u, nil
}

// UserByMail returns the tenant's user with the email address, compared
// case-insensitively, or ENOTFOUND.
func (r *reader) UserByMail(ctx context.Context, tenantID, mail string) (*gatehouse.User, error) {
	u, err := scanUser(r.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE tenant_id = ? AND mail_key = ?",
		tenantID, gatehouse.NormalizeMail(mail)))
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "User with mail %q was not found.", mail), "read user")
	}
	return u, nil
}

// userFilters are the $filter properties of user listings.
var userFilters = map[string]filter{
	"mail": func(v string) (string, []any) {
		return "mail_key = ?", []any{gatehouse.NormalizeMail(v)}
	},
	"displayName": eq("display_name"),
}

// ListUsers returns a page of the tenant's users in ID order. It filters on
// "mail" (case-insensitive) and "displayName"; another filter is EINVALID.
func (r *reader) ListUsers(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.User, string, error) {
	return list(ctx, r, listing[*gatehouse.User]{
		query:   "SELECT " + userColumns + " FROM users WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: userFilters,
		scan:    scanUser,
		id:      func(u *gatehouse.User) string { return u.ID },
		what:    "list users",
	}, opt)
}

// CreateUser stores u, filling in its ID (when empty), CreatedAt and
// UpdatedAt. It returns ECONFLICT if the tenant has a user with the mail
// (compared case-insensitively) or ID, and ENOTFOUND if there is no such
// tenant.
func (t *tx) CreateUser(ctx context.Context, u *gatehouse.User) error {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	now := t.s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if u.PasswordHash != "" && u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = now // the first password is set now
	}
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	conflictErr := func(c string) *gatehouse.Error { return userConflict(c, u) }
	ok, err := t.insert(ctx, "INSERT INTO users ("+userColumns+", mail_key) VALUES "+
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		append([]any{u.TenantID, u.ID}, args...)...)
	if err != nil {
		return t.writeError(err, "create user", conflictErr, notFound("Tenant", u.TenantID))
	}
	if !ok {
		return t.insertConflict(ctx, "create user", conflictErr, "users_pkey", "users_mail_key",
			"SELECT 1 FROM users WHERE tenant_id = ? AND id = ?", u.TenantID, u.ID)
	}
	return nil
}

// userArgs returns the values of the user's columns after tenant_id and id,
// in userColumns order, followed by mail_key.
func userArgs(u *gatehouse.User) ([]any, error) {
	attrs, err := jsonMap(u.CustomAttributes)
	if err != nil {
		return nil, err
	}
	return []any{u.Mail, u.DisplayName, u.GivenName, u.Surname, u.City, u.Country, u.PostalCode, u.State,
		u.StreetAddress, u.JobTitle, u.AccountEnabled, u.PasswordHash, attrs,
		micros(u.CreatedAt), micros(u.UpdatedAt), micros(u.PasswordChangedAt), gatehouse.NormalizeMail(u.Mail)}, nil
}

// UpdateUser reads the tenant's user with the ID, calls fn with it and
// stores what fn left there (its ID, TenantID and CreatedAt cannot change),
// setting UpdatedAt and returning the stored user. On PostgreSQL the row
// stays locked until the transaction ends, so concurrent updaters of one
// user take turns. It returns ENOTFOUND if there is no such user, ECONFLICT
// if another user has the new mail, and fn's error unchanged.
func (t *tx) UpdateUser(ctx context.Context, tenantID, id string, fn func(*gatehouse.User) error) (*gatehouse.User, error) {
	old, err := t.user(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	u := *old
	if err := fn(&u); err != nil {
		return nil, err
	}
	u.ID, u.TenantID, u.CreatedAt = old.ID, old.TenantID, old.CreatedAt
	u.UpdatedAt = t.s.now()
	key := gatehouse.NormalizeMail(u.Mail)
	if key != gatehouse.NormalizeMail(old.Mail) {
		taken, err := t.exists(ctx, "SELECT 1 FROM users WHERE tenant_id = ? AND mail_key = ? AND id <> ?", tenantID, key, id)
		if err != nil {
			return nil, internal("update user", err)
		}
		if taken {
			return nil, userConflict("users_mail_key", &u)
		}
	}
	args, err := userArgs(&u)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE users SET mail = ?, display_name = ?, given_name = ?, surname = ?, city = ?, "+
		"country = ?, postal_code = ?, state = ?, street_address = ?, job_title = ?, account_enabled = ?, "+
		"password_hash = ?, custom_attributes = ?, created_at = ?, "+
		"updated_at = ?, password_changed_at = ?, mail_key = ? WHERE tenant_id = ? AND id = ?",
		append(args, tenantID, id)...); err != nil {
		return nil, t.writeError(err, "update user", func(c string) *gatehouse.Error { return userConflict(c, &u) }, nil)
	}
	return t.user(ctx, tenantID, id, false)
}

// DeleteUser removes the tenant's user with the ID together with its group
// memberships and role assignments. It returns ENOTFOUND if there is no
// such user.
func (t *tx) DeleteUser(ctx context.Context, tenantID, id string) error {
	// Memberships and role assignments go by ON DELETE CASCADE.
	n, err := t.affected(ctx, "DELETE FROM users WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete user", err)
	}
	if n == 0 {
		return notFound("User", id)
	}
	return nil
}

// userConflict returns the ECONFLICT error for the violated constraint.
func userConflict(constraint string, u *gatehouse.User) *gatehouse.Error {
	if constraint == "users_pkey" {
		return conflict("", "A user with ID %q already exists.", u.ID)
	}
	return conflict("mail", "A user with mail %q already exists.", u.Mail)
}
