package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// graph calls the stack's admin API with the automation client's token
// and returns the status and the JSON answer.
func (st *stack) graph(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	if st.token == "" {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {st.tenant.AutomationClient.Scope}}
		req, _ := http.NewRequest("POST", st.gatehouse+"/acme/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(st.tenant.AutomationClient.ClientID), url.QueryEscape(st.tenant.AutomationClient.ClientSecret))
		_, tok := doJSON(t, req)
		st.token, _ = tok["access_token"].(string)
		if st.token == "" {
			t.Fatalf("no admin API token: %v", tok)
		}
	}
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, st.tenant.AdminAPI+path, rd)
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// newestResult returns what the newest sign-in log entry of the user to
// the app says of the policy, through the admin API.
func (st *stack) newestResult(t *testing.T, userID, appID, policyID string) string {
	t.Helper()
	f := url.QueryEscape("userId eq '" + userID + "' and appId eq '" + appID + "'")
	status, res := st.graph(t, "GET", "/auditLogs/signIns?$filter="+f, nil)
	entries, _ := res["value"].([]any)
	if status != 200 || len(entries) == 0 {
		t.Fatalf("sign-in log of %s at %s: status %d, %v", userID, appID, status, res)
	}
	newest, _ := entries[0].(map[string]any)
	applied, _ := newest["appliedConditionalAccessPolicies"].([]any)
	for _, a := range applied {
		if a, _ := a.(map[string]any); a["id"] == policyID {
			r, _ := a["result"].(string)
			return r
		}
	}
	return "(absent)"
}

// appIDOf returns the client ID of the stack's sample app.
func (st *stack) appIDOf(t *testing.T, name string) string {
	t.Helper()
	apps, _, err := st.store.ListApplications(context.Background(), st.tenantID, gatehouse.ListOptions{Filter: map[string]string{"displayName": name}})
	if err != nil || len(apps) != 1 {
		t.Fatalf("app %s: %v", name, err)
	}
	return apps[0].AppID
}

// TestBrowserConditionalAccessSeed walks the seed's Conditional Access
// scenario in headless Chromium, the policies written through the admin
// API as an administrator would: with "require MFA for all users, except
// the break-glass group, all apps" on, a customer signing in to the sample
// app is prompted for an email code (from a real SMTP server) and the
// token's amr has mfa; the break-glass account is not prompted.
// Report-only prompts nobody and the sign-in log shows what the policies
// would have done; disabled shows notEnabled; a block policy for one app
// blocks that app only; a browser signed in without MFA is stepped up
// when the policy is on again.
func TestBrowserConditionalAccessSeed(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			st := startStack(t, store)
			const pw = "tea at the ritz 1923"
			addPasswordUser(t, store, "ada@example.com", pw, gatehouse.MethodEmail)
			addPasswordUser(t, store, "breakglass@example.com", pw)
			ada, bg := userIDOf(t, st, "ada@example.com"), userIDOf(t, st, "breakglass@example.com")
			shopID, blogID := st.appIDOf(t, "Shop"), st.appIDOf(t, "Blog")

			status, group := st.graph(t, "POST", "/groups", map[string]any{"displayName": "Break glass", "isAssignableToRole": true})
			if status != 201 {
				t.Fatalf("create the break-glass group: %d %v", status, group)
			}
			groupID, _ := group["id"].(string)
			if status, res := st.graph(t, "POST", "/groups/"+groupID+"/members/$ref", map[string]any{"@odata.id": st.tenant.AdminAPI + "/directoryObjects/" + bg}); status != 204 {
				t.Fatalf("add the break-glass account to its group: %d %v", status, res)
			}
			status, mfa := st.graph(t, "POST", "/identity/conditionalAccess/policies", map[string]any{
				"displayName": "Require MFA for all users",
				"state":       "enabled",
				"conditions": map[string]any{
					"users":          map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{groupID}},
					"applications":   map[string]any{"includeApplications": []string{"All"}},
					"clientAppTypes": []string{"all"},
				},
				"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
			})
			if status != 201 {
				t.Fatalf("create the policy: %d %v", status, mfa)
			}
			mfaID, _ := mfa["id"].(string)
			setState := func(id, state string) {
				t.Helper()
				if status, res := st.graph(t, "PATCH", "/identity/conditionalAccess/policies/"+id, map[string]any{"state": state}); status != 204 {
					t.Fatalf("set policy %s %s: %d %v", id, state, status, res)
				}
			}
			signIn := func(c *chrome, base, mail string) {
				c.run("sign in to "+base+" as "+mail,
					chromedp.Navigate(base),
					chromedp.Click(button("Sign in")),
					chromedp.WaitVisible(byLabel("Password")),
					chromedp.SendKeys(byLabel("Email address"), mail),
					chromedp.SendKeys(byLabel("Password"), pw),
					chromedp.Click(button("Sign in")),
					chromedp.WaitVisible(button("Sign out", "Send code")))
			}
			secondFactor := func(c *chrome, mail string) {
				c.run("send the code", chromedp.Click(button("Send code")), chromedp.WaitVisible(byLabel("Code")))
				c.run("enter the code from the mail",
					chromedp.SendKeys(byLabel("Code"), st.smtp.CodeFor(t, mail)),
					chromedp.Click(button("Verify")),
					chromedp.WaitVisible(button("Sign out")))
			}

			// The policy on: the customer is asked for a code.
			c := newChrome(t)
			signIn(c, st.shop, "ada@example.com")
			if page := c.bodyText(); !strings.Contains(page, "a***@example.com") {
				t.Fatalf("the policy did not ask for a second factor:\n%s", page)
			}
			secondFactor(c, "ada@example.com")
			if page := c.bodyText(); !strings.Contains(page, "Signed in with: pwd, otp, email, mfa") {
				t.Errorf("after the policy's second factor the sample app shows:\n%s", page)
			}
			if r := st.newestResult(t, ada, shopID, mfaID); r != gatehouse.ResultSuccess {
				t.Errorf("the sign-in log's result of the policy: %s, want success", r)
			}

			// The break-glass account is not prompted.
			c = newChrome(t)
			signIn(c, st.shop, "breakglass@example.com")
			if page := c.bodyText(); !strings.Contains(page, "Signed in with: pwd") || strings.Contains(page, "mfa") {
				t.Errorf("the break-glass account's sign-in shows:\n%s", page)
			}
			if r := st.newestResult(t, bg, shopID, mfaID); r != gatehouse.ResultNotApplied {
				t.Errorf("the break-glass account's result: %s, want notApplied", r)
			}

			// Report-only: nobody is prompted or blocked; the log tells.
			setState(mfaID, "enabledForReportingButNotEnforced")
			status, block := st.graph(t, "POST", "/identity/conditionalAccess/policies", map[string]any{
				"displayName": "Block the blog",
				"state":       "enabledForReportingButNotEnforced",
				"conditions": map[string]any{
					"users":          map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{groupID}},
					"applications":   map[string]any{"includeApplications": []string{blogID}},
					"clientAppTypes": []string{"all"},
				},
				"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
			})
			if status != 201 {
				t.Fatalf("create the block policy: %d %v", status, block)
			}
			blockID, _ := block["id"].(string)
			c = newChrome(t)
			signIn(c, st.shop, "ada@example.com")
			if page := c.bodyText(); !strings.Contains(page, "Signed in with: pwd") || strings.Contains(page, "mfa") {
				t.Errorf("a report-only policy prompted:\n%s", page)
			}
			if r := st.newestResult(t, ada, shopID, mfaID); r != gatehouse.ResultReportOnlyInterrupted {
				t.Errorf("report-only MFA for a password sign-in: %s, want reportOnlyInterrupted", r)
			}
			c.run("single sign-on to the blog",
				chromedp.Navigate(st.blog), chromedp.Click(button("Sign in")), chromedp.WaitVisible(button("Sign out")))
			if r := st.newestResult(t, ada, blogID, blockID); r != gatehouse.ResultReportOnlyFailure {
				t.Errorf("report-only block: %s, want reportOnlyFailure", r)
			}

			// Disabled: notEnabled.
			setState(mfaID, "disabled")
			c.run("single sign-on to the shop again", chromedp.Navigate(st.shop+"/login"), chromedp.WaitVisible(button("Sign out")))
			if r := st.newestResult(t, ada, shopID, mfaID); r != gatehouse.ResultNotEnabled {
				t.Errorf("a disabled policy: %s, want notEnabled", r)
			}

			// A block for the blog only.
			setState(blockID, "enabled")
			c.run("the blog is blocked", chromedp.Navigate(st.blog+"/login"), chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)='Sign-in failed']`)))
			if page := c.bodyText(); !strings.Contains(page, "access_denied") {
				t.Errorf("the blocked blog shows:\n%s", page)
			}
			c.run("the shop is not", chromedp.Navigate(st.shop+"/login"), chromedp.WaitVisible(button("Sign out")))

			// The MFA policy on again: the password-only session is stepped
			// up, without the password page.
			setState(mfaID, "enabled")
			c.run("open the shop's sign-in", chromedp.Navigate(st.shop+"/login"), chromedp.WaitVisible(button("Send code")))
			if page := c.bodyText(); strings.Contains(page, "Password") {
				t.Errorf("the step-up asked for the password again:\n%s", page)
			}
			secondFactor(c, "ada@example.com")
			if page := c.bodyText(); !strings.Contains(page, "Signed in with: pwd, otp, email, mfa") {
				t.Errorf("after the step-up the sample app shows:\n%s", page)
			}
		})
	}
}

// userIDOf returns the ID of the stack tenant's user with the mail.
func userIDOf(t *testing.T, st *stack, mail string) string {
	t.Helper()
	u, err := st.store.UserByMail(context.Background(), st.tenantID, mail)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
