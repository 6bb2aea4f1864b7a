package portal_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestPortalConditionalAccessRoles: a User Administrator can neither open
// nor change the policies (pages and API agree); a Conditional Access
// Administrator creates one in the editor; a Security Reader sees it
// read-only, with the reason, and the portal and the API both refuse
// their change.
func TestPortalConditionalAccessRoles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		_, pw := e.newAdmin("useradmin@acme.example", gatehouse.RoleUserAdministrator)
		ua := e.browser()
		ua.signIn("useradmin@acme.example", pw)
		uaTok := ua.sessionToken()
		for _, path := range []string{"ca", "ca/policies/new", "ca/locations", "ca/whatif"} {
			if p := ua.get("/acme/portal/" + path); p.status != 403 {
				t.Errorf("a User Administrator opens %s: %d", path, p.status)
			}
		}
		if st := apiStatus(e, uaTok, "/identity/conditionalAccess/policies"); st != 403 {
			t.Errorf("the API lets a User Administrator read policies: %d", st)
		}
		e.apiAs(uaTok, "POST", "/identity/conditionalAccess/policies", map[string]any{"displayName": "x", "state": "disabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{"All"}}, "applications": map[string]any{"includeApplications": []string{"All"}}}}, 403)

		_, pw = e.newAdmin("caadmin@acme.example", gatehouse.RoleConditionalAccessAdministrator)
		ca := e.browser()
		home := ca.signIn("caadmin@acme.example", pw)
		if nav := navText(home); !strings.Contains(nav, "|Conditional Access|") || strings.Contains(nav, "|Users|") {
			t.Errorf("a Conditional Access Administrator's navigation: %s", nav)
		}
		editor := ca.get("/acme/portal/ca/policies/new")
		if editor.status != 200 {
			t.Fatalf("the editor: %d\n%s", editor.status, text(editor.body))
		}
		// No user or app list for this role: object IDs are typed.
		mustContain(t, editor, "Excluded user object IDs", "Microsoft Admin Portals", "Report-only", "Require authentication strength")
		saved := ca.submit(editor, "/ca/policies/new", url.Values{"displayName": {"Report MFA for the portal"}, "users": {"all"},
			"apps": {"select"}, "includeApps": {gatehouse.ConditionAdminPortals}, "grant": {"grant"}, "mfa": {"on"}, "operator": {"OR"},
			"state": {"enabledForReportingButNotEnforced"}, "signInRisk": {"high", "medium"}, "includePlatforms": {"all"}, "excludePlatforms": {"iOS"},
			"sif": {"on"}, "sifInterval": {"timeBased"}, "sifValue": {"12"}, "sifType": {"hours"}})
		if saved.status != 200 || !strings.Contains(saved.url.Path, "/acme/portal/ca/policies/") {
			t.Fatalf("creating the policy: %d %s\n%s", saved.status, saved.url, text(saved.body))
		}
		mustContain(t, saved, "Created.")
		id := strings.TrimPrefix(saved.url.Path, "/acme/portal/ca/policies/")
		pol := e.api("GET", "/identity/conditionalAccess/policies/"+id, nil, 200)
		cond := pol["conditions"].(map[string]any)
		if pol["state"] != "enabledForReportingButNotEnforced" || cond["applications"].(map[string]any)["includeApplications"].([]any)[0] != "MicrosoftAdminPortals" ||
			len(cond["signInRiskLevels"].([]any)) != 2 || cond["platforms"].(map[string]any)["excludePlatforms"].([]any)[0] != "iOS" {
			t.Errorf("the policy the editor created: %v", pol)
		}
		if sf := pol["sessionControls"].(map[string]any)["signInFrequency"].(map[string]any); sf["value"] != float64(12) || sf["type"] != "hours" {
			t.Errorf("sign-in frequency: %v", sf)
		}
		// The editor shows it again as saved.
		again := formValues(saved.body)
		if again.Get("users") != "all" || again.Get("mfa") != "on" || again.Get("sifValue") != "12" || !strings.Contains(strings.Join(again["excludePlatforms"], ","), "iOS") {
			t.Errorf("the editor shows the saved policy as %v", again)
		}
		list := ca.get("/acme/portal/ca")
		mustContain(t, list, "Report MFA for the portal", "Report-only", "Require multifactor authentication")

		_, pw = e.newAdmin("secreader@acme.example", gatehouse.RoleSecurityReader)
		sr := e.browser()
		sr.signIn("secreader@acme.example", pw)
		srList := sr.get("/acme/portal/ca")
		if srList.status != 200 {
			t.Fatalf("a Security Reader's policy list: %d", srList.status)
		}
		mustContain(t, srList, "Report MFA for the portal", "Read-only: your roles (Security Reader)")
		mustNotContain(t, srList, "New policy")
		view := sr.get("/acme/portal/ca/policies/" + id)
		if view.status != 200 || !strings.Contains(view.body, `<fieldset class="plain" disabled>`) || strings.Contains(view.body, `>Save</button>`) {
			t.Errorf("a Security Reader's view of the policy is not read-only: %d\n%s", view.status, text(view.body))
		}
		if p := sr.submit(editor, "/ca/policies/new", url.Values{"csrf": {formValues(view.body).Get("csrf")}, "displayName": {"Mine"}}); p.status != 403 {
			t.Errorf("a Security Reader's POST of a policy: %d", p.status)
		} else {
			mustContain(t, p, "This page is for the Global Administrator, Security Administrator or Conditional Access Administrator role")
		}
		if n := len(e.api("GET", "/identity/conditionalAccess/policies", nil, 200)["value"].([]any)); n != 1 {
			t.Errorf("%d policies after the refused POST", n)
		}
		e.apiAs(sr.sessionToken(), "PATCH", "/identity/conditionalAccess/policies/"+id, map[string]any{"state": "disabled"}, 403)

		// A Global Reader: Conditional Access read-only, the sign-in log.
		_, pw = e.newAdmin("globalreader@acme.example", gatehouse.RoleGlobalReader)
		gr := e.browser()
		grHome := gr.signIn("globalreader@acme.example", pw)
		if nav := navText(grHome); !strings.Contains(nav, "|Conditional Access|Sign-in logs|") {
			t.Errorf("a Global Reader's navigation: %s", nav)
		}
		mustContain(t, gr.get("/acme/portal/ca/locations"), "Read-only: your roles (Global Reader)")
		if p := gr.get("/acme/portal/signins?user=" + url.QueryEscape(e.tenant.Admin.Email)); p.status != 200 {
			t.Errorf("a Global Reader's sign-in logs: %d", p.status)
		}
		if p := gr.get("/acme/portal/ca/policies/new"); p.status != 403 {
			t.Errorf("a Global Reader opens the new policy editor: %d", p.status)
		}
	})
}

// TestPortalConditionalAccessGuardRails: the API's validation errors sit
// next to their field; the lockout guard's 409 is explained with "Save
// anyway", which saves; delete asks first.
func TestPortalConditionalAccessGuardRails(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)
		editor := b.get("/acme/portal/ca/policies/new")
		mustContain(t, editor, "Administrator ("+e.tenant.Admin.Email+")") // a Global Administrator gets the user picker
		base := url.Values{"displayName": {"Require MFA for all users"}, "users": {"all"}, "apps": {"all"}, "grant": {"grant"}, "mfa": {"on"}, "operator": {"OR"}, "state": {"enabled"}}
		with := func(kv ...string) url.Values {
			v := url.Values{}
			for k, x := range base {
				v[k] = x
			}
			for i := 0; i+1 < len(kv); i += 2 {
				v[kv[i]] = []string{kv[i+1]}
			}
			return v
		}
		// A user that does not exist: the API's 404 names the property.
		bad := b.submit(editor, "/ca/policies/new", with("excludeUsersIds", "00000000-0000-4000-8000-000000000001"))
		if bad.status != 404 || !strings.Contains(bad.body, `id="e-excludeUsers"`) {
			t.Errorf("an unknown excluded user: %d\n%s", bad.status, text(bad.body))
		}
		// A frequency out of range: the API's words next to the field.
		bad = b.submit(editor, "/ca/policies/new", with("sif", "on", "sifInterval", "timeBased", "sifValue", "30", "sifType", "hours"))
		if bad.status != 400 || !strings.Contains(bad.body, `id="e-sifValue"`) && !strings.Contains(bad.body, `id="e-sif"`) {
			t.Errorf("a 30-hour frequency: %d\n%s", bad.status, text(bad.body))
		}
		if got := e.api("GET", "/identity/conditionalAccess/policies", nil, 200)["value"].([]any); len(got) != 0 {
			t.Fatalf("refused saves wrote %d policies", len(got))
		}
		// Require MFA of everyone while no method is enabled: the guard.
		locked := b.submit(editor, "/ca/policies/new", with())
		if locked.status != 409 {
			t.Fatalf("the lockout guard: %d\n%s", locked.status, text(locked.body))
		}
		mustContain(t, locked, "This change would lock out every Global Administrator", e.tenant.Admin.Email, "You are one of them", "Save anyway")
		if !strings.Contains(locked.body, `class="button secondary" href="/acme/portal/ca"`) {
			t.Errorf("the lockout page's Cancel does not go back to the policies")
		}
		if got := e.api("GET", "/identity/conditionalAccess/policies", nil, 200)["value"].([]any); len(got) != 0 {
			t.Fatalf("the refused policy was saved")
		}
		done := b.submit(locked, "/ca/policies/new", nil)
		if done.status != 200 {
			t.Fatalf("Save anyway: %d\n%s", done.status, text(done.body))
		}
		mustContain(t, done, "Created.")
		id := strings.TrimPrefix(done.url.Path, "/acme/portal/ca/policies/")
		if st := e.api("GET", "/identity/conditionalAccess/policies/"+id, nil, 200)["state"]; st != "enabled" {
			t.Errorf("the confirmed policy's state: %v", st)
		}
		// Turning it off needs no confirmation; deleting asks first.
		off := b.submit(done, "/ca/policies/"+id, url.Values{"state": {"disabled"}})
		mustContain(t, off, "Saved.")
		ask := b.get("/acme/portal/ca/policies/" + id + "/delete")
		mustContain(t, ask, "Delete the policy “Require MFA for all users”?", "Delete policy")
		gone := b.submit(ask, "/ca/policies/"+id+"/delete", nil)
		mustContain(t, gone, "Deleted.")
		e.api("GET", "/identity/conditionalAccess/policies/"+id, nil, 404)
	})
}

// TestPortalNamedLocationsAndWhatIf: IP and country locations are created
// and edited (the API's GeoIP warning shown), one a policy uses cannot be
// deleted (the 409 as a sentence), and What If lists every policy with
// the API's reason.
func TestPortalNamedLocationsAndWhatIf(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)
		ipForm := b.get("/acme/portal/ca/locations/new?kind=ip")
		bad := b.submit(ipForm, "/ca/locations/new", url.Values{"displayName": {"Office"}, "ipRanges": {"198.51.100.0/24\nnot-an-ip"}, "isTrusted": {"on"}})
		if bad.status != 400 || !strings.Contains(bad.body, `id="e-ipRanges"`) || !strings.Contains(text(bad.body), "not-an-ip") {
			t.Errorf("a bad range: %d\n%s", bad.status, text(bad.body))
		}
		office := b.submit(ipForm, "/ca/locations/new", url.Values{"displayName": {"Office"}, "ipRanges": {"198.51.100.0/24\n2001:db8::/48"}, "isTrusted": {"on"}})
		mustContain(t, office, "Created.")
		officeID := strings.TrimPrefix(office.url.Path, "/acme/portal/ca/locations/")
		countries := b.submit(b.get("/acme/portal/ca/locations/new?kind=country"), "/ca/locations/new", url.Values{"displayName": {"Home"}, "countries": {"fr, de"}})
		mustContain(t, countries, "Created.", "GeoIP")
		loc := e.api("GET", "/identity/conditionalAccess/namedLocations/"+officeID, nil, 200)
		if loc["isTrusted"] != true || len(loc["ipRanges"].([]any)) != 2 {
			t.Errorf("the office location: %v", loc)
		}
		list := b.get("/acme/portal/ca/locations")
		mustContain(t, list, "Office", "Trusted", "198.51.100.0/24", "Home", "FR, DE")

		editor := b.get("/acme/portal/ca/policies/new")
		pol := b.submit(editor, "/ca/policies/new", url.Values{"displayName": {"Block outside the office"}, "users": {"all"}, "apps": {"all"},
			"includeLocations": {"All"}, "excludeLocations": {officeID}, "grant": {"block"}, "state": {"enabledForReportingButNotEnforced"}})
		mustContain(t, pol, "Created.")
		polID := strings.TrimPrefix(pol.url.Path, "/acme/portal/ca/policies/")
		if f := formValues(pol.body); f.Get("grant") != "block" || f.Get("excludeLocations") != officeID {
			t.Errorf("the block policy in the editor: %v", f)
		}

		ask := b.get("/acme/portal/ca/locations/" + officeID + "/delete")
		refused := b.submit(ask, "/ca/locations/"+officeID+"/delete", nil)
		if refused.status != 409 {
			t.Errorf("deleting a location a policy uses: %d %s", refused.status, text(refused.body))
		}
		mustContain(t, refused, "The location was not deleted", "Block outside the office")

		adminID := e.api("GET", "/users?"+url.Values{"$filter": {"mail eq '" + e.tenant.Admin.Email + "'"}}.Encode(), nil, 200)["value"].([]any)[0].(map[string]any)["id"].(string)
		q := url.Values{"user": {adminID}, "app": {gatehouse.AdminPortalAppID}, "clientAppType": {"browser"}, "ipAddress": {"203.0.113.9"}, "signInRiskLevel": {"none"}, "userRiskLevel": {"none"}}
		res := b.get("/acme/portal/ca/whatif?" + q.Encode())
		if res.status != 200 {
			t.Fatalf("What If: %d\n%s", res.status, text(res.body))
		}
		mustContain(t, res, "Block outside the office", "Applies", "Block access")
		q.Set("ipAddress", "198.51.100.7")
		res = b.get("/acme/portal/ca/whatif?" + q.Encode())
		mustContain(t, res, "Does not apply", "Locations", "location")
		q.Set("ipAddress", "not an address")
		res = b.get("/acme/portal/ca/whatif?" + q.Encode())
		if res.status != 400 || !strings.Contains(res.body, `id="e-ipAddress"`) {
			t.Errorf("What If with a bad address: %d\n%s", res.status, text(res.body))
		}
		// A few admin API calls per page, the roles' included: the editor
		// reads the policy and its four pickers.
		signIns := e.api("GET", "/auditLogs/signIns?$top=1", nil, 200)["value"].([]any)
		for path, most := range map[string]int64{"ca": 2, "ca/policies/new": 5, "ca/policies/" + polID: 6, "ca/locations": 2,
			"ca/locations/" + officeID: 2, "ca/whatif": 3, "ca/whatif?" + q.Encode(): 4, "signins": 2,
			"signins/" + signIns[0].(map[string]any)["id"].(string): 2} {
			before := e.calls.n.Load()
			if p := b.get("/acme/portal/" + path); p.status != 200 && p.status != 400 {
				t.Errorf("GET %s: %d", path, p.status)
			}
			if n := e.calls.n.Load() - before; n < 1 || n > most {
				t.Errorf("GET %s made %d admin API calls, want 1 to %d", path, n, most)
			}
		}
	})
}

// TestPortalSignInLogs: the log lists the administrator's own portal
// sign-in, filters map to the API's $filter, and the detail shows the
// outcome, the authentication steps and each policy's result.
func TestPortalSignInLogs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.tenant.Admin.Email, e.tenant.Admin.Password)
		list := b.get("/acme/portal/signins")
		if list.status != 200 {
			t.Fatalf("sign-in logs: %d\n%s", list.status, text(list.body))
		}
		mustContain(t, list, e.tenant.Admin.Email, "Success")
		link := regexpSignInLink.FindStringSubmatch(list.body)
		if link == nil {
			t.Fatalf("no sign-in link:\n%s", list.body)
		}
		detail := b.get(link[1])
		mustContain(t, detail, "Basic info", "Error code 0", "Password", "Conditional Access")
		mine := b.get("/acme/portal/signins?" + url.Values{"user": {e.tenant.Admin.Email}, "status": {"0"}}.Encode())
		mustContain(t, mine, e.tenant.Admin.Email, "Success")
		nobody := b.get("/acme/portal/signins?user=nobody@acme.example")
		if nobody.status != 400 || !strings.Contains(nobody.body, `id="e-user"`) {
			t.Errorf("an unknown email address: %d", nobody.status)
		}
		failed := b.get("/acme/portal/signins?status=50126")
		mustContain(t, failed, "No sign-in matches the filters.")
		badDate := b.get("/acme/portal/signins?from=yesterday")
		if badDate.status != 400 || !strings.Contains(badDate.body, `id="e-from"`) {
			t.Errorf("a bad date: %d", badDate.status)
		}
		_, pw := e.newAdmin("caadmin@acme.example", gatehouse.RoleConditionalAccessAdministrator)
		ca := e.browser()
		ca.signIn("caadmin@acme.example", pw)
		if p := ca.get("/acme/portal/signins"); p.status != 403 || apiStatus(e, ca.sessionToken(), "/auditLogs/signIns") != 403 {
			t.Errorf("a Conditional Access Administrator's sign-in logs: page %d", p.status)
		}
	})
}

var regexpSignInLink = regexp.MustCompile(`href="(/acme/portal/signins/[^"?]+)"`)
