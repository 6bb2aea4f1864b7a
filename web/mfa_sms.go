package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/signin"
)

// Text message (SMS) codes: a second factor for users with a phone, and
// the registration of that phone just in time. A code is six digits from
// crypto/rand (what people expect of a text message, and what phones
// offer to fill in), stored only as a MAC bound to its sign-in, valid for
// ten minutes, single use, with at most five wrong tries, like an email
// code (EO-2 to EO-5). Because six digits are fewer than eight, and
// because an attacker who has the password can open any number of
// sign-ins, every user also has one counter of wrong codes across all
// their sign-ins (RL-3): after smsFreeFailures, each try waits 2^(n-10)
// minutes after the last failure, at most smsMaxDelay, until a code is
// accepted; a delay never locks anyone out for good (RL-2). Sending is
// limited per number, per user and per client address (RL-6): text
// messages cost money, and a flood of them to numbers an attacker chose
// is a known fraud (SMS pumping). A user has one phone (Graph's "mobile").
const (
	smsCodeDigits   = 6
	smsCodeCooldown = time.Minute
	// Send limits per hour (RL-6).
	smsPerNumber = 5
	smsPerUser   = 10
	smsPerIP     = 20
	// Wrong codes per user, across sign-ins (RL-3).
	smsFreeFailures = 10
	smsMaxDelay     = time.Hour
	// smsSendTimeout bounds one delivery, whatever the gateway does.
	smsSendTimeout = 15 * time.Second
)

// Steps of a request whose text message code was sent: as a second
// factor, or to verify a phone being registered.
const (
	stepMFASMS      = "mfa-sms"
	stepRegisterSMS = "register-sms"
)

// Messages about text messages.
const (
	msgNoSMS          = "This server can't send text messages, so it can't send you a code. Choose another way, or contact the site's administrator."
	msgSMSCooldown    = "Wait a minute before asking for another code."
	msgSMSNumberLimit = "We've sent several codes to this number in the last hour. Wait a while, then ask for another."
	msgSMSUserLimit   = "We've sent several codes for your account in the last hour. Wait a while, then ask for another."
	msgSMSIPLimit     = "Too many codes were asked for from your network. Wait a while, then try again."
	msgSMSUnavailable = "We couldn't send the text message right now. Please try again in a few minutes, or choose another way."
	msgSMSRejected    = "We couldn't send a text message to that number. Check the number, or use another one."
	msgSMSThrottled   = "Too many wrong codes were entered for your account. Wait a few minutes, then try again."
	msgPhoneTaken     = "You have a phone for text messages already: use it to verify it's you."
	msgPhoneGone      = "That phone is no longer registered for your account. Choose another way."
)

// smsDelay is how long after the last of n consecutive wrong codes of a
// user the next try must wait.
func smsDelay(n int) time.Duration {
	return growingDelay(n, smsFreeFailures, time.Minute, smsMaxDelay)
}

// smsStrikeKey is the key of a user's record of wrong text message codes.
func smsStrikeKey(userID string) string { return "sms:" + userID }

// smsSend is one request for a text message code.
type smsSend struct {
	phone string // E.164
	step  string // the request's step once the code is sent
	// pending, when set, is the phone being registered, kept on the
	// request until its code is accepted.
	pending   *gatehouse.UserMethod
	automatic bool // the last code expired or had too many wrong tries
}

// sendSMSCode makes a new code for the request, within the send limits,
// moves the request to ss.step and texts the code to ss.phone. When the
// gateway fails, the code is withdrawn (it never arrived, and must not
// hold up the next one) and the request keeps its step. Failures the user
// should see are *userError.
func (s *server) sendSMSCode(r *http.Request, p *flowPage, ss smsSend) error {
	ctx := r.Context()
	if s.SMS == nil {
		return &userError{http.StatusServiceUnavailable, msgNoSMS}
	}
	code := newCode(smsCodeDigits)
	ip := rateIP(r)
	prevStep := p.ar.Step
	var sent *gatehouse.EmailCode
	var updated *gatehouse.AuthRequest
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		var err error
		sent, err = s.issueCode(ctx, tx, p, codeIssue{purpose: gatehouse.CodeSMS, to: ss.phone, hash: s.emailCodeHash(p.ar.ID, code),
			lifetime: emailCodeLifetime, cooldown: smsCodeCooldown, cooldownMsg: msgSMSCooldown, automatic: ss.automatic,
			limits: []sendLimit{
				{"sms-phone:" + ss.phone, smsPerNumber, msgSMSNumberLimit},
				{"sms-user:" + p.ar.UserID, smsPerUser, msgSMSUserLimit},
				{"sms-ip:" + ip, smsPerIP, msgSMSIPLimit},
			}})
		if err != nil {
			return err
		}
		updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			a.Step, a.Progress.Phone = ss.step, ss.phone
			if ss.pending != nil {
				a.Progress.Pending = ss.pending
			}
			return nil
		})
		return err
	})
	log := s.Logger.With("tenant", p.t.Name, "user_id", p.ar.UserID, "phone", notify.RedactPhone(ss.phone), "correlation_id", correlationID(ctx))
	if ue := asUserError(err); ue != nil {
		log.InfoContext(ctx, "text message code refused", "reason", ue.message)
		return err
	} else if err != nil {
		return err
	}
	p.ar = updated

	u, err := url.Parse(s.PublicURL)
	if err != nil {
		return err
	}
	msg, err := notify.CodeSMS{Branding: notify.TenantBranding(p.t), To: ss.phone, Code: code, ExpiresIn: emailCodeLifetime,
		Domain: u.Hostname()}.Text()
	if err != nil {
		return err
	}
	sendCtx, cancel := context.WithTimeout(ctx, smsSendTimeout)
	defer cancel()
	if err := s.SMS.Send(sendCtx, msg); err != nil {
		log.WarnContext(ctx, "text message code not delivered", "err", err)
		if werr := s.withdrawCode(ctx, p, sent, prevStep); werr != nil {
			return werr
		}
		if errors.Is(err, notify.ErrRejected) {
			return &userError{http.StatusBadRequest, msgSMSRejected}
		}
		return &userError{http.StatusServiceUnavailable, msgSMSUnavailable}
	}
	log.InfoContext(ctx, "text message code sent")
	return nil
}

// withdrawCode consumes a code that was never delivered and puts the
// request back at step, unless the request has moved on meanwhile.
func (s *server) withdrawCode(ctx context.Context, p *flowPage, c *gatehouse.EmailCode, step string) error {
	now := s.Now()
	var updated *gatehouse.AuthRequest
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		if _, err := tx.UpdateEmailCode(ctx, p.t.ID, c.ID, func(c *gatehouse.EmailCode) error {
			if c.ConsumedAt.IsZero() {
				c.ConsumedAt = now
			}
			return nil
		}); err != nil {
			return err
		}
		var err error
		updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			if a.Step == p.ar.Step {
				a.Step = step
			}
			return nil
		})
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil // the request or the code is gone: nothing to withdraw
	} else if err != nil {
		return err
	}
	p.ar = updated
	return nil
}

// smsAccept is what a text message code, once accepted, does in the
// transaction that accepts it: it returns the update of the request that
// records the factor (a *userError refuses the code after all, and the
// transaction writes nothing).
type smsAccept func(s *server, r *http.Request, tx gatehouse.Tx, p *flowPage, now time.Time) (func(*gatehouse.AuthRequest), error)

// smsCodes returns the codes of a page whose accepted code does accept.
func smsCodes(accept smsAccept) *codeChannel {
	return &codeChannel{
		digits: smsCodeDigits,
		send: func(s *server, r *http.Request, p *flowPage, purpose string, automatic bool) error {
			return s.sendSMSCode(r, p, smsSend{phone: p.ar.Progress.Phone, step: p.ar.Step, automatic: automatic})
		},
		try: func(s *server, r *http.Request, p *flowPage, purpose, code string, advance func(*gatehouse.AuthRequest)) (codeOutcome, error) {
			return s.trySMSCode(r, p, code, accept)
		},
		sentTo: func(p *flowPage, masked bool) string {
			if masked {
				return maskPhone(p.ar.Progress.Phone)
			}
			return p.ar.Progress.Phone
		},
		noCode:      "No text message? It can take a minute. Check the number, or ask for a new code.",
		wrongFormat: "Enter the 6-digit code from the text message.",
		wrong:       "That code is wrong. Check the text message and try again.",
		throttled:   msgSMSThrottled,
	}
}

// trySMSCode tries a text message code in one transaction: first the
// user's record of wrong codes across sign-ins (RL-3), which it locks and
// which may refuse the try; then the code itself (locked too, so that of
// concurrent tries of one code exactly one is accepted, EO-3); a wrong
// code counts on both, an accepted one clears the user's record and runs
// accept.
func (s *server) trySMSCode(r *http.Request, p *flowPage, code string, accept smsAccept) (codeOutcome, error) {
	ctx := r.Context()
	now := s.Now()
	key := smsStrikeKey(p.ar.UserID)
	phone := p.ar.Progress.Phone
	var outcome codeOutcome
	var updated *gatehouse.AuthRequest
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		outcome, updated = codeGone, nil
		n, last, err := tx.Strikes(ctx, p.t.ID, key)
		if err != nil {
			return err
		}
		if now.Before(last.Add(smsDelay(n))) {
			outcome = codeThrottled
			return nil
		}
		var wrong bool
		if outcome, wrong, err = s.checkCode(ctx, tx, p, gatehouse.CodeSMS, phone, code); err != nil {
			return err
		}
		if wrong {
			_, err := tx.AddStrike(ctx, p.t.ID, key, now)
			return err
		}
		if outcome != codeAccepted {
			return nil
		}
		if err := tx.ClearStrikes(ctx, p.t.ID, key); err != nil {
			return err
		}
		record, err := accept(s, r, tx, p, now)
		if err != nil {
			return err
		}
		updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			record(a)
			a.Progress = a.Progress.Carry()
			return nil
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	if updated != nil {
		p.ar = updated
	}
	s.Logger.InfoContext(ctx, "text message code tried", "tenant", p.t.Name, "user_id", p.ar.UserID, "result", outcome.String(),
		"phone", notify.RedactPhone(phone), "correlation_id", correlationID(ctx))
	return outcome, nil
}

// userPhone returns the user's phone for text messages, or nil.
func userPhone(ctx context.Context, rd gatehouse.Reader, tenantID, userID string) (*gatehouse.UserMethod, error) {
	ms, err := rd.UserMethods(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Method == gatehouse.MethodSMS {
			return m, nil
		}
	}
	return nil, nil
}

// mfaSMSCodePage is where a user enters the code texted to their phone as
// a second factor. The accepted code counts for the phone it went to, if
// the user still has it (LC-2).
var mfaSMSCodePage = codePage{
	path:     "/login/mfa/sms",
	logAs:    "Text message",
	restart:  "/login/mfa",
	title:    "Check your phone",
	purposes: map[string]string{stepMFASMS: gatehouse.CodeSMS},
	flowOK:   func(p *flowPage) bool { return true },
	masked:   true,
	channel: smsCodes(func(s *server, r *http.Request, tx gatehouse.Tx, p *flowPage, now time.Time) (func(*gatehouse.AuthRequest), error) {
		m, err := userPhone(r.Context(), tx, p.t.ID, p.ar.UserID)
		if err != nil {
			return nil, err
		}
		if m == nil || m.Phone != p.ar.Progress.Phone {
			return nil, &userError{http.StatusConflict, msgPhoneGone}
		}
		if _, err := tx.UpdateUserMethod(r.Context(), p.t.ID, m.ID, func(m *gatehouse.UserMethod) error {
			m.LastUsedAt = now
			return nil
		}); err != nil {
			return nil, err
		}
		return func(a *gatehouse.AuthRequest) {
			recordSecondFactor(a, gatehouse.MethodUse{Method: gatehouse.MethodSMS, MethodID: m.ID, At: now})
		}, nil
	}),
	next: continueSignIn,
}

// continueSignIn is the next step of a code page whose accepted code
// recorded a factor: the dispatcher decides.
func continueSignIn(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, purpose string) {
	u, ok := s.requestUser(w, r, p)
	if !ok {
		return
	}
	s.advance(w, r, p, u, nil)
}

// handleMFASMSPage serves the text message second factor: it offers to
// text a code to the user's phone, POST action=start sends it, and the
// code page takes it from there.
func (s *server) handleMFASMSPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.secondFactorState(w, r, p, gatehouse.MethodSMS, signin.SecondFactor)
		if !ok {
			return
		}
		start := r.Method == http.MethodPost && r.PostForm.Get("action") == "start"
		if !start && p.ar.Step == stepMFASMS {
			s.serveCodePage(w, r, p, mfaSMSCodePage)
			return
		}
		m, err := userPhone(r.Context(), s.Store, p.t.ID, u.ID)
		if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		if m == nil { // secondFactorState offers SMS only to a user with a phone
			s.advance(w, r, p, u, nil)
			return
		}
		show := func(status int, alert string) {
			f := s.form(p, mfaSMSCodePage.path, "Text me a code")
			f.Hidden = []pageHidden{{"action", "start"}}
			s.show(w, r, p, status, &pageView{Title: "Verify it's you", Alert: alert,
				Lead:  []string{"We'll send a code by text message to your phone, " + maskPhone(m.Phone) + "."},
				Form:  f,
				Links: []pageLink{s.link(p, "", "Use another way", "/login/mfa")}})
		}
		if !start {
			show(http.StatusOK, "")
			return
		}
		err = s.sendSMSCode(r, p, smsSend{phone: m.Phone, step: stepMFASMS})
		if ue := asUserError(err); ue != nil {
			show(ue.status, ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, mfaSMSCodePage.path)
	})
}

// registerSMSCodePage is where a user enters the code texted to the phone
// they are registering. The accepted code registers the phone, audited
// (LC-3), and counts as the sign-in's second factor; the user is told by
// email (RL-5).
var registerSMSCodePage = codePage{
	path:     "/login/register/sms",
	restart:  "/login/register/sms",
	title:    "Check your phone",
	purposes: map[string]string{stepRegisterSMS: gatehouse.CodeSMS},
	flowOK:   func(p *flowPage) bool { return true },
	links: func(s *server, p *flowPage) []pageLink {
		change := s.link(p, "", "Use a different number", "/login/register/sms")
		change.Href += "&change=1"
		return []pageLink{change, s.link(p, "", "Use another way", "/login/mfa")}
	},
	channel: smsCodes(func(s *server, r *http.Request, tx gatehouse.Tx, p *flowPage, now time.Time) (func(*gatehouse.AuthRequest), error) {
		ctx := r.Context()
		pending := p.ar.Progress.Pending
		if pending == nil || pending.Method != gatehouse.MethodSMS || pending.Phone != p.ar.Progress.Phone {
			return nil, &userError{http.StatusConflict, msgCodeGone}
		}
		u, err := tx.User(ctx, p.t.ID, p.ar.UserID)
		if err != nil {
			return nil, err
		}
		m := &gatehouse.UserMethod{TenantID: p.t.ID, UserID: u.ID, Method: gatehouse.MethodSMS, DisplayName: pending.DisplayName,
			Phone: pending.Phone, LastUsedAt: now}
		if err := tx.CreateUserMethod(ctx, m); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return nil, &userError{http.StatusConflict, msgPhoneTaken}
		} else if err != nil {
			return nil, err
		}
		if err := tx.CreateAuditEntry(ctx, s.selfServiceAudit(r, p.t, u, "User registered security info", "Add", nil,
			map[string]string{"authenticationMethod": methodLabel(m)})); err != nil {
			return nil, err
		}
		return func(a *gatehouse.AuthRequest) {
			recordSecondFactor(a, gatehouse.MethodUse{Method: gatehouse.MethodSMS, MethodID: m.ID, At: now})
		}, nil
	}),
	next: func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, purpose string) {
		u, ok := s.requestUser(w, r, p)
		if !ok {
			return
		}
		if ms, err := userPhone(r.Context(), s.Store, p.t.ID, u.ID); err == nil && ms != nil {
			by := "you, while signing in"
			if p.ar.Purpose == gatehouse.PurposeAccount {
				by = "you, on the security info page"
			}
			s.notifyMethodChange(r.Context(), p.t, u, "added", methodLabel(ms), by)
		}
		s.advance(w, r, p, u, nil)
	},
}

// phoneField is the input of a phone number.
func phoneField(value string) pageField {
	return pageField{ID: "phone", Name: "phone", Label: "Mobile phone number", Type: "tel", Value: value,
		Autocomplete: "tel", InputMode: "tel", MaxLength: 40, Required: true, NoSpell: true,
		Hint: "Start with + and your country code, like +41 44 668 18 00."}
}

// handleRegisterSMSPage registers a phone just in time: it asks for the
// number (E.164, typed with the separators people use), texts it a code,
// and the code page registers the phone once the code comes back. GET
// with change=1 asks for another number.
func (s *server) handleRegisterSMSPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if _, ok := s.secondFactorState(w, r, p, gatehouse.MethodSMS, signin.Register); !ok {
			return
		}
		post := r.Method == http.MethodPost
		_, typed := r.PostForm["phone"]
		switch {
		case post && typed:
		case post && r.PostForm.Get("action") == "start", !post && r.URL.Query().Get("change") != "":
			s.showPhoneForm(w, r, p, http.StatusOK, p.ar.Progress.Phone, "", "")
			return
		case p.ar.Step == stepRegisterSMS:
			s.serveCodePage(w, r, p, registerSMSCodePage)
			return
		default:
			s.showPhoneForm(w, r, p, http.StatusOK, "", "", "")
			return
		}
		in := r.PostForm.Get("phone")
		phone, err := gatehouse.ParsePhone("phone", in)
		if err != nil {
			s.showPhoneForm(w, r, p, http.StatusBadRequest, in, "", gatehouse.ErrorMessage(err))
			return
		}
		err = s.sendSMSCode(r, p, smsSend{phone: phone, step: stepRegisterSMS,
			pending: &gatehouse.UserMethod{Method: gatehouse.MethodSMS, DisplayName: "Mobile", Phone: phone}})
		if ue := asUserError(err); ue != nil {
			if ue.message == msgSMSRejected {
				s.showPhoneForm(w, r, p, ue.status, in, "", ue.message)
			} else {
				s.showPhoneForm(w, r, p, ue.status, in, ue.message, "")
			}
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, registerSMSCodePage.path)
	})
}

// showPhoneForm renders the form that asks for the phone to register,
// with an alert about the page or an error about the number.
func (s *server) showPhoneForm(w http.ResponseWriter, r *http.Request, p *flowPage, status int, value, alert, fieldError string) {
	f := phoneField(value)
	f.Error = fieldError
	f.AlertLinked = alert != ""
	s.show(w, r, p, status, &pageView{
		Title: "Add your phone",
		Lead: []string{"Enter your mobile number. We'll text it a code to check that it's yours; " +
			"from then on, a code sent to it can verify it's you when you sign in."},
		Alert: alert,
		Form:  s.form(p, registerSMSCodePage.path, "Text me a code", f),
		Links: []pageLink{s.link(p, "", "Use another way", "/login/mfa")},
	})
}

// smsConfigured reports whether the server can send text messages, which
// the SMS method needs to be offered.
func (s *server) smsConfigured() bool { return s.SMS != nil }

// checkSMSEnable refuses to turn the SMS method on where no text message
// could be sent, naming what is missing.
func (s *server) checkSMSEnable(method string, in *methodConfigInput) error {
	if method == gatehouse.MethodSMS && in.State != nil && *in.State == "enabled" && !s.smsConfigured() {
		return gatehouse.FieldErrorf("state", "Sms cannot be enabled: this server has no SMS gateway, so it could not send a code. "+
			"Start Gatehouse with --sms-webhook-url and --sms-webhook-secret (or, for development, --dev-mailbox), then enable it.")
	}
	return nil
}

// smsCheck says, for /readyz, what is known of the SMS gateway: whether
// there is one and whether its last delivery went through. Like mail, it
// does not decide readiness.
func (s *server) smsCheck() string {
	switch {
	case s.SMS == nil:
		return "not configured: text messages are not offered as a second factor"
	case s.Mailbox != nil && s.SMS == s.Mailbox.SMS():
		return "development mailbox: text messages are kept in memory, not delivered"
	}
	st, ok := s.SMS.(interface{ Status() notify.Status })
	if !ok {
		return "configured"
	}
	switch s := st.Status(); {
	case s.Failing():
		return "failing: the last attempt to send a text message, at " + s.LastFailed.UTC().Format(time.RFC3339) + ", failed (see the log); codes may not arrive"
	case !s.LastReached.IsZero():
		return "ok: the SMS gateway was last reached at " + s.LastReached.UTC().Format(time.RFC3339)
	}
	return "configured: the SMS gateway has not been contacted yet"
}
