package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestMe: Graph's /me and the directory roles of the signed-in user, for
// delegated tokens only.
func TestMe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		api := acme.AdminAPI
		id := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com"}).str("id")
		for _, role := range []string{gatehouse.RoleUserAdministrator, gatehouse.RoleSecurityAdministrator} {
			e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{"roleDefinitionId": role, "principalId": id, "directoryScopeId": "/"})
		}
		ada := e.delegatedToken(acme, id)
		if me := e.must(200, "GET", api+"/me", ada, nil); me.str("id") != id || me.str("mail") != "ada@example.com" {
			t.Errorf("/me = %s", me.raw)
		}
		roles := e.must(200, "GET", api+"/me/memberOf/microsoft.graph.directoryRole", ada, nil)
		for _, want := range []string{`"roleTemplateId":"` + gatehouse.RoleUserAdministrator + `"`, `"roleTemplateId":"` + gatehouse.RoleSecurityAdministrator + `"`, `"#microsoft.graph.directoryRole"`} {
			if !strings.Contains(roles.raw, want) {
				t.Errorf("roles lack %s: %s", want, roles.raw)
			}
		}
		if got := e.must(200, "GET", api+"/me/memberOf/microsoft.graph.directoryRole?$top=1", ada, nil); !strings.Contains(got.raw, "@odata.nextLink") {
			t.Errorf("a page of one of two roles has no next link: %s", got.raw)
		}
		// An application has no "me".
		if r := e.must(403, "GET", api+"/me", tok, nil); !strings.Contains(r.errMessage(), "signed-in user") {
			t.Errorf("/me as an app: %s", r.raw)
		}
		e.must(403, "GET", api+"/me/memberOf/microsoft.graph.directoryRole", tok, nil)
	})
}

// TestAdminPortalIsBuiltIn: every tenant has the admin portal, which
// cannot be deleted, lose its delegated permission or become confidential;
// its redirect URI is the one built from the public URL, and no other.
func TestAdminPortalIsBuiltIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		api := acme.AdminAPI
		list := e.must(200, "GET", api+"/applications?$filter="+url.QueryEscape("appId eq '"+gatehouse.AdminPortalAppID+"'"), tok, nil)
		apps, _ := list.body["value"].([]any)
		if len(apps) != 1 {
			t.Fatalf("portal apps: %s", list.raw)
		}
		id := apps[0].(map[string]any)["id"].(string)
		if r := e.must(403, "DELETE", api+"/applications/"+id, tok, nil); !strings.Contains(r.errMessage(), "cannot be deleted") {
			t.Errorf("delete: %s", r.raw)
		}
		e.must(400, "PATCH", api+"/applications/"+id, tok, map[string]any{"requiredResourceAccess": []any{}})
		e.must(400, "PATCH", api+"/applications/"+id, tok, map[string]any{"isFallbackPublicClient": false})
		e.must(204, "PATCH", api+"/applications/"+id, tok, map[string]any{"displayName": "Acme admin"})

		b := newBrowser(t, e.url+"/acme/portal/callback")
		authorize := func(redirect string) page {
			q := url.Values{"client_id": {gatehouse.AdminPortalAppID}, "response_type": {"code"}, "redirect_uri": {redirect},
				"scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSx2uVYQ"}, "code_challenge_method": {"S256"}}
			return b.get(e.url + "/acme/oauth2/v2.0/authorize?" + q.Encode())
		}
		if p := authorize(gatehouse.PortalRedirectURI(e.url, "acme")); p.status != 200 || !strings.Contains(p.url.Path, "/acme/login") {
			t.Errorf("the portal's redirect URI: %d at %s", p.status, p.url)
		}
		if p := authorize(gatehouse.PortalRedirectURI(e.url, "other")); p.status != 400 || !strings.Contains(p.body, "has not registered") {
			t.Errorf("another tenant's portal address: %d at %s", p.status, p.url)
		}
	})
}
