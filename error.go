package gatehouse

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web package.
const (
	EINVALID      = "invalid"      // the caller sent something wrong (400)
	ENOTFOUND     = "notFound"     // the thing does not exist (404)
	ECONFLICT     = "conflict"     // a uniqueness rule or a single use was violated (409)
	EUNAUTHORIZED = "unauthorized" // no or bad credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed (403)
	ETOOLARGE     = "tooLarge"     // the request body is over its limit (413)
	EBUSY         = "busy"         // a bounded resource is saturated; retry later (429/503)
	EINTERNAL     = "internal"     // a bug or an unavailable dependency (500)
)

// Error is the application error: a code for programs and a message for
// people. Field, when set, names the input field the message is about;
// Reason, when set, is a finer machine-readable cause (for example
// "passwordTooShort").
type Error struct {
	Code    string
	Message string
	Field   string
	Reason  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("gatehouse error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err's *Error, or a generic message for
// other errors so internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
