package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestSignInLogAPI: entries written with Tx.CreateSignIn are listed at
// /auditLogs/signIns in Graph's signIn shape, newest first, paged with
// @odata.nextLink, filtered by userId, appId, status/errorCode and
// createdDateTime ge/le joined with and, and read one by one; another
// tenant's entries are not there; bad filters are a 400 naming $filter;
// the readers of the log may read it, others not.
func TestSignInLogAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		ctx := context.Background()
		other := c.createTenant("other")
		ada, bob := c.user("ada@example.com"), c.user("bob@example.com")
		_, shop := c.newApp(c.api, c.tok, "Shop")
		base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		type entry struct {
			user, app string
			code      int
			at        time.Duration
		}
		entries := []entry{
			{ada, shop, 0, 0}, {ada, shop, gatehouse.SignInInvalidCredentials, time.Hour}, {bob, shop, 0, 2 * time.Hour},
			{ada, gatehouse.AdminPortalAppID, 0, 3 * time.Hour}, {bob, gatehouse.AdminPortalAppID, gatehouse.SignInBlockedByPolicy, 4 * time.Hour},
		}
		ids := map[int]string{}
		err := c.store.Update(ctx, func(tx gatehouse.Tx) error {
			for i, e := range entries {
				s := &gatehouse.SignIn{TenantID: c.res.TenantID, CreatedAt: base.Add(e.at), UserID: e.user, UserPrincipalName: "someone@example.com",
					AppID: e.app, AppDisplayName: "Shop", IPAddress: "192.0.2.10", ClientAppUsed: gatehouse.ClientAppUsedBrowser, UserAgent: "Mozilla/5.0 (Windows NT 10.0)",
					Status: gatehouse.SignInStatus{ErrorCode: e.code}, ConditionalAccessStatus: gatehouse.CAStatusSuccess, CorrelationID: "corr-" + string(rune('a'+i)),
					AuthenticationRequirement: gatehouse.AuthMultiFactor, IsInteractive: true, RiskLevelDuringSignIn: gatehouse.RiskLow,
					AppliedPolicies: []gatehouse.AppliedPolicy{{ID: "6e3f2d6b-3b5f-4a53-9a0b-0c6f7c1c2d3e", DisplayName: "Require MFA", Result: gatehouse.ResultSuccess,
						EnforcedGrantControls: []string{"Mfa"}}},
					AuthenticationDetails: []gatehouse.AuthenticationDetail{{Method: "Password", At: base.Add(e.at), Requirement: "Primary authentication", Succeeded: true},
						{Method: "Email OTP", At: base.Add(e.at), Requirement: "MFA", Succeeded: true}}}
				if e.code != 0 {
					s.Status.FailureReason = "It failed."
				}
				if err := tx.CreateSignIn(ctx, s); err != nil {
					return err
				}
				ids[i] = s.ID
			}
			return tx.CreateSignIn(ctx, &gatehouse.SignIn{TenantID: other.TenantID, UserID: ada, AppID: shop, CreatedAt: base})
		})
		if err != nil {
			t.Fatal(err)
		}
		list := func(filter string) []string {
			t.Helper()
			u := c.api + "/auditLogs/signIns?$top=2"
			if filter != "" {
				u += "&$filter=" + url.QueryEscape(filter)
			}
			var out []string
			for u != "" {
				r := c.must(200, "GET", u, c.tok, nil)
				for _, v := range r.body["value"].([]any) {
					out = append(out, v.(map[string]any)["id"].(string))
				}
				u = r.str("@odata.nextLink")
			}
			return out
		}
		want := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, ids[i])
			}
			return out
		}
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{"", want(4, 3, 2, 1, 0)},
			{"userId eq '" + ada + "'", want(3, 1, 0)},
			{"appId eq '" + strings.ToUpper(shop) + "'", want(2, 1, 0)},
			{"status/errorCode eq 0", want(3, 2, 0)},
			{"status/errorCode eq 53003", want(4)},
			{"createdDateTime ge 2026-11-01T11:00:00Z and createdDateTime le 2026-11-01T13:00:00Z", want(3, 2, 1)},
			{"userId eq '" + ada + "' and appId eq '" + shop + "' and status/errorCode eq 0", want(0)},
			{"UserId eq '" + bob + "' AND createdDateTime ge 2026-11-01T12:00:00.000Z", want(4, 2)},
			{"userId eq '0b7c1f66-8d0c-4a5e-9a4f-555555555555'", nil},
		} {
			if got := list(tc.filter); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("$filter=%s: %v, want %v", tc.filter, got, tc.want)
			}
		}

		one := c.must(200, "GET", c.api+"/auditLogs/signIns/"+ids[1], c.tok, nil)
		status := one.body["status"].(map[string]any)
		applied := one.body["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
		if one.str("userId") != ada || one.str("appId") != shop || status["errorCode"] != float64(50126) || status["failureReason"] != "It failed." ||
			one.str("createdDateTime") != "2026-11-01T11:00:00Z" || one.str("conditionalAccessStatus") != "success" || applied["result"] != "success" ||
			one.str("correlationId") != "corr-b" || one.str("clientAppUsed") != "Browser" || one.str("riskLevelDuringSignIn") != "low" ||
			len(one.body["authenticationDetails"].([]any)) != 2 || one.str("authenticationRequirement") != "multiFactorAuthentication" {
			t.Errorf("sign-in %s", one.raw)
		}
		sel := c.must(200, "GET", c.api+"/auditLogs/signIns?$select=userId,status&$filter="+url.QueryEscape("status/errorCode eq 53003"), c.tok, nil)
		if v := sel.body["value"].([]any)[0].(map[string]any); len(v) != 2 || v["userId"] != bob {
			t.Errorf("$select=userId,status: %s", sel.raw)
		}
		c.must(404, "GET", c.api+"/auditLogs/signIns/0b7c1f66-8d0c-4a5e-9a4f-666666666666", c.tok, nil)

		for _, bad := range []string{
			"userId eq 'x' or appId eq 'y'", "createdDateTime gt 2026-11-01T00:00:00Z", "createdDateTime ge yesterday",
			"status/errorCode eq -1", "userId eq 'a' and userId eq 'b'", "ipAddress eq '192.0.2.10'", "userId eq 'a' and",
			"createdDateTime ge 2026-11-02T00:00:00Z and createdDateTime le 2026-11-01T00:00:00Z",
		} {
			r := c.must(400, "GET", c.api+"/auditLogs/signIns?$filter="+url.QueryEscape(bad), c.tok, nil)
			if r.errTarget() != "$filter" {
				t.Errorf("$filter=%s: %s; want a 400 naming $filter", bad, r.raw)
			}
		}
		if r := c.must(400, "GET", c.api+"/auditLogs/signIns?$orderby=createdDateTime", c.tok, nil); r.errTarget() != "$orderby" {
			t.Errorf("$orderby: %s", r.raw)
		}

		for _, role := range []string{gatehouse.RoleGlobalReader, gatehouse.RoleSecurityAdministrator, gatehouse.RoleSecurityReader, gatehouse.RoleReportsReader} {
			r, _ := gatehouse.RoleByID(role)
			tok := c.role(strings.ReplaceAll(strings.ToLower(r.DisplayName), " ", "")+"@example.com", role)
			c.must(200, "GET", c.api+"/auditLogs/signIns", tok, nil)
			c.must(200, "GET", c.api+"/auditLogs/signIns/"+ids[0], tok, nil)
		}
		c.must(200, "GET", c.api+"/auditLogs/signIns", c.clientToken(c.res, c.tok, gatehouse.PermAuditLogReadAll), nil)
		for name, tok := range map[string]string{
			"User Administrator":               c.role("ua@example.com", gatehouse.RoleUserAdministrator),
			"Conditional Access Administrator": c.role("ca@example.com", gatehouse.RoleConditionalAccessAdministrator),
			"Policy.Read.All":                  c.clientToken(c.res, c.tok, gatehouse.PermPolicyReadAll),
		} {
			if r := c.call("GET", c.api+"/auditLogs/signIns", tok, nil); r.status != 403 || !strings.Contains(r.errMessage(), "Reports Reader") {
				t.Errorf("%s reading the sign-in log: %d %s", name, r.status, r.raw)
			}
		}
	})
}
