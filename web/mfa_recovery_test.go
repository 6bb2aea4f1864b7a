package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestRC1RecoveryCodeSignIn: a recovery code completes the second factor
// once, typed as the user likes; the chooser offers it beside the
// authenticator app; concurrent uses of one code: exactly one succeeds.
func TestRC1RecoveryCodeSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, uid, _, codes := totpUser(t, eng, "RecoveryCode")
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes", len(codes))
		}

		b := newBrowser(t, rpRedirect)
		chooser := h.signInMFA(b, "ada@example.com", adaPassword)
		if !strings.HasSuffix(chooser.url.Path, "/acme/login/mfa") || !strings.Contains(chooser.body, ">Use my authenticator app</button>") ||
			!strings.Contains(chooser.body, ">Use a recovery code</button>") {
			t.Fatalf("after the password: %s, %.500s", chooser.url.Path, text(chooser.body))
		}
		pg := h.choose(b, chooser, "/login/mfa/recovery")
		if !strings.Contains(pg.body, "<h1>Use a recovery code</h1>") || label(t, pg, "recovery-code") != "Recovery code" ||
			input(t, pg, "recovery-code")["autocomplete"] != "one-time-code" {
			t.Fatalf("recovery code page: %.500s", pg.body)
		}
		if !strings.Contains(pg.body, ">Use another way</a>") {
			t.Errorf("the recovery code page does not lead back to the chooser")
		}
		_, foreign := newRecoveryCodes(t)
		for _, c := range []struct {
			code, want string
		}{
			{"12345678", "Enter a recovery code: 16 letters and digits"},
			{"", "Enter a recovery code"},
			{foreign, "That recovery code is wrong."},
		} {
			if r := postTo(t, b, pg, "/login/mfa/recovery", map[string]string{"code": c.code}); r.status != http.StatusBadRequest || !strings.Contains(text(r.body), c.want) {
				t.Errorf("code %q: status %d, %.300s", c.code, r.status, text(r.body))
			}
		}
		// In lower case, without its hyphens.
		typed := strings.ToLower(strings.ReplaceAll(codes[2], "-", ""))
		claims := h.signedIn(postTo(t, b, pg, "/login/mfa/recovery", map[string]string{"code": typed}))
		if amr(claims) != "pwd otp mfa" || claims["acr"] != "2" {
			t.Errorf("claims amr %v acr %v", claims["amr"], claims["acr"])
		}
		set := h.methodsOf(uid)[gatehouse.MethodRecoveryCode][0]
		if set.RemainingRecoveryCodes() != 9 || set.RecoveryCodes[2].UsedAt.IsZero() {
			t.Errorf("after one use: %d codes left", set.RemainingRecoveryCodes())
		}

		// Used once, never again.
		b = newBrowser(t, rpRedirect)
		pg = h.choose(b, h.signInMFA(b, "ada@example.com", adaPassword), "/login/mfa/recovery")
		if r := postTo(t, b, pg, "/login/mfa/recovery", map[string]string{"code": codes[2]}); r.status != http.StatusBadRequest ||
			!strings.Contains(text(r.body), "That recovery code was already used. Each code works once") {
			t.Errorf("a used code: status %d, %.300s", r.status, text(r.body))
		}

		start := func(b *browser) page {
			return h.choose(b, h.signInMFA(b, "ada@example.com", adaPassword), "/login/mfa/recovery")
		}
		if won := h.race(4, start, "/login/mfa/recovery", codes[7]); won != 1 {
			t.Errorf("%d of 4 concurrent uses of one code succeeded, want 1", won)
		}
		if left := h.methodsOf(uid)[gatehouse.MethodRecoveryCode][0].RemainingRecoveryCodes(); left != 8 {
			t.Errorf("%d codes left, want 8", left)
		}
	})
}

// newRecoveryCodes returns the codes of a set made elsewhere: the first
// one is a well-formed code that belongs to nobody here.
func newRecoveryCodes(t *testing.T) ([]string, string) {
	t.Helper()
	_, _, _, codes := totpUser(t, storetest.Engines(t)[0], "RecoveryCode")
	return codes, codes[0]
}

// TestRL3RecoveryCodeFailures: wrong recovery codes count against the set
// across sign-ins, with the same growing delay.
func TestRL3RecoveryCodeFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, _, _, codes := totpUser(t, eng, "RecoveryCode")
		_, foreign := newRecoveryCodes(t)

		start := func() (*browser, page) {
			b := newBrowser(t, rpRedirect)
			return b, h.choose(b, h.signInMFA(b, "ada@example.com", adaPassword), "/login/mfa/recovery")
		}
		ab, ap := start()
		for i := 1; i <= 5; i++ {
			if r := postTo(t, ab, ap, "/login/mfa/recovery", map[string]string{"code": foreign}); r.status != http.StatusBadRequest {
				t.Fatalf("wrong code %d: status %d", i, r.status)
			}
		}
		vb, vp := start()
		if r := postTo(t, vb, vp, "/login/mfa/recovery", map[string]string{"code": codes[0]}); r.status != http.StatusTooManyRequests ||
			!strings.Contains(text(r.body), "Too many wrong codes.") {
			t.Errorf("a right code after five failures elsewhere: status %d, %.300s", r.status, text(r.body))
		}
		h.clk.Advance(time.Second)
		h.signedIn(postTo(t, vb, vp, "/login/mfa/recovery", map[string]string{"code": codes[0]}))
	})
}

// TestRC2PasswordResetKeepsSecondFactor: resetting the password (with a
// code sent by mail) neither signs in nor removes the second factor: the
// next sign-in with the new password is still asked for the
// authenticator app, and is not offered to register a new one.
func TestRC2PasswordResetKeepsSecondFactor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, uid, secret, _ := totpUser(t, eng)
		h.clk.Advance(30 * time.Second)

		const newPW = "a brand new passphrase"
		b := newBrowser(t, rpRedirect)
		login := b.get(h.app.cfg.AuthCodeURL("st"))
		code := h.step(b, h.follow(b, login, "Forgot your password?"), map[string]string{"email": "ada@example.com"})
		newPass := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")})
		done := h.step(b, newPass, map[string]string{"password": newPW})
		if !strings.HasSuffix(done.url.Path, "/acme/reset/done") || h.sessionOf(b) != "" {
			t.Fatalf("after the reset: %s, session %q", done.url.Path, h.sessionOf(b))
		}
		if apps := h.methodsOf(uid)[gatehouse.MethodSoftwareOath]; len(apps) != 1 {
			t.Fatalf("the reset left %d authenticator apps", len(apps))
		}

		// The app requires a second factor: the new password is not enough.
		pg := h.signInMFA(b, "ada@example.com", newPW)
		if !strings.HasSuffix(pg.url.Path, "/acme/login/mfa/totp") {
			t.Fatalf("after the reset and the new password: %s, want the authenticator app's page; %.300s", pg.url.Path, text(pg.body))
		}
		if r := b.get(h.url + "/acme/login/register/totp?tx=" + pg.url.Query().Get("tx")); strings.HasSuffix(r.url.Path, "/register/totp") {
			t.Errorf("the registration of a new app is open after the reset: %s", r.url.Path)
		}
		claims := h.signedIn(postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": h.code(secret)}))
		if amr(claims) != "pwd otp mfa" {
			t.Errorf("amr %v", claims["amr"])
		}

		// With email codes on as well, the reset's mail is no way around
		// the app either: the sign-in still asks for a second factor.
		h.enableMethods("Email")
		b = newBrowser(t, rpRedirect)
		pg = h.signInMFA(b, "ada@example.com", newPW)
		if !strings.HasSuffix(pg.url.Path, "/acme/login/mfa") || strings.HasPrefix(pg.location, rpRedirect) {
			t.Errorf("with email on: %s, want the chooser", pg.url.Path)
		}
	})
}
