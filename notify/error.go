package notify

import (
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// ErrUnavailable is wrapped by every error of a delivery that failed because
// the mail server could not be reached, timed out, refused the connection's
// credentials or the message, or because the caller gave up. Its message is
// safe to show to the person waiting for the email.
var ErrUnavailable = &gatehouse.Error{
	Code:    gatehouse.EINTERNAL,
	Message: "We couldn't send the email right now. Please try again in a few minutes.",
}

// ErrRejected is wrapped by the error of a delivery that failed because the
// recipient's address is not valid or the mail server permanently refused it
// (a 5xx reply to RCPT TO). Trying again will not help; another address may.
var ErrRejected = &gatehouse.Error{
	Code:    gatehouse.EINVALID,
	Message: "We couldn't send email to that address. Check the address and try again.",
}

// Text message failures say the same as ErrUnavailable and ErrRejected, of
// text messages; the errors of an SMSSender unwrap to one of these first,
// and to ErrUnavailable or ErrRejected after it.
var (
	errSMSUnavailable = &gatehouse.Error{
		Code:    gatehouse.EINTERNAL,
		Message: "We couldn't send the text message right now. Please try again in a few minutes.",
	}
	errSMSRejected = &gatehouse.Error{
		Code:    gatehouse.EINVALID,
		Message: "We couldn't send a text message to that number. Check the number and try again.",
	}
)

// sendError is a failed delivery. Its text is written for operators and
// names the recipient's domain (or a redacted number) only; it unwraps to
// its message for people (msg, when set), its kind (ErrUnavailable or
// ErrRejected) and the underlying cause, whose own text may hold the full
// address and is therefore never printed.
type sendError struct {
	msg   *gatehouse.Error
	kind  *gatehouse.Error
	text  string
	cause error
}

func (e *sendError) Error() string { return e.text }
func (e *sendError) Unwrap() []error {
	if e.msg != nil {
		return []error{e.msg, e.kind, e.cause}
	}
	return []error{e.kind, e.cause}
}

// smsError is a failed text message of the kind.
func smsError(kind *gatehouse.Error, text string, cause error) *sendError {
	msg := errSMSUnavailable
	if kind == ErrRejected {
		msg = errSMSRejected
	}
	return &sendError{msg: msg, kind: kind, text: text, cause: cause}
}

// redactAddress replaces every occurrence of addr in s, in any case, with
// its redacted form.
func redactAddress(s, addr string) string {
	if addr == "" {
		return s
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(addr))
	return re.ReplaceAllLiteralString(s, redacted(addr))
}

// redacted returns addr with its local part hidden: "…@example.com".
func redacted(addr string) string {
	return "…@" + domainOf(addr)
}

// domainOf returns the domain of an email address, lowercased, or "?" when
// addr has none.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return "?"
	}
	return strings.ToLower(strings.TrimRight(addr[i+1:], ">"))
}
