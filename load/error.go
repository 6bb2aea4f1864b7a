package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"golang.org/x/oauth2"
)

// StepError is the failure of one step of an iteration. Kind groups
// failures for the report: "HTTP 429", an OAuth error code such as
// "invalid_grant", "timeout", "connection refused"…
type StepError struct {
	Step string
	Kind string
	Err  error
}

func (e *StepError) Error() string {
	if e.Err == nil {
		return e.Step + ": " + e.Kind
	}
	return e.Step + ": " + e.Kind + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }

// stepErr returns a StepError of step for err, with its kind from
// classify.
func stepErr(step string, err error) error {
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	return &StepError{Step: step, Kind: classify(err), Err: err}
}

// failf returns a StepError of step and kind with a message.
func failf(step, kind, format string, args ...any) error {
	return &StepError{Step: step, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// classify names the kind of a request's error: the OAuth error code or
// HTTP status of a token response, or the kind of network failure.
func classify(err error) string {
	var re *oauth2.RetrieveError
	var ne net.Error
	switch {
	case errors.As(err, &re) && re.ErrorCode != "":
		return re.ErrorCode
	case errors.As(err, &re) && re.Response != nil:
		return fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return "no source address"
	case errors.Is(err, errForeignHost):
		return "foreign host"
	case errors.As(err, &ne):
		return "network error"
	}
	return "error"
}
