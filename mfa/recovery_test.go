package mfa

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

var recoveryCodeRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// TestRC1RecoveryCodes: ten codes of 80 bits each, readable, distinct,
// stored only as keyed hashes bound to the set.
func TestRC1RecoveryCodes(t *testing.T) {
	v := testVault(t)
	m, codes := NewRecoveryCodes(v, "t", "u", "set-1")
	if len(codes) != 10 || len(m.RecoveryCodes) != 10 || m.Method != gatehouse.MethodRecoveryCode || m.ID != "set-1" {
		t.Fatalf("%d codes, %d hashes, method %+v", len(codes), len(m.RecoveryCodes), m)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !recoveryCodeRE.MatchString(c) {
			t.Errorf("code %q is not XXXX-XXXX-XXXX-XXXX in Crockford's base32", c)
		}
		// 16 characters of 5 bits: 80 bits, all of them random.
		raw, err := crockford.DecodeString(strings.ReplaceAll(c, "-", ""))
		if err != nil || len(raw) != 10 {
			t.Errorf("code %q decodes to %d bytes (%v), want 10", c, len(raw), err)
		}
		if seen[c] {
			t.Errorf("code %q repeated", c)
		}
		seen[c] = true
		h := m.RecoveryCodes[i].Hash
		if len(h) != 64 || strings.Contains(strings.ToUpper(h), strings.ReplaceAll(c, "-", "")) || !m.RecoveryCodes[i].UsedAt.IsZero() {
			t.Errorf("stored %q for code %q: want an unused HMAC-SHA256", h, c)
		}
	}
	// Another set gets other codes, and the same code would hash
	// differently in another set, for another user or tenant.
	m2, codes2 := NewRecoveryCodes(v, "t", "u", "set-2")
	for _, c := range codes2 {
		if seen[c] {
			t.Errorf("code %q in two sets", c)
		}
	}
	norm, _ := NormalizeRecoveryCode(codes[0])
	hashes := map[string]bool{}
	for _, owner := range []*gatehouse.UserMethod{m, m2, {TenantID: "t", UserID: "u2", ID: "set-1"}, {TenantID: "t2", UserID: "u", ID: "set-1"}} {
		hashes[recoveryCodeHash(v, owner, norm)] = true
	}
	if len(hashes) != 4 {
		t.Errorf("the hash of a code does not depend on its tenant, user and set")
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"7K3M-Q9XD-2HVA-WN4R", "7K3MQ9XD2HVAWN4R", true},
		{"7k3m q9xd 2hva wn4r", "7K3MQ9XD2HVAWN4R", true},
		{" 7K3MQ9XD2HVAWN4R\t", "7K3MQ9XD2HVAWN4R", true},
		{"7K3M-Q9XD-2HVA-WN4R-", "7K3MQ9XD2HVAWN4R", true},
		{"OIL0-Q9XD-2HVA-WN4R", "0110Q9XD2HVAWN4R", true}, // misread letters
		{"7K3M-Q9XD-2HVA-WN4", "", false},                 // too short
		{"7K3M-Q9XD-2HVA-WN4RR", "", false},               // too long
		{"7K3M-Q9XD-2HVA-WN4U", "", false},                // U is not in the alphabet
		{"7K3M_Q9XD_2HVA_WN4R", "", false},
		{"", "", false},
		{strings.Repeat("A", 10000), "", false},
	} {
		got, ok := NormalizeRecoveryCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeRecoveryCode(%.30q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRC1RecoveryCodeSingleUse: each code works once, however it is typed;
// a wrong or foreign code never does.
func TestRC1RecoveryCodeSingleUse(t *testing.T) {
	v := testVault(t)
	m, codes := NewRecoveryCodes(v, "t", "u", "set-1")
	_, foreign := NewRecoveryCodes(v, "t", "u", "set-2")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, code string
		want       Outcome
	}{
		{"a code", codes[3], Accepted},
		{"the same code", codes[3], Used},
		{"the same code in lower case without hyphens", strings.ToLower(strings.ReplaceAll(codes[3], "-", "")), Used},
		{"another code, typed in lower case", strings.ToLower(codes[4]), Accepted},
		{"a code of another set", foreign[0], Wrong},
		{"not a code", "hello", Wrong},
	} {
		if got := UseRecoveryCode(v, m, tt.code, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if n := m.RemainingRecoveryCodes(); n != 8 {
		t.Errorf("%d codes left, want 8", n)
	}
	if !m.RecoveryCodes[3].UsedAt.Equal(now) || !m.LastUsedAt.Equal(now) {
		t.Errorf("the use is not recorded: %+v", m.RecoveryCodes[3])
	}
}
