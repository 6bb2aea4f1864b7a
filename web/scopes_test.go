package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

// TestScopesGrantedOrIgnored: scopes Gatehouse has nothing for are ignored
// (OpenID Connect Core 3.1.2.1) and left out of the granted scope, which
// the token response states; a scope of a resource on this server that is
// not the tenant's admin API scope, such as another admin API permission
// or another tenant's admin API, is refused by name; so is the admin API
// scope for an app without its delegated permission, and a request
// without openid. A refresh cannot add an ignored scope back.
func TestScopesGrantedOrIgnored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		admin := gatehouse.AdminAPIScope(o.url, "acme")
		for _, c := range []struct {
			scope, granted string
		}{
			{"openid phone", "openid"},
			{"openid User.Read wizardry profile", "openid profile"},
			{"openid https://graph.microsoft.com/.default email email", "openid email"},
			{"address openid address", "address openid"},
			{"openid offline_access phone", "openid offline_access"},
		} {
			_, tok, _ := o.signIn(newBrowser(t, rpRedirect), authz{scope: c.scope})
			if got, _ := tok.Extra("scope").(string); got != c.granted {
				t.Errorf("scope %q: granted %q, want %q", c.scope, got, c.granted)
			}
		}
		for _, c := range []struct {
			scope, says string
		}{
			{"profile email", "must include openid"},
			{"openid " + admin, "delegated permission"},
			{"openid " + gatehouse.AdminAPIURL(o.url, "acme") + "/User.Read", "request the admin API as " + admin},
			{"openid " + gatehouse.AdminAPIURL(o.url, "acme"), "request the admin API as " + admin},
			{"openid " + gatehouse.AdminAPIScope(o.url, "other"), "is not a scope of this tenant"},
			{"openid " + strings.ToUpper(o.url) + "/acme/graph/v1.0/.default", "is not a scope of this tenant"},
		} {
			s := o.authorize(newBrowser(t, rpRedirect), authz{scope: c.scope})
			o.expectError(s, "invalid_scope")
			if d := s.callback.Get("error_description"); !strings.Contains(d, c.says) {
				t.Errorf("scope %q: %q, want it to say %q", c.scope, d, c.says)
			}
		}

		_, tok, _ := o.signIn(newBrowser(t, rpRedirect), authz{scope: "openid phone offline_access"})
		status, body, _ := postForm(t, o.app.cfg.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"scope": {"openid phone"}}, o.app.cfg.ClientID, o.app.cfg.ClientSecret)
		if status != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Errorf("a refresh asking for the ignored phone scope: status %d %v, want invalid_scope", status, body)
		}
	})
}

// TestAS1LoopbackPortOnlyForNativeApps: the port of an http loopback
// redirect URI may differ from the registered one only for the public
// client (mobile and desktop) platform (RFC 8252 section 7.3), for public
// and confidential apps alike; web and single-page app redirect URIs match
// exactly, port included, so no redirect at all goes to another port.
func TestAS1LoopbackPortOnlyForNativeApps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		api := o.tenant.AdminAPI
		native := o.must(201, "POST", api+"/applications", o.tok, map[string]any{"displayName": "Desktop", "isFallbackPublicClient": true,
			"publicClient": map[string]any{"redirectUris": []string{"http://127.0.0.1/callback", "http://[::1]:8400/cb", "http://localhost:8400/cb"}},
			"spa":          map[string]any{"redirectUris": []string{"http://localhost:5173/"}}}).str("appId")
		web := o.must(201, "POST", api+"/applications", o.tok, map[string]any{"displayName": "Dev web app",
			"web": map[string]any{"redirectUris": []string{"http://127.0.0.1:18210/cb", "http://localhost:3000/callback"}}}).str("appId")
		verifier := oauth2.GenerateVerifier()
		for _, c := range []struct {
			client, uri string
			ok          bool
		}{
			{native, "http://127.0.0.1/callback", true},
			{native, "http://127.0.0.1:51234/callback", true},
			{native, "http://[::1]:8400/cb", true},
			{native, "http://[::1]:1/cb", true},
			{native, "http://localhost:49152/cb", true},
			{native, "http://127.0.0.1:51234/other", false},
			{native, "http://127.0.0.1:51234/callback?x=1", false},
			{native, "http://localhost:51234/callback", false}, // another host than registered
			{native, "https://127.0.0.1:51234/callback", false},
			{native, "http://localhost:5173/", true},
			{native, "http://localhost:5174/", false}, // single-page app platform
			{web, "http://127.0.0.1:18210/cb", true},
			{web, "http://127.0.0.1:18299/cb", false},
			{web, "http://localhost:3000/callback", true},
			{web, "http://localhost:3001/callback", false},
		} {
			b := newBrowser(t)
			b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			pg := b.get(o.meta["authorization_endpoint"].(string) + "?" + url.Values{"client_id": {c.client}, "redirect_uri": {c.uri},
				"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "prompt": {"none"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}.Encode())
			redirected := strings.HasPrefix(pg.location, c.uri)
			if redirected != c.ok || !c.ok && (pg.status != http.StatusBadRequest || pg.location != "") {
				t.Errorf("redirect_uri %s: status %d location %q; want a redirect there: %v", c.uri, pg.status, pg.location, c.ok)
			}
		}
	})
}
