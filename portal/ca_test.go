package portal_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

var codeRE = regexp.MustCompile(`\b(\d{8})\b`)

// TestFE2PortalObeysConditionalAccess: the portal is an app of the tenant
// like any other, so a policy requiring MFA of all users for all apps
// asks its administrators for a second factor before the portal opens.
func TestFE2PortalObeysConditionalAccess(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.api("PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email",
			map[string]any{"state": "enabled", "includeTargets": []any{map[string]any{"targetType": "group", "id": "all_users"}}}, 204)
		pol := &gatehouse.Policy{TenantID: e.tenant.TenantID, DisplayName: "Require MFA", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{
				Users:          gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
				Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAdminPortals}},
				ClientAppTypes: []string{gatehouse.ClientAll},
			},
			Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
		if err := e.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, pol) }); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		login := b.get("/acme/portal/")
		p := b.submitAny(login, url.Values{"email": {e.tenant.Admin.Email}, "password": {e.tenant.Admin.Password}})
		if strings.HasPrefix(p.url.Path, "/acme/portal") {
			t.Fatalf("the password alone opened the portal under a policy requiring MFA: %s", p.url)
		}
		if vals := formValues(p.body); !vals.Has("code") {
			p = b.submitAny(p, url.Values{}) // "Send code"
		}
		msgs := e.mail.Messages()
		if len(msgs) == 0 {
			t.Fatalf("no code was sent; page %s:\n%s", p.url, text(p.body))
		}
		code := codeRE.FindStringSubmatch(msgs[0].Text)
		if code == nil || msgs[0].To != e.tenant.Admin.Email {
			t.Fatalf("no code in the mail to %s: %+v", msgs[0].To, msgs[0])
		}
		done := b.submitAny(p, url.Values{"code": {code[1]}})
		if done.url.Path != "/acme/portal/" || done.status != 200 {
			t.Fatalf("after the code: %d %s:\n%s", done.status, done.url, text(done.body))
		}
		mustContain(t, done, "Overview", "Global Administrator")
	})
}
