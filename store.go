package gatehouse

import (
	"context"
	"time"
)

// ListOptions selects one page of a listing. Items are returned in a stable
// order; After is the opaque cursor of the previous page's last item.
type ListOptions struct {
	Top   int    // page size; 0 means DefaultPageSize, never more than MaxPageSize
	After string // cursor from the previous page, "" for the first page
	// Filter restricts the listing to items whose field equals the value.
	// Field names are the Graph property names each listing documents
	// (e.g. "mail", "displayName", "appId", "principalId").
	Filter map[string]string
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 999
)

// PageSize returns the effective page size of o.
func (o ListOptions) PageSize() int {
	switch {
	case o.Top <= 0:
		return DefaultPageSize
	case o.Top > MaxPageSize:
		return MaxPageSize
	}
	return o.Top
}

// Store is the storage contract. Reads outside a transaction see committed
// data; every write happens inside Update, atomically. Implementations return
// *Error with ENOTFOUND for a missing object and ECONFLICT for a violated
// uniqueness rule or an already consumed single-use item; other errors are
// internal.
type Store interface {
	Reader
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil; otherwise it rolls back and returns fn's error. fn may be
	// run again if the backend reports a serialization conflict, so it must
	// not have side effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Reader holds every read of the store. All of a tenant's objects are read
// with the tenant's ID: nothing of one tenant is reachable through another.
type Reader interface {
	Tenant(ctx context.Context, id string) (*Tenant, error)
	TenantByName(ctx context.Context, name string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]*Tenant, error)

	User(ctx context.Context, tenantID, id string) (*User, error)
	// UserByMail finds a user by email address, case-insensitively.
	UserByMail(ctx context.Context, tenantID, mail string) (*User, error)
	// ListUsers filters on "mail" (case-insensitive) and "displayName".
	ListUsers(ctx context.Context, tenantID string, opt ListOptions) (users []*User, next string, err error)

	Group(ctx context.Context, tenantID, id string) (*Group, error)
	// ListGroups filters on "displayName".
	ListGroups(ctx context.Context, tenantID string, opt ListOptions) (groups []*Group, next string, err error)
	ListGroupMembers(ctx context.Context, tenantID, groupID string, opt ListOptions) (users []*User, next string, err error)
	// UserGroupIDs returns the IDs of the groups the user is a direct member of.
	UserGroupIDs(ctx context.Context, tenantID, userID string) ([]string, error)

	Application(ctx context.Context, tenantID, id string) (*Application, error)
	ApplicationByAppID(ctx context.Context, tenantID, appID string) (*Application, error)
	// ListApplications filters on "appId" and "displayName".
	ListApplications(ctx context.Context, tenantID string, opt ListOptions) (apps []*Application, next string, err error)

	RoleAssignment(ctx context.Context, tenantID, id string) (*RoleAssignment, error)
	// ListRoleAssignments filters on "principalId" and "roleDefinitionId".
	ListRoleAssignments(ctx context.Context, tenantID string, opt ListOptions) (as []*RoleAssignment, next string, err error)

	// SigningKeys returns all of the tenant's signing keys, newest first.
	SigningKeys(ctx context.Context, tenantID string) ([]*SigningKey, error)
	// KeyCheck returns the database's key check, which belongs to no
	// tenant; ENOTFOUND if none was stored yet.
	KeyCheck(ctx context.Context) (*KeyCheck, error)

	// ListAuditEntries returns the newest entries first; it filters on
	// "category", "activityDisplayName" and "targetId".
	ListAuditEntries(ctx context.Context, tenantID string, opt ListOptions) (entries []*AuditEntry, next string, err error)

	UserFlow(ctx context.Context, tenantID, id string) (*UserFlow, error)
	// UserFlowByAppID returns the flow the application (by client ID) uses.
	UserFlowByAppID(ctx context.Context, tenantID, appID string) (*UserFlow, error)
	// ListUserFlows filters on "displayName".
	ListUserFlows(ctx context.Context, tenantID string, opt ListOptions) (flows []*UserFlow, next string, err error)

	// Session returns a session by ID (the hash of its cookie secret).
	Session(ctx context.Context, tenantID, id string) (*Session, error)
	Grant(ctx context.Context, tenantID, id string) (*Grant, error)
	AuthRequest(ctx context.Context, tenantID, id string) (*AuthRequest, error)
	// ActiveEmailCode returns the newest unconsumed code of the purpose
	// bound to the transaction, expired or not; ENOTFOUND if there is none.
	ActiveEmailCode(ctx context.Context, tenantID, purpose, binding string) (*EmailCode, error)

	// MethodsPolicy returns the tenant's authentication methods policy:
	// DefaultMethodsPolicy until it is first changed. ENOTFOUND if there
	// is no such tenant.
	MethodsPolicy(ctx context.Context, tenantID string) (*MethodsPolicy, error)
	// UserMethods returns the methods the user registered, oldest first.
	UserMethods(ctx context.Context, tenantID, userID string) ([]*UserMethod, error)
	UserMethod(ctx context.Context, tenantID, id string) (*UserMethod, error)
	// UserMethodByCredential returns the passkey with the WebAuthn
	// credential ID; ENOTFOUND if no user of the tenant has it.
	UserMethodByCredential(ctx context.Context, tenantID string, credentialID []byte) (*UserMethod, error)

	// Policy returns a Conditional Access policy; ListPolicies filters
	// on "displayName" and "state".
	Policy(ctx context.Context, tenantID, id string) (*Policy, error)
	ListPolicies(ctx context.Context, tenantID string, opt ListOptions) (ps []*Policy, next string, err error)
	// NamedLocation returns a named location; ListNamedLocations filters
	// on "displayName".
	NamedLocation(ctx context.Context, tenantID, id string) (*NamedLocation, error)
	ListNamedLocations(ctx context.Context, tenantID string, opt ListOptions) (ls []*NamedLocation, next string, err error)
	// PoliciesVersion returns the tenant's policies version: a number
	// that grows with every change to its policies or named locations (0
	// before the first), cheap to read, so that a node can cache what it
	// compiled from a PolicySet and check now and then that it is current.
	PoliciesVersion(ctx context.Context, tenantID string) (int64, error)
	// PolicySet returns every policy and named location of the tenant,
	// policies in ID order, with the version read before them.
	PolicySet(ctx context.Context, tenantID string) (*PolicySet, error)

	// SignIn returns an entry of the sign-in log; ListSignIns lists the
	// entries f selects, newest first.
	SignIn(ctx context.Context, tenantID, id string) (*SignIn, error)
	ListSignIns(ctx context.Context, tenantID string, f SignInFilter, opt ListOptions) (ss []*SignIn, next string, err error)
	// SignInHistory tells what the sign-in log knows about a sign-in in
	// progress, for risk detection.
	SignInHistory(ctx context.Context, tenantID string, q SignInHistoryQuery) (*SignInHistory, error)
}

// Tx is a read-write transaction. Create methods fill in ID (when empty),
// CreatedAt and UpdatedAt. Update methods are updater functions: they read
// the current object inside the transaction, call fn with it, and write what
// fn left there, returning the new object; fn's error aborts the update.
type Tx interface {
	Reader

	CreateTenant(ctx context.Context, t *Tenant) error
	UpdateTenant(ctx context.Context, id string, fn func(*Tenant) error) (*Tenant, error)

	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, tenantID, id string, fn func(*User) error) (*User, error)
	// DeleteUser removes the user with its group memberships and role
	// assignments.
	DeleteUser(ctx context.Context, tenantID, id string) error

	CreateGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, tenantID, id string, fn func(*Group) error) (*Group, error)
	DeleteGroup(ctx context.Context, tenantID, id string) error
	// AddGroupMember returns ECONFLICT if the user is already a member and
	// ENOTFOUND if the group or user does not exist.
	AddGroupMember(ctx context.Context, tenantID, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, tenantID, groupID, userID string) error

	CreateApplication(ctx context.Context, a *Application) error
	UpdateApplication(ctx context.Context, tenantID, id string, fn func(*Application) error) (*Application, error)
	DeleteApplication(ctx context.Context, tenantID, id string) error

	// CreateRoleAssignment returns ECONFLICT if the principal already holds
	// the role.
	CreateRoleAssignment(ctx context.Context, a *RoleAssignment) error
	DeleteRoleAssignment(ctx context.Context, tenantID, id string) error

	CreateSigningKey(ctx context.Context, k *SigningKey) error
	UpdateSigningKey(ctx context.Context, tenantID, id string, fn func(*SigningKey) error) (*SigningKey, error)

	// CreateKeyCheck stores the database's key check if it has none. A
	// database keeps its first key check for good: of concurrent calls
	// exactly one stores its value, and the others, and every later call,
	// get ECONFLICT (then KeyCheck, in the same transaction, returns the
	// stored one), whatever value they carry.
	CreateKeyCheck(ctx context.Context, c *KeyCheck) error

	CreateAuditEntry(ctx context.Context, e *AuditEntry) error

	// CreateUserFlow and UpdateUserFlow return ECONFLICT, naming the app,
	// if one of the flow's AppIDs is used by another flow.
	CreateUserFlow(ctx context.Context, f *UserFlow) error
	UpdateUserFlow(ctx context.Context, tenantID, id string, fn func(*UserFlow) error) (*UserFlow, error)
	DeleteUserFlow(ctx context.Context, tenantID, id string) error

	CreateSession(ctx context.Context, s *Session) error
	UpdateSession(ctx context.Context, tenantID, id string, fn func(*Session) error) (*Session, error)
	DeleteSession(ctx context.Context, tenantID, id string) error
	// DeleteUserSessions ends every session of the user (SE-6).
	DeleteUserSessions(ctx context.Context, tenantID, userID string) error

	CreateGrant(ctx context.Context, g *Grant) error
	// RevokeGrant marks the grant revoked (a revoked grant stays revoked).
	RevokeGrant(ctx context.Context, tenantID, id string, now time.Time) error
	// RevokeUserGrants and RevokeSessionGrants revoke every grant of the
	// user or of the browser session (by its SID).
	RevokeUserGrants(ctx context.Context, tenantID, userID string, now time.Time) error
	RevokeSessionGrants(ctx context.Context, tenantID, sessionID string, now time.Time) error

	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// UseRefreshToken marks the token used and returns it. Of concurrent
	// calls for one token exactly one succeeds; the others, and every later
	// call, get ECONFLICT together with the token (so the caller can revoke
	// its grant). A missing or expired token is ENOTFOUND.
	UseRefreshToken(ctx context.Context, tenantID, id string, now time.Time) (*RefreshToken, error)

	// CreateEmailCode stores a new code and invalidates (consumes) every
	// earlier unconsumed code of the same purpose and binding (EO-3).
	CreateEmailCode(ctx context.Context, c *EmailCode) error
	// UpdateEmailCode is the updater through which a code is tried: it
	// locks the code, so concurrent tries of one code are serialized.
	UpdateEmailCode(ctx context.Context, tenantID, id string, fn func(*EmailCode) error) (*EmailCode, error)

	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	UpdateAuthRequest(ctx context.Context, tenantID, id string, fn func(*AuthRequest) error) (*AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, tenantID, id string) error

	// Hit counts one event under key in the fixed time window that holds
	// now and returns the count so far in that window, this one included.
	// Rate limits (RL-1, RL-6) use it; counters are shared by every node.
	Hit(ctx context.Context, tenantID, key string, window time.Duration, now time.Time) (int, error)

	// Strikes returns the failure record under key (such as a sign-in
	// address): the failures added since it was last cleared and the time
	// of the last one; 0 and the zero time when there is none. It locks the
	// record, existing or not, until the transaction ends, so that a check
	// of the record and the AddStrike that follows are one step for
	// concurrent transactions (RL-1). Records are shared by every node.
	Strikes(ctx context.Context, tenantID, key string) (count int, last time.Time, err error)
	// AddStrike adds one failure at now to the record under key and returns
	// the new count. ENOTFOUND if there is no such tenant.
	AddStrike(ctx context.Context, tenantID, key string, now time.Time) (int, error)
	// ClearStrikes removes the record under key (none is not an error).
	ClearStrikes(ctx context.Context, tenantID, key string) error

	// UpdateMethodsPolicy is the updater of the tenant's authentication
	// methods policy (it starts from the default one); it sets UpdatedAt.
	UpdateMethodsPolicy(ctx context.Context, tenantID string, fn func(*MethodsPolicy) error) (*MethodsPolicy, error)
	// CreateUserMethod returns ENOTFOUND if there is no such user and
	// ECONFLICT if the passkey's credential ID is registered already, or
	// if the method is a phone (MethodSMS) and the user has one already.
	CreateUserMethod(ctx context.Context, m *UserMethod) error
	// UpdateUserMethod locks the method, so concurrent updaters (a TOTP
	// step, a recovery code, a passkey's counter) take turns.
	UpdateUserMethod(ctx context.Context, tenantID, id string, fn func(*UserMethod) error) (*UserMethod, error)
	DeleteUserMethod(ctx context.Context, tenantID, id string) error

	// CreatePolicy and UpdatePolicy return ENOTFOUND, naming the
	// property, when the policy's locations condition names a location
	// the tenant does not have. Every change to a policy or named
	// location raises the tenant's PoliciesVersion in the same
	// transaction.
	CreatePolicy(ctx context.Context, p *Policy) error
	UpdatePolicy(ctx context.Context, tenantID, id string, fn func(*Policy) error) (*Policy, error)
	DeletePolicy(ctx context.Context, tenantID, id string) error
	// UpdateNamedLocation cannot change a location's Kind.
	// DeleteNamedLocation returns ECONFLICT, naming the policies, while
	// a policy names the location.
	CreateNamedLocation(ctx context.Context, l *NamedLocation) error
	UpdateNamedLocation(ctx context.Context, tenantID, id string, fn func(*NamedLocation) error) (*NamedLocation, error)
	DeleteNamedLocation(ctx context.Context, tenantID, id string) error

	// CreateSignIn appends an entry to the sign-in log.
	CreateSignIn(ctx context.Context, s *SignIn) error

	// CreateOneTime stores a single-use item under (kind, key).
	CreateOneTime(ctx context.Context, o *OneTime) error
	// ConsumeOneTime marks the item used and returns it. Of any number of
	// concurrent calls for one item, exactly one succeeds; the others, and
	// every later call, get ECONFLICT together with the item (so a caller can
	// revoke what the first use issued). An expired item is ENOTFOUND.
	ConsumeOneTime(ctx context.Context, tenantID, kind, key string, now time.Time) (*OneTime, error)
}

// OneTime is a single-use item such as an authorization code: a key (a hash
// of the secret the client holds) and an opaque payload.
type OneTime struct {
	TenantID   string
	Kind       string
	Key        string
	Payload    []byte
	ExpiresAt  time.Time
	ConsumedAt time.Time
	CreatedAt  time.Time
}
