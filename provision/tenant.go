package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/google/uuid"
)

// Deps are what CreateTenant needs.
type Deps struct {
	Store     gatehouse.Store
	Keys      *oidc.Keys
	Vault     *vault.Vault
	Passwords *password.Hasher
	// PublicURL is the server's public base URL; the issuer and admin API
	// URLs in the Result are built from it.
	PublicURL string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Result is what a new tenant's operator needs, printed once by
// "gatehouse tenant create --json". The admin password and the client
// secret are not stored anywhere in clear text: they cannot be shown again.
type Result struct {
	Tenant   string `json:"tenant"`
	Issuer   string `json:"issuer"`
	AdminAPI string `json:"admin_api"`
	// Portal is the address of the tenant's admin portal.
	Portal           string           `json:"portal"`
	Admin            Admin            `json:"admin"`
	AutomationClient AutomationClient `json:"automation_client"`
	// TenantID is the tenant's object ID.
	TenantID string `json:"-"`
}

// Admin is the tenant's first administrator, a Global Administrator.
type Admin struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// AutomationClient is a confidential client granted every admin API
// application permission. It gets a token with the client-credentials grant
// and Scope.
type AutomationClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope"`
}

// Names of what CreateTenant creates.
const (
	AdminDisplayName      = "Administrator"
	AutomationAppName     = "Gatehouse automation"
	AutomationSecretName  = "bootstrap"
	auditActorDisplayName = "gatehouse tenant create"
)

// PortalDisplayName is the name of every tenant's built-in admin portal.
const PortalDisplayName = "Gatehouse admin portal"

// PortalApp returns the admin portal's app registration in the tenant, as
// of at: a public client (PKCE, no secret) holding the admin API's
// delegated permission. Its redirect URIs are not stored; the server
// builds them from its public URL (gatehouse.PortalRedirectURI).
// Migration 0018 gives it to tenants created before it existed.
func PortalApp(tenantID string, at time.Time) *gatehouse.Application {
	return &gatehouse.Application{
		TenantID:               tenantID,
		AppID:                  gatehouse.AdminPortalAppID,
		DisplayName:            PortalDisplayName,
		IsFallbackPublicClient: true,
		RequirePKCE:            true,
		AdminAPIDelegated:      true,
		AdminAPIDelegatedSince: at,
	}
}

// NewTenantTokenSigning is the signing algorithms a new tenant starts with:
// ES256 for access tokens, which only Gatehouse itself verifies (the admin
// API, userinfo) and which it signs thirty times faster than RS256; RS256
// for ID tokens, which every relying party accepts. Tenants created before
// the choice existed sign both with RS256 (gatehouse.DefaultSigningAlg).
var NewTenantTokenSigning = gatehouse.TokenSigning{AccessTokenAlg: gatehouse.ES256, IDTokenAlg: gatehouse.RS256}

// CreateTenant creates the tenant name with its signing keys, an
// administrator adminEmail holding the Global Administrator role, the
// built-in admin portal (PortalApp), and an
// automation client granted every admin API permission, all in one
// transaction: either all of it exists afterwards or none of it does. Every
// creation is recorded in the tenant's audit log.
//
// It returns EINVALID for a bad name or address and ECONFLICT if a tenant of
// that name exists.
func CreateTenant(ctx context.Context, d Deps, name, adminEmail string) (*Result, error) {
	if err := gatehouse.ValidateTenantName(name); err != nil {
		return nil, err
	}
	adminEmail, err := gatehouse.CanonicalMail("admin-email", adminEmail)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}

	// The expensive and random parts happen before the transaction, which
	// may be run more than once.
	adminPassword, err := password.Generate()
	if err != nil {
		return nil, fmt.Errorf("generate the admin password: %w", err)
	}
	passwordHash, err := d.Passwords.Hash(ctx, adminPassword)
	if err != nil {
		return nil, fmt.Errorf("hash the admin password: %w", err)
	}
	secret, hint, err := oidc.NewClientSecret()
	if err != nil {
		return nil, fmt.Errorf("generate the client secret: %w", err)
	}
	secretHash := oidc.HashClientSecret(d.Vault, secret)
	appID := uuid.NewString()
	keyID := uuid.NewString()
	grantIDs := make([]string, len(gatehouse.Permissions))
	for i := range grantIDs {
		grantIDs[i] = uuid.NewString()
	}

	var tenantID string
	err = d.Store.Update(ctx, func(tx gatehouse.Tx) error {
		at := now().UTC()
		if _, err := tx.TenantByName(ctx, name); err == nil {
			return errTenantExists(name)
		} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return err
		}
		audit := Auditor{Tx: tx, At: at, Actor: auditActorDisplayName}

		tenant := &gatehouse.Tenant{Name: name, DisplayName: name, TokenSigning: NewTenantTokenSigning}
		if err := tx.CreateTenant(ctx, tenant); err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				return errTenantExists(name)
			}
			return fmt.Errorf("create the tenant: %w", err)
		}
		tenantID = tenant.ID
		audit.TenantID = tenant.ID
		if err := audit.Add(ctx, "DirectoryManagement", "Add tenant", "Add", gatehouse.AuditTarget{
			ID: tenant.ID, Type: "Tenant", DisplayName: tenant.DisplayName,
			ModifiedProperties: Props("name", tenant.Name, "displayName", tenant.DisplayName),
		}); err != nil {
			return err
		}

		if err := d.Keys.Create(ctx, tx, tenant.ID); err != nil {
			return fmt.Errorf("create the signing keys: %w", err)
		}
		keys, err := tx.SigningKeys(ctx, tenant.ID)
		if err != nil {
			return fmt.Errorf("read the signing keys: %w", err)
		}
		for _, k := range keys {
			if err := audit.Add(ctx, "KeyManagement", "Add signing key", "Add", gatehouse.AuditTarget{
				ID: k.ID, Type: "Key", DisplayName: k.Algorithm,
				ModifiedProperties: Props("kid", k.ID, "alg", k.Algorithm),
			}); err != nil {
				return err
			}
		}

		admin := &gatehouse.User{
			TenantID:       tenant.ID,
			Mail:           adminEmail,
			DisplayName:    AdminDisplayName,
			AccountEnabled: true,
			PasswordHash:   passwordHash,
		}
		if err := admin.Validate(); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, admin); err != nil {
			return fmt.Errorf("create the admin user: %w", err)
		}
		if err := audit.Add(ctx, "UserManagement", "Add user", "Add", gatehouse.AuditTarget{
			ID: admin.ID, Type: "User", DisplayName: admin.DisplayName,
			ModifiedProperties: Props("mail", admin.Mail, "displayName", admin.DisplayName, "accountEnabled", true),
		}); err != nil {
			return err
		}

		ra := &gatehouse.RoleAssignment{
			TenantID:         tenant.ID,
			RoleDefinitionID: gatehouse.RoleGlobalAdministrator,
			PrincipalID:      admin.ID,
			DirectoryScopeID: "/",
		}
		if err := tx.CreateRoleAssignment(ctx, ra); err != nil {
			return fmt.Errorf("assign the Global Administrator role: %w", err)
		}
		if err := audit.Add(ctx, "RoleManagement", "Add member to role", "Assign", gatehouse.AuditTarget{
			ID: ra.ID, Type: "RoleAssignment", DisplayName: "Global Administrator",
			ModifiedProperties: Props("roleDefinitionId", ra.RoleDefinitionID, "principalId", ra.PrincipalID, "directoryScopeId", ra.DirectoryScopeID),
		}); err != nil {
			return err
		}

		portal := PortalApp(tenant.ID, at)
		if err := tx.CreateApplication(ctx, portal); err != nil {
			return fmt.Errorf("create the admin portal: %w", err)
		}
		if err := audit.Add(ctx, "ApplicationManagement", "Add application", "Add", gatehouse.AuditTarget{
			ID: portal.ID, Type: "Application", DisplayName: portal.DisplayName,
			ModifiedProperties: Props("appId", portal.AppID, "displayName", portal.DisplayName, "isFallbackPublicClient", true,
				"requiredResourceAccess", gatehouse.DirectoryAccessAsUser.Value),
		}); err != nil {
			return err
		}

		app := &gatehouse.Application{
			TenantID:    tenant.ID,
			AppID:       appID,
			DisplayName: AutomationAppName,
			PasswordCredentials: []gatehouse.PasswordCredential{{
				KeyID:       keyID,
				DisplayName: AutomationSecretName,
				Hint:        hint,
				Hash:        secretHash,
				Start:       at,
			}},
		}
		for i, p := range gatehouse.Permissions {
			app.Permissions = append(app.Permissions, gatehouse.PermissionGrant{ID: grantIDs[i], AppRoleID: p.ID, CreatedAt: at})
		}
		if err := app.Validate(); err != nil {
			return err
		}
		if err := tx.CreateApplication(ctx, app); err != nil {
			return fmt.Errorf("create the automation client: %w", err)
		}
		if err := audit.Add(ctx, "ApplicationManagement", "Add application", "Add", gatehouse.AuditTarget{
			ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
			ModifiedProperties: Props("appId", app.AppID, "displayName", app.DisplayName, "isFallbackPublicClient", false),
		}); err != nil {
			return err
		}
		// The credential's record names it; never its secret, hint or hash.
		if err := audit.Add(ctx, "ApplicationManagement", "Add client secret", "Update", gatehouse.AuditTarget{
			ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
			ModifiedProperties: Props("keyId", keyID, "displayName", AutomationSecretName, "startDateTime", at.Format(time.RFC3339)),
		}); err != nil {
			return err
		}
		for _, g := range app.Permissions {
			p, _ := gatehouse.PermissionByID(g.AppRoleID)
			if err := audit.Add(ctx, "ApplicationManagement", "Add app role assignment to service principal", "Assign", gatehouse.AuditTarget{
				ID: app.ID, Type: "Application", DisplayName: app.DisplayName,
				ModifiedProperties: Props("appRole.id", p.ID, "appRole.value", p.Value),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	return &Result{
		Tenant:   name,
		TenantID: tenantID,
		Issuer:   gatehouse.IssuerURL(d.PublicURL, name),
		AdminAPI: gatehouse.AdminAPIURL(d.PublicURL, name),
		Portal:   gatehouse.PortalURL(d.PublicURL, name),
		Admin:    Admin{Email: adminEmail, Password: adminPassword},
		AutomationClient: AutomationClient{
			ClientID:     appID,
			ClientSecret: secret,
			Scope:        gatehouse.AdminAPIScope(d.PublicURL, name),
		},
	}, nil
}

func errTenantExists(name string) error {
	return gatehouse.Errorf(gatehouse.ECONFLICT, "Tenant %q already exists.", name)
}

// Auditor writes the audit entries of a transaction that an operator's
// command, not a signed-in principal, runs: provisioning and the demo.
type Auditor struct {
	Tx       gatehouse.Tx
	TenantID string
	At       time.Time
	Actor    string // the command, e.g. "gatehouse tenant create"
}

// Add records one change to target.
func (a Auditor) Add(ctx context.Context, category, activity, op string, target gatehouse.AuditTarget) error {
	err := a.Tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{
		TenantID:      a.TenantID,
		Time:          a.At,
		Category:      category,
		Activity:      activity,
		OperationType: op,
		Result:        "success",
		Actor:         gatehouse.Actor{DisplayName: a.Actor},
		Targets:       []gatehouse.AuditTarget{target},
	})
	if err != nil {
		return fmt.Errorf("record %q in the audit log: %w", activity, err)
	}
	return nil
}

// Props turns name, value pairs into modified properties of an added object:
// no old value, the new value as JSON text.
func Props(kv ...any) []gatehouse.ModifiedProperty {
	var out []gatehouse.ModifiedProperty
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, gatehouse.ModifiedProperty{DisplayName: kv[i].(string), NewValue: JSONText(kv[i+1])})
	}
	return out
}

// JSONText is v as JSON text, the form of audited property values.
func JSONText(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
