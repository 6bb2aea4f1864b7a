package web

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/signin"
)

// Authenticator apps (TOTP, RFC 6238) in the sign-in: the second factor
// (a 6-digit code, TOTP-2, each step accepted once, TOTP-3, with a failure
// record per app, RL-3) and the registration just in time: a new secret
// (TOTP-1), sealed, waits in the authorization request's progress while
// the page shows it as a QR code and as text, and becomes the user's
// method once a code from it is entered, in the transaction that records
// the factor.

// Pages of authenticator apps.
const (
	pathMFATOTP      = "/login/mfa/totp"
	pathRegisterTOTP = "/login/register/totp"
)

// Messages of authenticator apps.
const (
	msgTOTPFormat = "Enter the 6-digit code from your authenticator app."
	msgTOTPWrong  = "That code is wrong. Check the code your authenticator app shows for this account and try again."
	msgTOTPUsed   = "That code was already used. Wait for your authenticator app to show a new code, then enter it."
	// msgTOTPSetupWrong is the wrong code of an app being set up: most
	// often the code of another account in the app, or a phone's clock
	// that is off.
	msgTOTPSetupWrong = "That code doesn't match. Enter the code the app shows for the account you just added, and check that your phone's clock is set automatically."
)

// totpMethod is the authenticator app as a second factor.
var totpMethod = codeMethod{
	method: gatehouse.MethodSoftwareOath,
	path:   pathMFATOTP,
	title:  "Enter a code from your authenticator app",
	lead: func(s *server, p *flowPage) string {
		return "Open your authenticator app and enter the 6-digit code it shows for " + tenantDisplayName(p.t) + "."
	},
	field: totpCodeField,
	normalize: func(typed string) (string, bool) {
		c := mfa.NormalizeTOTPCode(typed)
		return c, c != ""
	},
	try: func(s *server, m *gatehouse.UserMethod, code string, now time.Time) (mfa.Outcome, error) {
		return mfa.TryTOTP(s.Vault, m, code, now)
	},
	msgFormat: msgTOTPFormat,
	msgWrong:  msgTOTPWrong,
	msgUsed:   msgTOTPUsed,
}

// totpCodeField is the input of an authenticator app's code.
func totpCodeField() pageField {
	f := codeField()
	f.Hint = "The 6-digit code changes every 30 seconds."
	return f
}

// totpView is what the registration page shows of a new secret.
type totpView struct {
	URI    template.URL // otpauth://…, for an app on the same device
	QRCode template.URL // a data: URI, which the pages' CSP allows as an image
	Key    string       // the secret in groups of four, to type in
}

// handleRegisterTOTPPage registers an authenticator app just in time. GET
// (or the chooser's POST action=start) shows the request's pending secret,
// making one first; a POST with a code confirms it.
func (s *server) handleRegisterTOTPPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if p.ar.Step == stepRecoveryCodes {
			// Registered already, and the recovery codes were shown.
			s.redirectTo(w, r, p, pathRecoveryCodes)
			return
		}
		u, ok := s.secondFactorState(w, r, p, gatehouse.MethodSoftwareOath, signin.Register)
		if !ok {
			return
		}
		pending, err := s.pendingTOTP(r.Context(), p, u)
		if s.stepFailed(w, r, p, err) {
			return
		}
		if r.Method == http.MethodGet || r.PostForm.Get("action") == "start" {
			s.showTOTPSetup(w, r, p, u, pending, http.StatusOK, "")
			return
		}
		code := mfa.NormalizeTOTPCode(r.PostForm.Get("code"))
		if code == "" {
			s.showTOTPSetup(w, r, p, u, pending, http.StatusBadRequest, msgTOTPFormat)
			return
		}
		m := pending.Clone()
		now := s.Now()
		out, err := mfa.TryTOTP(s.Vault, m, code, now)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if out != mfa.Accepted {
			s.Logger.InfoContext(r.Context(), "authenticator app not confirmed", "tenant", p.t.Name, "user_id", u.ID, "correlation_id", correlationID(r.Context()))
			s.showTOTPSetup(w, r, p, u, pending, http.StatusBadRequest, msgTOTPSetupWrong)
			return
		}
		s.completeRegistration(w, r, p, u, m, gatehouse.MethodUse{Method: gatehouse.MethodSoftwareOath, MethodID: m.ID, At: now},
			s.stillPending(r.Context(), p, m.ID))
	})
}

// pendingTOTP returns the authenticator app the request is registering
// for u, making a new secret when there is none. Of concurrent requests
// the first one's secret stays, so that every page shows the same one.
func (s *server) pendingTOTP(ctx context.Context, p *flowPage, u *gatehouse.User) (*gatehouse.UserMethod, error) {
	pending := func(a *gatehouse.AuthRequest) bool {
		m := a.Progress.Pending
		return m != nil && m.Method == gatehouse.MethodSoftwareOath && m.UserID == u.ID && m.TOTP != nil
	}
	if pending(p.ar) {
		return p.ar.Progress.Pending, nil
	}
	fresh, err := mfa.NewTOTPMethod(s.Vault, p.t.ID, u.ID, newUUID())
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		updated, err := tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			if !pending(a) {
				a.Progress.Pending = fresh
			}
			return nil
		})
		if err == nil {
			p.ar = updated
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p.ar.Progress.Pending, nil
}

// stillPending returns the single-use check of confirming the pending
// method id: it locks the request and finds id still pending there, or
// returns ENOTFOUND (a concurrent confirmation completed it), so that one
// pending method is created once.
func (s *server) stillPending(ctx context.Context, p *flowPage, id string) func(gatehouse.Tx) error {
	return func(tx gatehouse.Tx) error {
		_, err := tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			if a.Progress.Pending == nil || a.Progress.Pending.ID != id {
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "The method being registered was registered already.")
			}
			return nil
		})
		return err
	}
}

// showTOTPSetup renders the registration page of the pending secret m.
func (s *server) showTOTPSetup(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, m *gatehouse.UserMethod, status int, codeErr string) {
	secret, err := mfa.OpenTOTP(s.Vault, m)
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	e, err := mfa.NewTOTPEnrollment(secret, tenantDisplayName(p.t), accountName(u))
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	f := codeField()
	f.Hint = "Then enter the 6-digit code the app shows for this account."
	f.Error = codeErr
	v := &pageView{
		Title: "Set up an authenticator app",
		Lead: []string{
			"This sign-in needs a second way to verify it's you. Open an authenticator app on your phone, such as Microsoft Authenticator, Google Authenticator or 1Password, and add an account.",
			"Scan this QR code with the app, or enter the setup key below it.",
		},
		TOTP:  &totpView{URI: template.URL(e.URI), QRCode: template.URL(e.QRCode), Key: e.Key},
		Form:  s.form(p, pathRegisterTOTP, "Verify", f),
		Links: s.otherWays(r, p, u),
	}
	s.renderPage(w, r, status, "mfasetup", v, p.ar.RedirectURI)
}

// accountName is how an authenticator app names the user's account: the
// sign-in address, or for an account without one its name or ID.
func accountName(u *gatehouse.User) string {
	switch {
	case u.Mail != "":
		return u.Mail
	case u.DisplayName != "":
		return u.DisplayName
	}
	return u.ID
}
