package web

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// userinfoResponse holds the claims userinfo returns.
type userinfoResponse struct {
	Subject string `json:"sub"`
	oidc.UserClaims
}

// writeBearerError answers a protected-resource request whose token was
// refused (RFC 6750 section 3).
func writeBearerError(w http.ResponseWriter, status int, code, description string) {
	description = oauthText(description)
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+description+`"`)
	encode(w, status, map[string]string{"error": code, "error_description": description})
}

// handleUserinfo is the userinfo endpoint, by GET and POST with a bearer
// token in the Authorization header (OP-8), or by POST with the token in a
// form-encoded body (RFC 6750 section 2.2; bearerToken). The token must be
// a user's access token of this tenant (TK-1, TK-2) whose grant still
// stands and whose user is still enabled.
func (s *server) handleUserinfo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		token, ok := bearerToken(w, r)
		if !ok {
			return
		}
		c, err := s.Keys.VerifyAccessToken(r.Context(), t.ID, gatehouse.IssuerURL(s.PublicURL, t.Name), s.userinfoURL(t), token)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
				writeBearerError(w, http.StatusUnauthorized, "invalid_token", gatehouse.ErrorMessage(err))
				return
			}
			s.writeAPIError(w, r, err)
			return
		}
		g, u, err := s.liveTokenGrant(r, t, c)
		if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
			writeBearerError(w, http.StatusUnauthorized, "invalid_token", gatehouse.ErrorMessage(err))
			return
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		requested := oidc.LoadClaimsRequest(g.Claims).Requested("userinfo")
		encode(w, http.StatusOK, userinfoResponse{Subject: u.ID, UserClaims: oidc.ReleasedClaims(c.Scope, requested, u)})
	})
}

// liveTokenUser returns the user of a delegated access token whose grant
// still stands and whose user is enabled; otherwise an EUNAUTHORIZED error
// that says why the token no longer counts, or the store's error.
func (s *server) liveTokenUser(r *http.Request, t *gatehouse.Tenant, c *oidc.AccessTokenClaims) (*gatehouse.User, error) {
	_, u, err := s.liveTokenGrant(r, t, c)
	return u, err
}

// liveTokenGrant is liveTokenUser that also returns the token's grant.
func (s *server) liveTokenGrant(r *http.Request, t *gatehouse.Tenant, c *oidc.AccessTokenClaims) (*gatehouse.Grant, *gatehouse.User, error) {
	if c.IDType != "user" || c.GrantID == "" {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The access token was not issued for a user.")
	}
	g, err := s.Store.Grant(r.Context(), t.ID, c.GrantID)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return nil, nil, err
	}
	if err != nil || g.UserID != c.Subject || g.ClientID != c.ClientID {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The access token has been revoked.")
	}
	u, why, err := grantUser(r.Context(), s.Store, g)
	if why != "" {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "%s", why)
	}
	return g, u, err
}

// handleRevoke is the revocation endpoint (RFC 7009). Revoking a refresh
// token or an access token of a sign-in revokes the whole grant. It answers
// 200 whether or not the token was known, and never revokes another
// client's tokens.
func (s *server) handleRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		if !s.parseTokenForm(w, r) {
			return
		}
		app, oe := s.tokenClient(r)
		if oe != nil {
			s.writeOAuthError(w, r, oe)
			return
		}
		token := r.PostForm.Get("token")
		if token == "" {
			s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The token parameter is missing."})
			return
		}
		grantID := s.grantOfToken(r, t, app, token)
		if grantID != "" {
			err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
				return tx.RevokeGrant(r.Context(), t.ID, grantID, s.Now())
			})
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				s.writeOAuthError(w, r, err)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// grantOfToken returns the grant of a refresh token or a delegated access
// token, if it belongs to app; "" otherwise.
func (s *server) grantOfToken(r *http.Request, t *gatehouse.Tenant, app *gatehouse.Application, token string) string {
	if strings.Count(token, ".") == 2 {
		c, err := s.Keys.VerifyAccessToken(r.Context(), t.ID, gatehouse.IssuerURL(s.PublicURL, t.Name), s.userinfoURL(t), token)
		if err == nil && c.ClientID == app.AppID {
			return c.GrantID
		}
		return ""
	}
	g := s.refreshTokenGrant(r, t, token)
	if g != nil && g.ClientID == app.AppID {
		return g.ID
	}
	return ""
}

// refreshTokenGrant looks a refresh token up without using it: it reads
// inside a transaction that it then rolls back. It returns nil for an
// unknown, expired or already used token.
func (s *server) refreshTokenGrant(r *http.Request, t *gatehouse.Tenant, token string) *gatehouse.Grant {
	var g *gatehouse.Grant
	_ = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		rt, err := tx.UseRefreshToken(r.Context(), t.ID, oidc.HashToken(token), s.Now())
		if err == nil {
			g, _ = tx.Grant(r.Context(), t.ID, rt.GrantID)
		}
		return errRollback
	})
	return g
}

// handleIntrospect is the introspection endpoint (RFC 7662) for the
// client's own tokens; any other token is reported inactive.
func (s *server) handleIntrospect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		if !s.parseTokenForm(w, r) {
			return
		}
		app, oe := s.tokenClient(r)
		if oe != nil {
			s.writeOAuthError(w, r, oe)
			return
		}
		token := r.PostForm.Get("token")
		inactive := map[string]any{"active": false}
		if token == "" {
			s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The token parameter is missing."})
			return
		}
		issuer := gatehouse.IssuerURL(s.PublicURL, t.Name)
		if strings.Count(token, ".") == 2 {
			c, err := s.Keys.VerifyAccessToken(r.Context(), t.ID, issuer, s.userinfoURL(t), token)
			if err != nil || c.ClientID != app.AppID {
				encode(w, http.StatusOK, inactive)
				return
			}
			if _, err := s.liveTokenUser(r, t, c); gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
				encode(w, http.StatusOK, inactive)
				return
			} else if err != nil {
				s.writeOAuthError(w, r, err)
				return
			}
			encode(w, http.StatusOK, map[string]any{
				"active": true, "token_type": "Bearer", "scope": c.Scope, "client_id": c.ClientID, "sub": c.Subject,
				"aud": c.Audience, "iss": c.Issuer, "exp": c.Expiry, "iat": c.IssuedAt, "jti": c.ID,
			})
			return
		}
		g := s.refreshTokenGrant(r, t, token)
		if g == nil || g.ClientID != app.AppID || g.Revoked() {
			encode(w, http.StatusOK, inactive)
			return
		}
		encode(w, http.StatusOK, map[string]any{
			"active": true, "token_type": "refresh_token", "scope": g.Scope, "client_id": g.ClientID, "sub": g.UserID,
			"iss": issuer, "exp": g.ExpiresAt.Unix(),
		})
	})
}

// parseTokenForm reads a form-encoded back-channel request body (token,
// revocation, introspection) of bounded size, with each parameter once;
// on failure it has answered.
func (s *server) parseTokenForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBody)
	if err := r.ParseForm(); err != nil {
		s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The request body must be application/x-www-form-urlencoded and at most 64 KiB."})
		return false
	}
	// Parameters must not be repeated (RFC 6749 section 3.2): which of two
	// values counts would be a guess.
	for _, k := range slices.Sorted(maps.Keys(r.PostForm)) {
		if n := len(r.PostForm[k]); n > 1 {
			s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The parameter " + k + " is sent " + strconv.Itoa(n) + " times; send each parameter once (RFC 6749 section 3.2)."})
			return false
		}
	}
	return true
}
