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
