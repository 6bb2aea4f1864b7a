package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The password change a Conditional Access policy demands (its
// passwordChange grant control, for a risky user): once the sign-in has
// reached every level, signin.Next answers ChangePassword and the user
// chooses a new password here. The change ends the user's other sessions
// and grants, as a reset does, and remediates their risk (the risk rules
// count from User.PasswordChangedAt).

const pathChangePassword = "/login/password/change"

// msgSamePassword is the error of a new password equal to the old one.
const msgSamePassword = "Choose a password different from the one you signed in with."

func (s *server) handleChangePasswordPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.requestUser(w, r, p)
		if !ok {
			return
		}
		if u == nil || p.ar.Step != stepChangePassword {
			// Not at this step (another tab moved on): where it stands.
			s.advance(w, r, p, u, nil)
			return
		}
		if r.Method == http.MethodGet {
			s.showChangePassword(w, r, p, http.StatusOK, "")
			return
		}
		pw := r.PostForm.Get("password")
		if msg := s.newPasswordError(pw); msg != "" {
			s.showChangePassword(w, r, p, http.StatusBadRequest, msg)
			return
		}
		same, _, err := s.Passwords.Verify(r.Context(), u.PasswordHash, pw)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			s.renderInternalError(w, r, err)
			return
		}
		if same {
			s.showChangePassword(w, r, p, http.StatusBadRequest, msgSamePassword)
			return
		}
		hash, err := s.Passwords.Hash(r.Context(), pw)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		now := s.Now()
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			// Of concurrent posts, only the one that finds the request
			// still at this step changes the password.
			updated, err := tx.UpdateAuthRequest(r.Context(), p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
				if a.Step != stepChangePassword || a.UserID != u.ID {
					return &userError{http.StatusConflict, msgSignInDone}
				}
				a.Progress.PasswordChanged = true
				return nil
			})
			if err != nil {
				return err
			}
			if u, err = setPassword(r.Context(), tx, p.t.ID, u.ID, hash, now); err != nil {
				return err
			}
			p.ar = updated
			return tx.CreateAuditEntry(r.Context(), &gatehouse.AuditEntry{
				TenantID: u.TenantID, Time: now, Category: "UserManagement", Activity: "Change password (self-service)",
				OperationType: "Update", Result: "success", CorrelationID: correlationID(r.Context()),
				Actor:   gatehouse.Actor{UserID: u.ID, UserMail: u.Mail, DisplayName: u.DisplayName, IPAddress: clientIP(r)},
				Targets: []gatehouse.AuditTarget{{ID: u.ID, Type: "User", DisplayName: u.DisplayName}},
			})
		})
		if ue := asUserError(err); ue != nil {
			s.showError(w, r, p, ue.status, ue.message)
			return
		} else if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			s.showError(w, r, p, http.StatusConflict, msgSignInDone)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.Logger.InfoContext(r.Context(), "password changed in sign-in", "tenant", p.t.Name, "user_id", u.ID, "correlation_id", correlationID(r.Context()))
		s.sendPasswordChangedNotice(r.Context(), p.t, u, "when you signed in, because the site asked for a new password")
		s.advance(w, r, p, u, nil)
	})
}

func (s *server) showChangePassword(w http.ResponseWriter, r *http.Request, p *flowPage, status int, pwErr string) {
	f := s.newPasswordField()
	f.Error = pwErr
	s.show(w, r, p, status, &pageView{
		Title: "Choose a new password",
		Lead: []string{"For your security, " + tenantDisplayName(p.t) + " needs you to choose a new password for " + p.ar.Mail + " before you continue.",
			"You'll be signed out everywhere else you're signed in."},
		Form: s.form(p, pathChangePassword, "Change password", f),
	})
}
