package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"github.com/google/go-cmp/cmp"
)

// errTarget returns the Graph error target of r.
func (r response) errTarget() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["target"].(string)
	return s
}

// TestNullSemantics checks that users, groups and applications treat null
// alike: it clears a list or an optional string, and it is a 400 naming
// the property for one that cannot be null; a refused null changes
// nothing and writes no audit entry.
func TestNullSemantics(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)

		user := api + "/users/" + e.must(201, "POST", api+"/users", tok, map[string]any{
			"mail": "ada@example.com", "displayName": "Ada", "city": "London", "jobTitle": "Countess",
		}).str("id")
		group := api + "/groups/" + e.must(201, "POST", api+"/groups", tok, map[string]any{
			"displayName": "Staff", "description": "Everyone", "mailNickname": "staff",
		}).str("id")
		app := api + "/applications/" + e.must(201, "POST", api+"/applications", tok, map[string]any{
			"displayName": "Shop",
			"web":         map[string]any{"redirectUris": []string{"https://shop.example.com/cb"}},
			"spa":         map[string]any{"redirectUris": []string{"https://shop.example.com/spa"}},
			"gatehouse": map[string]any{"requirePkce": true, "idTokenSigningAlg": "ES256",
				"postLogoutRedirectUris": []string{"https://shop.example.com/"}},
		}).str("id")
		get := func(url string) map[string]any { return e.must(200, "GET", url, tok, nil).body }
		before := map[string]map[string]any{user: get(user), group: get(group), app: get(app)}
		audits := e.countAll(api+"/auditLogs/directoryAudits", tok)

		for _, c := range []struct {
			url, body, target string
		}{
			{user, `{"displayName":null}`, "displayName"},
			{user, `{"mail":null}`, "mail"},
			{user, `{"accountEnabled":null}`, "accountEnabled"},
			{user, `{"identities":null}`, "identities"},
			{user, `{"passwordProfile":null}`, "passwordProfile"},
			{user, `{"passwordProfile":{"password":null}}`, "passwordProfile.password"},
			{group, `{"displayName":null}`, "displayName"},
			{group, `{"securityEnabled":null}`, "securityEnabled"},
			{group, `{"mailEnabled":null}`, "mailEnabled"},
			{app, `{"displayName":null}`, "displayName"},
			{app, `{"isFallbackPublicClient":null}`, "isFallbackPublicClient"},
			{app, `{"gatehouse":{"requirePkce":null}}`, "gatehouse.requirePkce"},
			{app, `{"gatehouse":null}`, "gatehouse"},
			{app, `{"web":null}`, "web"},
			{app, `{"web":{"implicitGrantSettings":{"enableIdTokenIssuance":null}}}`, "web.implicitGrantSettings.enableIdTokenIssuance"},
			{app, `{"web":{"redirectUris":["https://shop.example.com/cb",null]}}`, "web.redirectUris[1]"},
			{app, `{"signInAudience":null}`, "signInAudience"},
		} {
			r := e.call("PATCH", c.url, tok, c.body)
			if r.status != http.StatusBadRequest || r.errTarget() != c.target || !strings.Contains(r.errMessage(), c.target) || !strings.Contains(r.errMessage(), "null") {
				t.Errorf("PATCH %s: status %d, target %q, message %q; want 400 naming %s", c.body, r.status, r.errTarget(), r.errMessage(), c.target)
			}
		}
		for url, want := range before {
			if diff := cmp.Diff(want, get(url)); diff != "" {
				t.Errorf("refused nulls changed %s (-before +after):\n%s", url, diff)
			}
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
			t.Errorf("refused nulls wrote %d audit entries", n-audits)
		}

		// Null clears lists and optional strings.
		e.must(204, "PATCH", user, tok, `{"city":null,"jobTitle":null}`)
		e.must(204, "PATCH", group, tok, `{"description":null,"mailNickname":null}`)
		e.must(204, "PATCH", app, tok, `{"web":{"redirectUris":null},"gatehouse":{"postLogoutRedirectUris":null,"idTokenSigningAlg":null}}`)
		u, g, a := get(user), get(group), get(app)
		if u["city"] != "" || u["jobTitle"] != "" || u["displayName"] != "Ada" {
			t.Errorf("user after clearing city and jobTitle: %v", u)
		}
		if g["description"] != "" || g["mailNickname"] != "" || g["displayName"] != "Staff" {
			t.Errorf("group after clearing description and mailNickname: %v", g)
		}
		gh := a["gatehouse"].(map[string]any)
		if diff := cmp.Diff(map[string]any{
			"web":       map[string]any{"redirectUris": []any{}, "implicitGrantSettings": map[string]any{"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
			"spa":       map[string]any{"redirectUris": []any{"https://shop.example.com/spa"}},
			"gatehouse": map[string]any{"postLogoutRedirectUris": []any{}, "requirePkce": true, "idTokenSigningAlg": nil, "accessTokenSigningAlg": nil},
		}, map[string]any{"web": a["web"], "spa": a["spa"], "gatehouse": gh}); diff != "" {
			t.Errorf("application after clearing web.redirectUris and two gatehouse settings (-want +got):\n%s", diff)
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits+3 {
			t.Errorf("three clearing PATCHes wrote %d audit entries, want 3", n-audits)
		}
	})
}

// TestGroupMailNickname checks that a group keeps and returns the
// mailNickname Graph requires, and refuses one Graph would refuse.
func TestGroupMailNickname(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		created := e.must(201, "POST", api+"/groups", tok, map[string]any{
			"displayName": "Break-glass", "mailEnabled": false, "mailNickname": "breakglass", "securityEnabled": true,
		})
		id := created.str("id")
		if got := created.str("mailNickname"); got != "breakglass" {
			t.Errorf("POST response mailNickname = %q, want breakglass", got)
		}
		e.must(204, "PATCH", api+"/groups/"+id, tok, map[string]any{"mailNickname": "break-glass.accounts"})
		if got := e.must(200, "GET", api+"/groups/"+id, tok, nil).str("mailNickname"); got != "break-glass.accounts" {
			t.Errorf("GET mailNickname after PATCH = %q", got)
		}
		for _, bad := range []string{"break glass", "a@b", "zoë", strings.Repeat("a", 65), "semi;colon"} {
			r := e.call("PATCH", api+"/groups/"+id, tok, map[string]any{"mailNickname": bad})
			if r.status != 400 || r.errTarget() != "mailNickname" {
				t.Errorf("mailNickname %q: status %d target %q (%s); want 400 naming mailNickname", bad, r.status, r.errTarget(), r.errMessage())
			}
		}
		if got := e.must(200, "GET", api+"/groups/"+id, tok, nil).str("mailNickname"); got != "break-glass.accounts" {
			t.Errorf("refused PATCHes changed mailNickname to %q", got)
		}
	})
}

// TestUnchangedPatch checks that a PATCH that changes nothing answers 204
// and writes nothing, not even an audit entry, for every resource; and
// that a PATCH that changes something still writes one.
func TestUnchangedPatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		user := api + "/users/" + e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "city": "London"}).str("id")
		group := api + "/groups/" + e.must(201, "POST", api+"/groups", tok, map[string]any{"displayName": "Staff"}).str("id")
		appObj, appID := e.newApp(api, tok, "Shop")
		app := api + "/applications/" + appObj
		flow := api + "/identity/authenticationEventsFlows/" + e.must(201, "POST", api+"/identity/authenticationEventsFlows", tok, storefrontFlow(appID)).str("id")
		org := api + "/organization/" + acme.TenantID

		for _, c := range []struct {
			url     string
			same    any // changes nothing
			changed any // changes something
		}{
			{user, map[string]any{"city": "London", "mail": "ada@example.com"}, map[string]any{"city": "Paris"}},
			{user, `{}`, map[string]any{"accountEnabled": false}},
			{group, map[string]any{"displayName": "Staff", "description": nil}, map[string]any{"description": "Everyone"}},
			{app, map[string]any{"displayName": "Shop", "web": map[string]any{"redirectUris": []string{}}}, map[string]any{"displayName": "Storefront"}},
			{app, map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": nil}}, map[string]any{"gatehouse": map[string]any{"requirePkce": true}}},
			{app, map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": nil}}, map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": "RS256"}}},
			{org, map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "RS256"}}, map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "ES256"}}},
			{flow, map[string]any{"description": "Customers of the shop"}, map[string]any{"description": "All customers"}},
			{org, map[string]any{"displayName": "acme"}, map[string]any{"displayName": "Acme"}},
			{org + "/branding", map[string]any{"gatehouse": map[string]any{"logoUrl": nil}}, map[string]any{"gatehouse": map[string]any{"accentColor": "#0b5cad"}}},
		} {
			audits := e.countAll(api+"/auditLogs/directoryAudits", tok)
			e.must(204, "PATCH", c.url, tok, c.same)
			if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
				t.Errorf("PATCH %s %v changing nothing wrote %d audit entries", c.url, c.same, n-audits)
			}
			e.must(204, "PATCH", c.url, tok, c.changed)
			if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits+1 {
				t.Errorf("PATCH %s %v wrote %d audit entries, want 1", c.url, c.changed, n-audits)
			}
		}
	})
}

// TestApplicationFieldNames checks that errors about an application's
// settings name them as the caller sent them: with the gatehouse. prefix,
// and with the index of the bad list entry.
func TestApplicationFieldNames(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	api := acme.AdminAPI
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	for _, c := range []struct {
		body           map[string]any
		target, inText string
	}{
		{map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://a.example/", "http://a.example/"}}}, "gatehouse.postLogoutRedirectUris[1]", "http"},
		{map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://a.example/", "https://a.example/"}}}, "gatehouse.postLogoutRedirectUris[1]", "twice"},
		{map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "HS256"}}, "gatehouse.idTokenSigningAlg", "HS256"},
		{map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": "none"}}, "gatehouse.accessTokenSigningAlg", "none"},
		{map[string]any{"web": map[string]any{"redirectUris": []string{"https://a.example/cb", "https://*.example/cb"}}}, "web.redirectUris[1]", "wildcard"},
		{map[string]any{"spa": map[string]any{"redirectUris": []any{"https://a.example/cb", 7}}}, "spa.redirectUris[1]", "expected string, got number"},
	} {
		c.body["displayName"] = "Shop"
		r := e.call("POST", api+"/applications", tok, c.body)
		if r.status != 400 || r.errTarget() != c.target || !strings.Contains(r.errMessage(), strings.Split(c.target, "[")[0]) || !strings.Contains(r.errMessage(), c.inText) {
			t.Errorf("POST %v: status %d, target %q, message %q; want 400 naming %s and %q", c.body, r.status, r.errTarget(), r.errMessage(), c.target, c.inText)
		}
	}
}

// countingHasher is the real hasher, counting the hashes it is asked for;
// while busy is set it answers as a saturated pool does.
type countingHasher struct {
	*password.Hasher
	hashes atomic.Int64
	busy   atomic.Bool
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hashes.Add(1)
	if h.busy.Load() {
		return "", gatehouse.Errorf(gatehouse.EBUSY, "The server is busy; try again in a moment.")
	}
	return h.Hasher.Hash(ctx, pw)
}

// TestPasswordHashedLast checks that POST and PATCH /users hash a new
// password only once every other check has passed, so that mistakes and
// unknown users do not use the bounded hashing pool (PW-12); and that a
// full pool is a 503 with Retry-After that writes nothing.
func TestPasswordHashedLast(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := &countingHasher{Hasher: testHasher}
		e := newEnv(t, eng.Open(t), newKey(t), func(o *web.Options) { o.Passwords = h })
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		adminID := e.adminUserID(api, tok, acme.Admin.Email)
		ada := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com"}).str("id")
		ua := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ua@example.com"}).str("id")
		e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": ua})
		uaTok := e.delegatedToken(acme, ua)
		audits := e.countAll(api+"/auditLogs/directoryAudits", tok)

		pw := map[string]any{"password": "a brand new password"}
		for _, c := range []struct {
			name, method, path, tok string
			body                    map[string]any
			status                  int
		}{
			{"unknown user", "PATCH", "/users/no-such-user", tok, map[string]any{"passwordProfile": pw}, 404},
			{"bad mail", "PATCH", "/users/" + ada, tok, map[string]any{"passwordProfile": pw, "mail": "not-an-address"}, 400},
			{"unknown field", "PATCH", "/users/" + ada, tok, map[string]any{"passwordProfile": pw, "nickname": "x"}, 400},
			{"common password", "PATCH", "/users/" + ada, tok, map[string]any{"passwordProfile": map[string]any{"password": "password123"}}, 400},
			{"mail taken", "PATCH", "/users/" + ada, tok, map[string]any{"passwordProfile": pw, "mail": "UA@example.com"}, 409},
			{"administrator, by a User Administrator", "PATCH", "/users/" + adminID, uaTok, map[string]any{"passwordProfile": pw}, 403},
			{"the last Global Administrator disabled", "PATCH", "/users/" + adminID, tok, map[string]any{"passwordProfile": pw, "accountEnabled": false}, 409},
			{"new user, mail taken", "POST", "/users", tok, map[string]any{"passwordProfile": pw, "displayName": "Ada", "mail": "ada@EXAMPLE.com"}, 409},
		} {
			r := e.call(c.method, api+c.path, c.tok, c.body)
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d; %s", c.name, r.status, c.status, r.raw)
			}
			if n := h.hashes.Swap(0); n != 0 {
				t.Errorf("%s: %d passwords hashed before the request was refused", c.name, n)
			}
		}

		h.busy.Store(true)
		r := e.call("PATCH", api+"/users/"+ada, tok, map[string]any{"passwordProfile": pw, "city": "Paris"})
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Errorf("PATCH with a full hashing pool: status %d, Retry-After %q; want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
		}
		h.busy.Store(false)
		h.hashes.Store(0)
		if got := e.must(200, "GET", api+"/users/"+ada, tok, nil).str("city"); got != "" {
			t.Errorf("a PATCH refused with 503 set city to %q", got)
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
			t.Errorf("refused requests wrote %d audit entries", n-audits)
		}

		e.must(204, "PATCH", api+"/users/"+ada, tok, map[string]any{"passwordProfile": pw})
		if n := h.hashes.Load(); n != 1 {
			t.Errorf("a password change hashed %d times, want 1", n)
		}
	})
}

// withRaw returns body as JSON with the property key set to raw, JSON
// text that need not be valid UTF-8.
func withRaw(body map[string]any, key, raw string) string {
	rest := map[string]any{}
	for k, v := range body {
		if k != key {
			rest[k] = v
		}
	}
	b, _ := json.Marshal(rest)
	if len(rest) == 0 {
		return `{"` + key + `":` + raw + `}`
	}
	return `{"` + key + `":` + raw + "," + string(b[1:])
}

// TestRejectedWritesNothing sends each writable resource an unknown
// property, a value of the wrong type, malformed JSON, a body that is no
// object and text that is not UTF-8, on create and on update: each is a
// 400 that names the problem, and neither the resource's collection nor
// the audit log changes.
func TestRejectedWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		d := newDirectory(t, eng)
		e, api, tok := d.e, d.api, d.tok
		flows := api + "/identity/authenticationEventsFlows"
		roles := api + "/roleManagement/directory/roleAssignments"
		branding := api + "/organization/" + d.tenantID + "/branding"
		second := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "grace@example.com"}).str("id")
		flowBody := storefrontFlow()
		delete(flowBody, "conditions")

		for _, res := range []struct {
			name      string
			list      string         // the collection, read before and after
			method    string         // POST to list or PATCH to item
			url       string         // where the write goes
			body      map[string]any // a valid body
			str       string         // a string property of body
			wrongType string         // a property, its wrong JSON value, and what names it
			wrongRaw  string
			wrongName string
		}{
			{"create user", api + "/users?$top=999", "POST", api + "/users", map[string]any{"displayName": "Ada", "mail": "new@example.com", "city": "Oslo"}, "city", "accountEnabled", `"yes"`, "accountEnabled"},
			{"update user", api + "/users?$top=999", "PATCH", api + "/users/" + d.user, map[string]any{"city": "Oslo"}, "city", "identities", `{"signInType":"emailAddress"}`, "identities"},
			{"create group", api + "/groups?$top=999", "POST", api + "/groups", map[string]any{"displayName": "New", "description": "x"}, "description", "description", `5`, "description"},
			{"update group", api + "/groups?$top=999", "PATCH", api + "/groups/" + d.group, map[string]any{"description": "x"}, "description", "securityEnabled", `"true"`, "securityEnabled"},
			{"create application", api + "/applications?$top=999", "POST", api + "/applications", map[string]any{"displayName": "New"}, "displayName", "isFallbackPublicClient", `"no"`, "isFallbackPublicClient"},
			{"update application", api + "/applications?$top=999", "PATCH", api + "/applications/" + d.app, map[string]any{"displayName": "New"}, "displayName", "web", `{"redirectUris":"https://a.example/cb"}`, "web.redirectUris"},
			{"create user flow", flows + "?$top=999", "POST", flows, flowBody, "description", "displayName", `7`, "displayName"},
			{"update user flow", flows + "?$top=999", "PATCH", flows + "/" + d.flow, map[string]any{"description": "x"}, "description", "priority", `"500"`, "priority"},
			{"create role assignment", roles + "?$top=999", "POST", roles, map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": second}, "principalId", "principalId", `["` + second + `"]`, "principalId"},
			{"update branding", branding, "PATCH", branding, map[string]any{"gatehouse": map[string]any{"accentColor": "#000000"}}, "id", "gatehouse", `{"logoUrl":42}`, "gatehouse.logoUrl"},
		} {
			valid, _ := json.Marshal(res.body)
			for _, c := range []struct {
				problem, body, want string
			}{
				{"unknown property", withRaw(res.body, "favouriteColour", `"blue"`), "favouriteColour"},
				{"wrong type", withRaw(res.body, res.wrongType, res.wrongRaw), "'" + res.wrongName + "' has the wrong type"},
				{"malformed JSON", string(valid[:len(valid)-1]) + `,`, "not valid JSON"},
				{"truncated JSON", string(valid[:len(valid)/2]), "not valid JSON"},
				{"null body", `null`, "must be a JSON object"},
				{"array body", "[" + string(valid) + "]", "must be a JSON object"},
				{"string body", `"` + res.str + `"`, "must be a JSON object"},
				{"invalid UTF-8", withRaw(res.body, res.str, "\"a\xffb\""), "UTF-8"},
				{"lone surrogate", withRaw(res.body, res.str, `"a\ud800b"`), "surrogate"},
				{"escaped NUL", withRaw(res.body, res.str, `"a\u0000b"`), "NUL"},
			} {
				before := e.must(200, "GET", res.list, tok, nil).raw
				audits := e.countAll(api+"/auditLogs/directoryAudits", tok)
				r := e.call(res.method, res.url, tok, c.body)
				if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), c.want) {
					t.Errorf("%s, %s: status %d, message %q; want 400 naming %q", res.name, c.problem, r.status, r.errMessage(), c.want)
				}
				if after := e.must(200, "GET", res.list, tok, nil).raw; after != before {
					t.Errorf("%s, %s: the collection changed from\n%s\nto\n%s", res.name, c.problem, before, after)
				}
				if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
					t.Errorf("%s, %s: %d audit entries written", res.name, c.problem, n-audits)
				}
			}
			// The valid body is accepted: the refusals were the problems'.
			if r := e.call(res.method, res.url, tok, res.body); r.status >= 300 {
				t.Errorf("%s with the valid body: status %d, %s", res.name, r.status, r.raw)
			}
		}
	})
}
