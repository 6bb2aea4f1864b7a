package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// plantedSecrets collects secrets a test used or was given, to look for
// them in the log.
type plantedSecrets struct {
	values map[string]string // value -> what it is
}

func (p *plantedSecrets) add(what string, values ...string) {
	for _, v := range values {
		if v != "" {
			p.values[v] = what
		}
	}
}

// fromPage adds the anti-forgery tokens of a page's forms.
func (p *plantedSecrets) fromPage(pg page) page {
	for _, m := range csrfRE.FindAllStringSubmatch(pg.body, -1) {
		p.add("CSRF token", htmlUnescape(m[1]))
	}
	return pg
}

// fromBrowser adds the browser's session and binding cookies.
func (p *plantedSecrets) fromBrowser(h *hostedEnv, b *browser) {
	u, _ := url.Parse(h.url + "/acme/")
	for _, c := range b.client.Jar.Cookies(u) {
		p.add("cookie "+c.Name, c.Value)
	}
}

// fromTokens adds what a token response holds.
func (p *plantedSecrets) fromTokens(tok *oauth2.Token) {
	p.add("access token", tok.AccessToken)
	p.add("refresh token", tok.RefreshToken)
	if id, _ := tok.Extra("id_token").(string); id != "" {
		p.add("ID token", id)
	}
}

// leaks returns, for each secret found in log, what it is and the part
// found: the whole value, the payload or signature segment of a JWT, the
// first or last 16 characters of another long secret, or the value as a
// URL would escape it.
func (p *plantedSecrets) leaks(log string) []string {
	var out []string
	for v, what := range p.values {
		parts := map[string]string{"the value": v, "escaped": url.QueryEscape(v)}
		if segs := strings.Split(v, "."); len(segs) == 3 && strings.HasPrefix(v, "eyJ") {
			// A JWT: its header is the same in every token, not a secret.
			parts["the payload"], parts["the signature"] = segs[1], segs[2]
		} else if len(v) >= 24 {
			parts["its start"], parts["its end"] = v[:16], v[len(v)-16:]
		}
		for name, part := range parts {
			if part != "" && strings.Contains(log, part) {
				out = append(out, what+" ("+name+": "+part+")")
			}
		}
	}
	return out
}

// TestLogHygiene (LOG-1, EO-4): the main flows run against a server whose
// every logger (the server's, the signing keys', the SMTP sender's)
// writes every line at debug level, as text and as JSON; then no
// password, email code, client secret, access, refresh or ID token,
// session or binding cookie, authorization code or anti-forgery token —
// nor a recognisable part of one — appears in any line, nor the local
// part of an address. The flows: admin API calls with a client secret
// and bearer tokens (a wrong secret and a forged token too), a password
// set by an administrator, sign-up with an email code (a wrong code
// first), a wrong password, a password sign-in, the code exchange,
// refresh, userinfo, prompt=none and logout with id_token_hint,
// introspection, revocation and a password reset.
func TestLogHygiene(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		var logs lockedBuffer
		debug := &slog.HandlerOptions{Level: slog.LevelDebug}
		logger := slog.New(slog.NewMultiHandler(slog.NewTextHandler(&logs, debug), slog.NewJSONHandler(&logs, debug)))
		mailServer := smtptest.Start(t)
		sender, err := notify.NewSMTP(notify.SMTPConfig{URL: mailServer.URL(), From: "Acme <no-reply@acme.example>"}, logger)
		if err != nil {
			t.Fatal(err)
		}
		h := newHostedEnv(t, eng, hostedOptions{logger: logger, sender: sender})
		h.smtp = mailServer
		h.keys.SetLogger(logger)
		api := h.tenant.AdminAPI
		s := &plantedSecrets{values: map[string]string{}}
		s.add("client secret", h.tenant.AutomationClient.ClientSecret, h.app.cfg.ClientSecret)
		s.add("admin password", h.tenant.Admin.Password)
		s.add("access token", h.tok)

		// The admin API: a user with a password, a password reset by an
		// administrator, a new client secret; a wrong secret and a forged
		// bearer token are refused.
		const adaPW, adminSetPW = "planted passphrase one", "planted passphrase two"
		s.add("password", adaPW, adminSetPW)
		ada := h.addUser("ada.lovelace@example.com", adaPW)
		h.must(204, "PATCH", api+"/users/"+ada, h.tok, map[string]any{"passwordProfile": map[string]any{"password": adminSetPW}})
		h.must(204, "PATCH", api+"/users/"+ada, h.tok, map[string]any{"passwordProfile": map[string]any{"password": adaPW}})
		s.add("client secret", h.must(200, "POST", api+"/applications/"+h.app.appObjID+"/addPassword", h.tok, nil).str("secretText"))
		const wrongSecret, forged = "planted-wrong-client-secret-0123456789", "eyJhbGciOiJub25lIn0.eyJwbGFudGVkIjoiZm9yZ2VkIn0.cGxhbnRlZC1zaWduYXR1cmU"
		s.add("client secret", wrongSecret)
		s.add("forged token", forged)
		if status, _, _ := postForm(t, h.url+"/acme/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "scope": {h.tenant.AutomationClient.Scope}},
			h.tenant.AutomationClient.ClientID, wrongSecret); status != http.StatusUnauthorized {
			t.Errorf("a wrong client secret: status %d", status)
		}
		h.must(401, "GET", api+"/users", forged, nil)

		// Sign-up with an email code, a wrong one first.
		const gracePW, wrongCode = "planted passphrase three", "13572468"
		s.add("password", gracePW)
		s.add("wrong email code", wrongCode)
		b := newBrowser(t, rpRedirect)
		code := s.fromPage(h.step(b, s.fromPage(h.follow(b, s.fromPage(h.begin(b)), "Sign up")), map[string]string{"email": "grace.hopper@example.com"}))
		s.fromPage(noFollow(b).submit(code, map[string]string{"code": wrongCode}))
		c := h.smtp.CodeFor(t, "grace.hopper@example.com")
		s.add("email code", c)
		details := s.fromPage(h.step(b, code, map[string]string{"code": c}))
		back := h.step(b, details, map[string]string{"password": gracePW, "attr.displayName": "Grace"})
		s.fromBrowser(h, b)
		authCode, _ := url.Parse(back.location)
		s.add("authorization code", authCode.Query().Get("code"))
		h.signedIn(back)
		if _, err := h.app.cfg.Exchange(ctx, authCode.Query().Get("code")); err == nil {
			t.Errorf("a code was redeemed twice")
		}

		// A wrong password, then the right one; the code exchange, refresh
		// and userinfo.
		const wrongPW = "planted wrong passphrase"
		s.add("password", wrongPW)
		b = newBrowser(t, rpRedirect)
		login := s.fromPage(h.begin(b))
		if r := tryLogin(b, login, "ada.lovelace@example.com", wrongPW); r.status != http.StatusBadRequest {
			t.Errorf("a wrong password: status %d", r.status)
		}
		back = h.step(b, login, map[string]string{"email": "ada.lovelace@example.com", "password": adaPW})
		s.fromBrowser(h, b)
		u, _ := url.Parse(back.location)
		s.add("authorization code", u.Query().Get("code"))
		tok, err := h.app.cfg.Exchange(ctx, u.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		s.fromTokens(tok)
		refreshed, err := h.app.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		s.fromTokens(refreshed)
		if _, err := h.app.provider.UserInfo(ctx, oauth2.StaticTokenSource(refreshed)); err != nil {
			t.Fatal(err)
		}
		// The used refresh token again (reuse detection), introspection and
		// revocation.
		if _, err := h.app.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Errorf("a used refresh token was accepted")
		}
		for _, ep := range []string{"introspect", "revoke"} {
			if status := postFormStatus(t, h.url+"/acme/oauth2/v2.0/"+ep, url.Values{"token": {refreshed.RefreshToken}}, h.app.cfg.ClientID, h.app.cfg.ClientSecret); status != http.StatusOK {
				t.Errorf("%s: status %d", ep, status)
			}
		}

		// prompt=none and logout, with the ID token as id_token_hint.
		idHint, _ := refreshed.Extra("id_token").(string)
		b2 := newBrowser(t, rpRedirect)
		h.signedIn(h.step(b2, s.fromPage(h.begin(b2)), map[string]string{"email": "ada.lovelace@example.com", "password": adaPW}))
		s.fromBrowser(h, b2)
		none := b2.get(h.app.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", idHint)))
		if nu, _ := url.Parse(none.location); nu != nil {
			s.add("authorization code", nu.Query().Get("code"))
		}
		s.fromPage(b2.get(h.url + "/acme/oauth2/v2.0/logout?id_token_hint=" + url.QueryEscape(idHint)))

		// A password reset.
		const resetPW = "planted passphrase four"
		s.add("password", resetPW)
		b = newBrowser(t, rpRedirect)
		reset := s.fromPage(h.follow(b, s.fromPage(h.begin(b)), "Forgot your password?"))
		code = s.fromPage(h.step(b, reset, map[string]string{"email": "ada.lovelace@example.com"}))
		c = h.smtp.CodeFor(t, "ada.lovelace@example.com")
		s.add("email code", c)
		s.fromPage(h.step(b, s.fromPage(h.step(b, code, map[string]string{"code": c})), map[string]string{"password": resetPW}))
		s.fromBrowser(h, b)
		s.add("address", "ada.lovelace", "grace.hopper")

		out := logs.String()
		// The log is really there, at debug level, with what it should
		// record.
		for _, want := range []string{"level=INFO msg=request", `"msg":"request"`, "route=\"POST /{tenant}/oauth2/v2.0/token\"",
			"sign-in failed", "email code sent", "sign-up", "email sent", "/acme/oauth2/v2.0/logout"} {
			if !strings.Contains(out, want) {
				t.Errorf("the log lacks %q", want)
			}
		}
		if !logger.Enabled(ctx, slog.LevelDebug) {
			t.Errorf("the logger does not log at debug level")
		}
		if len(s.values) < 25 {
			t.Errorf("only %d secrets planted", len(s.values))
		}
		for _, leak := range s.leaks(out) {
			t.Errorf("the log holds a secret: %s", leak)
		}
		if t.Failed() {
			t.Logf("the log:\n%s", out)
		}
	})
}

// postFormStatus posts a form with basic client authentication and
// returns the status (the body need not be JSON).
func postFormStatus(t *testing.T, u string, form url.Values, id, secret string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
