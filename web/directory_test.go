package web_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// adminUserID finds the tenant's bootstrap administrator.
func (e *testEnv) adminUserID(api, tok, mail string) string {
	e.t.Helper()
	r := e.must(200, "GET", api+"/users?$filter=mail%20eq%20'"+mail+"'", tok, nil)
	vals := r.body["value"].([]any)
	if len(vals) != 1 {
		e.t.Fatalf("admin %s not found: %s", mail, r.raw)
	}
	return vals[0].(map[string]any)["id"].(string)
}

func TestPrivilegeGuards(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	api := acme.AdminAPI
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	adminID := e.adminUserID(api, tok, acme.Admin.Email)

	// The last Global Administrator can be neither removed nor disabled.
	ras := e.must(200, "GET", api+"/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'"+adminID+"'", tok, nil)
	gaAssignment := ras.body["value"].([]any)[0].(map[string]any)["id"].(string)
	if r := e.must(409, "DELETE", api+"/roleManagement/directory/roleAssignments/"+gaAssignment, tok, nil); !strings.Contains(r.errMessage(), "Global Administrator") {
		t.Errorf("last GA removal message: %q", r.errMessage())
	}
	e.must(409, "PATCH", api+"/users/"+adminID, tok, map[string]any{"accountEnabled": false})
	e.must(409, "DELETE", api+"/users/"+adminID, tok, nil)

	// With a second Global Administrator, the first can go.
	second := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "second@acme.example"}).str("id")
	e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{"roleDefinitionId": gatehouse.RoleGlobalAdministrator, "principalId": second})
	e.must(204, "DELETE", api+"/roleManagement/directory/roleAssignments/"+gaAssignment, tok, nil)

	// A User Administrator cannot change or delete an administrator.
	ua := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ua@acme.example"}).str("id")
	e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": ua})
	uaTok := e.delegatedToken(acme, ua)
	e.must(403, "PATCH", api+"/users/"+second, uaTok, map[string]any{"passwordProfile": map[string]any{"password": "a brand new password"}})
	e.must(403, "DELETE", api+"/users/"+second, uaTok, nil)
	e.must(403, "POST", api+"/roleManagement/directory/roleAssignments", uaTok, map[string]any{"roleDefinitionId": gatehouse.RoleGlobalAdministrator, "principalId": ua})
	plain := e.must(201, "POST", api+"/users", uaTok, map[string]any{"displayName": "Ada", "mail": "plain@acme.example"}).str("id")
	e.must(204, "PATCH", api+"/users/"+plain, uaTok, map[string]any{"jobTitle": "Buyer"})

	// A disabled administrator's token stops working at once.
	e.must(204, "PATCH", api+"/users/"+ua, tok, map[string]any{"accountEnabled": false})
	e.must(401, "GET", api+"/users", uaTok, nil)

	// Bad references name the field.
	for _, c := range []struct {
		path string
		body map[string]any
		want string
	}{
		{"/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": "nope", "principalId": plain}, "roleDefinitionId"},
		{"/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": "nobody"}, "principalId"},
		{"/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": plain, "directoryScopeId": "/administrativeUnits/x"}, "directoryScopeId"},
		{"/groups", map[string]any{"displayName": "g", "groupTypes": []string{"Unified"}}, "groupTypes"},
		{"/groups", map[string]any{"description": "no name"}, "displayName"},
		{"/applications", map[string]any{"displayName": "a", "web": map[string]any{"redirectUris": []string{"http://shop.example.com/cb"}}}, "https"},
		{"/applications", map[string]any{"displayName": "a", "spa": map[string]any{"redirectUris": []string{"https://*.example.com/cb"}}}, "wildcard"},
		{"/applications", map[string]any{"displayName": "a", "web": map[string]any{"redirectUris": []string{"https://x.example.com/cb#frag"}}}, "fragment"},
		{"/applications", map[string]any{"displayName": "a", "web": map[string]any{"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": true}}}, "implicit"},
		{"/applications", map[string]any{"displayName": "a", "passwordCredentials": []any{}}, "addPassword"},
	} {
		r := e.call("POST", api+c.path, tok, c.body)
		if r.status != 400 || !strings.Contains(r.errMessage(), c.want) {
			t.Errorf("POST %s %v: status %d message %q; want 400 mentioning %q", c.path, c.body, r.status, r.errMessage(), c.want)
		}
	}
	app := e.must(201, "POST", api+"/applications", tok, map[string]any{"displayName": "Grants"}).str("id")
	if r := e.call("POST", api+"/applications/"+app+"/appRoleAssignments", tok, map[string]any{"appRoleId": "00000000-0000-0000-0000-000000000000"}); r.status != 400 || !strings.Contains(r.errMessage(), "User.ReadWrite.All") {
		t.Errorf("unknown appRoleId: %d %q", r.status, r.errMessage())
	}
	grant := e.must(201, "POST", api+"/applications/"+app+"/appRoleAssignments", tok, map[string]any{"appRoleId": gatehouse.PermGroupReadAll.ID})
	e.must(409, "POST", api+"/applications/"+app+"/appRoleAssignments", tok, map[string]any{"appRoleId": gatehouse.PermGroupReadAll.ID})
	e.must(204, "DELETE", api+"/applications/"+app+"/appRoleAssignments/"+grant.str("id"), tok, nil)
	if r := e.must(200, "GET", api+"/applications/"+app+"/appRoleAssignments", tok, nil); len(r.body["value"].([]any)) != 0 {
		t.Errorf("grant not removed: %s", r.raw)
	}

	// Secrets: removePassword stops a secret from working.
	sec := e.must(200, "POST", api+"/applications/"+app+"/addPassword", tok, nil)
	appID := e.must(200, "GET", api+"/applications/"+app, tok, nil).str("appId")
	e.token(e.url+"/acme/oauth2/v2.0/token", appID, sec.str("secretText"), acme.AutomationClient.Scope)
	e.must(404, "POST", api+"/applications/"+app+"/removePassword", tok, map[string]any{"keyId": "nope"})
	e.must(204, "POST", api+"/applications/"+app+"/removePassword", tok, map[string]any{"keyId": sec.str("keyId")})
	status, _, _ := postForm(t, e.url+"/acme/oauth2/v2.0/token", ccForm(acme.AutomationClient.Scope), appID, sec.str("secretText"))
	if status != 401 {
		t.Errorf("token with a removed secret: status %d, want 401", status)
	}

	// An update is audited with the properties before and after.
	e.must(204, "PATCH", api+"/users/"+plain, tok, map[string]any{"jobTitle": "Head buyer", "city": nil})
	r := e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=targetResources/any(t:t/id%20eq%20'"+plain+"')", tok, nil)
	var found bool
	for _, v := range r.body["value"].([]any) {
		entry := v.(map[string]any)
		if entry["activityDisplayName"] != "Update user" {
			continue
		}
		for _, mp := range entry["targetResources"].([]any)[0].(map[string]any)["modifiedProperties"].([]any) {
			m := mp.(map[string]any)
			if m["displayName"] == "jobTitle" && m["oldValue"] == `"Buyer"` && m["newValue"] == `"Head buyer"` {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no audit entry with jobTitle \"Buyer\" -> \"Head buyer\": %s", r.raw)
	}
}

func ccForm(scope string) map[string][]string {
	return map[string][]string{"grant_type": {"client_credentials"}, "scope": {scope}}
}
