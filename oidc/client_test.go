package oidc

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestNewClientSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		secret, hint, err := NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(secret) != 43 {
			t.Errorf("len(%q) = %d, want 43", secret, len(secret))
		}
		if b, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(b) != 32 {
			t.Errorf("secret %q is not 32 bytes in base64url: %v", secret, err)
		}
		if hint != secret[:3] {
			t.Errorf("hint = %q, want %q", hint, secret[:3])
		}
		if seen[secret] {
			t.Errorf("NewClientSecret repeated %q", secret)
		}
		seen[secret] = true
	}
}

func TestHashClientSecret(t *testing.T) {
	v := newVault(t)
	h := HashClientSecret(v, "s3cret")
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 || h != strings.ToLower(h) {
		t.Errorf("HashClientSecret = %q, want 64 lower-case hex digits", h)
	}
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"same secret", HashClientSecret(v, "s3cret"), true},
		{"other secret", HashClientSecret(v, "s3cret2"), false},
		{"other vault key", HashClientSecret(newVault(t), "s3cret"), false},
		{"other MAC purpose", hex.EncodeToString(v.MAC("email-otp", []byte("s3cret"))), false},
	} {
		if got := tc.got == h; got != tc.same {
			t.Errorf("%s: equal = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestAuthenticateClient(t *testing.T) {
	v := newVault(t)
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	secret := func() string {
		s, _, err := NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	current, expired, future, forever, second := secret(), secret(), secret(), secret(), secret()
	cred := func(s string, start, end time.Time) gatehouse.PasswordCredential {
		return gatehouse.PasswordCredential{KeyID: s[:8], Hint: s[:3], Hash: HashClientSecret(v, s), Start: start, End: end}
	}
	app := &gatehouse.Application{PasswordCredentials: []gatehouse.PasswordCredential{
		cred(current, now.Add(-time.Hour), now.AddDate(1, 0, 0)),
		cred(expired, now.AddDate(-1, 0, 0), now),
		cred(future, now.Add(time.Second), now.AddDate(1, 0, 0)),
		cred(forever, time.Time{}, time.Time{}),
		cred(second, now, now.Add(time.Second)),
	}}
	other := &gatehouse.Application{PasswordCredentials: []gatehouse.PasswordCredential{
		cred(secret(), now.Add(-time.Hour), time.Time{}),
	}}
	for _, tc := range []struct {
		name   string
		app    *gatehouse.Application
		secret string
		now    time.Time
		want   bool
	}{
		{"current", app, current, now, true},
		{"no expiry", app, forever, now, true},
		{"valid from now", app, second, now, true},
		{"expired at End", app, expired, now, false},
		{"expired before now", app, expired, now.Add(time.Hour), false},
		{"valid before End", app, expired, now.Add(-time.Second), true},
		{"not yet valid", app, future, now, false},
		{"valid from Start", app, future, now.Add(time.Second), true},
		{"wrong secret", app, secret(), now, false},
		{"secret with a changed character", app, current[:42] + string(current[42]^1), now, false},
		{"secret prefix", app, current[:42], now, false},
		{"the hash itself", app, HashClientSecret(v, current), now, false},
		{"empty secret", app, "", now, false},
		{"another app's secret", other, current, now, false},
		{"no credentials", &gatehouse.Application{}, current, now, false},
		{"nil app", nil, current, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AuthenticateClient(v, tc.app, tc.secret, tc.now); got != tc.want {
				t.Errorf("AuthenticateClient = %v, want %v", got, tc.want)
			}
		})
	}
	// A credential with an empty hash matches nothing.
	empty := &gatehouse.Application{PasswordCredentials: []gatehouse.PasswordCredential{{Hash: ""}}}
	if AuthenticateClient(v, empty, "", now) {
		t.Errorf("AuthenticateClient with an empty secret and hash = true")
	}
	// Another vault key does not accept the secret.
	if AuthenticateClient(newVault(t), app, current, now) {
		t.Errorf("AuthenticateClient under another vault key = true")
	}
}

// BenchmarkAuthenticateClient measures client secret authentication of an
// app with two secrets (as during a secret rollover).
func BenchmarkAuthenticateClient(b *testing.B) {
	v := newVault(b)
	now := time.Now()
	s1, _, _ := NewClientSecret()
	s2, _, _ := NewClientSecret()
	app := &gatehouse.Application{PasswordCredentials: []gatehouse.PasswordCredential{
		{Hash: HashClientSecret(v, s1), Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
		{Hash: HashClientSecret(v, s2), Start: now.Add(-time.Hour)},
	}}
	for b.Loop() {
		if !AuthenticateClient(v, app, s2, now) {
			b.Fatal("not authenticated")
		}
	}
}
