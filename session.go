package gatehouse

import (
	"slices"
	"time"
)

// Session is a browser's signed-in session with a tenant: it gives single
// sign-on across the tenant's apps. Its ID is a hash of the secret in the
// browser's cookie (SE-1), so the database never holds a usable session.
type Session struct {
	ID       string // hex SHA-256 of the cookie secret
	TenantID string
	UserID   string
	// SID names the browser's sign-in across the ID rotations of
	// re-authentication and step-up (SE-2): the grants of the session refer
	// to it, and it is the sid claim of ID tokens. It is random and public.
	SID string
	// AuthTime is when the user last authenticated with a first factor.
	AuthTime time.Time
	// Methods are the authentications the session holds, first factor
	// first (SE-5: it claims exactly these); AMR and ACR are derived from
	// them (AMR, LevelOf).
	Methods    []MethodUse
	AMR        []string
	ACR        string
	CreatedAt  time.Time
	LastSeenAt time.Time // for the idle timeout (SE-4)
	ExpiresAt  time.Time // the absolute timeout (SE-4)
}

// Clone returns a deep copy of s.
func (s *Session) Clone() *Session {
	c := *s
	c.Methods = slices.Clone(s.Methods)
	c.AMR = slices.Clone(s.AMR)
	return &c
}
