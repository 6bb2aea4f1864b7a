package web_test

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smstest"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
)

const (
	smsUser     = "ada@example.com"
	smsPassword = "correct horse battery"
	smsPhone    = "+41446681800"
)

// smsEnv is a hostedEnv whose server texts through a test gateway, with
// the SMS method enabled and a user with a password.
type smsEnv struct {
	*hostedEnv
	gw *smstest.Gateway
}

// newSMSEnv starts an smsEnv; attempts is the webhook's attempts per
// message (0: the default).
func newSMSEnv(t *testing.T, eng storetest.Engine, o hostedOptions, attempts int) *smsEnv {
	t.Helper()
	gw := smstest.Start(t)
	wh, err := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret, Attempts: attempts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.sms = wh
	h := newHostedEnv(t, eng, o)
	h.enableMethod("Sms")
	h.addUser(smsUser, smsPassword)
	return &smsEnv{hostedEnv: h, gw: gw}
}

// nextWindow moves the clock to the start of the next hour, where every
// hourly send limit starts from zero.
func (h *hostedEnv) nextWindow() {
	now := h.clk.Now()
	h.clk.Advance(now.Truncate(time.Hour).Add(time.Hour + time.Second).Sub(now))
}

// addPhone registers a phone for the user directly in the store.
func (h *smsEnv) addPhone(mail, phone string) *gatehouse.UserMethod {
	h.t.Helper()
	m := &gatehouse.UserMethod{TenantID: h.tenant.TenantID, UserID: h.user(mail).ID, Method: gatehouse.MethodSMS, DisplayName: "Mobile", Phone: phone}
	ctx := context.Background()
	if err := h.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, m) }); err != nil {
		h.t.Fatal(err)
	}
	return m
}

// codePage signs in a user who has a phone, has a code texted as the
// second factor, and returns the page where it is entered.
func (h *smsEnv) codePage(b *browser, mail string) page {
	h.t.Helper()
	start := h.passwordThenMFA(b, mail, acrMFA)
	if start.url.Path != "/acme/login/mfa/sms" || !strings.Contains(text(start.body), "We'll send a code by text message to your phone, •••• ") {
		h.t.Fatalf("after the password: status %d at %s, want the text message page; %.400s", start.status, start.url, text(start.body))
	}
	return h.step(b, start, map[string]string{"action": "start"})
}

// visible returns the text of a page as a person reads it: text, with
// every character reference decoded (html/template writes "+" as &#43;).
func visible(body string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(body, " "))), " ")
}

// sentCode signs in a user who has the phone in a new browser, has a code
// texted to it as the second factor, and returns the browser, the page
// where the code is entered, and the code.
func (h *smsEnv) sentCode(mail, phone string) (*browser, page, string) {
	h.t.Helper()
	b := newBrowser(h.t, rpRedirect)
	p := h.codePage(b, mail)
	return b, p, h.gw.CodeFor(h.t, phone)
}

// postAll posts each form to its path at once (from a start line, each
// from its own goroutine) and returns each answer's status and Location.
func (h *hostedEnv) postAll(path string, forms []postedForm) []string {
	out := make([]string, len(forms))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, f := range forms {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(f.vals.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := noFollow(f.b).client.Do(req)
			if err != nil {
				out[i] = err.Error()
				return
			}
			resp.Body.Close()
			out[i] = resp.Status + " " + resp.Header.Get("Location")
		})
	}
	close(start)
	wg.Wait()
	return out
}

// postedForm is a form's values and the browser that posts them.
type postedForm struct {
	b    *browser
	vals url.Values
}

// wantPage fails the test unless r has the status and its text holds want.
func wantPage(t *testing.T, what string, r page, status int, want string) {
	t.Helper()
	if r.status != status || !strings.Contains(visible(r.body), want) {
		t.Fatalf("%s: status %d, %.500s; want %d and %q", what, r.status, visible(r.body), status, want)
	}
}

// atApp checks that r is the redirect to the app with a code: the
// sign-in is complete. (Tests that move the clock far ahead of the real
// one cannot have the ID token verified, whose nbf go-oidc checks against
// the real clock.)
func atApp(t *testing.T, r page) {
	t.Helper()
	u, err := url.Parse(r.location)
	if err != nil || !strings.HasPrefix(r.location, rpRedirect) || u.Query().Get("code") == "" {
		t.Fatalf("not back at the app with a code: status %d, location %q, %.400s", r.status, r.location, visible(r.body))
	}
}

// otherSMSCode returns a six-digit code that differs from code.
func otherSMSCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestSMSRegisterAndSignIn is the end-to-end story through the test
// gateway: an app asks for multifactor authentication; a user without a
// second factor registers a phone just in time (the code read at the
// gateway, which verified the request's signature) and is signed in with
// amr pwd sms mfa; the registration is audited and mailed to the user; the
// next sign-in texts a code to that phone.
func TestSMSRegisterAndSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		b := newBrowser(t, rpRedirect)

		form := h.passwordThenMFA(b, smsUser, acrMFA)
		if form.url.Path != "/acme/login/register/sms" {
			t.Fatalf("after the password: at %s, want the phone registration; %.400s", form.url, text(form.body))
		}
		wantPage(t, "the phone form", form, http.StatusOK, "Add your phone")
		if in := input(t, form, "phone"); in["type"] != "tel" || in["autocomplete"] != "tel" || label(t, form, "phone") != "Mobile phone number" {
			t.Errorf("the phone input: %v, label %q", in, label(t, form, "phone"))
		}

		code := h.step(b, form, map[string]string{"phone": "+41 44 668-18-00"})
		wantPage(t, "the code page", code, http.StatusOK, "We sent a code to "+smsPhone+". Enter it below. It expires in 10 minutes.")
		if in := input(t, code, "code"); in["autocomplete"] != "one-time-code" || in["inputmode"] != "numeric" {
			t.Errorf("the code input: %v", in)
		}
		sms := h.gw.CodeFor(t, smsPhone)
		if h.gw.BadSignatures() != 0 {
			t.Errorf("the gateway refused %d signatures", h.gw.BadSignatures())
		}
		msg := h.gw.Messages()[0]
		if !strings.HasSuffix(msg.Text, "\n\n@127.0.0.1 #"+sms) || !strings.Contains(msg.Text, "is your acme code. It expires in 10 minutes.") {
			t.Errorf("the text message %q lacks the tenant, the lifetime or the origin-bound line", msg.Text)
		}

		claims := h.signedIn(h.step(b, code, map[string]string{"code": sms}))
		if got := amr(claims); got != "pwd sms mfa" || claims["acr"] != "2" {
			t.Errorf("amr %q, acr %v; want pwd sms mfa and 2", got, claims["acr"])
		}
		ms, err := h.store.UserMethods(context.Background(), h.tenant.TenantID, h.user(smsUser).ID)
		if err != nil || len(ms) != 1 || ms[0].Method != gatehouse.MethodSMS || ms[0].Phone != smsPhone || ms[0].LastUsedAt.IsZero() {
			t.Fatalf("the user's methods: %+v, %v; want the phone, used", ms, err)
		}

		// Audited (LC-3) and mailed to the user (RL-5).
		audits := h.must(200, "GET", h.tenant.AdminAPI+"/auditLogs/directoryAudits?$filter="+
			url.QueryEscape("activityDisplayName eq 'User registered security info'"), h.tok, nil)
		entries, _ := audits.body["value"].([]any)
		if len(entries) != 1 || !strings.Contains(audits.raw, `phone for text messages (•••• 1800)`) || !strings.Contains(audits.raw, h.user(smsUser).ID) {
			t.Errorf("audit log: %s", audits.raw)
		}
		notice := h.smtp.WaitFor(t, func(m smtptest.Received) bool { return strings.Contains(m.Subject, "security info changed") }, 10*time.Second)
		if !strings.Contains(notice.Text, "A phone for text messages (•••• 1800) was added on your acme account by you, while signing in.") ||
			notice.To[0] != smsUser {
			t.Errorf("the notice: to %v, %q", notice.To, notice.Text)
		}

		// The next sign-in texts a code to the registered phone.
		b = newBrowser(t, rpRedirect)
		page := h.codePage(b, smsUser)
		wantPage(t, "the second-factor code page", page, http.StatusOK, "We sent a code to •••• 1800.")
		if strings.Contains(visible(page.body), smsPhone) || strings.Contains(page.body, "446681800") {
			t.Errorf("the second-factor page shows the whole number")
		}
		claims = h.signedIn(h.step(b, page, map[string]string{"code": h.gw.CodeFor(t, smsPhone)}))
		if got := amr(claims); got != "pwd sms mfa" {
			t.Errorf("second sign-in: amr %q", got)
		}
		if r := h.must(200, "GET", h.url+"/readyz", "", nil); !strings.Contains(r.raw, `"sms":"ok: the SMS gateway was last reached`) {
			t.Errorf("readyz: %s", r.raw)
		}
	})
}

// withPhone adds a user with a password and a phone.
func (h *smsEnv) withPhone(mail, phone string) {
	h.t.Helper()
	h.addUser(mail, smsPassword)
	h.addPhone(mail, phone)
}

func TestSMSCodeRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)

		t.Run("five wrong tries kill the code", func(t *testing.T) {
			const mail, phone = "five@example.com", "+41446681801"
			h.withPhone(mail, phone)
			b, p, code := h.sentCode(mail, phone)
			for i := 1; i <= 4; i++ {
				wantPage(t, "a wrong code", tryCode(b, p, otherSMSCode(code)), http.StatusBadRequest, "That code is wrong. Check the text message and try again.")
			}
			wantPage(t, "the fifth wrong code", tryCode(b, p, otherSMSCode(code)), http.StatusBadRequest, "Too many wrong codes. We sent a new one.")
			fresh := h.gw.CodeFor(t, phone)
			if fresh != code {
				wantPage(t, "the killed code", tryCode(b, p, code), http.StatusBadRequest, "That code is wrong.")
			}
			atApp(t, h.step(b, p, map[string]string{"code": fresh}))
		})

		t.Run("a resend waits a minute and invalidates the earlier code", func(t *testing.T) {
			const mail, phone = "resend@example.com", "+41446681802"
			h.withPhone(mail, phone)
			b, p, first := h.sentCode(mail, phone)
			wantPage(t, "a resend at once", noFollow(b).submit(p, map[string]string{"action": "resend"}), http.StatusTooManyRequests,
				"Wait a minute before asking for another code.")
			h.clk.Advance(59 * time.Second)
			wantPage(t, "a resend after 59s", noFollow(b).submit(p, map[string]string{"action": "resend"}), http.StatusTooManyRequests,
				"Wait a minute")
			h.clk.Advance(2 * time.Second)
			wantPage(t, "a resend after a minute", noFollow(b).submit(p, map[string]string{"action": "resend"}), http.StatusOK,
				"We sent a new code. Codes sent before it no longer work.")
			second := h.gw.CodeFor(t, phone)
			if first != second {
				wantPage(t, "the first code after a resend", tryCode(b, p, first), http.StatusBadRequest, "That code is wrong.")
			}
			atApp(t, h.step(b, p, map[string]string{"code": second}))
		})

		t.Run("an expired code is replaced", func(t *testing.T) {
			const mail, phone = "expired@example.com", "+41446681803"
			h.withPhone(mail, phone)
			b, p, code := h.sentCode(mail, phone)
			h.clk.Advance(10 * time.Minute)
			wantPage(t, "an expired code", tryCode(b, p, code), http.StatusBadRequest, "That code has expired. We sent a new one.")
			atApp(t, h.step(b, p, map[string]string{"code": h.gw.CodeFor(t, phone)}))
		})

		t.Run("a code works only in its own sign-in, once", func(t *testing.T) {
			const mail, phone = "own@example.com", "+41446681804"
			h.withPhone(mail, phone)
			b1, p1, code1 := h.sentCode(mail, phone)
			b2, p2, code2 := h.sentCode(mail, phone)
			if code1 != code2 {
				wantPage(t, "another sign-in's code", tryCode(b2, p2, code1), http.StatusBadRequest, "That code is wrong.")
			}
			atApp(t, h.step(b1, p1, map[string]string{"code": code1}))
			atApp(t, h.step(b2, p2, map[string]string{"code": code2}))
		})

		t.Run("concurrent submissions of one code: one wins", func(t *testing.T) {
			const mail, phone = "race@example.com", "+41446681805"
			h.withPhone(mail, phone)
			b, p, code := h.sentCode(mail, phone)
			vals := formValues(t, p, "code", code)
			forms := make([]postedForm, 8)
			for i := range forms {
				forms[i] = postedForm{b, vals}
			}
			won := 0
			for _, st := range h.postAll("/acme/login/mfa/sms", forms) {
				switch {
				case strings.HasPrefix(st, "303 See Other "+rpRedirect) && strings.Contains(st, "code="):
					won++
				case strings.HasPrefix(st, "400"), strings.HasPrefix(st, "409"), strings.HasPrefix(st, "303"):
				default:
					t.Errorf("a concurrent submission got %s", st)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d concurrent submissions of one code signed in, want exactly 1", won, len(forms))
			}
		})

		t.Run("a code of the wrong form", func(t *testing.T) {
			const mail, phone = "form@example.com", "+41446681806"
			h.withPhone(mail, phone)
			b, p, code := h.sentCode(mail, phone)
			for _, bad := range []string{"", "12345", "1234567", "12345678", "abcdef"} {
				r := tryCode(b, p, bad)
				wantPage(t, "code "+bad, r, http.StatusBadRequest, "Enter the 6-digit code from the text message.")
				if in := input(t, r, "code"); in["aria-invalid"] != "true" {
					t.Errorf("code %q: the input is not marked invalid", bad)
				}
			}
			// Typed with spaces, it counts; and the wrong forms cost no tries.
			atApp(t, h.step(b, p, map[string]string{"code": code[:3] + " " + code[3:]}))
		})

		t.Run("a phone replaced meanwhile no longer counts", func(t *testing.T) {
			const mail, phone = "removed@example.com", "+41446681807"
			h.addUser(mail, smsPassword)
			m := h.addPhone(mail, phone)
			b := newBrowser(t, rpRedirect)
			p := h.codePage(b, mail)
			code := h.gw.CodeFor(t, phone)
			ctx := context.Background()
			if err := h.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, h.tenant.TenantID, m.ID) }); err != nil {
				t.Fatal(err)
			}
			// Replaced by another phone, the old one's code does not count.
			h.addPhone(mail, "+41446681899")
			wantPage(t, "a code sent to a replaced phone", noFollow(b).submit(p, map[string]string{"code": code}), http.StatusConflict,
				"That phone is no longer registered for your account. Choose another way.")
			// Removed, the sign-in asks to register one.
			b = newBrowser(t, rpRedirect)
			p = h.codePage(b, mail)
			code = h.gw.CodeFor(t, "+41446681899")
			ms, _ := h.store.UserMethods(ctx, h.tenant.TenantID, h.user(mail).ID)
			if err := h.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, h.tenant.TenantID, ms[0].ID) }); err != nil {
				t.Fatal(err)
			}
			r := noFollow(b).submit(p, map[string]string{"code": code})
			if r.status != http.StatusSeeOther || !strings.Contains(r.location, "/acme/login/register/sms?") {
				t.Fatalf("a code sent to a removed phone: status %d, location %q; want the registration", r.status, r.location)
			}
		})
	})
}

// wrongCodes returns the user's count of wrong text message codes.
func (h *smsEnv) wrongCodes(mail string) int {
	h.t.Helper()
	ctx := context.Background()
	var n int
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		var err error
		n, _, err = tx.Strikes(ctx, h.tenant.TenantID, "sms:"+h.user(mail).ID)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestSMSRL3WrongCodesCountAcrossSignIns: a user's wrong text message
// codes count on one record across all their sign-ins, so that opening
// more sign-ins buys an attacker who has the password no more guesses:
// after ten, the next try waits a minute after the last failure, even
// with the right code; an accepted code clears the record.
func TestSMSRL3WrongCodesCountAcrossSignIns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		h.addPhone(smsUser, smsPhone)
		for i := range 2 { // two sign-ins, five wrong codes each
			b := newBrowser(t, rpRedirect)
			p := h.codePage(b, smsUser)
			code := h.gw.CodeFor(t, smsPhone)
			for range 5 {
				tryCode(b, p, otherSMSCode(code))
			}
			h.gw.CodeFor(t, smsPhone) // the new code the fifth wrong try sent
			if i == 0 {
				h.clk.Advance(time.Second)
			}
		}
		if n := h.wrongCodes(smsUser); n != 10 {
			t.Fatalf("the user's record of wrong codes: %d; want 10", n)
		}
		// A third sign-in: even the right code waits.
		b := newBrowser(t, rpRedirect)
		p := h.codePage(b, smsUser)
		code := h.gw.CodeFor(t, smsPhone)
		wantPage(t, "the right code after ten wrong ones", tryCode(b, p, code), http.StatusTooManyRequests,
			"Too many wrong codes were entered for your account. Wait a few minutes, then try again.")
		h.clk.Advance(59 * time.Second)
		wantPage(t, "the right code 59s later", tryCode(b, p, code), http.StatusTooManyRequests, "Too many wrong codes")
		// The refused tries counted on neither the code nor the record.
		h.clk.Advance(2 * time.Second)
		atApp(t, h.step(b, p, map[string]string{"code": code}))
		if n := h.wrongCodes(smsUser); n != 0 {
			t.Errorf("after a good code the record is %d; want it cleared", n)
		}
	})
}

// TestSMSRL6SendLimits: at most five codes per number, ten per user and
// twenty per client address in an hour.
func TestSMSRL6SendLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		t.Run("per number", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 0)
			h.addPhone(smsUser, smsPhone)
			h.nextWindow()
			for range 5 {
				h.codePage(newBrowser(t, rpRedirect), smsUser)
			}
			b := newBrowser(t, rpRedirect)
			start := h.passwordThenMFA(b, smsUser, acrMFA)
			wantPage(t, "a sixth code to the number", noFollow(b).submit(start, map[string]string{"action": "start"}),
				http.StatusTooManyRequests, "We've sent several codes to this number in the last hour.")
			if n := len(h.gw.Messages()); n != 5 {
				t.Errorf("the gateway got %d messages, want 5", n)
			}
		})
		t.Run("per user", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 0)
			h.nextWindow()
			b := newBrowser(t, rpRedirect)
			form := h.passwordThenMFA(b, smsUser, acrMFA)
			for i := range 10 {
				code := h.step(b, form, map[string]string{"phone": "+4144668180" + string(rune('0'+i))})
				wantPage(t, "a code to a new number", code, http.StatusOK, "We sent a code to")
				form = h.follow(b, code, "Use a different number")
				h.clk.Advance(time.Minute) // the cool-down of one sign-in
			}
			wantPage(t, "an eleventh code for the user", noFollow(b).submit(form, map[string]string{"phone": "+41446681810"}),
				http.StatusTooManyRequests, "We've sent several codes for your account in the last hour.")
			if n := len(h.gw.Messages()); n != 10 {
				t.Errorf("the gateway got %d messages, want 10", n)
			}
		})
		t.Run("per address", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 0)
			users := []string{smsUser, "bob@example.com", "cy@example.com"}
			for _, u := range users[1:] {
				h.addUser(u, smsPassword)
			}
			h.nextWindow()
			sent := 0
			for _, u := range users[:2] {
				b := newBrowser(t, rpRedirect)
				form := h.passwordThenMFA(b, u, acrMFA)
				for range 10 {
					sent++
					form = h.follow(b, h.step(b, form, map[string]string{"phone": fmt.Sprintf("+4144668%04d", sent)}),
						"Use a different number")
					h.clk.Advance(time.Minute)
				}
			}
			b := newBrowser(t, rpRedirect)
			form := h.passwordThenMFA(b, users[2], acrMFA)
			wantPage(t, "a 21st code from one address", noFollow(b).submit(form, map[string]string{"phone": "+41446689999"}),
				http.StatusTooManyRequests, "Too many codes were asked for from your network.")
			if n := len(h.gw.Messages()); n != 20 {
				t.Errorf("the gateway got %d messages, want 20", n)
			}
		})
	})
}

// TestSMSSendFlood fires many sends at once, from sign-ins of their own,
// at one number: the per-number limit holds under concurrency (LD-8), and
// every refused sign-in gets a page, not an error.
func TestSMSSendFlood(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		h.addPhone(smsUser, smsPhone)
		h.nextWindow()
		const n = 12
		var forms []postedForm
		for range n {
			b := newBrowser(t, rpRedirect)
			forms = append(forms, postedForm{b, formValues(t, h.passwordThenMFA(b, smsUser, acrMFA), "action", "start")})
		}
		counts := map[int]int{}
		for _, st := range h.postAll("/acme/login/mfa/sms", forms) {
			code, _ := strconv.Atoi(strings.Fields(st)[0])
			counts[code]++
		}
		if counts[http.StatusSeeOther] != 5 || counts[http.StatusTooManyRequests] != n-5 {
			t.Errorf("statuses of %d concurrent sends to one number: %v; want 5 sent (303) and the rest refused (429)", n, counts)
		}
		if got := len(h.gw.Messages()); got != 5 {
			t.Errorf("the gateway got %d messages, want 5", got)
		}
	})
}

// TestSMSGatewayFailures: a gateway that is down, hangs or refuses a
// number gives a page that says so (never a 500), writes no factor, and
// lets the user try again at once when it is back.
func TestSMSGatewayFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		t.Run("down, then back", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 2)
			h.addPhone(smsUser, smsPhone)
			h.gw.FailNext(2, http.StatusServiceUnavailable)
			b := newBrowser(t, rpRedirect)
			start := h.passwordThenMFA(b, smsUser, acrMFA)
			r := noFollow(b).submit(start, map[string]string{"action": "start"})
			wantPage(t, "a send while the gateway is down", r, http.StatusServiceUnavailable,
				"We couldn't send the text message right now. Please try again in a few minutes, or choose another way.")
			if h.gw.Requests() != 2 {
				t.Errorf("the gateway got %d requests, want 2 (the webhook's attempts)", h.gw.Requests())
			}
			if got := h.must(200, "GET", h.url+"/readyz", "", nil).raw; !strings.Contains(got, `"sms":"failing`) {
				t.Errorf("readyz: %s", got)
			}
			// Back: the same page sends at once, without the cool-down.
			code := h.step(b, r, map[string]string{"action": "start"})
			wantPage(t, "the code page", code, http.StatusOK, "We sent a code to •••• 1800.")
			atApp(t, h.step(b, code, map[string]string{"code": h.gw.CodeFor(t, smsPhone)}))
		})
		t.Run("a resend while down", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 1)
			h.addPhone(smsUser, smsPhone)
			b := newBrowser(t, rpRedirect)
			p := h.codePage(b, smsUser)
			h.gw.CodeFor(t, smsPhone)
			h.clk.Advance(time.Minute)
			h.gw.FailNext(1, http.StatusBadGateway)
			r := noFollow(b).submit(p, map[string]string{"action": "resend"})
			wantPage(t, "a resend while the gateway is down", r, http.StatusServiceUnavailable, "We couldn't send the text message right now.")
			r = noFollow(b).submit(r, map[string]string{"action": "resend"})
			wantPage(t, "a resend once it is back", r, http.StatusOK, "We sent a new code.")
			atApp(t, h.step(b, r, map[string]string{"code": h.gw.CodeFor(t, smsPhone)}))
		})
		t.Run("hangs", func(t *testing.T) {
			gw := smstest.Start(t)
			wh, err := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret, Attempts: 1, Timeout: 200 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := newHostedEnv(t, eng, hostedOptions{sms: wh})
			h.enableMethod("Sms")
			h.addUser(smsUser, smsPassword)
			gw.StallNext(1)
			b := newBrowser(t, rpRedirect)
			form := h.passwordThenMFA(b, smsUser, acrMFA)
			wantPage(t, "a registration while the gateway hangs", noFollow(b).submit(form, map[string]string{"phone": smsPhone}),
				http.StatusServiceUnavailable, "We couldn't send the text message right now.")
			if ms, _ := h.store.UserMethods(context.Background(), h.tenant.TenantID, h.user(smsUser).ID); len(ms) != 0 {
				t.Errorf("a phone was registered without its code: %+v", ms)
			}
		})
		t.Run("refuses the number", func(t *testing.T) {
			h := newSMSEnv(t, eng, hostedOptions{}, 0)
			b := newBrowser(t, rpRedirect)
			form := h.passwordThenMFA(b, smsUser, acrMFA)
			r := noFollow(b).submit(form, map[string]string{"phone": "+999 1234 5678"})
			wantPage(t, "a number the gateway refuses", r, http.StatusBadRequest, "We couldn't send a text message to that number. Check the number, or use another one.")
			if in := input(t, r, "phone"); in["aria-invalid"] != "true" || in["value"] != "+999 1234 5678" {
				t.Errorf("the phone input after a refused number: %v", in)
			}
			if h.gw.Requests() != 1 {
				t.Errorf("the gateway got %d requests, want 1: a refused number is not retried", h.gw.Requests())
			}
			// Another number works at once.
			code := h.step(b, r, map[string]string{"phone": smsPhone})
			atApp(t, h.step(b, code, map[string]string{"code": h.gw.CodeFor(t, smsPhone)}))
		})
	})
}

// TestSMSPhoneValidation: a number that is not E.164 is refused next to
// the field with a sentence naming the problem, and writes nothing.
func TestSMSPhoneValidation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		b := newBrowser(t, rpRedirect)
		form := h.passwordThenMFA(b, smsUser, acrMFA)
		for in, want := range map[string]string{
			"":                  "Enter a phone number, starting with + and the country code, like +41 44 668 18 00.",
			"044 668 18 00":     "Start the number with + and the country code, like +41 44 668 18 00.",
			"0041 44 668 18 00": "Write the number with + instead of the 00 at its start, like +41446681800.",
			"+41 4x 668 18 00":  `"x" can't be part of a phone number`,
			"+123":              "That number has 3 digits; with the country code, a phone number has 8 to 15.",
			"+0 44 668 18 00":   "Country codes don't start with 0",
		} {
			r := noFollow(b).submit(form, map[string]string{"phone": in})
			wantPage(t, "phone "+in, r, http.StatusBadRequest, want)
			f := input(t, r, "phone")
			if f["aria-invalid"] != "true" || !strings.Contains(f["aria-describedby"], "phone-error") || f["value"] != in {
				t.Errorf("phone %q: the input is %v; want it invalid, described by its error, and keeping what was typed", in, f)
			}
		}
		if h.gw.Requests() != 0 {
			t.Errorf("invalid numbers reached the gateway: %d requests", h.gw.Requests())
		}
		ctx := context.Background()
		if ms, _ := h.store.UserMethods(ctx, h.tenant.TenantID, h.user(smsUser).ID); len(ms) != 0 {
			t.Errorf("an invalid number registered %+v", ms)
		}
		var n int
		_ = h.store.Update(ctx, func(tx gatehouse.Tx) error {
			var err error
			n, err = tx.Hit(ctx, h.tenant.TenantID, "sms-user:"+h.user(smsUser).ID, time.Hour, h.clk.Now())
			return err
		})
		if n != 1 {
			t.Errorf("invalid numbers counted against the user's send limit: the next hit is number %d, want 1", n)
		}
	})
}

// TestSMSNeedsAGateway: without an SMS gateway the method cannot be
// enabled, and a policy that has it enabled does not offer it.
func TestSMSNeedsAGateway(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		cfg := h.tenant.AdminAPI + "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms"
		r := h.call("PATCH", cfg, h.tok, map[string]any{"state": "enabled"})
		if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), "Sms cannot be enabled: this server has no SMS gateway") ||
			!strings.Contains(r.errMessage(), "--sms-webhook-url") {
			t.Errorf("enabling Sms without a gateway: status %d, %s", r.status, r.raw)
		}
		if got := h.must(200, "GET", cfg, h.tok, nil).str("state"); got != "disabled" {
			t.Errorf("after the refusal the state is %q", got)
		}
		// Other changes of the configuration are not refused.
		h.must(http.StatusNoContent, "PATCH", cfg, h.tok, map[string]any{"state": "disabled", "excludeTargets": []any{}})
		// Enabled behind the API's back (a server started without its
		// gateway), SMS is not offered: the optional acr_values is dropped.
		ctx := context.Background()
		err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
			return storetest.EnableMethod(ctx, tx, h.tenant.TenantID, gatehouse.MethodSMS)
		})
		if err != nil {
			t.Fatal(err)
		}
		h.addUser(smsUser, smsPassword)
		b := newBrowser(t, rpRedirect)
		claims := h.signedIn(h.passwordThenMFA(b, smsUser, acrMFA))
		if got := amr(claims); got != "pwd" {
			t.Errorf("amr %q, want pwd: no second factor could be offered", got)
		}
		if r := h.must(200, "GET", h.url+"/readyz", "", nil); !strings.Contains(r.raw, `"sms":"not configured`) {
			t.Errorf("readyz: %s", r.raw)
		}
	})
}

// TestSMSChooserAndPolicy: beside email codes, the chooser offers text
// messages to a user with a phone; a disabled method, or one targeted at
// a group the user is not in, is not offered.
func TestSMSChooserAndPolicy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		h.enableMethod("Email")
		h.addPhone(smsUser, smsPhone)
		b := newBrowser(t, rpRedirect)
		chooser := h.passwordThenMFA(b, smsUser, acrMFA)
		if chooser.url.Path != "/acme/login/mfa" || !strings.Contains(chooser.body, ">Email a code to my sign-in address</button>") ||
			!strings.Contains(chooser.body, ">Text a code to my phone</button>") {
			t.Fatalf("the chooser at %s: %.600s", chooser.url, visible(chooser.body))
		}
		// Its button texts the code at once.
		sms := submitTo(t, b, chooser, "/acme/login/mfa/sms")
		wantPage(t, "the SMS button", sms, http.StatusOK, "We sent a code to •••• 1800.")
		atApp(t, h.step(b, sms, map[string]string{"code": h.gw.CodeFor(t, smsPhone)}))

		// Targeted at a group the user is not in: not offered (email is).
		g := h.must(201, "POST", h.tenant.AdminAPI+"/groups", h.tok, map[string]any{"displayName": "Phones", "mailEnabled": false,
			"securityEnabled": true, "mailNickname": "phones"})
		h.must(http.StatusNoContent, "PATCH", h.tenant.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms",
			h.tok, map[string]any{"includeTargets": []any{map[string]any{"targetType": "group", "id": g.str("id")}}})
		b = newBrowser(t, rpRedirect)
		if next := h.passwordThenMFA(b, smsUser, acrMFA); next.url.Path != "/acme/login/mfa/email" {
			t.Errorf("with SMS for another group only: at %s, want the email page", next.url.Path)
		}
		// Disabled: not offered either.
		h.must(http.StatusNoContent, "PATCH", h.tenant.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms",
			h.tok, map[string]any{"state": "disabled", "includeTargets": []any{map[string]any{"targetType": "group", "id": "all_users"}}})
		b = newBrowser(t, rpRedirect)
		next := h.passwordThenMFA(b, smsUser, acrMFA)
		if next.url.Path != "/acme/login/mfa/email" {
			t.Fatalf("with SMS disabled: at %s, want the email page", next.url.Path)
		}
		// And its pages send the browser on to where the sign-in stands.
		tx := url.QueryEscape(next.url.Query().Get("tx"))
		for _, path := range []string{"/acme/login/mfa/sms", "/acme/login/register/sms"} {
			if r := b.get(h.url + path + "?tx=" + tx); r.url.Path != "/acme/login/mfa/email" {
				t.Errorf("GET %s of a sign-in without SMS: at %s, want the email page", path, r.url.Path)
			}
		}
	})
}

// submitTo posts the form of p whose action is the path, and follows the
// answer.
func submitTo(t *testing.T, b *browser, p page, path string) page {
	t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		if !strings.HasSuffix(fa["action"], path) {
			continue
		}
		vals := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			if a := attrs(in[1]); a["name"] != "" {
				vals.Set(a["name"], a["value"])
			}
		}
		action, _ := p.url.Parse(fa["action"])
		req, _ := http.NewRequest("POST", action.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	t.Fatalf("no form posting to %s on %s", path, p.url)
	return page{}
}

// TestSMSDevMailbox: with a development mailbox and no gateway, text
// messages are kept and shown there with their code, among the mail.
func TestSMSDevMailbox(t *testing.T) {
	mb := notify.NewMailbox(0, nil)
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{mailbox: mb})
	h.enableMethod("Sms")
	h.addUser(smsUser, smsPassword)
	b := newBrowser(t, rpRedirect)
	form := h.passwordThenMFA(b, smsUser, acrMFA)
	code := h.step(b, form, map[string]string{"phone": smsPhone})
	msgs := mb.Messages()
	if len(msgs) != 1 || !msgs[0].SMS || msgs[0].To != smsPhone {
		t.Fatalf("the mailbox holds %+v, want the text message", msgs)
	}
	sms := smsCodeOf(t, msgs[0].Text)
	list := b.get(h.url + "/dev/mailbox")
	if list.status != 200 || !strings.Contains(visible(list.body), smsPhone+" Text message "+sms) {
		t.Errorf("the mailbox list: %.600s", visible(list.body))
	}
	one := b.get(h.url + "/dev/mailbox/" + msgs[0].ID)
	if one.status != 200 || !strings.Contains(visible(one.body), "Code: "+sms) || strings.Contains(one.body, "<iframe") {
		t.Errorf("the message page: %.600s", visible(one.body))
	}
	if r := h.must(200, "GET", h.url+"/readyz", "", nil); !strings.Contains(r.raw, `"sms":"development mailbox`) {
		t.Errorf("readyz: %s", r.raw)
	}
	atApp(t, h.step(b, code, map[string]string{"code": sms}))
}

// smsCodeOf returns the one six-digit code of a text message.
func smsCodeOf(t *testing.T, text string) string {
	t.Helper()
	m := regexp.MustCompile(`\b[0-9]{6}\b`).FindAllString(text, -1)
	if len(m) != 2 || m[0] != m[1] {
		t.Fatalf("the text message %q does not hold one code (and its origin-bound line)", text)
	}
	return m[0]
}

// TestSMSLogsNoSecrets registers a phone and signs in with it, with wrong
// codes and a resend, under a debug logger: no code and no whole number
// reaches the log (LOG-1), only "+41…00".
func TestSMSLogsNoSecrets(t *testing.T) {
	var logs lockedBuffer
	gw := smstest.Start(t)
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wh, err := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, logger)
	if err != nil {
		t.Fatal(err)
	}
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{sms: wh, logger: logger})
	h.enableMethod("Sms")
	h.addUser(smsUser, smsPassword)
	b := newBrowser(t, rpRedirect)
	code := h.step(b, h.passwordThenMFA(b, smsUser, acrMFA), map[string]string{"phone": "+41 44 668 18 00"})
	first := gw.CodeFor(t, smsPhone)
	tryCode(b, code, otherSMSCode(first))
	h.clk.Advance(time.Minute)
	noFollow(b).submit(code, map[string]string{"action": "resend"})
	second := gw.CodeFor(t, smsPhone)
	atApp(t, h.step(b, code, map[string]string{"code": second}))
	out := logs.String()
	for _, want := range []string{"text message code sent", "text message code tried", "result=wrong", "result=accepted", "+41…00", "text message sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{first, second, smsPhone, "446681800", "668 18 00", gw.Secret} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestSMSOnePhone: a user has one phone. Of two sign-ins that register
// one at once, one does; and a user with a phone is asked for its code,
// not for another phone.
func TestSMSOnePhone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		var forms []postedForm
		for _, phone := range []string{"+41446681801", "+41446681802", "+41446681803"} {
			b := newBrowser(t, rpRedirect)
			p := h.step(b, h.passwordThenMFA(b, smsUser, acrMFA), map[string]string{"phone": phone})
			forms = append(forms, postedForm{b, formValues(t, p, "code", h.gw.CodeFor(t, phone))})
		}
		signedIn := 0
		for _, st := range h.postAll("/acme/login/register/sms", forms) {
			switch {
			case strings.HasPrefix(st, "303 See Other "+rpRedirect):
				signedIn++
			case strings.HasPrefix(st, "409"), strings.HasPrefix(st, "303"):
			default:
				t.Errorf("a concurrent registration got %s", st)
			}
		}
		ms, err := h.store.UserMethods(context.Background(), h.tenant.TenantID, h.user(smsUser).ID)
		if err != nil || len(ms) != 1 || signedIn != 1 {
			t.Errorf("after %d concurrent registrations: %d signed in, methods %+v (%v); want one of each", len(forms), signedIn, ms, err)
		}
		// The next sign-in asks for a code to that phone.
		b := newBrowser(t, rpRedirect)
		if next := h.passwordThenMFA(b, smsUser, acrMFA); next.url.Path != "/acme/login/mfa/sms" {
			t.Errorf("a user with a phone: at %s, want its code page", next.url.Path)
		}
	})
}

// TestSMSFromSecurityInfo: the security info page adds a phone through the
// same registration pages, and comes back; the notice says where.
func TestSMSFromSecurityInfo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newSMSEnv(t, eng, hostedOptions{}, 0)
		b := newBrowser(t, rpRedirect)
		pg := b.get(h.url + "/acme/account/security")
		pg = h.step(b, pg, map[string]string{"email": smsUser, "password": smsPassword})
		if pg.url.Path != "/acme/account/security" || !strings.Contains(pg.body, ">Get codes by text message</button>") {
			t.Fatalf("the security info page at %s offers no phone: %.500s", pg.url, visible(pg.body))
		}
		form := h.step(b, pg, map[string]string{"action": "add", "method": gatehouse.MethodSMS})
		if form.url.Path != "/acme/login/register/sms" {
			t.Fatalf("adding a phone: at %s, %.400s", form.url, visible(form.body))
		}
		code := h.step(b, form, map[string]string{"phone": smsPhone})
		back := h.step(b, code, map[string]string{"code": h.gw.CodeFor(t, smsPhone)})
		if back.url.Path != "/acme/account/security" || !strings.Contains(visible(back.body), "phone for text messages (•••• 1800)") ||
			!strings.Contains(visible(back.body), "Your new method is ready.") {
			t.Fatalf("after adding the phone: at %s, %.500s", back.url, visible(back.body))
		}
		if strings.Contains(back.body, ">Get codes by text message</button>") {
			t.Errorf("the page offers a second phone")
		}
		h.smtp.WaitFor(t, func(m smtptest.Received) bool {
			return strings.Contains(m.Text, "phone for text messages (•••• 1800) was added") && strings.Contains(m.Text, "on the security info page")
		}, 10*time.Second)
	})
}
