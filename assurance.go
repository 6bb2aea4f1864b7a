package gatehouse

import (
	"slices"
	"strconv"
)

// Level is how strongly a sign-in authenticated the user, from the methods
// it used (SE-5: a session or token never claims more than that).
type Level int

const (
	// LevelNone: not authenticated.
	LevelNone Level = iota
	// LevelSingleFactor: one factor, such as a password or an email code.
	LevelSingleFactor
	// LevelMultiFactor: two distinct methods, such as a password and a
	// TOTP code, or a passkey with user verification (WA-5). Email
	// one-time codes count here (EO-0), as in Entra's "require
	// multifactor authentication".
	LevelMultiFactor
	// LevelPhishingResistant: multifactor with a passkey, which is bound
	// to the site's origin. Email codes, SMS, TOTP and recovery codes
	// never reach it.
	LevelPhishingResistant
)

// The acr values (authentication context class references) of the
// levels: the acr claim of ID tokens, and what acr_values and essential
// acr claims request.
const (
	ACRSingleFactor      = "1"
	ACRMultiFactor       = "2"
	ACRPhishingResistant = "3"
)

// ACRValues lists the supported acr values, weakest first.
var ACRValues = []string{ACRSingleFactor, ACRMultiFactor, ACRPhishingResistant}

// ACR returns the acr value of the level ("" for LevelNone).
func (l Level) ACR() string {
	if l <= LevelNone || l > LevelPhishingResistant {
		return ""
	}
	return strconv.Itoa(int(l))
}

// String names the level for people.
func (l Level) String() string {
	switch l {
	case LevelSingleFactor:
		return "single-factor authentication"
	case LevelMultiFactor:
		return "multifactor authentication"
	case LevelPhishingResistant:
		return "phishing-resistant multifactor authentication"
	}
	return "no authentication"
}

// LevelForACR returns the level an acr value names, or false for a value
// Gatehouse does not define.
func LevelForACR(acr string) (Level, bool) {
	i := slices.Index(ACRValues, acr)
	if i < 0 {
		return LevelNone, false
	}
	return Level(i + 1), true
}

// LevelOf returns the level the methods reach together: two distinct
// methods, or one passkey with user verification, are multifactor, and
// multifactor with a passkey is phishing-resistant.
func LevelOf(uses []MethodUse) Level {
	var distinct []string
	passkey, verified := false, false
	for _, u := range uses {
		if !slices.Contains(distinct, u.Method) {
			distinct = append(distinct, u.Method)
		}
		if u.Method == MethodFido2 {
			passkey = true
			verified = verified || u.UserVerified
		}
	}
	switch {
	case len(distinct) == 0:
		return LevelNone
	case len(distinct) == 1 && !verified:
		return LevelSingleFactor
	case passkey:
		return LevelPhishingResistant
	}
	return LevelMultiFactor
}

// amrOf are the RFC 8176 amr values each method contributes. "email" is
// not registered in RFC 8176; it marks a one-time code sent by email (as
// Okta does), so that a relying party can tell it from a TOTP code.
var amrOf = map[string][]string{
	MethodPassword:     {"pwd"},
	MethodEmail:        {"otp", "email"},
	MethodSoftwareOath: {"otp"},
	MethodSMS:          {"sms"},
	MethodRecoveryCode: {"otp"},
}

// AMR returns the amr claim of a sign-in that used the methods: each
// method's values in the order of use, a passkey as "hwk" (bound to one
// device) or "swk" (may be synced), and "mfa" when the level is
// multifactor or above.
func AMR(uses []MethodUse) []string {
	out := []string{}
	add := func(vs ...string) {
		for _, v := range vs {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	for _, u := range uses {
		switch {
		case u.Method == MethodFido2 && u.Synced:
			add("swk")
		case u.Method == MethodFido2:
			add("hwk")
		default:
			add(amrOf[u.Method]...)
		}
	}
	if LevelOf(uses) >= LevelMultiFactor {
		add("mfa")
	}
	return out
}
