package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/signin"
)

// userinfoURL is the audience of access tokens issued for OpenID scopes.
func (s *server) userinfoURL(t *gatehouse.Tenant) string {
	return gatehouse.TenantURL(s.PublicURL, t.Name) + "/oidc/userinfo"
}

// matchRedirectURI reports whether uri is one of the app's registered
// redirect URIs: exactly (AS-1), or, for an http loopback URI registered
// on the public client (mobile and desktop) platform, exactly but for the
// port, which native apps take from the operating system when they start
// (RFC 8252 section 7.3). Web and single-page app URIs match exactly,
// port included: a web app's port is part of its address, and another
// program on the same machine could listen on any other.
func matchRedirectURI(app *gatehouse.Application, uri string) bool {
	if slices.Contains(slices.Concat(app.WebRedirectURIs, app.SPARedirectURIs, app.PublicClientRedirectURIs), uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || !gatehouse.IsLoopbackHost(u.Hostname()) || gatehouse.ValidateRedirectURI("redirect_uri", uri) != nil {
		return false
	}
	for _, reg := range app.PublicClientRedirectURIs {
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
	s.redirectWith(w, r, t, redirectURI, state, url.Values{"error": {e.code}, "error_description": {oauthText(e.description)}})
}

// parseAuthorizeParams validates everything of an authorization request
// after client_id and redirect_uri. rs names the scopes of this server's
// resources, such as the tenant's admin API scope, which apps granted
// Directory.AccessAsUser.All may request (grantScopes).
func parseAuthorizeParams(f url.Values, app *gatehouse.Application, rs resourceScopes) (*gatehouse.AuthRequest, *authError) {
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
	if raw := f.Get("claims"); raw != "" {
		c, canon, err := oidc.ParseClaimsRequest(raw)
		if err != nil {
			return nil, &authError{"invalid_request", gatehouse.ErrorMessage(err)}
		}
		if essential, values, ok := c.ACR(); ok && essential && len(values) > 0 && !slices.ContainsFunc(values, func(v string) bool {
			_, known := gatehouse.LevelForACR(v)
			return known
		}) {
			// OP-5: an essential acr Gatehouse cannot give is refused,
			// never met with another one.
			return nil, &authError{signin.ErrUnmet, "None of the essential acr values " + quote(strings.Join(values, " ")) +
				" is supported; use " + strings.Join(gatehouse.ACRValues, ", ") + "."}
		}
		ar.Claims = canon
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
	scope, serr := grantScopes(strings.Fields(f.Get("scope")), app, rs)
	if serr != nil {
		return nil, serr
	}
	ar.Scope = scope
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
	{"scope", 2048}, {"prompt", 128}, {"response_type", 64}, {"response_mode", 64}, {"claims", oidc.MaxClaimsRequest},
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
		if !matchRedirectURI(app, redirectURI) && !s.isPortalRedirect(t, app, redirectURI) {
			s.renderError(w, r, http.StatusBadRequest, "The application asked to return you to an address it has not registered ("+redirectURI+"). For your safety, we won't send you there.")
			return
		}
		ar, aerr := parseAuthorizeParams(f, app, s.resourceScopes(t))
		if aerr != nil {
			state := f.Get("state")
			if len(state) > maxStateLength {
				state = ""
			}
			s.redirectError(w, r, t, redirectURI, state, *aerr)
			return
		}
		flow, err := s.userFlowFor(r.Context(), t, app.AppID)
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
		ar.TenantID = t.ID
		ar.CreatedAt = now
		ar.ExpiresAt = now.Add(AuthRequestLifetime)
		if ar.LoginHint == "" && user != nil {
			ar.LoginHint = user.Mail
		}
		if sess != nil && (hintSub == "" || hintSub == user.ID) {
			// Single sign-on: the session's authentications carry over,
			// and the dispatcher decides whether they are enough for this
			// request (prompt, max_age, acr, policies), exactly as for a
			// sign-in on the pages. A hint naming someone else (OIDC Core
			// 3.1.2.1) starts over.
			ar.UserID, ar.Methods, ar.SessionID, ar.Mail = user.ID, gatehouse.CarriedOver(sess.Methods), sess.ID, user.Mail
			d, ca, err := s.decide(r, t, ar, user, ar.Prompt != "none")
			if err != nil {
				s.renderInternalError(w, r, err)
				return
			}
			switch d.Step {
			case signin.Issue:
				s.finish(w, r, t, ar, user, d, ca, nil)
				return
			case signin.Refuse:
				s.Logger.InfoContext(r.Context(), "sign-in refused", "tenant", t.Name, "user_id", user.ID, "client_id", ar.ClientID,
					"reason", d.Reason, "error", d.Error, "correlation_id", correlationID(r.Context()))
				if ca != nil {
					s.logSignIn(r.Context(), s.signInEntry(r, t, ca, user, user.Mail, ar.Methods, nil, refusalStatus(ca, user, d.Error, d.Reason), false))
				}
				s.redirectError(w, r, t, redirectURI, ar.State, authError{d.Error, d.Reason})
				return
			}
		}
		if ar.Prompt == "none" {
			s.redirectError(w, r, t, redirectURI, ar.State, authError{"login_required", "The user must sign in (prompt=none was requested)."})
			return
		}
		// Each authorization request is stored for a while: bound them per
		// client address, as the sign-in attempts are. The count and the
		// request are one transaction.
		ar.BrowserBinding = s.browserBinding(w, r, t.Name)
		ar.Step = stepStart
		limited := false
		if err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			n, err := tx.Hit(r.Context(), t.ID, "authz-ip:"+rateIP(r), authRequestWindow, s.Now())
			if limited = n > authRequestsPerIP; err != nil || limited {
				return err // a refusal keeps its count
			}
			return tx.CreateAuthRequest(r.Context(), ar)
		}); err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if limited {
			w.Header().Set("Retry-After", "60")
			s.renderError(w, r, http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait a few minutes and try again.")
			return
		}
		next := "/login"
		switch {
		case ar.UserID != "":
			next = "/login/continue" // the session's user, on to the next step
		case flow.IdentityProvider == gatehouse.IdentityProviderEmailOTP:
			next = "/login/email"
		}
		http.Redirect(w, r, gatehouse.TenantURL(s.PublicURL, t.Name)+next+"?tx="+url.QueryEscape(ar.ID), http.StatusSeeOther)
	})
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
