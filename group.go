package gatehouse

import (
	"strings"
	"time"
)

// Group is a named set of users of one tenant, used for Conditional Access
// and authentication method targeting.
type Group struct {
	ID          string
	TenantID    string
	DisplayName string
	Description string
	// MailNickname is Graph's mailNickname, the alias Graph requires of
	// every group; Gatehouse groups have no mailbox, so it is a label.
	MailNickname string
	// IsAssignableToRole is Graph's isAssignableToRole: set when the group
	// is created and never changed afterwards. Such a group is protected
	// as Entra protects role-assignable groups: its members, its
	// properties and its members' accounts are changed only by those who
	// may manage directory roles. (Gatehouse assigns roles to users; the
	// flag protects the group, for uses such as break-glass accounts that
	// policies exclude.)
	IsAssignableToRole bool
	CreatedAt          time.Time
}

// Clone returns a copy of g: changing one leaves the other as it was.
func (g *Group) Clone() *Group {
	c := *g
	return &c
}

// Validate returns an EINVALID error naming the first bad field.
func (g *Group) Validate() error {
	if g.DisplayName == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", g.DisplayName, 256); err != nil {
		return err
	}
	if err := ValidateText("description", g.Description, 1024); err != nil {
		return err
	}
	return ValidateMailNickname("mailNickname", g.MailNickname)
}

// mailNicknameForbidden are the characters Graph refuses in a
// mailNickname, besides spaces and non-ASCII ones.
const mailNicknameForbidden = `@()\[]";:<>,`

// ValidateMailNickname returns an EINVALID error naming field unless s is
// empty or a mail nickname as Graph accepts one: at most 64 ASCII
// characters, without spaces, control characters or any of @ ( ) \ [ ] " ; : < > ,
func ValidateMailNickname(field, s string) error {
	if len(s) > 64 {
		return FieldErrorf(field, "%s is %d characters long; the limit is 64.", field, len(s))
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(mailNicknameForbidden, r) {
			return FieldErrorf(field, "%s %q contains %q; use ASCII letters, digits and punctuation other than spaces and %s.", field, s, r, mailNicknameForbidden)
		}
	}
	return nil
}
