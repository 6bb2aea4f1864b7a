package web_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
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
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

const adaPassword = "correct horse battery"

// enableMethods turns methods of the authentication methods policy on
// through the admin API, by their configuration IDs (SoftwareOath, …).
func (h *hostedEnv) enableMethods(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		h.must(204, "PATCH", h.tenant.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"+id, h.tok,
			map[string]any{"state": "enabled"})
	}
}

// signInMFA starts a sign-in to the app with acr_values=2 (the app
// requires a second factor), signs in with the password and returns the
// page that follows.
func (h *hostedEnv) signInMFA(b *browser, mail, pw string) page {
	h.t.Helper()
	login := b.get(h.app.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("acr_values", "2")))
	if login.status != 200 || !strings.HasSuffix(login.url.Path, "/acme/login") {
		h.t.Fatalf("authorize: status %d at %s", login.status, login.url)
	}
	return h.step(b, login, map[string]string{"email": mail, "password": pw})
}

// postTo posts the page's form whose action ends in actionPath with its
// own values and fill, and returns the answer without following it.
func postTo(t testing.TB, b *browser, p page, actionPath string, fill map[string]string) page {
	t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		action, _ := p.url.Parse(fa["action"])
		if !strings.HasSuffix(action.Path, actionPath) {
			continue
		}
		vals := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			if a := attrs(in[1]); a["name"] != "" {
				vals.Set(a["name"], a["value"])
			}
		}
		for k, v := range fill {
			vals.Set(k, v)
		}
		req, _ := http.NewRequest("POST", action.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return noFollow(b).do(req)
	}
	t.Fatalf("no form posting to %s on %s:\n%s", actionPath, p.url, p.body)
	return page{}
}

// choose submits the chooser's button that starts the method's page and
// returns that page.
func (h *hostedEnv) choose(b *browser, chooser page, methodPath string) page {
	h.t.Helper()
	r := postTo(h.t, b, chooser, methodPath, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("choose %s: status %d, %.300s", methodPath, r.status, text(r.body))
	}
	return r
}

var totpKeyRE = regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)</p>`)

// setupKey reads the secret the registration page shows as text.
func setupKey(t testing.TB, p page) []byte {
	t.Helper()
	m := totpKeyRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no setup key on %s:\n%s", p.url, p.body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatalf("setup key %q: %v", m[1], err)
	}
	return secret
}

// code returns the authenticator app's code for secret at the server's now.
func (h *hostedEnv) code(secret []byte) string {
	return mfa.TOTPCode(secret, mfa.TOTPStep(h.clk.Now()))
}

var recoveryCodeRE = regexp.MustCompile(`<li class="mono">([0-9A-Z-]+)</li>`)

// recoveryCodes reads the codes a page shows.
func recoveryCodes(p page) []string {
	var out []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// registerTOTP signs ada in to an app that requires a second factor and
// registers an authenticator app just in time. It returns the secret and
// the recovery codes shown (none when the policy offers none), with the
// browser back at the app.
func (h *hostedEnv) registerTOTP(b *browser, mail string) ([]byte, []string, map[string]any) {
	h.t.Helper()
	reg := h.signInMFA(b, mail, adaPassword)
	if !strings.HasSuffix(reg.url.Path, "/acme/login/register/totp") {
		h.t.Fatalf("after the password: %s, want the authenticator app's registration; %.300s", reg.url.Path, text(reg.body))
	}
	secret := setupKey(h.t, reg)
	r := postTo(h.t, b, reg, "/login/register/totp", map[string]string{"code": h.code(secret)})
	var codes []string
	if r.status == http.StatusOK {
		codes = recoveryCodes(r)
		r = postTo(h.t, b, r, "/login/recovery-codes", nil)
	}
	return secret, codes, h.signedIn(r)
}

// methodsOf returns the user's registered methods by kind.
func (h *hostedEnv) methodsOf(userID string) map[string][]*gatehouse.UserMethod {
	h.t.Helper()
	ms, err := h.store.UserMethods(context.Background(), h.tenant.TenantID, userID)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string][]*gatehouse.UserMethod{}
	for _, m := range ms {
		out[m.Method] = append(out[m.Method], m)
	}
	return out
}

// TestTOTPRegistrationJustInTime: a password sign-in to an app that
// requires a second factor, for a user with none, registers an
// authenticator app: a QR code and the key as text, confirmed with a code;
// with recovery codes in the policy, ten codes are shown once before the
// sign-in completes. The method is stored sealed (TOTP-1), the codes as
// hashes (RC-1), both audited (LC-3), the user told by mail (RL-5), and
// nothing secret is logged (LOG-1).
func TestTOTPRegistrationJustInTime(t *testing.T) {
	for _, withCodes := range []bool{true, false} {
		name := "with recovery codes"
		if !withCodes {
			name = "without recovery codes"
		}
		t.Run(name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
				var logs lockedBuffer
				h := newHostedEnv(t, eng, hostedOptions{logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
				uid := h.addUser("ada@example.com", adaPassword)
				h.enableMethods("SoftwareOath")
				if withCodes {
					h.enableMethods("RecoveryCode")
				}
				b := newBrowser(t, rpRedirect)
				reg := h.signInMFA(b, "ada@example.com", adaPassword)
				if !strings.HasSuffix(reg.url.Path, "/acme/login/register/totp") || !strings.Contains(reg.body, "<h1>Set up an authenticator app</h1>") {
					t.Fatalf("after the password: %s, %.300s", reg.url.Path, text(reg.body))
				}
				in := input(t, reg, "code")
				if label(t, reg, "code") != "Code" || in["autocomplete"] != "one-time-code" || in["inputmode"] != "numeric" {
					t.Errorf("code input %v, label %q", in, label(t, reg, "code"))
				}
				if img := regexp.MustCompile(`<img src="([^"]+)" width="240" height="240" alt="[^"]+">`).FindStringSubmatch(reg.body); img == nil {
					t.Errorf("no QR code image")
				} else if src := html.UnescapeString(img[1]); !strings.HasPrefix(src, "data:image/png;base64,") {
					t.Errorf("QR code image %.40s…, want a PNG data: URI", src)
				} else if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,")); err != nil {
					t.Errorf("QR code image: %v", err)
				} else if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
					t.Errorf("QR code image: %v", err)
				}
				otpauth := regexp.MustCompile(`href="(otpauth://totp/[^"]+)"`).FindStringSubmatch(reg.body)
				if otpauth == nil {
					t.Fatalf("no otpauth link")
				}
				secret := setupKey(t, reg)
				if len(secret) != 20 {
					t.Errorf("secret of %d bytes, want 20", len(secret))
				}
				key, err := url.Parse(htmlUnescape(otpauth[1]))
				if err != nil || key.Query().Get("issuer") != "acme" || !strings.HasSuffix(key.Path, ":ada@example.com") ||
					key.Query().Get("secret") != base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret) {
					t.Errorf("otpauth URI %s (%v)", otpauth[1], err)
				}
				csp := headers(t, b, reg.url.String()).Get("Content-Security-Policy")
				if !strings.Contains(csp, "img-src 'self' https: data:") || strings.Contains(csp, "unsafe-inline") || strings.Contains(reg.body, "<script") {
					t.Errorf("CSP %q", csp)
				}
				// The page shows the same secret until it is confirmed.
				if again := b.get(reg.url.String()); string(setupKey(t, again)) != string(secret) {
					t.Errorf("reloading the page changed the secret")
				}
				if n := len(h.methodsOf(uid)); n != 0 {
					t.Errorf("%d methods registered before the confirmation", n)
				}

				for _, c := range []struct {
					code, want string
				}{
					{"12", "Enter the 6-digit code from your authenticator app."},
					{wrongCode(h.code(secret)), "That code doesn't match."},
				} {
					r := postTo(t, b, reg, "/login/register/totp", map[string]string{"code": c.code})
					if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), c.want) || string(setupKey(t, r)) != string(secret) {
						t.Errorf("code %q: status %d, %.300s", c.code, r.status, text(r.body))
					}
				}
				if n := len(h.methodsOf(uid)); n != 0 {
					t.Errorf("%d methods registered after wrong codes", n)
				}

				code := h.code(secret)
				r := postTo(t, b, reg, "/login/register/totp", map[string]string{"code": code})
				var codes []string
				if withCodes {
					if r.status != http.StatusOK || !strings.Contains(r.body, "<h1>Save your recovery codes</h1>") {
						t.Fatalf("after the code: status %d, %.300s", r.status, text(r.body))
					}
					codes = recoveryCodes(r)
					if len(codes) != 10 {
						t.Fatalf("%d recovery codes shown: %v", len(codes), codes)
					}
					// Shown once: the page of the step says so without them.
					if again := b.get(h.url + "/acme/login/recovery-codes?tx=" + reg.url.Query().Get("tx")); again.status != 200 ||
						len(recoveryCodes(again)) != 0 || !strings.Contains(text(again.body), "can't be shown again") {
						t.Errorf("the codes page again: status %d, %.300s", again.status, text(again.body))
					}
					r = postTo(t, b, r, "/login/recovery-codes", nil)
				}
				claims := h.signedIn(r)
				if amr(claims) != "pwd otp mfa" || claims["acr"] != "2" {
					t.Errorf("claims amr %v acr %v", claims["amr"], claims["acr"])
				}

				ms := h.methodsOf(uid)
				apps := ms[gatehouse.MethodSoftwareOath]
				if len(apps) != 1 || apps[0].TOTP == nil || apps[0].TOTP.LastStep != mfa.TOTPStep(h.clk.Now()) {
					t.Fatalf("registered apps %+v", apps)
				}
				if strings.Contains(string(apps[0].TOTP.Sealed), string(secret)) {
					t.Errorf("the secret is stored in clear")
				}
				sets := ms[gatehouse.MethodRecoveryCode]
				if !withCodes && len(sets) != 0 {
					t.Errorf("recovery codes made although the policy offers none")
				}
				if withCodes {
					if len(sets) != 1 || len(sets[0].RecoveryCodes) != 10 || sets[0].RemainingRecoveryCodes() != 10 {
						t.Fatalf("recovery code sets %+v", sets)
					}
					for i, c := range sets[0].RecoveryCodes {
						if strings.Contains(strings.ToUpper(c.Hash), strings.ReplaceAll(codes[i], "-", "")) {
							t.Errorf("recovery code %d stored in clear", i)
						}
					}
				}

				audits := h.must(200, "GET", h.tenant.AdminAPI+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'User%20registered%20security%20info'", h.tok, nil)
				entries := audits.body["value"].([]any)
				if want := map[bool]int{true: 2, false: 1}[withCodes]; len(entries) != want {
					t.Errorf("%d audit entries of the registration, want %d: %s", len(entries), want, audits.raw)
				}
				for _, e := range entries {
					by := e.(map[string]any)["initiatedBy"].(map[string]any)["user"].(map[string]any)
					if by["id"] != uid {
						t.Errorf("audit entry initiated by %v, want the user", by)
					}
				}
				notice := h.smtp.WaitFor(t, func(r smtptest.Received) bool {
					return r.To[0] == "ada@example.com" && strings.Contains(r.Subject, "new sign-in method")
				}, 10*time.Second)
				if !strings.Contains(notice.Text, "You added an authenticator app to your acme account") {
					t.Errorf("notice:\n%s", notice.Text)
				}

				out := logs.String()
				if !strings.Contains(out, "sign-in") {
					t.Fatalf("the log lacks the sign-in")
				}
				for _, s := range append(codes, code, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)[:16]) {
					if strings.Contains(out, s) || strings.Contains(out, strings.ReplaceAll(s, "-", "")) {
						t.Errorf("the log holds %q", s)
					}
				}
			})
		})
	}
}

// wrongCode returns a 6-digit code that is not code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// totpUser returns a hosted env whose policy offers the methods (their
// configuration IDs; SoftwareOath is always on) and a user, ada, who
// registered an authenticator app: the user's ID, the app's secret and
// the recovery codes shown with it.
func totpUser(t *testing.T, eng storetest.Engine, methods ...string) (*hostedEnv, string, []byte, []string) {
	t.Helper()
	h := newHostedEnv(t, eng, hostedOptions{})
	uid := h.addUser("ada@example.com", adaPassword)
	h.enableMethods(append([]string{"SoftwareOath"}, methods...)...)
	secret, codes, _ := h.registerTOTP(newBrowser(t, rpRedirect), "ada@example.com")
	return h, uid, secret, codes
}

// race starts n sign-ins with start, then submits code on each one's page
// at path at once, and returns how many reached the app; each of the
// others must have been told that the code was used already.
func (h *hostedEnv) race(n int, start func(*browser) page, path, code string) int {
	h.t.Helper()
	browsers, pages, results := make([]*browser, n), make([]page, n), make([]page, n)
	for i := range n {
		browsers[i] = newBrowser(h.t, rpRedirect)
		pages[i] = start(browsers[i])
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = postTo(h.t, browsers[i], pages[i], path, map[string]string{"code": code}) })
	}
	wg.Wait()
	won := 0
	for i, r := range results {
		switch {
		case strings.HasPrefix(r.location, rpRedirect):
			won++
			h.signedIn(r)
		case r.status == http.StatusBadRequest && strings.Contains(text(r.body), "already used"):
		default:
			h.t.Errorf("submission %d: status %d location %q, %.300s", i, r.status, r.location, text(r.body))
		}
	}
	return won
}

// TestTOTPSecondFactor: a user with an authenticator app signs in with a
// code from it; the app is not offered once the policy turns it off.
func TestTOTPSecondFactor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, _, secret, _ := totpUser(t, eng)
		h.clk.Advance(30 * time.Second)

		b := newBrowser(t, rpRedirect)
		pg := h.signInMFA(b, "ada@example.com", adaPassword)
		if !strings.HasSuffix(pg.url.Path, "/acme/login/mfa/totp") || !strings.Contains(pg.body, "<h1>Enter a code from your authenticator app</h1>") {
			t.Fatalf("after the password: %s, %.300s", pg.url.Path, text(pg.body))
		}
		if in := input(t, pg, "code"); in["autocomplete"] != "one-time-code" || in["inputmode"] != "numeric" || label(t, pg, "code") != "Code" {
			t.Errorf("code input %v", in)
		}
		if strings.Contains(pg.body, "Use another way") {
			t.Errorf("the page offers another way, and there is none")
		}
		for _, c := range []struct {
			code, want string
		}{
			{"12345", "Enter the 6-digit code from your authenticator app."},
			{"abcdef", "Enter the 6-digit code from your authenticator app."},
			{wrongCode(h.code(secret)), "That code is wrong."},
		} {
			if r := postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": c.code}); r.status != http.StatusBadRequest || !strings.Contains(text(r.body), c.want) {
				t.Errorf("code %q: status %d, %.300s", c.code, r.status, text(r.body))
			}
		}
		// Typed with a space, as apps show it.
		code := h.code(secret)
		claims := h.signedIn(postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": code[:3] + " " + code[3:]}))
		if amr(claims) != "pwd otp mfa" || claims["acr"] != "2" {
			t.Errorf("claims amr %v acr %v", claims["amr"], claims["acr"])
		}

		// A session of the password alone is stepped up: no password page,
		// the app's code, and a new session (SE-2).
		h.clk.Advance(30 * time.Second)
		b = newBrowser(t, rpRedirect)
		if claims := h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "ada@example.com", "password": adaPassword})); amr(claims) != "pwd" {
			t.Fatalf("without acr_values: amr %v", claims["amr"])
		}
		before := h.sessionOf(b)
		pg = b.get(h.app.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("acr_values", "2")))
		if !strings.HasSuffix(pg.url.Path, "/acme/login/mfa/totp") {
			t.Fatalf("step-up: %s, want the authenticator app's page", pg.url.Path)
		}
		if claims := h.signedIn(postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": h.code(secret)})); amr(claims) != "pwd otp mfa" {
			t.Errorf("step-up: amr %v", claims["amr"])
		}
		if after := h.sessionOf(b); after == before || after == "" || h.sessionExists(before) {
			t.Errorf("step-up kept the session ID")
		}

		// Off in the policy, the app is not offered: nothing else is, so
		// the essential-free acr_values falls back to one factor.
		h.must(204, "PATCH", h.tenant.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/SoftwareOath", h.tok,
			map[string]any{"state": "disabled"})
		b = newBrowser(t, rpRedirect)
		if claims := h.signedIn(h.signInMFA(b, "ada@example.com", adaPassword)); amr(claims) != "pwd" {
			t.Errorf("with the app disabled: amr %v", claims["amr"])
		}
	})
}

// TestTOTP3StepNeverTwice: a step accepted once is never accepted again:
// not in the same sign-in, not in another one, and of concurrent
// submissions of one code from several sign-ins exactly one succeeds.
func TestTOTP3StepNeverTwice(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, _, secret, _ := totpUser(t, eng)

		// The code that confirmed the registration cannot sign in.
		b := newBrowser(t, rpRedirect)
		pg := h.signInMFA(b, "ada@example.com", adaPassword)
		if r := postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": h.code(secret)}); r.status != http.StatusBadRequest ||
			!strings.Contains(text(r.body), "That code was already used. Wait for your authenticator app to show a new code") {
			t.Errorf("the registration's code again: status %d, %.300s", r.status, text(r.body))
		}

		h.clk.Advance(30 * time.Second)
		code := h.code(secret)
		start := func(b *browser) page { return h.signInMFA(b, "ada@example.com", adaPassword) }
		if won := h.race(4, start, "/login/mfa/totp", code); won != 1 {
			t.Errorf("%d of 4 concurrent submissions of one code succeeded, want 1", won)
		}
		// The same code in a later sign-in, still within the window.
		h.clk.Advance(20 * time.Second)
		b = newBrowser(t, rpRedirect)
		pg = h.signInMFA(b, "ada@example.com", adaPassword)
		if r := postTo(t, b, pg, "/login/mfa/totp", map[string]string{"code": code}); r.status != http.StatusBadRequest {
			t.Errorf("an accepted code 20 s later: status %d", r.status)
		}
	})
}

// TestRL3TOTPFailuresAcrossSessions: wrong codes count against the
// authenticator app in every sign-in: after five, each try waits a
// growing delay, whichever browser it comes from; a success clears the
// count.
func TestRL3TOTPFailuresAcrossSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h, _, secret, _ := totpUser(t, eng)
		h.clk.Advance(30 * time.Second)

		attacker, victim := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
		ap := h.signInMFA(attacker, "ada@example.com", adaPassword)
		vp := h.signInMFA(victim, "ada@example.com", adaPassword)
		try := func(b *browser, p page, code string) page {
			return postTo(t, b, p, "/login/mfa/totp", map[string]string{"code": code})
		}
		for i := 1; i <= 5; i++ {
			if r := try(attacker, ap, wrongCode(h.code(secret))); r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code is wrong.") {
				t.Fatalf("wrong code %d: status %d, %.300s", i, r.status, text(r.body))
			}
		}
		throttled := func(r page) bool {
			return r.status == http.StatusTooManyRequests && strings.Contains(text(r.body), "Too many wrong codes. Wait a few minutes")
		}
		// Even the right code, in another sign-in, waits a second...
		if r := try(victim, vp, h.code(secret)); !throttled(r) {
			t.Fatalf("right code after 5 failures elsewhere: status %d, %.300s", r.status, text(r.body))
		}
		h.clk.Advance(time.Second)
		// ...then a sixth failure makes it two.
		if r := try(attacker, ap, wrongCode(h.code(secret))); r.status != http.StatusBadRequest {
			t.Fatalf("wrong code 6: status %d", r.status)
		}
		h.clk.Advance(time.Second)
		if r := try(victim, vp, h.code(secret)); !throttled(r) {
			t.Errorf("1 s after the sixth failure: status %d, want 429", r.status)
		}
		h.clk.Advance(time.Second)
		if claims := h.signedIn(try(victim, vp, h.code(secret))); amr(claims) != "pwd otp mfa" {
			t.Errorf("amr %v", claims["amr"])
		}
		// The success cleared the count: five more failures are free.
		h.clk.Advance(30 * time.Second)
		b := newBrowser(t, rpRedirect)
		p := h.signInMFA(b, "ada@example.com", adaPassword)
		for i := 1; i <= 5; i++ {
			if r := try(b, p, wrongCode(h.code(secret))); r.status != http.StatusBadRequest {
				t.Fatalf("after the success, wrong code %d: status %d", i, r.status)
			}
		}
	})
}

// TestTOTPRegistrationOnce: concurrent confirmations of one pending secret
// (a double submission, two tabs) register the app once.
func TestTOTPRegistrationOnce(t *testing.T) {
	for _, methods := range [][]string{{"SoftwareOath"}, {"SoftwareOath", "RecoveryCode"}} {
		t.Run(strings.Join(methods, "+"), func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
				h := newHostedEnv(t, eng, hostedOptions{})
				uid := h.addUser("ada@example.com", adaPassword)
				h.enableMethods(methods...)
				b := newBrowser(t, rpRedirect)
				reg := h.signInMFA(b, "ada@example.com", adaPassword)
				code := h.code(setupKey(t, reg))
				const n = 4
				results := make([]page, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { results[i] = postTo(t, b, reg, "/login/register/totp", map[string]string{"code": code}) })
				}
				wg.Wait()
				ok := 0
				for i, r := range results {
					switch {
					case strings.HasPrefix(r.location, rpRedirect), r.status == http.StatusOK && len(recoveryCodes(r)) == 10:
						ok++
					// The others find the request completed or gone, or are
					// sent on to where it stands, depending on when they read it.
					case r.status == http.StatusConflict && strings.Contains(text(r.body), "already completed"),
						r.status == http.StatusBadRequest && strings.Contains(text(r.body), "This sign-in attempt has expired"),
						r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/acme/login/"):
					default:
						t.Errorf("confirmation %d: status %d location %q, %.300s", i, r.status, r.location, text(r.body))
					}
				}
				ms := h.methodsOf(uid)
				if ok != 1 || len(ms[gatehouse.MethodSoftwareOath]) != 1 || len(ms[gatehouse.MethodRecoveryCode]) != len(methods)-1 {
					t.Errorf("%d of %d confirmations went on; %d apps and %d recovery code sets registered", ok, n,
						len(ms[gatehouse.MethodSoftwareOath]), len(ms[gatehouse.MethodRecoveryCode]))
				}
			})
		})
	}
}
