package web_test

import (
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
