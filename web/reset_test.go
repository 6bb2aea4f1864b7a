package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
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
		h.setStrikes(mail, 100)

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
		if n, _ := h.strikes(mail); n != 0 {
			t.Errorf("%d failures recorded after the reset", n)
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
// an account, or whose account has no password, sees the same pages and
// gets one mail as an account does: a notice instead of a code.
func TestPasswordResetUnknownAddress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.addUser("nopw@example.com", "")
		before := len(h.smtp.Messages())

		bKnown := newBrowser(t, rpRedirect)
		known := h.step(bKnown, h.follow(bKnown, h.begin(bKnown), "Forgot your password?"), map[string]string{"email": "ada@example.com"})
		for _, addr := range []string{"nobody@example.com", "nopw@example.com"} {
			b := newBrowser(t, rpRedirect)
			p := h.step(b, h.follow(b, h.begin(b), "Forgot your password?"), map[string]string{"email": addr})
			if text(known.body) != strings.ReplaceAll(text(p.body), addr, "ada@example.com") {
				t.Errorf("reset of %s: pages differ:\n%s\n%s", addr, text(known.body), text(p.body))
			}
		}
		checkOneMailEach(t, h.smtp.Messages()[before:], map[string]string{
			"ada@example.com":    "Use this code to reset",
			"nobody@example.com": "Someone asked for a password reset for acme with this email address, but there is no account for it. If this wasn't you, you can ignore this email.",
			"nopw@example.com":   "Someone asked for a password reset for acme with this email address, but its account can't be used this way.",
		})
	})
}

// TestCodeMailFailsAlike checks RL-4 when mail fails: with the SMTP server
// down, asking for a reset code, or for a sign-in code where sign-up is
// off, gets the same answer for an address with an account and one
// without.
func TestCodeMailFailsAlike(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		smtp, err := notify.NewSMTP(notify.SMTPConfig{URL: smtptest.ClosedURL(t), From: "no-reply@acme.example", Attempts: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			opt   hostedOptions
			start func(h *hostedEnv, b *browser) page
		}{
			{"reset", hostedOptions{sender: smtp}, func(h *hostedEnv, b *browser) page {
				return h.follow(b, h.begin(b), "Forgot your password?")
			}},
			{"passwordless sign-up off", hostedOptions{sender: smtp, idp: gatehouse.IdentityProviderEmailOTP, signUpOff: true},
				func(h *hostedEnv, b *browser) page { return h.begin(b) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHostedEnv(t, eng, tc.opt)
				h.addUser("ada@example.com", "correct horse battery")
				bKnown, bUnknown := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
				known := noFollow(bKnown).submit(tc.start(h, bKnown), map[string]string{"email": "ada@example.com"})
				unknown := noFollow(bUnknown).submit(tc.start(h, bUnknown), map[string]string{"email": "nobody@example.com"})
				if known.status != http.StatusServiceUnavailable || !strings.Contains(text(known.body), "We couldn't send the email right now.") {
					t.Errorf("account: status %d, %.300s", known.status, text(known.body))
				}
				if unknown.status != known.status || strings.ReplaceAll(text(unknown.body), "nobody@", "ada@") != text(known.body) {
					t.Errorf("account got %d, unknown address %d:\n%.400s\n%.400s", known.status, unknown.status, text(known.body), text(unknown.body))
				}
			})
		}
	})
}

// TestPasswordResetOnce checks that an accepted reset code sets one new
// password: of two concurrent posts of the new password page, exactly
// one changes the password.
func TestPasswordResetOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		const mail = "ada@example.com"
		h.addUser(mail, "correct horse battery")
		b := newBrowser(t, rpRedirect)
		code := h.step(b, h.follow(b, h.begin(b), "Forgot your password?"), map[string]string{"email": mail})
		newPass := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, mail)})
		before := len(h.smtp.Messages())

		passwords := []string{"first new passphrase", "second new passphrase"}
		answers := make([]page, len(passwords))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, pw := range passwords {
			wg.Go(func() {
				<-start
				answers[i] = noFollow(b).submit(newPass, map[string]string{"password": pw})
			})
		}
		close(start)
		wg.Wait()

		won := -1
		for i, r := range answers {
			if r.status == http.StatusSeeOther && strings.HasSuffix(r.location, "/reset/done") || strings.Contains(r.location, "/reset/done?") {
				if won >= 0 {
					t.Fatalf("both posts reset the password: %d %s, %d %s", answers[0].status, answers[0].location, answers[1].status, answers[1].location)
				}
				won = i
			}
		}
		if won < 0 {
			t.Fatalf("no post reset the password: %d %s %.200s, %d %s %.200s", answers[0].status, answers[0].location, text(answers[0].body),
				answers[1].status, answers[1].location, text(answers[1].body))
		}
		if lost := answers[1-won]; lost.status == http.StatusSeeOther && strings.Contains(lost.location, "/reset/done") {
			t.Errorf("the losing post was sent to the done page")
		}
		notices := 0
		for _, m := range h.smtp.Messages()[before:] {
			if strings.Contains(m.Subject, "password was changed") {
				notices++
			}
		}
		if notices != 1 {
			t.Errorf("%d password-changed notices, want 1", notices)
		}
		// The winner's password is the one that signs in.
		b2 := newBrowser(t, rpRedirect)
		login := h.begin(b2)
		if r := tryLogin(b2, login, mail, passwords[1-won]); r.status != http.StatusBadRequest {
			t.Errorf("the losing password: status %d", r.status)
		}
		h.signedIn(h.step(b2, login, map[string]string{"email": mail, "password": passwords[won]}))
	})
}
