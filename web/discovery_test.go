package web_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestRFC8414AuthorizationServerMetadata: the OAuth 2.0 authorization
// server metadata of a tenant is served where RFC 8414 section 3.1 puts it
// for an issuer with a path (the well-known path before the issuer's
// path) and where OAuth clients also look (after it, as for OpenID
// Connect), and is the discovery document: the same issuer, the same
// endpoints. An unknown tenant is a 404.
func TestRFC8414AuthorizationServerMetadata(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		for _, path := range []string{"/.well-known/oauth-authorization-server/acme/v2.0", "/acme/v2.0/.well-known/oauth-authorization-server"} {
			got := o.getJSON(o.url + path)
			if diff := cmp.Diff(o.meta, got); diff != "" {
				t.Errorf("%s differs from the discovery document (-discovery +got):\n%s", path, diff)
			}
		}
		for _, path := range []string{"/.well-known/oauth-authorization-server/nosuch/v2.0", "/nosuch/v2.0/.well-known/oauth-authorization-server"} {
			if r := o.call("GET", o.url+path, "", nil); r.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, r.status)
			}
		}
		// Single-page apps may read it from any origin.
		req, _ := http.NewRequest("GET", o.url+"/.well-known/oauth-authorization-server/acme/v2.0", nil)
		req.Header.Set("Origin", "https://spa.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin %q, want *", got)
		}
	})
}

// TestDiscoveryAdvertisesWhatIsHonoured: every advertised scope is granted
// when asked for, and phone, which is not advertised, is not; every claim
// an ID token or userinfo carries with every scope is in claims_supported;
// every advertised prompt value is accepted, and consent, which is not
// advertised, is accepted too (OpenID Connect Core 11) and shows nothing.
func TestDiscoveryAdvertisesWhatIsHonoured(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		var scopes []string
		for _, sc := range o.meta["scopes_supported"].([]any) {
			if !strings.HasSuffix(sc.(string), "/.default") { // the admin API scope: TestDelegatedAdminAPI
				scopes = append(scopes, sc.(string))
			}
		}
		want := []string{"openid", "profile", "email", "address", "offline_access"}
		if diff := cmp.Diff(want, scopes); diff != "" {
			t.Errorf("scopes_supported (-want +got):\n%s", diff)
		}
		b := newBrowser(t, rpRedirect)
		_, tok, id := o.signIn(b, authz{scope: strings.Join(append(scopes, "phone"), " ")})
		if got, _ := tok.Extra("scope").(string); got != strings.Join(scopes, " ") {
			t.Errorf("granted scope %q, want every advertised scope and not phone: %q", got, strings.Join(scopes, " "))
		}
		claims := o.meta["claims_supported"].([]any)
		for where, c := range map[string]map[string]any{"ID token": id, "userinfo": o.userinfo(tok, "get")} {
			for name := range c {
				if !slices.Contains(claims, any(name)) {
					t.Errorf("the %s carries %s, which claims_supported %v lacks", where, name, claims)
				}
			}
		}
		prompts := o.meta["prompt_values_supported"].([]any)
		if slices.Contains(prompts, any("consent")) {
			t.Errorf("prompt_values_supported %v lists consent, but there is no consent step", prompts)
		}
		for _, p := range append(prompts, "consent") {
			s := o.authorize(b, authz{set: map[string]string{"prompt": p.(string)}})
			if s.callback == nil || s.callback.Has("error") {
				t.Errorf("prompt=%s with a session: %v (page %d); want a code", p, s.callback, s.last.status)
			}
			if s.login != (p == "login" || p == "select_account") {
				t.Errorf("prompt=%s: sign-in page shown %v", p, s.login)
			}
		}
	})
}

// TestOP7JWKSCacheLifetime: the JWK set's Cache-Control is the lifetime
// the keys' publish delay allows for (Keys.JWKSMaxAge).
func TestOP7JWKSCacheLifetime(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	e.createTenant("acme")
	r := e.must(200, "GET", e.url+"/acme/discovery/v2.0/keys", "", nil)
	want := "public, max-age=" + strconv.Itoa(int(e.keys.JWKSMaxAge().Seconds()))
	if got := r.header.Get("Cache-Control"); got != want || e.keys.JWKSMaxAge() <= 0 {
		t.Errorf("JWKS Cache-Control %q, want %q", got, want)
	}
}
