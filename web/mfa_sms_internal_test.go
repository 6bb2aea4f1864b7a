package web

import (
	"testing"
	"time"
)

// TestSMSDelay: the wait after a user's wrong text message codes grows
// with each failure past the free ones, and is capped: never a lockout
// for good (RL-2, RL-3).
func TestSMSDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 9: 0, 10: time.Minute, 11: 2 * time.Minute, 14: 16 * time.Minute,
		15: 32 * time.Minute, 16: time.Hour, 17: time.Hour, 1000: time.Hour} {
		if got := smsDelay(n); got != want {
			t.Errorf("smsDelay(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestSignInDelay pins password sign-in's delays, which share
// growingDelay: 5 free failures, then 1 s doubling up to 15 minutes.
func TestSignInDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{4: 0, 5: time.Second, 6: 2 * time.Second, 14: 512 * time.Second,
		15: 15 * time.Minute, 99: 15 * time.Minute, 1 << 20: 15 * time.Minute} {
		if got := signInDelay(n); got != want {
			t.Errorf("signInDelay(%d) = %v, want %v", n, got, want)
		}
	}
}
