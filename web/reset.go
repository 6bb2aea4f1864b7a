package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
)

// Self-service password reset of email and password flows: the address,
// a code sent to it (only when it has an account with a password, a
// notice otherwise, so that pages, timing and mail failures are the same
// either way, RL-4), a new password, and a page that
// asks the user to sign in with it. A reset never signs anyone in (LC-4):
// it ends every session and refresh token of the user, and clears the
// failure record of the address. The mail it sends has no links.

const (
	msgResetFailed = "We couldn't reset the password. Go back to the application and try again."
	// noticeTimeout bounds the security notice after a reset, which the
	// user waits for but does not need.
	noticeTimeout = 5 * time.Second
)

// handleResetPage asks for the address whose password is forgotten.
func (s *server) handleResetPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if !p.passwordFlow() {
			s.showError(w, r, p, http.StatusNotFound, msgResetOff, s.link(p, "", "Back to sign in", startPage(p)))
			return
		}
		if s.Mail == nil {
			s.showError(w, r, p, http.StatusServiceUnavailable, msgNoMail, s.link(p, "", "Back to sign in", "/login"))
			return
		}
		if r.Method == http.MethodGet {
			s.showReset(w, r, p, http.StatusOK, prefillMail(p.ar), "", "")
			return
		}
		mail := strings.TrimSpace(r.PostForm.Get("email"))
		if msg := checkMailInput(mail); msg != "" {
			s.showReset(w, r, p, http.StatusBadRequest, mail, msg, "")
			return
		}
		err := s.sendEmailCode(r, p, codeRequest{purpose: gatehouse.CodeReset, mail: mail, step: stepResetCode})
		if ue := asUserError(err); ue != nil {
			s.showReset(w, r, p, ue.status, mail, "", ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, "/reset/code")
	})
}

func (s *server) showReset(w http.ResponseWriter, r *http.Request, p *flowPage, status int, mail, mailErr, alert string) {
	ef := emailField(mail, "username")
	ef.Error = mailErr
	ef.AlertLinked = alert != ""
	s.show(w, r, p, status, &pageView{
		Title: "Reset your password",
		Lead:  []string{"Enter the email address of your account. We'll send you a code to reset your password."},
		Alert: alert,
		Form:  s.form(p, "/reset", "Send code", ef),
		Links: []pageLink{s.link(p, "Remembered it?", "Sign in", "/login")},
	})
}

// resetCodePage is where the reset code is entered.
var resetCodePage = codePage{
	path:     "/reset/code",
	restart:  "/reset",
	title:    "Check your email",
	purposes: map[string]string{stepResetCode: gatehouse.CodeReset},
	flowOK:   func(p *flowPage) bool { return p.passwordFlow() },
	advance:  func(_ *server, a *gatehouse.AuthRequest, _ string) { a.Step = stepResetPassword },
	next: func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, _ string) {
		s.redirectTo(w, r, p, "/reset/password")
	},
}

// handleResetPasswordPage sets the new password of the address whose reset
// code was accepted in this request.
func (s *server) handleResetPasswordPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if !p.passwordFlow() || p.ar.Step != stepResetPassword {
			s.redirectTo(w, r, p, "/reset")
			return
		}
		if r.Method == http.MethodGet {
			s.showResetPassword(w, r, p, http.StatusOK, "")
			return
		}
		pw := r.PostForm.Get("password")
		if msg := s.newPasswordError(pw); msg != "" {
			s.showResetPassword(w, r, p, http.StatusBadRequest, msg)
			return
		}
		hash, err := s.Passwords.Hash(r.Context(), pw)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		now := s.Now()
		var u *gatehouse.User
		norm := gatehouse.NormalizeMail(p.ar.Mail)
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			// The accepted code allows one new password: of concurrent
			// posts, only the one that finds the request still at this
			// step (its row locked until the end) changes it.
			if _, err := tx.UpdateAuthRequest(r.Context(), p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
				if a.Step != stepResetPassword || gatehouse.NormalizeMail(a.Mail) != norm {
					return &userError{http.StatusBadRequest, msgResetFailed}
				}
				a.Step, a.Verified = stepResetDone, false
				return nil
			}); err != nil {
				return err
			}
			found, err := tx.UserByMail(r.Context(), p.t.ID, norm)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return &userError{http.StatusBadRequest, msgResetFailed}
			} else if err != nil {
				return err
			}
			if !found.AccountEnabled || found.PasswordHash == "" {
				return &userError{http.StatusBadRequest, msgResetFailed}
			}
			if u, err = setPassword(r.Context(), tx, p.t.ID, found.ID, hash, now); err != nil {
				return err
			}
			return tx.ClearStrikes(r.Context(), p.t.ID, signInStrikeKey(norm))
		})
		if ue := asUserError(err); ue != nil {
			s.showError(w, r, p, ue.status, ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.setCookie(w, s.sessionCookieName(p.t.Name), "", -1)
		s.Logger.InfoContext(r.Context(), "password reset", "tenant", p.t.Name, "user_id", u.ID, "correlation_id", correlationID(r.Context()))
		s.sendPasswordChangedNotice(r.Context(), p.t, u, "with a code sent to this address")
		s.redirectTo(w, r, p, "/reset/done")
	})
}

func (s *server) showResetPassword(w http.ResponseWriter, r *http.Request, p *flowPage, status int, pwErr string) {
	f := s.newPasswordField()
	f.Error = pwErr
	s.show(w, r, p, status, &pageView{
		Title: "Choose a new password",
		Lead:  []string{"Choose a new password for " + p.ar.Mail + ". You'll be signed out everywhere you're signed in."},
		Form:  s.form(p, "/reset/password", "Reset password", f),
	})
}

// setPassword gives the user a new password, chosen by them (a reset, a
// change a policy demanded), in tx: the hash and lastPasswordChangeDateTime,
// and every session and grant of the old password ends.
func setPassword(ctx context.Context, tx gatehouse.Tx, tenantID, userID, hash string, now time.Time) (*gatehouse.User, error) {
	u, err := tx.UpdateUser(ctx, tenantID, userID, func(x *gatehouse.User) error {
		x.PasswordHash, x.PasswordChangedAt = hash, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tx.DeleteUserSessions(ctx, tenantID, userID); err != nil {
		return nil, err
	}
	return u, tx.RevokeUserGrants(ctx, tenantID, userID, now)
}

// sendPasswordChangedNotice tells the user that their password changed
// (RL-5). It is best effort: the password is changed whether or not the
// notice goes out.
// how says how it was changed ("with a code sent to this address").
func (s *server) sendPasswordChangedNotice(ctx context.Context, t *gatehouse.Tenant, u *gatehouse.User, how string) {
	if s.Mail == nil {
		return
	}
	name := tenantDisplayName(t)
	msg, err := s.composer.Notice(notify.TenantBranding(t), u.Mail, "Your "+name+" password was changed",
		"The password of your "+name+" account was changed just now, "+how+". "+
			"Everywhere you were signed in, you have been signed out.\n\n"+
			"If you did this, there is nothing else to do.\n\n"+
			"If you didn't, someone can read your email: secure your email account, then reset your "+name+" password again and tell the site's administrator.")
	if err != nil {
		s.Logger.ErrorContext(ctx, "compose password notice", "err", err, "tenant", t.Name)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, noticeTimeout)
	defer cancel()
	if err := s.Mail.Send(ctx, msg); err != nil {
		s.Logger.WarnContext(ctx, "password notice not delivered", "err", err, "tenant", t.Name, "mail_domain", mailDomain(u.Mail), "correlation_id", correlationID(ctx))
	}
}

// handleResetDonePage says that the password was changed and leads to the
// sign-in page: a reset never signs in by itself (LC-4).
func (s *server) handleResetDonePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if p.ar.Step != stepResetDone {
			s.redirectTo(w, r, p, startPage(p))
			return
		}
		s.renderPage(w, r, http.StatusOK, "message", &pageView{
			Title: "Password changed",
			Body:  []string{"Your password has been changed. Sign in with your new password."},
			Links: []pageLink{s.link(p, "", "Sign in", "/login")},
		}, p.ar.RedirectURI)
	})
}
