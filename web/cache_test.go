package web_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// TestTokenEndpointCacheBound checks the bound of the token endpoint's
// read cache (cache.go), on every engine, with two servers on one store:
// a removed client secret, a revoked permission and a deleted application
// count at once on the server that changed them, and on the other within
// web.CacheTTL of its clock, though it had them cached.
func TestTokenEndpointCacheBound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		store := eng.Open(t)
		key := newKey(t)
		a := newEnv(t, store, key)
		var offset atomic.Int64 // node B's clock runs ahead by this much
		b := newEnv(t, store, key, func(o *web.Options) {
			o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		})
		acme := a.createTenant("acme")
		// Each node has its own public URL, and so its own admin API scope.
		automation := func(e *testEnv) string {
			return e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, gatehouse.AdminAPIScope(e.url, "acme"))
		}
		api := acme.AdminAPI
		admin := automation(a)
		obj, appID := a.newApp(api, admin, "Service")
		secret := a.must(200, "POST", api+"/applications/"+obj+"/addPassword", admin, nil)
		keyID, sec := secret.str("keyId"), secret.str("secretText")
		a.must(201, "POST", api+"/applications/"+obj+"/appRoleAssignments", admin, map[string]any{
			"appRoleId": gatehouse.PermUserReadAll.ID, "resourceId": gatehouse.GraphResourceAppID})

		grant := func(e *testEnv) (int, map[string]any) {
			t.Helper()
			status, body, _ := postForm(t, e.url+"/acme/oauth2/v2.0/token",
				url.Values{"grant_type": {"client_credentials"}, "scope": {gatehouse.AdminAPIScope(e.url, "acme")}}, appID, sec)
			return status, body
		}
		roles := func(e *testEnv) []any {
			t.Helper()
			status, body := grant(e)
			if status != http.StatusOK {
				t.Fatalf("token: status %d %v", status, body)
			}
			var c struct{ Roles []any }
			payload, err := base64.RawURLEncoding.DecodeString(strings.Split(body["access_token"].(string), ".")[1])
			if err != nil || json.Unmarshal(payload, &c) != nil {
				t.Fatalf("access token %v is not a JWT", body["access_token"])
			}
			return c.Roles
		}
		step := func() { offset.Add(int64(web.CacheTTL)) } // node B's cache entries expire

		// Both nodes cache the app with its permission.
		for _, e := range []*testEnv{a, b} {
			if r := roles(e); len(r) != 1 || r[0] != "User.Read.All" {
				t.Fatalf("roles = %v, want User.Read.All", r)
			}
		}
		// A revoked permission: at once on A, within the TTL on B.
		grants := a.must(200, "GET", api+"/applications/"+obj+"/appRoleAssignments", admin, nil).body["value"].([]any)
		a.must(204, "DELETE", api+"/applications/"+obj+"/appRoleAssignments/"+grants[0].(map[string]any)["id"].(string), admin, nil)
		if r := roles(a); len(r) != 0 {
			t.Errorf("node A right after the permission was revoked: roles %v, want none", r)
		}
		step()
		if r := roles(b); len(r) != 0 {
			t.Errorf("node B %s after the permission was revoked: roles %v, want none", web.CacheTTL, r)
		}

		// A removed secret.
		a.must(204, "POST", api+"/applications/"+obj+"/removePassword", admin, map[string]any{"keyId": keyID})
		if status, body := grant(a); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("node A right after the secret was removed: %d %v, want 401 invalid_client", status, body)
		}
		step()
		if status, body := grant(b); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("node B %s after the secret was removed: %d %v, want 401 invalid_client", web.CacheTTL, status, body)
		}

		// A deleted application.
		secret = a.must(200, "POST", api+"/applications/"+obj+"/addPassword", admin, nil)
		sec = secret.str("secretText")
		for _, e := range []*testEnv{a, b} {
			if e == b {
				step() // a new secret also reaches node B within the TTL
			}
			if status, body := grant(e); status != http.StatusOK {
				t.Fatalf("token with the new secret: %d %v", status, body)
			}
		}
		a.must(204, "DELETE", api+"/applications/"+obj, admin, nil)
		if status, _ := grant(a); status != http.StatusUnauthorized {
			t.Errorf("node A right after the app was deleted: status %d, want 401", status)
		}
		step()
		if status, _ := grant(b); status != http.StatusUnauthorized {
			t.Errorf("node B %s after the app was deleted: status %d, want 401", web.CacheTTL, status)
		}

		// The tenant's signing choice follows the same bound.
		before := jwsAlg(t, automation(b))
		a.must(204, "PATCH", api+"/organization/"+acme.TenantID, admin, map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": "EdDSA"}})
		if got := jwsAlg(t, automation(a)); got != "EdDSA" {
			t.Errorf("node A right after the change signs with %s, want EdDSA", got)
		}
		step()
		if got := jwsAlg(t, automation(b)); got != "EdDSA" {
			t.Errorf("node B %s after the change signs with %s (before: %s), want EdDSA", web.CacheTTL, got, before)
		}
	})
}

// TestPageCacheBound: the hosted pages and the authorization endpoint
// take the tenant and the application's user flow from the read cache,
// with the bound of the token endpoint's (cache.go): an application taken
// out of its user flow can no longer start a sign-in at once on the node
// that made the change, and on another node, which had the flow cached,
// within web.CacheTTL of its clock.
func TestPageCacheBound(t *testing.T) {
	web.SetPageCache(t, true)
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		store := eng.Open(t)
		key := newKey(t)
		a := newEnv(t, store, key)
		var offset atomic.Int64 // node B's clock runs ahead by this much
		b := newEnv(t, store, key, func(o *web.Options) {
			o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		})
		acme := a.createTenant("acme")
		api := acme.AdminAPI
		admin := a.token(a.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		shop := a.newRP("acme", admin, "Shop", nil)
		a.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, false, shop.cfg.ClientID)

		start := func(e *testEnv) int {
			t.Helper()
			q := url.Values{"client_id": {shop.cfg.ClientID}, "redirect_uri": {rpRedirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s"}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(e.url + "/acme/oauth2/v2.0/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, e := range []*testEnv{a, b} {
			if status := start(e); status != http.StatusSeeOther && status != http.StatusFound {
				t.Fatalf("a sign-in of an app in a user flow: status %d, want a redirect to the sign-in page", status)
			}
		}
		flows := a.must(200, "GET", api+"/identity/authenticationEventsFlows", admin, nil).body["value"].([]any)
		flowID := flows[0].(map[string]any)["id"].(string)
		a.must(204, "DELETE", api+"/identity/authenticationEventsFlows/"+flowID+"/conditions/applications/includeApplications/"+shop.cfg.ClientID+"/$ref", admin, nil)
		if status := start(a); status != http.StatusBadRequest {
			t.Errorf("node A right after the app left its flow: status %d, want 400", status)
		}
		if status := start(b); status == http.StatusBadRequest {
			t.Errorf("node B before %s: status 400, want the cached flow's redirect (is the cache used?)", web.CacheTTL)
		}
		offset.Add(int64(web.CacheTTL))
		if status := start(b); status != http.StatusBadRequest {
			t.Errorf("node B %s after the app left its flow: status %d, want 400", web.CacheTTL, status)
		}
	})
}
