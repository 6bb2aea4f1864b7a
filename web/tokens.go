package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenClient authenticates the client of a token, revocation or
// introspection request: a confidential client with its secret (AS-7), a
// public client by its client_id alone (it proves itself with PKCE).
func (s *server) tokenClient(r *http.Request) (*gatehouse.Application, *oauthError) {
	_, _, basic := r.BasicAuth()
	if basic || r.PostForm.Get("client_secret") != "" {
		return s.authenticateClient(r)
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		return nil, &oauthError{Code: "invalid_client", Description: "Client authentication is required: send client_id (public clients) or use client_secret_basic or client_secret_post.", status: http.StatusUnauthorized}
	}
	app, err := s.Store.ApplicationByAppID(r.Context(), tenantFrom(r.Context()).ID, id)
	if err != nil || !app.IsFallbackPublicClient {
		return nil, &oauthError{Code: "invalid_client", Description: "Client authentication failed: unknown client, or a confidential client without its secret.", status: http.StatusUnauthorized}
	}
	return app, nil
}

// tokenResponse is a successful token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// grantAuthorizationCode redeems a code (AS-3, AS-5): single use (a second
// redemption revokes everything the first issued), bound to the client,
// the redirect URI and the PKCE challenge.
func (s *server) grantAuthorizationCode(w http.ResponseWriter, r *http.Request) {
	t := tenantFrom(r.Context())
	app, oe := s.tokenClient(r)
	if oe != nil {
		s.writeOAuthError(w, r, oe)
		return
	}
	code := r.PostForm.Get("code")
	if code == "" {
		s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The code parameter is missing."})
		return
	}
	now := s.Now()
	var (
		grant   *gatehouse.Grant
		user    *gatehouse.User
		refresh string
		bad     *oauthError
	)
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		bad, refresh = nil, ""
		item, err := tx.ConsumeOneTime(r.Context(), t.ID, oidc.CodeKind, oidc.HashToken(code), now)
		var p oidc.CodePayload
		if item != nil {
			if jerr := json.Unmarshal(item.Payload, &p); jerr != nil {
				return jerr
			}
		}
		if item != nil && p.ClientID != app.AppID {
			// Another client may neither burn the code nor revoke what it
			// issued: roll back.
			bad = &oauthError{Code: "invalid_grant", Description: "The authorization code was issued to another client."}
			return errRollback
		}
		switch gatehouse.ErrorCode(err) {
		case "":
		case gatehouse.ECONFLICT:
			if err := tx.RevokeGrant(r.Context(), t.ID, p.GrantID, now); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
			s.Logger.WarnContext(r.Context(), "authorization code reused; grant revoked", "tenant", t.Name, "client_id", app.AppID, "grant_id", p.GrantID)
			bad = &oauthError{Code: "invalid_grant", Description: "The authorization code has already been used; the tokens issued with it have been revoked."}
			return nil // commit the revocation
		case gatehouse.ENOTFOUND:
			bad = &oauthError{Code: "invalid_grant", Description: "The authorization code is not valid or has expired."}
			return nil
		default:
			return err
		}
		switch {
		case r.PostForm.Get("redirect_uri") != p.RedirectURI:
			bad = &oauthError{Code: "invalid_grant", Description: "The redirect_uri does not match the one of the authorization request."}
		case p.CodeChallenge == "" && r.PostForm.Has("code_verifier"):
			bad = &oauthError{Code: "invalid_grant", Description: "A code_verifier was sent, but the authorization request had no code_challenge."}
		case p.CodeChallenge != "" && r.PostForm.Get("code_verifier") == "":
			bad = &oauthError{Code: "invalid_grant", Description: "The code_verifier is missing (the authorization request used PKCE)."}
		case p.CodeChallenge != "" && !oidc.VerifyPKCE(p.CodeChallenge, p.CodeChallengeMethod, r.PostForm.Get("code_verifier")):
			bad = &oauthError{Code: "invalid_grant", Description: "The code_verifier does not match the code_challenge."}
		}
		if bad != nil {
			return nil // the code stays consumed
		}
		if grant, err = tx.Grant(r.Context(), t.ID, p.GrantID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			// The user or the application was deleted meanwhile.
			bad = &oauthError{Code: "invalid_grant", Description: "The sign-in this code belongs to no longer exists."}
			return nil
		} else if err != nil {
			return err
		}
		if user, bad, err = liveGrantUser(r.Context(), tx, grant); bad != nil || err != nil {
			return err
		}
		if hasScope(grant.Scope, "offline_access") {
			if refresh, err = newRefreshToken(r.Context(), tx, grant, now); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errRollback) && bad != nil, err == nil && bad != nil:
		s.writeOAuthError(w, r, bad)
		return
	case err != nil:
		s.writeOAuthError(w, r, err)
		return
	}
	s.writeTokens(w, r, app, grant, user, refresh, grant.Scope, true)
}

// grantRefreshToken rotates a refresh token (AS-6): the presented token is
// used up and a new one issued; presenting a used token again revokes the
// whole grant.
func (s *server) grantRefreshToken(w http.ResponseWriter, r *http.Request) {
	t := tenantFrom(r.Context())
	app, oe := s.tokenClient(r)
	if oe != nil {
		s.writeOAuthError(w, r, oe)
		return
	}
	presented := r.PostForm.Get("refresh_token")
	if presented == "" {
		s.writeOAuthError(w, r, &oauthError{Code: "invalid_request", Description: "The refresh_token parameter is missing."})
		return
	}
	now := s.Now()
	var (
		grant   *gatehouse.Grant
		user    *gatehouse.User
		refresh string
		scope   string
		bad     *oauthError
		// refused is the Conditional Access evaluation of a refresh that
		// its policies refused, for the sign-in log.
		refused *caSignIn
	)
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		bad, refresh, refused = nil, "", nil
		rt, err := tx.UseRefreshToken(r.Context(), t.ID, oidc.HashToken(presented), now)
		switch gatehouse.ErrorCode(err) {
		case "":
		case gatehouse.ECONFLICT:
			g, gerr := tx.Grant(r.Context(), t.ID, rt.GrantID)
			if gerr != nil || g.ClientID != app.AppID {
				bad = &oauthError{Code: "invalid_grant", Description: "The refresh token is not valid."}
				return errRollback
			}
			if err := tx.RevokeGrant(r.Context(), t.ID, rt.GrantID, now); err != nil {
				return err
			}
			s.Logger.WarnContext(r.Context(), "refresh token reused; grant revoked", "tenant", t.Name, "client_id", app.AppID, "grant_id", rt.GrantID)
			bad = &oauthError{Code: "invalid_grant", Description: "The refresh token has already been used; every token of its sign-in has been revoked."}
			return nil // commit the revocation
		case gatehouse.ENOTFOUND:
			bad = &oauthError{Code: "invalid_grant", Description: "The refresh token is not valid or has expired."}
			return nil
		default:
			return err
		}
		if grant, err = tx.Grant(r.Context(), t.ID, rt.GrantID); err != nil {
			return err
		}
		if grant.ClientID != app.AppID {
			// Leave the token untouched: another client cannot burn it.
			bad = &oauthError{Code: "invalid_grant", Description: "The refresh token was issued to another client."}
			return errRollback
		}
		if user, bad, err = liveGrantUser(r.Context(), tx, grant); bad != nil || err != nil {
			return err
		}
		why, c, err := s.refreshRefusal(r, tx, t, app, grant, user)
		if err != nil {
			return err
		}
		if why != "" {
			bad, refused = &oauthError{Code: "invalid_grant", Description: why}, c
			return errRollback
		}
		scope = grant.Scope
		if sc := r.PostForm.Get("scope"); sc != "" {
			for _, want := range strings.Fields(sc) {
				if !hasScope(grant.Scope, want) {
					bad = &oauthError{Code: "invalid_scope", Description: "The scope " + quote(want) + " was not granted originally."}
					return errRollback
				}
			}
			// A narrower scope applies to the tokens of this response; the
			// grant, and so the next refresh, keeps the original one.
			scope = strings.Join(dedupe(strings.Fields(sc)), " ")
		}
		refresh, err = newRefreshToken(r.Context(), tx, grant, now)
		return err
	})
	if refused != nil {
		// A refresh refused by the policies is in the sign-in log, as a
		// non-interactive sign-in (those that succeed are not logged).
		s.logSignIn(r.Context(), s.signInEntry(r, t, refused, user, user.Mail, gatehouse.CarriedOver(grant.Methods), nil,
			refusalStatus(refused, user, refusedCode(refused), bad.Description), false))
	}
	switch {
	case errors.Is(err, errRollback) && bad != nil, err == nil && bad != nil:
		s.writeOAuthError(w, r, bad)
		return
	case err != nil:
		s.writeOAuthError(w, r, err)
		return
	}
	s.writeTokens(w, r, app, grant, user, refresh, scope, false)
}

// refusedCode is the OAuth error a refused refresh stands for: blocked,
// or the user must sign in again.
func refusedCode(c *caSignIn) string {
	if c.decision.Blocked != nil {
		return "access_denied"
	}
	return "interaction_required"
}

// errRollback aborts a transaction whose caller has set its own answer.
var errRollback = errors.New("rollback")

// grantUser returns the user of a grant that still stands and whose user
// may still sign in (SE-6); otherwise why not, in words for the client, or
// the store's error. Every token of a sign-in, at the token endpoint,
// userinfo and the admin API, counts only while this holds.
func grantUser(ctx context.Context, rd gatehouse.Reader, g *gatehouse.Grant) (*gatehouse.User, string, error) {
	if g.Revoked() {
		return nil, "The sign-in these tokens belong to has ended (signed out or revoked).", nil
	}
	u, err := rd.User(ctx, g.TenantID, g.UserID)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND, err == nil && !u.AccountEnabled:
		return nil, "The user's account no longer exists or is disabled.", nil
	case err != nil:
		return nil, "", err
	}
	return u, "", nil
}

// liveGrantUser is grantUser for the token endpoint, inside its
// transaction: a grant that no longer counts is invalid_grant.
func liveGrantUser(ctx context.Context, tx gatehouse.Tx, g *gatehouse.Grant) (*gatehouse.User, *oauthError, error) {
	u, why, err := grantUser(ctx, tx, g)
	if why != "" {
		return nil, &oauthError{Code: "invalid_grant", Description: why}, nil
	}
	return u, nil, err
}

func newRefreshToken(ctx context.Context, tx gatehouse.Tx, g *gatehouse.Grant, now time.Time) (string, error) {
	token, hash, err := oidc.NewOpaqueToken()
	if err != nil {
		return "", err
	}
	return token, tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: hash, TenantID: g.TenantID, GrantID: g.ID, CreatedAt: now, ExpiresAt: g.ExpiresAt})
}

func hasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// writeTokens signs and sends the access token and ID token of a grant.
func (s *server) writeTokens(w http.ResponseWriter, r *http.Request, app *gatehouse.Application, g *gatehouse.Grant, u *gatehouse.User, refresh, scope string, withNonce bool) {
	t := tenantFrom(r.Context())
	now := s.Now()
	issuer := gatehouse.IssuerURL(s.PublicURL, t.Name)
	at := oidc.NewAccessToken(issuer, s.userinfoURL(t), u.ID, app.AppID, t.ID, now)
	if adminScope := gatehouse.AdminAPIScope(s.PublicURL, t.Name); hasScope(scope, adminScope) {
		if app.AdminAPIDelegated {
			// A token for the admin API on behalf of the user; it also
			// serves userinfo, as an Entra token for Graph does.
			at.Audience = jwt.Audience{gatehouse.AdminAPIURL(s.PublicURL, t.Name), s.userinfoURL(t)}
		} else {
			// The permission was removed since the sign-in: the tokens
			// are for the rest of the scope, and the response says so.
			scope = strings.Join(slices.DeleteFunc(strings.Fields(scope), func(sc string) bool { return sc == adminScope }), " ")
		}
	}
	at.Scope, at.IDType, at.GrantID = scope, "user", g.ID
	at.AuthTime, at.AMR, at.ACR = jwt.NewNumericDate(g.AuthTime), g.AMR, g.ACR
	access, err := s.Keys.Sign(r.Context(), t.ID, t.AccessTokenAlg(app), oidc.AccessTokenType, at)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	idc := s.idTokenClaims(t, app, g, u, scope, now)
	if withNonce {
		idc.Nonce = g.Nonce
	}
	alg := t.IDTokenAlg(app)
	idc.AccessTokenHash = oidc.AccessTokenHash(alg, access)
	idToken, err := s.Keys.Sign(r.Context(), t.ID, alg, oidc.IDTokenType, idc)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	grantType := r.PostForm.Get("grant_type")
	s.metrics.tokensIssued.WithLabelValues(grantType).Inc()
	w.Header().Set("Pragma", "no-cache")
	encode(w, http.StatusOK, tokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(oidc.AccessTokenLifetime.Seconds()),
		Scope: scope, IDToken: idToken, RefreshToken: refresh,
	})
}

// idTokenClaims builds the ID token of a grant (OP-1): amr, acr and
// auth_time always, and the claims about the user that the granted scopes
// release (profile, email, address), as userinfo returns them.
func (s *server) idTokenClaims(t *gatehouse.Tenant, app *gatehouse.Application, g *gatehouse.Grant, u *gatehouse.User, scope string, now time.Time) *oidc.IDTokenClaims {
	return &oidc.IDTokenClaims{
		Issuer: gatehouse.IssuerURL(s.PublicURL, t.Name), Subject: u.ID, Audience: jwt.Audience{app.AppID},
		Expiry: jwt.NewNumericDate(now.Add(oidc.IDTokenLifetime)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		AuthTime: jwt.NewNumericDate(g.AuthTime), ACR: g.ACR, AMR: g.AMR, AZP: app.AppID, TenantID: t.ID,
		SessionID:  g.SessionID,
		UserClaims: oidc.ReleasedClaims(scope, oidc.LoadClaimsRequest(g.Claims).Requested("id_token"), u),
	}
}
