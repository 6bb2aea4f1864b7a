package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestLockoutGuard: creating, changing or enabling a policy that would
// keep every Global Administrator out of the admin portal is a 409 that
// names them and why (and says so to an administrator who is among
// them), writes nothing, and is made with confirmLockout=true or the
// Gatehouse-Confirm-Lockout header. What an administrator could register
// on the way counts; a second administrator who escapes is enough.
func TestLockoutGuard(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		ga := c.delegatedToken(c.res, c.admin)
		blockAll := map[string]any{
			"displayName": "Block everyone", "state": "enabled",
			"conditions": map[string]any{
				"users":        map[string]any{"includeUsers": []string{"All"}},
				"applications": map[string]any{"includeApplications": []string{"All"}},
			},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
		}
		policies := func() int { return c.count("/identity/conditionalAccess/policies") }
		audits := c.countAll(c.api+"/auditLogs/directoryAudits", c.tok)

		r := c.must(409, "POST", c.ca+"/policies", c.tok, blockAll)
		m := r.errMessage()
		if !strings.Contains(m, "admin@acme.example") || !strings.Contains(m, `"Block everyone" blocks them`) ||
			!strings.Contains(m, "confirmLockout=true") || !strings.Contains(m, "Gatehouse-Confirm-Lockout: true") || strings.Contains(m, "You are") {
			t.Errorf("block all, by an app: %q; want who, why and how to confirm", m)
		}
		if d := r.body["error"].(map[string]any)["details"].([]any)[0].(map[string]any); d["code"] != "conditionalAccessLockout" {
			t.Errorf("details %v; want the code conditionalAccessLockout", d)
		}
		if m := c.must(409, "POST", c.ca+"/policies", ga, blockAll).errMessage(); !strings.Contains(m, "You are one of them") {
			t.Errorf("block all, by the administrator: %q; want it to say they are locked out too", m)
		}
		// The seed's policy: MFA the administrator cannot do (no method is
		// enabled in a new tenant).
		mfa := seedPolicy(c.group("Customers"))
		if m := c.must(409, "POST", c.ca+"/policies", ga, mfa).errMessage(); !strings.Contains(m, "requires multifactor authentication") {
			t.Errorf("MFA without methods: %q", m)
		}
		if n := policies(); n != 0 {
			t.Errorf("refused policies were written: %d", n)
		}
		if n := c.countAll(c.api+"/auditLogs/directoryAudits", c.tok); n != audits+1 { // the group
			t.Errorf("refused policies wrote %d audit entries", n-audits-1)
		}
		if r := c.must(400, "POST", c.ca+"/policies?confirmLockout=yes", c.tok, blockAll); r.errTarget() != "confirmLockout" {
			t.Errorf("confirmLockout=yes: %s", r.raw)
		}

		// Once authenticator apps are on, the administrator can register
		// one in the sign-in: MFA is within reach.
		c.must(204, "PATCH", c.api+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/SoftwareOath", c.tok, map[string]any{"state": "enabled"})
		mfaID := c.must(201, "POST", c.ca+"/policies", ga, mfa).str("id")
		// Phishing-resistant MFA needs a passkey, and passkeys are off.
		strength := map[string]any{"displayName": "Phishing-resistant for admins", "state": "disabled",
			"conditions": map[string]any{
				"users":        map[string]any{"includeRoles": []string{gatehouse.RoleGlobalAdministrator}},
				"applications": map[string]any{"includeApplications": []string{"MicrosoftAdminPortals"}},
			},
			"grantControls": map[string]any{"operator": "OR", "authenticationStrength": map[string]any{"id": gatehouse.StrengthPhishingResistant}}}
		sid := c.must(201, "POST", c.ca+"/policies", ga, strength).str("id") // disabled: harmless
		// Enabling it, or making it report-only, are changes like others.
		r = c.must(409, "PATCH", c.ca+"/policies/"+sid, ga, map[string]any{"state": "enabled"})
		if m := r.errMessage(); !strings.Contains(m, "passkey") || !strings.Contains(m, "You are one of them") {
			t.Errorf("enabling phishing-resistant MFA: %q", m)
		}
		c.must(204, "PATCH", c.ca+"/policies/"+sid, ga, map[string]any{"state": "enabledForReportingButNotEnforced"})
		if got := c.must(200, "GET", c.ca+"/policies/"+sid, c.tok, nil).str("state"); got != "enabledForReportingButNotEnforced" {
			t.Errorf("state %q", got)
		}

		// A second Global Administrator in an excluded break-glass group
		// keeps the way in.
		bgUser := c.user("breakglass@acme.example")
		c.must(201, "POST", c.api+"/roleManagement/directory/roleAssignments", c.tok, map[string]any{
			"roleDefinitionId": gatehouse.RoleGlobalAdministrator, "principalId": bgUser, "directoryScopeId": "/"})
		bg := c.group("Break-glass", bgUser)
		withExclusion := map[string]any{
			"displayName": "Block everyone but break-glass", "state": "enabled",
			"conditions": map[string]any{
				"users":        map[string]any{"includeUsers": []string{"All"}, "excludeGroups": []string{bg}},
				"applications": map[string]any{"includeApplications": []string{"All"}},
			},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
		}
		bgPolicy := c.must(201, "POST", c.ca+"/policies", ga, withExclusion).str("id")
		// Taking the exclusion away locks both out.
		r = c.must(409, "PATCH", c.ca+"/policies/"+bgPolicy, ga, map[string]any{"conditions": map[string]any{"users": map[string]any{"excludeGroups": []string{}}}})
		if m := r.errMessage(); !strings.Contains(m, "admin@acme.example") || !strings.Contains(m, "breakglass@acme.example") {
			t.Errorf("removing the exclusion: %q; want both administrators named", m)
		}
		if got := c.must(200, "GET", c.ca+"/policies/"+bgPolicy, c.tok, nil).body["conditions"].(map[string]any)["users"].(map[string]any)["excludeGroups"].([]any); len(got) != 1 {
			t.Errorf("a refused PATCH changed the policy: excludeGroups %v", got)
		}
		// A disabled administrator does not count: with only them left
		// outside the block, nobody who can sign in escapes.
		c.must(204, "PATCH", c.api+"/users/"+bgUser, c.tok, map[string]any{"accountEnabled": false})
		c.must(409, "POST", c.ca+"/policies", c.tok, blockAll)

		// Confirmed, by the query parameter or the header; the audit
		// entry says what was overridden.
		confirmedID := c.must(201, "POST", c.ca+"/policies?confirmLockout=true", c.tok, blockAll).str("id")
		entries := c.must(200, "GET", c.api+"/auditLogs/directoryAudits?$filter=targetResources/any(t:t/id%20eq%20'"+confirmedID+"')", c.tok, nil).body["value"].([]any)
		if reason, _ := entries[0].(map[string]any)["resultReason"].(string); !strings.HasPrefix(reason, "Confirmed (confirmLockout): This change would lock every Global Administrator out") {
			t.Errorf("audit resultReason of a confirmed lockout: %q", reason)
		}
		if reason := c.must(200, "GET", c.api+"/auditLogs/directoryAudits?$filter=targetResources/any(t:t/id%20eq%20'"+mfaID+"')", c.tok, nil).body["value"].([]any)[0].(map[string]any)["resultReason"]; reason != "" {
			t.Errorf("audit resultReason of an unguarded change: %q", reason)
		}
		c.must(204, "PATCH", c.ca+"/policies/"+bgPolicy+"?confirmLockout=true", ga, map[string]any{"displayName": "Renamed"})
		req := map[string]any{"displayName": "Block again"}
		for k, v := range blockAll {
			if k != "displayName" {
				req[k] = v
			}
		}
		r = c.callWith("POST", c.ca+"/policies", c.tok, req, map[string]string{"Gatehouse-Confirm-Lockout": "true"})
		if r.status != 201 {
			t.Errorf("with Gatehouse-Confirm-Lockout: true: %d %s", r.status, r.raw)
		}
		// Deleting never needs confirmation: it only lets more in.
		c.must(204, "DELETE", c.ca+"/policies/"+mfaID, c.tok, nil)
	})
}

// callWith is call with extra request headers.
func (e *testEnv) callWith(method, url, token string, body any, headers map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(mustJSON(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// TestLockoutGuardOnLocations: a change to a named location is guarded
// too. Without GeoIP every country is unknown, so a policy that blocks
// everything outside a country location that includes unknown countries
// lets everyone in; turning includeUnknownCountriesAndRegions off blocks
// everyone, Global Administrators included: a 409 unless confirmed.
func TestLockoutGuardOnLocations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		fr := c.must(201, "POST", c.ca+"/namedLocations", c.tok, map[string]any{"@odata.type": "#microsoft.graph.countryNamedLocation",
			"displayName": "France", "countriesAndRegions": []string{"FR"}, "includeUnknownCountriesAndRegions": true}).str("id")
		c.must(201, "POST", c.ca+"/policies", c.tok, map[string]any{
			"displayName": "Block outside France", "state": "enabled",
			"conditions": map[string]any{
				"users":        map[string]any{"includeUsers": []string{"All"}},
				"applications": map[string]any{"includeApplications": []string{"All"}},
				"locations":    map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{fr}},
			},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
		})
		r := c.must(409, "PATCH", c.ca+"/namedLocations/"+fr, c.tok, map[string]any{"includeUnknownCountriesAndRegions": false})
		if m := r.errMessage(); !strings.Contains(m, `"Block outside France" blocks them`) {
			t.Errorf("turning unknown countries off: %q", m)
		}
		if got := c.must(200, "GET", c.ca+"/namedLocations/"+fr, c.tok, nil); got.body["includeUnknownCountriesAndRegions"] != true {
			t.Errorf("a refused PATCH changed the location: %s", got.raw)
		}
		c.must(204, "PATCH", c.ca+"/namedLocations/"+fr+"?confirmLockout=true", c.tok, map[string]any{"includeUnknownCountriesAndRegions": false})
	})
}
