package gatehouse

import (
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
	"golang.org/x/text/width"
)

// User is a local account of a tenant, identified by its email address.
type User struct {
	ID             string
	TenantID       string
	Mail           string // as CanonicalMail writes it; unique up to case
	DisplayName    string
	GivenName      string
	Surname        string
	City           string
	Country        string
	PostalCode     string
	State          string
	StreetAddress  string
	JobTitle       string
	AccountEnabled bool
	// PasswordHash is a PHC-format argon2id string, empty for users who
	// sign in with email codes only.
	PasswordHash string
	// PasswordChangedAt is when the user's password was last set by a
	// person (sign-up, reset, a change, an administrator): Graph's
	// lastPasswordChangeDateTime. A rehash to stronger parameters is no
	// change. A password change remediates the user's risk (risk.Query).
	PasswordChangedAt time.Time
	// CustomAttributes holds the values of a tenant's custom user
	// attributes by attribute name.
	CustomAttributes map[string]string
	// Failed sign-ins are not kept on the user: they are counted per
	// address, with or without an account, in the store's failure records
	// (Tx.Strikes; RL-1, RL-2, RL-4).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clone returns a deep copy of u: changing one leaves the other as it was.
func (u *User) Clone() *User {
	c := *u
	c.CustomAttributes = maps.Clone(u.CustomAttributes)
	return &c
}

// NormalizeMail returns the key under which an address is unique in a
// tenant: the address as CanonicalMail writes it, trimmed and lowercased.
// An address CanonicalMail refuses is only trimmed and lowercased, so that
// looking it up finds nothing it would not have found before (no stored
// address is refused).
func NormalizeMail(addr string) string {
	addr = strings.TrimSpace(addr)
	if !isASCII(addr) {
		if c, err := CanonicalMail("mail", addr); err == nil {
			addr = c
		}
	}
	return strings.ToLower(addr)
}

// Reasons of the EINVALID errors of CanonicalMail, for pages that say
// what is wrong in their own words.
const (
	ReasonMailInvisible = "mailInvisibleCharacter" // a character that shows nothing (U+200B, U+00AD, …)
	ReasonMailNotASCII  = "mailNotASCII"           // a character outside ASCII before the @
	ReasonMailDomain    = "mailDomainInvalid"      // a domain IDNA refuses
)

// mailDomains converts the domain of an address to its ASCII form (IDNA
// A-labels): UTS #46 mapping (case, width, NFC), the IDNA2008 label rules,
// the Bidi rule, STD3 host name characters and DNS lengths, without the
// transitional mappings (ß stays ß, as browsers resolve it).
var mailDomains = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.VerifyDNSLength(true))

// CanonicalMail returns addr as Gatehouse stores it, or an EINVALID error
// naming field. Every stored address is ASCII, so that two addresses that
// look alike are the same address up to case, and mail to it needs no
// SMTPUTF8:
//
//   - An ASCII address is taken as it is: a bare address (no display
//     name) of at most 254 characters with a dot in its domain (or the
//     domain localhost).
//   - Any other address is folded first: fullwidth and halfwidth forms to
//     their usual ones ("ａｌｉｃｅ＠example.com" is alice@example.com, as
//     PRECIS's width mapping rule does for user names) and then to Unicode
//     NFC.
//   - The part before the @ must then be ASCII. A character that is still
//     not ASCII is refused, naming it: invisible ones (U+200B ZERO WIDTH
//     SPACE and the other default-ignorable code points), combining
//     marks, spaces, what PRECIS's IdentifierClass disallows, and letters
//     of other scripts, which PRECIS would allow but which look like ASCII
//     ones (U+0131 dotless i, Cyrillic а): no maintained library tells
//     which letters are confusable (Unicode UTS #39), so none is taken.
//   - A domain that is not ASCII must hold no invisible character (IDNA
//     would silently drop some) and is stored as its IDNA A-labels
//     (exаmple.com with a Cyrillic а is xn--exmple-4nf.com), which do not
//     look like any other domain; one IDNA refuses is refused.
//
// The codes' reasons are ReasonMailInvisible, ReasonMailNotASCII and
// ReasonMailDomain, or none for an address that is malformed as such.
func CanonicalMail(field, addr string) (string, error) {
	if isASCII(addr) {
		return addr, validateASCIIMail(field, addr)
	}
	if !utf8.ValidString(addr) {
		return "", FieldErrorf(field, "%s is not valid UTF-8.", field)
	}
	if n := utf8.RuneCountInString(addr); n > 254 {
		return "", FieldErrorf(field, "%s is longer than 254 characters.", field)
	}
	folded := norm.NFC.String(width.Fold.String(addr))
	at := strings.LastIndexByte(folded, '@')
	if at < 0 {
		return "", FieldErrorf(field, "%s %q is not a valid email address.", field, addr)
	}
	local, domain := folded[:at], folded[at+1:]
	for _, r := range local {
		if r < utf8.RuneSelf {
			continue
		}
		reason := ReasonMailNotASCII
		if invisible(r) {
			reason = ReasonMailInvisible
		}
		return "", &Error{Code: EINVALID, Field: field, Reason: reason, Message: fmt.Sprintf(
			"%s %q contains %s, %s, before the @; only ASCII letters, digits and punctuation may come before the @, so that no two addresses look alike.",
			field, addr, describeRune(r), runeKind(r))}
	}
	if !isASCII(domain) {
		for _, r := range domain {
			if invisible(r) {
				return "", &Error{Code: EINVALID, Field: field, Reason: ReasonMailInvisible, Message: fmt.Sprintf(
					"%s %q contains %s, an invisible character, in its domain.", field, addr, describeRune(r))}
			}
		}
		a, err := mailDomains.ToASCII(domain)
		if err != nil {
			return "", &Error{Code: EINVALID, Field: field, Reason: ReasonMailDomain, Message: fmt.Sprintf(
				"%s %q: the domain %q is not a valid internationalized domain name (%s).", field, addr, domain, strings.TrimPrefix(err.Error(), "idna: "))}
		}
		domain = a
	}
	canonical := local + "@" + domain
	return canonical, validateASCIIMail(field, canonical)
}

// ValidateMail returns an EINVALID error naming field unless addr is an
// address as CanonicalMail writes it: what is stored must be canonical,
// so input goes through CanonicalMail first.
func ValidateMail(field, addr string) error {
	c, err := CanonicalMail(field, addr)
	if err != nil {
		return err
	}
	if c != addr {
		return FieldErrorf(field, "%s %q is not written as Gatehouse stores addresses; use %q.", field, addr, c)
	}
	return nil
}

// validateASCIIMail checks an ASCII address: a bare email address (no
// display name) of at most 254 characters whose domain has a dot or is
// localhost.
func validateASCIIMail(field, addr string) error {
	if addr == "" {
		return FieldErrorf(field, "%s is required.", field)
	}
	if len(addr) > 254 {
		return FieldErrorf(field, "%s is longer than 254 characters.", field)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" || !strings.Contains(addr[strings.LastIndex(addr, "@")+1:], ".") && !strings.HasSuffix(addr, "@localhost") {
		return FieldErrorf(field, "%s %q is not a valid email address.", field, addr)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// invisible reports whether r is a default-ignorable code point (Unicode
// DerivedCoreProperties: format characters, variation selectors and the
// other ones Unicode lists), which render as nothing.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// describeRune names a character: "\u200b" (U+200B ZERO WIDTH SPACE).
func describeRune(r rune) string {
	name := runenames.Name(r)
	if name == "" {
		return fmt.Sprintf("%q (U+%04X)", r, r)
	}
	return fmt.Sprintf("%q (U+%04X %s)", r, r, name)
}

// runeKind says why a character outside ASCII cannot stay.
func runeKind(r rune) string {
	switch {
	case invisible(r):
		return "an invisible character"
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		return "a combining mark"
	case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
		return "a space"
	case unicode.IsControl(r):
		return "a control character"
	}
	if _, err := precis.UsernameCasePreserved.String(string(r)); err != nil {
		return "a character PRECIS (RFC 8265) does not allow in user names"
	}
	return "a character outside ASCII"
}

// ValidateText returns an EINVALID error naming field if s is not valid
// UTF-8, contains control characters, or is longer than max characters.
func ValidateText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(field, "%s is not valid UTF-8.", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return FieldErrorf(field, "%s is %d characters long; the limit is %d.", field, n, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return FieldErrorf(field, "%s contains a control character.", field)
		}
	}
	return nil
}

// Validate checks the user's fields and returns an EINVALID error naming the
// first bad one.
func (u *User) Validate() error {
	if err := ValidateMail("mail", u.Mail); err != nil {
		return err
	}
	for _, f := range []struct {
		name, value string
	}{
		{"displayName", u.DisplayName}, {"givenName", u.GivenName}, {"surname", u.Surname},
		{"city", u.City}, {"country", u.Country}, {"postalCode", u.PostalCode},
		{"state", u.State}, {"streetAddress", u.StreetAddress}, {"jobTitle", u.JobTitle},
	} {
		if err := ValidateText(f.name, f.value, 256); err != nil {
			return err
		}
	}
	for k, v := range u.CustomAttributes {
		if err := ValidateText(k, v, 1024); err != nil {
			return err
		}
	}
	return nil
}
