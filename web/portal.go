package web

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/portal"
)

// The admin portal (package portal) is a built-in application of every
// tenant: an app registration with the appId gatehouse.AdminPortalAppID,
// a public client holding the admin API's delegated permission, created
// with the tenant. Its redirect URI and post-logout redirect URI are not
// stored but built from the public URL (gatehouse.PortalRedirectURI), so
// they follow the server's address, and nobody can add one of their own
// to collect administrators' sign-ins.

// isPortalRedirect reports whether uri is the admin portal's redirect URI
// in tenant t and app is the portal.
func (s *server) isPortalRedirect(t *gatehouse.Tenant, app *gatehouse.Application, uri string) bool {
	return app.AppID == gatehouse.AdminPortalAppID && uri == gatehouse.PortalRedirectURI(s.PublicURL, t.Name)
}

// isPortalSignedOut reports whether uri is the admin portal's post-logout
// redirect URI in tenant t and app is the portal.
func (s *server) isPortalSignedOut(t *gatehouse.Tenant, app *gatehouse.Application, uri string) bool {
	return app.AppID == gatehouse.AdminPortalAppID && uri == gatehouse.PortalSignedOutURI(s.PublicURL, t.Name)
}

// userFlowFor returns the user flow the app signs users in with. The admin
// portal uses the flow an administrator added it to, and without one
// adminPortalFlow: administrators are accounts of the directory and need
// no flow of their own to sign in, but the tenant may choose one (a
// passwordless flow, say).
func (s *server) userFlowFor(ctx context.Context, t *gatehouse.Tenant, appID string) (*gatehouse.UserFlow, error) {
	flow, err := s.cache.userFlowByAppID(ctx, s.Store, t.ID, appID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && appID == gatehouse.AdminPortalAppID {
		return adminPortalFlow(t), nil
	}
	return flow, err
}

// adminPortalFlow is the admin portal's sign-in when it is in no user
// flow: email and password, without sign-up (nobody becomes an
// administrator by signing up).
func adminPortalFlow(t *gatehouse.Tenant) *gatehouse.UserFlow {
	return &gatehouse.UserFlow{TenantID: t.ID, DisplayName: "Admin portal", IdentityProvider: gatehouse.IdentityProviderEmailPassword,
		AppIDs: []string{gatehouse.AdminPortalAppID}}
}

// newPortal builds the admin portal over api, the server's own handler,
// which it calls in process for the token endpoint and the admin API.
func (s *server) newPortal(api http.Handler) (http.Handler, error) {
	return portal.New(portal.Options{
		PublicURL: s.PublicURL,
		API:       api,
		Vault:     s.Vault,
		Logger:    s.Logger,
		Now:       s.Now,
	})
}

// checkBuiltInApp refuses the changes that would break the admin portal:
// it stays a public client (it holds no secret) with the admin API's
// delegated permission, which is what it exists for. Its name and other
// settings may change.
func checkBuiltInApp(before, after *gatehouse.Application) error {
	if before.AppID != gatehouse.AdminPortalAppID {
		return nil
	}
	if !after.AdminAPIDelegated {
		return gatehouse.FieldErrorf("requiredResourceAccess", "The admin portal is built in and keeps the delegated permission %s: it signs administrators in to the admin API.", gatehouse.DirectoryAccessAsUser.Value)
	}
	if !after.IsFallbackPublicClient {
		return gatehouse.FieldErrorf("isFallbackPublicClient", "The admin portal is built in and stays a public client: it has no client secret.")
	}
	return nil
}
