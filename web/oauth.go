package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// pragmaNoCache is the Pragma of token responses (RFC 6749 section 5.1),
// shared as the headers of middleware.go are.
var pragmaNoCache = []string{"no-cache"}

// maxTokenRequestBody bounds token endpoint requests.
const maxTokenRequestBody = 64 << 10

// oauthError is an OAuth 2.0 error response (RFC 6749 section 5.2).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
	basicAuth   bool
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

// writeOAuthError writes err as an OAuth error body. Domain errors are
// mapped onto OAuth codes; internal ones are logged and hidden.
func (s *server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		code := gatehouse.ErrorCode(err)
		oe = &oauthError{Code: "server_error", Description: gatehouse.ErrorMessage(err) + " Correlation ID: " + correlationID(r.Context()) + ".", status: statusByCode[code]}
		switch code {
		case gatehouse.EINVALID:
			oe.Code = "invalid_request"
		case gatehouse.ENOTFOUND:
			oe.Code, oe.Description = "invalid_request", gatehouse.ErrorMessage(err)
		case gatehouse.EBUSY:
			oe.Code = "temporarily_unavailable"
		case gatehouse.EINTERNAL:
			s.Logger.ErrorContext(r.Context(), "internal error", "err", err, "correlation_id", correlationID(r.Context()), "route", r.Pattern)
		}
	}
	if oe.status == 0 {
		oe.status = http.StatusBadRequest
	}
	oe.Description = oauthText(oe.Description)
	if oe.status == http.StatusUnauthorized && oe.basicAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+tenantFrom(r.Context()).Name+`", charset="UTF-8"`)
	}
	if oe.status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterBusy)
	}
	w.Header().Set("Pragma", "no-cache")
	encode(w, oe.status, oe)
}

// handleJWKS serves the tenant's public signing keys, including retired
// keys whose tokens may still be valid (OP-7).
func (s *server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := s.Keys.JWKS(r.Context(), tenantFrom(r.Context()).ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		// Relying parties may keep the set as long as new keys are
		// published before they sign (OP-7; Keys.JWKSMaxAge).
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.Keys.JWKSMaxAge()/time.Second)))
		encode(w, http.StatusOK, set)
	})
}

// handleToken is the token endpoint: the authorization code, refresh token
// and client credentials grants; every other grant is refused by name
// (AS-4).
func (s *server) handleToken() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseTokenForm(w, r) {
			return
		}
		if r.URL.RawQuery != "" {
			s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "Send token request parameters in the body, not the query string."})
			return
		}
		switch gt := r.PostForm.Get("grant_type"); gt {
		case "client_credentials":
			s.grantClientCredentials(w, r)
		case "authorization_code":
			s.grantAuthorizationCode(w, r)
		case "refresh_token":
			s.grantRefreshToken(w, r)
		case "":
			s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The grant_type parameter is missing."})
		case "password", "implicit":
			s.writeOAuthError(w, r, &oauthError{Code: "unsupported_grant_type", Description: "The " + gt + " grant is not supported: it is unsafe (OAuth 2.0 Security BCP)."})
		default:
			s.writeOAuthError(w, r, &oauthError{Code: "unsupported_grant_type", Description: "The grant type " + quote(gt) + " is not supported; this server supports authorization_code, refresh_token and client_credentials."})
		}
	})
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// authenticateClient applies client_secret_basic or client_secret_post
// (AS-7) and returns the application. A request using both, or neither, is
// refused.
func (s *server) authenticateClient(r *http.Request) (*gatehouse.Application, *oauthError) {
	c, oe := s.authenticatedClient(r)
	if oe != nil {
		return nil, oe
	}
	return c.app, nil
}

// authenticatedClient is authenticateClient with the application as the
// read cache holds it (cache.go), which must not be changed.
func (s *server) authenticatedClient(r *http.Request) (*cachedClient, *oauthError) {
	t := tenantFrom(r.Context())
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Has("client_secret") {
			return nil, &oauthError{Code: "invalid_request", Description: "Use one client authentication method: client_secret_basic or client_secret_post, not both."}
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &oauthError{Code: "invalid_client", Description: "The client credentials in the Authorization header are not form-encoded correctly.", status: http.StatusUnauthorized, basicAuth: true}
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return nil, &oauthError{Code: "invalid_request", Description: "client_id in the body does not match the Authorization header."}
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		if id == "" {
			return nil, &oauthError{Code: "invalid_client", Description: "Client authentication is required: use client_secret_basic or client_secret_post.", status: http.StatusUnauthorized, basicAuth: true}
		}
	}
	fail := &oauthError{Code: "invalid_client", Description: "Client authentication failed: unknown client or wrong secret.", status: http.StatusUnauthorized, basicAuth: basic}
	c, err := s.cache.client(r.Context(), s.Store, t.ID, id)
	if err != nil {
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, &oauthError{Code: "server_error", Description: "Client authentication could not be completed. Correlation ID: " + correlationID(r.Context()) + ".", status: http.StatusInternalServerError}
		}
		return nil, fail
	}
	if secret == "" || !oidc.AuthenticateClient(s.Vault, c.app, secret, s.Now()) {
		return nil, fail
	}
	return c, nil
}

// grantClientCredentials issues an application access token for the admin
// API (the only resource this release knows) carrying the app's granted
// permissions as roles.
func (s *server) grantClientCredentials(w http.ResponseWriter, r *http.Request) {
	t := tenantFrom(r.Context())
	c, oe := s.authenticatedClient(r)
	if oe != nil {
		s.writeOAuthError(w, r, oe)
		return
	}
	app := c.app
	if app.IsFallbackPublicClient {
		s.writeOAuthError(w, r, &oauthError{Code: "unauthorized_client", Description: "A public client cannot use the client credentials grant."})
		return
	}
	want := gatehouse.AdminAPIScope(s.PublicURL, t.Name)
	scope := strings.TrimSpace(r.PostForm.Get("scope"))
	if scope == "" {
		s.writeOAuthError(w, r, &oauthError{Code: "invalid_scope", Description: "The scope parameter is required; request " + quote(want) + "."})
		return
	}
	if scope != want {
		s.writeOAuthError(w, r, &oauthError{Code: "invalid_scope", Description: "The scope " + quote(scope) + " is not valid for the client credentials grant; request " + quote(want) + "."})
		return
	}
	now := s.Now()
	claims := oidc.NewAccessToken(gatehouse.IssuerURL(s.PublicURL, t.Name), gatehouse.AdminAPIURL(s.PublicURL, t.Name), app.ID, app.AppID, t.ID, now)
	claims.Roles = c.roles
	claims.IDType = "app"
	token, err := s.Keys.Sign(r.Context(), t.ID, t.AccessTokenAlg(app), oidc.AccessTokenType, claims)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	s.metrics.clientCredentialsIssued.Inc()
	w.Header()["Pragma"] = pragmaNoCache
	writeAccessToken(w, token, int(oidc.AccessTokenLifetime.Seconds()), want)
}

// writeAccessToken writes a successful token response with only an access
// token: the JSON of tokenResponse, put together directly. encoding/json
// would check every byte of the token for characters to escape, a twentieth
// of the token endpoint's time, where a JWS has none (RFC 7515: base64url
// and dots); the scope is encoded by encoding/json.
func writeAccessToken(w http.ResponseWriter, token string, expiresIn int, scope string) {
	if !isCompactJWS(token) {
		encode(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: expiresIn, Scope: scope})
		return
	}
	b := make([]byte, 0, len(token)+len(scope)+80)
	b = append(b, `{"access_token":"`...)
	b = append(b, token...)
	b = append(b, `","token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, int64(expiresIn), 10)
	if scope != "" {
		b = append(b, `,"scope":`...)
		b = append(b, quote(scope)...)
	}
	b = append(b, "}\n"...)
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// isCompactJWS reports whether s holds only the characters of a JWS
// compact serialization: base64url and dots.
func isCompactJWS(s string) bool {
	for i := 0; i < len(s); i++ {
		if !jwsChar[s[i]] {
			return false
		}
	}
	return true
}

// jwsChar holds the bytes of a JWS compact serialization: a table, since
// isCompactJWS reads every byte of every token the endpoint writes.
var jwsChar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	return t
}()
