package web

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// grantableScopes are the OpenID scopes Gatehouse grants in an
// authorization request; the admin API scope is granted to apps that hold
// its delegated permission.
var grantableScopes = []string{"openid", oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeAddress, "offline_access"}

// resourceScopes names the scopes of resources on this server: the
// tenant's admin API scope, and the prefix every scope of a resource
// served here starts with (the public URL and a slash).
type resourceScopes struct {
	admin, server string
}

func (s *server) resourceScopes(t *gatehouse.Tenant) resourceScopes {
	return resourceScopes{admin: gatehouse.AdminAPIScope(s.PublicURL, t.Name), server: strings.TrimSuffix(s.PublicURL, "/") + "/"}
}

// grantScopes returns the scope granted for the requested scope values, in
// the order requested, each once:
//
//   - openid is required (Gatehouse is an OpenID provider);
//   - openid, profile, email, address and offline_access are granted;
//   - the tenant's admin API scope is granted to an app that holds the
//     delegated permission, and refused (invalid_scope) to one that does
//     not;
//   - any other scope of a resource on this server (one that starts with
//     the public URL: another admin API permission such as
//     {admin API}/User.Read, the admin API without /.default, another
//     tenant's admin API) is refused with invalid_scope, naming the scope
//     to ask for: these are the scopes that carry power, and a client that
//     asks for one must learn at once that it does not get it, rather than
//     from a 401 later, and no request can probe another tenant's API by
//     being ignored;
//   - every other scope (phone, which Gatehouse has no claims for, and
//     scopes of other providers such as User.Read) is not granted and
//     otherwise ignored, as OpenID Connect Core 3.1.2.1 says: the token
//     response's scope lists what was granted (RFC 6749 section 3.3).
func grantScopes(requested []string, app *gatehouse.Application, rs resourceScopes) (string, *authError) {
	if !slices.Contains(requested, "openid") {
		return "", &authError{"invalid_scope", "The scope must include openid."}
	}
	var granted []string
	for _, sc := range requested {
		switch {
		case slices.Contains(granted, sc):
		case slices.Contains(grantableScopes, sc):
			granted = append(granted, sc)
		case sc == rs.admin && !app.AdminAPIDelegated:
			return "", &authError{"invalid_scope", "The application may not call the admin API on behalf of users: an administrator must grant it the delegated permission " +
				gatehouse.DirectoryAccessAsUser.Value + " (requiredResourceAccess)."}
		case sc == rs.admin:
			granted = append(granted, sc)
		case len(sc) > len(rs.server) && strings.EqualFold(sc[:len(rs.server)], rs.server):
			return "", &authError{"invalid_scope", "The scope " + quote(sc) + " is not a scope of this tenant; request the admin API as " + rs.admin + "."}
		}
	}
	return strings.Join(granted, " "), nil
}
