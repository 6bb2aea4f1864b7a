package web_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestPrivilegedAppsNeedTheGranter: an app that holds admin API
// permissions (application permissions, or the delegated one) is as
// powerful as those permissions, so how it gets tokens — its client
// secrets, its redirect URIs and post-logout redirect URIs, whether it is
// a public client — is changed only by those who may grant permissions
// (or by the app itself), and only they may delete it. An Application
// Administrator can neither take the bootstrap client's permissions with
// a secret of their own, nor send an administrator's sign-in or sign-out
// to an address of their own, nor delete the bootstrap client; the app's
// other settings and apps without permissions stay theirs. Nothing
// refused is written.
func TestPrivilegedAppsNeedTheGranter(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		_, aa := e.roleHolder(acme, tok, "appadmin@example.com", gatehouse.RoleApplicationAdministrator)

		automation := e.must(200, "GET", api+"/applications?$filter=appId%20eq%20'"+acme.AutomationClient.ClientID+"'", tok, nil).body["value"].([]any)[0].(map[string]any)["id"].(string)
		console := e.must(201, "POST", api+"/applications", tok, map[string]any{"displayName": "Console",
			"web": map[string]any{"redirectUris": []string{"https://console.acme.example/cb"}}, "requiredResourceAccess": directoryAccessAsUser,
			"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://console.acme.example/"}}}).str("id")
		plain := e.must(201, "POST", api+"/applications", aa, map[string]any{"displayName": "Plain"}).str("id")
		keyID := e.must(200, "POST", api+"/applications/"+console+"/addPassword", tok, nil).str("keyId")
		before := map[string]string{}
		for _, id := range []string{automation, console} {
			before[id] = e.must(200, "GET", api+"/applications/"+id, tok, nil).raw
		}
		audits := e.countAll(api+"/auditLogs/directoryAudits", tok)

		for _, c := range []struct {
			name, method, path string
			body               any
			want               string
		}{
			{"a secret for the bootstrap client", "POST", "/applications/" + automation + "/addPassword", nil, "RoleManagement.ReadWrite.Directory"},
			{"a secret for the delegated console", "POST", "/applications/" + console + "/addPassword", nil, "Directory.AccessAsUser.All (delegated)"},
			{"removing the console's secret", "POST", "/applications/" + console + "/removePassword", map[string]any{"keyId": keyID}, "client secrets"},
			{"a redirect URI of the attacker's", "PATCH", "/applications/" + console, map[string]any{"web": map[string]any{"redirectUris": []string{"https://console.acme.example/cb", "https://evil.example/cb"}}}, "redirect URIs"},
			{"a single-page app redirect URI", "PATCH", "/applications/" + console, map[string]any{"spa": map[string]any{"redirectUris": []string{"https://evil.example/"}}}, "redirect URIs"},
			{"a public client", "PATCH", "/applications/" + console, map[string]any{"isFallbackPublicClient": true}, "public client"},
			{"a post-logout redirect URI of the attacker's (an open redirect through logout)", "PATCH", "/applications/" + console,
				map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://evil.example/"}}}, "post-logout redirect URIs"},
			{"clearing the post-logout redirect URIs", "PATCH", "/applications/" + console,
				map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": nil}}, "post-logout redirect URIs"},
			{"deleting the bootstrap client", "DELETE", "/applications/" + automation, nil, "delete"},
			{"deleting the delegated console", "DELETE", "/applications/" + console, nil, "Directory.AccessAsUser.All (delegated)"},
		} {
			r := e.must(403, c.method, api+c.path, aa, c.body)
			if m := r.errMessage(); !strings.Contains(m, c.want) || !strings.Contains(m, "Global Administrator") {
				t.Errorf("%s: message %q; want it to name %q and who may", c.name, m, c.want)
			}
		}
		for id, raw := range before {
			if got := e.must(200, "GET", api+"/applications/"+id, tok, nil).raw; got != raw {
				t.Errorf("a refused change wrote to %s:\nbefore %s\nafter  %s", id, raw, got)
			}
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
			t.Errorf("refused changes wrote %d audit entries", n-audits)
		}

		// What stays the Application Administrator's: the privileged app's
		// other settings, and everything of apps without permissions.
		e.must(204, "PATCH", api+"/applications/"+console, aa, map[string]any{"displayName": "Admin console", "gatehouse": map[string]any{"requirePkce": true}})
		e.must(200, "POST", api+"/applications/"+plain+"/addPassword", aa, nil)
		e.must(204, "PATCH", api+"/applications/"+plain, aa, map[string]any{"isFallbackPublicClient": true,
			"web":       map[string]any{"redirectUris": []string{"https://plain.acme.example/cb"}},
			"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://plain.acme.example/"}}})
		e.must(204, "DELETE", api+"/applications/"+plain, aa, nil)

		// The granter may; so may an app managing its own secrets.
		e.must(200, "POST", api+"/applications/"+console+"/addPassword", tok, nil)
		e.must(204, "PATCH", api+"/applications/"+console, tok, map[string]any{"web": map[string]any{"redirectUris": []string{"https://console2.acme.example/cb"}},
			"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"https://console2.acme.example/"}}})
		writer := e.clientToken(acme, tok, gatehouse.PermApplicationReadWriteAll)
		self := e.must(200, "GET", api+"/applications?$filter=displayName%20eq%20'Client%20with%201%20permissions'", tok, nil).body["value"].([]any)[0].(map[string]any)["id"].(string)
		e.must(200, "POST", api+"/applications/"+self+"/addPassword", writer, nil)
		e.must(403, "POST", api+"/applications/"+automation+"/addPassword", writer, nil)
		e.must(403, "DELETE", api+"/applications/"+automation, writer, nil)
		e.must(204, "DELETE", api+"/applications/"+console, tok, nil)
	})
}

// roleHolder creates a user who holds the directory role and returns its
// ID and a delegated admin API token on its behalf.
func (e *testEnv) roleHolder(res *provision.Result, tok, mail, role string) (id, delegated string) {
	e.t.Helper()
	id = e.must(201, "POST", res.AdminAPI+"/users", tok, map[string]any{"displayName": mail, "mail": mail}).str("id")
	e.must(201, "POST", res.AdminAPI+"/roleManagement/directory/roleAssignments", tok, map[string]any{
		"roleDefinitionId": role, "principalId": id, "directoryScopeId": "/"})
	return id, e.delegatedToken(res, id)
}
