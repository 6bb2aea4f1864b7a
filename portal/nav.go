package portal

import (
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// Which directory roles open which section, as the admin API's table of
// access (web/auth.go) says: the portal shows a section only to those the
// API lets read it, and the API decides every change.
var (
	rolesUsers       = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleUserAdministrator}
	rolesApps        = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleApplicationAdministrator}
	rolesGlobal      = []string{gatehouse.RoleGlobalAdministrator}
	rolesMethods     = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleAuthenticationPolicyAdministrator}
	rolesAudit       = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator}
	rolesUserMethods = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RolePrivilegedAuthenticationAdministrator, gatehouse.RoleAuthenticationAdministrator}
	// Conditional Access: its writers, and the readers who see it
	// read-only; the sign-in log: the administrators and readers of
	// security and reports.
	rolesCAWrite = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleConditionalAccessAdministrator}
	rolesCARead  = append(slices.Clone(rolesCAWrite), gatehouse.RoleGlobalReader, gatehouse.RoleSecurityReader)
	rolesSignIns = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleGlobalReader,
		gatehouse.RoleSecurityReader, gatehouse.RoleReportsReader}
)

// section is one entry of the navigation and the roles that open it.
type section struct {
	key, text, path string
	roles           []string
}

var sections = []section{
	{"users", "Users", "users", rolesUsers},
	{"groups", "Groups", "groups", rolesUsers},
	{"roles", "Roles and admins", "roles", rolesGlobal},
	{"apps", "App registrations", "apps", rolesApps},
	{"flows", "User flows", "flows", rolesGlobal},
	{"methods", "Authentication methods", "methods", rolesMethods},
	{"ca", "Conditional Access", "ca", rolesCARead},
	{"signins", "Sign-in logs", "signins", rolesSignIns},
	{"audit", "Audit logs", "audit", rolesAudit},
	{"branding", "Company branding", "branding", rolesGlobal},
}

// anyRole reports whether held contains one of want.
func anyRole(held, want []string) bool {
	return slices.ContainsFunc(want, func(r string) bool { return slices.Contains(held, r) })
}

// navFor returns the sections the roles open, the overview first.
func navFor(base string, roles []string) []navItem {
	nav := []navItem{{"overview", "Overview", base}}
	for _, s := range sections {
		if anyRole(roles, s.roles) {
			nav = append(nav, navItem{s.key, s.text, base + s.path})
		}
	}
	return nav
}

// roleNames returns the display names of the roles, in the order of
// gatehouse.Roles.
func roleNames(roles []string) []string {
	var out []string
	for _, r := range gatehouse.Roles {
		if slices.Contains(roles, r.ID) {
			out = append(out, r.DisplayName)
		}
	}
	return out
}

// needs says in words which roles open a section.
func needs(roles []string) string {
	names := roleNames(roles)
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return joinOr(names)
}

func joinOr(names []string) string {
	out := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			out += " or "
		default:
			out += ", "
		}
		out += n
	}
	return out
}

// guard runs h only for an administrator holding one of roles; anyone
// else gets a page that says which roles open it (the API would refuse
// them anyway).
func (p *Portal) guard(roles []string, key string, h admin) admin {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if !anyRole(s.Roles, roles) {
			pg := p.newPage(r, s, "You don't have access to this page", key)
			pg.Data = "This page is for the " + needs(roles) + " role. Your roles: " + orNone(roleNames(s.Roles)) + "."
			p.render(w, r, http.StatusForbidden, "message", pg)
			return
		}
		h(w, r, s)
	}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return joinOr(names)
}
