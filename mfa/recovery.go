package mfa

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
)

// Recovery codes (RC-1): a set of RecoveryCodeCount codes, each 80 bits
// from crypto/rand written as 16 characters of Crockford's base32 in four
// groups (7K3M-Q9XD-2HVA-WN4R), which has no I, L, O or U to misread;
// typed codes are read without regard to case, spaces or hyphens, with
// I and L read as 1 and O as 0. The store keeps only a MAC of each code
// under the vault's key, bound to the tenant, the user and the set.
const (
	RecoveryCodeCount = 10
	recoveryCodeBytes = 10 // 80 bits
	recoveryCodeChars = 16 // recoveryCodeBytes in base32
	// recoveryCodePurpose is the vault's MAC purpose for recovery codes.
	recoveryCodePurpose = "recovery-code"
)

const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// newRecoveryCode returns one code as shown: XXXX-XXXX-XXXX-XXXX.
func newRecoveryCode() string {
	b := make([]byte, recoveryCodeBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return groups(crockford.EncodeToString(b), 4, "-")
}

// NormalizeRecoveryCode returns a typed code in the form its MAC is
// computed over (16 characters, upper case, no separators), or false if
// it cannot be a recovery code.
func NormalizeRecoveryCode(in string) (string, bool) {
	var b strings.Builder
	for _, r := range in {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'o', 'O':
			r = '0'
		case 'i', 'I', 'l', 'L':
			r = '1'
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if !strings.ContainsRune(crockfordAlphabet, r) || b.Len() == recoveryCodeChars {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryCodeChars {
		return "", false
	}
	return b.String(), true
}

// recoveryCodeHash is what the store keeps of a normalized code of the set m.
func recoveryCodeHash(v *vault.Vault, m *gatehouse.UserMethod, code string) string {
	return hex.EncodeToString(v.MAC(recoveryCodePurpose, []byte(m.TenantID+"/"+m.UserID+"/"+m.ID+"/"+code)))
}

// NewRecoveryCodes returns a new set of recovery codes of the user, with
// the ID id: the method, which holds only the codes' MACs, and the codes,
// to be shown once and never stored.
func NewRecoveryCodes(v *vault.Vault, tenantID, userID, id string) (*gatehouse.UserMethod, []string) {
	m := &gatehouse.UserMethod{ID: id, TenantID: tenantID, UserID: userID, Method: gatehouse.MethodRecoveryCode,
		DisplayName: "Recovery codes"}
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		norm, _ := NormalizeRecoveryCode(codes[i])
		m.RecoveryCodes = append(m.RecoveryCodes, gatehouse.RecoveryCode{Hash: recoveryCodeHash(v, m, norm)})
	}
	return m, codes
}

// UseRecoveryCode tries a typed code against the set m at now. A code of
// the set not used before is Accepted and m then records its use; a code
// used before is Used. Every stored hash is compared, each in constant
// time. Call it in the store's updater of m, which locks m, so that of
// concurrent uses of one code exactly one is accepted.
func UseRecoveryCode(v *vault.Vault, m *gatehouse.UserMethod, code string, now time.Time) Outcome {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok {
		return Wrong
	}
	want := []byte(recoveryCodeHash(v, m, norm))
	found := -1
	for i, c := range m.RecoveryCodes {
		if subtle.ConstantTimeCompare([]byte(c.Hash), want) == 1 {
			found = i
		}
	}
	switch {
	case found < 0:
		return Wrong
	case !m.RecoveryCodes[found].UsedAt.IsZero():
		return Used
	}
	m.RecoveryCodes[found].UsedAt = now
	m.LastUsedAt = now
	return Accepted
}
