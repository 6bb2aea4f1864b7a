package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// statusByCode is the one map from error codes to HTTP statuses.
var statusByCode = map[string]int{
	gatehouse.EINVALID:      http.StatusBadRequest,
	gatehouse.ENOTFOUND:     http.StatusNotFound,
	gatehouse.ECONFLICT:     http.StatusConflict,
	gatehouse.EUNAUTHORIZED: http.StatusUnauthorized,
	gatehouse.EFORBIDDEN:    http.StatusForbidden,
	gatehouse.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	gatehouse.EBUSY:         http.StatusServiceUnavailable,
	gatehouse.EINTERNAL:     http.StatusInternalServerError,
}

// graphCodeByCode names each error code as Microsoft Graph does.
var graphCodeByCode = map[string]string{
	gatehouse.EINVALID:      "Request_BadRequest",
	gatehouse.ENOTFOUND:     "Request_ResourceNotFound",
	gatehouse.ECONFLICT:     "Request_Conflict",
	gatehouse.EUNAUTHORIZED: "InvalidAuthenticationToken",
	gatehouse.EFORBIDDEN:    "Authorization_RequestDenied",
	gatehouse.ETOOLARGE:     "Request_EntityTooLarge",
	gatehouse.EBUSY:         "serviceNotAvailable",
	gatehouse.EINTERNAL:     "generalException",
}

// retryAfterBusy is the Retry-After, in seconds, of a 503 for a saturated
// bounded resource (EBUSY), such as the password hashing pool.
const retryAfterBusy = "5"

// graphError is Microsoft Graph's error body.
type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Target     string          `json:"target,omitempty"`
	Details    []graphDetail   `json:"details,omitempty"`
	InnerError graphInnerError `json:"innerError"`
}

type graphDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

type graphInnerError struct {
	RequestID string `json:"request-id"`
	Date      string `json:"date"`
}

// writeAPIError writes err as a Graph error body. Internal errors are logged
// with the request's correlation ID and shown to the caller only as that ID.
func (s *server) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeAPIErrorStatus(w, r, 0, err)
}

// writeAPIErrorStatus is writeAPIError with a status other than the one
// err's code maps to (0 for that one): for HTTP's own errors, such as 405.
func (s *server) writeAPIErrorStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	code := gatehouse.ErrorCode(err)
	if status == 0 {
		status = statusByCode[code]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if code == gatehouse.EINTERNAL {
		s.Logger.ErrorContext(r.Context(), "internal error", "err", err, "correlation_id", correlationID(r.Context()), "route", r.Pattern)
	}
	body := graphErrorBody{
		Code:       graphCodeByCode[code],
		Message:    gatehouse.ErrorMessage(err),
		InnerError: graphInnerError{RequestID: correlationID(r.Context()), Date: s.Now().UTC().Format("2006-01-02T15:04:05")},
	}
	var e *gatehouse.Error
	if errors.As(err, &e) {
		body.Target = e.Field
		if e.Reason != "" {
			body.Details = []graphDetail{{Code: e.Reason, Message: e.Message, Target: e.Field}}
		}
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterBusy)
	}
	encode(w, status, graphError{Error: body})
}

// handleAPINotFound answers admin API requests that match no route: a 405
// with an Allow header when the path exists with other methods, a 404
// otherwise.
func (s *server) handleAPINotFound(mt *methodTable) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed := mt.allowed(r); allowed != nil {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.writeAPIErrorStatus(w, r, http.StatusMethodNotAllowed, gatehouse.Errorf(gatehouse.EINVALID,
				"The method %s is not allowed on %s; it allows %s.", r.Method, r.URL.Path, orList(allowed)))
			return
		}
		s.writeAPIError(w, r, gatehouse.Errorf(gatehouse.ENOTFOUND, "Resource not found for the segment %q (%s %s is not part of the admin API).", lastSegment(r.URL.Path), r.Method, r.URL.Path))
	})
}

func lastSegment(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
