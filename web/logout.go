package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// handleLogout is the end-session endpoint (RP-initiated logout), GET and
// POST. post_logout_redirect_uri must be registered, exactly, on the client
// named by id_token_hint or client_id (AS-2); otherwise the user is never
// redirected. With a valid id_token_hint for the signed-in user the session
// ends at once; without one the user confirms on a page (so that no other
// site can sign a user out by linking here).
func (s *server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, http.StatusBadRequest, "The sign-out request could not be read.")
			return
		}
		f := r.Form
		redirect, state, clientID := f.Get("post_logout_redirect_uri"), f.Get("state"), f.Get("client_id")
		hintSub := ""
		if hint := f.Get("id_token_hint"); hint != "" {
			c, err := s.Keys.VerifyIDTokenHint(r.Context(), t.ID, gatehouse.IssuerURL(s.PublicURL, t.Name), hint)
			if err != nil {
				s.renderError(w, r, http.StatusBadRequest, "The application's sign-out request carried an ID token this service did not issue.")
				return
			}
			if clientID != "" && !slices.Contains(c.Audience, clientID) {
				s.renderError(w, r, http.StatusBadRequest, "The sign-out request's client_id does not match its ID token.")
				return
			}
			clientID, hintSub = c.Audience[0], c.Subject
		}
		if redirect != "" {
			if clientID == "" {
				s.renderError(w, r, http.StatusBadRequest, "The sign-out request names a return address but not the application (send id_token_hint or client_id), so we can't check it.")
				return
			}
			app, err := s.Store.ApplicationByAppID(r.Context(), t.ID, clientID)
			if err != nil || (!slices.Contains(app.PostLogoutRedirectURIs, redirect) && !s.isPortalSignedOut(t, app, redirect)) {
				s.renderError(w, r, http.StatusBadRequest, "The application asked to return you to an address it has not registered for sign-out ("+redirect+"). For your safety, we won't send you there.")
				return
			}
		}
		sess, user, err := s.currentSession(r, t)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		confirmed := r.Method == http.MethodPost && r.PostForm.Get("confirm") == "yes" && s.checkCSRF(r, t.Name, "logout")
		if r.Method == http.MethodPost && r.PostForm.Get("confirm") == "yes" && !confirmed {
			s.renderError(w, r, http.StatusForbidden, "This form has expired. Go back and try again.")
			return
		}
		if sess != nil && !confirmed && (hintSub == "" || hintSub != user.ID) {
			s.renderLogoutConfirm(w, r, t, user, url.Values{"post_logout_redirect_uri": {redirect}, "state": {state}, "client_id": {clientID}},
				s.csrfToken(s.browserBinding(w, r, t.Name), "logout"), redirect)
			return
		}
		if sess != nil {
			err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
				if err := tx.RevokeSessionGrants(r.Context(), t.ID, sess.SID, s.Now()); err != nil {
					return err
				}
				return tx.DeleteSession(r.Context(), t.ID, sess.ID)
			})
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				s.renderInternalError(w, r, err)
				return
			}
			s.Logger.InfoContext(r.Context(), "sign-out", "tenant", t.Name, "user_id", sess.UserID, "correlation_id", correlationID(r.Context()))
		}
		s.setCookie(w, s.sessionCookieName(t.Name), "", -1)
		if redirect != "" {
			u, _ := url.Parse(redirect)
			if state != "" {
				q := u.Query()
				q.Set("state", state)
				u.RawQuery = q.Encode()
			}
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		s.renderSignedOut(w, r, t)
	})
}

// renderLogoutConfirm asks the signed-in user to confirm signing out; the
// form posts back to the end-session endpoint with the request's
// parameters and an anti-forgery token.
func (s *server) renderLogoutConfirm(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, u *gatehouse.User, params url.Values, csrf, redirect string) {
	f := &pageForm{Action: s.tenantPath(t, "/oauth2/v2.0/logout"), CSRF: csrf, Submit: "Sign out",
		Hidden: []pageHidden{{Name: "confirm", Value: "yes"}}}
	for _, k := range []string{"post_logout_redirect_uri", "state", "client_id"} {
		if v := params.Get(k); v != "" {
			f.Hidden = append(f.Hidden, pageHidden{Name: k, Value: v})
		}
	}
	s.renderPage(w, r, http.StatusOK, "form", &pageView{Title: "Sign out?",
		Lead: []string{"You are signed in to " + tenantDisplayName(t) + " as " + u.Mail + ". Signing out ends your session for every application of " + tenantDisplayName(t) + "."},
		Form: f}, redirect)
}

// renderSignedOut tells the user the session has ended.
func (s *server) renderSignedOut(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant) {
	s.renderPage(w, r, http.StatusOK, "message", &pageView{Title: "You have signed out",
		Body: []string{"You have signed out of " + tenantDisplayName(t) + ". You can close this window."}})
}
