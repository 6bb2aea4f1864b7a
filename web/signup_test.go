package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
)

func TestSignUpEndToEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{attrs: []gatehouse.FlowAttribute{
			{Name: "displayName", Label: "Display name", DataType: "string", Required: true},
			{Name: "city", DataType: "string"},
			{Name: "loyaltyNumber", Label: "Loyalty number", DataType: "int64", Custom: true},
			{Name: "newsletter", Label: "Send me the newsletter", DataType: "boolean", Custom: true},
		}})
		b := newBrowser(t, rpRedirect)
		signUp := h.follow(b, h.begin(b), "Sign up")
		code := h.step(b, signUp, map[string]string{"email": "Grace@Example.com"})
		if !strings.Contains(text(code.body), "We sent a code to Grace@Example.com") {
			t.Errorf("code page: %.300s", text(code.body))
		}
		// The mail went through SMTP, with the code in its text.
		msg := h.smtp.WaitFor(t, func(r smtptest.Received) bool { return strings.EqualFold(r.To[0], "grace@example.com") }, 0)
		if !strings.Contains(msg.Subject, "verification code") {
			t.Errorf("subject %q", msg.Subject)
		}
		details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "grace@example.com")})

		// A common password is refused with a sentence.
		r := noFollow(b).submit(details, map[string]string{"password": "password123", "attr.displayName": "Grace"})
		if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That password is too common") {
			t.Errorf("common password: status %d, body %.400s", r.status, text(r.body))
		}
		back := h.step(b, details, map[string]string{"password": "a long and unusual passphrase", "attr.displayName": "Grace Hopper",
			"attr.city": "Arlington", "attr.loyaltyNumber": "1906", "attr.newsletter": "true"})
		claims := h.signedIn(back)
		// The sign-up proved the address with a code and set a password:
		// two factors.
		if amr(claims) != "pwd otp email mfa" || claims["acr"] != "2" || claims["email"] != "Grace@Example.com" {
			t.Errorf("claims %v", claims)
		}
		u := h.user("grace@example.com")
		if u.DisplayName != "Grace Hopper" || u.City != "Arlington" || u.CustomAttributes["loyaltyNumber"] != "1906" ||
			u.CustomAttributes["newsletter"] != "true" || !u.AccountEnabled || u.PasswordHash == "" {
			t.Errorf("new user %+v", u)
		}

		// The new password signs in.
		b = newBrowser(t, rpRedirect)
		h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "grace@example.com", "password": "a long and unusual passphrase"}))

		// The code, the request and the details page are single use.
		if r := b.get(details.url.String()); r.status == 200 && strings.Contains(r.body, "Create account") {
			t.Errorf("the details page still works after the account was made")
		}
	})
}

// TestSignUpExistingAccount checks RL-4 for sign-up: an address with an
// account gets a notice instead of a code, and the pages are the same.
func TestSignUpExistingAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")

		bOld, bNew := newBrowser(t, rpRedirect), newBrowser(t, rpRedirect)
		old := h.step(bOld, h.follow(bOld, h.begin(bOld), "Sign up"), map[string]string{"email": "ada@example.com"})
		fresh := h.step(bNew, h.follow(bNew, h.begin(bNew), "Sign up"), map[string]string{"email": "new@example.com"})
		if text(old.body) != strings.ReplaceAll(text(fresh.body), "new@", "ada@") {
			t.Errorf("sign-up pages differ for a taken address:\n%s\n%s", text(old.body), text(fresh.body))
		}
		notice := h.smtp.WaitFor(t, func(r smtptest.Received) bool { return r.To[0] == "ada@example.com" }, 0)
		if !strings.Contains(notice.Subject, "already have") || codeRE.MatchString(notice.Text) || strings.Contains(notice.Text, "http") {
			t.Errorf("notice to an existing account: %q\n%s", notice.Subject, notice.Text)
		}
		// Guessing cannot create a second account.
		r := noFollow(bOld).submit(old, map[string]string{"code": "00000000"})
		if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "That code is wrong.") {
			t.Errorf("a code for a taken address: status %d, %.300s", r.status, text(r.body))
		}
	})
}

func TestSignUpOff(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{signUpOff: true})
	b := newBrowser(t, rpRedirect)
	login := h.begin(b)
	if strings.Contains(login.body, "Sign up") {
		t.Errorf("the sign-in page offers sign-up although it is off")
	}
	r := b.get(h.url + "/acme/signup?tx=" + login.url.Query().Get("tx"))
	if r.status != http.StatusNotFound || !strings.Contains(text(r.body), "You can't create an account") {
		t.Errorf("sign-up page with sign-up off: status %d, %.300s", r.status, text(r.body))
	}
}
