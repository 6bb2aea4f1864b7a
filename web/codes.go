package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
)

// Email one-time codes (SECURITY.md EO-1 to EO-5, RL-6). A code is eight
// digits from crypto/rand, stored only as a MAC bound to its sign-in
// transaction, valid for ten minutes, single use, with its own counter of
// wrong tries; a new code invalidates the earlier one. Codes are never
// logged: logs name the tenant, the purpose and the address's domain.
const (
	emailCodeLifetime = 10 * time.Minute
	emailCodeMaxTries = 5
	// emailCodeCooldown is how long a transaction waits between codes it
	// asks for.
	emailCodeCooldown = 30 * time.Second
	// Send limits per hour (RL-6): per address and per client IP.
	codeMailsPerAddress = 10
	codeMailsPerIP      = 30
	// defaultMailTimeout bounds one delivery, whatever the sender does
	// (FT-3), unless Options.MailTimeout says otherwise.
	defaultMailTimeout = 15 * time.Second
)

// Messages about codes.
const (
	msgNoMail = "This server can't send email yet, so it can't send you a code. Contact the site's administrator."
	// What the sign-in page says instead of offering sign-up and password
	// reset when no mail is configured.
	msgNoMailSignUpReset = "You can't create an account or reset your password here yet: this site's administrator has not set up email."
	msgNoMailReset       = "You can't reset your password here yet: this site's administrator has not set up email."
	msgCodeWrong         = "That code is wrong. Check the email and try again."
	msgCodeExpired       = "That code has expired. We sent a new one."
	msgCodeTooMany       = "Too many wrong codes. We sent a new one."
	msgCodeGone          = "That code is no longer valid. Ask for a new code below."
	msgCodeFormat        = "Enter the 8-digit code from the email."
	msgCodeCooldown      = "Wait a few seconds before asking for another code."
	msgCodeMailLimit     = "We've sent several codes to this address in the last hour. Wait a while, then ask for another."
	msgCodeIPLimit       = "Too many codes were asked for from your network. Wait a while, then try again."
	msgCodeResent        = "We sent a new code. Codes sent before it no longer work."
	msgMailRejected      = "We couldn't send email to that address. Check the address and try again."
	msgMailUnavailable   = "We couldn't send the email right now. Please try again in a few minutes."
)

// newCode returns n random decimal digits from crypto/rand: eight for an
// email code (EO-1), six for a text message.
func newCode(n int) string {
	limit := big.NewInt(1)
	for range n {
		limit.Mul(limit, big.NewInt(10))
	}
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		panic("web: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%0*d", n, v)
}

// emailCodeHash is what the store keeps of a code: a MAC under the
// server's key of the code and the transaction it belongs to (EO-4), so a
// code is only ever accepted within its transaction.
func (s *server) emailCodeHash(binding, code string) string {
	return hex.EncodeToString(s.Vault.MAC("email-code", []byte(binding+":"+code)))
}

// codeDelivery is what asking for a code sends.
type codeDelivery int

const (
	// deliverCode sends the code.
	deliverCode codeDelivery = iota
	// deliverAccountExists sends, instead of a sign-up code, a notice that
	// the address already has an account.
	deliverAccountExists
	// deliverNoAccount sends, instead of a code, a notice that the
	// address has no account a code could serve; deliverAccountUnusable
	// one that its account cannot use the code (disabled, or without a
	// password to reset). Every request thus sends one mail, so that what
	// the user sees, how long it takes and what happens when mail fails do
	// not depend on the account (RL-4).
	deliverNoAccount
	deliverAccountUnusable
)

// codeDeliveryFor decides what a code of the purpose sends to mail:
// sign-up codes only to addresses without an account (the others get a
// notice instead), sign-in codes only to enabled accounts, and reset codes
// only to enabled accounts with a password; the others a notice.
func (s *server) codeDeliveryFor(ctx context.Context, t *gatehouse.Tenant, purpose, mail string) (codeDelivery, error) {
	u, err := s.Store.UserByMail(ctx, t.ID, mail)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		u = nil
	} else if err != nil {
		return 0, err
	}
	switch {
	case purpose == gatehouse.CodeSignUp && u != nil:
		return deliverAccountExists, nil
	case purpose == gatehouse.CodeSignUp:
		return deliverCode, nil
	case u == nil:
		return deliverNoAccount, nil
	case (purpose == gatehouse.CodeSignIn || purpose == gatehouse.CodeMFA) && u.AccountEnabled:
		return deliverCode, nil
	case purpose == gatehouse.CodeReset && u.AccountEnabled && u.PasswordHash != "":
		return deliverCode, nil
	}
	return deliverAccountUnusable, nil
}

// codeNotice composes the notice sent instead of a code of the purpose.
func (s *server) codeNotice(brand notify.Branding, t *gatehouse.Tenant, purpose, mail string, delivery codeDelivery) (notify.Message, error) {
	name := tenantDisplayName(t)
	if delivery == deliverAccountExists {
		return s.composer.Notice(brand, mail, "You already have a "+name+" account",
			"Someone, hopefully you, tried to create a "+name+" account with this email address. "+
				"This address already has an account, so we didn't create another one.\n\n"+
				"If it was you, sign in with your password. If you've forgotten it, choose \"Forgot your password?\" on the sign-in page.\n\n"+
				"If it wasn't you, you can ignore this email: nothing has changed.")
	}
	what, subject := "a sign-in code", "Sign-in request for "+name
	if purpose == gatehouse.CodeReset {
		what, subject = "a password reset", "Password reset request for "+name
	}
	why := "there is no account for it. If this wasn't you, you can ignore this email."
	if delivery == deliverAccountUnusable {
		why = "its account can't be used this way. If this wasn't you, you can ignore this email. " +
			"If it was, contact the site's administrator."
	}
	return s.composer.Notice(brand, mail, subject,
		"Someone asked for "+what+" for "+name+" with this email address, but "+why+"\n\nNo code was sent and nothing has changed.")
}

// codeRequest is one request for a code.
type codeRequest struct {
	purpose string
	mail    string // as entered; sent to and kept as pageMail writes it
	step    string // the request's step once the code is sent
	// automatic is a new code sent because the last one expired or had
	// too many wrong tries: it skips the cooldown, not the send limits.
	automatic bool
}

// sendEmailCode makes a new code of the purpose for the authorization
// request and mails it (or the notice codeDeliveryFor decides on instead),
// within the send limits, and moves the request to cr.step. The code, or a
// never-matching stand-in when a notice is sent, is stored whatever is
// delivered, so that every address sees the same pages, limits and
// counters. Failures the user should see are *userError.
func (s *server) sendEmailCode(r *http.Request, p *flowPage, cr codeRequest) error {
	ctx := r.Context()
	if s.Mail == nil {
		return &userError{http.StatusServiceUnavailable, msgNoMail}
	}
	mail := pageMail(cr.mail)
	norm := gatehouse.NormalizeMail(mail)
	delivery, err := s.codeDeliveryFor(ctx, p.t, cr.purpose, norm)
	if err != nil {
		return err
	}
	code := newCode(8)
	hash := s.emailCodeHash(p.ar.ID, code)
	if delivery != deliverCode {
		hash = "unsent:" + randomSecret() // never equal to a MAC
	}
	ip := rateIP(r) // an IPv6 client counts by its /64
	var updated *gatehouse.AuthRequest
	err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		_, err := s.issueCode(ctx, tx, p, codeIssue{purpose: cr.purpose, to: norm, hash: hash, lifetime: emailCodeLifetime,
			cooldown: emailCodeCooldown, cooldownMsg: msgCodeCooldown, automatic: cr.automatic, limits: []sendLimit{
				{"otp-mail:" + norm, codeMailsPerAddress, msgCodeMailLimit},
				{"otp-ip:" + ip, codeMailsPerIP, msgCodeIPLimit},
			}})
		if err != nil {
			return err
		}
		updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			a.Mail, a.Verified, a.Step = mail, false, cr.step
			return nil
		})
		return err
	})
	log := s.Logger.With("tenant", p.t.Name, "purpose", cr.purpose, "mail_domain", mailDomain(norm), "correlation_id", correlationID(ctx))
	if ue := asUserError(err); ue != nil {
		log.InfoContext(ctx, "email code refused", "reason", ue.message)
		return err
	} else if err != nil {
		return err
	}
	p.ar = updated

	var msg notify.Message
	brand := notify.TenantBranding(p.t)
	if delivery == deliverCode {
		purpose := cr.purpose
		if purpose == gatehouse.CodeMFA {
			purpose = notify.PurposeSignIn
		}
		msg, err = s.composer.Code(notify.CodeMail{Branding: brand, To: mail, Code: code, Purpose: purpose,
			ExpiresIn: emailCodeLifetime, RequestIP: clientIP(r)})
	} else {
		msg, err = s.codeNotice(brand, p.t, cr.purpose, mail, delivery)
	}
	if err != nil {
		return fmt.Errorf("compose %s mail: %w", cr.purpose, err)
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.MailTimeout)
	defer cancel()
	if err := s.Mail.Send(sendCtx, msg); err != nil {
		log.WarnContext(ctx, "email code not delivered", "err", err)
		if errors.Is(err, notify.ErrRejected) {
			return &userError{http.StatusBadRequest, msgMailRejected}
		}
		return &userError{http.StatusServiceUnavailable, msgMailUnavailable}
	}
	switch delivery {
	case deliverAccountExists:
		log.InfoContext(ctx, "account-exists notice sent instead of a sign-up code")
	case deliverNoAccount:
		log.InfoContext(ctx, "no-account notice sent instead of a code")
	case deliverAccountUnusable:
		log.InfoContext(ctx, "notice sent instead of a code: the account cannot use it")
	default:
		log.InfoContext(ctx, "email code sent")
	}
	return nil
}

// sendLimit is one send limit of a code (RL-6): at most max codes per
// hour under the counter key; over it, the request is refused with msg.
type sendLimit struct {
	key string
	max int
	msg string
}

// codeIssue is a new code about to be stored for an authorization request.
type codeIssue struct {
	purpose  string
	to       string // the normalized address or E.164 number it goes to
	hash     string
	lifetime time.Duration
	// cooldown is how long the request waits between the codes of the
	// purpose it asks for, unless the code is automatic (the last one
	// expired or had too many wrong tries); cooldownMsg says so.
	cooldown    time.Duration
	cooldownMsg string
	automatic   bool
	limits      []sendLimit
}

// issueCode stores the new code ci in tx, within the cooldown and the send
// limits (a *userError otherwise), and returns it; storing it invalidates
// the request's earlier code of the purpose (EO-3).
func (s *server) issueCode(ctx context.Context, tx gatehouse.Tx, p *flowPage, ci codeIssue) (*gatehouse.EmailCode, error) {
	now := s.Now()
	if !ci.automatic {
		last, err := tx.ActiveEmailCode(ctx, p.t.ID, ci.purpose, p.ar.ID)
		if err == nil && now.Before(last.CreatedAt.Add(ci.cooldown)) {
			return nil, &userError{http.StatusTooManyRequests, ci.cooldownMsg}
		} else if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, err
		}
	}
	for _, l := range ci.limits {
		n, err := tx.Hit(ctx, p.t.ID, l.key, time.Hour, now)
		if err != nil {
			return nil, err
		}
		if n > l.max {
			return nil, &userError{http.StatusTooManyRequests, l.msg}
		}
	}
	c := &gatehouse.EmailCode{TenantID: p.t.ID, Purpose: ci.purpose, Binding: p.ar.ID, Mail: ci.to,
		CodeHash: ci.hash, ExpiresAt: now.Add(ci.lifetime)}
	return c, tx.CreateEmailCode(ctx, c)
}

// codeOutcome is the result of trying a code.
type codeOutcome int

const (
	codeAccepted codeOutcome = iota
	codeWrong
	codeExpired
	codeTooManyTries
	codeGone // consumed, replaced, or never sent
	// codeThrottled: the account had too many wrong codes of late, and the
	// code was not tried (RL-3).
	codeThrottled
)

// tryEmailCode tries code against the request's active code of the
// purpose, in one transaction: the store locks the code, so of concurrent
// tries of one code exactly one is accepted (EO-3). A wrong code counts
// against the code's tries (EO-5); an accepted one is consumed, and
// advance, if set, updates the authorization request in the same
// transaction.
func (s *server) tryEmailCode(ctx context.Context, p *flowPage, purpose, code string, advance func(*gatehouse.AuthRequest)) (codeOutcome, error) {
	var outcome codeOutcome
	var updated *gatehouse.AuthRequest
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		var err error
		updated = nil
		outcome, _, err = s.checkCode(ctx, tx, p, purpose, gatehouse.NormalizeMail(p.ar.Mail), code)
		if err != nil {
			return err
		}
		if outcome != codeAccepted || advance == nil {
			return nil
		}
		updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
			advance(a)
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
	s.Logger.InfoContext(ctx, "email code tried", "tenant", p.t.Name, "purpose", purpose, "result", outcome.String(),
		"mail_domain", mailDomain(p.ar.Mail), "correlation_id", correlationID(ctx))
	return outcome, nil
}

// checkCode tries code, in tx, against the request's active code of the
// purpose sent to to (a normalized address or E.164 number): it locks the
// code, counts a wrong try against it (EO-5) and consumes an accepted one.
//
// wrong reports whether the try counted as a wrong guess.
func (s *server) checkCode(ctx context.Context, tx gatehouse.Tx, p *flowPage, purpose, to, code string) (outcome codeOutcome, wrong bool, err error) {
	want := s.emailCodeHash(p.ar.ID, code)
	now := s.Now()
	active, err := tx.ActiveEmailCode(ctx, p.t.ID, purpose, p.ar.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return codeGone, false, nil
	} else if err != nil {
		return 0, false, err
	}
	outcome = codeGone
	_, err = tx.UpdateEmailCode(ctx, p.t.ID, active.ID, func(c *gatehouse.EmailCode) error {
		switch {
		case !c.ConsumedAt.IsZero() || c.Mail != to:
			outcome = codeGone
		case !now.Before(c.ExpiresAt):
			outcome = codeExpired
		case c.Attempts >= emailCodeMaxTries:
			outcome = codeTooManyTries
		case subtle.ConstantTimeCompare([]byte(c.CodeHash), []byte(want)) == 1:
			c.ConsumedAt = now
			outcome = codeAccepted
		default:
			c.Attempts++
			outcome, wrong = codeWrong, true
			if c.Attempts >= emailCodeMaxTries {
				outcome = codeTooManyTries
			}
		}
		return nil
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return codeGone, false, nil
	} else if err != nil {
		return 0, false, err
	}
	return outcome, wrong, nil
}

func (o codeOutcome) String() string {
	switch o {
	case codeAccepted:
		return "accepted"
	case codeWrong:
		return "wrong"
	case codeExpired:
		return "expired"
	case codeTooManyTries:
		return "too many tries"
	case codeThrottled:
		return "throttled"
	}
	return "no valid code"
}

// cleanCode returns the digits of a code as typed (spaces and hyphens
// dropped), or "" unless they are n digits.
func cleanCode(in string, n int) string {
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, in)
	if len(c) != n {
		return ""
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return c
}

// codePage describes one page where a code is entered: the steps of the
// authorization request it serves, with the purpose of each step's code,
// and what happens once the code is accepted.
type codePage struct {
	path    string // e.g. "/signup/code"
	restart string // the page that asks for the address again
	title   string
	// purposes maps the request steps this page serves to their codes'
	// purpose.
	purposes map[string]string
	// advance moves the request on, in the transaction that accepts the
	// code; next then finishes the request (redirect or sign-in).
	advance func(s *server, a *gatehouse.AuthRequest, purpose string)
	next    func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, purpose string)
	// flowOK reports whether the page belongs to the flow.
	flowOK func(p *flowPage) bool
	// masked shows the address the code went to as j***@example.com (a
	// second factor, whose address the user did not type), and the link
	// back offers another way rather than another address.
	masked bool
	// channel is how the page's codes reach the user; nil for email.
	channel *codeChannel
	// links, if set, are the page's links instead of codeRestartLink's.
	links func(s *server, p *flowPage) []pageLink
	// logAs, if set, is the sign-in log's name of the method whose wrong
	// codes the log records (logFailedCode).
	logAs string
}

// codeChannel is how the codes of a code page reach the user, and what the
// page says about them.
type codeChannel struct {
	digits int
	// send sends a new code of the purpose for the request; automatic is
	// a code sent because the last one expired or had too many wrong
	// tries. Failures the user should see are *userError.
	send func(s *server, r *http.Request, p *flowPage, purpose string, automatic bool) error
	// try tries a code of the purpose, as tryEmailCode does; failures the
	// user should see are *userError.
	try func(s *server, r *http.Request, p *flowPage, purpose, code string, advance func(*gatehouse.AuthRequest)) (codeOutcome, error)
	// sentTo is where the request's code went, as the page shows it
	// (masked or not).
	sentTo func(p *flowPage, masked bool) string
	// What the page says: that no code arrived, that a code has the wrong
	// form, that it is wrong, and that the account may not try for a while.
	noCode, wrongFormat, wrong, throttled string
}

// emailCodes are codes sent by email.
var emailCodes = &codeChannel{
	digits: 8,
	send: func(s *server, r *http.Request, p *flowPage, purpose string, automatic bool) error {
		return s.sendEmailCode(r, p, codeRequest{purpose: purpose, mail: p.ar.Mail, step: p.ar.Step, automatic: automatic})
	},
	try: func(s *server, r *http.Request, p *flowPage, purpose, code string, advance func(*gatehouse.AuthRequest)) (codeOutcome, error) {
		return s.tryEmailCode(r.Context(), p, purpose, code, advance)
	},
	sentTo: func(p *flowPage, masked bool) string {
		if masked {
			return maskMail(p.ar.Mail)
		}
		return p.ar.Mail
	},
	noCode:      "No email? Check your spam folder, or ask for a new code.",
	wrongFormat: msgCodeFormat,
	wrong:       msgCodeWrong,
}

// codes returns the page's channel.
func (cp *codePage) codes() *codeChannel {
	if cp.channel != nil {
		return cp.channel
	}
	return emailCodes
}

// Steps of an authorization request through the hosted pages.
const (
	stepStart         = "start"
	stepSignInCode    = "signin-code"    // passwordless: a sign-in code was sent
	stepSignUpCode    = "signup-code"    // a sign-up code was sent
	stepSignUpDetails = "signup-details" // the address is verified; details next
	stepResetCode     = "reset-code"     // a reset code was sent
	stepResetPassword = "reset-password" // the reset code was accepted
	stepResetDone     = "reset-done"     // the password was changed
)

// handleCodePage serves a page where a code is entered (POST with the
// code), and asks for a new code (POST with action=resend).
func (s *server) handleCodePage(cp codePage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.startFlowPage(w, r); ok {
			s.serveCodePage(w, r, p, cp)
		}
	})
}

// serveCodePage is handleCodePage for a request already loaded.
func (s *server) serveCodePage(w http.ResponseWriter, r *http.Request, p *flowPage, cp codePage) {
	if !cp.flowOK(p) {
		s.redirectTo(w, r, p, startPage(p))
		return
	}
	purpose, ok := cp.purposes[p.ar.Step]
	if !ok {
		s.redirectTo(w, r, p, cp.restart)
		return
	}
	if r.Method == http.MethodGet {
		s.showCodePage(w, r, p, cp, http.StatusOK, "", "", "")
		return
	}
	ch := cp.codes()
	if r.PostForm.Get("action") == "resend" {
		err := ch.send(s, r, p, purpose, false)
		if ue := asUserError(err); ue != nil {
			s.showCodePage(w, r, p, cp, ue.status, "", ue.message, "")
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.showCodePage(w, r, p, cp, http.StatusOK, msgCodeResent, "", "")
		return
	}
	code := cleanCode(r.PostForm.Get("code"), ch.digits)
	if code == "" {
		s.showCodePage(w, r, p, cp, http.StatusBadRequest, "", "", ch.wrongFormat)
		return
	}
	var advance func(*gatehouse.AuthRequest)
	if cp.advance != nil {
		advance = func(a *gatehouse.AuthRequest) { cp.advance(s, a, purpose) }
	}
	outcome, err := ch.try(s, r, p, purpose, code, advance)
	if ue := asUserError(err); ue != nil {
		s.showCodePage(w, r, p, cp, ue.status, "", ue.message, "")
		return
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	switch outcome {
	case codeAccepted:
		cp.next(s, w, r, p, purpose)
	case codeWrong:
		if cp.logAs != "" && (purpose == gatehouse.CodeSignIn || cp.masked) {
			s.logFailedCode(r, p, cp.logAs, cp.masked)
		}
		s.showCodePage(w, r, p, cp, http.StatusBadRequest, "", "", ch.wrong)
	case codeGone:
		s.showCodePage(w, r, p, cp, http.StatusBadRequest, "", "", msgCodeGone)
	case codeThrottled:
		s.showCodePage(w, r, p, cp, http.StatusTooManyRequests, "", ch.throttled, "")
	default:
		msg := msgCodeExpired
		if outcome == codeTooManyTries {
			msg = msgCodeTooMany
		}
		err := ch.send(s, r, p, purpose, true)
		if ue := asUserError(err); ue != nil {
			// The old code is dead and no new one went out: say both.
			first, _, _ := strings.Cut(msg, ".")
			s.showCodePage(w, r, p, cp, ue.status, "", first+". "+ue.message, "")
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.showCodePage(w, r, p, cp, http.StatusBadRequest, "", "", msg)
	}
}

// showCodePage renders a code page with a status notice, an alert about
// the page, or an error about the code field.
func (s *server) showCodePage(w http.ResponseWriter, r *http.Request, p *flowPage, cp codePage, status int, notice, alert, codeError string) {
	f := codeField()
	f.Error = codeError
	f.AlertLinked = alert != ""
	verify := s.form(p, cp.path, "Verify", f)
	resend := s.form(p, cp.path, "Send a new code")
	resend.Hidden = []pageHidden{{"action", "resend"}}
	resend.Secondary = true
	resend.Class = "resend"
	ch := cp.codes()
	links := []pageLink{s.codeRestartLink(p, cp)}
	if cp.links != nil {
		links = cp.links(s, p)
	}
	s.show(w, r, p, status, &pageView{
		Title: cp.title,
		Lead: []string{
			"We sent a code to " + ch.sentTo(p, cp.masked) + ". Enter it below. It expires in 10 minutes.",
			ch.noCode,
		},
		Notice: notice,
		Alert:  alert,
		Form:   verify,
		Extra:  []*pageForm{resend},
		Links:  links,
	})
}

// codeRestartLink is the code page's way back: another address, or, for
// a second factor, another method.
func (s *server) codeRestartLink(p *flowPage, cp codePage) pageLink {
	if cp.masked {
		return s.link(p, "", "Use another way to verify", cp.restart)
	}
	return s.link(p, "", "Use a different email address", cp.restart)
}

// startPage is the first page of the flow.
func startPage(p *flowPage) string {
	if p.passwordFlow() {
		return "/login"
	}
	return "/login/email"
}
