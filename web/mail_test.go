package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestLookalikeAddresses: an address that looks like another cannot make a
// second user that looks the same, wherever an address is taken. Through
// the admin API fullwidth forms fold to the ASCII user (a conflict), and
// lookalike or invisible characters before the @ are a 400 naming mail
// and the character, writing nothing; a lookalike domain is stored as its
// A-label, which looks like no other. Sign-up, sign-in and password reset
// fold and refuse the same way, with sentences on the pages.
func TestLookalikeAddresses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		api := h.tenant.AdminAPI
		admin := h.addUser("admin@example.com", "correct horse battery")
		users := h.countAll(api+"/users", h.tok)
		audits := h.countAll(api+"/auditLogs/directoryAudits", h.tok)

		for _, c := range []struct{ name, mail, says string }{
			{"dotless i", "admın@example.com", "U+0131 LATIN SMALL LETTER DOTLESS I"},
			{"cyrillic a", "\u0430dmin@example.com", "U+0430 CYRILLIC SMALL LETTER A"},
			{"zero-width space", "ad\u200Bmin@example.com", "an invisible character"},
			{"combining dot above", "admi\u0307n@example.com", "a combining mark"},
			{"zero-width space in the domain", "admin@exam\u200Bple.com", "in its domain"},
		} {
			for _, body := range []map[string]any{
				{"mail": c.mail, "displayName": c.name},
				{"identities": []map[string]any{{"signInType": "emailAddress", "issuer": "acme", "issuerAssignedId": c.mail}}, "displayName": c.name},
			} {
				r := h.must(400, "POST", api+"/users", h.tok, body)
				if e := r.body["error"].(map[string]any); e["target"] != "mail" || !strings.Contains(r.errMessage(), c.says) {
					t.Errorf("POST /users %s: %s; want a 400 on mail saying %q", c.name, r.raw, c.says)
				}
			}
			r := h.must(400, "PATCH", api+"/users/"+admin, h.tok, map[string]any{"mail": c.mail})
			if !strings.Contains(r.errMessage(), c.says) {
				t.Errorf("PATCH mail %s: %q", c.name, r.errMessage())
			}
		}
		if n := h.countAll(api+"/users", h.tok); n != users {
			t.Errorf("refused addresses made %d users", n-users)
		}
		if n := h.countAll(api+"/auditLogs/directoryAudits", h.tok); n != audits {
			t.Errorf("refused addresses wrote %d audit entries", n-audits)
		}

		// Fullwidth forms are the ASCII address: taken.
		r := h.must(409, "POST", api+"/users", h.tok, map[string]any{"mail": "ａｄｍｉｎ＠example.com", "displayName": "Twin"})
		if !strings.Contains(r.errMessage(), `"admin@example.com"`) {
			t.Errorf("fullwidth twin: %q; want the conflict to name admin@example.com", r.errMessage())
		}
		folded := h.must(201, "POST", api+"/users", h.tok, map[string]any{"mail": "ｇｒａｃｅ@example.com", "displayName": "Grace"})
		if folded.str("mail") != "grace@example.com" || folded.str("userPrincipalName") != "grace@example.com" {
			t.Errorf("fullwidth address stored as %q", folded.str("mail"))
		}
		// A lookalike domain is another domain, and looks it.
		idn := h.must(201, "POST", api+"/users", h.tok, map[string]any{"mail": "admin@ex\u0430mple.com", "displayName": "Other domain"})
		if idn.str("mail") != "admin@xn--exmple-4nf.com" {
			t.Errorf("lookalike domain stored as %q", idn.str("mail"))
		}
		h.must(409, "POST", api+"/users", h.tok, map[string]any{"mail": "ADMIN@xn--exmple-4nf.com", "displayName": "Same"})
		got := h.must(200, "GET", api+"/users?$filter=mail%20eq%20'%EF%BD%87race@example.com'", h.tok, nil).body["value"].([]any)
		if len(got) != 1 {
			t.Errorf("$filter on a fullwidth address found %d users", len(got))
		}

		// Sign-in: the fullwidth address signs in; a lookalike is refused
		// with a sentence before any password is tried.
		b := newBrowser(t, rpRedirect)
		claims := h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "ａｄｍｉｎ@ｅｘａｍｐｌｅ.com", "password": "correct horse battery"}))
		if claims["sub"] != admin {
			t.Errorf("fullwidth sign-in: sub %v, want %s", claims["sub"], admin)
		}
		b = newBrowser(t, rpRedirect)
		for mail, says := range map[string]string{
			"admın@example.com":       "Use only the letters a to z, digits and punctuation before the @",
			"ad\u200Bmin@example.com": "invisible character",
		} {
			p := noFollow(b).submit(h.begin(b), map[string]string{"email": mail, "password": "correct horse battery"})
			if p.status != http.StatusBadRequest || !strings.Contains(text(p.body), says) {
				t.Errorf("sign-in as %q: status %d, %.300s; want 400 saying %q", mail, p.status, text(p.body), says)
			}
		}

		// Sign-up: a fullwidth address gets its code at the ASCII address,
		// and the account is made with it; a lookalike gets a sentence and
		// no mail.
		b = newBrowser(t, rpRedirect)
		signUp := h.follow(b, h.begin(b), "Sign up")
		p := noFollow(b).submit(signUp, map[string]string{"email": "\u0430da@example.com"})
		if p.status != http.StatusBadRequest || !strings.Contains(text(p.body), "before the @") {
			t.Errorf("sign-up with a Cyrillic a: status %d, %.300s", p.status, text(p.body))
		}
		code := h.step(b, signUp, map[string]string{"email": "ａｄａ@example.com"})
		if !strings.Contains(text(code.body), "We sent a code to ada@example.com") {
			t.Errorf("code page: %.300s", text(code.body))
		}
		details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")})
		h.signedIn(h.step(b, details, map[string]string{"password": "a long and unusual passphrase", "attr.displayName": "Ada"}))
		if u := h.user("ada@example.com"); u.Mail != "ada@example.com" {
			t.Errorf("signed-up user's mail %q", u.Mail)
		}
		for _, m := range h.smtp.Messages() {
			if strings.ContainsFunc(m.To[0], func(r rune) bool { return r > 0x7f }) {
				t.Errorf("mail sent to %q", m.To[0])
			}
		}

		// Reset: the fullwidth address resets the ASCII account.
		b = newBrowser(t, rpRedirect)
		reset := h.follow(b, h.begin(b), "Forgot your password?")
		code = h.step(b, reset, map[string]string{"email": "ＡＤＭＩＮ@example.com"})
		newPass := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "admin@example.com")})
		h.step(b, newPass, map[string]string{"password": "a brand new passphrase"})
		b = newBrowser(t, rpRedirect)
		h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "admin@example.com", "password": "a brand new passphrase"}))
	})
}
