package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2/clientcredentials"
)

// addAdmin creates a password user holding the directory role.
func addAdmin(t *testing.T, st *stack, mail, pw, role string) {
	t.Helper()
	addPasswordUser(t, st.store, mail, pw)
	ctx := context.Background()
	u, err := st.store.UserByMail(ctx, st.tenantID, mail)
	if err != nil {
		t.Fatal(err)
	}
	err = st.store.Update(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{TenantID: st.tenantID, RoleDefinitionID: role, PrincipalID: u.ID, DirectoryScopeID: "/"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// emailConfig reads the Email method's configuration through the admin
// API, as the automation client.
func emailConfig(t *testing.T, st *stack) map[string]any {
	t.Helper()
	cc := clientcredentials.Config{ClientID: st.tenant.AutomationClient.ClientID, ClientSecret: st.tenant.AutomationClient.ClientSecret,
		TokenURL: st.gatehouse + "/acme/oauth2/v2.0/token", Scopes: []string{st.tenant.AutomationClient.Scope}}
	resp, err := cc.Client(context.Background()).Get(st.tenant.AdminAPI + "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the Email method: %d", resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// signInToPortal opens the portal in Chromium and signs in on the tenant's
// hosted sign-in page.
func signInToPortal(c *chrome, st *stack, mail, pw string) {
	c.t.Helper()
	c.run("open the admin portal",
		chromedp.Navigate(st.gatehouse+"/acme/portal/"),
		chromedp.WaitVisible(byLabel("Password")))
	c.run("sign in as "+mail,
		chromedp.SendKeys(byLabel("Email address"), mail),
		chromedp.SendKeys(byLabel("Password"), pw),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='Overview']`)))
}

// TestBrowserPortalEnablesEmailOTP follows the seed's step in Chromium: an
// Authentication Policy Administrator signs in to the admin portal, opens
// Authentication methods, then Email one-time passcode, enables it for all
// users and saves; the admin API shows the policy changed. The portal
// offers them nothing else to manage.
func TestBrowserPortalEnablesEmailOTP(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			st := startStack(t, eng.Open(t))
			if got := emailConfig(t, st)["state"]; got != "disabled" {
				t.Fatalf("a new tenant's Email method is %v, want disabled", got)
			}
			addAdmin(t, st, "policy@acme.example", "correct horse battery staple", gatehouse.RoleAuthenticationPolicyAdministrator)
			c := newChrome(t)
			signInToPortal(c, st, "policy@acme.example", "correct horse battery staple")
			overview := c.bodyText()
			for _, want := range []string{"Authentication Policy Administrator", "Authentication methods"} {
				if !strings.Contains(overview, want) {
					t.Errorf("the overview does not say %q:\n%s", want, overview)
				}
			}
			for _, unwanted := range []string{"Users", "App registrations", "Conditional Access"} {
				if strings.Contains(overview, unwanted) {
					t.Errorf("the overview offers %q to an Authentication Policy Administrator:\n%s", unwanted, overview)
				}
			}
			c.run("open Authentication methods, then Email one-time passcode",
				chromedp.Click(chromedp.Search(`//nav//a[normalize-space(.)='Authentication methods']`)),
				chromedp.WaitVisible(chromedp.Search(`//a[normalize-space(.)='Email one-time passcode']`)),
				chromedp.Click(chromedp.Search(`//a[normalize-space(.)='Email one-time passcode']`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='Email one-time passcode']`)))
			c.run("enable it for all users and save",
				chromedp.Click(chromedp.Search(`//label[normalize-space(.)='Enable']/input`)),
				chromedp.Click(chromedp.Search(`//label[normalize-space(.)='All users']/input`)),
				chromedp.Click(button("Save")),
				chromedp.WaitVisible(chromedp.Search(`//*[@role='status'][normalize-space(.)='Saved.']`)))
			cfg := emailConfig(t, st)
			inc, _ := cfg["includeTargets"].([]any)
			if cfg["state"] != "enabled" || len(inc) != 1 || inc[0].(map[string]any)["id"] != "all_users" {
				t.Errorf("after saving in the portal the Email method is %v", cfg)
			}
			c.run("sign out", chromedp.Click(button("Sign out")), chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='You signed out']`)))
		})
	}
}

// TestBrowserPortalScreenshots writes screenshots of the portal's main
// pages, at desktop width and at 390 px, to the directory named by
// GATEHOUSE_PORTAL_SCREENSHOTS (docs/screenshots); without it the test is
// skipped.
func TestBrowserPortalScreenshots(t *testing.T) {
	dir := os.Getenv("GATEHOUSE_PORTAL_SCREENSHOTS")
	if dir == "" {
		t.Skip("set GATEHOUSE_PORTAL_SCREENSHOTS=docs/screenshots (an absolute path) to write the portal's screenshots")
	}
	chromium(t)
	st := startStack(t, storetest.SQLite(t))
	fillDirectory(t, st.store, st.tenantID)
	policyID, whatIf := caScreenshotData(t, st)
	c := newChrome(t)
	signInToPortal(c, st, st.tenant.Admin.Email, st.tenant.Admin.Password)
	href := func(list, text string) string {
		t.Helper()
		c.run("open "+list, chromedp.Navigate(st.gatehouse+list), chromedp.WaitVisible(chromedp.CSS("h1")))
		sel := chromedp.Search(`//a[normalize-space(.)='` + text + `']`)
		if text == "" {
			sel = chromedp.Search(`(//tbody//td[1]/a)[1]`)
		}
		a, err := chromedp.Run(c.ctx, chromedp.AttributeValue(sel, "href"))
		if err != nil {
			t.Fatalf("no link %q on %s: %v", text, list, err)
		}
		return a.Value
	}
	userID, appID := href("/acme/portal/users", "Grace Hopper"), href("/acme/portal/apps", "Shop")
	signIn := href("/acme/portal/signins", "")
	pages := []struct{ name, path string }{
		{"overview", "/acme/portal/"},
		{"users", "/acme/portal/users"},
		{"user", userID},
		{"apps", "/acme/portal/apps"},
		{"app", appID},
		{"methods", "/acme/portal/methods"},
		{"method-email", "/acme/portal/methods/Email"},
		{"audit", "/acme/portal/audit"},
		{"ca", "/acme/portal/ca"},
		{"ca-policy", "/acme/portal/ca/policies/" + policyID},
		{"ca-locations", "/acme/portal/ca/locations"},
		{"ca-whatif", whatIf},
		{"signins", "/acme/portal/signins"},
		{"signin", signIn},
	}
	for _, size := range []struct {
		suffix string
		w, h   int64
	}{{"", 1280, 800}, {"-390", 390, 844}} {
		for _, p := range pages {
			c.run("open "+p.name+size.suffix,
				chromedp.EmulateViewport(size.w, size.h),
				chromedp.Navigate(st.gatehouse+p.path),
				chromedp.WaitVisible(chromedp.CSS("h1")))
			png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "portal-"+p.name+size.suffix+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fillDirectory gives the screenshots something to show: a few users, a
// group and a user with a role.
func fillDirectory(t *testing.T, store *sqlstore.Store, tenantID string) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct{ name, mail string }{{"Grace Hopper", "grace@example.com"}, {"Alan Turing", "alan@example.com"}, {"Katherine Johnson", "katherine@example.com"}} {
		addPasswordUser(t, store, u.mail, "correct horse battery staple")
		err := store.Update(ctx, func(tx gatehouse.Tx) error {
			got, err := tx.UserByMail(ctx, tenantID, u.mail)
			if err != nil {
				return err
			}
			_, err = tx.UpdateUser(ctx, tenantID, got.ID, func(x *gatehouse.User) error { x.DisplayName = u.name; return nil })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// caScreenshotData writes the seed's policy, a report-only block outside
// a trusted location, and the location, through the admin API; it returns
// the first policy's ID and a What If question about the administrator.
func caScreenshotData(t *testing.T, st *stack) (string, string) {
	t.Helper()
	status, loc := st.graph(t, "POST", "/identity/conditionalAccess/namedLocations", map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation",
		"displayName": "Head office", "isTrusted": true, "ipRanges": []any{map[string]any{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}}})
	if status != 201 {
		t.Fatalf("create a location: %d %v", status, loc)
	}
	status, country := st.graph(t, "POST", "/identity/conditionalAccess/namedLocations", map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation",
		"displayName": "EU", "countriesAndRegions": []string{"FR", "DE", "NL"}})
	if status != 201 {
		t.Fatalf("create a country location: %d %v", status, country)
	}
	admin := userIDOf(t, st, st.tenant.Admin.Email)
	status, mfa := st.graph(t, "POST", "/identity/conditionalAccess/policies", map[string]any{"displayName": "Require MFA for all users", "state": "enabled",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{"All"}, "excludeUsers": []string{admin}},
			"applications": map[string]any{"includeApplications": []string{st.appIDOf(t, "Shop")}}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}})
	if status != 201 {
		t.Fatalf("create the policy: %d %v", status, mfa)
	}
	status, block := st.graph(t, "POST", "/identity/conditionalAccess/policies", map[string]any{"displayName": "Block outside the head office", "state": "enabledForReportingButNotEnforced",
		"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{"All"}}, "applications": map[string]any{"includeApplications": []string{"All"}},
			"locations": map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{loc["id"].(string)}}},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}}})
	if status != 201 {
		t.Fatalf("create the block policy: %d %v", status, block)
	}
	q := url.Values{"user": {admin}, "app": {st.appIDOf(t, "Shop")}, "clientAppType": {"browser"}, "devicePlatform": {"windows"}, "ipAddress": {"203.0.113.9"},
		"signInRiskLevel": {"none"}, "userRiskLevel": {"none"}}
	return mfa["id"].(string), "/acme/portal/ca/whatif?" + q.Encode()
}
