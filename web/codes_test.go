package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
)

var codeRE = regexp.MustCompile(`\b[0-9]{8}\b`)

// signUpCodePage starts a sign-up for mail and returns the code page.
func (h *hostedEnv) signUpCodePage(b *browser, mail string) page {
	h.t.Helper()
	return h.step(b, h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": mail})
}

// tryCode posts a code and returns the answer without following it.
func tryCode(b *browser, p page, code string) page {
	return noFollow(b).submit(p, map[string]string{"code": code})
}

// otherCode returns a code that differs from code.
func otherCode(code string) string {
	if code == "00000000" {
		return "11111111"
	}
	return "00000000"
}

func TestEmailCodeRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		const mail = "grace@example.com"

		t.Run("five wrong tries kill the code (EO-5)", func(t *testing.T) {
			b := newBrowser(t, rpRedirect)
			p := h.signUpCodePage(b, mail)
			code := h.smtp.CodeFor(t, mail)
			for i := 1; i <= 4; i++ {
				r := tryCode(b, p, otherCode(code))
				if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code is wrong. Check the email and try again.") {
					t.Fatalf("wrong code %d: status %d, %.300s", i, r.status, text(r.body))
				}
			}
			r := tryCode(b, p, otherCode(code))
			if !strings.Contains(text(r.body), "Too many wrong codes. We sent a new one.") {
				t.Fatalf("wrong code 5: status %d, %.300s", r.status, text(r.body))
			}
			fresh := h.smtp.CodeFor(t, mail)
			if r := tryCode(b, p, code); r.status != http.StatusBadRequest {
				t.Errorf("the killed code still works: status %d", r.status)
			}
			if fresh != code {
				h.step(b, p, map[string]string{"code": fresh})
			}
		})

		t.Run("a resend invalidates the earlier code (EO-3)", func(t *testing.T) {
			b := newBrowser(t, rpRedirect)
			p := h.signUpCodePage(b, mail)
			first := h.smtp.CodeFor(t, mail)
			// Not at once: the resend cooldown.
			r := noFollow(b).submit(p, map[string]string{"action": "resend"})
			if r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), "Wait a few seconds before asking for another code.") {
				t.Fatalf("resend at once: status %d, %.300s", r.status, text(r.body))
			}
			h.clk.Advance(31 * time.Second)
			r = noFollow(b).submit(p, map[string]string{"action": "resend"})
			if r.status != http.StatusOK || !strings.Contains(text(r.body), "We sent a new code.") {
				t.Fatalf("resend: status %d, %.300s", r.status, text(r.body))
			}
			second := h.smtp.CodeFor(t, mail)
			if first != second {
				if r := tryCode(b, p, first); r.status != http.StatusBadRequest {
					t.Errorf("the first code works after a resend: status %d", r.status)
				}
			}
			h.step(b, p, map[string]string{"code": second})
		})

		t.Run("an expired code is replaced (EO-2)", func(t *testing.T) {
			b := newBrowser(t, rpRedirect)
			p := h.signUpCodePage(b, mail)
			code := h.smtp.CodeFor(t, mail)
			h.clk.Advance(10 * time.Minute)
			r := tryCode(b, p, code)
			if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code has expired. We sent a new one.") {
				t.Fatalf("expired code: status %d, %.300s", r.status, text(r.body))
			}
			h.step(b, p, map[string]string{"code": h.smtp.CodeFor(t, mail)})
		})

		t.Run("a code works only in its own sign-in (EO-3)", func(t *testing.T) {
			b1, b2 := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
			p1 := h.signUpCodePage(b1, mail)
			code1 := h.smtp.CodeFor(t, mail)
			h.clk.Advance(31 * time.Second) // the per-address limits are per hour, not per request
			p2 := h.signUpCodePage(b2, mail)
			code2 := h.smtp.CodeFor(t, mail)
			if code1 != code2 {
				if r := tryCode(b2, p2, code1); r.status != http.StatusBadRequest {
					t.Errorf("another sign-in's code was accepted: status %d", r.status)
				}
			}
			h.step(b1, p1, map[string]string{"code": code1})
		})

		t.Run("concurrent submissions of one code: one wins (EO-3)", func(t *testing.T) {
			b := newBrowser(t, rpRedirect)
			p := h.signUpCodePage(b, mail)
			code := h.smtp.CodeFor(t, mail)
			vals := formValues(t, p, "code", code)
			const n = 8
			statuses := make(chan string, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					req, _ := http.NewRequest("POST", p.url.Scheme+"://"+p.url.Host+"/acme/signup/code", strings.NewReader(vals.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := noFollow(b).client.Do(req)
					if err != nil {
						statuses <- err.Error()
						return
					}
					resp.Body.Close()
					statuses <- resp.Status + " " + resp.Header.Get("Location")
				}()
			}
			close(start)
			wg.Wait()
			close(statuses)
			won := 0
			// The winner goes on to the details; the others are told the
			// code is no longer valid or, once the sign-up has moved on,
			// sent back to its start.
			for st := range statuses {
				switch {
				case strings.HasPrefix(st, "303") && strings.Contains(st, "/signup/details"):
					won++
				case strings.HasPrefix(st, "400"), strings.HasPrefix(st, "303") && strings.Contains(st, "/acme/signup?"):
				default:
					t.Errorf("a concurrent submission got %s", st)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d concurrent submissions of one code succeeded, want exactly 1", won, n)
			}
		})

		t.Run("send limits per address (RL-6)", func(t *testing.T) {
			const victim = "victim@example.com"
			h.clk.Advance(time.Hour)
			for i := 1; i <= 10; i++ {
				b := newBrowser(t, rpRedirect)
				h.signUpCodePage(b, victim)
			}
			b := newBrowser(t, rpRedirect)
			r := noFollow(b).submit(h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": victim})
			if r.status != http.StatusTooManyRequests || !strings.Contains(text(r.body), "We've sent several codes to this address") {
				t.Errorf("11th code to one address in an hour: status %d, %.300s", r.status, text(r.body))
			}
		})
	})
}

// formValues returns the values the page's first POST form with an input
// named field would send, with field set to value.
func formValues(t *testing.T, p page, field, value string) url.Values {
	t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		vals := url.Values{}
		found := false
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			if a["name"] == field {
				found = true
				vals.Set(field, value)
			} else if a["name"] != "" {
				vals.Set(a["name"], a["value"])
			}
		}
		if found {
			return vals
		}
	}
	t.Fatalf("no form with %s on %s", field, p.url)
	return nil
}

func TestMailFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		t.Run("SMTP down", func(t *testing.T) {
			smtp, err := notify.NewSMTP(notify.SMTPConfig{URL: smtptest.ClosedURL(t), From: "no-reply@acme.example", Attempts: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := newHostedEnv(t, eng, hostedOptions{sender: smtp})
			b := newBrowser(t, rpRedirect)
			r := noFollow(b).submit(h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": "grace@example.com"})
			if r.status != http.StatusServiceUnavailable || !strings.Contains(text(r.body), "We couldn't send the email right now. Please try again in a few minutes.") {
				t.Errorf("SMTP down: status %d, %.300s", r.status, text(r.body))
			}
		})
		t.Run("SMTP hangs", func(t *testing.T) {
			hole := smtptest.StartBlackhole(t)
			smtp, err := notify.NewSMTP(notify.SMTPConfig{URL: hole.URL(), From: "no-reply@acme.example", Attempts: 1, Timeout: 300 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := newHostedEnv(t, eng, hostedOptions{sender: smtp})
			b := newBrowser(t, rpRedirect)
			reset := h.follow(b, h.begin(b), "Forgot your password?")
			h.addUser("ada@example.com", "correct horse battery")
			r := noFollow(b).submit(reset, map[string]string{"email": "ada@example.com"})
			if r.status != http.StatusServiceUnavailable || !strings.Contains(text(r.body), "We couldn't send the email right now.") {
				t.Errorf("SMTP hanging: status %d, %.300s", r.status, text(r.body))
			}
			if hole.Accepted() != 1 {
				t.Errorf("the blackhole saw %d connections, want 1", hole.Accepted())
			}
		})
		t.Run("no SMTP configured", func(t *testing.T) {
			h := newHostedEnv(t, eng, hostedOptions{noMail: true})
			b := newBrowser(t, rpRedirect)
			login := h.begin(b)
			// The sign-in page offers neither (TestSignInPageWithoutMail); at
			// their addresses they say why they cannot work.
			for _, p := range []string{"/acme/signup", "/acme/reset"} {
				r := b.get(h.url + p + "?tx=" + login.url.Query().Get("tx"))
				if r.status != http.StatusServiceUnavailable || !strings.Contains(text(r.body), "This server can't send email yet, so it can't send you a code. Contact the site's administrator.") {
					t.Errorf("%s without mail: status %d, %.300s", p, r.status, text(r.body))
				}
			}
			// Password sign-in still works, and readiness says what is missing.
			h.addUser("ada@example.com", "correct horse battery")
			h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
			r := h.must(200, "GET", h.url+"/readyz", "", nil)
			checks, _ := r.body["checks"].(map[string]any)
			if m, _ := checks["mail"].(string); !strings.HasPrefix(m, "not configured") {
				t.Errorf("readyz mail check %q", m)
			}
		})
	})
}
