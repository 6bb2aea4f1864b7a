package web

import (
	"mime"
	"net/http"
	"strings"
)

// bearerToken returns the access token of a protected-resource request
// (RFC 6750): from the Authorization header ("Bearer", any case), or, for a
// POST whose body is application/x-www-form-urlencoded, from the body's
// access_token parameter (section 2.2). A token in the query string
// (section 2.3) is refused, because URLs end up in logs and browser
// history; so is a request that uses two methods at once (section 2:
// clients "MUST NOT use more than one method") or repeats access_token.
// On failure it has answered, with 401 when no token was sent and 400 for
// a malformed request, and returns false.
func bearerToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.URL.Query().Has("access_token") {
		writeBearerError(w, http.StatusBadRequest, "invalid_request", "Send the access token in the Authorization header or in a form-encoded POST body, not in the query string.")
		return "", false
	}
	var fromHeader, fromBody string
	header := r.Header.Get("Authorization")
	if header != "" {
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			writeBearerError(w, http.StatusUnauthorized, "invalid_request", "The Authorization header must be Bearer followed by the access token.")
			return "", false
		}
		fromHeader = strings.TrimSpace(token)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil { // checkInput has bounded and parsed it
			writeBearerError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded and at most 64 KiB.")
			return "", false
		}
		switch vs := r.PostForm["access_token"]; {
		case len(vs) > 1:
			writeBearerError(w, http.StatusBadRequest, "invalid_request", "The access_token parameter is sent more than once; send it once.")
			return "", false
		case len(vs) == 1 && vs[0] == "":
			writeBearerError(w, http.StatusBadRequest, "invalid_request", "The access_token parameter is empty.")
			return "", false
		case len(vs) == 1:
			fromBody = vs[0]
		}
	}
	switch {
	case fromHeader != "" && fromBody != "":
		writeBearerError(w, http.StatusBadRequest, "invalid_request", "The access token is sent both in the Authorization header and in the body; use one of them (RFC 6750 section 2).")
		return "", false
	case fromHeader != "":
		return fromHeader, true
	case fromBody != "":
		return fromBody, true
	}
	writeBearerError(w, http.StatusUnauthorized, "invalid_request", "Send the access token in an Authorization: Bearer header, or as access_token in a form-encoded POST body.")
	return "", false
}
