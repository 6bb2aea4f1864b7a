package mfa

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func testVault(t testing.TB) *vault.Vault {
	t.Helper()
	v, err := vault.New(bytes.Repeat([]byte{7}, vault.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rfc6238Secret is the SHA-1 seed of RFC 6238 Appendix B.
var rfc6238Secret = []byte("12345678901234567890")

// rfc6238 are the SHA-1 rows of RFC 6238 Appendix B: the time and the
// 8-digit TOTP.
var rfc6238 = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

// TestTOTP2RFC6238Vectors checks the SHA-1 vectors of RFC 6238 Appendix B
// at their 8 digits, and at the 6 digits Gatehouse uses: the same value
// truncated to its last six digits (RFC 4226 section 5.3 takes the value
// modulo 10^digits).
func TestTOTP2RFC6238Vectors(t *testing.T) {
	for _, v := range rfc6238 {
		at := time.Unix(v.unix, 0).UTC()
		step := TOTPStep(at)
		if got := totpCode(rfc6238Secret, step, otp.DigitsEight); got != v.code {
			t.Errorf("T=%d: 8-digit code %s, want %s", v.unix, got, v.code)
		}
		six := v.code[2:]
		if got := TOTPCode(rfc6238Secret, step); got != six {
			t.Errorf("T=%d: 6-digit code %s, want %s", v.unix, got, six)
		}
		if got, ok := VerifyTOTP(rfc6238Secret, six, at); !ok || got != step {
			t.Errorf("T=%d: VerifyTOTP(%s) = %d, %v; want step %d", v.unix, six, got, ok, step)
		}
		// pquerna/otp's own validator, with the configuration an
		// authenticator app uses, agrees.
		ok, err := totp.ValidateCustom(six, b32.EncodeToString(rfc6238Secret), at, totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil || !ok {
			t.Errorf("T=%d: totp.ValidateCustom(%s) = %v, %v", v.unix, six, ok, err)
		}
	}
}

// TestTOTP2Window: a 30-second step, and the codes of one step either
// side of the current one accepted, no further.
func TestTOTP2Window(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Date(2026, 12, 3, 12, 0, 15, 0, time.UTC)
	cur := TOTPStep(now)
	if TOTPStep(now.Add(-15*time.Second)) != cur || TOTPStep(now.Add(14*time.Second)) != cur || TOTPStep(now.Add(15*time.Second)) != cur+1 {
		t.Fatalf("the step of %v is not 30 s long", now)
	}
	for _, tt := range []struct {
		offset int64
		ok     bool
	}{{-3, false}, {-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		code := TOTPCode(secret, cur+tt.offset)
		got, ok := VerifyTOTP(secret, code, now)
		if ok != tt.ok || ok && got != cur+tt.offset {
			// Another step may share the code by chance (one in a million).
			if TOTPCode(secret, cur-1) == code || TOTPCode(secret, cur) == code || TOTPCode(secret, cur+1) == code {
				continue
			}
			t.Errorf("code of step %+d: VerifyTOTP = %d, %v; want %v", tt.offset, got-cur, ok, tt.ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := VerifyTOTP(secret, bad, now); ok {
			t.Errorf("VerifyTOTP(%q) accepted", bad)
		}
	}
}

// TestTOTP1Secrets: 20 bytes from crypto/rand, a new one each time, sealed
// at rest and opened only as the method they were sealed for.
func TestTOTP1Secrets(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := NewTOTPSecret()
		if len(s) != 20 {
			t.Fatalf("secret of %d bytes", len(s))
		}
		if seen[string(s)] {
			t.Fatalf("a secret repeated")
		}
		seen[string(s)] = true
	}
	v := testVault(t)
	m, err := NewTOTPMethod(v, "tenant-1", "user-1", "method-1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Method != gatehouse.MethodSoftwareOath || m.TOTP == nil || m.TOTP.LastStep != 0 {
		t.Fatalf("new method %+v", m)
	}
	secret, err := OpenTOTP(v, m)
	if err != nil || len(secret) != TOTPSecretSize {
		t.Fatalf("OpenTOTP: %d bytes, %v", len(secret), err)
	}
	if bytes.Contains(m.TOTP.Sealed, secret) {
		t.Errorf("the sealed secret holds the secret in clear")
	}
	for name, change := range map[string]func(*gatehouse.UserMethod){
		"another tenant": func(c *gatehouse.UserMethod) { c.TenantID = "tenant-2" },
		"another user":   func(c *gatehouse.UserMethod) { c.UserID = "user-2" },
		"another method": func(c *gatehouse.UserMethod) { c.ID = "method-2" },
		"damaged":        func(c *gatehouse.UserMethod) { c.TOTP.Sealed[len(c.TOTP.Sealed)-1] ^= 1 },
	} {
		c := m.Clone()
		change(c)
		if _, err := OpenTOTP(v, c); err == nil {
			t.Errorf("%s: the secret opened", name)
		}
	}
	other, _ := vault.New(bytes.Repeat([]byte{8}, vault.KeySize))
	if _, err := OpenTOTP(other, m); err == nil {
		t.Errorf("the secret opened under another key")
	}
	if _, err := OpenTOTP(v, &gatehouse.UserMethod{ID: "x"}); err != ErrNoTOTP {
		t.Errorf("OpenTOTP of a method without a secret: %v", err)
	}
}

// TestTOTP3StepNeverTwice: TryTOTP accepts a step once; the same code, and
// the code of an earlier step still in the window, are Used afterwards;
// a later step is accepted again.
func TestTOTP3StepNeverTwice(t *testing.T) {
	v := testVault(t)
	m, err := NewTOTPMethod(v, "t", "u", "m")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := OpenTOTP(v, m)
	now := time.Date(2026, 12, 3, 12, 0, 15, 0, time.UTC)
	cur := TOTPStep(now)
	try := func(step int64, at time.Time) Outcome {
		t.Helper()
		out, err := TryTOTP(v, m, TOTPCode(secret, step), at)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		step int64
		at   time.Time
		want Outcome
	}{
		{"the current step", cur, now, Accepted},
		{"the same code again", cur, now, Used},
		{"the same code 20 s later", cur, now.Add(20 * time.Second), Used},
		{"the step before, still in the window", cur - 1, now, Used},
		{"the next step", cur + 1, now.Add(30 * time.Second), Accepted},
		{"the next step again", cur + 1, now.Add(31 * time.Second), Used},
	} {
		if got := try(tt.step, tt.at); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if m.TOTP.LastStep != cur+1 || !m.LastUsedAt.Equal(now.Add(30*time.Second)) {
		t.Errorf("LastStep %d (want %d), LastUsedAt %v", m.TOTP.LastStep-cur, 1, m.LastUsedAt)
	}
	if out, _ := TryTOTP(v, m, "000000", now); out != Wrong && TOTPCode(secret, cur) != "000000" {
		t.Errorf("a wrong code: %v", out)
	}
}

func TestNormalizeTOTPCode(t *testing.T) {
	for in, want := range map[string]string{
		"123456": "123456", "123 456": "123456", " 123-456 ": "123456",
		"12345": "", "1234567": "", "12345a": "", "１２３４５６": "", "": "",
	} {
		if got := NormalizeTOTPCode(in); got != want {
			t.Errorf("NormalizeTOTPCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTOTPEnrollment: the otpauth URI names the issuer, the account and
// the configuration; the QR code is a PNG data: URI; the key is the
// secret in base32 in groups of four.
func TestTOTPEnrollment(t *testing.T) {
	secret := NewTOTPSecret()
	e, err := NewTOTPEnrollment(secret, "Acme Shop", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Acme Shop:ada@example.com" {
		t.Errorf("URI %s: want otpauth://totp/Acme Shop:ada@example.com", e.URI)
	}
	for k, want := range map[string]string{"secret": b32.EncodeToString(secret), "issuer": "Acme Shop", "period": "30", "digits": "6", "algorithm": "SHA1"} {
		if q.Get(k) != want {
			t.Errorf("URI %s=%q, want %q", k, q.Get(k), want)
		}
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil || key.Issuer() != "Acme Shop" || key.AccountName() != "ada@example.com" {
		t.Errorf("pquerna/otp reads the URI as issuer %q account %q (%v)", key.Issuer(), key.AccountName(), err)
	}

	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(e.QRCode, prefix) {
		t.Fatalf("QR code %.40s…: not a PNG data: URI", e.QRCode)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(e.QRCode, prefix))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Errorf("QR code %dx%d, want %dx%d", b.Dx(), b.Dy(), qrSize, qrSize)
	}
	// Black and white modules both appear.
	dark, light := false, false
	for x := 0; x < qrSize; x++ {
		r, _, _, _ := img.At(x, qrSize/2).RGBA()
		dark, light = dark || r < 0x8000, light || r >= 0x8000
	}
	if !dark || !light {
		t.Errorf("the QR code's middle row is all one colour")
	}

	parts := strings.Split(e.Key, " ")
	if len(parts) != 8 || strings.Join(parts, "") != b32.EncodeToString(secret) {
		t.Errorf("key %q: want the 32 base32 characters of the secret in 8 groups", e.Key)
	}
	for _, p := range parts {
		if len(p) != 4 {
			t.Errorf("key %q: group %q", e.Key, p)
		}
	}
	// What the user types from the key works like what the app scans.
	k2, err := totp.Generate(totp.GenerateOpts{Issuer: "x", AccountName: "y", Secret: secret})
	if err != nil || k2.Secret() != strings.ReplaceAll(e.Key, " ", "") {
		t.Errorf("the key is not the secret pquerna/otp encodes: %v", err)
	}

	if _, err := NewTOTPEnrollment(secret, "", "ada@example.com"); err == nil {
		t.Errorf("an enrolment without an issuer")
	}
}
