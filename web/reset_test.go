package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

func TestPasswordReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		const mail, oldPW, newPW = "ada@example.com", "correct horse battery", "a brand new passphrase"
		h.addUser(mail, oldPW)

		// Two browsers are signed in; one app holds a refresh token.
		var sessions []string
		var refresh string
		for range 2 {
			b := newBrowser(t, rpRedirect)
			back := h.step(b, h.begin(b), map[string]string{"email": mail, "password": oldPW})
			u, _ := url.Parse(back.location)
			tok, err := h.app.cfg.Exchange(ctx, u.Query().Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			refresh = tok.RefreshToken
			sessions = append(sessions, h.sessionOf(b))
		}
		for _, id := range sessions {
			if !h.sessionExists(id) {
				t.Fatalf("session %s missing before the reset", id)
			}
		}
		// The account has failed a hundred times: only a reset helps.
		err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, h.tenant.TenantID, h.user(mail).ID, func(u *gatehouse.User) error {
				u.FailedSignIns, u.LastFailedSignIn = 100, h.clk.Now()
				return nil
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		b := newBrowser(t, rpRedirect)
		login := h.begin(b)
		reset := h.follow(b, login, "Forgot your password?")
		if input(t, reset, "email")["autocomplete"] != "username" || !strings.Contains(reset.body, ">Send code</button>") {
			t.Errorf("reset page markup: %.400s", reset.body)
		}
		code := h.step(b, reset, map[string]string{"email": mail})
		newPass := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, mail)})
		if in := input(t, newPass, "password"); in["autocomplete"] != "new-password" || label(t, newPass, "password") != "New password" ||
			!strings.Contains(newPass.body, ">Reset password</button>") {
			t.Errorf("new password page: %v", in)
		}
		if r := noFollow(b).submit(newPass, map[string]string{"password": "short"}); r.status != http.StatusBadRequest ||
			!strings.Contains(text(r.body), "Use at least 8 characters.") {
			t.Errorf("short password: status %d, %.300s", r.status, text(r.body))
		}
		done := h.step(b, newPass, map[string]string{"password": newPW})

		// No automatic sign-in (LC-4): a page that sends the user to sign in.
		if !strings.HasSuffix(done.url.Path, "/acme/reset/done") || done.status != 200 ||
			!strings.Contains(text(done.body), "Your password has been changed. Sign in with your new password.") {
			t.Fatalf("after the reset: %s status %d, %.300s", done.url.Path, done.status, text(done.body))
		}
		if h.sessionOf(b) != "" {
			t.Errorf("the reset left a session cookie")
		}
		// Every session and refresh token of the user has ended.
		for _, id := range sessions {
			if h.sessionExists(id) {
				t.Errorf("session %s survived the reset", id)
			}
		}
		if _, err := h.app.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token(); err == nil {
			t.Errorf("a refresh token survived the reset")
		}
		if u := h.user(mail); u.FailedSignIns != 0 {
			t.Errorf("FailedSignIns = %d after the reset", u.FailedSignIns)
		}
		// The user was told (RL-5), in mail without links.
		notice := h.smtp.WaitFor(t, func(r smtptest.Received) bool { return strings.Contains(r.Subject, "password was changed") }, 0)
		if strings.Contains(notice.Text, "http") {
			t.Errorf("the notice has a link:\n%s", notice.Text)
		}

		// The old password fails; the new one signs in, in the same request.
		login = h.follow(b, done, "Sign in")
		if r := tryLogin(b, login, mail, oldPW); r.status != http.StatusBadRequest {
			t.Errorf("old password after the reset: status %d", r.status)
		}
		if in := input(t, login, "email"); in["value"] != mail {
			t.Errorf("the sign-in page after a reset does not offer the address: %v", in)
		}
		h.signedIn(h.step(b, login, map[string]string{"email": mail, "password": newPW}))

		// The reset pages cannot be replayed.
		if r := b.get(newPass.url.String()); strings.Contains(r.body, ">Reset password</button>") {
			t.Errorf("the new password page still works")
		}
	})
}

// TestPasswordResetUnknownAddress checks RL-4 for reset: an address without
// an account sees the same pages and gets no mail.
func TestPasswordResetUnknownAddress(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{})
	h.addUser("ada@example.com", "correct horse battery")
	h.addUser("nopw@example.com", "")

	bKnown := newBrowser(t, rpRedirect)
	known := h.step(bKnown, h.follow(bKnown, h.begin(bKnown), "Forgot your password?"), map[string]string{"email": "ada@example.com"})
	h.smtp.CodeFor(t, "ada@example.com")
	sent := len(h.smtp.Messages())
	for _, addr := range []string{"nobody@example.com", "nopw@example.com"} {
		b := newBrowser(t, rpRedirect)
		p := h.step(b, h.follow(b, h.begin(b), "Forgot your password?"), map[string]string{"email": addr})
		if text(known.body) != strings.ReplaceAll(text(p.body), addr, "ada@example.com") {
			t.Errorf("reset of %s: pages differ:\n%s\n%s", addr, text(known.body), text(p.body))
		}
	}
	if n := len(h.smtp.Messages()); n != sent {
		t.Errorf("%d messages sent for addresses without a password", n-sent)
	}
}
