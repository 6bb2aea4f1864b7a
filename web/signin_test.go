package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// tryLogin posts the sign-in form and returns the answer without following
// it.
func tryLogin(b *browser, login page, mail, pw string) page {
	return noFollow(b).submit(login, map[string]string{"email": mail, "password": pw})
}

func TestPasswordSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		login := h.begin(b)

		// Wrong password and unknown account: the same status and page.
		wrong := tryLogin(b, login, "ada@example.com", "wrong horse battery")
		unknown := tryLogin(b, login, "nobody@example.com", "wrong horse battery")
		if wrong.status != http.StatusBadRequest || !strings.Contains(text(wrong.body), "The email address or password is incorrect.") {
			t.Fatalf("wrong password: status %d, body %.400s", wrong.status, text(wrong.body))
		}
		if unknown.status != wrong.status || strings.ReplaceAll(unknown.body, "nobody@", "ada@") != wrong.body {
			t.Errorf("unknown account and wrong password differ:\n%s\n%s", text(unknown.body), text(wrong.body))
		}
		if in := input(t, wrong, "password"); in["aria-describedby"] != "form-error" || in["aria-invalid"] != "true" {
			t.Errorf("the password input does not point at the error: %v", in)
		}
		if in := input(t, wrong, "email"); in["value"] != "ada@example.com" {
			t.Errorf("the address is not kept: %v", in)
		}

		// The right password signs in (amr pwd) and clears the counter.
		if u := h.user("ada@example.com"); u.FailedSignIns != 1 {
			t.Errorf("FailedSignIns = %d after one failure, want 1", u.FailedSignIns)
		}
		claims := h.signedIn(h.step(b, login, map[string]string{"email": "ADA@example.com ", "password": "correct horse battery"}))
		if amr(claims) != "pwd" || claims["email"] != "ada@example.com" {
			t.Errorf("claims %v", claims)
		}
		if u := h.user("ada@example.com"); u.FailedSignIns != 0 || !u.LastFailedSignIn.IsZero() {
			t.Errorf("after a sign-in: FailedSignIns %d, LastFailedSignIn %v", u.FailedSignIns, u.LastFailedSignIn)
		}

		// Disabled accounts never sign in, and say nothing more.
		h.addUser("off@example.com", "correct horse battery")
		h.must(204, "PATCH", h.tenant.AdminAPI+"/users/"+h.user("off@example.com").ID, h.tok, map[string]any{"accountEnabled": false})
		b2 := newBrowser(t, rpRedirect)
		login = h.begin(b2)
		off := tryLogin(b2, login, "off@example.com", "correct horse battery")
		if off.status != http.StatusBadRequest || !strings.Contains(text(off.body), "The email address or password is incorrect.") {
			t.Errorf("disabled account: status %d, body %.300s", off.status, text(off.body))
		}
	})
}

// TestSignInDelays checks RL-1 and RL-2: five failures cost nothing, then
// each attempt waits for a growing delay, with the same message for
// accounts and unknown addresses (RL-4); a hundred consecutive failures stop
// password sign-in until the password is reset.
func TestSignInDelays(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		login := h.begin(b)
		const throttled = "Too many failed attempts. Wait a few minutes, or reset your password."

		for i := 1; i <= 5; i++ {
			known := tryLogin(b, login, "ada@example.com", "wrong horse battery")
			unknown := tryLogin(b, login, "nobody@example.com", "wrong horse battery")
			if known.status != http.StatusBadRequest || unknown.status != known.status || strings.ReplaceAll(unknown.body, "nobody@", "ada@") != known.body {
				t.Fatalf("failure %d: statuses %d and %d; bodies %.300s / %.300s", i, known.status, unknown.status, text(known.body), text(unknown.body))
			}
		}
		// The sixth attempt comes too soon, even with the right password.
		known := tryLogin(b, login, "ada@example.com", "correct horse battery")
		unknown := tryLogin(b, login, "nobody@example.com", "correct horse battery")
		if known.status != http.StatusTooManyRequests || !strings.Contains(text(known.body), throttled) {
			t.Fatalf("attempt 6 at once: status %d, body %.300s", known.status, text(known.body))
		}
		if unknown.status != known.status || strings.ReplaceAll(unknown.body, "nobody@", "ada@") != known.body {
			t.Errorf("attempt 6: unknown address answered differently: %d %.300s", unknown.status, text(unknown.body))
		}
		if u := h.user("ada@example.com"); u.FailedSignIns != 5 {
			t.Errorf("a refused attempt counted: FailedSignIns = %d, want 5", u.FailedSignIns)
		}
		// After 2^0 s the next attempt is let through; a failure then
		// doubles the wait.
		h.clk.Advance(time.Second)
		if r := tryLogin(b, login, "ada@example.com", "wrong horse battery"); r.status != http.StatusBadRequest {
			t.Fatalf("attempt after the delay: status %d, body %.300s", r.status, text(r.body))
		}
		h.clk.Advance(time.Second)
		if r := tryLogin(b, login, "ada@example.com", "correct horse battery"); r.status != http.StatusTooManyRequests {
			t.Errorf("1 s after the 6th failure (delay 2 s): status %d", r.status)
		}
		h.clk.Advance(time.Second)
		h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
		if u := h.user("ada@example.com"); u.FailedSignIns != 0 {
			t.Errorf("FailedSignIns = %d after a sign-in", u.FailedSignIns)
		}

		// The delays are capped at 15 minutes...
		ctx := context.Background()
		setFailures := func(n int) {
			t.Helper()
			err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.UpdateUser(ctx, h.tenant.TenantID, h.user("ada@example.com").ID, func(u *gatehouse.User) error {
					u.FailedSignIns, u.LastFailedSignIn = n, h.clk.Now()
					return nil
				})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		b = newBrowser(t, rpRedirect)
		login = h.begin(b)
		setFailures(99)
		h.clk.Advance(15*time.Minute - time.Second)
		if r := tryLogin(b, login, "ada@example.com", "correct horse battery"); r.status != http.StatusTooManyRequests {
			t.Errorf("99 failures, 15 min less 1 s later: status %d", r.status)
		}
		h.clk.Advance(time.Second)
		if r := tryLogin(b, login, "ada@example.com", "wrong horse battery"); r.status != http.StatusBadRequest {
			t.Errorf("99 failures, 15 min later: status %d", r.status)
		}
		// ...and the hundredth failure stops password sign-in until a reset.
		h.clk.Advance(24 * time.Hour)
		login = h.begin(b) // the sign-in attempt itself has expired
		if r := tryLogin(b, login, "ada@example.com", "correct horse battery"); r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), throttled) {
			t.Errorf("100 failures, a day later: status %d", r.status)
		}
	})
}

func TestSignInPerIPLimit(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{perIP: 30})
	b := newBrowser(t, rpRedirect)
	login := h.begin(b)
	for i := 1; i <= 30; i++ {
		// Different addresses: only the per-IP limit applies.
		if r := tryLogin(b, login, "n"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com", "x"); r.status != http.StatusBadRequest {
			t.Fatalf("attempt %d: status %d, body %.300s", i, r.status, text(r.body))
		}
	}
	r := tryLogin(b, login, "ada@example.com", "x")
	if r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), "Too many sign-in attempts from your network") {
		t.Errorf("attempt 31: status %d, body %.300s", r.status, text(r.body))
	}
	h.clk.Advance(5 * time.Minute)
	if r := tryLogin(b, login, "ada@example.com", "x"); r.status != http.StatusBadRequest {
		t.Errorf("5 minutes later: status %d", r.status)
	}
}

func TestPasswordlessSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{idp: gatehouse.IdentityProviderEmailOTP})
		h.addUser("ada@example.com", "")

		// An account signs in with a code (amr otp).
		b := newBrowser(t, rpRedirect)
		first := h.begin(b)
		if !strings.HasSuffix(first.url.Path, "/acme/login/email") || !strings.Contains(first.body, ">Next</button>") {
			t.Fatalf("passwordless flow starts at %s", first.url.Path)
		}
		if strings.Contains(first.body, `type="password"`) {
			t.Errorf("the passwordless page asks for a password")
		}
		code := h.step(b, first, map[string]string{"email": "ada@example.com"})
		claims := h.signedIn(h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")}))
		if amr(claims) != "otp" || claims["email"] != "ada@example.com" {
			t.Errorf("claims %v", claims)
		}

		// A new address signs up: details without a password, then signed in.
		b = newBrowser(t, rpRedirect)
		code = h.step(b, h.begin(b), map[string]string{"email": "grace@example.com"})
		details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "grace@example.com")})
		if !strings.HasSuffix(details.url.Path, "/signup/details") || strings.Contains(details.body, `type="password"`) {
			t.Fatalf("new passwordless user: at %s; body %.400s", details.url.Path, text(details.body))
		}
		claims = h.signedIn(h.step(b, details, map[string]string{"attr.displayName": "Grace Hopper"}))
		if amr(claims) != "otp" || claims["email"] != "grace@example.com" {
			t.Errorf("claims %v", claims)
		}
		if u := h.user("grace@example.com"); u.DisplayName != "Grace Hopper" || u.PasswordHash != "" || !u.AccountEnabled {
			t.Errorf("new user %+v", u)
		}
	})
}

func TestPasswordlessSignUpOff(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{idp: gatehouse.IdentityProviderEmailOTP, signUpOff: true})
	h.addUser("ada@example.com", "")
	// An unknown address sees what an account sees, and gets no mail.
	bKnown, bUnknown := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
	known := h.step(bKnown, h.begin(bKnown), map[string]string{"email": "ada@example.com"})
	h.smtp.CodeFor(t, "ada@example.com")
	sent := len(h.smtp.Messages())
	unknown := h.step(bUnknown, h.begin(bUnknown), map[string]string{"email": "nobody@example.com"})
	if text(known.body) != strings.ReplaceAll(text(unknown.body), "nobody@", "ada@") {
		t.Errorf("code pages differ:\n%s\n%s", text(known.body), text(unknown.body))
	}
	// Even a correct guess of a code cannot sign in.
	r := noFollow(bUnknown).submit(unknown, map[string]string{"code": "12345678"})
	if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code is wrong.") {
		t.Errorf("code for an unknown address: status %d, body %.300s", r.status, text(r.body))
	}
	if n := len(h.smtp.Messages()); n != sent {
		t.Errorf("%d messages sent for an unknown address with sign-up off", n-sent)
	}
}
