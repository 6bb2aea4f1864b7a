package gatehouse

import "time"

// Grant is what one authorization gives a client for a user: the family
// that its authorization code, access tokens and refresh tokens belong to.
// Revoking the grant revokes all of them (AS-5, AS-6).
type Grant struct {
	ID        string
	TenantID  string
	UserID    string
	ClientID  string // appId
	SessionID string // the SID of the browser session it came from, "" if none
	Scope     string
	Nonce     string
	AuthTime  time.Time
	// Methods are the authentications the sign-in used; a refresh is
	// refused once they no longer stand (a registered method removed).
	Methods []MethodUse
	AMR     []string
	ACR     string
	// Claims is the authorization request's claims parameter (OpenID
	// Connect Core 5.5) as validated JSON, "" when none was sent.
	Claims    string
	CreatedAt time.Time
	ExpiresAt time.Time // when its refresh tokens stop working at the latest
	RevokedAt time.Time
}

// Revoked reports whether the grant has been revoked.
func (g *Grant) Revoked() bool { return !g.RevokedAt.IsZero() }

// RefreshToken is one refresh token of a grant. Its ID is a hash of the
// token. A used refresh token is replaced by a new one (rotation); using it
// again revokes the grant (reuse detection, AS-6).
type RefreshToken struct {
	ID        string // hex SHA-256 of the token
	TenantID  string
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}
