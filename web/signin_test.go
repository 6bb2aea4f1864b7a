package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
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
		if n, _ := h.strikes("ada@example.com"); n != 1 {
			t.Errorf("%d failures recorded after one, want 1", n)
		}
		claims := h.signedIn(h.step(b, login, map[string]string{"email": "ADA@example.com ", "password": "correct horse battery"}))
		if amr(claims) != "pwd" || claims["email"] != "ada@example.com" {
			t.Errorf("claims %v", claims)
		}
		if n, last := h.strikes("ada@example.com"); n != 0 || !last.IsZero() {
			t.Errorf("after a sign-in: %d failures recorded, the last at %v", n, last)
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
		if n, _ := h.strikes("ada@example.com"); n != 5 {
			t.Errorf("a refused attempt counted: %d failures recorded, want 5", n)
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
		if n, _ := h.strikes("ada@example.com"); n != 0 {
			t.Errorf("%d failures recorded after a sign-in", n)
		}

		// The delays are capped at 15 minutes...
		b = newBrowser(t, rpRedirect)
		login = h.begin(b)
		h.setStrikes("ada@example.com", 99)
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
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{perIP: 30})
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
	})
}

// forwardedBrowser returns a new browser whose requests reach the server
// as through a proxy that sets X-Forwarded-For to xff.
func forwardedBrowser(t *testing.T, xff string) *browser {
	b := newBrowser(t, rpRedirect)
	b.client.Transport = forwardingTransport(xff)
	return b
}

// forwardingTransport sets X-Forwarded-For on every request.
type forwardingTransport string

func (xff forwardingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(xff))
	return http.DefaultTransport.RoundTrip(r)
}

// TestSignInPerIPLimitBehindProxy checks that behind a trusted proxy each
// client's forwarded address has a sign-in limit of its own (an IPv6
// client's /64), that what a client puts in front of X-Forwarded-For does
// not change whose limit it spends, that the logs record the client's
// full address and the proxy, and that the X-Forwarded-For of a peer that
// is not trusted is ignored.
func TestSignInPerIPLimitBehindProxy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		const limit = 3
		n := 0
		attempt := func(h *hostedEnv, xff string, want int) {
			t.Helper()
			n++ // a new address each time: only the per-IP limit applies
			b := forwardedBrowser(t, xff)
			r := tryLogin(b, h.begin(b), fmt.Sprintf("n%d@example.com", n), "x")
			if r.status != want {
				t.Fatalf("attempt %d from %q: status %d, want %d; body %.300s", n, xff, r.status, want, text(r.body))
			}
			if want == http.StatusTooManyRequests && !strings.Contains(text(r.body), "Too many sign-in attempts from your network") {
				t.Fatalf("attempt %d from %q: body %.300s", n, xff, text(r.body))
			}
		}

		// The test's connections come from 127.0.0.1: the proxy.
		var logs lockedBuffer
		h := newHostedEnv(t, eng, hostedOptions{perIP: limit, trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			logger: slog.New(slog.NewTextHandler(&logs, nil))})
		const a, b = "198.51.100.1", "198.51.100.2"
		for range limit {
			attempt(h, a, http.StatusBadRequest)
		}
		attempt(h, a, http.StatusTooManyRequests)
		attempt(h, b, http.StatusBadRequest)
		// A claims to be B in front of what the proxy appended: still A.
		attempt(h, b+", "+a, http.StatusTooManyRequests)
		// B claims to be A: still B, with a limit left.
		attempt(h, a+", "+b, http.StatusBadRequest)
		// IPv6 clients count by their /64.
		for range limit {
			attempt(h, "2001:db8:1:2::1", http.StatusBadRequest)
		}
		attempt(h, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", http.StatusTooManyRequests)
		attempt(h, "2001:db8:1:3::1", http.StatusBadRequest)
		for _, want := range []string{
			"remote=" + a + " peer=127.0.0.1",                     // the request log
			"method=pwd remote=2001:db8:1:2:aaaa:bbbb:cccc:dddd ", // the sign-in log: the full address
		} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the logs lack %q", want)
			}
		}

		// A peer that is not a trusted proxy: its X-Forwarded-For is
		// ignored, so every attempt counts against the peer.
		h = newHostedEnv(t, eng, hostedOptions{perIP: limit, trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
		for i := range limit {
			attempt(h, fmt.Sprintf("203.0.113.%d", i+1), http.StatusBadRequest)
		}
		attempt(h, "203.0.113.99", http.StatusTooManyRequests)
	})
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
		if amr(claims) != "otp email" || claims["acr"] != "1" || claims["email"] != "ada@example.com" {
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
		if amr(claims) != "otp email" || claims["acr"] != "1" || claims["email"] != "grace@example.com" {
			t.Errorf("claims %v", claims)
		}
		if u := h.user("grace@example.com"); u.DisplayName != "Grace Hopper" || u.PasswordHash != "" || !u.AccountEnabled {
			t.Errorf("new user %+v", u)
		}
	})
}

func TestPasswordlessSignUpOff(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{idp: gatehouse.IdentityProviderEmailOTP, signUpOff: true})
		h.addUser("ada@example.com", "")
		// An unknown address sees what an account sees, and gets one mail: a
		// notice instead of a code.
		bKnown, bUnknown := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
		known := h.step(bKnown, h.begin(bKnown), map[string]string{"email": "ada@example.com"})
		h.smtp.CodeFor(t, "ada@example.com")
		unknown := h.step(bUnknown, h.begin(bUnknown), map[string]string{"email": "nobody@example.com"})
		if text(known.body) != strings.ReplaceAll(text(unknown.body), "nobody@", "ada@") {
			t.Errorf("code pages differ:\n%s\n%s", text(known.body), text(unknown.body))
		}
		checkOneMailEach(t, h.smtp.Messages(), map[string]string{
			"ada@example.com":    "Use this code to sign in to acme",
			"nobody@example.com": "Someone asked for a sign-in code for acme with this email address, but there is no account for it. If this wasn't you, you can ignore this email.",
		})
		sent := len(h.smtp.Messages())
		// Even a correct guess of a code cannot sign in.
		r := noFollow(bUnknown).submit(unknown, map[string]string{"code": "12345678"})
		if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code is wrong.") {
			t.Errorf("code for an unknown address: status %d, body %.300s", r.status, text(r.body))
		}
		if n := len(h.smtp.Messages()); n != sent {
			t.Errorf("%d messages sent for an unknown address with sign-up off", n-sent)
		}
	})
}

// strikes returns the failure record of password sign-in with the
// address: the count and the time of the last failure.
func (h *hostedEnv) strikes(mail string) (n int, last time.Time) {
	h.t.Helper()
	ctx := context.Background()
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		var err error
		n, last, err = tx.Strikes(ctx, h.tenant.TenantID, "signin:"+gatehouse.NormalizeMail(mail))
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return n, last
}

// setStrikes makes the failure record of the address n failures, the last
// one now.
func (h *hostedEnv) setStrikes(mail string, n int) {
	h.t.Helper()
	ctx := context.Background()
	key := "signin:" + gatehouse.NormalizeMail(mail)
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		if err := tx.ClearStrikes(ctx, h.tenant.TenantID, key); err != nil {
			return err
		}
		for range n {
			if _, err := tx.AddStrike(ctx, h.tenant.TenantID, key, h.clk.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestSignInThrottleSameForUnknown checks RL-4 for throttling: an address
// with an account and one without, tried at the same instants, get the
// same statuses and pages, whatever the timing: attempts just past a
// whole second, across the top of an hour, and at the cap of failures.
func TestSignInThrottleSameForUnknown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{perIP: 100000})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)

		// Start at x.80 s, ten seconds before the top of an hour. The
		// sign-in attempt begins there: one begun before the jump, up to
		// an hour earlier, would have expired.
		now := h.clk.Now()
		hour := now.Truncate(time.Hour).Add(time.Hour)
		h.clk.Advance(hour.Add(-10*time.Second + 800*time.Millisecond).Sub(now))
		login := h.begin(b)

		step := 0
		try := func(pw string, want int) {
			t.Helper()
			step++
			known := tryLogin(b, login, "ada@example.com", pw)
			unknown := tryLogin(b, login, "nobody@example.com", pw)
			at := h.clk.Now().Sub(hour)
			if unknown.status != known.status || strings.ReplaceAll(unknown.body, "nobody@", "ada@") != known.body {
				t.Fatalf("step %d (%v from the hour): the account got %d, the unknown address %d:\n%.300s\n%.300s",
					step, at, known.status, unknown.status, text(known.body), text(unknown.body))
			}
			if known.status != want {
				t.Fatalf("step %d (%v from the hour): status %d, want %d; %.300s", step, at, known.status, want, text(known.body))
			}
		}
		const wrong = "wrong horse battery"
		for range 5 { // free failures, the fifth at x.80 s
			try(wrong, http.StatusBadRequest)
		}
		h.clk.Advance(350 * time.Millisecond) // (x+1).15 s: within the 1 s delay
		try(wrong, http.StatusTooManyRequests)
		h.clk.Advance(650 * time.Millisecond) // the delay is over
		try(wrong, http.StatusBadRequest)     // 6 failures: 2 s
		h.clk.Advance(1500 * time.Millisecond)
		try(wrong, http.StatusTooManyRequests)
		h.clk.Advance(500 * time.Millisecond)
		try(wrong, http.StatusBadRequest) // 7: 4 s, 6.2 s before the hour
		h.clk.Advance(4 * time.Second)
		try(wrong, http.StatusBadRequest) // 8: 8 s, 2.2 s before the hour
		h.clk.Advance(2 * time.Second)
		try(wrong, http.StatusTooManyRequests) // 0.2 s before the hour
		h.clk.Advance(time.Second)
		try(wrong, http.StatusTooManyRequests) // past the hour, within the delay
		h.clk.Advance(5 * time.Second)
		try(wrong, http.StatusBadRequest) // 9: 16 s
		h.clk.Advance(15 * time.Second)
		try(wrong, http.StatusTooManyRequests)
		h.clk.Advance(time.Second)
		try(wrong, http.StatusBadRequest) // 10

		// Both addresses at 98 failures: the 99th and 100th go through
		// after the longest delay, then nothing does, not even a day
		// later with the right password.
		h.setStrikes("ada@example.com", 98)
		h.setStrikes("nobody@example.com", 98)
		// (A sign-in attempt expires: each try after a long wait starts
		// a new one.)
		h.clk.Advance(15*time.Minute - time.Second)
		login = h.begin(b)
		try(wrong, http.StatusTooManyRequests)
		h.clk.Advance(time.Second)
		try(wrong, http.StatusBadRequest) // 99
		h.clk.Advance(15 * time.Minute)
		login = h.begin(b)
		try(wrong, http.StatusBadRequest) // 100
		for _, d := range []time.Duration{0, 15 * time.Minute, time.Hour, 24 * time.Hour} {
			h.clk.Advance(d)
			login = h.begin(b)
			try("correct horse battery", http.StatusTooManyRequests)
		}
		for _, mail := range []string{"ada@example.com", "nobody@example.com"} {
			if n, _ := h.strikes(mail); n != 100 {
				t.Errorf("%s: %d failures recorded, want 100", mail, n)
			}
		}
	})
}

// checkOneMailEach checks that msgs are one mail to each address of want,
// whose text (with its white space collapsed) contains want's text.
func checkOneMailEach(t *testing.T, msgs []smtptest.Received, want map[string]string) {
	t.Helper()
	got := map[string][]string{}
	for _, m := range msgs {
		for _, to := range m.To {
			got[to] = append(got[to], strings.Join(strings.Fields(m.Text), " "))
		}
	}
	for to, texts := range got {
		if _, ok := want[to]; !ok {
			t.Errorf("%d mails to %s, want none", len(texts), to)
		}
	}
	for to, w := range want {
		if len(got[to]) != 1 || !strings.Contains(got[to][0], w) {
			t.Errorf("mails to %s: %q, want one containing %q", to, got[to], w)
		}
	}
}

// TestSignInPageWithoutMail checks that a server without mail (no SMTP, no
// development mailbox) does not offer sign-up or "Forgot your password?",
// which would end on an error, and says that email is not set up; with
// mail, or a development mailbox, both are offered.
func TestSignInPageWithoutMail(t *testing.T) {
	const noMailBoth = "You can't create an account or reset your password here yet: this site's administrator has not set up email."
	const noMailReset = "You can't reset your password here yet: this site's administrator has not set up email."
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		for _, c := range []struct {
			name      string
			opt       hostedOptions
			links     []string // the links of the sign-in page
			says, not string
		}{
			{"no mail", hostedOptions{noMail: true}, nil, noMailBoth, "Forgot your password?"},
			{"no mail, sign-up off", hostedOptions{noMail: true, signUpOff: true}, nil, noMailReset, "create an account"},
			{"SMTP", hostedOptions{}, []string{"/acme/reset", "/acme/signup"}, "Forgot your password? No account? Sign up", "has not set up email"},
			{"SMTP, sign-up off", hostedOptions{signUpOff: true}, []string{"/acme/reset"}, "Forgot your password?", "has not set up email"},
			{"development mailbox", hostedOptions{mailbox: notify.NewMailbox(0, nil)}, []string{"/acme/reset", "/acme/signup"}, "Forgot your password? No account? Sign up", "has not set up email"},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := newHostedEnv(t, eng, c.opt)
				b := newBrowser(t, rpRedirect)
				login := h.begin(b)
				var links []string
				for _, m := range regexp.MustCompile(`<a href="([^"?]*)`).FindAllStringSubmatch(login.body, -1) {
					links = append(links, m[1])
				}
				if strings.Join(links, " ") != strings.Join(c.links, " ") {
					t.Errorf("links %q, want %q", links, c.links)
				}
				body := text(login.body)
				if !strings.Contains(body, c.says) || strings.Contains(body, c.not) {
					t.Errorf("the sign-in page says:\n%s\nwant %q and not %q", body, c.says, c.not)
				}
				// Password sign-in works either way, and the throttle's
				// message suggests a reset only where there can be one.
				h.addUser("ada@example.com", "correct horse battery")
				h.setStrikes("grace@example.com", 100)
				r := tryLogin(b, login, "grace@example.com", "whatever it is")
				wantThrottle := "Too many failed attempts. Wait a few minutes, or reset your password."
				if c.opt.noMail {
					wantThrottle = "Too many failed attempts. Wait a few minutes and try again."
				}
				if r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), wantThrottle) {
					t.Errorf("throttled sign-in: status %d, %.300s; want 429 and %q", r.status, text(r.body), wantThrottle)
				}
				h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
			})
		}
	})
}
