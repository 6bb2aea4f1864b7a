package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPortalSignInPagesSignOut: a Global Administrator signs in through
// the tenant's hosted sign-in, sees every section, every page answers
// under the size budget, and signing out ends the sign-in everywhere: the
// old cookie no longer works and the portal asks to sign in again.
func TestPortalSignInPagesSignOut(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		home := b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)
		mustContain(t, home, "Overview", "Signed in as Administrator", "Global Administrator",
			"Users", "Groups", "Roles and admins", "App registrations", "User flows", "Authentication methods", "Audit logs", "Company branding")
		for _, path := range []string{"users", "users/new", "groups", "groups/new", "roles", "apps", "apps/new", "flows", "flows/new",
			"methods", "methods/Email", "methods/Fido2", "audit", "audit?category=UserManagement", "branding",
			"users/" + e.api("GET", "/users?$top=1", nil, 200)["value"].([]any)[0].(map[string]any)["id"].(string)} {
			before := e.calls.n.Load()
			if p := b.get("/acme/portal/" + path); p.status != 200 {
				t.Errorf("GET %s: %d\n%s", path, p.status, text(p.body))
			}
			// A few admin API calls per page, the roles' included.
			if n := e.calls.n.Load() - before; n < 1 || n > 4 {
				t.Errorf("GET %s made %d admin API calls, want 1 to 4", path, n)
			}
		}
		if p := b.get("/acme/portal/nothing-here"); p.status != 404 {
			t.Errorf("unknown page: %d", p.status)
		}

		u, _ := url.Parse(e.url)
		before := b.jar.Cookies(u)
		out := b.submit(home, "/signout", nil)
		if out.url.Path != "/acme/portal/signed-out" {
			t.Fatalf("sign-out ended at %s:\n%s", out.url, text(out.body))
		}
		mustContain(t, out, "You signed out")
		if p := b.get("/acme/portal/"); !strings.HasPrefix(p.url.Path, "/acme/login") {
			t.Errorf("after sign-out the portal went to %s, want the sign-in page", p.url)
		}
		// The cookie from before the sign-out: its token was revoked.
		replay := e.browser()
		replay.jar.SetCookies(u, before)
		if p := replay.get("/acme/portal/users"); !strings.HasPrefix(p.url.Path, "/acme/login") {
			t.Errorf("the signed-out cookie still opened %s (%d)", p.url, p.status)
		}
	})
}

// TestFE1PortalForms: a POST without the session's anti-forgery token, or
// from another origin, changes nothing.
func TestFE1PortalForms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)
		form := b.get("/acme/portal/users/new")
		if p := b.submit(form, "/users/new", url.Values{"csrf": {"forged"}, "displayName": {"Mallory"}, "mail": {"m@example.com"}}); p.status != 403 {
			t.Errorf("forged token: %d", p.status)
		}
		vals := formValues(formRE.FindAllStringSubmatch(form.body, -1)[1][2])
		vals.Set("displayName", "Mallory")
		vals.Set("mail", "m2@example.com")
		req, _ := http.NewRequest("POST", e.url+"/acme/portal/users/new", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if p := b.do(req); p.status != 403 {
			t.Errorf("cross-origin POST: %d", p.status)
		}
		if got := e.api("GET", "/users?$filter="+url.QueryEscape("displayName eq 'Mallory'"), nil, 200)["value"].([]any); len(got) != 0 {
			t.Errorf("a refused form created %v", got)
		}
	})
}
