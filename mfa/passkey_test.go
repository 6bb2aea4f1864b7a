package mfa_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/mfa/passkeytest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const (
	testOrigin = "https://id.example.com"
	testURL    = "https://id.example.com/base"
)

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newPasskeys(t *testing.T) (*mfa.Passkeys, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	p, err := mfa.NewPasskeys(testURL, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return p, clk
}

// options returns the browser options of the ceremony in state.
func options(t *testing.T, p *mfa.Passkeys, state []byte, wantKind string) []byte {
	t.Helper()
	kind, opts, ok := p.Pending(state)
	if !ok || kind != wantKind {
		t.Fatalf("Pending = %q, %v; want a live %s ceremony", kind, ok, wantKind)
	}
	return opts
}

// register registers a passkey of the authenticator for u and returns it
// as the user's method.
func register(t *testing.T, p *mfa.Passkeys, a *passkeytest.Authenticator, u *mfa.PasskeyUser) *gatehouse.UserMethod {
	t.Helper()
	reg, err := tryRegister(t, p, a, *u, nil)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	m := &gatehouse.UserMethod{ID: uuid.NewString(), UserID: u.ID, Method: gatehouse.MethodFido2, Passkey: &reg.Credential}
	u.Passkeys = append(u.Passkeys, m)
	return m
}

// tryRegister runs a registration of u with the authenticator under the
// key restrictions.
func tryRegister(t *testing.T, p *mfa.Passkeys, a *passkeytest.Authenticator, u mfa.PasskeyUser, kr *gatehouse.KeyRestrictions) (*mfa.PasskeyRegistration, error) {
	t.Helper()
	state, err := p.BeginRegistration(u, "Acme", kr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Create(options(t, p, state, mfa.CeremonyRegister))
	if err != nil {
		t.Fatal(err)
	}
	return p.FinishRegistration(u, state, resp, kr)
}

func newUser() *mfa.PasskeyUser {
	return &mfa.PasskeyUser{ID: uuid.NewString(), Name: "ada@example.com", DisplayName: "Ada Lovelace"}
}

func TestNewPasskeysRelyingParty(t *testing.T) {
	for _, tc := range []struct {
		url, rpID, origin string
	}{
		{"https://id.example.com", "id.example.com", "https://id.example.com"},
		{"https://ID.Example.com:8443/gatehouse/", "id.example.com", "https://id.example.com:8443"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
	} {
		p, err := mfa.NewPasskeys(tc.url, nil)
		if err != nil {
			t.Errorf("NewPasskeys(%q): %v", tc.url, err)
			continue
		}
		if p.RPID() != tc.rpID || p.Origin() != tc.origin {
			t.Errorf("NewPasskeys(%q): RP ID %q, origin %q; want %q, %q", tc.url, p.RPID(), p.Origin(), tc.rpID, tc.origin)
		}
	}
	// Browsers refuse IP addresses as RP IDs.
	for _, u := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "https://192.0.2.1", "ftp://example.com", "not a url"} {
		if _, err := mfa.NewPasskeys(u, nil); !errors.Is(err, mfa.ErrPasskeysUnavailable) {
			t.Errorf("NewPasskeys(%q) = %v, want ErrPasskeysUnavailable", u, err)
		}
	}
}

// TestWA1Challenges checks the ceremonies' challenges: at least 16 random
// bytes, different every time, and short lived: an answer after
// PasskeyCeremonyLifetime is refused, and state is bound to its kind and
// user. (Single use is the caller's: the web tests show it.)
func TestWA1Challenges(t *testing.T) {
	p, clk := newPasskeys(t)
	u := newUser()
	a := passkeytest.New(testOrigin)
	register(t, p, a, u)

	seen := map[string]bool{}
	for range 5 {
		for _, begin := range []func() ([]byte, error){
			func() ([]byte, error) { return p.BeginRegistration(*u, "Acme", nil) },
			func() ([]byte, error) { return p.BeginVerify(*u) },
			p.BeginSignIn,
		} {
			state, err := begin()
			if err != nil {
				t.Fatal(err)
			}
			_, opts, _ := p.Pending(state)
			var o struct {
				Challenge string `json:"challenge"`
				Timeout   int    `json:"timeout"`
			}
			if err := json.Unmarshal(opts, &o); err != nil {
				t.Fatal(err)
			}
			raw, err := base64.RawURLEncoding.DecodeString(o.Challenge)
			if err != nil || len(raw) < 16 {
				t.Errorf("challenge %q: %d bytes, %v; want at least 16", o.Challenge, len(raw), err)
			}
			if seen[o.Challenge] {
				t.Errorf("challenge %q issued twice", o.Challenge)
			}
			seen[o.Challenge] = true
			if o.Timeout != int(mfa.PasskeyCeremonyLifetime.Milliseconds()) {
				t.Errorf("timeout %d ms, want %d", o.Timeout, mfa.PasskeyCeremonyLifetime.Milliseconds())
			}
		}
	}

	// An answer just before the end of the lifetime is accepted; one at
	// its end is refused, and the state is no longer pending.
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{mfa.PasskeyCeremonyLifetime - time.Second, true}, {mfa.PasskeyCeremonyLifetime, false}} {
		state, err := p.BeginVerify(*u)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.Get(options(t, p, state, mfa.CeremonyVerify))
		if err != nil {
			t.Fatal(err)
		}
		start := clk.t
		clk.t = clk.t.Add(tc.after)
		assertion, err := mfa.ParseAssertion(resp)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.FinishAssertion(*u, state, mfa.CeremonyVerify, assertion)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, mfa.ErrCeremonyExpired) {
			t.Errorf("answer %v after the start: %v", tc.after, err)
		}
		if _, _, live := p.Pending(state); live != tc.ok {
			t.Errorf("Pending %v after the start = %v, want %v", tc.after, live, tc.ok)
		}
		clk.t = start
	}

	// State of one kind or user does not answer another.
	verify, _ := p.BeginVerify(*u)
	resp, err := a.Get(options(t, p, verify, mfa.CeremonyVerify))
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := mfa.ParseAssertion(resp)
	if _, err := p.FinishAssertion(*u, verify, mfa.CeremonySignIn, assertion); !errors.Is(err, mfa.ErrCeremonyExpired) {
		t.Errorf("a verify ceremony finished as a sign-in: %v", err)
	}
	other := *u
	other.ID = uuid.NewString()
	if _, err := p.FinishAssertion(other, verify, mfa.CeremonyVerify, assertion); !errors.Is(err, mfa.ErrCeremonyExpired) {
		t.Errorf("another user's ceremony was accepted: %v", err)
	}
	if _, err := p.FinishAssertion(*u, nil, mfa.CeremonyVerify, assertion); !errors.Is(err, mfa.ErrCeremonyExpired) {
		t.Errorf("no state: %v, want ErrCeremonyExpired", err)
	}
}

// TestWA2RegistrationChecks sends registrations that break one rule each.
func TestWA2RegistrationChecks(t *testing.T) {
	p, _ := newPasskeys(t)
	for _, tc := range []struct {
		name  string
		fault func(a *passkeytest.Authenticator)
		fails string // what the refusal names; "" for a valid registration
	}{
		{"ES256", func(a *passkeytest.Authenticator) {}, ""},
		{"EdDSA", func(a *passkeytest.Authenticator) { a.Alg = passkeytest.EdDSA }, ""},
		{"RS256", func(a *passkeytest.Authenticator) { a.Alg = passkeytest.RS256 }, ""},
		{"without user verification", func(a *passkeytest.Authenticator) { a.UserVerification = false }, ""},
		{"algorithm not in the allowlist", func(a *passkeytest.Authenticator) { a.Alg = passkeytest.ES384 }, "algorithm not supported"},
		{"another origin", func(a *passkeytest.Authenticator) { a.Origin = "https://evil.example" }, "origin"},
		{"an origin on another port", func(a *passkeytest.Authenticator) { a.Origin = "https://id.example.com:8443" }, "origin"},
		{"http origin", func(a *passkeytest.Authenticator) { a.Origin = "http://id.example.com" }, "origin"},
		{"another RP ID hash", func(a *passkeytest.Authenticator) { a.RPID = "example.com" }, "RP Hash"},
		{"an assertion's type", func(a *passkeytest.Authenticator) { a.Type = "webauthn.get" }, "ceremony type"},
		{"another challenge", func(a *passkeytest.Authenticator) { a.Challenge = make([]byte, 32) }, "challenge"},
		{"without user presence", func(a *passkeytest.Authenticator) { a.NoPresence = true }, "User presence"},
		{"backup state without eligibility", func(a *passkeytest.Authenticator) { a.BackupState = true }, "Backup State"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser()
			a := passkeytest.New(testOrigin)
			tc.fault(a)
			reg, err := tryRegister(t, p, a, *u, nil)
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("FinishRegistration: %v", err)
				}
				if string(reg.Credential.CredentialID) != string(a.Credentials[0].ID) || reg.UserVerified != a.UserVerification ||
					reg.Credential.AAGUID == nil || reg.AAGUID != uuid.UUID(a.AAGUID).String() {
					t.Errorf("registration %+v", reg)
				}
				return
			}
			if !errors.Is(err, mfa.ErrPasskeyRejected) || !strings.Contains(err.Error(), tc.fails) {
				t.Errorf("FinishRegistration = %v, want ErrPasskeyRejected about %q", err, tc.fails)
			}
		})
	}

	// The options offer exactly the allowlist, ask for a discoverable
	// credential and exclude the user's passkeys.
	u := newUser()
	a := passkeytest.New(testOrigin)
	register(t, p, a, u)
	state, _ := p.BeginRegistration(*u, "Acme", nil)
	var o struct {
		RP     struct{ ID, Name string }
		User   struct{ Name, DisplayName string }
		Params []struct {
			Alg int `json:"alg"`
		} `json:"pubKeyCredParams"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		Selection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		Attestation string `json:"attestation"`
	}
	if err := json.Unmarshal(options(t, p, state, mfa.CeremonyRegister), &o); err != nil {
		t.Fatal(err)
	}
	var algs []int
	for _, pa := range o.Params {
		algs = append(algs, pa.Alg)
	}
	if diff := cmp.Diff([]int{-7, -8, -257}, algs); diff != "" {
		t.Errorf("pubKeyCredParams (-want +got):\n%s", diff)
	}
	if o.RP.ID != "id.example.com" || o.RP.Name != "Acme" || o.User.Name != "ada@example.com" || o.User.DisplayName != "Ada Lovelace" ||
		o.Selection.ResidentKey != "required" || o.Selection.UserVerification != "preferred" || o.Attestation != "none" {
		t.Errorf("creation options %+v", o)
	}
	if len(o.Exclude) != 1 || o.Exclude[0].ID != base64.RawURLEncoding.EncodeToString(a.Credentials[0].ID) {
		t.Errorf("excludeCredentials %+v, want the registered passkey", o.Exclude)
	}
	// The authenticator that holds it refuses to register again.
	if _, err := a.Create(options(t, p, state, mfa.CeremonyRegister)); !errors.Is(err, passkeytest.ErrExcluded) {
		t.Errorf("Create with the passkey excluded: %v", err)
	}
	// Junk is refused, not a panic.
	for _, junk := range []string{"", "{}", "null", `{"id":"AA","rawId":"AA","type":"public-key","response":{}}`, strings.Repeat("[", 1000)} {
		if _, err := p.FinishRegistration(*u, state, []byte(junk), nil); !errors.Is(err, mfa.ErrPasskeyRejected) {
			t.Errorf("FinishRegistration(%.20q) = %v, want ErrPasskeyRejected", junk, err)
		}
	}
}

// TestWA2AssertionChecks sends assertions that break one rule each, as a
// second factor and as a sign-in.
func TestWA2AssertionChecks(t *testing.T) {
	p, _ := newPasskeys(t)
	for _, tc := range []struct {
		name  string
		fault func(a *passkeytest.Authenticator)
		fails string // what the refusal names; "" for a valid assertion
	}{
		{"valid", func(a *passkeytest.Authenticator) {}, ""},
		{"another origin", func(a *passkeytest.Authenticator) { a.Origin = "https://evil.example" }, "origin"},
		{"another RP ID hash", func(a *passkeytest.Authenticator) { a.RPID = "evil.example" }, "RP Hash"},
		{"a registration's type", func(a *passkeytest.Authenticator) { a.Type = "webauthn.create" }, "ceremony type"},
		{"another challenge", func(a *passkeytest.Authenticator) { a.Challenge = []byte("0123456789abcdef0123456789abcdef") }, "challenge"},
		{"without user presence", func(a *passkeytest.Authenticator) { a.NoPresence = true }, "User presence"},
		{"a broken signature", func(a *passkeytest.Authenticator) { a.BadSignature = true }, "signature"},
		{"backup eligibility changed", func(a *passkeytest.Authenticator) { a.BackupEligible = true }, "Backup Eligible"},
	} {
		for _, kind := range []string{mfa.CeremonyVerify, mfa.CeremonySignIn} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				u := newUser()
				a := passkeytest.New(testOrigin)
				register(t, p, a, u)
				tc.fault(a)
				begin := p.BeginSignIn
				if kind == mfa.CeremonyVerify {
					begin = func() ([]byte, error) { return p.BeginVerify(*u) }
				}
				state, err := begin()
				if err != nil {
					t.Fatal(err)
				}
				resp, err := a.Get(options(t, p, state, kind))
				if err != nil {
					t.Fatal(err)
				}
				assertion, err := mfa.ParseAssertion(resp)
				if err != nil {
					t.Fatal(err)
				}
				if string(assertion.CredentialID()) != string(a.Credentials[0].ID) || string(assertion.UserHandle()) != u.ID {
					t.Errorf("assertion names credential %x, user %q", assertion.CredentialID(), assertion.UserHandle())
				}
				use, err := p.FinishAssertion(*u, state, kind, assertion)
				if tc.fails == "" {
					if err != nil {
						t.Fatalf("FinishAssertion: %v", err)
					}
					if use.MethodID != u.Passkeys[0].ID || use.SignCount != 1 || !use.UserVerified {
						t.Errorf("use %+v", use)
					}
					return
				}
				if !errors.Is(err, mfa.ErrPasskeyRejected) || !strings.Contains(err.Error(), tc.fails) {
					t.Errorf("FinishAssertion = %v, want ErrPasskeyRejected about %q", err, tc.fails)
				}
			})
		}
	}

	// A credential the user does not have is unknown, whoever answers.
	u, other := newUser(), newUser()
	a, b := passkeytest.New(testOrigin), passkeytest.New(testOrigin)
	register(t, p, a, u)
	register(t, p, b, other)
	state, _ := p.BeginSignIn()
	resp, err := b.Get(options(t, p, state, mfa.CeremonySignIn))
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := mfa.ParseAssertion(resp)
	if _, err := p.FinishAssertion(*u, state, mfa.CeremonySignIn, assertion); !errors.Is(err, mfa.ErrPasskeyUnknown) {
		t.Errorf("another user's passkey for u: %v, want ErrPasskeyUnknown", err)
	}
	// A user handle that is not the owner's is refused even when the
	// credential is: an authenticator cannot sign in as someone else.
	mixed := *other
	mixed.Passkeys = append(mixed.Passkeys, u.Passkeys...)
	state, _ = p.BeginSignIn()
	resp, _ = a.Get(options(t, p, state, mfa.CeremonySignIn))
	assertion, _ = mfa.ParseAssertion(resp)
	if _, err := p.FinishAssertion(mixed, state, mfa.CeremonySignIn, assertion); !errors.Is(err, mfa.ErrPasskeyRejected) {
		t.Errorf("a user handle of another user: %v, want ErrPasskeyRejected", err)
	}
	for _, junk := range []string{"", "{}", `{"id":"AA","rawId":"AA","type":"public-key","response":{}}`} {
		if _, err := mfa.ParseAssertion([]byte(junk)); !errors.Is(err, mfa.ErrPasskeyRejected) {
			t.Errorf("ParseAssertion(%q) = %v, want ErrPasskeyRejected", junk, err)
		}
	}
}

// TestWA3SignCounter checks the counter rule: a counter that does not go
// up flags the credential as possibly cloned and refuses the assertion;
// authenticators that keep no counter (always 0) are never flagged.
func TestWA3SignCounter(t *testing.T) {
	for _, tc := range []struct {
		stored, got uint32
		regressed   bool
	}{
		{0, 0, false}, {0, 1, false}, {5, 6, false}, {5, 100, false},
		{5, 5, true}, {5, 4, true}, {5, 0, true}, {1, 0, true},
	} {
		if got := mfa.CounterRegressed(tc.stored, tc.got); got != tc.regressed {
			t.Errorf("CounterRegressed(%d, %d) = %v, want %v", tc.stored, tc.got, got, tc.regressed)
		}
		c := gatehouse.PasskeyCredential{SignCount: tc.stored}
		use := mfa.PasskeyUse{SignCount: tc.got, BackupState: true}
		regressed := use.Apply(&c)
		want := gatehouse.PasskeyCredential{SignCount: tc.got, BackupState: true}
		if tc.regressed {
			want = gatehouse.PasskeyCredential{SignCount: tc.stored, CloneWarning: true}
		}
		if regressed != tc.regressed || !cmp.Equal(c, want) {
			t.Errorf("Apply(%d after %d) = %v, %+v; want %v, %+v", tc.got, tc.stored, regressed, c, tc.regressed, want)
		}
	}

	// An authenticator replaying an old counter value.
	p, _ := newPasskeys(t)
	u := newUser()
	a := passkeytest.New(testOrigin)
	m := register(t, p, a, u)
	for i, wantRegressed := range []bool{false, false, true} {
		if i == 2 {
			a.Credentials[0].Counter = 0 // the clone starts from an older copy
		}
		state, _ := p.BeginVerify(*u)
		resp, err := a.Get(options(t, p, state, mfa.CeremonyVerify))
		if err != nil {
			t.Fatal(err)
		}
		assertion, _ := mfa.ParseAssertion(resp)
		use, err := p.FinishAssertion(*u, state, mfa.CeremonyVerify, assertion)
		if err != nil {
			t.Fatalf("assertion %d: %v", i, err)
		}
		if got := use.Apply(m.Passkey); got != wantRegressed {
			t.Errorf("assertion %d (counter %d, stored %d): regressed %v, want %v", i, use.SignCount, m.Passkey.SignCount, got, wantRegressed)
		}
	}
	if !m.Passkey.CloneWarning || m.Passkey.SignCount != 2 {
		t.Errorf("after the replayed counter: %+v, want CloneWarning and the counter kept at 2", m.Passkey)
	}
}

// TestWA5UserVerification checks that a sign-in (the passkey alone)
// requires user verification and that a second factor reports it.
func TestWA5UserVerification(t *testing.T) {
	p, _ := newPasskeys(t)
	u := newUser()
	a := passkeytest.New(testOrigin)
	register(t, p, a, u)
	a.UserVerification = false

	state, _ := p.BeginSignIn()
	opts := options(t, p, state, mfa.CeremonySignIn)
	var o struct {
		UserVerification string `json:"userVerification"`
		Allow            []any  `json:"allowCredentials"`
		RPID             string `json:"rpId"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if o.UserVerification != "required" || len(o.Allow) != 0 || o.RPID != "id.example.com" {
		t.Errorf("sign-in options %s: want user verification required, no allowCredentials, rpId id.example.com", opts)
	}
	resp, _ := a.Get(opts)
	assertion, _ := mfa.ParseAssertion(resp)
	if _, err := p.FinishAssertion(*u, state, mfa.CeremonySignIn, assertion); !errors.Is(err, mfa.ErrPasskeyNotVerified) {
		t.Errorf("a sign-in without user verification: %v, want ErrPasskeyNotVerified", err)
	}

	state, _ = p.BeginVerify(*u)
	opts = options(t, p, state, mfa.CeremonyVerify)
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if o.UserVerification != "preferred" || len(o.Allow) != 1 {
		t.Errorf("second-factor options %s: want user verification preferred and the user's passkey allowed", opts)
	}
	resp, _ = a.Get(opts)
	assertion, _ = mfa.ParseAssertion(resp)
	use, err := p.FinishAssertion(*u, state, mfa.CeremonyVerify, assertion)
	if err != nil || use.UserVerified {
		t.Errorf("a second factor without user verification: %+v, %v; want accepted, UserVerified false", use, err)
	}
	// The level follows (golden table in the root package): the passkey
	// alone without verification is one factor, with it multifactor.
	for _, tc := range []struct {
		uv   bool
		want gatehouse.Level
	}{{false, gatehouse.LevelSingleFactor}, {true, gatehouse.LevelPhishingResistant}} {
		if got := gatehouse.LevelOf([]gatehouse.MethodUse{{Method: gatehouse.MethodFido2, UserVerified: tc.uv}}); got != tc.want {
			t.Errorf("LevelOf(passkey, uv %v) = %v, want %v", tc.uv, got, tc.want)
		}
	}
}

// TestPasskeyKeyRestrictions checks the methods policy's AAGUID allow and
// block lists at registration, and that enforced restrictions ask for the
// authenticator's attestation.
func TestPasskeyKeyRestrictions(t *testing.T) {
	p, _ := newPasskeys(t)
	a := passkeytest.New(testOrigin)
	model := uuid.UUID(a.AAGUID).String()
	other := uuid.NewString()
	for _, tc := range []struct {
		name string
		kr   *gatehouse.KeyRestrictions
		ok   bool
	}{
		{"none", nil, true},
		{"not enforced", &gatehouse.KeyRestrictions{Enforced: false, Allow: true, AAGUIDs: []string{other}}, true},
		{"allowed", &gatehouse.KeyRestrictions{Enforced: true, Allow: true, AAGUIDs: []string{other, strings.ToUpper(model)}}, true},
		{"not allowed", &gatehouse.KeyRestrictions{Enforced: true, Allow: true, AAGUIDs: []string{other}}, false},
		{"blocked", &gatehouse.KeyRestrictions{Enforced: true, Allow: false, AAGUIDs: []string{model}}, false},
		{"not blocked", &gatehouse.KeyRestrictions{Enforced: true, Allow: false, AAGUIDs: []string{other}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser()
			state, err := p.BeginRegistration(*u, "Acme", tc.kr)
			if err != nil {
				t.Fatal(err)
			}
			opts := options(t, p, state, mfa.CeremonyRegister)
			var o struct {
				Attestation string `json:"attestation"`
			}
			_ = json.Unmarshal(opts, &o)
			if want := map[bool]string{true: "direct", false: "none"}[tc.kr != nil && tc.kr.Enforced]; o.Attestation != want {
				t.Errorf("attestation %q, want %q", o.Attestation, want)
			}
			resp, err := a.Create(opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.FinishRegistration(*u, state, resp, tc.kr)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, mfa.ErrPasskeyRestricted) {
				t.Errorf("FinishRegistration = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestPasskeySynced checks that the backup flags come through: a passkey
// that may be synced is amr swk, one bound to its device hwk.
func TestPasskeySynced(t *testing.T) {
	p, _ := newPasskeys(t)
	for _, synced := range []bool{false, true} {
		u := newUser()
		a := passkeytest.New(testOrigin)
		a.BackupEligible, a.BackupState, a.CounterStep = synced, synced, 0
		m := register(t, p, a, u)
		if m.Passkey.BackupEligible != synced || m.Passkey.BackupState != synced {
			t.Errorf("registered %+v, want backup flags %v", m.Passkey, synced)
		}
		state, _ := p.BeginSignIn()
		resp, _ := a.Get(options(t, p, state, mfa.CeremonySignIn))
		assertion, _ := mfa.ParseAssertion(resp)
		use, err := p.FinishAssertion(*u, state, mfa.CeremonySignIn, assertion)
		if err != nil {
			t.Fatal(err)
		}
		if use.BackupEligible != synced || use.SignCount != 0 || use.Apply(m.Passkey) {
			t.Errorf("use %+v: want backup eligibility %v, counter 0 accepted", use, synced)
		}
		amr := gatehouse.AMR([]gatehouse.MethodUse{{Method: gatehouse.MethodFido2, UserVerified: use.UserVerified, Synced: use.BackupEligible}})
		want := map[bool][]string{false: {"hwk", "mfa"}, true: {"swk", "mfa"}}[synced]
		if diff := cmp.Diff(want, amr); diff != "" {
			t.Errorf("amr (-want +got):\n%s", diff)
		}
	}
}

// BenchmarkPasskeyAssertion measures what the server does for one passkey
// sign-in: start the ceremony (a challenge and its state) and check the
// answer (parsing, the client data and authenticator data checks, the
// ES256 signature). The authenticator's own work is outside the timer.
// docs/benchmarks.md compares it with one argon2id hash:
//
//	go test -run xxx -bench 'PasskeyAssertion|BenchmarkHash$' -benchtime=200x -count=3 ./mfa/ ./password/
func BenchmarkPasskeyAssertion(b *testing.B) {
	clk := &clock{t: time.Now()}
	p, err := mfa.NewPasskeys(testURL, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	u := newUser()
	a := passkeytest.New(testOrigin)
	state, _ := p.BeginRegistration(*u, "Acme", nil)
	_, opts, _ := p.Pending(state)
	resp, err := a.Create(opts)
	if err != nil {
		b.Fatal(err)
	}
	reg, err := p.FinishRegistration(*u, state, resp, nil)
	if err != nil {
		b.Fatal(err)
	}
	u.Passkeys = []*gatehouse.UserMethod{{ID: "m", Method: gatehouse.MethodFido2, Passkey: &reg.Credential}}
	for b.Loop() {
		state, err := p.BeginSignIn()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_, opts, _ := p.Pending(state)
		resp, err := a.Get(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		assertion, err := mfa.ParseAssertion(resp)
		if err != nil {
			b.Fatal(err)
		}
		use, err := p.FinishAssertion(*u, state, mfa.CeremonySignIn, assertion)
		if err != nil {
			b.Fatal(err)
		}
		use.Apply(u.Passkeys[0].Passkey)
	}
}
