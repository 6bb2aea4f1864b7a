package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestSecurityInfoPage: the signed-in user sees their methods; a removal
// needs a recent multifactor authentication (LC-1), which the page gets
// through a sign-in of its own and comes back; the removal takes effect,
// is audited (LC-3) and mailed to the user (RL-5).
func TestSecurityInfoPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		h.enableMethod("SoftwareOath")
		totp := h.registerMethods(ada)[0]
		page := h.url + "/acme/account/security"

		// Without a session, the page asks for a sign-in and comes back.
		b := newBrowser(t, rpRedirect)
		pg := b.get(page)
		if !strings.HasSuffix(pg.url.Path, "/acme/login") {
			t.Fatalf("the security info page without a session is at %s", pg.url)
		}
		pg = h.step(b, pg, map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		if pg.url.Path != "/acme/account/security" {
			t.Fatalf("after signing in: at %s, want the security info page; %.300s", pg.url, text(pg.body))
		}
		body := text(pg.body)
		for _, want := range []string{"Signed in as ada@example.com", "Email ada@example.com", "Password Set", "authenticator app", "Verify it's you"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q: %s", want, body)
			}
		}

		// Removing with a password-only session: verify first, with the
		// second factor (email), and come back.
		r := h.step(b, pg, map[string]string{"action": "remove", "id": totp.ID})
		if !strings.HasSuffix(r.url.Path, "/login/mfa") || !strings.Contains(text(r.body), "Email a code") {
			t.Fatalf("removal without a recent second factor went to %s, want the second factor chooser; %.300s", r.url, text(r.body))
		}
		codePage := h.step(b, r, map[string]string{"action": "start"}) // the first choice: email
		back := h.step(b, codePage, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")})
		if back.url.Path != "/acme/account/security" || !strings.Contains(text(back.body), "You can change your security info for the next 10 minutes") {
			t.Fatalf("after verifying: at %s: %.300s", back.url, text(back.body))
		}
		if h.countAll(h.tenant.AdminAPI+"/users/"+ada+"/authentication/softwareOathMethods", h.tok) != 1 {
			t.Fatalf("verifying removed the method already")
		}
		done := h.step(b, back, map[string]string{"action": "remove", "id": totp.ID})
		if !strings.Contains(text(done.body), "The method was removed") || strings.Contains(text(done.body), "authenticator app Added") {
			t.Errorf("after the removal: %.400s", text(done.body))
		}
		if n := h.countAll(h.tenant.AdminAPI+"/users/"+ada+"/authentication/softwareOathMethods", h.tok); n != 0 {
			t.Errorf("%d authenticator apps after the removal", n)
		}
		if n := h.auditCount(h.tenant.AdminAPI, ada, "UserManagement", "User deleted security info"); n != 1 {
			t.Errorf("%d audit entries for the removal", n)
		}
		h.smtp.WaitFor(t, func(m smtptest.Received) bool {
			return strings.Contains(m.Text, "authenticator app was removed") && strings.Contains(m.Text, "by you")
		}, 10*time.Second)

		// Ten minutes later a change needs a new verification.
		h.clk.Advance(11 * time.Minute)
		if later := b.get(page); !strings.Contains(text(later.body), "Verify it's you") {
			t.Errorf("11 minutes after verifying, the page does not ask to verify again")
		}

		// A forged form (no anti-forgery token) changes nothing.
		forged := noFollow(newBrowser(t, rpRedirect)).submit(pg, map[string]string{"action": "remove", "id": "x", "csrf": "forged"})
		if forged.status != 403 {
			t.Errorf("a forged removal: status %d, want 403", forged.status)
		}
	})
}

// TestSecurityInfoOnlyForItsUser: a security info sign-in completed by
// someone else is refused.
func TestSecurityInfoOnlyForItsUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.addUser("bob@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery"); res.code == "" {
			t.Fatal("sign-in failed")
		}
		h.clk.Advance(20 * time.Minute) // no longer recent
		pg := b.get(h.url + "/acme/account/security")
		r := h.step(b, pg, map[string]string{"action": "verify"})
		if !strings.HasSuffix(r.url.Path, "/acme/login") {
			t.Fatalf("verify went to %s", r.url)
		}
		out := noFollow(b).submit(r, map[string]string{"email": "bob@example.com", "password": "correct horse battery"})
		if out.status != 403 || !strings.Contains(text(out.body), "you signed in as bob@example.com") {
			t.Errorf("bob completing ada's verification: %d %.300s", out.status, text(out.body))
		}
	})
}

// TestSecurityInfoAddsAMethod: a user with a recent multifactor session
// adds an authenticator app from the security info page: the same
// registration page as a sign-in's, back to the page, the app theirs and
// usable at the next sign-in; the registration is audited (LC-3).
func TestSecurityInfoAddsAMethod(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		h.enableMethod("SoftwareOath")
		b := newBrowser(t, rpRedirect)
		h.signedIn(h.emailSecondFactor(b, h.passwordThenMFA(b, "ada@example.com", acrMFA), "ada@example.com"))

		pg := b.get(h.url + "/acme/account/security")
		if strings.Contains(text(pg.body), "Verify it's you") {
			t.Fatalf("a fresh multifactor session is asked to verify: %.300s", text(pg.body))
		}
		reg := h.step(b, pg, map[string]string{"action": "add", "method": "softwareOath"})
		if !strings.HasSuffix(reg.url.Path, "/login/register/totp") {
			t.Fatalf("adding an authenticator app went to %s: %.300s", reg.url, text(reg.body))
		}
		back := h.step(b, reg, map[string]string{"code": h.code(setupKey(t, reg))})
		if back.url.Path != "/acme/account/security" || !strings.Contains(text(back.body), "Your new method is ready") {
			t.Fatalf("after the registration: at %s: %.300s", back.url, text(back.body))
		}
		if got := h.methodsOf(ada)["softwareOath"]; len(got) != 1 {
			t.Errorf("authenticator apps after adding one: %d", len(got))
		}
		if n := h.auditCount(h.tenant.AdminAPI, ada, "UserManagement", "User registered security info"); n != 1 {
			t.Errorf("%d audit entries for the registration", n)
		}
		// A method the policy does not offer cannot be added.
		if r := noFollow(b).submit(back, map[string]string{"action": "add", "method": "sms"}); r.status != 400 {
			t.Errorf("adding a text message phone, which is off: status %d", r.status)
		}
	})
}
