package web

import (
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// providerMetadata is the tenant's OpenID provider metadata (OpenID Connect
// Discovery 1.0 section 3), which is also its OAuth 2.0 authorization
// server metadata (RFC 8414 section 2: the OpenID fields are registered
// metadata there too). It lists only what the server honours:
//
//   - scopes_supported: the scopes grantScopes grants; phone is left out,
//     as Gatehouse has no phone claims to release;
//   - claims_supported: every claim an ID token or userinfo may carry;
//   - prompt_values_supported: none, login and select_account. consent is
//     accepted (OpenID Connect Core 11 makes clients that ask for
//     offline_access send it) and satisfied by the administrators' consent,
//     since Gatehouse's apps are first-party and have no consent screen to
//     show; it is not advertised, because no consent step exists;
//   - request_parameter_supported and request_uri_parameter_supported:
//     false (the default of the latter is true, so both are sent); such
//     requests get request_not_supported and request_uri_not_supported;
//   - ui_locales_supported: the pages are in English; other ui_locales are
//     no error (OpenID Connect Core 3.1.2.1).
//
// tenant_admin_api is Gatehouse's own: the tenant's admin API, as Entra's
// metadata names its Graph host.
func (s *server) providerMetadata(t *gatehouse.Tenant) map[string]any {
	base := gatehouse.TenantURL(s.PublicURL, t.Name)
	return map[string]any{
		"issuer":                                        gatehouse.IssuerURL(s.PublicURL, t.Name),
		"authorization_endpoint":                        base + "/oauth2/v2.0/authorize",
		"token_endpoint":                                base + "/oauth2/v2.0/token",
		"userinfo_endpoint":                             s.userinfoURL(t),
		"end_session_endpoint":                          base + "/oauth2/v2.0/logout",
		"revocation_endpoint":                           base + "/oauth2/v2.0/revoke",
		"introspection_endpoint":                        base + "/oauth2/v2.0/introspect",
		"jwks_uri":                                      base + "/discovery/v2.0/keys",
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":              []string{"S256"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{"RS256", "ES256"},
		"scopes_supported":                              append(slices.Clone(grantableScopes), gatehouse.AdminAPIScope(s.PublicURL, t.Name)),
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "acr", "amr", "azp", "sid", "tid", "at_hash",
			"email", "email_verified", "name", "given_name", "family_name", "preferred_username", "address"},
		"prompt_values_supported":                        []string{"none", "login", "select_account"},
		"ui_locales_supported":                           []string{"en"},
		"acr_values_supported":                           gatehouse.ACRValues,
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"claims_parameter_supported":                     true,
		"tenant_admin_api":                               gatehouse.AdminAPIURL(s.PublicURL, t.Name),
	}
}

// handleDiscovery serves the tenant's metadata: OpenID Connect Discovery at
// {issuer}/.well-known/openid-configuration, and RFC 8414 authorization
// server metadata at /.well-known/oauth-authorization-server/{tenant}/v2.0
// (the well-known path inserted before the issuer's path, RFC 8414 section
// 3.1) and at {issuer}/.well-known/oauth-authorization-server (appended,
// where many OAuth clients look, as for OpenID Connect). All three are the
// same document.
func (s *server) handleDiscovery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		encode(w, http.StatusOK, s.providerMetadata(tenantFrom(r.Context())))
	})
}
