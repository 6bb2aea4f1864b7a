package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

// TestOP3MaxAge checks max_age on a clock that moves only when told:
// max_age=0 re-authenticates even at the instant of the last sign-in (it
// is prompt=login, OIDC Core errata), and max_age=5 accepts a session
// signed in 4 seconds ago but not one signed in 6 seconds ago.
func TestOP3MaxAge(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		if _, shown := h.app.authorize(b, "ada@example.com", "correct horse battery"); !shown {
			t.Fatalf("the first sign-in showed no sign-in page")
		}
		maxAge := func(v string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("max_age", v) }

		if res, shown := h.app.authorize(b, "ada@example.com", "correct horse battery", maxAge("0")); !shown || res.code == "" {
			t.Errorf("max_age=0 with a session of this very instant: %+v, sign-in page shown %v; want the sign-in page", res, shown)
		}
		// That sign-in started a new session at the same instant.
		h.clk.Advance(4 * time.Second)
		if res, shown := h.app.authorize(b, "ada@example.com", "", maxAge("5")); shown || res.code == "" {
			t.Errorf("max_age=5, signed in 4 s ago: %+v, sign-in page shown %v; want a code at once", res, shown)
		}
		h.clk.Advance(2 * time.Second)
		if res, _ := h.app.authorize(b, "", "", maxAge("5"), oauth2.SetAuthURLParam("prompt", "none")); res.err != "login_required" {
			t.Errorf("max_age=5 and prompt=none, signed in 6 s ago: %+v, want login_required", res)
		}
		if res, _ := h.app.authorize(b, "", "", maxAge("0"), oauth2.SetAuthURLParam("prompt", "none")); res.err != "login_required" {
			t.Errorf("max_age=0 and prompt=none: %+v, want login_required", res)
		}
		if res, shown := h.app.authorize(b, "ada@example.com", "correct horse battery", maxAge("5")); !shown || res.code == "" {
			t.Errorf("max_age=5, signed in 6 s ago: %+v, sign-in page shown %v; want the sign-in page", res, shown)
		}
	})
}

// TestAuthorizeParameterChecks: length limits come before every other
// check, and an oversized state is never reflected, not even in the error
// that refuses it; max_age is digits only, and a value too large for any
// integer type is capped (every live session is younger), not an error.
func TestAuthorizeParameterChecks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		strict := h.newRP("acme", h.tok, "Strict", map[string]any{"gatehouse": map[string]any{"requirePkce": true}})
		back := func(p *rp, opts ...oauth2.AuthCodeOption) url.Values {
			t.Helper()
			pg := newBrowser(t, rpRedirect).get(p.cfg.AuthCodeURL("s", opts...))
			if !strings.HasPrefix(pg.location, rpRedirect) {
				t.Fatalf("no redirect to the app: status %d location %q", pg.status, pg.location)
			}
			if len(pg.location) > 4096 {
				t.Errorf("the error redirect is %d bytes long", len(pg.location))
			}
			u, _ := url.Parse(pg.location)
			return u.Query()
		}
		param := oauth2.SetAuthURLParam

		// Without PKCE the strict app's request fails, but an oversized
		// state is reported first, and not sent back.
		q := back(strict, param("state", strings.Repeat("s", 2049)))
		if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "state") || q.Has("state") {
			t.Errorf("2049-byte state without PKCE: %v; want invalid_request about the state, without it", q)
		}
		q = back(strict, param("state", strings.Repeat("s", 2048)))
		if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "PKCE") || len(q.Get("state")) != 2048 {
			t.Errorf("2048-byte state without PKCE: error %q %q, state of %d bytes; want the PKCE error with the state",
				q.Get("error"), q.Get("error_description"), len(q.Get("state")))
		}
		for name, opts := range map[string][]oauth2.AuthCodeOption{
			"scope":         {param("scope", "openid "+strings.Repeat("x", 3000))},
			"nonce":         {param("nonce", strings.Repeat("n", 513)), param("response_type", "token")},
			"response_type": {param("response_type", strings.Repeat("t", 65))},
			"prompt":        {param("prompt", strings.Repeat("p", 129))},
		} {
			if q := back(h.app, opts...); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "The "+name+" parameter is longer than") {
				t.Errorf("oversized %s: %v, want invalid_request about its length", name, q)
			}
		}

		for _, v := range []string{"-1", "+5", "1.5", "5s", " 5", "0x10", "soon"} {
			if q := back(h.app, param("max_age", v)); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "whole number of seconds") {
				t.Errorf("max_age=%q: %v, want invalid_request", v, q)
			}
		}
		b := newBrowser(t, rpRedirect)
		if _, shown := h.app.authorize(b, "ada@example.com", "correct horse battery", param("max_age", "99999999999999999999999")); !shown {
			t.Errorf("max_age beyond uint64 without a session: no sign-in page")
		}
		h.clk.Advance(time.Hour)
		// 9.3e9 s fits an int64 but not as a time.Duration.
		for _, v := range []string{"9300000000", "99999999999999999999999", "604800"} {
			if res, shown := h.app.authorize(b, "", "", param("max_age", v), param("prompt", "none")); shown || res.code == "" {
				t.Errorf("max_age=%s with an hour-old session: %+v, want a code", v, res)
			}
		}
	})
}

// TestOP2PromptValues: prompt=select_account shows the sign-in page
// despite a session, where the user may sign in with another account;
// prompt=consent is satisfied by the administrator's consent and shows
// nothing; prompt=none cannot be combined with another value.
func TestOP2PromptValues(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		bob := h.addUser("bob@example.com", "correct horse battery")
		prompt := func(v string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("prompt", v) }
		sub := func(res authResult) string {
			t.Helper()
			tok, err := h.app.cfg.Exchange(ctx, res.code)
			if err != nil {
				t.Fatalf("exchange: %v (%+v)", err, res)
			}
			s, _ := h.app.verifyID(tok)["sub"].(string)
			return s
		}
		b := newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery"); sub(res) != ada {
			t.Fatalf("the first sign-in is not Ada's")
		}

		// prompt=consent: no page, and the session's user.
		if res, shown := h.app.authorize(b, "", "", prompt("consent")); shown || sub(res) != ada {
			t.Errorf("prompt=consent with a session: sign-in page shown %v; want Ada's code at once", shown)
		}
		// prompt=select_account: the sign-in page, offering the session's
		// account, where Bob signs in instead; his session replaces Ada's.
		pg := b.get(h.app.cfg.AuthCodeURL("st", prompt("select_account")))
		if pg.status != 200 || pg.location != "" || input(t, pg, "email")["value"] != "ada@example.com" {
			t.Fatalf("prompt=select_account with a session: status %d location %q; want the sign-in page offering ada@example.com", pg.status, pg.location)
		}
		res := h.signedInAs(b, pg, "bob@example.com")
		if got := sub(res); got != bob {
			t.Errorf("signed in with another account after select_account: sub %s, want Bob's %s", got, bob)
		}
		if res, shown := h.app.authorize(b, "", "", prompt("none")); shown || sub(res) != bob {
			t.Errorf("prompt=none after choosing Bob: %+v; want Bob's code", res)
		}
		if _, shown := h.app.authorize(b, "bob@example.com", "correct horse battery", prompt("consent select_account")); !shown {
			t.Errorf("prompt=consent select_account: no sign-in page")
		}
		for _, v := range []string{"none select_account", "none consent", "none login"} {
			if res, _ := h.app.authorize(b, "", "", prompt(v)); res.err != "invalid_request" {
				t.Errorf("prompt=%s: %+v, want invalid_request", v, res)
			}
		}
	})
}

// signedInAs submits the sign-in page pg with the address (and the test
// password) and returns what came back to the app.
func (h *hostedEnv) signedInAs(b *browser, pg page, mail string) authResult {
	h.t.Helper()
	r := h.step(b, pg, map[string]string{"email": mail, "password": "correct horse battery"})
	if !strings.HasPrefix(r.location, rpRedirect) {
		h.t.Fatalf("not back at the app: status %d location %q body %.300s", r.status, r.location, text(r.body))
	}
	u, _ := url.Parse(r.location)
	q := u.Query()
	return authResult{code: q.Get("code"), state: q.Get("state"), iss: q.Get("iss"), err: q.Get("error")}
}

// TestAS3VerifierWithoutChallenge: a code_verifier sent for a code whose
// authorization request had no code_challenge is refused.
func TestAS3VerifierWithoutChallenge(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery")
		if _, err := h.app.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("a code_verifier without a code_challenge: %v, want invalid_grant", err)
		}
		// The same exchange without the verifier works.
		res, _ = h.app.authorize(b, "", "")
		if _, err := h.app.cfg.Exchange(ctx, res.code); err != nil {
			t.Errorf("exchange without PKCE: %v", err)
		}
	})
}

// TestPublicClients: a public client (isFallbackPublicClient) must use
// PKCE, authenticates at the token endpoint by its client_id alone, and
// cannot use the client credentials grant; a confidential client cannot
// pass for a public one.
func TestPublicClients(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		api := h.tenant.AdminAPI
		appID := h.must(201, "POST", api+"/applications", h.tok, map[string]any{"displayName": "Mobile", "isFallbackPublicClient": true,
			"publicClient": map[string]any{"redirectUris": []string{rpRedirect}}}).str("appId")
		err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, h.tenant.TenantID, h.flow.ID, func(f *gatehouse.UserFlow) error {
				f.AppIDs = append(f.AppIDs, appID)
				return nil
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		mobile := &rp{t: t, e: h.testEnv, provider: h.app.provider, cfg: oauth2.Config{ClientID: appID, Endpoint: h.app.cfg.Endpoint,
			RedirectURL: rpRedirect, Scopes: h.app.cfg.Scopes}}
		mobile.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		tokenURL := mobile.cfg.Endpoint.TokenURL

		if res, _ := mobile.authorize(newBrowser(t, rpRedirect), "", ""); res.err != "invalid_request" {
			t.Errorf("a public client without PKCE: %+v, want invalid_request", res)
		}
		verifier := oauth2.GenerateVerifier()
		res, _ := mobile.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", oauth2.S256ChallengeOption(verifier))
		tok, err := mobile.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("a public client's exchange with client_id and PKCE: %v", err)
		}
		if c := mobile.verifyID(tok); c["aud"] != appID || c["email"] != "ada@example.com" {
			t.Errorf("ID token of the public client: %v", c)
		}
		if _, err := mobile.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Errorf("a public client's refresh with client_id: %v", err)
		}

		// No client credentials for a public client, without a secret or
		// with one.
		cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "scope": {h.tenant.AutomationClient.Scope}}
		if status, body, _ := postForm(t, tokenURL, cc, "", ""); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("client credentials for a public client by client_id: status %d %v, want 401 invalid_client", status, body)
		}
		objID := h.must(200, "GET", api+"/applications?$filter=appId%20eq%20'"+appID+"'", h.tok, nil).body["value"].([]any)[0].(map[string]any)["id"].(string)
		secret := h.must(200, "POST", api+"/applications/"+objID+"/addPassword", h.tok, nil).str("secretText")
		if status, body, _ := postForm(t, tokenURL, cc, appID, secret); status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
			t.Errorf("client credentials for a public client with a secret: status %d %v, want 400 unauthorized_client", status, body)
		}

		// A confidential client's code cannot be redeemed by client_id.
		confidential := h.app.cfg
		confidential.ClientSecret = ""
		confidential.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		res, _ = h.app.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", oauth2.S256ChallengeOption(verifier))
		if _, err := confidential.Exchange(ctx, res.code, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("a confidential client's exchange without its secret: %v, want invalid_client", err)
		}
	})
}

// TestAS5CodeLifetime: an authorization code is good for a minute.
func TestAS5CodeLifetime(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery")
		h.clk.Advance(59 * time.Second)
		if _, err := h.app.cfg.Exchange(ctx, res.code); err != nil {
			t.Errorf("a code redeemed 59 s after it was issued: %v", err)
		}
		res, _ = h.app.authorize(b, "", "")
		h.clk.Advance(61 * time.Second)
		if _, err := h.app.cfg.Exchange(ctx, res.code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("a code redeemed 61 s after it was issued: %v, want invalid_grant", err)
		}
	})
}

// TestOP2InteractionRequired: prompt=none for an app without a user flow
// gets interaction_required (no sign-in could ever succeed without a
// page); without prompt=none the user sees a page, not a redirect.
func TestOP2InteractionRequired(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		orphan := h.newRP("acme", h.tok, "Orphan", nil)
		b := newBrowser(t, rpRedirect)
		h.app.authorize(b, "ada@example.com", "correct horse battery") // a session does not help
		if res, _ := orphan.authorize(b, "", "", promptNone); res.err != "interaction_required" || res.state == "" || res.iss != h.tenant.Issuer {
			t.Errorf("prompt=none for an app without a user flow: %+v, want interaction_required with state and iss", res)
		}
		if pg := b.get(orphan.cfg.AuthCodeURL("s")); pg.status != http.StatusBadRequest || pg.location != "" || !strings.Contains(text(pg.body), "user flow") {
			t.Errorf("an app without a user flow: status %d location %q; want a page about the user flow", pg.status, pg.location)
		}
	})
}

// TestTK2IDTokenIsNoAccessToken: the ID token of a real sign-in, whose
// access token the admin API and userinfo accept, is refused by both.
func TestTK2IDTokenIsNoAccessToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		id := e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ua@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}}).str("id")
		e.must(201, "POST", acme.AdminAPI+"/roleManagement/directory/roleAssignments", tok, map[string]any{
			"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": id, "directoryScopeId": "/"})
		console := e.newRP("acme", tok, "Console", map[string]any{"requiredResourceAccess": directoryAccessAsUser})
		console.cfg.Scopes = []string{"openid", "profile", gatehouse.AdminAPIScope(e.url, "acme")}
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, console.cfg.ClientID)
		res, _ := console.authorize(newBrowser(t, rpRedirect), "ua@example.com", "correct horse battery")
		tk, err := console.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatal(err)
		}
		idToken, _ := tk.Extra("id_token").(string)
		console.verifyID(tk)

		userinfo := func(bearer string) int {
			req, _ := http.NewRequest("GET", e.url+"/acme/oidc/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+bearer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := e.call("GET", acme.AdminAPI+"/users", tk.AccessToken, nil).status; got != http.StatusOK {
			t.Fatalf("the access token on the admin API: status %d, want 200", got)
		}
		if got := userinfo(tk.AccessToken); got != http.StatusOK {
			t.Fatalf("the access token on userinfo: status %d, want 200", got)
		}
		if r := e.call("GET", acme.AdminAPI+"/users", idToken, nil); r.status != http.StatusUnauthorized {
			t.Errorf("the ID token on the admin API: status %d, want 401; %s", r.status, r.raw)
		}
		if got := userinfo(idToken); got != http.StatusUnauthorized {
			t.Errorf("the ID token on userinfo: status %d, want 401", got)
		}
	})
}
