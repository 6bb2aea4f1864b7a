package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/signin"
)

// Passkeys in the sign-in: the second factor (mfaPasskeyPath), the
// registration of one just in time (registerPasskeyPath), and signing in
// with a passkey alone where the user flow allows it (passkeySignInPath).
// Each page runs one WebAuthn ceremony of mfa.Passkeys:
//
//   - GET shows the ceremony's page: a form whose data attributes carry the
//     ceremony's options, which webauthn.js hands to the browser when the
//     form is submitted, posting the result back in the credential input.
//     A live ceremony of the request is shown again (a reload); otherwise a
//     new one is started and kept in the request (Progress.WebAuthn).
//     POST action=start (the chooser, the sign-in page's button) starts a
//     new one and redirects to the GET.
//   - POST with the credential first clears the request's ceremony in its
//     own transaction, so each challenge is tried once (WA-1), then has it
//     checked; a failure shows the page again with a new ceremony and a
//     sentence saying what went wrong.

// The passkey pages.
const (
	mfaPasskeyPath      = "/login/mfa/passkey"
	registerPasskeyPath = "/login/register/passkey"
	passkeySignInPath   = "/login/passkey"
)

// passkeyNameMax is the longest name a user may give a passkey.
const passkeyNameMax = 64

// Messages of the passkey pages.
const (
	msgPasskeyNoResponse    = "Your browser didn't send a passkey. Passkeys need JavaScript and a browser that supports them; if yours doesn't, use another way."
	msgPasskeyExpired       = "That passkey request expired or was already used. Select Continue to try again."
	msgPasskeyFailed        = "We couldn't verify that passkey. Select Continue to try again, or use another way."
	msgPasskeyNotVerified   = "Your passkey didn't check that it's you (with a PIN, fingerprint, face or screen lock), and signing in with a passkey alone needs that. Try again, or sign in another way."
	msgPasskeyNotYours      = "That passkey isn't one you set up for this account. Use a passkey you registered here, or another way."
	msgPasskeyUnknown       = "We don't recognize that passkey. It may have been removed from your account, or be for another account or site. Sign in another way."
	msgPasskeyRestricted    = "This site doesn't accept that kind of passkey: its administrator allows only some authenticator models. Use another device or security key, or contact the site's administrator."
	msgPasskeyTaken         = "That passkey is already registered to an account. Use another passkey, or another way."
	msgPasskeyCloned        = "We couldn't accept that passkey: its security counter went backwards, which can mean it was copied. Use another way, and tell the site's administrator."
	msgPasskeyNotForAccount = "Passkeys aren't turned on for your account, so you can't sign in with one here. Sign in another way."
	msgPasskeyAccount       = "We couldn't sign you in with that passkey. Sign in another way, or contact the site's administrator."
	msgPasskeySignInOff     = "Signing in with a passkey isn't available for this application. Sign in another way."
	msgPasskeyName          = "Use at most 64 characters for the passkey's name, without line breaks or other control characters."
)

// newPasskeys returns the server's WebAuthn relying party, or nil (and
// passkeys are not offered) when the public URL cannot be one.
func (s *server) newPasskeys() *mfa.Passkeys {
	p, err := mfa.NewPasskeys(s.PublicURL, s.Now)
	if err != nil {
		s.Logger.Warn("passkeys are not offered", "err", err)
		return nil
	}
	return p
}

// passkeyUser is the user of a ceremony with the passkeys it may use.
func passkeyUser(u *gatehouse.User, passkeys []*gatehouse.UserMethod) mfa.PasskeyUser {
	return mfa.PasskeyUser{ID: u.ID, Name: u.Mail, DisplayName: u.DisplayName, Passkeys: passkeys}
}

// passkeyStep is one passkey page: where it is, which ceremony it runs,
// what it shows around it and how it starts a new one.
type passkeyStep struct {
	path   string
	kind   string // mfa.CeremonyRegister, CeremonyVerify or CeremonySignIn
	view   func() *pageView
	fields func() []pageField
	begin  func() ([]byte, error)
}

// showCeremony renders the step's page with the request's live ceremony of
// its kind, or with a new one when there is none or renew is set.
func (s *server) showCeremony(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, renew bool, status int, alert string, fields ...pageField) {
	kind, opts, live := s.passkeys.Pending(p.ar.Progress.WebAuthn)
	if renew || !live || kind != st.kind {
		if !s.startCeremony(w, r, p, st) {
			return
		}
		_, opts, _ = s.passkeys.Pending(p.ar.Progress.WebAuthn)
	}
	if fields == nil && st.fields != nil {
		fields = st.fields()
	}
	v := st.view()
	v.Alert = alert
	v.Script = s.staticURL("webauthn.js")
	f := s.form(p, st.path, "Continue", fields...)
	f.Hidden = []pageHidden{{"credential", ""}}
	f.WebAuthn, f.Ceremony = string(opts), "get"
	if st.kind == mfa.CeremonyRegister {
		f.Ceremony = "create"
	}
	v.Form = f
	s.show(w, r, p, status, v)
}

// startCeremony starts a new ceremony of the step and keeps it in the
// request, in place of any other.
func (s *server) startCeremony(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep) bool {
	state, err := st.begin()
	if err != nil {
		s.renderInternalError(w, r, err)
		return false
	}
	return s.setCeremony(w, r, p, state, nil)
}

// setCeremony stores state as the request's ceremony (nil clears it),
// returning in old what it held before.
func (s *server) setCeremony(w http.ResponseWriter, r *http.Request, p *flowPage, state []byte, old *[]byte) bool {
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		a, err := tx.UpdateAuthRequest(r.Context(), p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			if old != nil {
				*old = a.Progress.WebAuthn
			}
			a.Progress.WebAuthn = state
			return nil
		})
		if err == nil {
			p.ar = a
		}
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		s.showError(w, r, p, http.StatusConflict, msgSignInDone)
		return false
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return false
	}
	return true
}

// takeCeremony clears the request's ceremony, in a transaction of its own,
// and returns it with the browser's answer: whatever the answer turns out
// to be, the challenge is never tried again (WA-1). ok is false when the
// page has been written.
func (s *server) takeCeremony(w http.ResponseWriter, r *http.Request, p *flowPage) (state, response []byte, ok bool) {
	if !s.setCeremony(w, r, p, nil, &state) {
		return nil, nil, false
	}
	return state, []byte(r.PostForm.Get("credential")), true
}

// servePasskeyStep answers what every passkey page answers alike: GET and
// POST action=start show or start the ceremony. It reports whether the
// request is the answer to a ceremony, which the page then checks.
func (s *server) servePasskeyStep(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep) bool {
	switch {
	case r.Method != http.MethodPost:
		s.showCeremony(w, r, p, st, false, http.StatusOK, "")
		return false
	case r.PostForm.Get("action") == "start":
		if s.startCeremony(w, r, p, st) {
			s.redirectTo(w, r, p, st.path)
		}
		return false
	}
	return true
}

// passkeyAnswer serves what every passkey page serves alike (servePasskeyStep)
// and, for the answer to a ceremony, takes the request's ceremony (WA-1)
// and returns it with the browser's answer, which must not be empty. ok
// is false when the page has been written.
func (s *server) passkeyAnswer(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, u *gatehouse.User) (state, resp []byte, ok bool) {
	if !s.servePasskeyStep(w, r, p, st) {
		return nil, nil, false
	}
	if state, resp, ok = s.takeCeremony(w, r, p); ok && len(resp) == 0 {
		s.passkeyRefused(w, r, p, st, u, http.StatusBadRequest, msgPasskeyNoResponse, "no credential posted")
		return nil, nil, false
	}
	return state, resp, ok
}

// passkeyAssertion is passkeyAnswer for the assertion pages: the answer
// is parsed.
func (s *server) passkeyAssertion(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, u *gatehouse.User) ([]byte, *mfa.PasskeyAssertion, bool) {
	state, resp, ok := s.passkeyAnswer(w, r, p, st, u)
	if !ok {
		return nil, nil, false
	}
	a, err := mfa.ParseAssertion(resp)
	if err != nil {
		s.passkeyFailed(w, r, p, st, u, err)
		return nil, nil, false
	}
	return state, a, true
}

// passkeyFailed logs why a ceremony failed and shows the step's page
// again, with a new ceremony and the sentence for the failure; errors that
// are not the ceremony's are internal.
func (s *server) passkeyFailed(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, u *gatehouse.User, err error, fields ...pageField) {
	status, msg := http.StatusBadRequest, ""
	switch {
	case errors.Is(err, mfa.ErrCeremonyExpired):
		msg = msgPasskeyExpired
	case errors.Is(err, mfa.ErrPasskeyNotVerified):
		msg = msgPasskeyNotVerified
	case errors.Is(err, mfa.ErrPasskeyUnknown) && st.kind == mfa.CeremonySignIn:
		msg = msgPasskeyUnknown
	case errors.Is(err, mfa.ErrPasskeyUnknown):
		msg = msgPasskeyNotYours
	case errors.Is(err, mfa.ErrPasskeyRestricted):
		status, msg = http.StatusForbidden, msgPasskeyRestricted
	case errors.Is(err, mfa.ErrPasskeyRejected):
		msg = msgPasskeyFailed
	default:
		s.renderInternalError(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "passkey refused", "tenant", p.t.Name, "ceremony", st.kind, "user_id", userID(u),
		"reason", err.Error(), "remote", clientIP(r), "correlation_id", correlationID(r.Context()))
	s.showCeremony(w, r, p, st, true, status, msg, fields...)
}

// passkeyRefused shows the step's page again, with a new ceremony, for a
// refusal of Gatehouse's own (not the ceremony's).
func (s *server) passkeyRefused(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, u *gatehouse.User, status int, msg, reason string) {
	s.Logger.InfoContext(r.Context(), "passkey refused", "tenant", p.t.Name, "ceremony", st.kind, "user_id", userID(u),
		"reason", reason, "remote", clientIP(r), "correlation_id", correlationID(r.Context()))
	s.showCeremony(w, r, p, st, true, status, msg)
}

// recordPasskeyUse stores an accepted assertion on its passkey, under the
// passkey's row lock: the new sign counter, or, when the counter went
// backwards, the clone warning (WA-3). Gatehouse then refuses the
// assertion (the specification leaves that to the relying party), so a
// copy of an authenticator that lags behind the original cannot sign in;
// the passkey stays usable with counters above the stored one, and the
// warning stays on it for administrators. It reports whether the
// assertion stands; otherwise the page has been written.
func (s *server) recordPasskeyUse(w http.ResponseWriter, r *http.Request, p *flowPage, st passkeyStep, u *gatehouse.User, use *mfa.PasskeyUse) bool {
	var stored uint32
	regressed := false
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		_, err := tx.UpdateUserMethod(r.Context(), p.t.ID, use.MethodID, func(m *gatehouse.UserMethod) error {
			if m.Passkey == nil {
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "Method %s is not a passkey.", m.ID)
			}
			stored = m.Passkey.SignCount
			if regressed = use.Apply(m.Passkey); !regressed {
				m.LastUsedAt = s.Now()
			}
			return nil
		})
		return err
	})
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND: // removed meanwhile (LC-2)
		s.passkeyFailed(w, r, p, st, u, mfa.ErrPasskeyUnknown)
		return false
	case err != nil:
		s.renderInternalError(w, r, err)
		return false
	case regressed:
		s.Logger.WarnContext(r.Context(), "passkey sign counter went backwards: the authenticator may be cloned", "tenant", p.t.Name,
			"user_id", u.ID, "method_id", use.MethodID, "stored_count", stored, "count", use.SignCount, "remote", clientIP(r),
			"correlation_id", correlationID(r.Context()))
		s.showCeremony(w, r, p, st, true, http.StatusForbidden, msgPasskeyCloned)
		return false
	}
	return true
}

// passkeyMethodUse is the authentication an accepted assertion records.
func (s *server) passkeyMethodUse(use *mfa.PasskeyUse) gatehouse.MethodUse {
	return gatehouse.MethodUse{Method: gatehouse.MethodFido2, MethodID: use.MethodID, At: s.Now(),
		UserVerified: use.UserVerified, Synced: use.BackupEligible}
}

// userPasskeys returns the user's registered passkeys.
func userPasskeys(v *methodsView) []*gatehouse.UserMethod {
	var out []*gatehouse.UserMethod
	for _, m := range v.registered {
		if m.Method == gatehouse.MethodFido2 && m.Passkey != nil {
			out = append(out, m)
		}
	}
	return out
}

// passkeyState starts a page of the passkey second factor or registration
// (step): the request must be at that step with passkeys among its
// methods. It returns the request, its user, and what the methods policy
// and the user's registrations offer them; ok is false when the page has
// been written.
func (s *server) passkeyState(w http.ResponseWriter, r *http.Request, step signin.Step) (*flowPage, *gatehouse.User, *methodsView, bool) {
	p, ok := s.startFlowPage(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	u, ok := s.secondFactorState(w, r, p, gatehouse.MethodFido2, step)
	if !ok {
		return nil, nil, nil, false
	}
	v, err := loadMethods(r.Context(), s.Store, p.t.ID, u)
	if err != nil {
		s.renderInternalError(w, r, err)
		return nil, nil, nil, false
	}
	return p, u, v, true
}

// handleMFAPasskeyPage is the passkey second factor: an assertion with one
// of the user's passkeys, user verification preferred and recorded (WA-5).
func (s *server) handleMFAPasskeyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, u, v, ok := s.passkeyState(w, r, signin.SecondFactor)
		if !ok {
			return
		}
		pu := passkeyUser(u, v.registrations(gatehouse.MethodFido2))
		st := passkeyStep{path: mfaPasskeyPath, kind: mfa.CeremonyVerify,
			view: func() *pageView {
				return &pageView{Title: "Use your passkey",
					Lead:  []string{"Select Continue, then follow your browser's instructions to use a passkey you set up for " + u.Mail + "."},
					Links: []pageLink{s.link(p, "", "Use another way", "/login/mfa")}}
			},
			begin: func() ([]byte, error) { return s.passkeys.BeginVerify(pu) }}
		state, a, ok := s.passkeyAssertion(w, r, p, st, u)
		if !ok {
			return
		}
		use, err := s.passkeys.FinishAssertion(pu, state, mfa.CeremonyVerify, a)
		if err != nil {
			s.passkeyFailed(w, r, p, st, u, err)
			return
		}
		if !s.recordPasskeyUse(w, r, p, st, u, use) {
			return
		}
		recordSecondFactor(p.ar, s.passkeyMethodUse(use))
		s.advance(w, r, p, u, nil)
	})
}

// passkeyNameField is the registration page's optional name input.
func passkeyNameField(value, msg string) pageField {
	return pageField{ID: "name", Name: "name", Label: "Name for this passkey", Type: "text", Value: value,
		Autocomplete: "off", MaxLength: passkeyNameMax, Error: msg,
		Hint: "Optional. For example, the device or security key it's on, so you can tell your passkeys apart."}
}

// checkPasskeyName returns the message about a name a user gave a passkey,
// or "".
func checkPasskeyName(name string) string {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > passkeyNameMax || strings.ContainsFunc(name, unicode.IsControl) {
		return msgPasskeyName
	}
	return ""
}

// handleRegisterPasskeyPage registers a passkey just in time: a
// discoverable credential with one of mfa.PasskeyAlgorithms, of an
// authenticator model the policy's key restrictions allow, whose
// credential ID no user of the tenant has (WA-3). The registration is the
// sign-in's second factor too; it is stored in the transaction that
// records it, audited (LC-3), and the user is told by email (RL-5).
func (s *server) handleRegisterPasskeyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, u, v, ok := s.passkeyState(w, r, signin.Register)
		if !ok {
			return
		}
		pu := passkeyUser(u, userPasskeys(v))
		kr := v.policy.Config(gatehouse.MethodFido2).KeyRestrictions
		name := strings.TrimSpace(r.PostForm.Get("name"))
		st := passkeyStep{path: registerPasskeyPath, kind: mfa.CeremonyRegister,
			view: func() *pageView {
				return &pageView{Title: "Set up a passkey",
					Lead: []string{"A passkey signs you in with your fingerprint, face, screen lock or a security key, and can't be phished.",
						"Select Continue, then follow your browser's instructions to create a passkey for " + u.Mail + "."},
					Links: []pageLink{s.link(p, "", "Use another way", "/login/mfa")}}
			},
			fields: func() []pageField { return []pageField{passkeyNameField(name, "")} },
			begin:  func() ([]byte, error) { return s.passkeys.BeginRegistration(pu, tenantDisplayName(p.t), kr) }}
		state, resp, ok := s.passkeyAnswer(w, r, p, st, u)
		if !ok {
			return
		}
		if msg := checkPasskeyName(name); msg != "" {
			s.showCeremony(w, r, p, st, true, http.StatusBadRequest, "", passkeyNameField(name, msg))
			return
		}
		reg, err := s.passkeys.FinishRegistration(pu, state, resp, kr)
		if err != nil {
			s.passkeyFailed(w, r, p, st, u, err)
			return
		}
		switch _, err := s.Store.UserMethodByCredential(ctx, p.t.ID, reg.Credential.CredentialID); {
		case err == nil:
			s.passkeyRefused(w, r, p, st, u, http.StatusConflict, msgPasskeyTaken, "credential ID registered already")
			return
		case gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND:
			s.renderInternalError(w, r, err)
			return
		}
		if name == "" {
			name = "Passkey"
		}
		m := &gatehouse.UserMethod{ID: newUUID(), TenantID: p.t.ID, UserID: u.ID, Method: gatehouse.MethodFido2,
			DisplayName: name, LastUsedAt: s.Now(), Passkey: &reg.Credential}
		recordSecondFactor(p.ar, gatehouse.MethodUse{Method: gatehouse.MethodFido2, MethodID: m.ID, At: s.Now(),
			UserVerified: reg.UserVerified, Synced: reg.Credential.BackupEligible})
		s.advance(w, r, p, u, func(tx gatehouse.Tx) error {
			if err := tx.CreateUserMethod(ctx, m); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				// Registered by someone else since the check above.
				return &userError{http.StatusConflict, msgPasskeyTaken}
			} else if err != nil {
				return err
			}
			return tx.CreateAuditEntry(ctx, s.methodAddedAudit(r, u, m, reg.AAGUID))
		})
		if _, err := s.Store.UserMethod(ctx, p.t.ID, m.ID); err == nil {
			s.Logger.InfoContext(ctx, "passkey registered", "tenant", p.t.Name, "user_id", u.ID, "method_id", m.ID, "aaguid", reg.AAGUID,
				"user_verified", reg.UserVerified, "backup_eligible", reg.Credential.BackupEligible, "correlation_id", correlationID(ctx))
			s.sendPasskeyAddedNotice(ctx, p.t, u, m)
		}
	})
}

// methodAddedAudit is the audit entry of a user registering a method
// themselves (LC-3), as Entra records it ("User registered security
// info"): the user is both actor and target.
func (s *server) methodAddedAudit(r *http.Request, u *gatehouse.User, m *gatehouse.UserMethod, aaguid string) *gatehouse.AuditEntry {
	added, _ := json.Marshal(map[string]string{"id": m.ID, "displayName": m.DisplayName, "aaGuid": aaguid})
	name := u.DisplayName
	if name == "" {
		name = u.Mail
	}
	return &gatehouse.AuditEntry{
		TenantID: m.TenantID, Time: s.Now(), Category: "UserManagement", Activity: "User registered security info",
		OperationType: "Add", Result: "success", CorrelationID: correlationID(r.Context()),
		Actor: gatehouse.Actor{UserID: u.ID, UserMail: u.Mail, DisplayName: u.DisplayName, IPAddress: clientIP(r)},
		Targets: []gatehouse.AuditTarget{{ID: u.ID, Type: "User", DisplayName: name,
			ModifiedProperties: []gatehouse.ModifiedProperty{{DisplayName: "fido2Methods", NewValue: string(added)}}}},
	}
}

// sendPasskeyAddedNotice tells the user that a passkey was added to their
// account (RL-5). It is best effort: the passkey is registered whether or
// not the notice goes out.
func (s *server) sendPasskeyAddedNotice(ctx context.Context, t *gatehouse.Tenant, u *gatehouse.User, m *gatehouse.UserMethod) {
	if s.Mail == nil {
		return
	}
	name := tenantDisplayName(t)
	msg, err := s.composer.Notice(notify.TenantBranding(t), u.Mail, "A passkey was added to your "+name+" account",
		"A passkey named \""+m.DisplayName+"\" was added to your "+name+" account just now, while you signed in. "+
			"From now on it can confirm that it's you when you sign in.\n\n"+
			"If you did this, there is nothing else to do.\n\n"+
			"If you didn't, someone else signed in to your account: change your password (or, if you sign in with codes by email, secure your email account), "+
			"and ask the site's administrator to remove the passkey.")
	if err != nil {
		s.Logger.ErrorContext(ctx, "compose passkey notice", "err", err, "tenant", t.Name)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, noticeTimeout)
	defer cancel()
	if err := s.Mail.Send(ctx, msg); err != nil {
		s.Logger.WarnContext(ctx, "passkey notice not delivered", "err", err, "tenant", t.Name, "mail_domain", mailDomain(u.Mail), "correlation_id", correlationID(ctx))
	}
}

// passkeySignInOffered reports whether the request's sign-in page offers
// signing in with a passkey alone: the user flow allows it, the methods
// policy enables passkeys (for someone: whether for this user is known
// only once the passkey names them) and the server can be a relying
// party.
func (s *server) passkeySignInOffered(ctx context.Context, p *flowPage) (bool, error) {
	if !p.flow.PasskeySignIn || s.passkeys == nil {
		return false, nil
	}
	pol, err := s.Store.MethodsPolicy(ctx, p.t.ID)
	if err != nil {
		return false, err
	}
	return pol.Config(gatehouse.MethodFido2).Enabled, nil
}

// passkeySignInForm is the sign-in pages' "Sign in with a passkey" button,
// nil when passkey sign-in is not offered.
func (s *server) passkeySignInForm(ctx context.Context, p *flowPage) (*pageForm, error) {
	ok, err := s.passkeySignInOffered(ctx, p)
	if !ok || err != nil {
		return nil, err
	}
	f := s.form(p, passkeySignInPath, "Sign in with a passkey")
	f.Hidden = []pageHidden{{"action", "start"}}
	f.Secondary = true
	return f, nil
}

// handlePasskeySignInPage signs in with a passkey alone (a discoverable
// credential with user verification: both factors in one, WA-5), where
// the user flow allows it and the methods policy offers passkeys to the
// passkey's owner. The assertion is verified before anything about the
// account is told.
func (s *server) handlePasskeySignInPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		offered, err := s.passkeySignInOffered(ctx, p)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if !offered {
			s.showError(w, r, p, http.StatusNotFound, msgPasskeySignInOff, s.link(p, "", "Sign in another way", startPage(p)))
			return
		}
		st := passkeyStep{path: passkeySignInPath, kind: mfa.CeremonySignIn,
			view: func() *pageView {
				return &pageView{Title: "Sign in with a passkey",
					Lead:  []string{"Select Continue, then choose your passkey when your browser asks."},
					Links: []pageLink{s.link(p, "", "Sign in another way", startPage(p))}}
			},
			begin: s.passkeys.BeginSignIn}
		state, a, ok := s.passkeyAssertion(w, r, p, st, nil)
		if !ok {
			return
		}
		m, err := s.Store.UserMethodByCredential(ctx, p.t.ID, a.CredentialID())
		var u *gatehouse.User
		if err == nil {
			u, err = s.Store.User(ctx, p.t.ID, m.UserID)
		}
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			s.passkeyFailed(w, r, p, st, nil, mfa.ErrPasskeyUnknown)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		use, err := s.passkeys.FinishAssertion(passkeyUser(u, []*gatehouse.UserMethod{m}), state, mfa.CeremonySignIn, a)
		if err != nil {
			s.passkeyFailed(w, r, p, st, u, err)
			return
		}
		// The passkey is the user's: now what the account allows.
		if !u.AccountEnabled {
			s.passkeyRefused(w, r, p, st, u, http.StatusForbidden, msgPasskeyAccount, "account disabled")
			return
		}
		v, err := loadMethods(ctx, s.Store, p.t.ID, u)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if !v.offers(gatehouse.MethodFido2) {
			s.passkeyRefused(w, r, p, st, u, http.StatusForbidden, msgPasskeyNotForAccount, "the methods policy does not offer passkeys to the user")
			return
		}
		if !s.recordPasskeyUse(w, r, p, st, u, use) {
			return
		}
		recordFirstFactor(p.ar, u, s.passkeyMethodUse(use))
		p.ar.Mail = u.Mail
		s.Logger.InfoContext(ctx, "passkey accepted", "tenant", p.t.Name, "client_id", p.ar.ClientID, "user_id", u.ID, "method_id", use.MethodID,
			"remote", clientIP(r), "correlation_id", correlationID(ctx))
		s.advance(w, r, p, u, nil)
	})
}
