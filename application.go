package gatehouse

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Application is an app registration: a client of the tenant's OpenID
// provider and, with granted permissions, of its admin API.
type Application struct {
	ID          string // object ID
	TenantID    string
	AppID       string // client ID
	DisplayName string
	// Redirect URIs per platform, each matched exactly (AS-1).
	WebRedirectURIs          []string
	SPARedirectURIs          []string
	PublicClientRedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may return.
	PostLogoutRedirectURIs []string
	// IsFallbackPublicClient marks an app that has no secret and must use
	// PKCE (a native or single-page app).
	IsFallbackPublicClient bool
	// RequirePKCE requires PKCE from this app even when it is confidential.
	RequirePKCE bool
	// IDTokenSigningAlg and AccessTokenSigningAlg override the tenant's
	// defaults (Tenant.IDTokenAlg, Tenant.AccessTokenAlg) when not empty.
	IDTokenSigningAlg     string
	AccessTokenSigningAlg string
	PasswordCredentials   []PasswordCredential
	// Permissions are the admin API application permissions granted to this
	// app by an administrator.
	Permissions []PermissionGrant
	// AdminAPIDelegated is the delegated permission Directory.AccessAsUser.All
	// on the admin API, granted by an administrator: the app may get admin API
	// tokens for the users who sign in to it, which allow what those users'
	// directory roles allow.
	AdminAPIDelegated bool
	// AdminAPIDelegatedSince is when AdminAPIDelegated was last granted
	// (zero while it is not): delegated tokens issued before then do not
	// count, so removing the permission and granting it again does not
	// revive the tokens of the time before.
	AdminAPIDelegatedSince time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Clone returns a deep copy of a: changing one leaves the other as it was.
func (a *Application) Clone() *Application {
	c := *a
	c.WebRedirectURIs = slices.Clone(a.WebRedirectURIs)
	c.SPARedirectURIs = slices.Clone(a.SPARedirectURIs)
	c.PublicClientRedirectURIs = slices.Clone(a.PublicClientRedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(a.PostLogoutRedirectURIs)
	c.PasswordCredentials = slices.Clone(a.PasswordCredentials)
	c.Permissions = slices.Clone(a.Permissions)
	return &c
}

// PasswordCredential is a client secret. The secret itself is shown once
// when it is created; only its keyed hash is kept.
type PasswordCredential struct {
	KeyID       string    `json:"keyId"`
	DisplayName string    `json:"displayName,omitempty"`
	Hint        string    `json:"hint"`
	Hash        string    `json:"hash"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// PermissionGrant is one application permission granted to an app, in the
// shape of Graph's appRoleAssignment.
type PermissionGrant struct {
	ID        string    `json:"id"`
	AppRoleID string    `json:"appRoleId"`
	CreatedAt time.Time `json:"createdAt"`
}

// GraphResourceAppID is the appId of Microsoft Graph, the resource whose
// permission names and IDs Gatehouse's admin API uses.
const GraphResourceAppID = "00000003-0000-0000-c000-000000000000"

// Permission is an admin API application permission, named and numbered as
// in Microsoft Graph.
type Permission struct {
	ID    string
	Value string
}

// DirectoryAccessAsUser is Graph's delegated permission (an OAuth 2.0
// scope) Directory.AccessAsUser.All: access the directory as the signed-in
// user. It is the one delegated permission of the admin API.
var DirectoryAccessAsUser = Permission{"0e263e50-5827-48a4-b97c-d940288653c7", "Directory.AccessAsUser.All"}

// Admin API application permissions.
var (
	PermUserReadAll                = Permission{"df021288-bdef-4463-88db-98f22de89214", "User.Read.All"}
	PermUserReadWriteAll           = Permission{"741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All"}
	PermGroupReadAll               = Permission{"5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All"}
	PermGroupReadWriteAll          = Permission{"62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All"}
	PermApplicationReadAll         = Permission{"9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All"}
	PermApplicationReadWriteAll    = Permission{"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All"}
	PermRoleManagementReadWriteDir = Permission{"9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory"}
	PermPolicyReadWriteCA          = Permission{"01c0a623-fc9b-48e9-b794-0756f8e8f067", "Policy.ReadWrite.ConditionalAccess"}
	PermPolicyReadWriteAuthMethod  = Permission{"29c18626-4985-4dcd-85c0-193eef327366", "Policy.ReadWrite.AuthenticationMethod"}
	PermAuditLogReadAll            = Permission{"b0afded3-3588-46d8-8b3d-9842eff778da", "AuditLog.Read.All"}
	PermPolicyReadAll              = Permission{"246dd0d5-5bd0-4def-940b-0421030a5b68", "Policy.Read.All"}
	PermPolicyReadCA               = Permission{"37730810-e9ba-4e46-b07e-8ca78d182097", "Policy.Read.ConditionalAccess"}
	// Users' registered authentication methods.
	PermUserAuthMethodReadAll         = Permission{"38d9df27-64da-44fd-b7c5-a6fbac20248f", "UserAuthenticationMethod.Read.All"}
	PermUserAuthMethodReadWriteAll    = Permission{"50483e42-d915-4231-9639-7fdb7fd190e5", "UserAuthenticationMethod.ReadWrite.All"}
	PermAppRoleAssignmentReadWriteAll = Permission{"06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All"}
	// User flows (Graph's authenticationEventsFlows).
	PermEventListenerReadAll      = Permission{"b7f6385c-6ce6-4639-a480-e23c42ed9784", "EventListener.Read.All"}
	PermEventListenerReadWriteAll = Permission{"0edf5e9e-4ce8-468a-8432-d08631d18c43", "EventListener.ReadWrite.All"}
	// The tenant (Graph's organization) and its branding.
	PermOrganizationReadAll                = Permission{"498476ce-e0fe-48b0-b801-37ba7e2685c6", "Organization.Read.All"}
	PermOrganizationReadWriteAll           = Permission{"292d869f-3427-49a8-9dab-8c70152b74e9", "Organization.ReadWrite.All"}
	PermOrganizationalBrandingReadAll      = Permission{"eb76ac34-0d62-4454-b97c-185e4250dc20", "OrganizationalBranding.Read.All"}
	PermOrganizationalBrandingReadWriteAll = Permission{"d2ebfbc1-a5f8-424b-83a6-56ab5927a73c", "OrganizationalBranding.ReadWrite.All"}
)

// Permissions lists every admin API application permission.
var Permissions = []Permission{
	PermUserReadAll, PermUserReadWriteAll, PermGroupReadAll, PermGroupReadWriteAll,
	PermApplicationReadAll, PermApplicationReadWriteAll, PermRoleManagementReadWriteDir,
	PermPolicyReadWriteCA, PermPolicyReadWriteAuthMethod, PermAuditLogReadAll, PermPolicyReadAll,
	PermUserAuthMethodReadAll, PermUserAuthMethodReadWriteAll,
	PermAppRoleAssignmentReadWriteAll, PermEventListenerReadAll, PermEventListenerReadWriteAll,
	PermOrganizationReadAll, PermOrganizationReadWriteAll, PermOrganizationalBrandingReadAll,
	PermOrganizationalBrandingReadWriteAll, PermPolicyReadCA,
}

// PermissionByID returns the permission with the Graph appRoleId, or false.
func PermissionByID(id string) (Permission, bool) {
	for _, p := range Permissions {
		if strings.EqualFold(p.ID, id) {
			return p, true
		}
	}
	return Permission{}, false
}

// PermissionByValue returns the permission named value, or false.
func PermissionByValue(value string) (Permission, bool) {
	for _, p := range Permissions {
		if p.Value == value {
			return p, true
		}
	}
	return Permission{}, false
}

// PermissionValues returns the names of the app's granted permissions.
func (a *Application) PermissionValues() []string {
	var out []string
	for _, g := range a.Permissions {
		if p, ok := PermissionByID(g.AppRoleID); ok {
			out = append(out, p.Value)
		}
	}
	return out
}

// Validate returns an EINVALID error naming the first bad field.
func (a *Application) Validate() error {
	if a.DisplayName == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", a.DisplayName, 256); err != nil {
		return err
	}
	for _, p := range []struct {
		field string
		uris  []string
	}{
		{"web.redirectUris", a.WebRedirectURIs},
		{"spa.redirectUris", a.SPARedirectURIs},
		{"publicClient.redirectUris", a.PublicClientRedirectURIs},
		{"gatehouse.postLogoutRedirectUris", a.PostLogoutRedirectURIs},
	} {
		if len(p.uris) > 256 {
			return FieldErrorf(p.field, "%s has %d entries; the limit is 256.", p.field, len(p.uris))
		}
		seen := map[string]bool{}
		for i, u := range p.uris {
			field := p.field + "[" + strconv.Itoa(i) + "]"
			if err := ValidateRedirectURI(field, u); err != nil {
				return err
			}
			if seen[u] {
				return FieldErrorf(field, "%s lists %q twice.", p.field, u)
			}
			seen[u] = true
		}
	}
	if err := ValidateSigningAlg("gatehouse.idTokenSigningAlg", a.IDTokenSigningAlg, true); err != nil {
		return err
	}
	return ValidateSigningAlg("gatehouse.accessTokenSigningAlg", a.AccessTokenSigningAlg, true)
}

// IsLoopbackHost reports whether host (without port) is localhost (in
// any case), 127.0.0.1 or ::1: the loopback hosts of AS-12 and RFC 8252.
// Other addresses of 127.0.0.0/8 and IPv4-mapped forms are not.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if host == "127.0.0.1" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() == nil && ip.Equal(net.IPv6loopback)
}

// ValidateRedirectURI returns an EINVALID error naming field unless uri is an
// absolute https URI, or http on a loopback host (AS-12), with no fragment,
// no wildcard and no user info.
func ValidateRedirectURI(field, uri string) error {
	if len(uri) > 1024 {
		return FieldErrorf(field, "%s: redirect URI is longer than 1024 characters.", field)
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return FieldErrorf(field, "%s: %q is not an absolute URI.", field, uri)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return FieldErrorf(field, "%s: %q uses http; only https is allowed, except on localhost, 127.0.0.1 and [::1].", field, uri)
	default:
		return FieldErrorf(field, "%s: %q has scheme %q; use https (or http on a loopback host).", field, uri, u.Scheme)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return FieldErrorf(field, "%s: %q has port %s; a port is a number from 1 to 65535.", field, uri, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return FieldErrorf(field, "%s: %q has an empty port.", field, uri)
	}
	if strings.Contains(uri, "#") {
		return FieldErrorf(field, "%s: %q contains a fragment; redirect URIs must not.", field, uri)
	}
	if strings.Contains(uri, "*") {
		return FieldErrorf(field, "%s: %q contains a wildcard; redirect URIs must match exactly.", field, uri)
	}
	if u.User != nil {
		return FieldErrorf(field, "%s: %q contains user info.", field, uri)
	}
	return nil
}
