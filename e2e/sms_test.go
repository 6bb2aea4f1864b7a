package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smstest"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestBrowserSMS walks the text message second factor in headless
// Chromium: the sample app asks for a second factor (acr_values=2); a
// user without one signs in with the password, registers a phone on the
// hosted page, types the code the test SMS gateway received (its
// signature verified), and the sample app shows amr with sms and mfa.
// Signed out, the next such sign-in texts a code to that phone.
func TestBrowserSMS(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			gw := smstest.Start(t)
			wh, err := notify.NewWebhook(notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			store := eng.Open(t)
			st := startStackWith(t, store, stackOptions{sms: wh})
			const mail, pw, phone = "ada@example.com", "tea at the ritz 1923", "+41446681800"
			addPasswordUser(t, store, mail, pw, gatehouse.MethodSMS)
			c := newChrome(t)
			run, bodyText := c.run, c.bodyText
			signIn := chromedp.Steps(
				chromedp.Navigate(st.shop),
				chromedp.Click(button("Sign in with a second factor")),
				chromedp.WaitVisible(byLabel("Password")),
				chromedp.SetValue(byLabel("Email address"), mail),
				chromedp.SendKeys(byLabel("Password"), pw),
				chromedp.Click(button("Sign in")))

			run("sign in with a second factor", signIn, chromedp.WaitVisible(byLabel("Mobile phone number")))
			run("enter the phone number",
				chromedp.SendKeys(byLabel("Mobile phone number"), "+41 44 668 18 00"),
				chromedp.Click(button("Text me a code")),
				chromedp.WaitVisible(byLabel("Code")))
			if page := bodyText(); !strings.Contains(page, "We sent a code to "+phone) {
				t.Errorf("the code page says:\n%s", page)
			}
			run("enter the code from the text message",
				chromedp.SendKeys(byLabel("Code"), gw.CodeFor(t, phone)),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Sign out")))
			if claims := bodyText(); !strings.Contains(claims, "Signed in with: pwd, sms, mfa") {
				t.Errorf("after registering the phone the sample app shows:\n%s", claims)
			}
			if gw.BadSignatures() != 0 {
				t.Errorf("the gateway refused %d signatures", gw.BadSignatures())
			}

			run("sign out", chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
			run("sign in with a second factor again", signIn, chromedp.WaitVisible(button("Text me a code")))
			if page := bodyText(); !strings.Contains(page, "We'll send a code by text message to your phone, •••• 1800.") {
				t.Errorf("the second factor page says:\n%s", page)
			}
			run("have a code texted", chromedp.Click(button("Text me a code")), chromedp.WaitVisible(byLabel("Code")))
			run("enter the code",
				chromedp.SendKeys(byLabel("Code"), gw.CodeFor(t, phone)),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Sign out")))
			if claims := bodyText(); !strings.Contains(claims, "Signed in with: pwd, sms, mfa") {
				t.Errorf("after the text message code the sample app shows:\n%s", claims)
			}
			if logs := st.logs.String(); strings.Contains(logs, phone) || strings.Contains(logs, pw) {
				t.Errorf("the log holds the phone number or the password (LOG-1)")
			}
		})
	}
}
