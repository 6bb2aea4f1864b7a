package gatehouse

import "time"

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
	// AuthTime is when the user last authenticated with a primary factor.
	AuthTime time.Time
	// AMR are the authentication methods used (RFC 8176: pwd, otp, mfa …);
	// ACR is the resulting authentication context class.
	AMR        []string
	ACR        string
	CreatedAt  time.Time
	LastSeenAt time.Time // for the idle timeout (SE-4)
	ExpiresAt  time.Time // the absolute timeout (SE-4)
}

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
	AMR       []string
	ACR       string
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

// EmailCode is a one-time code sent by email (EO-1 to EO-5): stored hashed,
// bound to one transaction, valid for a short time, single use, with its own
// attempt counter.
type EmailCode struct {
	ID       string
	TenantID string
	Purpose  string // "signup", "signin" or "reset"
	// Binding is the transaction the code belongs to (an AuthRequest or a
	// password reset); a code is only accepted within it.
	Binding    string
	Mail       string // normalized address the code was sent to
	CodeHash   string
	Attempts   int // wrong tries so far
	ExpiresAt  time.Time
	ConsumedAt time.Time
	CreatedAt  time.Time
}

// Email code purposes.
const (
	CodeSignUp = "signup"
	CodeSignIn = "signin"
	CodeReset  = "reset"
)

// AuthRequest is one authorization request in progress: the validated
// OpenID parameters, and how far the browser has got through the hosted
// pages. It lives for a limited time and is bound to the browser that
// started it.
type AuthRequest struct {
	ID       string
	TenantID string
	// BrowserBinding is a hash of a secret cookie set when the request
	// started: the pages refuse to continue the request in another browser.
	BrowserBinding string

	ClientID            string
	RedirectURI         string
	ResponseMode        string // "query" or "form_post"
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	MaxAge              int // seconds; -1 when not sent
	LoginHint           string
	ACRValues           string
	UILocales           string

	// Progress through the hosted pages.
	Step     string            // e.g. "signin", "signup-code", "signup-details"
	Mail     string            // the address being signed in or up
	Verified bool              // Mail was proven with a code in this request
	Values   map[string]string // attributes entered so far
	UserID   string            // set once the user is authenticated
	AuthTime time.Time
	AMR      []string

	CreatedAt time.Time
	ExpiresAt time.Time
}
