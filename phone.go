package gatehouse

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Phone numbers are kept in E.164 form: "+", then the country code and
// the subscriber number, 8 to 15 digits in all (E.164 allows 15; no
// country's numbers are shorter than 8 with their code).
const (
	phoneMinDigits = 8
	phoneMaxDigits = 15
	// phoneMaxInput bounds what ParsePhone reads: a number written with
	// every separator it allows is far shorter.
	phoneMaxInput = 40
)

// ParsePhone returns the E.164 form of a phone number as a person types
// it: "+" and the country code first, digits separated by spaces, hyphens
// or parentheses as they like ("+41 44 668-18-00", "+1 (206) 555 0100").
// Otherwise it returns an EINVALID error about field whose message says,
// in a sentence for the person who typed it, what is wrong, and whose
// Reason names it for programs: phoneMissing, phoneTooLong, phoneCharacter,
// phoneNoPlus, phoneInternationalPrefix, phonePlusInside, phoneDigits or
// phoneCountryCode.
func ParsePhone(field, in string) (string, error) {
	s := strings.TrimSpace(in)
	fail := func(reason, format string, args ...any) (string, error) {
		return "", &Error{Code: EINVALID, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return fail("phoneMissing", "Enter a phone number, starting with + and the country code, like +41 44 668 18 00.")
	case utf8.RuneCountInString(s) > phoneMaxInput:
		return fail("phoneTooLong", "That is too long for a phone number: with the country code, a phone number has at most %d digits.", phoneMaxDigits)
	}
	digits := make([]byte, 0, phoneMaxDigits)
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && i == 0:
		case r == '+':
			return fail("phonePlusInside", "The + goes at the start of the number only, before the country code.")
		default:
			return fail("phoneCharacter", "%q can't be part of a phone number: use digits, with spaces, hyphens or parentheses between them if you like.", string(r))
		}
	}
	if s[0] != '+' {
		if strings.HasPrefix(string(digits), "00") {
			return fail("phoneInternationalPrefix", "Write the number with + instead of the 00 at its start, like +%s.", strings.TrimPrefix(string(digits), "00"))
		}
		return fail("phoneNoPlus", "Start the number with + and the country code, like +41 44 668 18 00.")
	}
	switch n := len(digits); {
	case n < phoneMinDigits || n > phoneMaxDigits:
		return fail("phoneDigits", "That number has %d digits; with the country code, a phone number has %d to %d.", n, phoneMinDigits, phoneMaxDigits)
	case digits[0] == '0':
		return fail("phoneCountryCode", "Country codes don't start with 0: check the digits after the +.")
	}
	return "+" + string(digits), nil
}
