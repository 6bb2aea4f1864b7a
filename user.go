package gatehouse

import (
	"maps"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a local account of a tenant, identified by its email address.
type User struct {
	ID             string
	TenantID       string
	Mail           string // as entered; uniqueness is case-insensitive
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
// tenant: trimmed and lowercased.
func NormalizeMail(addr string) string {
	return strings.ToLower(strings.TrimSpace(addr))
}

// ValidateMail returns an EINVALID error naming field unless addr is a bare
// email address (no display name) of at most 254 characters.
func ValidateMail(field, addr string) error {
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
