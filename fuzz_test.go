package gatehouse_test

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// Fuzz targets of the root package. `go test` runs their seeds (f.Add and
// testdata/fuzz/FuzzXxx); fuzzing for longer is described in
// docs/architecture.md ("Fuzz targets").

// FuzzValidateRedirectURI: whatever the input, ValidateRedirectURI does
// not panic, answers the same twice, refuses only with an EINVALID error
// on its field, and accepts only what AS-12 allows: an absolute https URI,
// or http on a loopback host, with a valid port, no fragment, no wildcard
// and no user info, of at most 1024 bytes.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{"https://app.example.com/cb", "http://localhost:3000/cb", "http://[::1]:8400/", "http://127.0.0.1/cb?x=1",
		"https://app.example.com:99999/cb", "https://a.example/#", "https://*.example.com/", "https://u:p@a.example/", "http://a.example/",
		"HTTPS://A.EXAMPLE/cb", "https://a.example:/cb", "http://localhost:0/", "https://[::1%25en0]/", "https:/a.example/", "https://a.example/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		err := gatehouse.ValidateRedirectURI("web.redirectUris", uri)
		if again := gatehouse.ValidateRedirectURI("web.redirectUris", uri); (err == nil) != (again == nil) || err != nil && err.Error() != again.Error() {
			t.Fatalf("ValidateRedirectURI(%q) = %v, then %v", uri, err, again)
		}
		if err != nil {
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Field != "web.redirectUris" || e.Message == "" {
				t.Fatalf("ValidateRedirectURI(%q) = %#v; want EINVALID on the field", uri, err)
			}
			return
		}
		u, perr := url.Parse(uri)
		switch {
		case perr != nil || !u.IsAbs() || u.Host == "":
			t.Fatalf("accepted %q, which is not an absolute URI (%v)", uri, perr)
		case len(uri) > 1024:
			t.Fatalf("accepted %d bytes", len(uri))
		case u.Scheme != "https" && !(u.Scheme == "http" && gatehouse.IsLoopbackHost(u.Hostname())):
			t.Fatalf("accepted %q: scheme %q on host %q", uri, u.Scheme, u.Hostname())
		case strings.ContainsAny(uri, "#*") || u.User != nil:
			t.Fatalf("accepted %q with a fragment, a wildcard or user info", uri)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("accepted %q with port %q", uri, p)
			}
		}
	})
}

// FuzzCanonicalMail: CanonicalMail does not panic, answers the same twice,
// refuses only with an EINVALID error on its field, and what it accepts is
// ASCII, at most 254 bytes, canonical itself (a fixed point), valid for
// ValidateMail, and keyed by NormalizeMail as its lowercase form — so no
// two accepted addresses that differ beyond case share a key.
func FuzzCanonicalMail(f *testing.F) {
	for _, s := range []string{"ada@example.com", "ａｄａ＠example．com", "admın@example.com", "ad\u200bmin@example.com",
		"admi\u0307n@example.com", "a@exаmple.com", "a@пример.рф", "a@xn--e1afmkfd.xn--p1ai", "\"a b\"@x.io", "a@localhost",
		"a@@b.com", "@example.com", "a@", "a@e\u0301xample.com", "a@ex\u00admple.com", "\xff@x.io", "a@a\u05d0.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		got, err := gatehouse.CanonicalMail("mail", addr)
		again, err2 := gatehouse.CanonicalMail("mail", addr)
		if got != again || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("CanonicalMail(%q) = %q, %v; then %q, %v", addr, got, err, again, err2)
		}
		if err != nil {
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Field != "mail" || e.Message == "" {
				t.Fatalf("CanonicalMail(%q) = %#v; want EINVALID on mail", addr, err)
			}
			if !utf8.ValidString(e.Message) {
				t.Fatalf("CanonicalMail(%q): message %q is not UTF-8", addr, e.Message)
			}
			return
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= utf8.RuneSelf {
				t.Fatalf("CanonicalMail(%q) = %q, not ASCII", addr, got)
			}
		}
		if len(got) > 254 {
			t.Fatalf("CanonicalMail(%q) = %d bytes", addr, len(got))
		}
		if c, err := gatehouse.CanonicalMail("mail", got); c != got || err != nil {
			t.Fatalf("CanonicalMail(%q) = %q, but CanonicalMail(%q) = %q, %v", addr, got, got, c, err)
		}
		if err := gatehouse.ValidateMail("mail", got); err != nil {
			t.Fatalf("ValidateMail(%q), the canonical form of %q: %v", got, addr, err)
		}
		if k := gatehouse.NormalizeMail(addr); k != strings.ToLower(got) {
			t.Fatalf("NormalizeMail(%q) = %q, want %q", addr, k, strings.ToLower(got))
		}
	})
}
