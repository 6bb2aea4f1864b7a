package sampleapp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// homeData is what the home page shows.
type homeData struct {
	Issuer    string
	ClientID  string
	User      *signedIn
	CSRF      string
	SignedOut bool   // back from the provider's end-session endpoint
	Notice    string // a one-line message at the top
}

// SecurityInfoURL is Gatehouse's security info page of the issuer's
// tenant, where users see and change their sign-in methods (a Gatehouse
// page, not part of OpenID Connect: "" for an issuer that is not a
// Gatehouse tenant's).
func (d homeData) SecurityInfoURL() string {
	base, ok := strings.CutSuffix(d.Issuer, "/v2.0")
	if !ok {
		return ""
	}
	return base + "/account/security"
}

// errorData is what an error page shows.
type errorData struct {
	Title       string
	Message     string
	Code        string // the OAuth error code from the provider, if any
	Description string // the provider's error_description, if any
	Detail      string // what went wrong technically, for the developer
	Issuer      string
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "error"} {
		t, err := template.New("layout.html").ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("sampleapp: parse the %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var b bytes.Buffer
	if err := a.pages[page].Execute(&b, data); err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "sample app: render a page", "page", page, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int, d errorData) {
	if d.Title == "" {
		d.Title = "Sign-in failed"
	}
	d.Issuer = a.cfg.Issuer
	a.cfg.Logger.WarnContext(r.Context(), "sample app: "+strings.ToLower(d.Title), "message", d.Message,
		"error", d.Code, "error_description", d.Description, "detail", d.Detail)
	a.render(w, r, status, "error", d)
}

// unreachable renders the page for a provider that discovery cannot reach.
func (a *app) unreachable(w http.ResponseWriter, r *http.Request, err error) {
	a.renderError(w, r, http.StatusServiceUnavailable, errorData{
		Title:   "Gatehouse is not reachable",
		Message: "The sample app could not read the discovery document of " + a.cfg.Issuer + ". Is Gatehouse running, and is the issuer right? Reload this page to try again.",
		Detail:  err.Error(),
	})
}

func (a *app) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := homeData{Issuer: a.cfg.Issuer, ClientID: a.cfg.ClientID}
		se, ok := a.sessions.get(r)
		if ok {
			d.User, d.CSRF = se.user, se.csrf
		}
		// Back from the end-session endpoint: the state must be the one
		// this browser's sign-out sent.
		if st := r.URL.Query().Get("state"); st != "" && ok && se.logoutState != "" {
			if subtle.ConstantTimeCompare([]byte(st), []byte(se.logoutState)) == 1 {
				d.SignedOut = true
				a.sessions.modify(r, func(s *session) { s.logoutState = "" })
			}
		}
		a.render(w, r, http.StatusOK, "home", d)
	})
}

// handleLogin starts a sign-in: a new state, nonce and PKCE verifier, kept
// in the browser's session, and a redirect to the authorization endpoint.
func (a *app) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.provider(r.Context())
		if err != nil {
			a.unreachable(w, r, err)
			return
		}
		at := attempt{state: newRandom(), nonce: newRandom(), verifier: oauth2.GenerateVerifier(), created: a.cfg.Now()}
		a.sessions.addAttempt(w, r, at)
		opts := []oauth2.AuthCodeOption{oidc.Nonce(at.nonce), oauth2.S256ChallengeOption(at.verifier)}
		if r.URL.Query().Get("mfa") == "1" {
			// Ask for multifactor authentication (acr 2): a step-up when
			// the browser's session with the provider has one factor.
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", "2"))
		}
		u := p.oauth.AuthCodeURL(at.state, opts...)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusSeeOther)
	})
}

// handleCallback is the redirect URI. In this order it checks that the
// response belongs to a sign-in this browser started (state), that it comes
// from the issuer (iss, RFC 9207), and whether the provider reported an
// error; then it redeems the code with the PKCE verifier, verifies the ID
// token and its nonce, and fetches userinfo.
func (a *app) handleCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		state := q.Get("state")
		if state == "" {
			a.renderError(w, r, http.StatusBadRequest, errorData{
				Message: "The response from the sign-in has no state, so it cannot be matched to a sign-in started here. Start again with Sign in.",
			})
			return
		}
		at, found, expired := a.sessions.takeAttempt(r, state)
		switch {
		case !found:
			a.renderError(w, r, http.StatusBadRequest, errorData{
				Message: "This sign-in response does not belong to a sign-in started in this browser (its state does not match), or it was already used. Start again with Sign in.",
			})
			return
		case expired:
			a.renderError(w, r, http.StatusBadRequest, errorData{
				Message: "This sign-in took more than " + strconv.Itoa(int(attemptLifetime/time.Minute)) + " minutes and has expired. Start again with Sign in.",
			})
			return
		}
		p, err := a.provider(r.Context())
		if err != nil {
			a.unreachable(w, r, err)
			return
		}
		if iss, ok := q["iss"]; ok || p.issParam {
			if !ok || len(iss) != 1 || iss[0] != a.cfg.Issuer {
				got := "none"
				if ok {
					got = strings.Join(iss, ", ")
				}
				a.renderError(w, r, http.StatusBadRequest, errorData{
					Message: "The sign-in response does not come from the issuer this app trusts, so it was refused (RFC 9207 mix-up protection).",
					Detail:  "iss in the response: " + got + "; expected: " + a.cfg.Issuer,
				})
				return
			}
		}
		if code := q.Get("error"); code != "" {
			a.renderError(w, r, http.StatusBadRequest, errorData{
				Message:     "Gatehouse did not sign you in.",
				Code:        code,
				Description: q.Get("error_description"),
			})
			return
		}
		code := q.Get("code")
		if code == "" {
			a.renderError(w, r, http.StatusBadRequest, errorData{Message: "The sign-in response has neither a code nor an error."})
			return
		}

		ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.client)
		tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(at.verifier))
		if err != nil {
			d := errorData{Message: "The app could not redeem the authorization code at Gatehouse's token endpoint.", Detail: err.Error()}
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				d.Code, d.Description, d.Detail = re.ErrorCode, re.ErrorDescription, ""
				if d.Code == "" {
					d.Detail = fmt.Sprintf("HTTP %d: %s", re.Response.StatusCode, truncate(string(re.Body), 300))
				}
			}
			a.renderError(w, r, http.StatusBadGateway, d)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		if raw == "" {
			a.renderError(w, r, http.StatusBadGateway, errorData{Message: "The token response has no ID token."})
			return
		}
		idt, err := p.verifier.Verify(oidc.ClientContext(r.Context(), a.client), raw)
		if err != nil {
			a.renderError(w, r, http.StatusBadGateway, errorData{Message: "The ID token is not valid, so it was refused.", Detail: err.Error()})
			return
		}
		if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(at.nonce)) != 1 {
			a.renderError(w, r, http.StatusBadRequest, errorData{
				Message: "The ID token's nonce is not the one this sign-in sent, so the token was refused (it may have been replayed).",
			})
			return
		}
		if idt.AccessTokenHash != "" {
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				a.renderError(w, r, http.StatusBadGateway, errorData{Message: "The access token does not match the ID token's at_hash.", Detail: err.Error()})
				return
			}
		}
		user, err := a.signedIn(r.Context(), p, idt, raw, tok)
		if err != nil {
			a.renderError(w, r, http.StatusBadGateway, errorData{Message: "The ID token's claims could not be read.", Detail: err.Error()})
			return
		}
		a.sessions.rotate(w, r, func(se *session) { se.user = user })
		a.cfg.Logger.InfoContext(r.Context(), "sample app: signed in", "sub", idt.Subject, "amr", strings.Join(user.AMR, " "))
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// signedIn gathers what the home page shows of a new sign-in, fetching
// userinfo with the access token.
func (a *app) signedIn(ctx context.Context, p *provider, idt *oidc.IDToken, raw string, tok *oauth2.Token) (*signedIn, error) {
	var rawClaims json.RawMessage
	if err := idt.Claims(&rawClaims); err != nil {
		return nil, err
	}
	claims, err := decodeClaims(rawClaims)
	if err != nil {
		return nil, err
	}
	u := &signedIn{
		Subject:         idt.Subject,
		Name:            str(claims["name"]),
		Email:           str(claims["email"]),
		Claims:          a.claimRows(claims),
		RawIDToken:      raw,
		HasRefreshToken: tok.RefreshToken != "",
	}
	if list, ok := claims["amr"].([]any); ok {
		for _, m := range list {
			u.AMR = append(u.AMR, str(m))
		}
	}
	if t, ok := numericDate(claims["auth_time"]); ok {
		u.AuthTime = a.readableTime(t)
	}
	if !tok.Expiry.IsZero() {
		u.AccessTokenExpiry = a.readableTime(tok.Expiry)
	}

	ui, err := p.p.UserInfo(oidc.ClientContext(ctx, a.client), oauth2.StaticTokenSource(tok))
	switch {
	case err != nil:
		u.UserinfoErr = err.Error()
	case ui.Subject != idt.Subject:
		// OpenID Connect Core 5.3.2: a different sub must not be used.
		u.UserinfoErr = fmt.Sprintf("The userinfo response is for subject %q, not the ID token's %q, so it was ignored.", ui.Subject, idt.Subject)
	default:
		var rawUI json.RawMessage
		if err := ui.Claims(&rawUI); err != nil {
			u.UserinfoErr = err.Error()
			break
		}
		m, err := decodeClaims(rawUI)
		if err != nil {
			u.UserinfoErr = err.Error()
			break
		}
		u.Userinfo = a.claimRows(m)
	}
	return u, nil
}

// handleLogout signs out: it forgets the user here, then sends the browser
// to the provider's end-session endpoint with the ID token as hint, the
// post-logout redirect URI and a new state (RP-initiated logout).
func (a *app) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		se, ok := a.sessions.get(r)
		if !ok || se.user == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(se.csrf)) != 1 {
			a.renderError(w, r, http.StatusForbidden, errorData{Title: "Sign-out failed", Message: "This sign-out form has expired. Go back to the home page and select Sign out again."})
			return
		}
		hint := se.user.RawIDToken
		state := newRandom()
		a.sessions.modify(r, func(s *session) {
			s.user = nil
			s.logoutState = state
		})
		p, err := a.provider(r.Context())
		if err != nil || p.endSession == "" {
			reason := "Gatehouse publishes no end-session endpoint"
			if err != nil {
				reason = "Gatehouse is not reachable (" + err.Error() + ")"
			}
			a.render(w, r, http.StatusOK, "home", homeData{Issuer: a.cfg.Issuer, ClientID: a.cfg.ClientID,
				Notice: "You are signed out of the sample app, but " + reason + ", so your Gatehouse session may still be active."})
			return
		}
		u, err := url.Parse(p.endSession)
		if err != nil {
			a.renderError(w, r, http.StatusBadGateway, errorData{Title: "Sign-out failed", Message: "Gatehouse's end-session endpoint is not a valid URL.", Detail: err.Error()})
			return
		}
		v := u.Query()
		v.Set("id_token_hint", hint)
		v.Set("client_id", a.cfg.ClientID)
		v.Set("post_logout_redirect_uri", PostLogoutRedirectURI(a.cfg.BaseURL))
		v.Set("state", state)
		u.RawQuery = v.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	})
}

func (a *app) handleCSS() http.Handler {
	css, err := files.ReadFile("static/app.css")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(css)
	})
}

// decodeClaims decodes a JSON object of claims, keeping numbers exact.
func decodeClaims(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// claimOrder is the order of the claims the table shows first; the rest
// follow by name.
var claimOrder = []string{
	"sub", "name", "email", "email_verified", "preferred_username", "given_name", "family_name", "address",
	"amr", "acr", "auth_time", "iss", "aud", "azp", "iat", "nbf", "exp", "nonce", "sid", "at_hash",
}

// timeClaims are the NumericDate claims shown with a readable time.
var timeClaims = []string{"auth_time", "iat", "nbf", "exp", "updated_at"}

func (a *app) claimRows(m map[string]any) []claim {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	rank := func(n string) int {
		if i := slices.Index(claimOrder, n); i >= 0 {
			return i
		}
		return len(claimOrder)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	rows := make([]claim, 0, len(names))
	for _, n := range names {
		c := claim{Name: n, Value: claimValue(m[n]), Parts: claimParts(m[n])}
		if slices.Contains(timeClaims, n) {
			if t, ok := numericDate(m[n]); ok {
				c.Time = a.readableTime(t)
			}
		}
		rows = append(rows, c)
	}
	return rows
}

// claimValue writes a claim's value for the table: strings and numbers as
// they are, lists of strings separated by spaces, anything else as JSON.
func claimValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var parts []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				b, _ := json.Marshal(x)
				return string(b)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// addressOrder is the order of the address claim's members (OpenID
// Connect Core 5.1.1); other members follow by name.
var addressOrder = []string{"formatted", "street_address", "locality", "region", "postal_code", "country"}

// claimParts returns the members of a claim that is a JSON object of
// strings, in addressOrder, or nil for any other value (shown as JSON).
func claimParts(v any) []claim {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for k, mv := range m {
		if _, ok := mv.(string); !ok {
			return nil
		}
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := slices.Index(addressOrder, names[i]), slices.Index(addressOrder, names[j])
		if ri < 0 {
			ri = len(addressOrder)
		}
		if rj < 0 {
			rj = len(addressOrder)
		}
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	parts := make([]claim, 0, len(names))
	for _, n := range names {
		parts = append(parts, claim{Name: n, Value: m[n].(string)})
	}
	return parts
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// numericDate reads a JSON NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// readableTime writes t for people: the date and time in the server's time
// zone and how long ago (or from now) that is.
func (a *app) readableTime(t time.Time) string {
	d := a.cfg.Now().Sub(t)
	rel := "from now"
	if d >= 0 {
		rel = "ago"
	} else {
		d = -d
	}
	var span string
	switch {
	case d < time.Minute:
		span = plural(int(d/time.Second), "second")
	case d < time.Hour:
		span = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		span = plural(int(d/time.Hour), "hour")
	default:
		span = plural(int(d/(24*time.Hour)), "day")
	}
	return t.Local().Format("Mon 2 Jan 2006, 15:04:05 MST") + " (" + span + " " + rel + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
