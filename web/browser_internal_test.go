package web

import (
	"net/http/httptest"
	"testing"
)

func TestCookieNames(t *testing.T) {
	for _, c := range []struct{ public, session, binding string }{
		{"https://id.example.com", "__Host-gh_s_acme", "__Host-gh_b_acme"},
		{"http://localhost:8080", "gh_s_acme", "gh_b_acme"},
		{"http://127.0.0.1:8080", "gh_s_acme", "gh_b_acme"},
	} {
		s := &server{Options: Options{PublicURL: c.public}}
		if got := s.sessionCookieName("acme"); got != c.session {
			t.Errorf("%s: session cookie %q, want %q", c.public, got, c.session)
		}
		if got := s.bindingCookieName("acme"); got != c.binding {
			t.Errorf("%s: binding cookie %q, want %q", c.public, got, c.binding)
		}
	}
}

func TestRateIP(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if got := rateIP(r); got != c.want {
			t.Errorf("rateIP(%s) = %q, want %q", c.remote, got, c.want)
		}
	}
}
