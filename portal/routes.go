package portal

import "net/http"

// routes registers every page of the portal. Each page reads what it shows
// through the admin API in a few calls, and every change is one API call
// (or two where Graph splits it) as the signed-in administrator.
func (p *Portal) routes() {
	const b = "/{tenant}/portal/"
	m := p.mux
	page := func(pattern string, h admin) { m.Handle(pattern, p.requireAdmin(h)) }

	m.Handle("GET "+b+"static/{file}", p.handleStatic())
	m.Handle("GET "+b+"signin", p.handleSignIn())
	m.Handle("GET "+b+"callback", p.handleCallback())
	m.Handle("POST "+b+"signout", p.handleSignOut())
	m.Handle("GET "+b+"signed-out", p.handleSignedOut())

	page("GET "+b+"{$}", p.overview)

	users := func(h admin) admin { return p.guard(rolesUsers, "users", h) }
	page("GET "+b+"users", users(p.userList))
	page("GET "+b+"users/new", users(p.userNew))
	page("POST "+b+"users/new", users(p.userNew))
	page("GET "+b+"users/{id}", users(p.userShow))
	page("POST "+b+"users/{id}", users(p.userEdit))
	page("POST "+b+"users/{id}/password", users(p.userPassword))
	page("GET "+b+"users/{id}/{action}", users(p.userConfirm))
	page("POST "+b+"users/{id}/{action}", users(p.userAction))
	page("GET "+b+"users/{id}/methods/{kind}/{method}/remove", users(p.userMethodConfirm))
	page("POST "+b+"users/{id}/methods/{kind}/{method}/remove", users(p.userMethodRemove))

	page("GET "+b+"groups", users(p.groupList))
	page("GET "+b+"groups/new", users(p.groupNew))
	page("POST "+b+"groups/new", users(p.groupNew))
	page("GET "+b+"groups/{id}", users(p.groupShow))
	page("POST "+b+"groups/{id}", users(p.groupEdit))
	page("POST "+b+"groups/{id}/members", users(p.groupMemberAdd))
	page("GET "+b+"groups/{id}/members/{member}/remove", users(p.groupMemberConfirm))
	page("POST "+b+"groups/{id}/members/{member}/remove", users(p.groupMemberRemove))
	page("GET "+b+"groups/{id}/delete", users(p.groupDeleteConfirm))
	page("POST "+b+"groups/{id}/delete", users(p.groupDelete))

	global := func(key string, h admin) admin { return p.guard(rolesGlobal, key, h) }
	page("GET "+b+"roles", global("roles", p.roleList))
	page("POST "+b+"roles", global("roles", p.roleAssign))
	page("GET "+b+"roles/{id}/remove", global("roles", p.roleRemoveConfirm))
	page("POST "+b+"roles/{id}/remove", global("roles", p.roleRemove))

	apps := func(h admin) admin { return p.guard(rolesApps, "apps", h) }
	page("GET "+b+"apps", apps(p.appList))
	page("GET "+b+"apps/new", apps(p.appNew))
	page("POST "+b+"apps/new", apps(p.appNew))
	page("GET "+b+"apps/{id}", apps(p.appShow))
	page("POST "+b+"apps/{id}", apps(p.appEdit))
	page("POST "+b+"apps/{id}/secrets", apps(p.appSecretAdd))
	page("GET "+b+"apps/{id}/secrets/{key}/remove", apps(p.appSecretConfirm))
	page("POST "+b+"apps/{id}/secrets/{key}/remove", apps(p.appSecretRemove))
	page("GET "+b+"apps/{id}/delete", apps(p.appDeleteConfirm))
	page("POST "+b+"apps/{id}/delete", apps(p.appDelete))

	page("GET "+b+"flows", global("flows", p.flowList))
	page("GET "+b+"flows/new", global("flows", p.flowNew))
	page("POST "+b+"flows/new", global("flows", p.flowNew))
	page("GET "+b+"flows/{id}", global("flows", p.flowShow))
	page("POST "+b+"flows/{id}", global("flows", p.flowEdit))
	page("POST "+b+"flows/{id}/apps", global("flows", p.flowAppAdd))
	page("POST "+b+"flows/{id}/apps/{app}/remove", global("flows", p.flowAppRemove))
	page("GET "+b+"flows/{id}/delete", global("flows", p.flowDeleteConfirm))
	page("POST "+b+"flows/{id}/delete", global("flows", p.flowDelete))

	methods := func(h admin) admin { return p.guard(rolesMethods, "methods", h) }
	page("GET "+b+"methods", methods(p.methodList))
	page("GET "+b+"methods/{method}", methods(p.methodShow))
	page("POST "+b+"methods/{method}", methods(p.methodSave))

	caRead := func(h admin) admin { return p.guard(rolesCARead, "ca", h) }
	caWrite := func(h admin) admin { return p.guard(rolesCAWrite, "ca", h) }
	page("GET "+b+"ca", caRead(p.caList))
	page("GET "+b+"ca/policies/new", caWrite(p.caNew))
	page("POST "+b+"ca/policies/new", caWrite(p.caNew))
	page("GET "+b+"ca/whatif", caRead(p.whatIf))
	page("GET "+b+"ca/locations", caRead(p.locationList))
	page("GET "+b+"ca/locations/new", caWrite(p.locationNew))
	page("POST "+b+"ca/locations/new", caWrite(p.locationNew))
	page("GET "+b+"ca/locations/{id}", caRead(p.locationShow))
	page("POST "+b+"ca/locations/{id}", caWrite(p.locationEdit))
	page("GET "+b+"ca/locations/{id}/delete", caWrite(p.locationDeleteConfirm))
	page("POST "+b+"ca/locations/{id}/delete", caWrite(p.locationDelete))
	page("GET "+b+"ca/policies/{id}", caRead(p.caShow))
	page("POST "+b+"ca/policies/{id}", caWrite(p.caEdit))
	page("GET "+b+"ca/policies/{id}/delete", caWrite(p.caDeleteConfirm))
	page("POST "+b+"ca/policies/{id}/delete", caWrite(p.caDelete))
	page("GET "+b+"signins", p.guard(rolesSignIns, "signins", p.signInList))
	page("GET "+b+"signins/{id}", p.guard(rolesSignIns, "signins", p.signInShow))

	page("GET "+b+"audit", p.guard(rolesAudit, "audit", p.auditList))
	page("GET "+b+"branding", global("branding", p.brandingShow))
	page("POST "+b+"branding", global("branding", p.brandingSave))

	m.Handle(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderMessage(w, r, http.StatusNotFound, "Page not found", "The portal has no page at this address.")
	}))
}
