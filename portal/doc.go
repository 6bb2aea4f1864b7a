// Package portal is the admin portal: server-rendered pages in which a
// tenant's administrators manage its users, groups, roles, app
// registrations, user flows, authentication methods and branding, and
// read its audit log.
//
// The portal is a client of Gatehouse itself, as the Azure portal is of
// Microsoft Graph. It is a built-in application of every tenant (appId
// gatehouse.AdminPortalAppID, a public client holding the admin API's
// delegated permission Directory.AccessAsUser.All), signs administrators
// in with the authorization code flow and PKCE at the tenant's own
// authorization endpoint (so the tenant's user flow, MFA and Conditional
// Access apply to it), and does everything through the Graph-shaped admin
// API with the delegated token, calling the server's handler in process
// rather than over the network. Pages and API therefore agree on
// permissions by construction: a page shows what the API allows the
// signed-in administrator's directory roles, and a refusal the API makes
// is shown as a sentence.
//
// The token lives in a cookie sealed with the server's vault, so any node
// serves any request. Every form carries an anti-forgery token and every
// POST passes http.CrossOriginProtection. Pages use html/template, one
// style sheet and one small script, all embedded, under a strict
// Content-Security-Policy without inline script.
package portal
