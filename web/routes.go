package web

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// routes registers every route of the server on mux.
func (s *server) routes(mux *router) {
	// The server's root and each tenant's root: small pages that say what
	// this is (home.go).
	mux.Handle("GET /{$}", s.handleRoot())
	mux.Handle("GET /{tenant}", s.handleTenantHome())
	mux.Handle("GET /{tenant}/{$}", s.handleTenantHome())

	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", s.handleMetrics())

	// OpenID provider, per tenant. The endpoints a browser visits
	// (authorize, logout) answer errors with pages, the others with JSON.
	mux.Handle("GET /{tenant}/v2.0/.well-known/openid-configuration", allowCORS(s.withCachedTenant(s.handleDiscovery())))
	mux.Handle("GET /.well-known/oauth-authorization-server/{tenant}/v2.0", allowCORS(s.withCachedTenant(s.handleDiscovery())))
	mux.Handle("GET /{tenant}/v2.0/.well-known/oauth-authorization-server", allowCORS(s.withCachedTenant(s.handleDiscovery())))
	mux.Handle("GET /{tenant}/discovery/v2.0/keys", allowCORS(s.withCachedTenant(s.handleJWKS())))
	mux.Handle("POST /{tenant}/oauth2/v2.0/token", allowCORS(s.withCachedTenant(s.handleToken())))
	mux.Handle("OPTIONS /{tenant}/oauth2/v2.0/token", allowCORS(http.NotFoundHandler()))
	mux.Handle("OPTIONS /{tenant}/oidc/userinfo", allowCORS(http.NotFoundHandler()))
	mux.Handle("OPTIONS /{tenant}/discovery/v2.0/keys", allowCORS(http.NotFoundHandler()))
	mux.Handle("OPTIONS /{tenant}/v2.0/.well-known/openid-configuration", allowCORS(http.NotFoundHandler()))
	mux.Handle("OPTIONS /.well-known/oauth-authorization-server/{tenant}/v2.0", allowCORS(http.NotFoundHandler()))
	mux.Handle("OPTIONS /{tenant}/v2.0/.well-known/oauth-authorization-server", allowCORS(http.NotFoundHandler()))
	mux.Handle("GET /{tenant}/oauth2/v2.0/authorize", s.withPageTenant(s.handleAuthorize()))
	mux.Handle("POST /{tenant}/oauth2/v2.0/authorize", s.withPageTenant(s.handleAuthorize()))
	mux.Handle("GET /{tenant}/oidc/userinfo", allowCORS(s.withTenant(s.handleUserinfo())))
	mux.Handle("POST /{tenant}/oidc/userinfo", allowCORS(s.withTenant(s.handleUserinfo())))
	mux.Handle("POST /{tenant}/oauth2/v2.0/revoke", s.withTenant(s.handleRevoke()))
	mux.Handle("POST /{tenant}/oauth2/v2.0/introspect", s.withTenant(s.handleIntrospect()))
	mux.Handle("GET /{tenant}/oauth2/v2.0/logout", s.withPageTenant(s.handleLogout()))
	mux.Handle("POST /{tenant}/oauth2/v2.0/logout", s.withPageTenant(s.handleLogout()))

	// Hosted pages: sign-in, sign-up, password reset (pages.go).
	s.pageRoutes(mux)

	// The admin portal, a client of the admin API below (portal.go and
	// package portal, which routes its own pages).
	mux.Handle("/{tenant}/portal/", s.withPageTenant(s.portal))

	// Graph-shaped admin API, per tenant. api registers an operation on
	// one object or an action, list the GET of a collection; they differ
	// in the query options they take (list.go).
	var apiRoutes []string
	register := func(pattern string, need access, h http.Handler, options []string) {
		method, _, _ := strings.Cut(pattern, " ")
		if method != http.MethodGet {
			options = nil
		}
		apiRoutes = append(apiRoutes, pattern)
		mux.Handle(pattern, s.withTenant(s.requireAccess(need, s.checkQueryOptions(options, h))))
	}
	api := func(pattern string, need access, h http.Handler) { register(pattern, need, h, entityOptions) }
	list := func(pattern string, need access, h http.Handler) { register(pattern, need, h, collectionOptions) }
	const base = "/{tenant}/graph/v1.0"

	// The signed-in user (delegated tokens only) and their directory roles.
	api("GET "+base+"/me", signedInUser, s.handleMe())
	list("GET "+base+"/me/memberOf/microsoft.graph.directoryRole", signedInUser, s.handleMyDirectoryRoles())

	list("GET "+base+"/users", usersRead, s.handleUserList())
	api("POST "+base+"/users", usersWrite, s.handleUserCreate())
	api("GET "+base+"/users/{id}", usersRead, s.handleUserGet())
	api("PATCH "+base+"/users/{id}", usersWrite, s.handleUserUpdate())
	api("DELETE "+base+"/users/{id}", usersWrite, s.handleUserDelete())
	list("GET "+base+"/users/{id}/memberOf", usersRead, s.handleUserMemberOf())
	api("POST "+base+"/users/{id}/revokeSignInSessions", usersWrite, s.handleUserRevokeSignInSessions())

	// A user's authentication methods: all of them, and each kind's.
	const authn = base + "/users/{id}/authentication"
	list("GET "+authn+"/methods", userMethodsRead, s.handleUserMethodList(""))
	api("GET "+authn+"/methods/{method}", userMethodsRead, s.handleUserMethodGet(""))
	for _, kind := range slices.Sorted(maps.Keys(methodKinds)) {
		list("GET "+authn+"/"+kind, userMethodsRead, s.handleUserMethodList(kind))
		api("GET "+authn+"/"+kind+"/{method}", userMethodsRead, s.handleUserMethodGet(kind))
		if kind == "phoneMethods" {
			api("POST "+authn+"/"+kind, userMethodsWrite, s.handlePhoneMethodAdd())
			api("PATCH "+authn+"/"+kind+"/{method}", userMethodsWrite, s.handlePhoneMethodUpdate())
		}
		if kind == "passwordMethods" || kind == "emailMethods" {
			api("DELETE "+authn+"/"+kind+"/{method}", userMethodsWrite, s.handleUserMethodNotRemovable(kind))
		} else {
			api("DELETE "+authn+"/"+kind+"/{method}", userMethodsWrite, s.handleUserMethodDelete(kind))
		}
	}

	list("GET "+base+"/groups", groupsRead, s.handleGroupList())
	api("POST "+base+"/groups", groupsWrite, s.handleGroupCreate())
	api("GET "+base+"/groups/{id}", groupsRead, s.handleGroupGet())
	api("PATCH "+base+"/groups/{id}", groupsWrite, s.handleGroupUpdate())
	api("DELETE "+base+"/groups/{id}", groupsWrite, s.handleGroupDelete())
	list("GET "+base+"/groups/{id}/members", groupsRead, s.handleGroupMemberList())
	api("POST "+base+"/groups/{id}/members/$ref", groupsWrite, s.handleGroupMemberAdd())
	api("DELETE "+base+"/groups/{id}/members/{member}/$ref", groupsWrite, s.handleGroupMemberRemove())

	list("GET "+base+"/applications", appsRead, s.handleApplicationList())
	api("POST "+base+"/applications", appsWrite, s.handleApplicationCreate())
	api("GET "+base+"/applications/{id}", appsRead, s.handleApplicationGet())
	api("PATCH "+base+"/applications/{id}", appsWrite, s.handleApplicationUpdate())
	api("DELETE "+base+"/applications/{id}", appsWrite, s.handleApplicationDelete())
	api("POST "+base+"/applications/{id}/addPassword", appsWrite, s.handleApplicationAddPassword())
	api("POST "+base+"/applications/{id}/removePassword", appsWrite, s.handleApplicationRemovePassword())
	list("GET "+base+"/applications/{id}/appRoleAssignments", appsRead, s.handlePermissionGrantList())
	api("POST "+base+"/applications/{id}/appRoleAssignments", permissionGrantsWrite, s.handlePermissionGrantAdd())
	api("DELETE "+base+"/applications/{id}/appRoleAssignments/{grant}", permissionGrantsWrite, s.handlePermissionGrantRemove())

	list("GET "+base+"/roleManagement/directory/roleDefinitions", rolesRead, s.handleRoleDefinitionList())
	list("GET "+base+"/roleManagement/directory/roleAssignments", rolesRead, s.handleRoleAssignmentList())
	api("POST "+base+"/roleManagement/directory/roleAssignments", rolesWrite, s.handleRoleAssignmentCreate())
	api("GET "+base+"/roleManagement/directory/roleAssignments/{id}", rolesRead, s.handleRoleAssignmentGet())
	api("DELETE "+base+"/roleManagement/directory/roleAssignments/{id}", rolesWrite, s.handleRoleAssignmentDelete())

	list("GET "+base+"/auditLogs/directoryAudits", auditRead, s.handleDirectoryAuditList())
	list("GET "+base+"/auditLogs/signIns", signInsRead, s.handleSignInList())
	api("GET "+base+"/auditLogs/signIns/{id}", signInsRead, s.handleSignInGet())

	// Conditional Access (capolicies.go, whatif.go, lockout.go).
	const ca = base + "/identity/conditionalAccess"
	list("GET "+ca+"/policies", caRead, s.handleCAPolicyList())
	api("POST "+ca+"/policies", caWrite, s.handleCAPolicyCreate())
	api("GET "+ca+"/policies/{id}", caRead, s.handleCAPolicyGet())
	api("PATCH "+ca+"/policies/{id}", caWrite, s.handleCAPolicyUpdate())
	api("DELETE "+ca+"/policies/{id}", caWrite, s.handleCAPolicyDelete())
	list("GET "+ca+"/namedLocations", caRead, s.handleNamedLocationList())
	api("POST "+ca+"/namedLocations", caWrite, s.handleNamedLocationCreate())
	api("GET "+ca+"/namedLocations/{id}", caRead, s.handleNamedLocationGet())
	api("PATCH "+ca+"/namedLocations/{id}", caWrite, s.handleNamedLocationUpdate())
	api("DELETE "+ca+"/namedLocations/{id}", caWrite, s.handleNamedLocationDelete())
	api("POST "+ca+"/evaluate", caRead, s.handleWhatIf())

	// The authentication methods policy.
	const methodsPolicy = base + "/policies/authenticationMethodsPolicy"
	api("GET "+methodsPolicy, methodsPolicyRead, s.handleMethodsPolicyGet())
	api("PATCH "+methodsPolicy, methodsPolicyWrite, s.handleMethodsPolicyUpdate())
	list("GET "+methodsPolicy+"/authenticationMethodConfigurations", methodsPolicyRead, s.handleMethodConfigList())
	api("GET "+methodsPolicy+"/authenticationMethodConfigurations/{method}", methodsPolicyRead, s.handleMethodConfigGet())
	api("PATCH "+methodsPolicy+"/authenticationMethodConfigurations/{method}", methodsPolicyWrite, s.handleMethodConfigUpdate())

	// User flows, the organization (the tenant) and its branding.
	const flows = base + "/identity/authenticationEventsFlows"
	list("GET "+flows, userFlowsRead, s.handleUserFlowList())
	api("POST "+flows, userFlowsWrite, s.handleUserFlowCreate())
	api("GET "+flows+"/{id}", userFlowsRead, s.handleUserFlowGet())
	api("PATCH "+flows+"/{id}", userFlowsWrite, s.handleUserFlowUpdate())
	api("DELETE "+flows+"/{id}", userFlowsWrite, s.handleUserFlowDelete())
	list("GET "+flows+"/{id}/conditions/applications/includeApplications", userFlowsRead, s.handleUserFlowAppList())
	api("POST "+flows+"/{id}/conditions/applications/includeApplications", userFlowsWrite, s.handleUserFlowAppAdd())
	api("DELETE "+flows+"/{id}/conditions/applications/includeApplications/{appId}/$ref", userFlowsWrite, s.handleUserFlowAppRemove())
	list("GET "+base+"/organization", organizationRead, s.handleOrganizationList())
	api("GET "+base+"/organization/{id}", organizationRead, s.handleOrganizationGet())
	api("PATCH "+base+"/organization/{id}", organizationWrite, s.handleOrganizationUpdate())
	api("GET "+base+"/organization/{id}/branding", brandingRead, s.handleBrandingGet())
	api("PATCH "+base+"/organization/{id}/branding", brandingWrite, s.handleBrandingUpdate())

	// A known path with another method is a 405 with Allow; anything else
	// under the admin API is a Graph-shaped 404, not HTML.
	mux.Handle(base+"/", s.withTenant(s.handleAPINotFound(newMethodTable(apiRoutes))))

	// Everything else: a known path with another method is a 405 with
	// Allow, in the endpoint's format; an unknown path the styled "Page not
	// available" page. Registered last, so that it knows every route.
	mux.Handle("/", s.handleNotFound(newMethodTable(mux.routes)))
}

// router is a ServeMux that remembers its method patterns ("GET /path"),
// so that the catch-all route can tell a wrong method from an unknown path.
type router struct {
	*http.ServeMux
	routes []string
}

// Handle registers h for pattern on the ServeMux and remembers pattern if
// it names a method.
func (rt *router) Handle(pattern string, h http.Handler) {
	if strings.Contains(pattern, " ") {
		rt.routes = append(rt.routes, pattern)
	}
	rt.ServeMux.Handle(pattern, h)
}

// methodTable knows the methods of each path pattern of a set of routes.
type methodTable struct {
	paths   *http.ServeMux // path patterns only, so that any method matches
	methods map[string][]string
}

// newMethodTable indexes routes ("METHOD /path/{pattern}") by path.
func newMethodTable(routes []string) *methodTable {
	mt := &methodTable{paths: http.NewServeMux(), methods: map[string][]string{}}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		if _, ok := mt.methods[path]; !ok {
			mt.paths.Handle(path, http.NotFoundHandler())
		}
		mt.methods[path] = append(mt.methods[path], method)
		if method == http.MethodGet {
			mt.methods[path] = append(mt.methods[path], http.MethodHead)
		}
	}
	for _, ms := range mt.methods {
		slices.Sort(ms)
	}
	return mt
}

// allowed returns the methods the routes have for r's path, nil if none.
func (mt *methodTable) allowed(r *http.Request) []string {
	_, pattern := mt.paths.Handler(r)
	return mt.methods[pattern]
}

// anyOrigin is the Access-Control-Allow-Origin of allowCORS, shared as the
// headers of middleware.go are.
var anyOrigin = []string{"*"}

// allowCORS lets single-page apps on any origin call an endpoint that
// takes no ambient credentials (no cookies: tokens travel in the body or
// the Authorization header), and answers CORS preflight requests.
func allowCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Access-Control-Allow-Origin"] = anyOrigin
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
