package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/uuid"
)

// TestAdminAPIEndToEnd is the foundation's acceptance test, on every
// engine: a client-credentials token from the discovered token endpoint
// verifies with go-oidc against the JWKS; with it, every Graph resource is
// created and read back; another tenant's token is refused; a client with
// only User.ReadWrite.All manages users but not applications; bad input is
// a 400 that names the problem and writes nothing; and everything survives
// a restart.
func TestAdminAPIEndToEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		key := newKey(t)
		store := eng.Open(t)
		e := newEnv(t, store, key)
		acme := e.createTenant("acme")
		other := e.createTenant("other")

		// Discovery and token with independent client libraries.
		provider, err := gooidc.NewProvider(ctx, acme.Issuer)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		tok := e.token(provider.Endpoint().TokenURL, acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		verifier := provider.VerifierContext(ctx, &gooidc.Config{ClientID: acme.AdminAPI, SupportedSigningAlgs: []string{"ES256"}}) // a new tenant's access tokens
		idt, err := verifier.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("go-oidc verification of the access token: %v", err)
		}
		var claims struct {
			Roles    []string `json:"roles"`
			ClientID string   `json:"client_id"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.ClientID != acme.AutomationClient.ClientID || len(claims.Roles) != len(gatehouse.Permissions) {
			t.Errorf("token claims client_id=%q roles=%v; want the automation client with all %d permissions", claims.ClientID, claims.Roles, len(gatehouse.Permissions))
		}
		api := acme.AdminAPI

		// Create and read back a user, a group, a membership, an
		// application with a secret, and a role assignment.
		u := e.must(201, "POST", api+"/users", tok, map[string]any{
			"displayName": "Ada Lovelace", "mail": "ada@example.com", "city": "London",
			"passwordProfile": map[string]any{"password": "correct horse battery staple"},
		})
		uid := u.str("id")
		got := e.must(200, "GET", api+"/users/"+uid, tok, nil)
		if got.str("mail") != "ada@example.com" || got.str("city") != "London" || got.body["accountEnabled"] != true {
			t.Errorf("user read back = %s", got.raw)
		}
		if strings.Contains(got.raw, "password") {
			t.Errorf("user representation mentions a password: %s", got.raw)
		}
		g := e.must(201, "POST", api+"/groups", tok, map[string]any{
			"displayName": "Break-glass", "mailEnabled": false, "mailNickname": "breakglass", "securityEnabled": true,
		})
		gid := g.str("id")
		e.must(204, "POST", api+"/groups/"+gid+"/members/$ref", tok, map[string]any{"@odata.id": api + "/directoryObjects/" + uid})
		members := e.must(200, "GET", api+"/groups/"+gid+"/members", tok, nil)
		if vals := members.body["value"].([]any); len(vals) != 1 || vals[0].(map[string]any)["id"] != uid {
			t.Errorf("group members = %s", members.raw)
		}
		e.must(409, "POST", api+"/groups/"+gid+"/members/$ref", tok, map[string]any{"@odata.id": api + "/directoryObjects/" + uid})

		app := e.must(201, "POST", api+"/applications", tok, map[string]any{
			"displayName": "Storefront",
			"web":         map[string]any{"redirectUris": []string{"https://shop.example.com/callback", "http://localhost:3000/callback"}},
		})
		appObj, appID := app.str("id"), app.str("appId")
		secret := e.must(200, "POST", api+"/applications/"+appObj+"/addPassword", tok, map[string]any{"passwordCredential": map[string]any{"displayName": "ci"}})
		secretText := secret.str("secretText")
		if len(secretText) < 43 || secret.str("hint") != secretText[:3] {
			t.Errorf("addPassword = %s; want a secret of at least 256 bits and its hint", secret.raw)
		}
		appGot := e.must(200, "GET", api+"/applications/"+appObj, tok, nil)
		if strings.Contains(appGot.raw, secretText) || !strings.Contains(appGot.raw, secret.str("keyId")) {
			t.Errorf("application read back = %s; want the credential's keyId and never its secret", appGot.raw)
		}
		ra := e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{
			"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": uid, "directoryScopeId": "/",
		})
		raGot := e.must(200, "GET", api+"/roleManagement/directory/roleAssignments/"+ra.str("id"), tok, nil)
		if raGot.str("principalId") != uid || raGot.str("roleDefinitionId") != gatehouse.RoleUserAdministrator {
			t.Errorf("role assignment read back = %s", raGot.raw)
		}

		// Filters and paging.
		f := e.must(200, "GET", api+"/users?$filter=mail%20eq%20'ADA@example.com'", tok, nil)
		if vals := f.body["value"].([]any); len(vals) != 1 {
			t.Errorf("$filter=mail eq found %d users, want 1: %s", len(vals), f.raw)
		}
		fa := e.must(200, "GET", api+"/applications?$filter=appId%20eq%20'"+appID+"'", tok, nil)
		if vals := fa.body["value"].([]any); len(vals) != 1 {
			t.Errorf("$filter=appId eq found %d apps, want 1", len(vals))
		}
		for i := range 4 {
			e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "page" + string(rune('a'+i)) + "@example.com"})
		}
		seen := map[string]bool{}
		next := api + "/users?$top=2"
		pages := 0
		for next != "" {
			p := e.must(200, "GET", next, tok, nil)
			for _, v := range p.body["value"].([]any) {
				id := v.(map[string]any)["id"].(string)
				if seen[id] {
					t.Errorf("user %s seen twice while paging", id)
				}
				seen[id] = true
			}
			next = p.str("@odata.nextLink")
			pages++
		}
		if len(seen) != 6 || pages != 3 { // admin, ada and four page users
			t.Errorf("paging with $top=2 saw %d users in %d pages, want 6 in 3", len(seen), pages)
		}

		// A token of another tenant is refused here.
		otherTok := e.token(strings.Replace(provider.Endpoint().TokenURL, "/acme/", "/other/", 1), other.AutomationClient.ClientID, other.AutomationClient.ClientSecret, other.AutomationClient.Scope)
		if r := e.call("GET", api+"/users", otherTok, nil); r.status != http.StatusUnauthorized {
			t.Errorf("other tenant's token on acme: status %d, want 401; %s", r.status, r.raw)
		}
		// And acme's client cannot authenticate at the other tenant.
		cc := e.call("GET", other.AdminAPI+"/users", tok, nil)
		if cc.status != http.StatusUnauthorized {
			t.Errorf("acme's token on other: status %d, want 401", cc.status)
		}

		// A client granted only User.ReadWrite.All.
		e.must(201, "POST", api+"/applications/"+appObj+"/appRoleAssignments", tok, map[string]any{
			"appRoleId": gatehouse.PermUserReadWriteAll.ID, "resourceId": gatehouse.GraphResourceAppID,
		})
		limited := e.token(provider.Endpoint().TokenURL, appID, secretText, acme.AutomationClient.Scope)
		e.must(201, "POST", api+"/users", limited, map[string]any{"displayName": "Ada", "mail": "limited-made@example.com"})
		denied := e.must(403, "POST", api+"/applications", limited, map[string]any{"displayName": "Nope"})
		if !strings.Contains(denied.errMessage(), "Application.ReadWrite.All") {
			t.Errorf("403 message %q does not say what was missing", denied.errMessage())
		}
		e.must(403, "POST", api+"/applications/"+appObj+"/appRoleAssignments", limited, map[string]any{"appRoleId": gatehouse.PermApplicationReadWriteAll.ID})

		// The same holds for a User Administrator's delegated token.
		delegated := e.delegatedToken(acme, uid)
		e.must(201, "POST", api+"/users", delegated, map[string]any{"displayName": "Ada", "mail": "made-by-ada@example.com"})
		e.must(403, "POST", api+"/applications", delegated, map[string]any{"displayName": "Nope"})

		// Bad input: a 400 that names the problem, and nothing written.
		usersBefore := e.countAll(api+"/users", tok)
		auditsBefore := e.countAll(api+"/auditLogs/directoryAudits", tok)
		for _, c := range []struct {
			name, body, want string
		}{
			{"unknown field", `{"displayName":"X","mail":"x@example.com","favouriteColour":"blue"}`, "favouriteColour"},
			{"unknown nested field", `{"displayName":"X","mail":"x@example.com","passwordProfile":{"password":"long enough pw 1","colour":1}}`, "passwordProfile.colour"},
			{"wrong type", `{"displayName":"X","mail":"x@example.com","accountEnabled":"yes"}`, "accountEnabled"},
			{"malformed JSON", `{"mail":"x@example.com",`, "not valid JSON"},
			{"bad email", `{"displayName":"X","mail":"not-an-address"}`, "not-an-address"},
			{"short password", `{"displayName":"X","mail":"x@example.com","passwordProfile":{"password":"short"}}`, "8 characters"},
			{"read-only id", `{"id":"abc","displayName":"X","mail":"x@example.com"}`, "read-only"},
			{"no displayName", `{"mail":"x@example.com"}`, "displayName is required"},
		} {
			r := e.call("POST", api+"/users", tok, c.body)
			if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), c.want) {
				t.Errorf("%s: status %d message %q; want 400 naming %q", c.name, r.status, r.errMessage(), c.want)
			}
		}
		big := `{"displayName":"` + strings.Repeat("a", 2<<20) + `"}`
		if r := e.call("POST", api+"/users", tok, big); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized body: status %d, want 413", r.status)
		}
		if r := e.call("PATCH", api+"/users/"+uid, tok, `{"city":"Paris","nickname":"x"}`); r.status != 400 {
			t.Errorf("PATCH with an unknown field: status %d, want 400", r.status)
		}
		if n := e.countAll(api+"/users", tok); n != usersBefore {
			t.Errorf("rejected requests changed the user count from %d to %d", usersBefore, n)
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != auditsBefore {
			t.Errorf("rejected requests wrote %d audit entries", n-auditsBefore)
		}
		if got := e.must(200, "GET", api+"/users/"+uid, tok, nil); got.str("city") != "London" {
			t.Errorf("a rejected PATCH changed city to %q", got.str("city"))
		}

		// The audit log names who did what, before and after, and never a secret.
		audits := e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Add%20user'", tok, nil)
		vals := audits.body["value"].([]any)
		if len(vals) == 0 {
			t.Fatalf("no 'Add user' audit entries: %s", audits.raw)
		}
		var addAda map[string]any
		for _, v := range vals {
			entry := v.(map[string]any)
			if entry["targetResources"].([]any)[0].(map[string]any)["id"] == uid {
				addAda = entry
			}
		}
		if addAda == nil {
			t.Fatalf("no 'Add user' audit entry for %s: %s", uid, audits.raw)
		}
		if by, _ := addAda["initiatedBy"].(map[string]any)["app"].(map[string]any); by["appId"] != acme.AutomationClient.ClientID {
			t.Errorf("audit initiatedBy.app = %v, want the automation client", by)
		}
		all := e.must(200, "GET", api+"/auditLogs/directoryAudits?$top=999", tok, nil)
		if strings.Contains(all.raw, secretText) || strings.Contains(all.raw, acme.AutomationClient.ClientSecret) {
			t.Errorf("the audit log contains a client secret")
		}
		if strings.Contains(all.raw, "correct horse") {
			t.Errorf("the audit log contains a password")
		}

		// Everything survives a restart.
		e.srv.Close()
		store = eng.Reopen(t, store)
		e2 := newEnv(t, store, key)
		// The issuer moved with the new listener's address; re-create what a
		// client would discover there.
		tok2 := e2.token(e2.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, gatehouse.AdminAPIScope(e2.url, "acme"))
		api2 := gatehouse.AdminAPIURL(e2.url, "acme")
		if got := e2.must(200, "GET", api2+"/users/"+uid, tok2, nil); got.str("mail") != "ada@example.com" {
			t.Errorf("after restart, user = %s", got.raw)
		}
		e2.must(200, "GET", api2+"/groups/"+gid, tok2, nil)
		e2.must(200, "GET", api2+"/applications/"+appObj, tok2, nil)
		e2.must(200, "GET", api2+"/roleManagement/directory/roleAssignments/"+ra.str("id"), tok2, nil)
		e2.token(e2.url+"/acme/oauth2/v2.0/token", appID, secretText, gatehouse.AdminAPIScope(e2.url, "acme"))
	})
}

// countAll counts a collection by following its pages.
func (e *testEnv) countAll(url, tok string) int {
	n := 0
	for url != "" {
		r := e.must(200, "GET", url, tok, nil)
		n += len(r.body["value"].([]any))
		url = r.str("@odata.nextLink")
	}
	return n
}

// delegatedToken returns an access token for the admin API on behalf of
// the user, as the token endpoint issues it after a sign-in to an app
// granted Directory.AccessAsUser.All: under a grant of its own, issued to
// the tenant's "Admin console (test)" app. TestDelegatedAdminAPI gets such
// tokens through real sign-ins.
func (e *testEnv) delegatedToken(res *provision.Result, userID string) string {
	e.t.Helper()
	ctx := context.Background()
	const console = "Admin console (test)"
	apps, _, err := e.store.ListApplications(ctx, res.TenantID, gatehouse.ListOptions{Top: 1, Filter: map[string]string{"displayName": console}})
	if err != nil {
		e.t.Fatal(err)
	}
	g := &gatehouse.Grant{TenantID: res.TenantID, UserID: userID, Scope: "openid " + gatehouse.AdminAPIScope(e.url, res.Tenant),
		AuthTime: time.Now(), AMR: []string{"pwd"}, ExpiresAt: time.Now().Add(time.Hour)}
	err = e.store.Update(ctx, func(tx gatehouse.Tx) error {
		if len(apps) == 0 {
			app := &gatehouse.Application{TenantID: res.TenantID, AppID: uuid.NewString(), DisplayName: console, AdminAPIDelegated: true}
			if err := tx.CreateApplication(ctx, app); err != nil {
				return err
			}
			apps = append(apps, app)
		}
		g.ClientID = apps[0].AppID
		return tx.CreateGrant(ctx, g)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	c := oidc.NewAccessToken(res.Issuer, res.AdminAPI, userID, g.ClientID, res.TenantID, time.Now())
	c.IDType, c.GrantID, c.Scope = "user", g.ID, g.Scope
	tok, err := e.keys.Sign(ctx, res.TenantID, "RS256", "at+jwt", c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}
