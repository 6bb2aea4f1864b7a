package web

import (
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestMatchRedirectURI checks AS-1: a redirect URI matches a registered
// one exactly, or, for an http loopback one of a native (public client)
// app, exactly but for the port (RFC 8252 section 7.3). The refusals after the first few are what
// FuzzMatchRedirectURI found: ports no URI may have, an empty fragment,
// and paths escaped differently from the registered one.
func TestMatchRedirectURI(t *testing.T) {
	app := &gatehouse.Application{
		WebRedirectURIs:          []string{"https://app.example.com/cb"},
		SPARedirectURIs:          []string{"http://127.0.0.1:7000/spa"},
		PublicClientRedirectURIs: []string{"http://127.0.0.1/cb", "http://localhost:8400/a/b?x=1"},
	}
	for _, c := range []struct {
		uri  string
		want bool
	}{
		{"https://app.example.com/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:7000/spa", true},
		{"http://127.0.0.1:7001/spa", false}, // a single-page app's port is fixed
		{"http://127.0.0.1:51234/cb", true},
		{"http://localhost:1/a/b?x=1", true},
		{"http://localhost/a/b?x=1", true},
		{"https://app.example.com:443/cb", false},
		{"https://app.example.com/cb/", false},
		{"http://127.0.0.2:1/cb", false},
		{"http://localhost:1/a/b", false},
		{"http://user@127.0.0.1:1/cb", false},
		{"http://127.0.0.1:99999/cb", false},
		{"http://127.0.0.1:0/cb", false},
		{"http://127.0.0.1:/cb", false},
		{"http://127.0.0.1:1/cb#", false},
		{"http://127.0.0.1:1/c%62", false},
		{"http://localhost:1/a%2Fb?x=1", false},
	} {
		if got := matchRedirectURI(app, c.uri); got != c.want {
			t.Errorf("matchRedirectURI(%q) = %v, want %v", c.uri, got, c.want)
		}
	}
}
