package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestPortalRoleRules: for each directory role, a section of the portal
// opens exactly when the admin API lets the same sign-in's token read it,
// and its navigation lists exactly those sections: pages and API agree.
func TestPortalRoleRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		sections := []struct{ page, nav, api string }{
			{"users", "Users", "/users"},
			{"groups", "Groups", "/groups"},
			{"roles", "Roles and admins", "/roleManagement/directory/roleAssignments"},
			{"apps", "App registrations", "/applications"},
			{"flows", "User flows", "/identity/authenticationEventsFlows"},
			{"methods", "Authentication methods", "/policies/authenticationMethodsPolicy"},
			{"audit", "Audit logs", "/auditLogs/directoryAudits"},
			{"ca", "Conditional Access", "/identity/conditionalAccess/policies"},
			{"ca/locations", "Conditional Access", "/identity/conditionalAccess/namedLocations"},
			{"signins", "Sign-in logs", "/auditLogs/signIns"},
			{"branding", "Company branding", "/organization/" + e.tenant.TenantID + "/branding"},
		}
		for _, role := range []string{gatehouse.RoleUserAdministrator, gatehouse.RoleAuthenticationPolicyAdministrator,
			gatehouse.RoleConditionalAccessAdministrator, gatehouse.RoleApplicationAdministrator, gatehouse.RoleSecurityAdministrator,
			gatehouse.RoleGlobalAdministrator, ""} {
			name := "no role"
			if r, ok := gatehouse.RoleByID(role); ok {
				name = r.DisplayName
			}
			mail := strings.ReplaceAll(strings.ToLower(name), " ", "-") + "@acme.example"
			_, pw := e.newAdmin(mail, role)
			b := e.browser()
			home := b.signIn(mail, pw)
			tok := b.sessionToken()
			nav := navText(home)
			for _, s := range sections {
				st := apiStatus(e, tok, s.api)
				p := b.get("/acme/portal/" + s.page)
				if (p.status == 200) != (st == 200) || (p.status != 200 && p.status != 403) {
					t.Errorf("%s: page %s answers %d, the API %d", name, s.page, p.status, st)
				}
				if p.status == 403 {
					mustContain(t, p, "You don't have access to this page", "This page is for the")
				}
				if strings.Contains(nav, "|"+s.nav+"|") != (st == 200) {
					t.Errorf("%s: navigation %q and API %d disagree on %s", name, nav, st, s.nav)
				}
			}
		}
	})
}

// navText is the portal navigation's entries, as |A|B|.
func navText(p page) string {
	i := strings.Index(p.body, `<nav class="side"`)
	j := strings.Index(p.body[i:], "</nav>")
	out := "|"
	for _, a := range regexpLinks.FindAllStringSubmatch(p.body[i:i+j], -1) {
		out += text(a[1]) + "|"
	}
	return out
}

var regexpLinks = regexp.MustCompile(`(?s)<a [^>]*>(.*?)</a>`)

// apiStatus is the status of a GET of the admin API path with the token.
func apiStatus(e *env, tok, path string) int {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.tenant.AdminAPI+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPortalUserAdministratorAndMethodsPolicy: a User Administrator can
// open and use user management but not change the authentication methods
// policy, neither through the page nor its form; an Authentication Policy
// Administrator enables email OTP for all users on its page, and the API
// shows the policy changed. A Conditional Access Administrator cannot open
// user management.
func TestPortalUserAdministratorAndMethodsPolicy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		_, uaPW := e.newAdmin("ua@acme.example", gatehouse.RoleUserAdministrator)
		ua := e.browser()
		ua.signIn("ua@acme.example", uaPW)
		users := ua.get("/acme/portal/users")
		if users.status != 200 {
			t.Fatalf("User Administrator on users: %d", users.status)
		}
		// A validation error shows next to its field, in the API's words.
		form := ua.get("/acme/portal/users/new")
		bad := ua.submit(form, "/users/new", url.Values{"displayName": {"Bea"}, "mail": {"not an address"}})
		if bad.status != 400 || !strings.Contains(bad.body, `id="e-mail"`) {
			t.Errorf("bad mail: %d, no error beside the field:\n%s", bad.status, text(bad.body))
		}
		apiMsg := e.api("POST", "/users", map[string]any{"displayName": "Bea", "mail": "not an address"}, 400)["error"].(map[string]any)["message"].(string)
		mustContain(t, bad, apiMsg)

		before := e.api("GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", nil, 200)
		if p := ua.get("/acme/portal/methods/Email"); p.status != 403 {
			t.Errorf("User Administrator on the Email method page: %d", p.status)
		} else {
			mustContain(t, p, "Authentication Policy Administrator")
		}
		// Posting the form anyway (with the User Administrator's own
		// anti-forgery token) changes nothing.
		if p := ua.submit(users, "/signout", nil); p.status != 200 {
			t.Fatalf("sign-out: %d", p.status)
		}
		ua = e.browser()
		home := ua.signIn("ua@acme.example", uaPW)
		csrf := formValues(home.body).Get("csrf")
		p := ua.submit(page{url: home.url, body: `<form method="post" action="/acme/portal/methods/Email"><input type="hidden" name="csrf" value="` + csrf + `"></form>`},
			"/methods/Email", url.Values{"enabled": {"on"}, "target": {"all"}})
		if p.status != 403 {
			t.Errorf("User Administrator's POST to the Email method: %d", p.status)
		}
		e.apiAs(ua.sessionToken(), "PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", map[string]any{"state": "enabled"}, 403)
		after := e.api("GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", nil, 200)
		if before["state"] != after["state"] {
			t.Errorf("the refused change changed the state from %v to %v", before["state"], after["state"])
		}

		// The Authentication Policy Administrator enables it for all users.
		e.api("PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", map[string]any{"state": "disabled"}, 204)
		_, apaPW := e.newAdmin("apa@acme.example", gatehouse.RoleAuthenticationPolicyAdministrator)
		apa := e.browser()
		apa.signIn("apa@acme.example", apaPW)
		page := apa.get("/acme/portal/methods/Email")
		if page.status != 200 {
			t.Fatalf("Authentication Policy Administrator on Email: %d", page.status)
		}
		mustContain(t, page, "Email one-time passcode", "Enable", "All users", "Group object IDs")
		saved := apa.submit(page, "/methods/Email", url.Values{"enabled": {"on"}, "target": {"all"}})
		mustContain(t, saved, "Saved.")
		cfg := e.api("GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", nil, 200)
		inc, _ := cfg["includeTargets"].([]any)
		if cfg["state"] != "enabled" || len(inc) != 1 || inc[0].(map[string]any)["id"] != "all_users" {
			t.Errorf("after the page: %v", cfg)
		}
		// The audit log names the administrator.
		audits := e.api("GET", "/auditLogs/directoryAudits?$top=1", nil, 200)["value"].([]any)
		if by := audits[0].(map[string]any)["initiatedBy"].(map[string]any)["user"]; by == nil || by.(map[string]any)["userPrincipalName"] != "apa@acme.example" {
			t.Errorf("newest audit entry: %v", audits[0])
		}

		_, caPW := e.newAdmin("ca@acme.example", gatehouse.RoleConditionalAccessAdministrator)
		ca := e.browser()
		ca.signIn("ca@acme.example", caPW)
		if p := ca.get("/acme/portal/users"); p.status != 403 {
			t.Errorf("Conditional Access Administrator on users: %d", p.status)
		}
		e.apiAs(ca.sessionToken(), "GET", "/users", nil, 403)
	})
}
