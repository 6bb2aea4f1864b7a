package web_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestReadyzMailCheck: /readyz says whether mail gets through, from what
// the SMTP sender saw of its last delivery, without deciding readiness
// (password sign-in works without mail) and without naming the server.
func TestReadyzMailCheck(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{})
	mail := func() string {
		t.Helper()
		r := h.must(200, "GET", h.url+"/readyz", "", nil)
		checks, _ := r.body["checks"].(map[string]any)
		m, _ := checks["mail"].(string)
		if strings.Contains(r.raw, h.smtp.URL()) || strings.Contains(r.raw, "127.0.0.1") {
			t.Errorf("readyz names the mail server: %s", r.raw)
		}
		return m
	}
	if m := mail(); !strings.HasPrefix(m, "configured: the mail server has not been contacted yet") {
		t.Errorf("before any mail: %q", m)
	}
	h.signUpCodePage(newBrowser(t, rpRedirect), "grace@example.com")
	if m := mail(); !strings.HasPrefix(m, "ok: the mail server was last reached at ") {
		t.Errorf("after a delivery: %q", m)
	}
	h.smtp.FailNext(3, 421, "try again later")
	b := newBrowser(t, rpRedirect)
	if r := noFollow(b).submit(h.follow(b, h.begin(b), "Sign up"), map[string]string{"email": "ada@example.com"}); r.status != 503 {
		t.Fatalf("sign-up with the mail server refusing: status %d", r.status)
	}
	if m := mail(); !strings.HasPrefix(m, "failing: the last attempt to send mail, at ") {
		t.Errorf("after a failed delivery: %q", m)
	}
	h.signUpCodePage(newBrowser(t, rpRedirect), "hopper@example.com")
	if m := mail(); !strings.HasPrefix(m, "ok: ") {
		t.Errorf("after the server recovered: %q", m)
	}
}
