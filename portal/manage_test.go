package portal_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestPortalManagesTheDirectory walks a Global Administrator through every
// kind of change: each one lands in the API, destructive ones ask first,
// and refusals read as sentences.
func TestPortalManagesTheDirectory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)

		// Users: create, find, edit, reset the password, disable.
		created := b.submit(b.get("/acme/portal/users/new"), "/users/new", url.Values{"displayName": {"Bea Ortiz"}, "mail": {"bea@acme.example"}, "password": {"purple monkey dishwasher"}})
		mustContain(t, created, "Created.", "bea@acme.example")
		id := strings.TrimPrefix(created.url.Path, "/acme/portal/users/")
		mustContain(t, b.get("/acme/portal/users?q=bea@acme.example"), "Bea Ortiz")
		mustContain(t, b.get("/acme/portal/users?q=nobody@acme.example"), "No user matches")
		edited := b.submit(created, "/users/"+id, url.Values{"jobTitle": {"Buyer"}})
		mustContain(t, edited, "Saved.")
		if got := e.api("GET", "/users/"+id, nil, 200)["jobTitle"]; got != "Buyer" {
			t.Errorf("jobTitle = %v", got)
		}
		weak := b.submit(edited, "/users/"+id+"/password", url.Values{"password": {"short"}})
		if weak.status != 400 || !strings.Contains(weak.body, `id="e-password"`) {
			t.Errorf("a short password: %d\n%s", weak.status, text(weak.body))
		}
		mustContain(t, b.submit(edited, "/users/"+id+"/password", url.Values{"password": {"a much longer passphrase"}}), "The password was reset")
		confirm := b.get("/acme/portal/users/" + id + "/disable")
		mustContain(t, confirm, "Disable this account?", "Bea Ortiz", "Cancel")
		if got := e.api("GET", "/users/"+id, nil, 200)["accountEnabled"]; got != true {
			t.Errorf("the confirmation page alone changed accountEnabled to %v", got)
		}
		mustContain(t, b.submit(confirm, "/users/"+id+"/disable", nil), "The account is disabled")
		if got := e.api("GET", "/users/"+id, nil, 200)["accountEnabled"]; got != false {
			t.Errorf("accountEnabled = %v after disabling", got)
		}
		mustContain(t, b.submit(b.get("/acme/portal/users/"+id+"/revoke"), "/users/"+id+"/revoke", nil), "Every session and refresh token")

		// Groups and members.
		g := b.submit(b.get("/acme/portal/groups/new"), "/groups/new", url.Values{"displayName": {"Buyers"}})
		mustContain(t, g, "Created.")
		gid := strings.TrimPrefix(g.url.Path, "/acme/portal/groups/")
		added := b.submit(g, "/groups/"+gid+"/members", url.Values{"member": {"bea@acme.example"}})
		mustContain(t, added, "Added.", "Bea Ortiz")
		missing := b.submit(added, "/groups/"+gid+"/members", url.Values{"member": {"ghost@acme.example"}})
		if missing.status != 400 || !strings.Contains(missing.body, `id="e-member"`) {
			t.Errorf("an unknown member: %d", missing.status)
		}
		rm := b.get("/acme/portal/groups/" + gid + "/members/" + id + "/remove")
		mustContain(t, rm, "Remove Bea Ortiz from the group?")
		mustContain(t, b.submit(rm, "/remove", nil), "Removed.", "No members.")

		// Roles.
		roles := b.get("/acme/portal/roles")
		assigned := b.submit(roles, "/acme/portal/roles", url.Values{"role": {gatehouse.RoleApplicationAdministrator}, "user": {"bea@acme.example"}})
		mustContain(t, assigned, "Added.", "Application Administrator Bea Ortiz")
		as := e.api("GET", "/roleManagement/directory/roleAssignments?$filter="+url.QueryEscape("principalId eq '"+id+"'"), nil, 200)["value"].([]any)
		if len(as) != 1 {
			t.Fatalf("assignments of Bea: %v", as)
		}
		aid := as[0].(map[string]any)["id"].(string)
		mustContain(t, b.submit(b.get("/acme/portal/roles/"+aid+"/remove"), "/remove", nil), "Removed.")

		// Apps: register, add a secret shown once, the quick start.
		app := b.submit(b.get("/acme/portal/apps/new"), "/apps/new", url.Values{"displayName": {"Shop"}, "platform": {"web"}, "redirectUri": {"https://shop.example/callback"}})
		mustContain(t, app, "Created.", "https://shop.example/callback", "Quick start", "CLIENT_SECRET")
		appID := strings.TrimPrefix(app.url.Path, "/acme/portal/apps/")
		badURI := b.submit(app, "/apps/"+appID, url.Values{"web": {"http://shop.example/callback"}})
		if badURI.status != 400 || !strings.Contains(badURI.body, `id="e-web"`) {
			t.Errorf("an http redirect URI: %d\n%s", badURI.status, text(badURI.body))
		}
		withSecret := b.submit(app, "/apps/"+appID+"/secrets", url.Values{"description": {"prod"}})
		mustContain(t, withSecret, "New client secret", "shown only this once")
		secret := regexpSecret.FindStringSubmatch(withSecret.body)
		if secret == nil || len(secret[1]) < 40 {
			t.Fatalf("no secret on the page:\n%s", text(withSecret.body))
		}
		if again := b.get("/acme/portal/apps/" + appID); strings.Contains(again.body, secret[1]) {
			t.Error("the secret is shown again")
		}
		// The built-in portal cannot be deleted: the page says why.
		portal := e.api("GET", "/applications?$filter="+url.QueryEscape("appId eq '"+gatehouse.AdminPortalAppID+"'"), nil, 200)["value"].([]any)[0].(map[string]any)["id"].(string)
		mustContain(t, b.get("/acme/portal/apps/"+portal), "built into every tenant")
		del := b.submit(page{url: app.url, body: `<form method="post" action="/acme/portal/apps/` + portal + `/delete"><input type="hidden" name="csrf" value="` + formValues(app.body).Get("csrf") + `"></form>`}, "/delete", nil)
		if del.status != 403 {
			t.Errorf("deleting the portal: %d", del.status)
		}
		mustContain(t, del, "Your roles don't allow this", "cannot be deleted")

		// User flows: create, add the app.
		flow := b.submit(b.get("/acme/portal/flows/new"), "/flows/new", url.Values{"displayName": {"Shoppers"}, "attr": {"displayName", "city"}})
		mustContain(t, flow, "Created.", "Email with password")
		flowID := strings.TrimPrefix(flow.url.Path, "/acme/portal/flows/")
		withApp := b.submit(flow, "/flows/"+flowID+"/apps", url.Values{"app": {e.api("GET", "/applications/"+appID, nil, 200)["appId"].(string)}})
		mustContain(t, withApp, "Added.", "Shop")
		f := e.api("GET", "/identity/authenticationEventsFlows/"+flowID, nil, 200)
		if inc := f["conditions"].(map[string]any)["applications"].(map[string]any)["includeApplications"].([]any); len(inc) != 1 {
			t.Errorf("flow apps: %v", inc)
		}

		// Branding: a bad colour is refused next to its field.
		brand := b.get("/acme/portal/branding")
		badColour := b.submit(brand, "/branding", url.Values{"accentColor": {"blue"}})
		if badColour.status != 400 || !strings.Contains(badColour.body, `id="e-accentColor"`) {
			t.Errorf("a bad colour: %d\n%s", badColour.status, text(badColour.body))
		}
		mustContain(t, b.submit(brand, "/branding", url.Values{"accentColor": {"#123456"}}), "Saved.")

		// The audit log shows it all.
		mustContain(t, b.get("/acme/portal/audit"), "Add user", "Add member to group", "Add client secret", admin(e))
		mustContain(t, b.get("/acme/portal/audit?category=GroupManagement"), "Add group")
		mustNotContain(t, b.get("/acme/portal/audit?category=GroupManagement"), "Add user")
	})
}

func admin(e *env) string { return e.tenant.Admin.Email }
