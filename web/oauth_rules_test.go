package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

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
