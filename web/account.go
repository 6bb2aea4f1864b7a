package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
)

// The security info page: the signed-in user's own methods, to see, add
// and remove. Changes need a recent authentication at the level they
// affect (LC-1): within recentAuthentication, and multifactor when the
// user has a second factor to use. Verifying and adding run as a sign-in
// of its own (an authorization request with PurposeAccount) through the
// dispatcher, the same pages and the same rules as any sign-in, and come
// back here. Every change is audited (LC-3) and the user told by email
// (RL-5).

// accountPath is the security info page of the tenant.
func accountPath(t *gatehouse.Tenant) string { return "/" + t.Name + "/account/security" }

// Results the page reports after a round trip through the sign-in.
const (
	accountVerified = "verified"
	accountAdded    = "added"
	accountRemoved  = "removed"
)

// accountRow is one method on the page.
type accountRow struct {
	Label, Detail, Added string
	RemoveID             string // the registered method's ID, "" if it cannot be removed here
}

// handleAccountPage serves the security info page (GET) and its changes
// (POST action=add|remove|verify, with the page's anti-forgery token).
func (s *server) handleAccountPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
			if err := r.ParseForm(); err != nil {
				s.renderError(w, r, http.StatusBadRequest, msgFormUnread)
				return
			}
			if !s.checkCSRF(r, t.Name, "account") {
				s.renderError(w, r, http.StatusForbidden, msgFormExpired)
				return
			}
		}
		sess, u, err := s.currentSession(r, t)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if sess == nil {
			// Sign in first, then come back here.
			s.startAccountRequest(w, r, t, nil, nil, "", "")
			return
		}
		v, err := loadMethods(r.Context(), s.Store, t.ID, u)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		recent := s.recentEnough(sess, u, v)
		if r.Method == http.MethodGet {
			s.showAccount(w, r, t, u, v, recent, http.StatusOK, r.URL.Query().Get("done"), "")
			return
		}
		switch r.PostForm.Get("action") {
		case "verify":
			s.startAccountRequest(w, r, t, sess, u, "", accountVerified)
		case "add":
			m := r.PostForm.Get("method")
			if !slices.Contains(s.registrable(v), m) {
				s.showAccount(w, r, t, u, v, recent, http.StatusBadRequest, "", "That kind of method can't be added to your account.")
				return
			}
			s.startAccountRequest(w, r, t, sess, u, m, accountAdded)
		case "remove":
			if !recent {
				s.startAccountRequest(w, r, t, sess, u, "", accountVerified)
				return
			}
			s.removeOwnMethod(w, r, t, u, v, r.PostForm.Get("id"))
		default:
			s.showAccount(w, r, t, u, v, recent, http.StatusBadRequest, "", msgFormUnread)
		}
	})
}

// recentEnough reports whether the session's authentications allow
// changes now (LC-1): the account requirements, met without the user.
func (s *server) recentEnough(sess *gatehouse.Session, u *gatehouse.User, v *methodsView) bool {
	ar := &gatehouse.AuthRequest{Purpose: gatehouse.PurposeAccount, ACRValues: s.accountLevel(v).ACR()}
	d := signin.Next(signin.Input{Now: s.Now(), User: u, Methods: standing(sess.Methods, v.registered),
		Requirements: accountRequirements(ar)})
	return d.Step == signin.Issue
}

// accountLevel is the level a change of the user's security info needs:
// multifactor when they have a second factor to use, one factor when not.
func (s *server) accountLevel(v *methodsView) gatehouse.Level {
	if len(s.available(v)) > 0 {
		return gatehouse.LevelMultiFactor
	}
	return gatehouse.LevelSingleFactor
}

// startAccountRequest starts the security info page's own sign-in: to
// verify the user (done says what the page reports afterwards), or, with
// register set, to register that method; without a session (sess nil),
// to sign in. The browser goes to the dispatcher.
func (s *server) startAccountRequest(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, sess *gatehouse.Session, u *gatehouse.User, register, done string) {
	now := s.Now()
	returnTo := accountPath(t)
	if done != "" {
		returnTo += "?done=" + url.QueryEscape(done)
	}
	ar := &gatehouse.AuthRequest{TenantID: t.ID, BrowserBinding: s.browserBinding(w, r, t.Name), Purpose: gatehouse.PurposeAccount,
		ReturnTo: returnTo, Register: register, MaxAge: -1, Step: stepStart, CreatedAt: now, ExpiresAt: now.Add(AuthRequestLifetime)}
	if u != nil {
		v, err := loadMethods(r.Context(), s.Store, t.ID, u)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if l := s.accountLevel(v); l > gatehouse.LevelSingleFactor {
			ar.ACRValues = l.ACR()
		}
		ar.UserID, ar.Mail, ar.LoginHint, ar.SessionID = u.ID, u.Mail, u.Mail, sess.ID
		ar.Methods = gatehouse.CarriedOver(sess.Methods)
	}
	if err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error { return tx.CreateAuthRequest(r.Context(), ar) }); err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	next := "/login/continue"
	if u == nil {
		next = "/login"
	}
	http.Redirect(w, r, s.tenantPath(t, next)+"?tx="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}

// accountFlow is the user flow of the security info page's own requests,
// which belong to no application: the user signs in the way their account
// can (a password, or else an email code), and nobody signs up.
func accountFlow(t *gatehouse.Tenant, u *gatehouse.User) *gatehouse.UserFlow {
	f := &gatehouse.UserFlow{TenantID: t.ID, DisplayName: "Security info", IdentityProvider: gatehouse.IdentityProviderEmailPassword}
	if u != nil && u.PasswordHash == "" {
		f.IdentityProvider = gatehouse.IdentityProviderEmailOTP
	}
	return f
}

// removeOwnMethod removes one of the user's registered methods, audited
// (LC-3), with a notice by email (RL-5), and takes effect at once (LC-2).
func (s *server) removeOwnMethod(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, u *gatehouse.User, v *methodsView, id string) {
	i := slices.IndexFunc(v.registered, func(m *gatehouse.UserMethod) bool { return m.ID == id })
	if i < 0 {
		s.showAccount(w, r, t, u, v, true, http.StatusBadRequest, "", "That method is no longer on your account.")
		return
	}
	m := v.registered[i]
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		if err := tx.DeleteUserMethod(r.Context(), t.ID, m.ID); err != nil {
			return err
		}
		return tx.CreateAuditEntry(r.Context(), s.selfServiceAudit(r, t, u, "User deleted security info", "Delete", map[string]string{"authenticationMethod": methodLabel(m)}, nil))
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		s.showAccount(w, r, t, u, v, true, http.StatusBadRequest, "", "That method is no longer on your account.")
		return
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "security info removed", "tenant", t.Name, "user_id", u.ID, "method", m.Method, "correlation_id", correlationID(r.Context()))
	s.notifyMethodChange(r.Context(), t, u, "removed", methodLabel(m), "you, on the security info page")
	http.Redirect(w, r, s.basePath()+accountPath(t)+"?done="+accountRemoved, http.StatusSeeOther)
}

// selfServiceAudit is the audit entry of a change the user made to their
// own security info: the user is both actor and target.
func (s *server) selfServiceAudit(r *http.Request, t *gatehouse.Tenant, u *gatehouse.User, activity, operation string, before, after any) *gatehouse.AuditEntry {
	return &gatehouse.AuditEntry{
		TenantID: t.ID, Time: s.Now(), Category: "UserManagement", Activity: activity, OperationType: operation,
		Result: "success", CorrelationID: correlationID(r.Context()),
		Actor: gatehouse.Actor{UserID: u.ID, UserMail: u.Mail, DisplayName: u.DisplayName, IPAddress: clientIP(r)},
		Targets: []gatehouse.AuditTarget{{ID: u.ID, Type: "User", DisplayName: u.Mail,
			ModifiedProperties: modifiedProperties(before, after)}},
	}
}

// showAccount renders the security info page.
func (s *server) showAccount(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, u *gatehouse.User, v *methodsView, recent bool, status int, done, alert string) {
	csrf := s.csrfToken(s.browserBinding(w, r, t.Name), "account")
	action := s.tenantPath(t, "/account/security")
	view := &pageView{Title: "Security info", Lead: []string{"Signed in as " + u.Mail + ". These are the ways you prove it's you when you sign in."}, Alert: alert}
	switch done {
	case accountVerified:
		view.Notice = "Thanks. You can change your security info for the next 10 minutes."
	case accountAdded:
		view.Notice = "Your new method is ready. You'll be able to use it the next time you sign in."
	case accountRemoved:
		view.Notice = "The method was removed. It no longer signs you in."
	}
	rows := []accountRow{{Label: "Email", Detail: u.Mail + " (your sign-in address; codes can be sent here)"}}
	if u.PasswordHash != "" {
		rows = append(rows, accountRow{Label: "Password", Detail: "Set. To change it, sign out and choose \"Forgot your password?\" on the sign-in page."})
	}
	for _, m := range v.registered {
		row := accountRow{Label: methodLabel(m), Added: m.CreatedAt.UTC().Format("2 Jan 2006"), RemoveID: m.ID}
		if !v.offers(m.Method) {
			row.Detail = "Not in use: your organization has turned this method off."
		} else if m.Method == gatehouse.MethodRecoveryCode {
			row.Detail = pluralCodes(m.RemainingRecoveryCodes())
		}
		rows = append(rows, row)
	}
	view.Methods = rows
	view.MethodsForm = &pageForm{Action: action, CSRF: csrf, Hidden: []pageHidden{{"action", "remove"}}, Submit: "Remove", Secondary: true}
	for _, m := range s.registrable(v) {
		f := &pageForm{Action: action, CSRF: csrf, Hidden: []pageHidden{{"action", "add"}, {"method", m}},
			Submit: methodPages[m].enroll, Secondary: true, Class: "choice"}
		view.Extra = append(view.Extra, f)
	}
	if !recent {
		view.Form = &pageForm{Action: action, CSRF: csrf, Hidden: []pageHidden{{"action", "verify"}}, Submit: "Verify it's you"}
		view.Lead = append(view.Lead, "To add or remove a method, verify it's you first: it's been more than 10 minutes since you signed in, or you signed in without your second factor.")
	}
	if len(view.Extra) > 0 {
		view.ExtraHeading = "Add a method"
	}
	s.renderPage(w, r, status, "account", view)
}

func pluralCodes(n int) string {
	switch n {
	case 0:
		return "No codes left: create a new set."
	case 1:
		return "1 code left."
	}
	return strconv.Itoa(n) + " codes left."
}

// accountOwner refuses a security info request completed by someone other
// than the signed-in user it was started for.
func (s *server) accountOwner(r *http.Request, ar *gatehouse.AuthRequest, u *gatehouse.User) error {
	if ar.Purpose != gatehouse.PurposeAccount || ar.SessionID == "" {
		return nil
	}
	sess, err := s.Store.Session(r.Context(), ar.TenantID, ar.SessionID)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return err
	}
	if err != nil || sess.UserID != u.ID {
		return errNotOwner
	}
	return nil
}

var errNotOwner = errors.New("the security info request was completed by another user")
