package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// byTextareaLabel finds the textarea a visible label names.
func byTextareaLabel(label string) chromedp.Search {
	return chromedp.Search(`//textarea[@id=//label[normalize-space(text())='` + label + `']/@for]`)
}

// choice finds the checkbox or radio button a label wraps.
func choice(label string) chromedp.Search {
	return chromedp.Search(`//label[normalize-space(.)='` + label + `']/input`)
}

// TestBrowserPortalConditionalAccessSeed follows the seed document in the
// admin portal, in Chromium: a Conditional Access Administrator creates
// the policy in the editor (all users except the break-glass account, the
// sample app, require MFA, On); an Authentication Policy Administrator
// enables Email OTP for all users; in a fresh browser a customer signing
// in to the sample app is asked for the code the SMTP server received; the
// portal's sign-in log then shows the policy's success for that sign-in.
func TestBrowserPortalConditionalAccessSeed(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			st := startStack(t, store)
			const pw = "correct horse battery staple"
			addAdmin(t, st, "ca@acme.example", pw, gatehouse.RoleConditionalAccessAdministrator)
			addAdmin(t, st, "policy@acme.example", pw, gatehouse.RoleAuthenticationPolicyAdministrator)
			addAdmin(t, st, "breakglass@acme.example", pw, gatehouse.RoleGlobalAdministrator)
			addPasswordUser(t, store, "ada@example.com", pw)
			breakGlass, ada, shopID := userIDOf(t, st, "breakglass@acme.example"), userIDOf(t, st, "ada@example.com"), st.appIDOf(t, "Shop")

			// 1. The Conditional Access Administrator writes the policy.
			c := newChrome(t)
			signInToPortal(c, st, "ca@acme.example", pw)
			c.run("open Conditional Access, then New policy",
				chromedp.Click(chromedp.Search(`//nav//a[normalize-space(.)='Conditional Access']`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='Conditional Access policies']`)),
				chromedp.Click(chromedp.Search(`//a[normalize-space(.)='New policy']`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='New Conditional Access policy']`)))
			c.run("name it; all users but the break-glass account; the sample app; require MFA; On",
				chromedp.SendKeys(byLabel("Name"), "Require MFA for all users"),
				chromedp.Click(choice("All users")),
				chromedp.SendKeys(byTextareaLabel("Excluded user object IDs"), breakGlass),
				chromedp.Click(choice("Select resources")),
				chromedp.SendKeys(byTextareaLabel("Included application IDs (appId)"), shopID),
				chromedp.Click(choice("Grant access")),
				chromedp.Click(choice("Require multifactor authentication")),
				chromedp.Click(choice("On")),
				chromedp.Click(button("Create")),
				chromedp.WaitVisible(chromedp.Search(`//*[@role='status'][normalize-space(.)='Created.']`)))
			status, list := st.graph(t, "GET", "/identity/conditionalAccess/policies", nil)
			pols, _ := list["value"].([]any)
			if status != 200 || len(pols) != 1 {
				t.Fatalf("policies after the editor: %d %v", status, list)
			}
			pol := pols[0].(map[string]any)
			policyID, _ := pol["id"].(string)
			cond := pol["conditions"].(map[string]any)
			users, apps := cond["users"].(map[string]any), cond["applications"].(map[string]any)
			grant, _ := pol["grantControls"].(map[string]any)
			if pol["state"] != "enabled" || !slices.Equal(strs(users["includeUsers"]), []string{"All"}) || !slices.Equal(strs(users["excludeUsers"]), []string{breakGlass}) ||
				!slices.Equal(strs(apps["includeApplications"]), []string{shopID}) || grant == nil || !slices.Equal(strs(grant["builtInControls"]), []string{"mfa"}) {
				t.Fatalf("the policy the editor wrote: %v", pol)
			}
			c.run("the list shows it On", chromedp.Click(chromedp.Search(`//nav//a[normalize-space(.)='Conditional Access']`)),
				chromedp.WaitVisible(chromedp.Search(`//td//span[normalize-space(.)='On']`)))

			// 2. The Authentication Policy Administrator enables Email OTP.
			c = newChrome(t)
			signInToPortal(c, st, "policy@acme.example", pw)
			c.run("enable Email one-time passcode for all users",
				chromedp.Click(chromedp.Search(`//nav//a[normalize-space(.)='Authentication methods']`)),
				chromedp.Click(chromedp.Search(`//a[normalize-space(.)='Email one-time passcode']`)),
				chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='Email one-time passcode']`)),
				chromedp.Click(choice("Enable")),
				chromedp.Click(choice("All users")),
				chromedp.Click(button("Save")),
				chromedp.WaitVisible(chromedp.Search(`//*[@role='status'][normalize-space(.)='Saved.']`)))

			// 3. A customer, in a fresh browser, is asked for the code.
			c = newChrome(t)
			c.run("sign in to the sample app as a customer",
				chromedp.Navigate(st.shop),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(byLabel("Password")),
				chromedp.SendKeys(byLabel("Email address"), "ada@example.com"),
				chromedp.SendKeys(byLabel("Password"), pw),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Send code", "Sign out")))
			if page := c.bodyText(); !strings.Contains(page, "a***@example.com") {
				t.Fatalf("the policy did not ask for a second factor:\n%s", page)
			}
			c.run("send the code", chromedp.Click(button("Send code")), chromedp.WaitVisible(byLabel("Code")))
			c.run("enter the code from the mail",
				chromedp.SendKeys(byLabel("Code"), st.smtp.CodeFor(t, "ada@example.com")),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Sign out")))
			if page := c.bodyText(); !strings.Contains(page, "mfa") {
				t.Errorf("after the code the sample app shows:\n%s", page)
			}

			// 4. The sign-in log in the portal shows the policy's success.
			c = newChrome(t)
			signInToPortal(c, st, st.tenant.Admin.Email, st.tenant.Admin.Password)
			c.run("open the sign-in logs for the customer",
				chromedp.Click(chromedp.Search(`//nav//a[normalize-space(.)='Sign-in logs']`)),
				chromedp.WaitVisible(byLabel("User (email address or object ID)")),
				// The filter form is a GET form: its address, opened
				// directly, is what Filter submits (the filters' mapping is
				// portal's TestPortalSignInLogs); clicking it would race the
				// unfiltered list's rows.
				chromedp.Navigate(st.gatehouse+"/acme/portal/signins?"+url.Values{"user": {"ada@example.com"}, "app": {shopID}}.Encode()),
				chromedp.WaitVisible(chromedp.Search(`//tbody//td//span[normalize-space(.)='Success']`)),
				chromedp.Click(chromedp.Search(`(//tbody//td[1]/a)[1]`)),
				chromedp.WaitVisible(chromedp.Search(`//h2[normalize-space(.)='Basic info']`)))
			detail := c.bodyText()
			for _, want := range []string{"ada@example.com", "Shop", "Email OTP", "Require MFA for all users", "Success success", "Mfa"} {
				if !strings.Contains(detail, want) {
					t.Errorf("the sign-in's page does not say %q:\n%s", want, detail)
				}
			}
			if r := st.newestResult(t, ada, shopID, policyID); r != gatehouse.ResultSuccess {
				t.Errorf("the API's result for the policy: %s", r)
			}
		})
	}
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
