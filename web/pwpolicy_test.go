package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestPW1LongerMinimum: a server configured with a longer minimum than 8
// says so on the sign-up page, refuses shorter passwords there and in the
// admin API with the length named, and accepts one of that length.
func TestPW1LongerMinimum(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{pwMin: 12})
		b := newBrowser(t, rpRedirect)
		code := h.step(b, h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": "grace@example.com"})
		details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "grace@example.com")})
		if !strings.Contains(text(details.body), "Use at least 12 characters.") {
			t.Errorf("the sign-up page does not give the minimum: %.500s", text(details.body))
		}
		r := noFollow(b).submit(details, map[string]string{"password": "zebra mango", "attr.displayName": "Grace"}) // 11
		if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "Use at least 12 characters.") {
			t.Errorf("an 11-character password at sign-up: status %d, %.400s", r.status, text(r.body))
		}
		h.signedIn(h.step(b, details, map[string]string{"password": "zebra mangos", "attr.displayName": "Grace"})) // 12

		users := h.tenant.AdminAPI + "/users"
		before := h.countAll(users, h.tok)
		r2 := h.must(400, "POST", users, h.tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "zebra mango"}})
		if !strings.Contains(r2.raw, "passwordProfile.password") || !strings.Contains(r2.errMessage(), "12") {
			t.Errorf("an 11-character password in the admin API: %s", r2.raw)
		}
		if n := h.countAll(users, h.tok); n != before {
			t.Errorf("the refused user was created")
		}
		h.must(201, "POST", users, h.tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "zebra mangos"}})
	})
}
