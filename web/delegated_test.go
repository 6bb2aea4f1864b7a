package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// directoryAccessAsUser is an application's requiredResourceAccess that
// grants the admin API's delegated permission.
var directoryAccessAsUser = []map[string]any{{
	"resourceAppId":  gatehouse.GraphResourceAppID,
	"resourceAccess": []map[string]any{{"id": gatehouse.DirectoryAccessAsUser.ID, "type": "Scope"}},
}}

// TestDelegatedAdminAPI: an administrator signs in interactively to an app
// granted Directory.AccessAsUser.All and calls the admin API with the
// access token, allowed exactly what their directory roles allow; the
// token stops counting when the sign-in ends or the permission is removed;
// and only those who may grant permissions may grant this one.
func TestDelegatedAdminAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		clk := &clock{}
		e := newEnv(t, eng.Open(t), newKey(t), func(o *web.Options) { o.Now = clk.Now })
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		api := acme.AdminAPI
		adminScope := gatehouse.AdminAPIScope(e.url, "acme")
		user := func(mail, role string) string {
			id := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": mail, "passwordProfile": map[string]any{"password": "correct horse battery"}}).str("id")
			if role != "" {
				e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{
					"roleDefinitionId": role, "principalId": id, "directoryScopeId": "/"})
			}
			return id
		}
		user("ua@example.com", gatehouse.RoleUserAdministrator)
		user("plain@example.com", "")
		appAdmin := user("appadmin@example.com", gatehouse.RoleApplicationAdministrator)

		// Granting the permission is a consent: an Application
		// Administrator may not, on create or on update, and nothing is
		// written.
		appsBefore := e.countAll(api+"/applications", tok)
		aaTok := e.delegatedToken(acme, appAdmin)
		appsBefore++ // delegatedToken registered its console app
		r := e.must(403, "POST", api+"/applications", aaTok, map[string]any{"displayName": "Sneaky", "requiredResourceAccess": directoryAccessAsUser})
		if !strings.Contains(r.errMessage(), "Directory.AccessAsUser.All") || !strings.Contains(r.errMessage(), "Global Administrator") {
			t.Errorf("Application Administrator granting the delegated permission: %s", r.raw)
		}
		plainApp := e.must(201, "POST", api+"/applications", aaTok, map[string]any{"displayName": "Plain"}).str("id")
		e.must(403, "PATCH", api+"/applications/"+plainApp, aaTok, map[string]any{"requiredResourceAccess": directoryAccessAsUser})
		if n := e.countAll(api+"/applications", tok); n != appsBefore+1 {
			t.Errorf("%d applications after the refused grants, want %d", n, appsBefore+1)
		}
		if got := e.must(200, "GET", api+"/applications/"+plainApp, tok, nil); !strings.Contains(got.raw, `"requiredResourceAccess":[]`) {
			t.Errorf("refused PATCH changed the app: %s", got.raw)
		}

		// What Gatehouse cannot honour is refused by name.
		for _, c := range []struct {
			rra   any
			field string
		}{
			{[]map[string]any{{"resourceAppId": "00000002-0000-0000-c000-000000000000", "resourceAccess": []any{}}}, "requiredResourceAccess[0].resourceAppId"},
			{[]map[string]any{{"resourceAppId": gatehouse.GraphResourceAppID, "resourceAccess": []map[string]any{{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}}}}, "requiredResourceAccess[0].resourceAccess[0].id"},
			{[]map[string]any{{"resourceAppId": gatehouse.GraphResourceAppID, "resourceAccess": []map[string]any{{"id": gatehouse.PermUserReadWriteAll.ID, "type": "Role"}}}}, "requiredResourceAccess[0].resourceAccess[0].type"},
			{[]map[string]any{{"resourceAppId": gatehouse.GraphResourceAppID, "resourceAccess": []map[string]any{{"id": gatehouse.DirectoryAccessAsUser.ID, "type": "scope"}}}}, "requiredResourceAccess[0].resourceAccess[0].type"},
			{[]map[string]any{{"resourceAppId": gatehouse.GraphResourceAppID, "resourceAccess": []map[string]any{{"id": gatehouse.DirectoryAccessAsUser.ID, "type": "Scope", "isEnabled": true}}}}, "isEnabled"},
		} {
			r := e.must(400, "PATCH", api+"/applications/"+plainApp, tok, map[string]any{"requiredResourceAccess": c.rra})
			if !strings.Contains(r.raw, c.field) {
				t.Errorf("requiredResourceAccess %v: %s; want the error to name %s", c.rra, r.raw, c.field)
			}
		}

		// A Global Administrator's automation client grants it.
		console := e.newRP("acme", tok, "Console", map[string]any{"requiredResourceAccess": directoryAccessAsUser})
		console.cfg.Scopes = []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess, adminScope}
		got := e.must(200, "GET", api+"/applications/"+console.appObjID, tok, nil)
		if rra, _ := got.body["requiredResourceAccess"].([]any); len(rra) != 1 || !strings.Contains(got.raw, gatehouse.DirectoryAccessAsUser.ID) {
			t.Errorf("requiredResourceAccess read back: %s", got.raw)
		}
		shop := e.newRP("acme", tok, "Shop", nil)
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, console.cfg.ClientID, shop.cfg.ClientID)

		// An app without the permission cannot ask for the admin API.
		shop.cfg.Scopes = append(shop.cfg.Scopes, adminScope)
		if res, _ := shop.authorize(newBrowser(t, rpRedirect), "", ""); res.err != "invalid_scope" {
			t.Errorf("admin API scope for an app without the permission: %+v, want invalid_scope", res)
		}

		signIn := func(p *rp, mail string) *oauth2.Token {
			t.Helper()
			res, _ := p.authorize(newBrowser(t, rpRedirect), mail, "correct horse battery")
			tk, err := p.cfg.Exchange(ctx, res.code)
			if err != nil {
				t.Fatalf("exchange for %s: %v (%+v)", mail, err, res)
			}
			return tk
		}

		// The User Administrator manages users but not applications.
		ua := signIn(console, "ua@example.com")
		if sc, _ := ua.Extra("scope").(string); !strings.Contains(sc, adminScope) {
			t.Errorf("token response scope %q lacks %s", sc, adminScope)
		}
		e.must(201, "POST", api+"/users", ua.AccessToken, map[string]any{"displayName": "Ada", "mail": "made-by-ua@example.com"})
		e.must(200, "GET", api+"/users", ua.AccessToken, nil)
		r = e.must(403, "POST", api+"/applications", ua.AccessToken, map[string]any{"displayName": "Nope"})
		if !strings.Contains(r.errMessage(), "Application Administrator") {
			t.Errorf("403 for the User Administrator does not say what would allow it: %s", r.raw)
		}
		if _, err := console.provider.UserInfo(ctx, oauth2.StaticTokenSource(ua)); err != nil {
			t.Errorf("userinfo with an admin API token: %v", err)
		}
		// A user without roles is refused; a token without the admin
		// scope is not for the admin API at all.
		e.must(403, "GET", api+"/users", signIn(console, "plain@example.com").AccessToken, nil)
		console.cfg.Scopes = []string{gooidc.ScopeOpenID}
		if r := e.call("GET", api+"/users", signIn(console, "ua@example.com").AccessToken, nil); r.status != http.StatusUnauthorized {
			t.Errorf("a token without the admin API scope on the admin API: status %d %s", r.status, r.raw)
		}
		console.cfg.Scopes = []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess, adminScope}

		// A refreshed token works; once the sign-in is revoked, none does.
		refreshed, err := console.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: ua.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		e.must(200, "GET", api+"/users", refreshed.AccessToken, nil)
		req, _ := http.NewRequest("POST", e.url+"/acme/oauth2/v2.0/revoke", strings.NewReader(url.Values{"token": {refreshed.RefreshToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(console.cfg.ClientID), url.QueryEscape(console.cfg.ClientSecret))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("revoke: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		for _, at := range []string{ua.AccessToken, refreshed.AccessToken} {
			if r := e.call("GET", api+"/users", at, nil); r.status != http.StatusUnauthorized || !strings.Contains(r.errMessage(), "revoked") {
				t.Errorf("admin API with the token of a revoked sign-in: status %d %s", r.status, r.raw)
			}
		}

		// Removing the permission stops live tokens at once, and refresh
		// gives tokens without the admin API.
		live := signIn(console, "ua@example.com")
		e.must(204, "PATCH", api+"/applications/"+console.appObjID, tok, map[string]any{"requiredResourceAccess": []any{}})
		if r := e.call("GET", api+"/users", live.AccessToken, nil); r.status != http.StatusUnauthorized || !strings.Contains(r.errMessage(), "Directory.AccessAsUser.All") {
			t.Errorf("admin API after the permission was removed: status %d %s", r.status, r.raw)
		}
		after, err := console.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: live.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh after the permission was removed: %v", err)
		}
		if sc, _ := after.Extra("scope").(string); strings.Contains(sc, adminScope) || !strings.Contains(sc, "openid") {
			t.Errorf("refreshed scope %q after the permission was removed", sc)
		}
		clk.Advance(2 * time.Second) // tokens carry whole seconds
		e.must(204, "PATCH", api+"/applications/"+console.appObjID, tok, map[string]any{"requiredResourceAccess": directoryAccessAsUser})
		if r := e.call("GET", api+"/users", after.AccessToken, nil); r.status != http.StatusUnauthorized {
			t.Errorf("a token issued without the admin API works there once the permission is back: status %d", r.status)
		}
		// Granting it again does not revive the tokens of before the
		// removal; new sign-ins get working ones.
		if r := e.call("GET", api+"/users", live.AccessToken, nil); r.status != http.StatusUnauthorized || !strings.Contains(r.errMessage(), "issued before") {
			t.Errorf("a token from before the removal, once the permission is back: status %d %s", r.status, r.raw)
		}
		e.must(200, "GET", api+"/users", signIn(console, "ua@example.com").AccessToken, nil)
	})
}
