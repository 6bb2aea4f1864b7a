package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Browser state of the hosted pages. Two cookies per tenant, both
// HttpOnly, SameSite=Lax, Path=/ and without Domain (SE-3), Secure unless
// the public URL is http on a loopback host:
//
//   - the binding cookie holds a random secret that ties authorization
//     requests to the browser that started them (and keys CSRF tokens);
//   - the session cookie holds the secret whose hash is the session ID.
const (
	// SessionIdleTimeout ends a session that was not used for this long (SE-4).
	SessionIdleTimeout = 12 * time.Hour
	// SessionLifetime ends every session this long after sign-in (SE-4).
	SessionLifetime = 7 * 24 * time.Hour
	// AuthRequestLifetime bounds how long a browser may take to sign in.
	AuthRequestLifetime = 30 * time.Minute
)

// The cookie names get the __Host- prefix whenever the cookies are Secure:
// browsers then refuse such a cookie unless it was set by this very host
// over https, with Path=/ and without Domain, so a sibling subdomain cannot
// plant a binding or session cookie.
func (s *server) bindingCookieName(tenant string) string { return s.cookiePrefix() + "gh_b_" + tenant }
func (s *server) sessionCookieName(tenant string) string { return s.cookiePrefix() + "gh_s_" + tenant }

func (s *server) cookiePrefix() string {
	if s.secureCookies() {
		return "__Host-"
	}
	return ""
}

// secureCookies reports whether cookies get the Secure attribute: always,
// except when the server is reached over http on a loopback host.
func (s *server) secureCookies() bool {
	u, err := url.Parse(s.PublicURL)
	return err != nil || u.Scheme == "https" || !gatehouse.IsLoopbackHost(u.Hostname())
}

func (s *server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// randomSecret returns 256 random bits, base64url.
func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// browserBinding returns the hash of this browser's binding secret for the
// tenant, setting a new binding cookie when there is none.
func (s *server) browserBinding(w http.ResponseWriter, r *http.Request, tenant string) string {
	if c, err := r.Cookie(s.bindingCookieName(tenant)); err == nil && len(c.Value) >= 43 {
		return sha256Hex(c.Value)
	}
	secret := randomSecret()
	s.setCookie(w, s.bindingCookieName(tenant), secret, 0)
	return sha256Hex(secret)
}

// existingBinding returns the hash of the browser's binding secret, or "".
func (s *server) existingBinding(r *http.Request, tenant string) string {
	if c, err := r.Cookie(s.bindingCookieName(tenant)); err == nil && len(c.Value) >= 43 {
		return sha256Hex(c.Value)
	}
	return ""
}

// csrfToken is the anti-forgery token of the forms of one authorization
// request in one browser (FE-1): a MAC of the request ID and the browser's
// binding, which a cross-site attacker can neither read nor compute.
func (s *server) csrfToken(binding, scope string) string {
	return base64.RawURLEncoding.EncodeToString(s.Vault.MAC("csrf", []byte(binding+"\x00"+scope)))
}

// checkCSRF verifies the csrf form field of a POST against the browser's
// binding and the scope (an authorization request ID, or a page name).
func (s *server) checkCSRF(r *http.Request, tenant, scope string) bool {
	binding := s.existingBinding(r, tenant)
	if binding == "" {
		return false
	}
	want := s.csrfToken(binding, scope)
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(want)) == 1
}

// loadAuthRequest returns the authorization request named by the tx
// parameter if it exists, has not expired, and belongs to this browser.
func (s *server) loadAuthRequest(r *http.Request) (*gatehouse.AuthRequest, error) {
	t := tenantFrom(r.Context())
	id := r.FormValue("tx")
	gone := gatehouse.Errorf(gatehouse.ENOTFOUND, "This sign-in attempt has expired or was started in another browser. Go back to the application and sign in again.")
	if id == "" {
		return nil, gone
	}
	ar, err := s.Store.AuthRequest(r.Context(), t.ID, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, gone
		}
		return nil, err
	}
	b := s.existingBinding(r, t.Name)
	if b == "" || subtle.ConstantTimeCompare([]byte(b), []byte(ar.BrowserBinding)) != 1 || !s.Now().Before(ar.ExpiresAt) {
		return nil, gone
	}
	return ar, nil
}

// currentSession returns the browser's live session with the tenant, or
// nil. A session past its idle or absolute timeout, or of a user who is
// disabled or gone, is not live (SE-4, SE-6).
func (s *server) currentSession(r *http.Request, t *gatehouse.Tenant) (*gatehouse.Session, *gatehouse.User, error) {
	c, err := r.Cookie(s.sessionCookieName(t.Name))
	if err != nil || len(c.Value) < 43 {
		return nil, nil, nil
	}
	sess, err := s.Store.Session(r.Context(), t.ID, sha256Hex(c.Value))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > SessionIdleTimeout {
		return nil, nil, nil
	}
	u, err := s.Store.User(r.Context(), t.ID, sess.UserID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if !u.AccountEnabled {
		return nil, nil, nil
	}
	return sess, u, nil
}

// pageCSP is the Content-Security-Policy of a hosted page: nothing inline,
// scripts and styles only from this server, images from here, https and,
// for a development logo on http, that logo's origin; and forms that may
// post only here or, for the redirect after sign-in, to the origins in
// redirectTo (Chromium applies form-action to the redirects that follow a
// post).
func pageCSP(logo string, redirectTo ...string) string {
	images := "'self' https: data:"
	if u, err := url.Parse(logo); err == nil && u.Scheme == "http" && u.Host != "" {
		images += " http://" + u.Host
	}
	actions := []string{"'self'"}
	for _, raw := range redirectTo {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			actions = append(actions, u.Scheme+"://"+u.Host)
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + images + "; " +
		"form-action " + strings.Join(actions, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}
