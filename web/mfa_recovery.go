package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/notify"
)

// Recovery codes (RC-1): ten single-use codes, made when a user registers
// their first second factor in a sign-in (when the policy offers them),
// shown once on the page of the transaction that stores their keyed
// hashes, and usable as a second factor when the user cannot use their
// other methods. completeRegistration is where every method's
// registration just in time ends.

// Pages of recovery codes.
const (
	pathMFARecovery   = "/login/mfa/recovery"
	pathRecoveryCodes = "/login/recovery-codes"
)

// stepRecoveryCodes is the step of a request whose new recovery codes
// were shown: Continue goes on with the sign-in.
const stepRecoveryCodes = "recovery-codes"

// recoveryMethod is a recovery code as a second factor.
var recoveryMethod = codeMethod{
	method: gatehouse.MethodRecoveryCode,
	path:   pathMFARecovery,
	title:  "Use a recovery code",
	lead: func(s *server, p *flowPage) string {
		return "Enter one of the recovery codes you saved when you set up a second way to verify it's you. Each code works once."
	},
	field: func() pageField {
		return pageField{ID: "recovery-code", Name: "code", Label: "Recovery code", Type: "text", Autocomplete: "one-time-code",
			MaxLength: 24, Required: true, NoSpell: true, Hint: "16 letters and digits, like 7K3M-Q9XD-2HVA-WN4R."}
	},
	normalize: mfa.NormalizeRecoveryCode,
	try: func(s *server, m *gatehouse.UserMethod, code string, now time.Time) (mfa.Outcome, error) {
		return mfa.UseRecoveryCode(s.Vault, m, code, now), nil
	},
	msgFormat: "Enter a recovery code: 16 letters and digits, like 7K3M-Q9XD-2HVA-WN4R.",
	msgWrong:  "That recovery code is wrong. Check it and try again.",
	msgUsed:   "That recovery code was already used. Each code works once: enter another one.",
}

// methodNames name the registered methods in sentences.
var methodNames = map[string]string{
	gatehouse.MethodSoftwareOath: "an authenticator app",
	gatehouse.MethodFido2:        "a passkey",
	gatehouse.MethodSMS:          "a phone number for text messages",
	gatehouse.MethodRecoveryCode: "recovery codes",
}

// needsRecoveryCodes reports whether a user registering a second factor
// gets new recovery codes with it: the policy offers them, and the user
// has no other second factor registered and no codes left.
func needsRecoveryCodes(v *methodsView) bool {
	if !v.offers(gatehouse.MethodRecoveryCode) {
		return false
	}
	for _, m := range v.registered {
		if m.Method != gatehouse.MethodRecoveryCode || m.RemainingRecoveryCodes() > 0 {
			return false
		}
	}
	return true
}

// completeRegistration ends the just-in-time registration of m, whose
// confirmation (the code or assertion that proved it) is use. check, if
// set, is the method page's single-use check; it runs first in the
// transaction that creates m. That transaction also audits the
// registration (LC-3) and records the factor on the request. For a user's
// first second factor, when the policy offers recovery codes, it makes a
// new set (replacing spent ones) and the page shows the codes once, with
// a Continue button; otherwise m is created in the transaction that
// completes the sign-in (advance's extra). The user is told by mail
// (RL-5).
func (s *server) completeRegistration(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, m *gatehouse.UserMethod, use gatehouse.MethodUse, check func(gatehouse.Tx) error) {
	ctx := r.Context()
	v, err := loadMethods(ctx, s.Store, p.t.ID, u)
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	create := func(tx gatehouse.Tx, m *gatehouse.UserMethod) error {
		if err := tx.CreateUserMethod(ctx, m); err != nil {
			return err
		}
		return s.auditRegistration(r, tx, u, m)
	}
	register := func(tx gatehouse.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		return create(tx, m)
	}
	if !needsRecoveryCodes(v) {
		recordSecondFactor(p.ar, use)
		// The request holds m while advance decides, so that the factor
		// m proved counts before m is stored.
		p.ar.Progress.Pending = m
		s.advance(w, r, p, u, register)
		if _, err := s.Store.UserMethod(ctx, p.t.ID, m.ID); err == nil {
			s.sendMethodAddedNotice(r, p.t, u, m, false)
		}
		return
	}
	set, codes := mfa.NewRecoveryCodes(s.Vault, p.t.ID, u.ID, newUUID())
	err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		if err := register(tx); err != nil {
			return err
		}
		for _, old := range v.registered {
			if old.Method != gatehouse.MethodRecoveryCode {
				continue
			}
			if err := tx.DeleteUserMethod(ctx, p.t.ID, old.ID); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		if err := create(tx, set); err != nil {
			return err
		}
		updated, err := tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			recordSecondFactor(a, use)
			a.Step, a.Progress = stepRecoveryCodes, a.Progress.Carry()
			return nil
		})
		if err == nil {
			p.ar = updated
		}
		return err
	})
	if s.stepFailed(w, r, p, err) {
		return
	}
	s.Logger.InfoContext(ctx, "recovery codes made", "tenant", p.t.Name, "user_id", u.ID, "method_id", set.ID, "correlation_id", correlationID(ctx))
	s.sendMethodAddedNotice(r, p.t, u, m, true)
	s.showRecoveryCodes(w, r, p, codes)
}

// handleRecoveryCodesPage is where the new recovery codes' page leads:
// Continue (POST) goes on with the sign-in. The codes themselves were
// shown once, by the request that made them; at this step, GET says so.
func (s *server) handleRecoveryCodesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodGet && p.ar.Step == stepRecoveryCodes {
			s.showRecoveryCodes(w, r, p, nil)
			return
		}
		if u, ok := s.requestUser(w, r, p); ok {
			s.advance(w, r, p, u, nil)
		}
	})
}

// showRecoveryCodes renders the page of new recovery codes, or, without
// codes, the page that says they were shown already.
func (s *server) showRecoveryCodes(w http.ResponseWriter, r *http.Request, p *flowPage, codes []string) {
	v := &pageView{Title: "Save your recovery codes", Codes: codes, Form: s.form(p, pathRecoveryCodes, "Continue")}
	if codes != nil {
		v.Lead = []string{
			"If you can't use your other ways to verify it's you, sign in with one of these codes instead. Each code works once.",
			"Save them now somewhere safe, such as a password manager, or print them: they won't be shown again.",
		}
	} else {
		v.Lead = []string{"Your recovery codes were shown once, when they were made, and can't be shown again."}
	}
	s.renderPage(w, r, http.StatusOK, "mfasetup", v, p.ar.RedirectURI)
}

// auditRegistration records, in tx, that the user registered m in a
// sign-in (LC-3), with the user as actor, as Entra's "User registered
// security info".
func (s *server) auditRegistration(r *http.Request, tx gatehouse.Tx, u *gatehouse.User, m *gatehouse.UserMethod) error {
	return tx.CreateAuditEntry(r.Context(), &gatehouse.AuditEntry{
		TenantID: u.TenantID, Time: s.Now(), Category: "UserManagement", Activity: "User registered security info",
		OperationType: "Add", Result: "success", CorrelationID: correlationID(r.Context()),
		Actor: gatehouse.Actor{UserID: u.ID, UserMail: u.Mail, DisplayName: u.DisplayName, IPAddress: clientIP(r)},
		Targets: []gatehouse.AuditTarget{{ID: u.ID, Type: "User", DisplayName: u.DisplayName, ModifiedProperties: []gatehouse.ModifiedProperty{
			{DisplayName: "authenticationMethod", NewValue: jsonText(map[string]string{"id": m.ID, "method": m.Method})},
		}}},
	})
}

// sendMethodAddedNotice tells the user that m was added to their account
// (RL-5): best effort, within noticeTimeout, before the page that
// follows is sent.
func (s *server) sendMethodAddedNotice(r *http.Request, t *gatehouse.Tenant, u *gatehouse.User, m *gatehouse.UserMethod, withCodes bool) {
	if s.Mail == nil || u.Mail == "" {
		return
	}
	name, what := tenantDisplayName(t), methodNames[m.Method]
	text := "You added " + what + " to your " + name + " account just now, as a second way to verify it's you when you sign in."
	if withCodes {
		text += " You were also given ten recovery codes, for when you can't use it."
	}
	text += "\n\nIf you did this, there is nothing else to do.\n\n" +
		"If you didn't, someone else knows your password: reset your " + name + " password and tell the site's administrator."
	msg, err := s.composer.Notice(notify.TenantBranding(t), u.Mail, "A new sign-in method was added to your "+name+" account", text)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "compose method notice", "err", err, "tenant", t.Name)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), noticeTimeout)
	defer cancel()
	if err := s.Mail.Send(ctx, msg); err != nil {
		s.Logger.WarnContext(ctx, "method notice not delivered", "err", err, "tenant", t.Name, "mail_domain", mailDomain(u.Mail), "correlation_id", correlationID(ctx))
	}
}
