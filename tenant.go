package gatehouse

import (
	"regexp"
	"time"
)

// Tenant is an isolated customer directory with its own issuer, users,
// applications and keys. Its Name is the URL segment under which all of its
// endpoints live.
type Tenant struct {
	ID          string
	Name        string
	DisplayName string
	Branding    Branding
	// TokenSigning is the tenant's default signing algorithms for access
	// tokens and ID tokens; an application may choose its own.
	TokenSigning TokenSigning
	CreatedAt    time.Time
}

// Branding is how the tenant's hosted pages and mail look.
type Branding struct {
	LogoURL     string `json:"logoUrl,omitempty"`
	AccentColor string `json:"accentColor,omitempty"`
}

var tenantNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)

// reservedTenantNames are path segments the server uses at its root.
var reservedTenantNames = map[string]bool{
	"healthz": true, "readyz": true, "metrics": true, "static": true, "admin": true,
	"api": true, "mailbox": true, "dev": true, "well-known": true, "common": true,
	"organizations": true, "consumers": true, "favicon-ico": true, "robots-txt": true,
	"oauth2": true, "login": true, "logout": true, "v2-0": true,
}

// ValidateTenantName returns an EINVALID error unless name can be a tenant's
// URL segment: 3 to 63 lowercase letters, digits and hyphens, starting with a
// letter, not ending with a hyphen, and not a name the server reserves.
func ValidateTenantName(name string) error {
	if !tenantNameRE.MatchString(name) {
		return FieldErrorf("name", "Tenant name %q is not valid: use 3 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.", name)
	}
	if reservedTenantNames[name] {
		return FieldErrorf("name", "Tenant name %q is reserved; choose another.", name)
	}
	return nil
}
