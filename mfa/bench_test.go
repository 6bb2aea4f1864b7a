package mfa

import (
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// The second factors' work next to the first factor's: argon2id with
// Gatehouse's parameters (password.DefaultParams: m=19 MiB, t=2, p=1).
// BenchmarkAlone times each operation by itself; BenchmarkVsArgon2id does
// each one and a hash in every iteration, timing both, so that they see
// the same load of a shared machine and their ratio is what to quote.
// docs/benchmarks.md has the figures.
//
//	go test -run xxx -bench 'Alone|VsArgon2id' -benchtime=100x -count=3 ./mfa/

// benchOp is one operation of the sign-in's second factors.
type benchOp struct {
	name string
	op   func()
}

func benchOps(b *testing.B) []benchOp {
	v := testVault(b)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	app, err := NewTOTPMethod(v, "tenant", "user", "method")
	if err != nil {
		b.Fatal(err)
	}
	set, _ := NewRecoveryCodes(v, "tenant", "user", "set")
	secret := NewTOTPSecret()
	return []benchOp{
		// Open the sealed secret, check a code against the window's three
		// steps: the sign-in's second factor.
		{"TryTOTP", func() {
			if out, err := TryTOTP(v, app, "000000", now); err != nil || out == Accepted {
				b.Fatalf("%v %v", out, err)
			}
		}},
		// One MAC and ten constant-time comparisons.
		{"UseRecoveryCode", func() {
			if UseRecoveryCode(v, set, "0000-0000-0000-0000", now) == Accepted {
				b.Fatal("accepted")
			}
		}},
		// The registration page's URI, QR code PNG and setup key.
		{"NewTOTPEnrollment", func() {
			if _, err := NewTOTPEnrollment(secret, "Acme Shop", "ada@example.com"); err != nil {
				b.Fatal(err)
			}
		}},
		{"Argon2id", argon2idHash},
	}
}

func argon2idHash() {
	argon2.IDKey([]byte("correct horse battery staple"), make([]byte, 16), 2, 19*1024, 1, 32)
}

// BenchmarkAlone times each operation by itself.
func BenchmarkAlone(b *testing.B) {
	for _, bm := range benchOps(b) {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				bm.op()
			}
		})
	}
}

// BenchmarkVsArgon2id times each operation and a hash after it, in turn.
// The operation then runs with caches the hash's 19 MiB have cooled.
func BenchmarkVsArgon2id(b *testing.B) {
	for _, bm := range benchOps(b)[:3] {
		b.Run(bm.name, func(b *testing.B) {
			var op, hash time.Duration
			for b.Loop() {
				start := time.Now()
				bm.op()
				op += time.Since(start)
				start = time.Now()
				argon2idHash()
				hash += time.Since(start)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(op.Nanoseconds())/float64(b.N), "op-ns")
			b.ReportMetric(float64(hash.Nanoseconds())/float64(b.N), "argon2id-ns")
			b.ReportMetric(float64(op)/float64(hash), "op/argon2id")
		})
	}
}
