package gatehouse

import "time"

// EmailCode is a one-time code sent by email (EO-1 to EO-5) or text message: stored hashed,
// bound to one transaction, valid for a short time, single use, with its own
// attempt counter.
type EmailCode struct {
	ID       string
	TenantID string
	Purpose  string // CodeSignUp, CodeSignIn, CodeReset, CodeMFA or CodeSMS
	// Binding is the transaction the code belongs to (an AuthRequest or a
	// password reset); a code is only accepted within it.
	Binding string
	// Mail is the normalized address the code was sent to; for a text
	// message code (CodeSMS), the E.164 phone number.
	Mail       string
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
	// CodeMFA is an email code as a second factor, CodeSMS a code sent by
	// text message (to verify a phone, or as a second factor).
	CodeMFA = "mfa"
	CodeSMS = "sms"
)
