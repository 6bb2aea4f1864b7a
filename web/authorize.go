package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// Scopes Gatehouse understands in an authorization request.
var knownScopes = []string{"openid", "profile", "email", "offline_access"}

// userinfoURL is the audience of access tokens issued for OpenID scopes.
func (s *server) userinfoURL(t *gatehouse.Tenant) string {
	return gatehouse.TenantURL(s.PublicURL, t.Name) + "/oidc/userinfo"
}

// matchRedirectURI returns the registered redirect URI that uri matches:
// exactly, or for an http loopback URI, exactly but for the port (AS-1,
// RFC 8252 section 7.3).
func matchRedirectURI(app *gatehouse.Application, uri string) bool {
	all := slices.Concat(app.WebRedirectURIs, app.SPARedirectURIs, app.PublicClientRedirectURIs)
	if slices.Contains(all, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !gatehouse.IsLoopbackHost(u.Hostname()) || gatehouse.ValidateRedirectURI("redirect_uri", uri) != nil {
		return false
	}
	for _, reg := range all {
		ru, err := url.Parse(reg)
		if err != nil || ru.Scheme != "http" || ru.Hostname() != u.Hostname() {
			continue
		}
		// The path as sent, escapes included: /c%62 is not /cb.
		if ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery && ru.ForceQuery == u.ForceQuery && ru.User == nil {
			return true
		}
	}
	return false
}

// authError is an error the authorization endpoint reports to the client
// by redirect, once the redirect URI is known to be registered.
type authError struct {
	code, description string
}

// redirectWith sends the browser to the client's redirect URI with params,
// state and iss added (AS-8), with 303 so that a POST is never replayed
// (AS-11).
func (s *server) redirectWith(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, redirectURI, state string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The application's redirect URI is not valid.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", gatehouse.IssuerURL(s.PublicURL, t.Name))
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *server) redirectError(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, redirectURI, state string, e authError) {
	s.redirectWith(w, r, t, redirectURI, state, url.Values{"error": {e.code}, "error_description": {e.description}})
}

// parseAuthorizeParams validates everything of an authorization request
// after client_id and redirect_uri. adminScope is the tenant's admin API
// scope, which apps granted Directory.AccessAsUser.All may request.
func parseAuthorizeParams(f url.Values, app *gatehouse.Application, adminScope string) (*gatehouse.AuthRequest, *authError) {
	ar := &gatehouse.AuthRequest{
		ClientID: app.AppID, RedirectURI: f.Get("redirect_uri"), State: f.Get("state"), Nonce: f.Get("nonce"),
		LoginHint: f.Get("login_hint"), ACRValues: f.Get("acr_values"), UILocales: f.Get("ui_locales"), MaxAge: -1,
		ResponseMode: "query",
	}
	// Lengths first: no error response carries an oversized value.
	for _, p := range authorizeParamLimits {
		if len(f.Get(p.name)) > p.max {
			return nil, &authError{"invalid_request", "The " + p.name + " parameter is longer than " + strconv.Itoa(p.max) + " bytes."}
		}
	}
	if f.Has("request") {
		return nil, &authError{"request_not_supported", "Request objects (the request parameter) are not supported."}
	}
	if f.Has("request_uri") {
		return nil, &authError{"request_uri_not_supported", "The request_uri parameter is not supported."}
	}
	if f.Has("claims") {
		return nil, &authError{"invalid_request", "The claims parameter is not supported; request claims with scopes (profile, email)."}
	}
	switch rt := f.Get("response_type"); rt {
	case "code":
	case "":
		return nil, &authError{"invalid_request", "The response_type parameter is missing; use code."}
	default:
		return nil, &authError{"unsupported_response_type", "The response_type " + quote(rt) + " is not supported; use code (the implicit and hybrid flows are not offered)."}
	}
	switch rm := f.Get("response_mode"); rm {
	case "", "query":
	default:
		return nil, &authError{"invalid_request", "The response_mode " + quote(rm) + " is not supported; use query."}
	}
	scopes := strings.Fields(f.Get("scope"))
	if !slices.Contains(scopes, "openid") {
		return nil, &authError{"invalid_scope", "The scope must include openid."}
	}
	for _, sc := range scopes {
		switch {
		case slices.Contains(knownScopes, sc):
		case sc == adminScope && !app.AdminAPIDelegated:
			return nil, &authError{"invalid_scope", "The application may not call the admin API on behalf of users: an administrator must grant it the delegated permission " +
				gatehouse.DirectoryAccessAsUser.Value + " (requiredResourceAccess)."}
		case sc == adminScope:
		case strings.HasPrefix(sc, strings.TrimSuffix(adminScope, ".default")):
			return nil, &authError{"invalid_scope", "The scope " + quote(sc) + " is not supported; request the admin API as " + adminScope + "."}
		default:
			return nil, &authError{"invalid_scope", "The scope " + quote(sc) + " is not supported; use openid, profile, email, offline_access and " + adminScope + "."}
		}
	}
	ar.Scope = strings.Join(dedupe(scopes), " ")
	ar.CodeChallenge, ar.CodeChallengeMethod = f.Get("code_challenge"), f.Get("code_challenge_method")
	switch {
	case ar.CodeChallenge == "" && ar.CodeChallengeMethod != "":
		return nil, &authError{"invalid_request", "code_challenge_method was sent without code_challenge."}
	case ar.CodeChallenge != "" && ar.CodeChallengeMethod != "S256":
		return nil, &authError{"invalid_request", "The code_challenge_method must be S256 (plain is not allowed)."}
	case ar.CodeChallenge != "" && !validChallenge(ar.CodeChallenge):
		return nil, &authError{"invalid_request", "The code_challenge must be the 43-character base64url SHA-256 of the code verifier."}
	case ar.CodeChallenge == "" && app.IsFallbackPublicClient:
		return nil, &authError{"invalid_request", "PKCE is required for public clients: send code_challenge with code_challenge_method=S256."}
	case ar.CodeChallenge == "" && app.RequirePKCE:
		return nil, &authError{"invalid_request", "This application requires PKCE: send code_challenge with code_challenge_method=S256."}
	}
	prompts := strings.Fields(f.Get("prompt"))
	for _, p := range prompts {
		switch p {
		case "none", "login", "consent", "select_account":
		default:
			return nil, &authError{"invalid_request", "The prompt value " + quote(p) + " is not supported; use none, login, consent or select_account."}
		}
	}
	if slices.Contains(prompts, "none") && len(prompts) > 1 {
		return nil, &authError{"invalid_request", "prompt=none cannot be combined with other prompt values."}
	}
	ar.Prompt = strings.Join(prompts, " ")
	if v := f.Get("max_age"); v != "" {
		n, ok := parseMaxAge(v)
		if !ok {
			return nil, &authError{"invalid_request", "max_age must be a whole number of seconds, such as 0 or 3600."}
		}
		ar.MaxAge = n
	}
	return ar, nil
}

// maxStateLength bounds the state parameter; a longer state is never
// reflected, not even in the error that refuses it.
const maxStateLength = 2048

// authorizeParamLimits are the longest values of the authorization
// request's free-text parameters, in bytes.
var authorizeParamLimits = []struct {
	name string
	max  int
}{
	{"state", maxStateLength}, {"nonce", 512}, {"login_hint", 320}, {"ui_locales", 256}, {"acr_values", 256},
	{"scope", 2048}, {"prompt", 128}, {"response_type", 64}, {"response_mode", 64},
}

// maxMaxAge caps max_age: no session lives longer than SessionLifetime, so
// a longer max_age accepts every live session, as this one does.
const maxMaxAge = int(SessionLifetime / time.Second)

// parseMaxAge parses max_age, digits only, capped at maxMaxAge (so that
// neither int64 nor time.Duration overflows).
func parseMaxAge(v string) (int, bool) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > uint64(maxMaxAge) { // all digits: only ErrRange is left
		return maxMaxAge, true
	}
	return int(n), true
}

func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func dedupe(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// handleAuthorize is the authorization endpoint (GET and POST, OP-4). The
// client and redirect URI are checked first; until both are known good,
// errors are shown on a page and never redirected (AS-1). A live session
// that satisfies prompt and max_age gets a code at once (single sign-on);
// otherwise the browser goes to the hosted sign-in pages, or, with
// prompt=none, back to the client with login_required (OP-2).
// prompt=consent needs no page: an application's permissions are granted
// by administrators, and that prior consent satisfies it (OIDC Core
// 3.1.2.1 lets the provider rely on consent it already has).
func (s *server) handleAuthorize() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, http.StatusBadRequest, "The sign-in request could not be read.")
			return
		}
		f := r.Form
		clientID := f.Get("client_id")
		if clientID == "" {
			s.renderError(w, r, http.StatusBadRequest, "The sign-in request has no client_id, so we can't tell which application sent you here.")
			return
		}
		app, err := s.Store.ApplicationByAppID(r.Context(), t.ID, clientID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			s.renderError(w, r, http.StatusBadRequest, "The application that sent you here ("+clientID+") is not registered with "+tenantDisplayName(t)+".")
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		redirectURI := f.Get("redirect_uri")
		if redirectURI == "" {
			s.renderError(w, r, http.StatusBadRequest, "The sign-in request has no redirect_uri.")
			return
		}
		if !matchRedirectURI(app, redirectURI) {
			s.renderError(w, r, http.StatusBadRequest, "The application asked to return you to an address it has not registered ("+redirectURI+"). For your safety, we won't send you there.")
			return
		}
		ar, aerr := parseAuthorizeParams(f, app, gatehouse.AdminAPIScope(s.PublicURL, t.Name))
		if aerr != nil {
			state := f.Get("state")
			if len(state) > maxStateLength {
				state = ""
			}
			s.redirectError(w, r, t, redirectURI, state, *aerr)
			return
		}
		flow, err := s.Store.UserFlowByAppID(r.Context(), t.ID, app.AppID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			if ar.Prompt == "none" {
				s.redirectError(w, r, t, redirectURI, ar.State, authError{"interaction_required", "The application is not connected to a sign-in user flow."})
				return
			}
			s.renderError(w, r, http.StatusBadRequest, app.DisplayName+" is not connected to a sign-up and sign-in user flow yet, so you can't sign in to it. Its administrator can add it to a user flow.")
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		sess, user, err := s.currentSession(r, t)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		hintSub := ""
		if hint := f.Get("id_token_hint"); hint != "" {
			c, err := s.Keys.VerifyIDTokenHint(r.Context(), t.ID, gatehouse.IssuerURL(s.PublicURL, t.Name), hint)
			if err != nil {
				s.redirectError(w, r, t, redirectURI, ar.State, authError{"invalid_request", "The id_token_hint was not issued by this tenant."})
				return
			}
			hintSub = c.Subject
		}
		now := s.Now()
		// prompt=login and prompt=select_account show the sign-in page
		// despite a session: the user authenticates again, or signs in
		// with another account. max_age=0 asks for a new authentication
		// whatever the session's age, exactly as prompt=login does (OIDC
		// Core errata set 2, section 3.1.2.1): a clock that has not moved
		// is no exception.
		prompts := strings.Fields(ar.Prompt)
		needLogin := sess == nil || slices.Contains(prompts, "login") || slices.Contains(prompts, "select_account") || ar.MaxAge == 0 ||
			(ar.MaxAge > 0 && now.Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second) ||
			(hintSub != "" && hintSub != user.ID) // the hint names someone else (OIDC Core 3.1.2.1)
		if !needLogin {
			s.issueCode(w, r, t, ar, user, sess)
			return
		}
		if ar.Prompt == "none" {
			s.redirectError(w, r, t, redirectURI, ar.State, authError{"login_required", "The user must sign in (prompt=none was requested)."})
			return
		}
		if ar.LoginHint == "" && user != nil {
			ar.LoginHint = user.Mail
		}
		// Each authorization request is stored for a while: bound them per
		// client address, as the sign-in attempts are.
		n, err := s.hitLimit(r, t, "authz-ip:"+rateIP(r))
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if n > authRequestsPerIP {
			w.Header().Set("Retry-After", "60")
			s.renderError(w, r, http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait a few minutes and try again.")
			return
		}
		ar.TenantID = t.ID
		ar.BrowserBinding = s.browserBinding(w, r, t.Name)
		ar.Step = "start"
		ar.CreatedAt = now
		ar.ExpiresAt = now.Add(AuthRequestLifetime)
		if err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error { return tx.CreateAuthRequest(r.Context(), ar) }); err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		start := "/login"
		if flow.IdentityProvider == gatehouse.IdentityProviderEmailOTP {
			start = "/login/email"
		}
		http.Redirect(w, r, gatehouse.TenantURL(s.PublicURL, t.Name)+start+"?tx="+url.QueryEscape(ar.ID), http.StatusSeeOther)
	})
}

// completeSignIn finishes an authorization request whose user has just
// authenticated with the methods amr: it starts a new session (a new ID at
// every sign-in, SE-2; the browser's previous session with the tenant
// ends) and sends the browser back to the client with a code.
func (s *server) completeSignIn(w http.ResponseWriter, r *http.Request, ar *gatehouse.AuthRequest, u *gatehouse.User, amr []string) {
	t := tenantFrom(r.Context())
	now := s.Now()
	secret := randomSecret()
	sess := &gatehouse.Session{
		ID: sha256Hex(secret), TenantID: t.ID, UserID: u.ID, AuthTime: now, AMR: amr, ACR: acrFor(amr),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime),
	}
	var old string
	if c, err := r.Cookie(s.sessionCookieName(t.Name)); err == nil && len(c.Value) >= 43 {
		old = sha256Hex(c.Value)
	}
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		sess.SID = newUUID()
		if old != "" {
			// The same user signing in again keeps the browser's SID, so
			// that signing out later ends the grants of both sessions.
			if prev, err := tx.Session(r.Context(), t.ID, old); err == nil && prev.UserID == u.ID {
				sess.SID = prev.SID
			}
			if err := tx.DeleteSession(r.Context(), t.ID, old); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		// Deleting the request is what makes it single use: of concurrent
		// completions, only the one that deletes it goes on.
		if err := tx.DeleteAuthRequest(r.Context(), t.ID, ar.ID); err != nil {
			return err
		}
		return tx.CreateSession(r.Context(), sess)
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		s.renderError(w, r, http.StatusConflict, "This sign-in was already completed. Go back to the application.")
		return
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	s.setCookie(w, s.sessionCookieName(t.Name), secret, 0)
	s.Logger.InfoContext(r.Context(), "sign-in", "tenant", t.Name, "user_id", u.ID, "client_id", ar.ClientID, "amr", strings.Join(amr, " "), "correlation_id", correlationID(r.Context()))
	s.issueCode(w, r, t, ar, u, sess)
}

// acrFor names the authentication context class of a set of methods:
// "1" for one factor (Gatehouse's only level until MFA lands).
func acrFor(amr []string) string { return "1" }

// issueCode creates the grant and its single-use code for an authorized
// request and redirects to the client.
func (s *server) issueCode(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, ar *gatehouse.AuthRequest, u *gatehouse.User, sess *gatehouse.Session) {
	now := s.Now()
	code, hash, err := oidc.NewOpaqueToken()
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	g := &gatehouse.Grant{
		ID: newUUID(), TenantID: t.ID, UserID: u.ID, ClientID: ar.ClientID, SessionID: sess.SID,
		Scope: ar.Scope, Nonce: ar.Nonce, AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: sess.ACR,
		CreatedAt: now, ExpiresAt: now.Add(oidc.RefreshTokenLifetime),
	}
	payload, _ := json.Marshal(oidc.CodePayload{GrantID: g.ID, ClientID: ar.ClientID, RedirectURI: ar.RedirectURI,
		CodeChallenge: ar.CodeChallenge, CodeChallengeMethod: ar.CodeChallengeMethod})
	err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		if _, err := tx.UpdateSession(r.Context(), t.ID, sess.ID, func(se *gatehouse.Session) error {
			se.LastSeenAt = now
			return nil
		}); err != nil {
			return err
		}
		if err := tx.CreateGrant(r.Context(), g); err != nil {
			return err
		}
		return tx.CreateOneTime(r.Context(), &gatehouse.OneTime{TenantID: t.ID, Kind: oidc.CodeKind, Key: hash, Payload: payload, ExpiresAt: now.Add(oidc.CodeLifetime)})
	})
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	s.redirectWith(w, r, t, ar.RedirectURI, ar.State, url.Values{"code": {code}})
}

func tenantDisplayName(t *gatehouse.Tenant) string {
	if t.DisplayName != "" {
		return t.DisplayName
	}
	return t.Name
}

// authRequestsPerIP bounds the authorization requests one client address
// may start in authRequestWindow.
const (
	authRequestsPerIP = 600
	authRequestWindow = 5 * time.Minute
)

// hitLimit counts one event under key for the tenant in the window of the
// authorization request limit and returns the count so far.
func (s *server) hitLimit(r *http.Request, t *gatehouse.Tenant, key string) (int, error) {
	var n int
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		var err error
		n, err = tx.Hit(r.Context(), t.ID, key, authRequestWindow, s.Now())
		return err
	})
	return n, err
}
