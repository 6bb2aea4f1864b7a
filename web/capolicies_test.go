package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/geoip"
	"github.com/gatehouse/gatehouse/geoip/geoiptest"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// caEnv is a tenant with the automation client's token, for the
// Conditional Access tests.
type caEnv struct {
	*testEnv
	res      *provision.Result
	api, tok string
	ca       string // the /identity/conditionalAccess base
	admin    string // the tenant's Global Administrator
}

func newCAEnv(t *testing.T, eng storetest.Engine, opts ...func(*web.Options)) *caEnv {
	e := newEnv(t, eng.Open(t), newKey(t), opts...)
	res := e.createTenant("acme")
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", res.AutomationClient.ClientID, res.AutomationClient.ClientSecret, res.AutomationClient.Scope)
	return &caEnv{testEnv: e, res: res, api: res.AdminAPI, tok: tok, ca: res.AdminAPI + "/identity/conditionalAccess",
		admin: e.adminUserID(res.AdminAPI, tok, "admin@acme.example")}
}

// group creates a group with the members and returns its ID.
func (c *caEnv) group(name string, members ...string) string {
	c.t.Helper()
	id := c.must(201, "POST", c.api+"/groups", c.tok, map[string]any{"displayName": name}).str("id")
	for _, m := range members {
		c.must(204, "POST", c.api+"/groups/"+id+"/members/$ref", c.tok, map[string]any{"@odata.id": c.api + "/directoryObjects/" + m})
	}
	return id
}

// user creates a user and returns its ID.
func (c *caEnv) user(mail string) string {
	c.t.Helper()
	return c.must(201, "POST", c.api+"/users", c.tok, map[string]any{"displayName": mail, "mail": mail,
		"passwordProfile": map[string]any{"password": "a long enough passphrase"}}).str("id")
}

// count returns how many objects a collection holds.
func (c *caEnv) count(path string) int { return c.countAll(c.api+path, c.tok) }

// seedPolicy is the seed's policy: MFA for all users but the break-glass
// group, all applications.
func seedPolicy(breakGlass string) map[string]any {
	return map[string]any{
		"displayName": "Require MFA for all users", "state": "enabled",
		"conditions": map[string]any{
			"users":        map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{breakGlass}},
			"applications": map[string]any{"includeApplications": []string{"All"}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}},
	}
}

// TestCAPolicyCRUD: policies are created with Graph's defaults (201,
// Location), read, listed with $filter and paging, changed by PATCH (204,
// only what the body holds), deleted (204), each change audited with the
// policy before and after; bad input is a 400 or 404 naming the property
// that writes nothing.
func TestCAPolicyCRUD(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		bg := c.group("Break-glass", c.admin)
		created := c.must(201, "POST", c.ca+"/policies", c.tok, seedPolicy(bg))
		id := created.str("id")
		if loc := created.header.Get("Location"); loc != c.ca+"/policies/"+id {
			t.Errorf("Location = %q", loc)
		}
		cond := created.body["conditions"].(map[string]any)
		if !slices.Equal(anyStrings(cond["clientAppTypes"]), []string{"all"}) || created.body["modifiedDateTime"] != nil ||
			created.str("createdDateTime") == "" || created.str("@odata.type") != "#microsoft.graph.conditionalAccessPolicy" {
			t.Errorf("created %s; want Graph's defaults: clientAppTypes [all], createdDateTime, modifiedDateTime null", created.raw)
		}
		if got := c.must(200, "GET", c.ca+"/policies/"+id, c.tok, nil); got.raw != created.raw {
			t.Errorf("GET = %s\nPOST = %s", got.raw, created.raw)
		}

		// PATCH changes only what it holds: Graph's documented update of
		// signInRiskLevels.
		c.must(204, "PATCH", c.ca+"/policies/"+id, c.tok, map[string]any{"conditions": map[string]any{"signInRiskLevels": []string{"high", "medium"}}})
		got := c.must(200, "GET", c.ca+"/policies/"+id, c.tok, nil)
		gc := got.body["conditions"].(map[string]any)
		if !slices.Equal(anyStrings(gc["signInRiskLevels"]), []string{"high", "medium"}) || got.body["modifiedDateTime"] == nil ||
			!slices.Equal(anyStrings(gc["users"].(map[string]any)["excludeGroups"]), []string{bg}) {
			t.Errorf("after PATCH %s", got.raw)
		}
		audits := c.auditActivities(c.api, c.tok, id)
		if audits["Add conditional access policy"] != 1 || audits["Update conditional access policy"] != 1 {
			t.Errorf("audit entries %v", audits)
		}
		r := c.must(200, "GET", c.api+"/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq 'Update conditional access policy'"), c.tok, nil)
		entry := r.body["value"].([]any)[0].(map[string]any)
		props := entry["targetResources"].([]any)[0].(map[string]any)["modifiedProperties"].([]any)
		var sawConditions bool
		for _, p := range props {
			p := p.(map[string]any)
			if p["displayName"] == "conditions" {
				sawConditions = !strings.Contains(p["oldValue"].(string), "medium") && strings.Contains(p["newValue"].(string), `"signInRiskLevels":["high","medium"]`)
			}
		}
		if !sawConditions {
			t.Errorf("update audit modifiedProperties %v; want conditions before and after", props)
		}
		// A PATCH that changes nothing writes nothing.
		c.must(204, "PATCH", c.ca+"/policies/"+id, c.tok, map[string]any{"state": "enabled"})
		if n := c.auditActivities(c.api, c.tok, id)["Update conditional access policy"]; n != 1 {
			t.Errorf("a PATCH without change wrote an audit entry (%d)", n)
		}

		// Listing, $filter on state and displayName, paging.
		second := seedPolicy(bg)
		second["displayName"], second["state"] = "Report-only MFA", "enabledForReportingButNotEnforced"
		c.must(201, "POST", c.ca+"/policies", c.tok, second)
		for q, want := range map[string]int{
			"": 2,
			"?$filter=" + url.QueryEscape("state eq 'enabled'"):               1,
			"?$filter=" + url.QueryEscape("displayName eq 'Report-only MFA'"): 1,
			"?$top=1": 2,
		} {
			if n := c.count("/identity/conditionalAccess/policies" + q); n != want {
				t.Errorf("policies%s: %d, want %d", q, n, want)
			}
		}
		if r := c.must(200, "GET", c.ca+"/policies?$top=1", c.tok, nil); r.str("@odata.nextLink") == "" {
			t.Errorf("$top=1 of 2 has no nextLink: %s", r.raw)
		}

		// Bad input: 400 or 404 naming the property, nothing written.
		before := c.count("/identity/conditionalAccess/policies")
		auditsBefore := c.countAll(c.api+"/auditLogs/directoryAudits", c.tok)
		compliant := seedPolicy(bg)
		compliant["grantControls"] = map[string]any{"operator": "OR", "builtInControls": []string{"mfa", "compliantDevice"}}
		guests := seedPolicy(bg)
		guests["conditions"].(map[string]any)["users"] = map[string]any{"includeUsers": []string{"GuestsOrExternalUsers"}}
		unknownGroup := seedPolicy("0b7c1f66-8d0c-4a5e-9a4f-111111111111")
		unknownApp := seedPolicy(bg)
		unknownApp["conditions"].(map[string]any)["applications"] = map[string]any{"includeApplications": []string{"All"},
			"excludeApplications": []string{gatehouse.AdminPortalAppID, "0b7c1f66-8d0c-4a5e-9a4f-222222222222"}}
		noState := seedPolicy(bg)
		delete(noState, "state")
		for _, tc := range []struct {
			name   string
			body   any
			status int
			target string
		}{
			{"compliantDevice", compliant, 400, "grantControls.builtInControls[1]"},
			{"guests", guests, 400, "conditions.users.includeUsers[0]"},
			{"an unknown group", unknownGroup, 404, "conditions.users.excludeGroups[0]"},
			{"an unknown application", unknownApp, 404, "conditions.applications.excludeApplications[1]"},
			{"no state", noState, 400, "state"},
			{"an unknown property", map[string]any{"displayName": "x", "colour": "red"}, 400, "colour"},
		} {
			r := c.must(tc.status, "POST", c.ca+"/policies", c.tok, tc.body)
			if r.errTarget() != tc.target || !strings.Contains(r.errMessage(), strings.Split(tc.target, "[")[0]) {
				t.Errorf("%s: %s; want target %s", tc.name, r.raw, tc.target)
			}
		}
		if r := c.must(400, "PATCH", c.ca+"/policies/"+id, c.tok, map[string]any{"conditions": map[string]any{"devices": map[string]any{"deviceFilter": map[string]any{"mode": "include", "rule": "device.isCompliant -eq True"}}}}); r.errTarget() != "conditions.devices" {
			t.Errorf("PATCH with devices: %s", r.raw)
		}
		if n := c.count("/identity/conditionalAccess/policies"); n != before {
			t.Errorf("refused requests created policies: %d, want %d", n, before)
		}
		if n := c.countAll(c.api+"/auditLogs/directoryAudits", c.tok); n != auditsBefore {
			t.Errorf("refused requests wrote %d audit entries", n-auditsBefore)
		}
		if got := c.must(200, "GET", c.ca+"/policies/"+id, c.tok, nil); got.body["conditions"].(map[string]any)["devices"] != nil {
			t.Errorf("a refused PATCH changed the policy: %s", got.raw)
		}

		c.must(204, "DELETE", c.ca+"/policies/"+id, c.tok, nil)
		c.must(404, "GET", c.ca+"/policies/"+id, c.tok, nil)
		c.must(404, "DELETE", c.ca+"/policies/"+id, c.tok, nil)
		if n := c.auditActivities(c.api, c.tok, id)["Delete conditional access policy"]; n != 1 {
			t.Errorf("delete audit entries: %d", n)
		}
	})
}

// anyStrings returns a JSON array of strings as []string.
func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestCAPermissions: Conditional Access is written by Global, Security
// and Conditional Access Administrators and Policy.ReadWrite.ConditionalAccess,
// read also by Global and Security Readers, Policy.Read.All and
// Policy.Read.ConditionalAccess; a User Administrator can do neither.
func TestCAPermissions(t *testing.T) {
	c := newCAEnv(t, storetest.Engines(t)[0])
	bg := c.group("Break-glass", c.admin)
	policy := c.must(201, "POST", c.ca+"/policies", c.tok, seedPolicy(bg)).str("id")
	writers := map[string]string{
		"Security Administrator":             c.role("secadmin@example.com", gatehouse.RoleSecurityAdministrator),
		"Conditional Access Administrator":   c.role("caadmin@example.com", gatehouse.RoleConditionalAccessAdministrator),
		"Policy.ReadWrite.ConditionalAccess": c.clientToken(c.res, c.tok, gatehouse.PermPolicyReadWriteCA),
	}
	readers := map[string]string{
		"Global Reader":                 c.role("globalreader@example.com", gatehouse.RoleGlobalReader),
		"Security Reader":               c.role("secreader@example.com", gatehouse.RoleSecurityReader),
		"Policy.Read.All":               c.clientToken(c.res, c.tok, gatehouse.PermPolicyReadAll),
		"Policy.Read.ConditionalAccess": c.clientToken(c.res, c.tok, gatehouse.PermPolicyReadCA),
	}
	nobody := map[string]string{
		"User Administrator":                    c.role("useradmin@example.com", gatehouse.RoleUserAdministrator),
		"Authentication Policy Administrator":   c.role("authpolicy@example.com", gatehouse.RoleAuthenticationPolicyAdministrator),
		"Policy.ReadWrite.AuthenticationMethod": c.clientToken(c.res, c.tok, gatehouse.PermPolicyReadWriteAuthMethod),
	}
	whatIf := map[string]any{"signInIdentity": map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": c.adminUserID(c.api, c.tok, "admin@acme.example")},
		"signInContext": map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": []string{gatehouse.AdminPortalAppID}}}
	for name, tok := range writers {
		p := seedPolicy(bg)
		p["displayName"] = "By " + name
		id := c.must(201, "POST", c.ca+"/policies", tok, p).str("id")
		c.must(204, "PATCH", c.ca+"/policies/"+id, tok, map[string]any{"state": "disabled"})
		c.must(204, "DELETE", c.ca+"/policies/"+id, tok, nil)
		c.must(201, "POST", c.ca+"/namedLocations", tok, map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "By " + name,
			"ipRanges": []any{map[string]any{"cidrAddress": "192.0.2.0/24"}}})
	}
	for name, tok := range readers {
		c.must(200, "GET", c.ca+"/policies", tok, nil)
		c.must(200, "GET", c.ca+"/policies/"+policy, tok, nil)
		c.must(200, "GET", c.ca+"/namedLocations", tok, nil)
		c.must(200, "POST", c.ca+"/evaluate", tok, whatIf)
		r := c.must(403, "POST", c.ca+"/policies", tok, seedPolicy(bg))
		if !strings.Contains(r.errMessage(), "Conditional Access Administrator") || !strings.Contains(r.errMessage(), "Policy.ReadWrite.ConditionalAccess") {
			t.Errorf("%s writing: %q; want it to say who may", name, r.errMessage())
		}
		c.must(403, "PATCH", c.ca+"/policies/"+policy, tok, map[string]any{"state": "disabled"})
		c.must(403, "DELETE", c.ca+"/policies/"+policy, tok, nil)
	}
	for name, tok := range nobody {
		for _, m := range []struct{ method, path string }{{"GET", "/policies"}, {"GET", "/policies/" + policy}, {"GET", "/namedLocations"}} {
			if r := c.call(m.method, c.ca+m.path, tok, nil); r.status != 403 {
				t.Errorf("%s %s %s: %d, want 403", name, m.method, m.path, r.status)
			}
		}
		if r := c.call("POST", c.ca+"/evaluate", tok, whatIf); r.status != 403 {
			t.Errorf("%s What If: %d, want 403", name, r.status)
		}
	}
}

// role returns a delegated token of a new user holding the role.
func (c *caEnv) role(mail, role string) string {
	_, tok := c.roleHolder(c.res, c.tok, mail, role)
	return tok
}

// TestNamedLocationCRUD: named locations are created, read, listed,
// changed and deleted; one a policy names cannot be deleted (409 naming
// the policy); a country location saved without a GeoIP database says,
// in a header and an annotation, that it cannot be evaluated, and with a
// database it does not.
func TestNamedLocationCRUD(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		ip := c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{
			"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Office", "isTrusted": true,
			"ipRanges": []any{map[string]any{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
				map[string]any{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}}})
		ipID := ip.str("id")
		if ip.header.Get("Gatehouse-Warning") != "" || ip.body["@gatehouse.warning"] != nil {
			t.Errorf("an IP location carries a GeoIP warning: %s", ip.raw)
		}
		country := c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{
			"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "France", "countriesAndRegions": []string{"fr"},
			"includeUnknownCountriesAndRegions": false})
		countryID := country.str("id")
		warned := func(r response, what string) {
			t.Helper()
			if h := r.header.Get("Gatehouse-Warning"); !strings.Contains(h, "--geoip-db") {
				t.Errorf("%s: Gatehouse-Warning %q; want it to say no GeoIP database is configured", what, h)
			}
		}
		warned(country, "POST")
		if w, _ := country.body["@gatehouse.warning"].(string); !strings.Contains(w, "GeoIP") || !slices.Equal(anyStrings(country.body["countriesAndRegions"]), []string{"FR"}) {
			t.Errorf("country location %s; want FR and the @gatehouse.warning annotation", country.raw)
		}
		warned(c.must(200, "GET", c.ca+"/namedLocations/"+countryID, c.tok, nil), "GET")
		warned(c.must(200, "GET", c.ca+"/namedLocations", c.tok, nil), "list")
		// What GET returns, annotation included, PATCHes back.
		back := c.must(200, "GET", c.ca+"/namedLocations/"+countryID, c.tok, nil).body
		back["countriesAndRegions"] = []string{"FR", "BE"}
		warned(c.must(204, "PATCH", c.ca+"/namedLocations/"+countryID, c.tok, back), "PATCH")
		if got := c.must(200, "GET", c.ca+"/namedLocations/"+countryID, c.tok, nil); !slices.Equal(anyStrings(got.body["countriesAndRegions"]), []string{"FR", "BE"}) {
			t.Errorf("after PATCH: %s", got.raw)
		}
		if r := c.must(400, "PATCH", c.ca+"/namedLocations/"+ipID, c.tok, map[string]any{"countriesAndRegions": []string{"FR"}}); r.errTarget() != "countriesAndRegions" {
			t.Errorf("country on an IP location: %s", r.raw)
		}
		if r := c.must(400, "POST", c.ca+"/namedLocations", c.tok, map[string]any{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x",
			"ipRanges": []any{map[string]any{"cidrAddress": "10.0.0.0/4"}}}); !strings.Contains(r.errTarget(), "ipRanges") {
			t.Errorf("a /4 range: %s", r.raw)
		}

		p := seedPolicy(c.group("Break-glass", c.admin))
		p["displayName"] = "MFA outside the office"
		p["conditions"].(map[string]any)["locations"] = map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{ipID}}
		c.must(201, "POST", c.ca+"/policies", c.tok, p)
		r := c.must(409, "DELETE", c.ca+"/namedLocations/"+ipID, c.tok, nil)
		if !strings.Contains(r.errMessage(), "MFA outside the office") {
			t.Errorf("deleting a used location: %q; want it to name the policy", r.errMessage())
		}
		c.must(200, "GET", c.ca+"/namedLocations/"+ipID, c.tok, nil)
		c.must(204, "DELETE", c.ca+"/namedLocations/"+countryID, c.tok, nil)
		c.must(404, "GET", c.ca+"/namedLocations/"+countryID, c.tok, nil)
		audits := c.auditActivities(c.api, c.tok, countryID)
		if audits["Add named location"] != 1 || audits["Update named location"] != 1 || audits["Delete named location"] != 1 {
			t.Errorf("location audit entries %v", audits)
		}
	})

	// With a GeoIP database, no warning.
	db, err := geoip.Open(geoiptest.Write(t, geoiptest.Network{CIDR: "81.2.69.0/24", Country: "GB"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := newCAEnv(t, storetest.Engines(t)[0], func(o *web.Options) { o.GeoIP = db })
	r := c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{
		"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "UK", "countriesAndRegions": []string{"GB"}})
	if r.header.Get("Gatehouse-Warning") != "" || r.body["@gatehouse.warning"] != nil {
		t.Errorf("with a GeoIP database, a country location is still warned about: %s", r.raw)
	}
}

// TestGraphExamplesViaAPI: the request bodies of Graph's "Create
// conditionalAccessPolicy" examples and policies as Entra exports them
// import through the API when the directory has the objects they name
// (the ids are the documentation's); example 3, which uses what Gatehouse
// cannot honour, is a 400 naming the first such property and writes
// nothing.
func TestGraphExamplesViaAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		ctx := context.Background()
		tid := c.res.TenantID
		err := c.store.Update(ctx, func(tx gatehouse.Tx) error {
			for _, g := range []string{"ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba", "5c4e7b0e-9c8d-4b0a-8f1e-2d3c4b5a6978"} {
				if err := tx.CreateGroup(ctx, &gatehouse.Group{ID: g, TenantID: tid, DisplayName: "Group " + g[:8]}); err != nil {
					return err
				}
			}
			if err := tx.CreateUser(ctx, &gatehouse.User{ID: "124c5b6a-ffa5-483a-9b88-04c3fce5574a", TenantID: tid, Mail: "exempt@example.com", DisplayName: "Exempt", AccountEnabled: true}); err != nil {
				return err
			}
			if err := tx.CreateApplication(ctx, &gatehouse.Application{TenantID: tid, AppID: "00000002-0000-0ff1-ce00-000000000000", DisplayName: "Office 365 Exchange Online"}); err != nil {
				return err
			}
			return tx.CreateNamedLocation(ctx, &gatehouse.NamedLocation{ID: "198ad66e-87b3-4157-85a3-8a7b51794ee9", TenantID: tid, Kind: gatehouse.LocationCountry,
				DisplayName: "Non-trusted regions", Countries: []string{"CN"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		// The Global Administrator is in the group the seed's policy
		// excludes, and keeps access to the admin portal.
		c.must(204, "POST", c.api+"/groups/5c4e7b0e-9c8d-4b0a-8f1e-2d3c4b5a6978/members/$ref", c.tok, map[string]any{"@odata.id": c.api + "/directoryObjects/" + c.admin})
		for name, body := range web.GraphExamples {
			if name == "example3" {
				continue
			}
			r := c.must(201, "POST", c.ca+"/policies", c.tok, body)
			// Exported again, it imports to the same policy.
			again := c.must(200, "GET", c.ca+"/policies/"+r.str("id"), c.tok, nil)
			copy := c.must(201, "POST", c.ca+"/policies", c.tok, again.raw)
			if strip(copy.body) != strip(again.body) {
				t.Errorf("%s exported and imported again:\n%v\nwant\n%v", name, copy.raw, again.raw)
			}
		}
		before := c.count("/identity/conditionalAccess/policies")
		r := c.must(400, "POST", c.ca+"/policies", c.tok, web.GraphExamples["example3"])
		if r.errTarget() != "grantControls.termsOfUse" || !strings.Contains(r.errMessage(), "termsOfUse") {
			t.Errorf("example 3: %s; want a 400 naming grantControls.termsOfUse", r.raw)
		}
		if n := c.count("/identity/conditionalAccess/policies"); n != before {
			t.Errorf("example 3 wrote a policy")
		}
	})
}

// strip returns a policy's JSON without what differs between two copies.
func strip(p map[string]any) string {
	q := map[string]any{}
	for k, v := range p {
		if k != "id" && k != "createdDateTime" && k != "modifiedDateTime" {
			q[k] = v
		}
	}
	return string(mustJSON(q))
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}
