package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

// The sign-in log. Each entry is stored as JSON with the columns it is
// filtered and counted by, which CreateSignIn derives from it.

const signInColumns = "tenant_id, id, created_at, record"

func scanSignIn(row scanner) (*gatehouse.SignIn, error) {
	var s gatehouse.SignIn
	var created int64
	var record string
	if err := row.Scan(&s.TenantID, &s.ID, &created, &record); err != nil {
		return nil, err
	}
	if err := fromJSON(record, &s); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(created)
	return &s, nil
}

// SignIn returns the tenant's sign-in log entry with the ID, or ENOTFOUND.
func (r *reader) SignIn(ctx context.Context, tenantID, id string) (*gatehouse.SignIn, error) {
	s, err := scanSignIn(r.queryRow(ctx, "SELECT "+signInColumns+" FROM sign_ins WHERE tenant_id = ? AND id = ?", tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Sign-in", id), "read sign-in")
	}
	return s, nil
}

// ListSignIns returns a page of the tenant's sign-in log entries that f
// selects, newest first (in descending ID order, which is creation order
// for the UUIDv7 IDs CreateSignIn gives). opt.Filter must be empty: f
// says what to select.
func (r *reader) ListSignIns(ctx context.Context, tenantID string, f gatehouse.SignInFilter, opt gatehouse.ListOptions) ([]*gatehouse.SignIn, string, error) {
	var b strings.Builder
	b.WriteString("SELECT " + signInColumns + " FROM sign_ins WHERE tenant_id = ?")
	args := []any{tenantID}
	cond := func(c string, v any) {
		b.WriteString(" AND " + c)
		args = append(args, v)
	}
	if f.UserID != "" {
		cond("user_id = ?", f.UserID)
	}
	if f.AppID != "" {
		cond("app_id = ?", f.AppID)
	}
	if f.ErrorCode != nil {
		cond("error_code = ?", *f.ErrorCode)
	}
	if !f.From.IsZero() {
		cond("created_at >= ?", micros(f.From))
	}
	if !f.To.IsZero() {
		cond("created_at <= ?", micros(f.To))
	}
	return list(ctx, r, listing[*gatehouse.SignIn]{
		query:       b.String(),
		args:        args,
		newestFirst: true,
		scan:        scanSignIn,
		id:          func(s *gatehouse.SignIn) string { return s.ID },
		what:        "list sign-ins",
	}, opt)
}

// CreateSignIn appends s to the tenant's sign-in log, filling in its ID
// (when empty) with a UUIDv7, so that entries sort by creation time, and
// its CreatedAt (when zero) with the store's clock. It returns ECONFLICT
// if the tenant has an entry with the ID and ENOTFOUND if there is no
// such tenant.
func (t *tx) CreateSignIn(ctx context.Context, s *gatehouse.SignIn) error {
	if s.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("sqlstore: sign-in ID: %w", err)
		}
		s.ID = id.String()
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t.s.now()
	}
	s.CreatedAt = utcMicro(s.CreatedAt)
	record, err := jsonText(s)
	if err != nil {
		return err
	}
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A sign-in with ID %q already exists.", s.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO sign_ins (tenant_id, id, created_at, user_id, user_key, app_id, error_code, addr_key, network, risk, located, record) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		s.TenantID, s.ID, micros(s.CreatedAt), s.UserID, strings.ToLower(s.UserPrincipalName), s.AppID, s.Status.ErrorCode,
		gatehouse.AddressKey(s.IPAddress), gatehouse.NetworkOf(s.IPAddress), s.RiskLevelDuringSignIn.Rank(), s.Located(), record)
	if err != nil {
		return t.writeError(err, "create sign-in", conflictErr, notFound("Tenant", s.TenantID))
	}
	if !ok {
		return conflictErr("sign_ins_pkey")
	}
	return nil
}

// SignInHistory answers q from the tenant's sign-in log: the distinct
// accounts (by lowercased user principal name) whose sign-in failed with
// invalid credentials from the address's key since q.FailuresSince;
// whether the user signed in successfully before, and from the address's
// network; the user's newest successful located sign-in; and the user's
// sign-ins of medium or high risk since q.RiskySince. Without a UserID
// only the failures are counted.
func (r *reader) SignInHistory(ctx context.Context, tenantID string, q gatehouse.SignInHistoryQuery) (*gatehouse.SignInHistory, error) {
	var h gatehouse.SignInHistory
	if key := gatehouse.AddressKey(q.Address); key != "" {
		if err := r.queryRow(ctx, "SELECT COUNT(DISTINCT user_key) FROM sign_ins WHERE tenant_id = ? AND addr_key = ? AND created_at >= ? "+
			"AND error_code = ? AND user_key <> ''", tenantID, key, micros(q.FailuresSince), gatehouse.SignInInvalidCredentials).Scan(&h.FailedAccounts); err != nil {
			return nil, internal("read sign-in history", err)
		}
	}
	if q.UserID == "" {
		return &h, nil
	}
	var err error
	if h.SignedInBefore, err = r.exists(ctx, "SELECT 1 FROM sign_ins WHERE tenant_id = ? AND user_id = ? AND error_code = 0 LIMIT 1",
		tenantID, q.UserID); err != nil {
		return nil, internal("read sign-in history", err)
	}
	if network := gatehouse.NetworkOf(q.Address); h.SignedInBefore && network != "" {
		if h.NetworkSeen, err = r.exists(ctx, "SELECT 1 FROM sign_ins WHERE tenant_id = ? AND user_id = ? AND network = ? AND error_code = 0 LIMIT 1",
			tenantID, q.UserID, network); err != nil {
			return nil, internal("read sign-in history", err)
		}
	}
	last, err := scanSignIn(r.queryRow(ctx, "SELECT "+signInColumns+" FROM sign_ins WHERE tenant_id = ? AND user_id = ? AND error_code = 0 AND located = ? "+
		"ORDER BY id DESC LIMIT 1", tenantID, q.UserID, true))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, internal("read sign-in history", err)
	default:
		h.LastLocated = last
	}
	if err := r.queryRow(ctx, "SELECT COUNT(*) FROM sign_ins WHERE tenant_id = ? AND user_id = ? AND created_at >= ? AND risk >= ?",
		tenantID, q.UserID, micros(q.RiskySince), gatehouse.RiskMedium.Rank()).Scan(&h.RiskySignIns); err != nil {
		return nil, internal("read sign-in history", err)
	}
	return &h, nil
}

// DefaultSignInRetention is how long DeleteExpired keeps sign-in log
// entries unless Store.SignInRetention says otherwise: 30 days, as Entra
// keeps them.
const DefaultSignInRetention = 30 * 24 * time.Hour
