package web_test

// Modules of the OpenID Foundation's other OP plans that Gatehouse's
// clients can run: from the Dynamic OP plan those that need no dynamic
// registration, and the RP-Initiated Logout plan's main modules.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// webServer returns another server over e's store and keys, reached at
// publicURL, to be called in process.
func webServer(e *testEnv, publicURL string) (http.Handler, error) {
	return web.NewServer(web.Options{Store: e.store, Keys: e.keys, Vault: e.vault, Passwords: e.hasher, PublicURL: publicURL, Version: "test", DBStats: e.store.PoolStats})
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// TestOIDCC_ServerRotateKeys (oidcc-server-rotate-keys): after a rotation
// (what gatehouse tenant rotate-keys does) the JWK set has new keys
// (VerifyNewJwksHasNewSigningKey) and still the old ones
// (VerifyNewJwksStillHasOldSigningKey), each valid and with its own kid.
func TestOIDCC_ServerRotateKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		before := o.jwks
		if err := o.keys.Rotate(context.Background(), o.tenant.TenantID); err != nil {
			t.Fatal(err)
		}
		after := o.fetchJWKS()
		var added int
		for _, k := range after.Keys {
			if len(before.Key(k.KeyID)) == 0 {
				added++
			}
		}
		if added != 2 {
			t.Errorf("the JWK set after the rotation has %d new keys, want 2 (RS256 and ES256)", added)
		}
		for _, k := range before.Keys {
			if len(after.Key(k.KeyID)) != 1 {
				t.Errorf("the old key %s left the JWK set at the rotation", k.KeyID)
			}
		}
	})
}

// TestOIDCC_IDTokenRS256 (oidcc-idtoken-rs256): an app that asks for
// RS256 gets RS256 ID tokens with a kid; one that asks for ES256 gets
// ES256, also advertised.
func TestOIDCC_IDTokenRS256(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		for _, alg := range []string{"RS256", "ES256"} {
			o.must(204, "PATCH", o.tenant.AdminAPI+"/applications/"+o.app.appObjID, o.tok, map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": alg}})
			s := o.authorize(newBrowser(t, rpRedirect), authz{})
			o.idToken(s, o.exchange(s, o.expectCode(s), oauth2.AuthStyleInHeader), alg)
			if !slices.Contains(o.meta["id_token_signing_alg_values_supported"].([]any), any(alg)) {
				t.Errorf("%s is not in id_token_signing_alg_values_supported", alg)
			}
		}
	})
}

// TestOIDCC_EnsureRedirectURIInAuthorizationRequest
// (oidcc-ensure-redirect-uri-in-authorization-request): an app with two
// redirect URIs that sends none gets an error page, not a redirect.
func TestOIDCC_EnsureRedirectURIInAuthorizationRequest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		o.must(204, "PATCH", o.tenant.AdminAPI+"/applications/"+o.app.appObjID, o.tok, map[string]any{"web": map[string]any{"redirectUris": []string{rpRedirect, "http://127.0.0.1:9/other"}}})
		b := newBrowser(t)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		o.expectErrorPage(o.authorize(b, authz{drop: []string{"redirect_uri"}}), "no redirect_uri")
	})
}

// logoutModule signs in, registers the post-logout redirect URI, and
// returns the browser and the ID token.
func logoutModule(t *testing.T, o *op) (*browser, string) {
	const postLogout = "http://127.0.0.1:9/post_logout_redirect"
	o.must(204, "PATCH", o.tenant.AdminAPI+"/applications/"+o.app.appObjID, o.tok, map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": []string{postLogout}}})
	b := newBrowser(t, rpRedirect, postLogout)
	_, tok, _ := o.signIn(b, authz{})
	hint, _ := tok.Extra("id_token").(string)
	return b, hint
}

// TestOIDCC_RPInitiatedLogout (oidcc-rp-initiated-logout): the
// end_session_endpoint with id_token_hint, post_logout_redirect_uri and
// state sends the browser back with the state and nothing else
// (CheckPostLogoutState, CheckForUnexpectedParametersInPostLogoutRedirect),
// and the next prompt=none gets an error: the user is signed out.
func TestOIDCC_RPInitiatedLogout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b, hint := logoutModule(t, o)
		pg := b.get(o.meta["end_session_endpoint"].(string) + "?" + url.Values{"id_token_hint": {hint},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/post_logout_redirect"}, "state": {"bye-123"}}.Encode())
		if pg.location != "http://127.0.0.1:9/post_logout_redirect?state=bye-123" {
			t.Errorf("after logout: status %d location %q, want the post-logout redirect URI with only the state", pg.status, pg.location)
		}
		o.expectError(o.authorize(b, authz{set: map[string]string{"prompt": "none"}}), "login_required")
	})
}

// TestOIDCC_RPInitiatedLogoutRefused: an unregistered
// post_logout_redirect_uri (oidcc-rp-initiated-logout-bad-logout-redirect-uri),
// an id_token_hint changed to alg none
// (oidcc-rp-initiated-logout-modified-id-token-hint), and a
// post_logout_redirect_uri without id_token_hint or client_id
// (oidcc-rp-initiated-logout-no-id-token-hint) get an error page and no
// redirect, and the user stays signed in.
func TestOIDCC_RPInitiatedLogoutRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b, hint := logoutModule(t, o)
		parts := strings.Split(hint, ".")
		modified := "eyJhbGciOiJub25lIn0." + parts[1] + "."
		for name, q := range map[string]url.Values{
			"bad-logout-redirect-uri": {"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/elsewhere"}, "state": {"s"}},
			"modified-id-token-hint":  {"id_token_hint": {modified}, "post_logout_redirect_uri": {"http://127.0.0.1:9/post_logout_redirect"}, "state": {"s"}},
			"no-id-token-hint":        {"post_logout_redirect_uri": {"http://127.0.0.1:9/post_logout_redirect"}, "state": {"s"}},
		} {
			pg := noFollow(b).get(o.meta["end_session_endpoint"].(string) + "?" + q.Encode())
			if pg.status != http.StatusBadRequest || pg.location != "" {
				t.Errorf("oidcc-rp-initiated-logout-%s: status %d location %q, want an error page", name, pg.status, pg.location)
			}
		}
		o.expectCode(o.authorize(b, authz{set: map[string]string{"prompt": "none"}}))
	})
}
