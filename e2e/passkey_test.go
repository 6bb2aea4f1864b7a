package e2e

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// webauthnReady waits until the page's WebAuthn script has taken over its
// form: a press before that would post the form without a passkey (a race
// a loaded machine loses).
var webauthnReady = chromedp.WaitReady(chromedp.CSS(`form#webauthn[data-ready="true"]`))

// addVirtualAuthenticator gives the browser Chromium's virtual
// authenticator over the DevTools protocol: a platform authenticator
// (CTAP2, internal transport) that holds passkeys (resident keys) and
// verifies its user, answering at once.
func addVirtualAuthenticator(ctx context.Context, t *chromedp.Target) (webauthn.AuthenticatorID, error) {
	if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		return "", err
	}
	res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	return res.AuthenticatorID, err
}

// askForMFA makes the browser's authorization requests to the issuer ask
// for multifactor authentication (acr_values=2) while on is set, as an app
// that requires it would: the sample app itself does not.
func askForMFA(issuer string, on *atomic.Bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		paused := cdp.Events(ctx, t, fetch.RequestPaused)
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: issuer + "/oauth2/v2.0/authorize?*"}}})
		if err != nil {
			return err
		}
		go func() {
			for ev, err := range paused {
				if err != nil {
					return
				}
				u := ev.Request.URL
				if on.Load() {
					if parsed, err := url.Parse(u); err == nil {
						q := parsed.Query()
						q.Set("acr_values", "2")
						parsed.RawQuery = q.Encode()
						u = parsed.String()
					}
				}
				_, _ = cdp.Call(ctx, t, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID, URL: u})
			}
		}()
		return nil
	})
}

// TestBrowserPasskeys walks passkeys in headless Chromium with its virtual
// authenticator: an app requires MFA, so a user with only a password
// registers a passkey just in time; next time the passkey is the second
// factor; then the user signs in with the passkey alone, which the user
// flow allows. Each time the sample app shows amr with hwk and mfa.
func TestBrowserPasskeys(t *testing.T) {
	path := chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			st := startStackWith(t, eng.Open(t), stackOptions{localhost: true})
			const mail, pw = "ada@example.com", "analytical engine 1843"
			bg := context.Background()
			hash, err := st.hasher.Hash(bg, pw)
			if err != nil {
				t.Fatal(err)
			}
			user := &gatehouse.User{TenantID: st.tenantID, Mail: mail, DisplayName: "Ada Lovelace", AccountEnabled: true, PasswordHash: hash}
			err = st.store.Update(bg, func(tx gatehouse.Tx) error {
				if _, err := tx.UpdateMethodsPolicy(bg, st.tenantID, func(p *gatehouse.MethodsPolicy) error {
					c := p.Config(gatehouse.MethodFido2)
					c.Enabled = true
					p.SetConfig(c)
					return nil
				}); err != nil {
					return err
				}
				if _, err := tx.UpdateUserFlow(bg, st.tenantID, st.flowID, func(f *gatehouse.UserFlow) error {
					f.PasskeySignIn = true
					return nil
				}); err != nil {
					return err
				}
				return tx.CreateUser(bg, user)
			})
			if err != nil {
				t.Fatal(err)
			}

			ctx := headlessChromium(t, path)
			run := stepper(t, ctx)
			var mfa atomic.Bool
			mfa.Store(true)
			authenticator, err := chromedp.Run(ctx, addVirtualAuthenticator)
			if err != nil {
				t.Fatalf("virtual authenticator: %v", err)
			}
			run("ask for MFA in authorization requests", askForMFA(st.gatehouse+"/acme", &mfa))
			amr := func() string {
				s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("amr")))
				return s
			}

			// passwordSignIn signs in from the sample app with the password,
			// to the page that then shows what the wait action waits for.
			passwordSignIn := func(step string, wait chromedp.Action[chromedp.Void]) {
				t.Helper()
				run(step,
					chromedp.Click(button("Sign in")),
					chromedp.WaitVisible(byLabel("Password")),
					chromedp.SetValue(byLabel("Email address"), mail),
					chromedp.SendKeys(byLabel("Password"), pw),
					chromedp.Click(button("Sign in")),
					wait)
			}

			run("open the sample app", chromedp.Navigate(st.shop), chromedp.WaitVisible(button("Sign in")))
			passwordSignIn("sign in with the password to an app that requires MFA", chromedp.WaitVisible(byLabel("Name for this passkey")))
			if text := pageText(ctx); !strings.Contains(text, "Set up a passkey") {
				t.Fatalf("not the passkey registration page:\n%s", text)
			}
			run("register a passkey just in time",
				chromedp.SendKeys(byLabel("Name for this passkey"), "Chromium"),
				webauthnReady,
				chromedp.Click(button("Continue")),
				chromedp.WaitVisible(button("Sign out")))
			if got := amr(); !strings.Contains(got, "pwd, hwk, mfa") {
				t.Errorf("after registering the passkey the sample app shows %q, want pwd, hwk, mfa", got)
			}
			methods, err := st.store.UserMethods(bg, st.tenantID, user.ID)
			if err != nil || len(methods) != 1 || methods[0].Method != gatehouse.MethodFido2 || methods[0].DisplayName != "Chromium" {
				t.Fatalf("the user's methods: %+v, %v", methods, err)
			}
			creds, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (webauthn.GetCredentialsResult, error) {
				return cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
			})
			if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential ||
				string(creds.Credentials[0].CredentialID) != string(methods[0].Passkey.CredentialID) ||
				string(creds.Credentials[0].UserHandle) != user.ID || creds.Credentials[0].RpID != "localhost" {
				t.Fatalf("the authenticator's credentials: %+v, %v", creds, err)
			}

			run("sign out", chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
			passwordSignIn("sign in with the password, then the passkey as the second factor", chromedp.WaitVisible(button("Continue")))
			if text := pageText(ctx); !strings.Contains(text, "Use your passkey") {
				t.Fatalf("not the passkey second factor page:\n%s", text)
			}
			run("use the passkey", webauthnReady, chromedp.Click(button("Continue")), chromedp.WaitVisible(button("Sign out")))
			if got := amr(); !strings.Contains(got, "pwd, hwk, mfa") {
				t.Errorf("with the passkey as second factor the sample app shows %q, want pwd, hwk, mfa", got)
			}

			mfa.Store(false)
			run("sign out again", chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
			run("sign in with the passkey alone",
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Sign in with a passkey")),
				chromedp.Click(button("Sign in with a passkey")),
				chromedp.WaitVisible(button("Continue")),
				webauthnReady,
				chromedp.Click(button("Continue")),
				chromedp.WaitVisible(button("Sign out")))
			if got := amr(); got != "Signed in with: hwk, mfa" {
				t.Errorf("after the passkey sign-in the sample app shows %q, want hwk, mfa", got)
			}
			if text := pageText(ctx); !strings.Contains(text, mail) {
				t.Errorf("the sample app does not show the signed-in user:\n%s", text)
			}
			methods, _ = st.store.UserMethods(bg, st.tenantID, user.ID)
			if c := methods[0].Passkey; c.CloneWarning || c.SignCount < 2 {
				t.Errorf("the passkey after two assertions: %+v", c)
			}
		})
	}
}
