package gatehouse_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestParsePhone(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"+41446681800", "+41446681800"},
		{"  +41 44 668 18 00 ", "+41446681800"},
		{"+41 44 668-18-00", "+41446681800"},
		{"+1 (206) 555-0100", "+12065550100"},
		{"+4915123456", "+4915123456"},           // 10 digits
		{"+12345678", "+12345678"},               // 8 digits, the fewest
		{"+123456789012345", "+123456789012345"}, // 15 digits, the most
	} {
		got, err := gatehouse.ParsePhone("phone", c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in, reason, message string
	}{
		{"", "phoneMissing", "Enter a phone number, starting with + and the country code, like +41 44 668 18 00."},
		{"   ", "phoneMissing", "Enter a phone number"},
		{"044 668 18 00", "phoneNoPlus", "Start the number with + and the country code, like +41 44 668 18 00."},
		{"0041 44 668 18 00", "phoneInternationalPrefix", "Write the number with + instead of the 00 at its start, like +41446681800."},
		{"+41 44 668 18 00 ext 5", "phoneCharacter", `"e" can't be part of a phone number`},
		{"+41.44.668.18.00", "phoneCharacter", `"." can't be part of a phone number`},
		{"+41 44+668 18 00", "phonePlusInside", "The + goes at the start of the number only"},
		{"++41446681800", "phonePlusInside", "The + goes at the start of the number only"},
		{"+1234567", "phoneDigits", "That number has 7 digits; with the country code, a phone number has 8 to 15."},
		{"+1234567890123456", "phoneDigits", "That number has 16 digits"},
		{"+", "phoneDigits", "That number has 0 digits"},
		{"+0446681800", "phoneCountryCode", "Country codes don't start with 0"},
		{"+" + strings.Repeat("1 ", 21), "phoneTooLong", "That is too long for a phone number"},
		{"+41 44 668 18 0\u0000", "phoneCharacter", `"\x00" can't be part of a phone number`},
		{"+41 ４４ 668 18 00", "phoneCharacter", `"４" can't be part of a phone number`}, // fullwidth digits are not digits here
	} {
		got, err := gatehouse.ParsePhone("phone", c.in)
		var e *gatehouse.Error
		if got != "" || err == nil {
			t.Errorf("ParsePhone(%q) = %q, %v; want an error", c.in, got, err)
			continue
		}
		e, _ = err.(*gatehouse.Error)
		if e == nil || e.Code != gatehouse.EINVALID || e.Field != "phone" || e.Reason != c.reason || !strings.HasPrefix(e.Message, c.message) {
			t.Errorf("ParsePhone(%q): error %+v; want EINVALID about phone, reason %s, message starting %q", c.in, e, c.reason, c.message)
		}
	}
}
