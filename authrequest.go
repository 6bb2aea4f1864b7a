package gatehouse

import "time"

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

	// Claims is the claims parameter (OpenID Connect Core 5.5) as
	// validated JSON, "" when none was sent.
	Claims string

	// Purpose is "" for an OpenID authorization request, or
	// PurposeAccount for a step of the user's own security info page,
	// which returns to ReturnTo (a path of the tenant) instead of a client.
	Purpose  string
	ReturnTo string
	// Register is the method the security info page asked to register in
	// this request (PurposeAccount only), "" for none.
	Register string

	// Progress through the hosted pages.
	Step     string            // e.g. "signin", "signup-code", "signup-details"
	Mail     string            // the address being signed in or up
	Verified bool              // Mail was proven with a code in this request
	Values   map[string]string // attributes entered so far
	UserID   string            // set once the user is authenticated
	// Methods are the authentications of the sign-in so far: carried over
	// from the browser's session (SessionID) or done in this request.
	Methods []MethodUse
	// SessionID is the ID of the browser session this request continues
	// (single sign-on that needs a step-up), "" if none; completing the
	// request replaces it with a new session (SE-2).
	SessionID string
	// Progress is the state of the second-factor step in progress.
	Progress SignInProgress

	CreatedAt time.Time
	ExpiresAt time.Time
}

// PurposeAccount marks an authorization request made by the user's own
// security info page.
const PurposeAccount = "account"

// SignInProgress is what a second-factor or registration step keeps
// between pages.
type SignInProgress struct {
	// Pending is a method being registered (an authenticator app's sealed
	// secret, a phone awaiting its code), not yet the user's.
	Pending *UserMethod `json:"pending,omitempty"`
	// WebAuthn is the session data of a WebAuthn ceremony in progress
	// (its challenge, WA-1); it is cleared when the ceremony is tried.
	WebAuthn []byte `json:"webauthn,omitempty"`
	// Phone is the number a text message code of this request was sent to.
	Phone string `json:"phone,omitempty"`

	// What the sign-in learnt on its way, which outlives its steps
	// (Carry): the password it signed in with is on the list of breached
	// and common passwords (user risk); the user changed their password
	// in it (Conditional Access's passwordChange); its interruption for a
	// second factor is in the sign-in log already.
	BreachedPassword bool `json:"breachedPassword,omitempty"`
	PasswordChanged  bool `json:"passwordChanged,omitempty"`
	Interrupted      bool `json:"interrupted,omitempty"`
}

// Carry returns the progress a new step starts with: what outlives steps.
func (p SignInProgress) Carry() SignInProgress {
	return SignInProgress{BreachedPassword: p.BreachedPassword, PasswordChanged: p.PasswordChanged, Interrupted: p.Interrupted}
}

// IsZero reports whether the progress holds nothing.
func (p SignInProgress) IsZero() bool {
	return p.Pending == nil && len(p.WebAuthn) == 0 && p.Phone == "" && !p.BreachedPassword && !p.PasswordChanged && !p.Interrupted
}

// FirstFactor returns the request's first-factor authentication, or false.
func (r *AuthRequest) FirstFactor() (MethodUse, bool) {
	for _, m := range r.Methods {
		if IsFirstFactor(m.Method) {
			return m, true
		}
	}
	return MethodUse{}, false
}
