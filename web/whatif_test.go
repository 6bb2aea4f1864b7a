package web_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/geoip"
	"github.com/gatehouse/gatehouse/geoip/geoiptest"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// whatIf asks What If about a sign-in and returns each policy's answer
// by display name: "applies" or the reason it does not.
func (c *caEnv) whatIf(userID, appID string, conditions map[string]any, appliedOnly bool) map[string]string {
	c.t.Helper()
	r := c.must(200, "POST", c.ca+"/evaluate", c.tok, map[string]any{
		"signInIdentity":      map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": userID},
		"signInContext":       map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{appID}},
		"signInConditions":    conditions,
		"appliedPoliciesOnly": appliedOnly,
	})
	if !strings.HasSuffix(r.str("@odata.context"), "$metadata#Collection(microsoft.graph.whatIfAnalysisResult)") {
		c.t.Errorf("@odata.context %q", r.str("@odata.context"))
	}
	out := map[string]string{}
	for _, v := range r.body["value"].([]any) {
		p := v.(map[string]any)
		applies, _ := p["policyApplies"].(bool)
		reason, _ := p["analysisReasons"].(string)
		if p["id"] == nil || p["conditions"] == nil || p["state"] == nil || (applies != (reason == "notSet")) {
			c.t.Errorf("result %v; want the policy with policyApplies and analysisReasons notSet exactly when it applies", p)
		}
		if !applies && p["analysisReasons@gatehouse.detail"] == nil {
			c.t.Errorf("result %v has no analysisReasons@gatehouse.detail sentence", p)
		}
		if applies {
			reason = "applies"
		}
		out[p["displayName"].(string)] = reason
	}
	return out
}

// whatIfSetup is a directory and policies for the What If tests.
type whatIfSetup struct {
	ada, breakGlass, userAdmin, storefront, office string
}

func newWhatIfSetup(c *caEnv) whatIfSetup {
	var s whatIfSetup
	s.ada = c.user("ada@example.com")
	s.breakGlass = c.user("breakglass@example.com")
	s.userAdmin, _ = c.roleHolder(c.res, c.tok, "useradmin@example.com", gatehouse.RoleUserAdministrator)
	bg := c.group("Break-glass", s.breakGlass, c.admin)
	c.group("Staff", s.ada)
	_, s.storefront = c.newApp(c.api, c.tok, "Storefront")
	s.office = c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation",
		"displayName": "Office", "isTrusted": true, "ipRanges": []any{map[string]any{"cidrAddress": "198.51.100.0/24"}}}).str("id")
	all := map[string]any{"includeApplications": []string{"All"}}
	for _, p := range []map[string]any{
		{"displayName": "MFA for all", "state": "enabled",
			"conditions":    map[string]any{"users": map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{bg}}, "applications": all},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}},
		{"displayName": "Block the storefront outside the office", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{bg}},
				"applications": map[string]any{"includeApplications": []string{s.storefront}},
				"locations":    map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{"AllTrusted"}}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}}},
		{"displayName": "Report-only iOS", "state": "enabledForReportingButNotEnforced",
			"conditions":    map[string]any{"users": map[string]any{"includeUsers": []string{"All"}}, "applications": all, "platforms": map[string]any{"includePlatforms": []string{"iOS"}}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}},
		{"displayName": "Disabled", "state": "disabled",
			"conditions":    map[string]any{"users": map[string]any{"includeUsers": []string{"All"}}, "applications": all},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}}},
		{"displayName": "Risky user administrators", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeRoles": []string{gatehouse.RoleUserAdministrator}}, "applications": all,
				"signInRiskLevels": []string{"high"}, "clientAppTypes": []string{"browser"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}},
	} {
		c.must(201, "POST", c.ca+"/policies", c.tok, p)
	}
	return s
}

// TestWhatIf: What If answers, for each policy, whether it applies to
// the sign-in described and the first condition that did not match, in
// Graph's whatIfAnalysisResult shape; appliedPoliciesOnly leaves out the
// others; a question Gatehouse cannot answer is a 400 or 404 naming the
// property.
func TestWhatIf(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		s := newWhatIfSetup(c)
		inOffice := map[string]any{"ipAddress": "198.51.100.5", "devicePlatform": "windows", "clientAppType": "browser"}
		outside := map[string]any{"ipAddress": "192.0.2.1", "devicePlatform": "iOS"}
		for _, tc := range []struct {
			name       string
			user, app  string
			conditions map[string]any
			want       map[string]string
		}{
			{"Ada in the office", s.ada, s.storefront, inOffice, map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "location",
				"Report-only iOS": "devicePlatform", "Disabled": "policyNotEnabled", "Risky user administrators": "users"}},
			{"Ada outside on an iPhone", s.ada, s.storefront, outside, map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "applies",
				"Report-only iOS": "applies", "Disabled": "policyNotEnabled", "Risky user administrators": "users"}},
			{"Ada to the admin portal", s.ada, gatehouse.AdminPortalAppID, outside, map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "application",
				"Report-only iOS": "applies", "Disabled": "policyNotEnabled", "Risky user administrators": "users"}},
			{"break-glass", s.breakGlass, s.storefront, outside, map[string]string{"MFA for all": "users", "Block the storefront outside the office": "users",
				"Report-only iOS": "applies", "Disabled": "policyNotEnabled", "Risky user administrators": "users"}},
			{"a risky user administrator", s.userAdmin, s.storefront, map[string]any{"ipAddress": "198.51.100.9", "signInRiskLevel": "high"},
				map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "location", "Report-only iOS": "devicePlatform",
					"Disabled": "policyNotEnabled", "Risky user administrators": "applies"}},
			{"a user administrator without risk", s.userAdmin, s.storefront, map[string]any{"ipAddress": "198.51.100.9"},
				map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "location", "Report-only iOS": "devicePlatform",
					"Disabled": "policyNotEnabled", "Risky user administrators": "signInRisk"}},
			{"a risky user administrator in an app", s.userAdmin, s.storefront, map[string]any{"ipAddress": "198.51.100.9", "signInRiskLevel": "high", "clientAppType": "mobileAppsAndDesktopClients"},
				map[string]string{"MFA for all": "applies", "Block the storefront outside the office": "location", "Report-only iOS": "devicePlatform",
					"Disabled": "policyNotEnabled", "Risky user administrators": "clientApps"}},
		} {
			got := c.whatIf(tc.user, tc.app, tc.conditions, false)
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s: %q is %q, want %q", tc.name, name, got[name], want)
				}
			}
			applied := c.whatIf(tc.user, tc.app, tc.conditions, true)
			for name, reason := range got {
				if _, in := applied[name]; in != (reason == "applies") {
					t.Errorf("%s with appliedPoliciesOnly: %q listed %v, but it %s", tc.name, name, in, reason)
				}
			}
		}

		body := func(mut func(b map[string]any)) map[string]any {
			b := map[string]any{
				"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": s.ada},
				"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{s.storefront}},
				"signInConditions": map[string]any{},
			}
			mut(b)
			return b
		}
		for _, tc := range []struct {
			name   string
			mut    func(b map[string]any)
			status int
			target string
		}{
			{"no identity", func(b map[string]any) { delete(b, "signInIdentity") }, 400, "signInIdentity"},
			{"a service principal", func(b map[string]any) {
				b["signInIdentity"] = map[string]any{"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": s.storefront}
			}, 400, "signInIdentity.@odata.type"},
			{"an unknown user", func(b map[string]any) {
				b["signInIdentity"].(map[string]any)["userId"] = "0b7c1f66-8d0c-4a5e-9a4f-333333333333"
			}, 404, "signInIdentity.userId"},
			{"a user action", func(b map[string]any) {
				b["signInContext"] = map[string]any{"@odata.type": "#microsoft.graph.userActionContext", "userAction": "registerSecurityInformation"}
			}, 400, "signInContext.@odata.type"},
			{"an unknown application", func(b map[string]any) {
				b["signInContext"].(map[string]any)["includeApplications"] = []string{"0b7c1f66-8d0c-4a5e-9a4f-444444444444"}
			}, 404, "signInContext.includeApplications[0]"},
			{"no application", func(b map[string]any) { b["signInContext"].(map[string]any)["includeApplications"] = []string{} }, 400, "signInContext.includeApplications"},
			{"a platform", func(b map[string]any) { b["signInConditions"] = map[string]any{"devicePlatform": "beos"} }, 400, "signInConditions.devicePlatform"},
			{"an address", func(b map[string]any) { b["signInConditions"] = map[string]any{"ipAddress": "300.1.1.1"} }, 400, "signInConditions.ipAddress"},
			{"a country", func(b map[string]any) { b["signInConditions"] = map[string]any{"country": "France"} }, 400, "signInConditions.country"},
			{"a risk level", func(b map[string]any) { b["signInConditions"] = map[string]any{"userRiskLevel": "hidden"} }, 400, "signInConditions.userRiskLevel"},
			{"a device", func(b map[string]any) {
				b["signInConditions"] = map[string]any{"deviceInfo": map[string]any{"isCompliant": true}}
			}, 400, "signInConditions.deviceInfo"},
			{"an unknown property", func(b map[string]any) { b["signInConditions"] = map[string]any{"weather": "rain"} }, 400, "signInConditions.weather"},
		} {
			r := c.must(tc.status, "POST", c.ca+"/evaluate", c.tok, body(tc.mut))
			if r.errTarget() != tc.target {
				t.Errorf("%s: %s; want target %s", tc.name, r.raw, tc.target)
			}
		}
	})
}

// TestWhatIfMatchesEvaluation: for 200 random questions (user, app,
// address, platform, client app, risk), What If's answer for each policy
// is what policy.Set.Evaluate says of an input the test builds itself
// from the directory (the user's groups and roles as the store holds
// them): What If resolves the user as the live sign-in path's input does.
func TestWhatIfMatchesEvaluation(t *testing.T) {
	c := newCAEnv(t, storetest.Engines(t)[0])
	s := newWhatIfSetup(c)
	ctx := context.Background()
	tid := c.res.TenantID
	ps, err := c.store.PolicySet(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	set := policy.Compile(ps.Policies, ps.Locations)
	rng := rand.New(rand.NewPCG(42, 42))
	users := []string{s.ada, s.breakGlass, s.userAdmin, c.admin}
	apps := []string{s.storefront, gatehouse.AdminPortalAppID, gatehouse.AdminAPIAppID}
	ips := []string{"", "198.51.100.77", "192.0.2.8", "2001:db8::1"}
	platforms := []string{"", "all", "windows", "iOS", "android", "macOS", "linux"}
	clients := []string{"", "all", "browser", "mobileAppsAndDesktopClients"}
	risks := []string{"", "none", "low", "medium", "high"}
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	for range 200 {
		user, app, ip, platform, client, risk := pick(users), pick(apps), pick(ips), pick(platforms), pick(clients), pick(risks)
		cond := map[string]any{}
		for k, v := range map[string]string{"ipAddress": ip, "devicePlatform": platform, "clientAppType": client, "signInRiskLevel": risk} {
			if v != "" {
				cond[k] = v
			}
		}
		got := c.whatIf(user, app, cond, false)

		groups, err := c.store.UserGroupIDs(ctx, tid, user)
		if err != nil {
			t.Fatal(err)
		}
		as, _, err := c.store.ListRoleAssignments(ctx, tid, gatehouse.ListOptions{Top: 999, Filter: map[string]string{"principalId": user}})
		if err != nil {
			t.Fatal(err)
		}
		in := policy.Input{UserID: user, GroupIDs: groups, AppID: app, ClientAppType: gatehouse.ClientBrowser, Platform: gatehouse.PlatformUnknown,
			SignInRisk: gatehouse.RiskLevel(risk)}
		for _, a := range as {
			in.RoleIDs = append(in.RoleIDs, a.RoleDefinitionID)
		}
		if client != "" && client != "all" {
			in.ClientAppType = client
		}
		if platform != "" && platform != "all" {
			in.Platform = platform
		}
		if ip != "" {
			in.IP = netip.MustParseAddr(ip)
		}
		d := set.Evaluate(in)
		want := map[string]string{}
		for _, r := range d.Results() {
			want[r.Policy.DisplayName] = r.Reason
			if r.Applies {
				want[r.Policy.DisplayName] = "applies"
			}
		}
		if len(got) != len(want) {
			t.Fatalf("What If listed %d policies, want %d", len(got), len(want))
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("user %s app %s %v: %q is %q by What If, %q by evaluation", user[:8], app[:8], cond, name, got[name], w)
			}
		}
		if slices.Contains([]string{s.breakGlass, c.admin}, user) && got["MFA for all"] == "applies" {
			t.Errorf("MFA for all applies to a member of the excluded group")
		}
	}
}

// TestWhatIfCountries: with a GeoIP database, What If tells the country
// of the address as a live sign-in would, and a country given in the
// question counts as given; without an address or a country, the country
// is unknown.
func TestWhatIfCountries(t *testing.T) {
	db, err := geoip.Open(geoiptest.Write(t, geoiptest.Network{CIDR: "81.2.69.0/24", Country: "GB"}, geoiptest.Network{CIDR: "2a02:ec80::/29", Country: "FR"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := newCAEnv(t, storetest.Engines(t)[0], func(o *web.Options) { o.GeoIP = db })
	ada := c.user("ada@example.com")
	uk := c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation",
		"displayName": "UK", "countriesAndRegions": []string{"GB"}}).str("id")
	c.must(201, "POST", c.ca+"/policies", c.tok, map[string]any{
		"displayName": "Block outside the UK", "state": "enabled",
		"conditions": map[string]any{
			"users":        map[string]any{"includeUsers": []string{ada}},
			"applications": map[string]any{"includeApplications": []string{"All"}},
			"locations":    map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{uk}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
	})
	for _, tc := range []struct {
		conditions map[string]any
		want       string
	}{
		{map[string]any{"ipAddress": "81.2.69.160"}, "location"},
		{map[string]any{"ipAddress": "2a02:ec80::1"}, "applies"},
		{map[string]any{"ipAddress": "192.0.2.1"}, "applies"},
		{map[string]any{"country": "gb"}, "location"},
		{map[string]any{"ipAddress": "2a02:ec80::1", "country": "GB"}, "location"},
		{map[string]any{}, "applies"},
	} {
		if got := c.whatIf(ada, gatehouse.AdminPortalAppID, tc.conditions, false)["Block outside the UK"]; got != tc.want {
			t.Errorf("%v: %q, want %q", tc.conditions, got, tc.want)
		}
	}
}
