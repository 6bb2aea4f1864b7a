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

// rp is a relying party built from golang.org/x/oauth2 and go-oidc, the
// independent client libraries the OIDC behaviour is checked with.
type rp struct {
	t        testing.TB
	e        *testEnv
	provider *gooidc.Provider
	cfg      oauth2.Config
	appObjID string
}

const rpRedirect = "http://127.0.0.1:9/callback"

// newRP registers a confidential web app (with secret) in the tenant and
// returns a relying party for it.
func (e *testEnv) newRP(tenant, tok, name string, app map[string]any) *rp {
	e.t.Helper()
	api := gatehouse.AdminAPIURL(e.url, tenant)
	if app == nil {
		app = map[string]any{}
	}
	app["displayName"] = name
	if _, ok := app["web"]; !ok {
		app["web"] = map[string]any{"redirectUris": []string{rpRedirect}}
	}
	created := e.must(201, "POST", api+"/applications", tok, app)
	sec := e.must(200, "POST", api+"/applications/"+created.str("id")+"/addPassword", tok, nil)
	provider, err := gooidc.NewProvider(context.Background(), gatehouse.IssuerURL(e.url, tenant))
	if err != nil {
		e.t.Fatal(err)
	}
	return &rp{t: e.t, e: e, provider: provider, appObjID: created.str("id"), cfg: oauth2.Config{
		ClientID: created.str("appId"), ClientSecret: sec.str("secretText"), Endpoint: provider.Endpoint(),
		RedirectURL: rpRedirect, Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess},
	}}
}

// authResult is what came back to the redirect URI.
type authResult struct {
	code, state, iss, err string
}

// authorize sends the browser to the authorization endpoint with extra
// parameters, signs in on the hosted page when it is shown (and password
// is not ""), and returns what reached the redirect URI.
func (p *rp) authorize(b *browser, mail, password string, opts ...oauth2.AuthCodeOption) (authResult, bool) {
	p.t.Helper()
	pg := b.get(p.cfg.AuthCodeURL("st-"+mail, opts...))
	shownLogin := false
	if pg.location == "" && pg.status == 200 && password != "" {
		shownLogin = true
		pg = b.submit(pg, map[string]string{"email": mail, "password": password})
	}
	if !strings.HasPrefix(pg.location, rpRedirect) {
		p.t.Fatalf("the browser did not come back to the app: status %d location %q body %.600s", pg.status, pg.location, pg.body)
	}
	u, _ := url.Parse(pg.location)
	q := u.Query()
	return authResult{code: q.Get("code"), state: q.Get("state"), iss: q.Get("iss"), err: q.Get("error")}, shownLogin
}

// verifyID checks an ID token with go-oidc and returns its claims.
func (p *rp) verifyID(tok *oauth2.Token) map[string]any {
	p.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.provider.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID}).Verify(context.Background(), raw)
	if err != nil {
		p.t.Fatalf("go-oidc ID token verification: %v", err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	return c
}

func TestAuthorizationCodeFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		clk := &clock{}
		e := newEnv(t, eng.Open(t), newKey(t), func(o *web.Options) { o.Now = clk.Now })
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		api := acme.AdminAPI
		e.must(201, "POST", api+"/users", tok, map[string]any{"mail": "ada@example.com", "displayName": "Ada", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		shop := e.newRP("acme", tok, "Shop", map[string]any{"gatehouse": map[string]any{"postLogoutRedirectUris": []string{"http://127.0.0.1:9/"}}})
		blog := e.newRP("acme", tok, "Blog", nil)
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, shop.cfg.ClientID, blog.cfg.ClientID)
		b := newBrowser(t, rpRedirect, "http://127.0.0.1:9/")

		// A complete sign-in with PKCE and a nonce.
		verifier := oauth2.GenerateVerifier()
		res, shown := shop.authorize(b, "ada@example.com", "correct horse battery", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-1"))
		if !shown || res.code == "" || res.state != "st-ada@example.com" || res.iss != acme.Issuer {
			t.Fatalf("authorization response = %+v (login page shown: %v); want a code, the state and iss=%s", res, shown, acme.Issuer)
		}
		first, err := shop.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		claims := shop.verifyID(first)
		if claims["nonce"] != "n-1" || claims["email"] != "ada@example.com" || claims["auth_time"] == nil || claims["acr"] != "1" {
			t.Errorf("ID token claims = %v", claims)
		}
		if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Errorf("amr = %v, want [pwd]", claims["amr"])
		}
		ui, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(first))
		if err != nil || ui.Email != "ada@example.com" {
			t.Fatalf("userinfo = %+v, %v", ui, err)
		}
		firstAuthTime := claims["auth_time"].(float64)

		// Code reuse fails and revokes what the first redemption issued.
		if _, err := shop.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("second redemption of a code: err = %v, want invalid_grant", err)
		}
		if _, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(first)); err == nil {
			t.Errorf("userinfo with a token of a reused code still works")
		}
		if _, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err == nil {
			t.Errorf("refresh with a token of a reused code still works")
		}

		// Single sign-on: another app of the tenant gets a code without a prompt.
		res, shown = blog.authorize(b, "ada@example.com", "", oauth2.S256ChallengeOption(verifier))
		if shown || res.code == "" {
			t.Fatalf("SSO to the second app: %+v, login shown %v", res, shown)
		}
		blogTok, err := blog.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if c := blog.verifyID(blogTok); c["auth_time"].(float64) != firstAuthTime {
			t.Errorf("SSO auth_time %v, want the session's %v", c["auth_time"], firstAuthTime)
		}

		// max_age=0 re-authenticates at once and moves auth_time: the
		// clock moves only once the sign-in page is shown, so that
		// auth_time, in whole seconds, can tell the new sign-in apart.
		pg := b.get(shop.cfg.AuthCodeURL("st-max-age", oauth2.SetAuthURLParam("max_age", "0")))
		if pg.location != "" || pg.status != http.StatusOK {
			t.Fatalf("max_age=0 did not show the sign-in page: status %d location %q", pg.status, pg.location)
		}
		clk.Advance(10 * time.Second)
		pg = b.submit(pg, map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		back, err := url.Parse(pg.location)
		if err != nil || !strings.HasPrefix(pg.location, rpRedirect) {
			t.Fatalf("after max_age=0 the browser did not come back to the app: status %d location %q", pg.status, pg.location)
		}
		reauth, err := shop.cfg.Exchange(ctx, back.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		if c := shop.verifyID(reauth); c["auth_time"].(float64) <= firstAuthTime {
			t.Errorf("after max_age=0, auth_time %v did not move past %v", c["auth_time"], firstAuthTime)
		}

		// Refresh rotation; a replayed refresh token kills its family.
		rotated, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: reauth.RefreshToken}).Token()
		if err != nil || rotated.RefreshToken == "" || rotated.RefreshToken == reauth.RefreshToken {
			t.Fatalf("refresh: %v, new token %q", err, rotated.RefreshToken)
		}
		if _, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: reauth.RefreshToken}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("replayed refresh token: err = %v, want invalid_grant", err)
		}
		if _, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rotated.RefreshToken}).Token(); err == nil {
			t.Errorf("the newest refresh token of a replayed family still works")
		}
		if _, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(rotated)); err == nil {
			t.Errorf("userinfo with an access token of a revoked family still works")
		}

		// RP-initiated logout ends the session and its tokens.
		idHint, _ := blogTok.Extra("id_token").(string)
		out := b.get(e.url + "/acme/oauth2/v2.0/logout?" + url.Values{"id_token_hint": {idHint}, "client_id": {blog.cfg.ClientID}}.Encode())
		if out.status != 200 {
			t.Errorf("logout without a redirect: status %d", out.status)
		}
		if _, err := blog.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: blogTok.RefreshToken}).Token(); err == nil {
			t.Errorf("refresh after sign-out still works")
		}
		res, _ = shop.authorize(b, "", "", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(verifier))
		if res.err != "login_required" {
			t.Errorf("prompt=none after sign-out: %+v, want login_required", res)
		}
	})
}

func TestAuthorizationRequestErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		shop := e.newRP("acme", tok, "Shop", map[string]any{"gatehouse": map[string]any{"requirePkce": true, "postLogoutRedirectUris": []string{"http://127.0.0.1:9/"}}})
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, shop.cfg.ClientID)

		// An unregistered redirect URI never receives a redirect (AS-1).
		for _, bad := range []string{"https://evil.example/callback", rpRedirect + "/extra", "http://127.0.0.1:9/callback?x=1"} {
			b := newBrowser(t)
			b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			c := shop.cfg
			c.RedirectURL = bad
			pg := b.get(c.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if pg.location != "" || pg.status != 400 {
				t.Errorf("redirect_uri %s: status %d location %q; want 400 and no redirect", bad, pg.status, pg.location)
			}
		}
		// A web app's loopback redirect URI matches with its port too
		// (TestAS1LoopbackPortOnlyForNativeApps has the public client's).
		b := newBrowser(t, "http://127.0.0.1:")
		c := shop.cfg
		c.RedirectURL = "http://127.0.0.1:4711/callback"
		if pg := b.get(c.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none"))); pg.status != 400 || pg.location != "" {
			t.Errorf("a web app's loopback redirect with another port: status %d location %q; want 400 and no redirect", pg.status, pg.location)
		}

		// Errors after the redirect URI is known go back to the app with state and iss.
		for _, c := range []struct {
			name string
			opts []oauth2.AuthCodeOption
			want string
		}{
			{"PKCE missing for an app that requires it", nil, "invalid_request"},
			{"plain PKCE", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")}, "invalid_request"},
			{"implicit", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("response_type", "token")}, "unsupported_response_type"},
			{"no openid scope", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("scope", "profile wizardry")}, "invalid_scope"},
			{"another admin API permission", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("scope", "openid "+acme.AdminAPI+"/User.Read")}, "invalid_scope"},
			{"prompt=none without a session", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("prompt", "none")}, "login_required"},
		} {
			b := newBrowser(t, rpRedirect)
			res, _ := shop.authorize(b, "", "", c.opts...)
			if res.err != c.want || res.iss != acme.Issuer || res.state == "" {
				t.Errorf("%s: %+v, want error %s with state and iss", c.name, res, c.want)
			}
		}
		// Unknown parameters, display, ui_locales, login_hint and POST are fine (OP-4).
		b = newBrowser(t, rpRedirect)
		v := oauth2.GenerateVerifier()
		pg := b.get(shop.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("display", "page"),
			oauth2.SetAuthURLParam("ui_locales", "de"), oauth2.SetAuthURLParam("login_hint", "ada@example.com"), oauth2.SetAuthURLParam("frobnicate", "1")))
		if pg.status != 200 || !strings.Contains(pg.body, "ada@example.com") {
			t.Errorf("authorize with extra parameters: status %d; the sign-in page should show the login_hint", pg.status)
		}

		// PKCE downgrade at the token endpoint fails.
		res, _ := shop.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", oauth2.S256ChallengeOption(v))
		if _, err := shop.cfg.Exchange(ctx, res.code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("exchange without the verifier: %v, want invalid_grant", err)
		}
		res, _ = shop.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", oauth2.S256ChallengeOption(v))
		if _, err := shop.cfg.Exchange(ctx, res.code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Errorf("exchange with a wrong verifier succeeded")
		}

		// An unregistered post_logout_redirect_uri is never followed (AS-2).
		b = newBrowser(t)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		pg = b.get(e.url + "/acme/oauth2/v2.0/logout?" + url.Values{"client_id": {shop.cfg.ClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
		if pg.status != 400 || pg.location != "" {
			t.Errorf("unregistered post_logout_redirect_uri: status %d location %q", pg.status, pg.location)
		}
		pg = b.get(e.url + "/acme/oauth2/v2.0/logout?" + url.Values{"client_id": {shop.cfg.ClientID}, "post_logout_redirect_uri": {"http://127.0.0.1:9/"}, "state": {"bye"}}.Encode())
		if pg.status != 303 || pg.location != "http://127.0.0.1:9/?state=bye" {
			t.Errorf("registered post_logout_redirect_uri without a session: status %d location %q", pg.status, pg.location)
		}
	})
}

// TestSessionsEndWithTheUser covers SE-6 and the smaller OP items: a
// POSTed authorization request (OP-4), userinfo by POST (OP-8),
// prompt=login (OP-2), and an administrator ending a user's sessions
// (revokeSignInSessions) or disabling the user.
func TestSessionsEndWithTheUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		uid := e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}}).str("id")
		shop := e.newRP("acme", tok, "Shop", nil)
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, shop.cfg.ClientID)

		signIn := func(b *browser) *oauth2.Token {
			t.Helper()
			res, _ := shop.authorize(b, "ada@example.com", "correct horse battery")
			tk, err := shop.cfg.Exchange(ctx, res.code)
			if err != nil {
				t.Fatalf("exchange: %v (%+v)", err, res)
			}
			return tk
		}

		// The authorization endpoint accepts POST.
		b := newBrowser(t, rpRedirect)
		u, _ := url.Parse(shop.cfg.AuthCodeURL("posted"))
		req, _ := http.NewRequest("POST", u.Scheme+"://"+u.Host+u.Path, strings.NewReader(u.RawQuery))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		pg := b.do(req)
		if pg.status != 200 || !strings.Contains(pg.body, "Password") {
			t.Fatalf("POST to the authorization endpoint: status %d, want the sign-in page", pg.status)
		}

		first := signIn(b)
		// Userinfo by POST with the bearer header.
		req, _ = http.NewRequest("POST", e.url+"/acme/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+first.AccessToken)
		if got := b.do(req); got.status != 200 || !strings.Contains(got.body, uid) {
			t.Errorf("userinfo by POST: status %d body %s", got.status, got.body)
		}
		// prompt=login shows the sign-in page despite the session.
		if _, shown := shop.authorize(b, "ada@example.com", "correct horse battery", oauth2.SetAuthURLParam("prompt", "login")); !shown {
			t.Errorf("prompt=login did not show the sign-in page")
		}

		// An administrator ends the user's sessions: SSO and refresh stop.
		r := e.must(200, "POST", acme.AdminAPI+"/users/"+uid+"/revokeSignInSessions", tok, nil)
		if r.body["value"] != true {
			t.Errorf("revokeSignInSessions = %s", r.raw)
		}
		if res, _ := shop.authorize(b, "", "", oauth2.SetAuthURLParam("prompt", "none")); res.err != "login_required" {
			t.Errorf("prompt=none after revokeSignInSessions: %+v", res)
		}
		if _, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err == nil {
			t.Errorf("refresh after revokeSignInSessions still works")
		}

		// Disabling the user ends what a new sign-in started.
		second := signIn(b)
		e.must(204, "PATCH", acme.AdminAPI+"/users/"+uid, tok, map[string]any{"accountEnabled": false})
		if _, err := shop.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: second.RefreshToken}).Token(); err == nil {
			t.Errorf("refresh of a disabled user still works")
		}
		if _, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(second)); err == nil {
			t.Errorf("userinfo of a disabled user still works")
		}
		if res, _ := shop.authorize(b, "", "", oauth2.SetAuthURLParam("prompt", "none")); res.err != "login_required" {
			t.Errorf("prompt=none in the browser of a disabled user: %+v", res)
		}
	})
}

// TestRevocationAndIntrospection: RFC 7009 and RFC 7662 for a client's own
// tokens; another client can neither see nor revoke them. Also the per-app
// ID token algorithm (ES256).
func TestRevocationAndIntrospection(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		shop := e.newRP("acme", tok, "Shop", map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "ES256"}})
		blog := e.newRP("acme", tok, "Blog", nil)
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, shop.cfg.ClientID, blog.cfg.ClientID)
		res, _ := shop.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery")
		tk, err := shop.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tk.Extra("id_token").(string)
		es := shop.provider.Verifier(&gooidc.Config{ClientID: shop.cfg.ClientID, SupportedSigningAlgs: []string{"ES256"}})
		if _, err := es.Verify(ctx, raw); err != nil {
			t.Errorf("the ID token of an ES256 app does not verify as ES256: %v", err)
		}

		introspect := func(p *rp, token string) map[string]any {
			t.Helper()
			status, body, _ := postForm(t, e.url+"/acme/oauth2/v2.0/introspect", url.Values{"token": {token}}, p.cfg.ClientID, p.cfg.ClientSecret)
			if status != 200 {
				t.Fatalf("introspect: status %d %v", status, body)
			}
			return body
		}
		for what, token := range map[string]string{"access": tk.AccessToken, "refresh": tk.RefreshToken} {
			if got := introspect(shop, token); got["active"] != true || got["client_id"] != shop.cfg.ClientID {
				t.Errorf("introspection of the %s token by its client = %v", what, got)
			}
			if got := introspect(blog, token); got["active"] != false || len(got) != 1 {
				t.Errorf("introspection of shop's %s token by another client = %v, want only active=false", what, got)
			}
		}
		revoke := func(p *rp, token string) int {
			t.Helper()
			req, _ := http.NewRequest("POST", e.url+"/acme/oauth2/v2.0/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		// Another client's revocation request changes nothing.
		if status := revoke(blog, tk.RefreshToken); status != 200 {
			t.Errorf("revoke by another client: status %d, want 200", status)
		}
		if got := introspect(shop, tk.RefreshToken); got["active"] != true {
			t.Errorf("another client revoked shop's refresh token")
		}
		// The owner's revocation ends the grant: both tokens go inactive.
		if status := revoke(shop, tk.RefreshToken); status != 200 {
			t.Errorf("revoke: status %d", status)
		}
		for what, token := range map[string]string{"access": tk.AccessToken, "refresh": tk.RefreshToken} {
			if got := introspect(shop, token); got["active"] != false {
				t.Errorf("after revocation the %s token is %v", what, got)
			}
		}
		if _, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(tk)); err == nil {
			t.Errorf("userinfo accepts a revoked access token")
		}
		// Unknown tokens are simply inactive; revocation still answers 200.
		if got := introspect(shop, "nonsense"); got["active"] != false {
			t.Errorf("introspection of garbage = %v", got)
		}
		if status := revoke(shop, "nonsense"); status != 200 {
			t.Errorf("revoke of garbage: status %d", status)
		}
	})
}

// TestHostileInput: what the security review found, kept fixed. NUL
// characters and bad UTF-8 are a 400 on every engine (PostgreSQL refuses
// them, which used to surface as a 500); oversized and unsupported
// authorization parameters are refused; a code presented by another client
// is neither burnt nor revoked; an id_token_hint for someone else is not
// answered with the signed-in user's code; refresh may narrow the scope.
func TestHostileInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "bob@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		shop := e.newRP("acme", tok, "Shop", nil)
		blog := e.newRP("acme", tok, "Blog", nil)
		e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, shop.cfg.ClientID, blog.cfg.ClientID)

		for _, c := range []struct {
			method, path, body string
			want               int
		}{
			{"GET", "/acme/oauth2/v2.0/authorize?client_id=%00", "", 400},
			{"GET", "/acme/oauth2/v2.0/authorize?client_id=%FF", "", 400},
			{"GET", "/%00/oauth2/v2.0/authorize", "", 400},
			{"GET", "/%00/graph/v1.0/users", "", 400},
			{"GET", "/acme/login?tx=%00", "", 400},
			{"POST", "/acme/oauth2/v2.0/token", "grant_type=client_credentials&client_id=%00&client_secret=x", 400},
			{"POST", "/acme/oauth2/v2.0/authorize", "client_id=" + strings.Repeat("a", 70<<10), 413},
		} {
			req, _ := http.NewRequest(c.method, e.url+c.path, strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.want)
			}
		}
		if r := e.call("POST", acme.AdminAPI+"/roleManagement/directory/roleAssignments", tok, `{"roleDefinitionId":"`+gatehouse.RoleUserAdministrator+`","principalId":"a\u0000b"}`); r.status != 400 || !strings.Contains(r.errMessage(), "NUL") {
			t.Errorf("a NUL in a JSON body: status %d %q", r.status, r.errMessage())
		}

		for _, c := range []struct {
			name string
			opts []oauth2.AuthCodeOption
		}{
			{"claims not JSON", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":`)}},
			{"claims not an object", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("claims", `["acr"]`)}},
			{"long claims", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("claims", `{"userinfo":{"`+strings.Repeat("x", 5000)+`":null}}`)}},
			{"long ui_locales", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("ui_locales", strings.Repeat("de ", 200))}},
		} {
			if res, _ := shop.authorize(newBrowser(t, rpRedirect), "", "", c.opts...); res.err != "invalid_request" {
				t.Errorf("%s: %+v, want invalid_request", c.name, res)
			}
		}

		// A code offered by another client stays good for its own.
		b := newBrowser(t, rpRedirect)
		res, _ := shop.authorize(b, "ada@example.com", "correct horse battery")
		if _, err := blog.cfg.Exchange(ctx, res.code); err == nil {
			t.Fatalf("another client redeemed shop's code")
		}
		shopTok, err := shop.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatalf("the code no longer works for its own client after another tried it: %v", err)
		}

		// prompt=none with an id_token_hint for Bob while Ada is signed in.
		bobBrowser := newBrowser(t, rpRedirect)
		bres, _ := shop.authorize(bobBrowser, "bob@example.com", "correct horse battery")
		bobTok, err := shop.cfg.Exchange(ctx, bres.code)
		if err != nil {
			t.Fatal(err)
		}
		bobHint, _ := bobTok.Extra("id_token").(string)
		if res, _ := shop.authorize(b, "", "", oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", bobHint)); res.err != "login_required" {
			t.Errorf("prompt=none with another user's id_token_hint: %+v, want login_required", res)
		}

		// Refresh with a narrower scope gets tokens of that scope only
		// (x/oauth2 does not send a scope with a refresh: post it here).
		status, body, _ := postForm(t, e.url+"/acme/oauth2/v2.0/token", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {shopTok.RefreshToken}, "scope": {"openid"}}, shop.cfg.ClientID, shop.cfg.ClientSecret)
		if status != 200 || body["scope"] != "openid" {
			t.Fatalf("refresh with a narrower scope: status %d, %v", status, body)
		}
		narrow := (&oauth2.Token{AccessToken: body["access_token"].(string)}).WithExtra(body)
		if c := shop.verifyID(narrow); c["email"] != nil {
			t.Errorf("an openid-only ID token carries email: %v", c)
		}
		if ui, err := shop.provider.UserInfo(ctx, oauth2.StaticTokenSource(narrow)); err != nil || ui.Email != "" {
			t.Errorf("userinfo with an openid-only token: %+v %v, want no email", ui, err)
		}
	})
}
