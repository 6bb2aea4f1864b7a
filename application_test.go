package gatehouse_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestValidateRedirectURI checks AS-12: https, or http on the loopback
// hosts only; no fragments, wildcards, user info or impossible ports.
func TestValidateRedirectURI(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want string // "" for valid, else a part of the message
	}{
		{"https://app.example.com/callback", ""},
		{"https://app.example.com:8443/cb?x=1", ""},
		{"http://localhost/cb", ""},
		{"http://LocalHost:3000/cb", ""},
		{"http://127.0.0.1:8400/", ""},
		{"http://[::1]:8400/", ""},
		{"http://app.example.com/cb", "uses http"},
		{"http://127.0.0.2/cb", "uses http"},
		{"http://[::ffff:127.0.0.1]/cb", "uses http"},
		{"http://localhost.example.com/cb", "uses http"},
		{"ftp://app.example.com/cb", `scheme "ftp"`},
		{"/callback", "not an absolute URI"},
		{"https://app.example.com:99999/cb", "port 99999"},
		{"https://app.example.com:0/cb", "port 0"},
		{"https://app.example.com:/cb", "empty port"},
		{"https://app.example.com/cb#x", "fragment"},
		{"https://*.example.com/cb", "wildcard"},
		{"https://user:pw@app.example.com/cb", "user info"},
		{"https://app.example.com/" + strings.Repeat("a", 1100), "longer than 1024"},
	} {
		err := gatehouse.ValidateRedirectURI("web.redirectUris", c.uri)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.uri, err)
		case c.want != "" && err == nil:
			t.Errorf("%s: valid, want an error saying %q", c.uri, c.want)
		case c.want != "" && (!strings.Contains(err.Error(), c.want) || gatehouse.ErrorCode(err) != gatehouse.EINVALID):
			t.Errorf("%s: %v (code %s), want EINVALID saying %q", c.uri, err, gatehouse.ErrorCode(err), c.want)
		}
	}
}
