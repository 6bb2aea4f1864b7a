package mfa

import (
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// The cost of the second factors' checks next to the first factor's:
// argon2id with Gatehouse's parameters (password.DefaultParams: m=19 MiB,
// t=2, p=1) in the same run, so that the ratio is what to quote.
// docs/benchmarks.md has the figures.
//
//	go test -run xxx -bench . -benchtime=2s -count=3 ./mfa/

// BenchmarkTryTOTP opens a sealed secret and checks a code against the
// three steps of the window, as the sign-in does.
func BenchmarkTryTOTP(b *testing.B) {
	v := testVault(b)
	m, err := NewTOTPMethod(v, "tenant", "user", "method")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		if out, err := TryTOTP(v, m, "000000", now); err != nil || out == Accepted {
			b.Fatalf("%v %v", out, err)
		}
	}
}

// BenchmarkUseRecoveryCode checks a wrong code against a set of ten: one
// MAC and ten constant-time comparisons.
func BenchmarkUseRecoveryCode(b *testing.B) {
	v := testVault(b)
	m, _ := NewRecoveryCodes(v, "tenant", "user", "set")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		if UseRecoveryCode(v, m, "0000-0000-0000-0000", now) == Accepted {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkNewTOTPEnrollment renders the registration page's URI, QR code
// PNG and setup key.
func BenchmarkNewTOTPEnrollment(b *testing.B) {
	secret := NewTOTPSecret()
	for b.Loop() {
		if _, err := NewTOTPEnrollment(secret, "Acme Shop", "ada@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArgon2idReference is one password hash with Gatehouse's
// parameters, the first factor's cost.
func BenchmarkArgon2idReference(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, 2, 19*1024, 1, 32)
	}
}
