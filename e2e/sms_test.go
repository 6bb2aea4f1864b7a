package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smstest"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// TestBrowserSMS walks the text message second factor in headless
// Chromium, with an app of its own (golang.org/x/oauth2 with PKCE, go-oidc)
// that asks for multifactor authentication with acr_values=2: the user
// signs in with a password, registers a phone on the hosted page, types
// the code that the test SMS gateway received (its signature verified),
// and is back at the app with amr sms and mfa. A new browser session then
// signs in with a code texted to that phone.
func TestBrowserSMS(t *testing.T) {
	path := chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			bg := context.Background()
			store := eng.Open(t)
			gw := smstest.Start(t)
			wh, err := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := startStack(t, store, func(o *web.Options) { o.SMS = wh })

			// The app: a public client whose redirect URI is this test's.
			var mu sync.Mutex
			var codes []string
			rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/callback" {
					http.NotFound(w, r) // the favicon
					return
				}
				mu.Lock()
				codes = append(codes, r.URL.Query().Get("code"))
				mu.Unlock()
				_, _ = w.Write([]byte("<!doctype html><title>App</title><h1>Back at the app</h1>"))
			}))
			t.Cleanup(rp.Close)
			const mail, pw, phone = "ada@example.com", "tea at the ritz 1923", "+41446681800"
			tn, err := store.TenantByName(bg, "acme")
			if err != nil {
				t.Fatal(err)
			}
			hash, err := password.NewHasher(password.DefaultParams, 1, 1).Hash(bg, pw)
			if err != nil {
				t.Fatal(err)
			}
			app := &gatehouse.Application{TenantID: tn.ID, AppID: newID(), DisplayName: "Bank", IsFallbackPublicClient: true,
				PublicClientRedirectURIs: []string{rp.URL + "/callback"}}
			err = store.Update(bg, func(tx gatehouse.Tx) error {
				if err := tx.CreateApplication(bg, app); err != nil {
					return err
				}
				if err := tx.CreateUser(bg, &gatehouse.User{TenantID: tn.ID, Mail: mail, DisplayName: "Ada", AccountEnabled: true, PasswordHash: hash}); err != nil {
					return err
				}
				flows, _, err := tx.ListUserFlows(bg, tn.ID, gatehouse.ListOptions{})
				if err != nil {
					return err
				}
				if _, err := tx.UpdateUserFlow(bg, tn.ID, flows[0].ID, func(f *gatehouse.UserFlow) error {
					f.AppIDs = append(f.AppIDs, app.AppID)
					return nil
				}); err != nil {
					return err
				}
				return storetest.EnableMethod(bg, tx, tn.ID, gatehouse.MethodSMS)
			})
			if err != nil {
				t.Fatal(err)
			}
			provider, err := gooidc.NewProvider(bg, gatehouse.IssuerURL(st.gatehouse, "acme"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := oauth2.Config{ClientID: app.AppID, Endpoint: provider.Endpoint(), RedirectURL: rp.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID}}

			ctx := startChromium(t, path)
			run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					url, _ := chromedp.Run(ctx, chromedp.Location())
					body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
					t.Fatalf("%s: %v\nat %s:\n%s", step, err, url, body)
				}
			}
			// signIn has Chromium sign in to the app, asking for
			// multifactor authentication, and returns the ID token's claims.
			signIn := func(steps func()) map[string]any {
				t.Helper()
				verifier := oauth2.GenerateVerifier()
				run("open the authorization URL with acr_values=2",
					chromedp.Navigate(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", "2"))),
					chromedp.WaitVisible(byLabel("Email address")),
					chromedp.SendKeys(byLabel("Email address"), mail),
					chromedp.SendKeys(byLabel("Password"), pw),
					chromedp.Click(button("Sign in")))
				steps()
				run("back at the app", chromedp.WaitVisible(chromedp.Search(`//h1[text()='Back at the app']`)))
				mu.Lock()
				code := codes[len(codes)-1]
				mu.Unlock()
				tok, err := cfg.Exchange(bg, code, oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatalf("code exchange: %v", err)
				}
				raw, _ := tok.Extra("id_token").(string)
				idt, err := provider.Verifier(&gooidc.Config{ClientID: app.AppID}).Verify(bg, raw)
				if err != nil {
					t.Fatalf("ID token: %v", err)
				}
				var claims map[string]any
				_ = idt.Claims(&claims)
				return claims
			}
			checkMFA := func(what string, claims map[string]any) {
				t.Helper()
				var amr []string
				for _, v := range claims["amr"].([]any) {
					amr = append(amr, v.(string))
				}
				if !slices.Contains(amr, "sms") || !slices.Contains(amr, "mfa") || claims["acr"] != "2" {
					t.Errorf("%s: amr %v, acr %v; want sms, mfa and 2", what, amr, claims["acr"])
				}
			}

			checkMFA("registration", signIn(func() {
				run("enter the phone number",
					chromedp.WaitVisible(byLabel("Mobile phone number")),
					chromedp.SendKeys(byLabel("Mobile phone number"), "+41 44 668 18 00"),
					chromedp.Click(button("Text me a code")),
					chromedp.WaitVisible(byLabel("Code")))
				run("enter the code from the text message",
					chromedp.SendKeys(byLabel("Code"), gw.CodeFor(t, phone)),
					chromedp.Click(button("Verify")))
			}))
			if gw.BadSignatures() != 0 {
				t.Errorf("the gateway refused %d signatures", gw.BadSignatures())
			}

			// A browser without the session: the code goes to the phone.
			if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
			checkMFA("second factor", signIn(func() {
				run("have a code texted",
					chromedp.WaitVisible(button("Text me a code")),
					chromedp.Click(button("Text me a code")),
					chromedp.WaitVisible(byLabel("Code")))
				page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
				if !strings.Contains(page, "We sent a code to •••• 1800.") {
					t.Errorf("the code page says:\n%s", page)
				}
				run("enter the code", chromedp.SendKeys(byLabel("Code"), gw.CodeFor(t, phone)), chromedp.Click(button("Verify")))
			}))
			if logs := st.logs.String(); strings.Contains(logs, phone) || strings.Contains(logs, pw) {
				t.Errorf("the log holds the phone number or the password (LOG-1)")
			}
		})
	}
}
