package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// principal is who is calling the admin API: a signed-in user through a
// delegated token, or an application with its granted permissions.
type principal struct {
	User  *gatehouse.User        // set for delegated tokens
	Roles []string               // the user's directory role template IDs
	App   *gatehouse.Application // set for application tokens
	Perms []string               // the application's granted permission names
	IP    string
}

// actor describes the principal for the audit log.
func (p *principal) actor() gatehouse.Actor {
	if p.User != nil {
		return gatehouse.Actor{UserID: p.User.ID, UserMail: p.User.Mail, DisplayName: p.User.DisplayName, IPAddress: p.IP}
	}
	return gatehouse.Actor{AppID: p.App.AppID, DisplayName: p.App.DisplayName, IPAddress: p.IP}
}

// hasRole reports whether the principal is a user holding the role.
func (p *principal) hasRole(role string) bool {
	return p.User != nil && slices.Contains(p.Roles, role)
}

// hasPerm reports whether the principal is an application granted perm.
func (p *principal) hasPerm(perm gatehouse.Permission) bool {
	return p.App != nil && slices.Contains(p.Perms, perm.Value)
}

// isGlobalAdmin reports whether the principal may do everything: a Global
// Administrator, or an application allowed to manage directory roles.
func (p *principal) isGlobalAdmin() bool {
	return p.hasRole(gatehouse.RoleGlobalAdministrator) || p.hasPerm(gatehouse.PermRoleManagementReadWriteDir)
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(ctxPrincipal).(*principal)
	return p
}

// access is what an operation requires: any one of the directory roles
// (for users) or of the application permissions (for applications).
type access struct {
	what  string
	roles []string
	perms []gatehouse.Permission
}

// anyUser, as the one role of an access, allows every signed-in user (a
// delegated token) and no application: Graph's /me.
const anyUser = "*"

var (
	usersRead = access{"read users",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader, gatehouse.RoleUserAdministrator},
		[]gatehouse.Permission{gatehouse.PermUserReadAll, gatehouse.PermUserReadWriteAll}}
	usersWrite = access{"manage users",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleUserAdministrator},
		[]gatehouse.Permission{gatehouse.PermUserReadWriteAll}}
	groupsRead = access{"read groups",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader, gatehouse.RoleUserAdministrator},
		[]gatehouse.Permission{gatehouse.PermGroupReadAll, gatehouse.PermGroupReadWriteAll}}
	groupsWrite = access{"manage groups",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleUserAdministrator},
		[]gatehouse.Permission{gatehouse.PermGroupReadWriteAll}}
	appsRead = access{"read applications",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader, gatehouse.RoleApplicationAdministrator},
		[]gatehouse.Permission{gatehouse.PermApplicationReadAll, gatehouse.PermApplicationReadWriteAll}}
	appsWrite = access{"manage applications",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleApplicationAdministrator},
		[]gatehouse.Permission{gatehouse.PermApplicationReadWriteAll}}
	permissionGrantsWrite = access{"grant application permissions",
		[]string{gatehouse.RoleGlobalAdministrator},
		[]gatehouse.Permission{gatehouse.PermAppRoleAssignmentReadWriteAll, gatehouse.PermRoleManagementReadWriteDir}}
	rolesRead = access{"read directory roles",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader},
		[]gatehouse.Permission{gatehouse.PermRoleManagementReadWriteDir}}
	rolesWrite = access{"manage directory roles",
		[]string{gatehouse.RoleGlobalAdministrator},
		[]gatehouse.Permission{gatehouse.PermRoleManagementReadWriteDir}}
	auditRead = access{"read audit logs",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleGlobalReader, gatehouse.RoleSecurityReader, gatehouse.RoleReportsReader},
		[]gatehouse.Permission{gatehouse.PermAuditLogReadAll}}
	// The authentication methods policy: as in Entra, the Security and
	// Authentication Policy Administrators' (not the Conditional Access
	// Administrator's).
	methodsPolicyRead = access{"read the authentication methods policy",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleAuthenticationPolicyAdministrator,
			gatehouse.RoleGlobalReader, gatehouse.RoleSecurityReader},
		[]gatehouse.Permission{gatehouse.PermPolicyReadAll, gatehouse.PermPolicyReadWriteAuthMethod}}
	methodsPolicyWrite = access{"manage the authentication methods policy",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleAuthenticationPolicyAdministrator},
		[]gatehouse.Permission{gatehouse.PermPolicyReadWriteAuthMethod}}
	// Users' registered methods: the Authentication Administrators'
	// (userMethodsAllowed narrows the unprivileged one to users without
	// directory roles).
	userMethodsRead = access{"read users' authentication methods",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RolePrivilegedAuthenticationAdministrator, gatehouse.RoleAuthenticationAdministrator},
		[]gatehouse.Permission{gatehouse.PermUserAuthMethodReadAll, gatehouse.PermUserAuthMethodReadWriteAll}}
	userMethodsWrite = access{"manage users' authentication methods",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RolePrivilegedAuthenticationAdministrator, gatehouse.RoleAuthenticationAdministrator},
		[]gatehouse.Permission{gatehouse.PermUserAuthMethodReadWriteAll}}
	// User flows: as in Entra External ID, not the Application
	// Administrator's to change.
	userFlowsRead = access{"read user flows",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader},
		[]gatehouse.Permission{gatehouse.PermEventListenerReadAll, gatehouse.PermEventListenerReadWriteAll}}
	userFlowsWrite = access{"manage user flows",
		[]string{gatehouse.RoleGlobalAdministrator},
		[]gatehouse.Permission{gatehouse.PermEventListenerReadWriteAll}}
	// Conditional Access: the Security and Conditional Access
	// Administrators' (as in Entra); What If reads as the policies do.
	caRead = access{"read Conditional Access policies",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleConditionalAccessAdministrator,
			gatehouse.RoleGlobalReader, gatehouse.RoleSecurityReader},
		[]gatehouse.Permission{gatehouse.PermPolicyReadCA, gatehouse.PermPolicyReadAll, gatehouse.PermPolicyReadWriteCA}}
	caWrite = access{"manage Conditional Access policies",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleConditionalAccessAdministrator},
		[]gatehouse.Permission{gatehouse.PermPolicyReadWriteCA}}
	// The sign-in log: as in Entra, the administrators and readers of
	// security and reports.
	signInsRead = access{"read sign-in logs",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleGlobalReader,
			gatehouse.RoleSecurityReader, gatehouse.RoleReportsReader},
		[]gatehouse.Permission{gatehouse.PermAuditLogReadAll}}
	organizationRead = access{"read the organization",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader},
		[]gatehouse.Permission{gatehouse.PermOrganizationReadAll, gatehouse.PermOrganizationReadWriteAll}}
	organizationWrite = access{"manage the organization",
		[]string{gatehouse.RoleGlobalAdministrator},
		[]gatehouse.Permission{gatehouse.PermOrganizationReadWriteAll}}
	// The signed-in user's own profile and roles (/me).
	signedInUser = access{"read the signed-in user", []string{anyUser}, nil}
	brandingRead = access{"read company branding",
		[]string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleGlobalReader},
		[]gatehouse.Permission{gatehouse.PermOrganizationalBrandingReadAll, gatehouse.PermOrganizationalBrandingReadWriteAll,
			gatehouse.PermOrganizationReadAll, gatehouse.PermOrganizationReadWriteAll}}
	brandingWrite = access{"manage company branding",
		[]string{gatehouse.RoleGlobalAdministrator},
		[]gatehouse.Permission{gatehouse.PermOrganizationalBrandingReadWriteAll, gatehouse.PermOrganizationReadWriteAll}}
)

func (a access) allows(p *principal) bool {
	if slices.Contains(a.roles, anyUser) {
		return p.User != nil
	}
	for _, r := range a.roles {
		if p.hasRole(r) {
			return true
		}
	}
	for _, perm := range a.perms {
		if p.hasPerm(perm) {
			return true
		}
	}
	return false
}

// requireAccess authenticates the bearer token (TK-1, TK-2) against the
// tenant's own keys and admin API audience, loads the principal fresh from
// the store (so a disabled user, a deleted app or a revoked role counts at
// once), and refuses the request with 403 unless the principal has access.
func (s *server) requireAccess(need access, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if !need.allows(p) {
			s.writeAPIError(w, r, gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges to %s. %s", need.what, need.requirement()))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p)))
	})
}

// requirement says in words what would have allowed the operation.
func (a access) requirement() string {
	if slices.Contains(a.roles, anyUser) {
		return "It needs a token issued on behalf of a signed-in user (delegated), not one of an application."
	}
	var roles, perms []string
	for _, id := range a.roles {
		if role, ok := gatehouse.RoleByID(id); ok {
			roles = append(roles, role.DisplayName)
		}
	}
	for _, p := range a.perms {
		perms = append(perms, p.Value)
	}
	return "It needs the role " + strings.Join(roles, " or ") + " (delegated) or the application permission " + strings.Join(perms, " or ") + "."
}

func (s *server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	t := tenantFrom(ctx)
	authz := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(authz, " ")
	if authz == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Access token is empty: send an Authorization: Bearer header with a token from the tenant's token endpoint.")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The Authorization header must use the Bearer scheme.")
	}
	claims, err := s.Keys.VerifyAccessToken(ctx, t.ID, gatehouse.IssuerURL(s.PublicURL, t.Name), gatehouse.AdminAPIURL(s.PublicURL, t.Name), strings.TrimSpace(token))
	if err != nil {
		return nil, err
	}
	if claims.TenantID != t.ID {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The access token was issued for another tenant.")
	}
	p := &principal{IP: clientIP(r)}
	switch claims.IDType {
	case "app":
		app, err := s.Store.ApplicationByAppID(ctx, t.ID, claims.ClientID)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, err
		}
		if err != nil || app.ID != claims.Subject {
			return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The application the access token was issued to no longer exists.")
		}
		p.App, p.Perms = app, app.PermissionValues()
	case "user":
		// A delegated token counts while its sign-in (grant) stands, its
		// user is enabled and its app still holds the delegated
		// permission.
		u, err := s.liveTokenUser(r, t, claims)
		if err != nil {
			return nil, err
		}
		app, err := s.Store.ApplicationByAppID(ctx, t.ID, claims.ClientID)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, err
		}
		if err != nil || !app.AdminAPIDelegated {
			return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The application the access token was issued to may no longer call the admin API on behalf of users (%s was removed).",
				gatehouse.DirectoryAccessAsUser.Value)
		}
		// A token from before the permission was last granted belongs to
		// a time when it was removed, or never held.
		if claims.IssuedAt == nil || claims.IssuedAt.Time().Before(app.AdminAPIDelegatedSince.Truncate(time.Second)) {
			return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The access token was issued before the application was last granted %s; get a new one.",
				gatehouse.DirectoryAccessAsUser.Value)
		}
		roles, err := userRoles(ctx, s.Store, t.ID, u.ID)
		if err != nil {
			return nil, err
		}
		p.User, p.Roles = u, roles
	default:
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The access token does not say whether it was issued to a user or an application.")
	}
	return p, nil
}

// userRoles returns the role template IDs the user holds.
func userRoles(ctx context.Context, rd gatehouse.Reader, tenantID, userID string) ([]string, error) {
	as, _, err := rd.ListRoleAssignments(ctx, tenantID, gatehouse.ListOptions{Top: gatehouse.MaxPageSize, Filter: map[string]string{"principalId": userID}})
	if err != nil {
		return nil, err
	}
	roles := make([]string, 0, len(as))
	for _, a := range as {
		roles = append(roles, a.RoleDefinitionID)
	}
	return roles, nil
}
