package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestBrowserEmailSecondFactor walks the seed's last step in headless
// Chromium: with email one-time passcodes enabled, a password sign-in
// whose relying party asks for a second factor (the sample app's "Sign in
// with a second factor", acr_values=2) prompts for a code; the code from
// the mail a real SMTP server received completes it, and the sample app
// shows amr with mfa. A browser signed in with the password alone is then
// stepped up by the second app without a password prompt.
func TestBrowserEmailSecondFactor(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			st := startStack(t, store)
			mail := "ada@example.com"
			addPasswordUser(t, store, mail, "tea at the ritz 1923", gatehouse.MethodEmail)
			c := newChrome(t)
			bodyText, run := c.bodyText, c.run
			run("open the sample app and sign in with a second factor",
				chromedp.Navigate(st.shop),
				chromedp.Click(button("Sign in with a second factor")),
				chromedp.WaitVisible(byLabel("Password")),
				chromedp.SendKeys(byLabel("Email address"), mail),
				chromedp.SendKeys(byLabel("Password"), "tea at the ritz 1923"),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Send code")))
			if page := bodyText(); !strings.Contains(page, "a***@example.com") {
				t.Errorf("the second factor page does not name the masked address:\n%s", page)
			}
			run("send the code", chromedp.Click(button("Send code")), chromedp.WaitVisible(byLabel("Code")))
			if page := bodyText(); !strings.Contains(page, "We sent a code to a***@example.com") {
				t.Errorf("the code page says:\n%s", page)
			}
			run("enter the code from the mail",
				chromedp.SendKeys(byLabel("Code"), st.smtp.CodeFor(t, mail)),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Sign out")))
			if claims := bodyText(); !strings.Contains(claims, "Signed in with: pwd, otp, email, mfa") {
				t.Errorf("after the second factor the sample app shows:\n%s", claims)
			}

			// The second app: a plain sign-in rides on the session, then its
			// "Verify with a second factor" asks for the code only.
			run("sign out of the first app", chromedp.Click(button("Sign out")), chromedp.WaitVisible(button("Sign in")))
			run("sign in to the second app with the password only",
				chromedp.Navigate(st.blog),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(byLabel("Password")),
				chromedp.SetValue(byLabel("Email address"), mail),
				chromedp.SendKeys(byLabel("Password"), "tea at the ritz 1923"),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Sign out")))
			if claims := bodyText(); !strings.Contains(claims, "Signed in with: pwd") || strings.Contains(claims, "mfa") {
				t.Errorf("the password-only sign-in shows:\n%s", claims)
			}
			run("step up",
				chromedp.Click(button("Verify with a second factor")),
				chromedp.WaitVisible(button("Send code")))
			if page := bodyText(); strings.Contains(page, "Password") {
				t.Errorf("the step-up asked for the password again:\n%s", page)
			}
			run("send the code again", chromedp.Click(button("Send code")), chromedp.WaitVisible(byLabel("Code")))
			run("enter the code",
				chromedp.SendKeys(byLabel("Code"), st.smtp.CodeFor(t, mail)),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(button("Sign out")))
			if claims := bodyText(); !strings.Contains(claims, "Signed in with: pwd, otp, email, mfa") {
				t.Errorf("after the step-up the sample app shows:\n%s", claims)
			}
		})
	}
}
