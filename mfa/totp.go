package mfa

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP configuration every authenticator app understands (TOTP-2):
// HMAC-SHA-1, 6 digits, a 30-second step, and a code of the steps either
// side of the current one accepted too, for clocks a little off.
const (
	TOTPSecretSize = 20 // bytes, the size of an HMAC-SHA-1 key (TOTP-1)
	TOTPPeriod     = 30 // seconds
	TOTPDigits     = 6
	TOTPSkew       = 1 // steps either side of the current one
	// qrSize is the side of the QR code image, in pixels.
	qrSize = 240
)

// Outcome is the result of trying a code against a registered method.
type Outcome int

const (
	// Accepted: the code is right and was not used before; the method now
	// records its use.
	Accepted Outcome = iota
	// Wrong: the code is not one of the method's.
	Wrong
	// Used: the code is right but was used before (a TOTP step accepted
	// already, TOTP-3; a recovery code used, RC-1).
	Used
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Used:
		return "used before"
	}
	return "wrong"
}

// NewTOTPSecret returns a new secret of TOTPSecretSize bytes from
// crypto/rand (TOTP-1).
func NewTOTPSecret() []byte {
	b := make([]byte, TOTPSecretSize)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return b
}

// b32 is the base32 of otpauth URIs and of the setup key people type:
// RFC 4648's alphabet without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPStep returns the time step that holds t.
func TOTPStep(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - TOTPPeriod + 1) / TOTPPeriod
	}
	return s / TOTPPeriod
}

// totpOpts are pquerna/otp's options for the configuration, at digits.
func totpOpts(digits otp.Digits) hotp.ValidateOpts {
	return hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1}
}

// totpCode returns the code of secret at step with the given number of
// digits (RFC 6238 is HOTP, RFC 4226, of the step).
func totpCode(secret []byte, step int64, digits otp.Digits) string {
	code, err := hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), totpOpts(digits))
	if err != nil {
		// Only a secret that is not base32 fails, and b32 made it.
		panic("mfa: " + err.Error())
	}
	return code
}

// TOTPCode returns the 6-digit code of secret at step.
func TOTPCode(secret []byte, step int64) string { return totpCode(secret, step, otp.DigitsSix) }

// VerifyTOTP reports whether code is the code of secret at a step within
// TOTPSkew steps of now's, and returns that step (the latest, should two
// steps share the code). Each candidate is compared in constant time and
// every one is compared. The caller refuses a step at or below the last
// one it accepted (TOTP-3); TryTOTP does both.
func VerifyTOTP(secret []byte, code string, now time.Time) (int64, bool) {
	if len(code) != TOTPDigits {
		return 0, false
	}
	key := b32.EncodeToString(secret)
	cur := TOTPStep(now)
	var matched int64
	ok := false
	for step := cur - TOTPSkew; step <= cur+TOTPSkew; step++ {
		if step < 0 {
			continue
		}
		if hit, err := hotp.ValidateCustom(code, uint64(step), key, totpOpts(otp.DigitsSix)); err == nil && hit {
			matched, ok = step, true
		}
	}
	return matched, ok
}

// NormalizeTOTPCode returns the digits of a code as typed (spaces and
// hyphens dropped), or "" unless they are TOTPDigits ASCII digits.
func NormalizeTOTPCode(in string) string {
	if len(in) > 32 {
		return ""
	}
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, in)
	if len(c) != TOTPDigits {
		return ""
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return c
}

// NewTOTPMethod returns a new authenticator app registration of the user,
// with the ID id and a new secret sealed with v (TOTP-1). The ID is
// chosen first because the sealed secret is bound to it.
func NewTOTPMethod(v *vault.Vault, tenantID, userID, id string) (*gatehouse.UserMethod, error) {
	m := &gatehouse.UserMethod{ID: id, TenantID: tenantID, UserID: userID, Method: gatehouse.MethodSoftwareOath,
		DisplayName: "Authenticator app"}
	sealed, err := v.Seal(NewTOTPSecret(), totpAD(m))
	if err != nil {
		return nil, fmt.Errorf("mfa: seal TOTP secret: %w", err)
	}
	m.TOTP = &gatehouse.TOTPSecret{Sealed: sealed}
	return m, nil
}

// totpAD is the additional data a TOTP secret is sealed with: it opens
// only as the secret of this method of this user of this tenant, so a
// sealed secret copied to another row is worthless.
func totpAD(m *gatehouse.UserMethod) []byte {
	return []byte("totp/" + m.TenantID + "/" + m.UserID + "/" + m.ID)
}

// ErrNoTOTP is returned for a method without a TOTP secret.
var ErrNoTOTP = errors.New("mfa: the method has no TOTP secret")

// OpenTOTP returns the secret of an authenticator app registration.
func OpenTOTP(v *vault.Vault, m *gatehouse.UserMethod) ([]byte, error) {
	if m.TOTP == nil {
		return nil, ErrNoTOTP
	}
	secret, err := v.Open(m.TOTP.Sealed, totpAD(m))
	if err != nil {
		return nil, fmt.Errorf("mfa: open the TOTP secret of method %s: %w", m.ID, err)
	}
	return secret, nil
}

// TryTOTP tries code against the authenticator app m at now: a code of a
// step after the last accepted one is Accepted, and m then records that
// step and the time (TOTP-3); a code of a step accepted before is Used.
// Call it in the store's updater of m, which locks m, so that of
// concurrent tries of one step exactly one is accepted.
func TryTOTP(v *vault.Vault, m *gatehouse.UserMethod, code string, now time.Time) (Outcome, error) {
	secret, err := OpenTOTP(v, m)
	if err != nil {
		return Wrong, err
	}
	step, ok := VerifyTOTP(secret, code, now)
	switch {
	case !ok:
		return Wrong, nil
	case step <= m.TOTP.LastStep:
		return Used, nil
	}
	m.TOTP.LastStep = step
	m.LastUsedAt = now
	return Accepted, nil
}

// TOTPEnrollment is what a user needs to add a secret to an authenticator
// app.
type TOTPEnrollment struct {
	// URI is the otpauth:// URI (Key URI Format) apps read from the QR code.
	URI string
	// QRCode is the URI as a QR code: a PNG image, as a data: URI.
	QRCode string
	// Key is the secret in base32, in groups of four characters, for
	// typing into an app that cannot scan.
	Key string
}

// NewTOTPEnrollment returns the enrolment of secret for the account (the
// user's address) at the issuer (the tenant's display name), with the
// QR code rendered here, on the server.
func NewTOTPEnrollment(secret []byte, issuer, account string) (*TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: TOTPPeriod,
		Secret: secret, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("mfa: TOTP key URI: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code PNG: %w", err)
	}
	return &TOTPEnrollment{
		URI:    key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
		Key:    groups(b32.EncodeToString(secret), 4, " "),
	}, nil
}

// groups splits s into groups of n characters joined by sep.
func groups(s string, n int, sep string) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}
