package password

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"golang.org/x/text/unicode/norm"
)

// MaxInputBytes is the longest password input, in bytes, that is looked at
// at all. Longer inputs are refused before they are normalised or hashed.
const MaxInputBytes = 1024

// Length limits of a Policy, in code points after NFKC normalisation.
const (
	DefaultMinLength = 8   // the minimum length when Policy.MinLength is lower (PW-1)
	DefaultMaxLength = 256 // the maximum length when Policy.MaxLength is 0
	leastMaxLength   = 64  // PW-2: a maximum is never below this
)

// Reasons of the errors Policy.Check returns, for programs (the Reason
// field of *gatehouse.Error).
const (
	ReasonTooShort  = "passwordTooShort"
	ReasonTooLong   = "passwordTooLong"
	ReasonTooCommon = "passwordTooCommon"
	ReasonInvalid   = "passwordInvalid"
)

// Policy is what a new password must satisfy. There are no composition
// rules (PW-3).
type Policy struct {
	// MinLength is the minimum length in code points; 0 or anything below
	// 8 means 8.
	MinLength int
	// MaxLength is the maximum length in code points; 0 means 256. It is
	// never less than 64 or than the minimum, and never more than
	// MaxInputBytes.
	MaxLength int
}

// Min returns the shortest password, in code points, the policy accepts.
func (p Policy) Min() int {
	lo, _ := p.limits()
	return lo
}

func (p Policy) limits() (lo, hi int) {
	lo, hi = max(p.MinLength, DefaultMinLength), p.MaxLength
	if hi == 0 {
		hi = DefaultMaxLength
	}
	hi = min(max(hi, leastMaxLength, lo), MaxInputBytes)
	return min(lo, hi), hi
}

// Check returns nil if pw may be set as a password, and otherwise an
// EINVALID *gatehouse.Error for field "password" whose Reason is one of
// ReasonInvalid (invalid UTF-8 or control characters), ReasonTooShort,
// ReasonTooLong or ReasonTooCommon, with a message for the user. Lengths
// are counted in code points after NFKC normalisation; the common-password
// list is matched case-insensitively.
func (p Policy) Check(pw string) error {
	lo, hi := p.limits()
	if len(pw) > MaxInputBytes {
		return policyError(ReasonTooLong, "Use at most %d characters.", hi)
	}
	if !utf8.ValidString(pw) {
		return policyError(ReasonInvalid, "The password contains characters that are not valid text.")
	}
	pw = Normalize(pw)
	n := 0
	for _, r := range pw {
		if unicode.IsControl(r) {
			return policyError(ReasonInvalid, "The password must not contain control characters such as tabs or line breaks.")
		}
		n++
	}
	switch {
	case n < lo:
		return policyError(ReasonTooShort, "Use at least %d characters.", lo)
	case n > hi:
		return policyError(ReasonTooLong, "Use at most %d characters.", hi)
	case IsCommon(pw):
		return policyError(ReasonTooCommon, "That password is too common; choose another.")
	}
	return nil
}

func policyError(reason, format string, args ...any) error {
	e := gatehouse.FieldErrorf("password", format, args...)
	e.Reason = reason
	return e
}

// Normalize returns pw in Unicode normalisation form NFKC (PW-6), so that
// the forms of one password a keyboard or an operating system may produce
// all hash alike.
func Normalize(pw string) string {
	return norm.NFKC.String(pw)
}

//go:embed common.txt
var commonText string

var commonSet = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 5000)
	sc := bufio.NewScanner(strings.NewReader(commonText))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(Normalize(line))] = struct{}{}
	}
	return m
})

// IsCommon reports whether pw, after NFKC normalisation and ignoring case,
// is on the embedded list of common passwords.
func IsCommon(pw string) bool {
	_, ok := commonSet()[strings.ToLower(Normalize(pw))]
	return ok
}
