package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// session is a signed-in administrator, kept in a cookie sealed with the
// vault (so that every node can read it and nobody can read or change it
// outside the server): the delegated admin API token, the ID token (the
// hint of the sign-out) and a random secret the anti-forgery tokens are
// made from.
type session struct {
	AccessToken string    `json:"at"`
	IDToken     string    `json:"it"`
	Expiry      time.Time `json:"exp"`
	UserID      string    `json:"sub"`
	Name        string    `json:"name"`
	Mail        string    `json:"mail"`
	Secret      string    `json:"sec"`
	// Roles are the directory roles the API says the administrator holds,
	// read on every page (not stored in the cookie).
	Roles []string `json:"-"`
}

// signIn is what the portal remembers between sending the browser to the
// authorization endpoint and its return: state, nonce, the PKCE verifier
// and the page to go back to.
type signIn struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"`
	Expiry   time.Time `json:"exp"`
}

const signInLifetime = 10 * time.Minute

func (p *Portal) cookieName(r *http.Request, kind string) string {
	name := "gh_portal_" + kind + "_" + r.PathValue("tenant")
	if p.secureCookies() {
		return "__Host-" + name
	}
	return name
}

func (p *Portal) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: p.secureCookies(),
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// seal writes v into the cookie, sealed with associated data naming the
// cookie, so a sealed value of one kind or tenant is no value of another.
func (p *Portal) seal(w http.ResponseWriter, r *http.Request, kind string, v any, maxAge int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := p.opt.Vault.Seal(b, []byte("portal-"+kind+"/"+r.PathValue("tenant")))
	if err != nil {
		return err
	}
	p.setCookie(w, p.cookieName(r, kind), base64.RawURLEncoding.EncodeToString(sealed), maxAge)
	return nil
}

// unseal reads the cookie into v; false when there is none or it does not
// open.
func (p *Portal) unseal(r *http.Request, kind string, v any) bool {
	c, err := r.Cookie(p.cookieName(r, kind))
	if err != nil {
		return false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return false
	}
	b, err := p.opt.Vault.Open(sealed, []byte("portal-"+kind+"/"+r.PathValue("tenant")))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// readSession returns the signed-in administrator, or false when there is
// none or their token has expired.
func (p *Portal) readSession(r *http.Request) (*session, bool) {
	var s session
	if !p.unseal(r, "session", &s) || !p.opt.Now().Before(s.Expiry.Add(-30*time.Second)) {
		return nil, false
	}
	return &s, true
}

func (p *Portal) csrfToken(s *session) string {
	return base64.RawURLEncoding.EncodeToString(p.opt.Vault.MAC("portal-csrf", []byte(s.Secret)))
}

func (p *Portal) checkCSRF(r *http.Request, s *session) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.csrfToken(s))) == 1
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// admin is a portal handler for a signed-in administrator.
type admin func(w http.ResponseWriter, r *http.Request, s *session)

// requireAdmin runs h for a signed-in administrator with a fresh list of
// their directory roles. Without a session (or with an expired token) a
// GET starts the sign-in and comes back; a POST says the sign-in expired.
// A POST must carry the session's anti-forgery token (FE-1).
func (p *Portal) requireAdmin(h admin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := p.readSession(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, base(r)+"signin?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.renderMessage(w, r, http.StatusUnauthorized, "Your sign-in has expired", "Nothing was changed. Sign in again, then repeat what you were doing.")
			return
		}
		if r.Method == http.MethodPost && !p.checkCSRF(r, s) {
			p.renderMessage(w, r, http.StatusForbidden, "This form has expired", "Nothing was changed. Go back, reload the page and try again.")
			return
		}
		var roles struct {
			Value []struct {
				RoleTemplateID string `json:"roleTemplateId"`
			} `json:"value"`
		}
		if err := p.api(r, s).get("/me/memberOf/microsoft.graph.directoryRole", &roles); err != nil {
			if apiStatus(err) == http.StatusUnauthorized {
				// The sign-in was ended (signed out elsewhere, sessions
				// revoked, the account disabled): sign in again.
				p.setCookie(w, p.cookieName(r, "session"), "", -1)
				if r.Method == http.MethodGet {
					http.Redirect(w, r, base(r)+"signin?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
			}
			p.renderAPIError(w, r, s, err)
			return
		}
		for _, v := range roles.Value {
			s.Roles = append(s.Roles, v.RoleTemplateID)
		}
		h(w, r, s)
	})
}

// handleSignIn sends the browser to the tenant's authorization endpoint
// with PKCE, state and nonce, asking for the admin API scope.
func (p *Portal) handleSignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ret := r.URL.Query().Get("return")
		if !strings.HasPrefix(ret, base(r)) || strings.HasPrefix(ret, base(r)+"signin") || strings.ContainsAny(ret, "\\\r\n") {
			ret = base(r)
		}
		si := signIn{State: randomString(), Nonce: randomString(), Verifier: randomString(), Return: ret, Expiry: p.opt.Now().Add(signInLifetime)}
		if err := p.seal(w, r, "signin", si, int(signInLifetime.Seconds())); err != nil {
			p.renderMessage(w, r, http.StatusInternalServerError, "Sign-in failed", "The portal could not start the sign-in. Try again.")
			return
		}
		tenant := r.PathValue("tenant")
		sum := sha256.Sum256([]byte(si.Verifier))
		q := url.Values{
			"client_id":             {gatehouse.AdminPortalAppID},
			"response_type":         {"code"},
			"redirect_uri":          {gatehouse.PortalRedirectURI(p.opt.PublicURL, tenant)},
			"scope":                 {"openid profile email " + gatehouse.AdminAPIScope(p.opt.PublicURL, tenant)},
			"state":                 {si.State},
			"nonce":                 {si.Nonce},
			"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"},
		}
		http.Redirect(w, r, "/"+tenant+"/oauth2/v2.0/authorize?"+q.Encode(), http.StatusSeeOther)
	})
}

// handleCallback finishes the sign-in: it checks state and iss, redeems
// the code with the verifier at the token endpoint (in process), checks
// the ID token's nonce and keeps the tokens in the session cookie.
func (p *Portal) handleCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		q := r.URL.Query()
		var si signIn
		if !p.unseal(r, "signin", &si) || !p.opt.Now().Before(si.Expiry) ||
			subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(si.State)) != 1 {
			p.renderSignInFailed(w, r, "The sign-in took too long or was started in another window.")
			return
		}
		p.setCookie(w, p.cookieName(r, "signin"), "", -1)
		if iss := q.Get("iss"); iss != gatehouse.IssuerURL(p.opt.PublicURL, tenant) {
			p.renderSignInFailed(w, r, "The answer did not come from this tenant's sign-in.")
			return
		}
		if e := q.Get("error"); e != "" {
			msg := q.Get("error_description")
			if msg == "" {
				msg = "The sign-in was refused (" + e + ")."
			}
			p.renderSignInFailed(w, r, msg)
			return
		}
		tok, err := p.redeem(r, q.Get("code"), si.Verifier)
		if err != nil {
			p.renderSignInFailed(w, r, err.Error())
			return
		}
		claims, err := idTokenClaims(tok.IDToken)
		if err != nil || claims.Nonce != si.Nonce || claims.Audience() != gatehouse.AdminPortalAppID {
			p.renderSignInFailed(w, r, "The sign-in's ID token does not belong to this sign-in.")
			return
		}
		if !strings.Contains(" "+tok.Scope+" ", " "+gatehouse.AdminAPIScope(p.opt.PublicURL, tenant)+" ") {
			p.renderSignInFailed(w, r, "The sign-in did not grant access to the admin API.")
			return
		}
		s := session{AccessToken: tok.AccessToken, IDToken: tok.IDToken, Expiry: p.opt.Now().Add(time.Duration(tok.ExpiresIn) * time.Second),
			UserID: claims.Subject, Name: claims.Name, Mail: claims.Email, Secret: randomString()}
		if err := p.seal(w, r, "session", s, tok.ExpiresIn); err != nil {
			p.renderSignInFailed(w, r, "The portal could not keep the sign-in.")
			return
		}
		http.Redirect(w, r, si.Return, http.StatusSeeOther)
	})
}

func (p *Portal) renderSignInFailed(w http.ResponseWriter, r *http.Request, why string) {
	pg := p.newPage(r, nil, "Sign-in failed", "")
	pg.Data = why
	p.render(w, r, http.StatusBadRequest, "signinfailed", pg)
}

// handleSignOut revokes the token (which ends its grant) and sends the
// browser to the tenant's end-session endpoint, which ends the browser's
// single sign-on session and comes back to the signed-out page.
func (p *Portal) handleSignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		s, ok := p.readSession(r)
		if ok && !p.checkCSRF(r, s) {
			p.renderMessage(w, r, http.StatusForbidden, "This form has expired", "Go back, reload the page and sign out again.")
			return
		}
		p.setCookie(w, p.cookieName(r, "session"), "", -1)
		if !ok {
			seeOther(w, r, "signed-out")
			return
		}
		p.revoke(r, s.AccessToken)
		q := url.Values{"id_token_hint": {s.IDToken}, "client_id": {gatehouse.AdminPortalAppID},
			"post_logout_redirect_uri": {gatehouse.PortalSignedOutURI(p.opt.PublicURL, tenant)}}
		http.Redirect(w, r, "/"+tenant+"/oauth2/v2.0/logout?"+q.Encode(), http.StatusSeeOther)
	})
}

func (p *Portal) handleSignedOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pg := p.newPage(r, nil, "You signed out", "")
		p.render(w, r, http.StatusOK, "signedout", pg)
	})
}
