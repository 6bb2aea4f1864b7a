package gatehouse

import "strings"

// The URL layout of a tenant. publicURL is the server's configured public
// base URL (never derived from a request's Host header, LC-4).

// IssuerURL returns the OpenID issuer of the tenant.
func IssuerURL(publicURL, tenant string) string {
	return strings.TrimSuffix(publicURL, "/") + "/" + tenant + "/v2.0"
}

// AdminAPIURL returns the base URL of the tenant's Graph-shaped admin API.
// Access tokens for the admin API carry it as their audience.
func AdminAPIURL(publicURL, tenant string) string {
	return strings.TrimSuffix(publicURL, "/") + "/" + tenant + "/graph/v1.0"
}

// AdminAPIScope returns the scope a client requests to call the tenant's
// admin API with all the permissions it was granted.
func AdminAPIScope(publicURL, tenant string) string {
	return AdminAPIURL(publicURL, tenant) + "/.default"
}

// TenantURL returns the base of all of a tenant's endpoints.
func TenantURL(publicURL, tenant string) string {
	return strings.TrimSuffix(publicURL, "/") + "/" + tenant
}

// PortalURL returns the address of the tenant's admin portal, with its
// trailing slash.
func PortalURL(publicURL, tenant string) string {
	return TenantURL(publicURL, tenant) + "/portal/"
}

// PortalRedirectURI returns where the tenant's authorization endpoint
// sends administrators back to the admin portal after they sign in: the
// portal's one redirect URI, built from the public URL rather than
// registered, so that it follows a change of the public URL.
func PortalRedirectURI(publicURL, tenant string) string {
	return PortalURL(publicURL, tenant) + "callback"
}

// PortalSignedOutURI returns where the tenant's end-session endpoint
// sends administrators after they sign out of the admin portal: its one
// post-logout redirect URI.
func PortalSignedOutURI(publicURL, tenant string) string {
	return PortalURL(publicURL, tenant) + "signed-out"
}
