package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/pquerna/otp/totp"
)

// requireMFA makes a sample app ask for a second factor: the
// authorization requests it starts (the redirect of its /login) carry
// acr_values=2, as an app that requires multifactor authentication sends.
func requireMFA(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&acrWriter{ResponseWriter: w}, r)
	})
}

type acrWriter struct{ http.ResponseWriter }

func (a *acrWriter) WriteHeader(status int) {
	if loc, err := url.Parse(a.Header().Get("Location")); err == nil && status == http.StatusSeeOther && strings.HasSuffix(loc.Path, "/oauth2/v2.0/authorize") {
		q := loc.Query()
		q.Set("acr_values", "2")
		loc.RawQuery = q.Encode()
		a.Header().Set("Location", loc.String())
	}
	a.ResponseWriter.WriteHeader(status)
}

// addPasswordUser creates a user of the stack's tenant with a password,
// and turns the methods of the methods policy on.
func addPasswordUser(t *testing.T, store *sqlstore.Store, mail, pw string, methods ...string) {
	t.Helper()
	ctx := context.Background()
	tn, err := store.TenantByName(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.NewHasher(password.DefaultParams, 0, 4).Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(ctx, func(tx gatehouse.Tx) error {
		if _, err := tx.UpdateMethodsPolicy(ctx, tn.ID, func(p *gatehouse.MethodsPolicy) error {
			for _, m := range methods {
				c := p.Config(m)
				c.Enabled = true
				p.SetConfig(c)
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &gatehouse.User{TenantID: tn.ID, Mail: mail, DisplayName: "Ada Lovelace", AccountEnabled: true, PasswordHash: hash})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserTOTPAndRecoveryCode: in headless Chromium, a password sign-in
// to an app that requires a second factor registers an authenticator app
// just in time (the QR code shown, the key read from the page, the code
// computed in Go with pquerna/otp), shows recovery codes once, and lands
// on the sample app with amr mfa; a later sign-in uses a code from the
// app, and another a recovery code.
func TestBrowserTOTPAndRecoveryCode(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			st := startStack(t, store)
			st.apps["Shop"].wrap(requireMFA)
			const mail, pw = "ada@example.com", "analytical engine 1843"
			addPasswordUser(t, store, mail, pw, gatehouse.MethodSoftwareOath, gatehouse.MethodRecoveryCode)
			c := newChrome(t)
			signIn := func(step string) {
				t.Helper()
				c.run(step,
					chromedp.Navigate(st.shop),
					chromedp.Click(button("Sign in")),
					chromedp.WaitVisible(byLabel("Password")),
					chromedp.SetValue(byLabel("Email address"), mail),
					chromedp.SendKeys(byLabel("Password"), pw),
					chromedp.Click(button("Sign in")))
			}
			signedIn := func(step string) {
				t.Helper()
				c.run(step, chromedp.WaitVisible(button("Sign out")))
				if got, _ := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS("#amr"))); !strings.Contains(got, "pwd, otp, mfa") {
					t.Errorf("%s: the sample app shows %q, want amr pwd, otp, mfa", step, got)
				}
				c.run("sign out", chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
			}

			signIn("sign in with the password")
			c.run("the authenticator app's registration", chromedp.WaitVisible(byLabel("Code")))
			key, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS("#totp-key")))
			if err != nil {
				t.Fatal(err)
			}
			// The QR code is an image the page's CSP lets the browser show.
			if w, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelector(".totp-qr img").naturalWidth`)); err != nil || w != 240 {
				t.Errorf("the QR code image is %d pixels wide (%v), want 240", w, err)
			}
			secret := strings.ReplaceAll(key, " ", "")
			code, err := totp.GenerateCode(secret, time.Now())
			if err != nil {
				t.Fatalf("setup key %q: %v", key, err)
			}
			c.run("confirm the app with its code",
				chromedp.SendKeys(byLabel("Code"), code),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Continue")))
			codes, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".recovery-codes li"), li => li.textContent)`))
			if err != nil || len(codes) != 10 {
				t.Fatalf("recovery codes %v (%v), want ten", codes, err)
			}
			c.run("continue to the app", chromedp.Click(button("Continue")))
			signedIn("after the registration")

			signIn("sign in again")
			// The step of the registration's code is spent (TOTP-3): the
			// app's next code, which the window accepts already.
			next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
			c.run("choose the authenticator app and enter its code",
				chromedp.Click(button("Use my authenticator app")),
				chromedp.WaitVisible(byLabel("Code")),
				chromedp.SendKeys(byLabel("Code"), next),
				chromedp.Click(button("Verify")))
			signedIn("with a code from the app")

			signIn("sign in a third time")
			c.run("choose a recovery code and enter one",
				chromedp.Click(button("Use a recovery code")),
				chromedp.WaitVisible(byLabel("Recovery code")),
				chromedp.SendKeys(byLabel("Recovery code"), codes[0]),
				chromedp.Click(button("Verify")))
			signedIn("with a recovery code")

			notice := st.smtp.WaitFor(t, func(r smtptest.Received) bool { return strings.Contains(r.Subject, "new sign-in method") }, 10*time.Second)
			if notice.To[0] != mail {
				t.Errorf("the notice of the new method went to %v", notice.To)
			}
			logs := st.logs.String()
			for what, secret := range map[string]string{"password": pw, "setup key": secret, "code": code, "next code": next, "recovery code": codes[0]} {
				if strings.Contains(logs, secret) {
					t.Errorf("the %s appears in the log (LOG-1)", what)
				}
			}
		})
	}
}
