package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
)

// Password sign-in is throttled two ways. Per client IP, a fixed window
// of attempts. Per address (RL-1, RL-2), from the address's failure record
// in the database (Tx.Strikes): the first signInFreeFailures consecutive
// failures cost nothing, each later attempt waits until the last failure
// plus 2^(n-5) seconds (at most signInMaxDelay), and after
// signInMaxFailures consecutive failures password sign-in stops until the
// password is reset or a day passes without a failure (the store then
// drops the record). A delay never locks anyone out for good. The record
// is kept per normalized address, whether or not the address has an
// account, and read the same way for both, so that throttling does not
// tell which addresses have accounts (RL-4).
const (
	defaultSignInsPerIP = 300
	signInIPWindow      = 5 * time.Minute
	signInFreeFailures  = 5
	signInMaxFailures   = 100
	signInMaxDelay      = 15 * time.Minute
)

// Messages of sign-in. The first two are the same for every address,
// whether or not it has an account (RL-4).
const (
	msgSignInIncorrect = "The email address or password is incorrect."
	msgSignInThrottled = "Too many failed attempts. Wait a few minutes, or reset your password."
	// msgSignInThrottledNoMail is msgSignInThrottled on a server that
	// cannot send the codes of a password reset.
	msgSignInThrottledNoMail = "Too many failed attempts. Wait a few minutes and try again."
	msgSignInIPLimit         = "Too many sign-in attempts from your network. Wait a few minutes and try again."
	msgSignInFailed          = "We couldn't sign you in. Go back to the application and sign in again."
)

// signInDelay is how long after the last of n consecutive failures the
// next password attempt must wait.
func signInDelay(n int) time.Duration {
	return growingDelay(n, signInFreeFailures, time.Second, signInMaxDelay)
}

// growingDelay is the wait after n consecutive failures of which the first
// free cost nothing: unit, doubled with each further failure, at most ceiling
// (RL-2).
func growingDelay(n, free int, unit, ceiling time.Duration) time.Duration {
	if n < free {
		return 0
	}
	if d := unit << (n - free); n-free < 62 && d > 0 && d < ceiling {
		return d
	}
	return ceiling
}

// signInRefused reports whether an address with n consecutive failures,
// the last at last, may not try a password now.
func signInRefused(n int, last, now time.Time) bool {
	return n >= signInMaxFailures || now.Before(last.Add(signInDelay(n)))
}

// prefillMail is the address a page offers: the one this sign-in has used
// so far, or the application's login_hint.
func prefillMail(ar *gatehouse.AuthRequest) string {
	if ar.Mail != "" {
		return ar.Mail
	}
	return ar.LoginHint
}

// handleLoginPage is the email and password sign-in page of flows with the
// EmailPassword-OAUTH identity provider.
func (s *server) handleLoginPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if !p.passwordFlow() {
			s.redirectTo(w, r, p, "/login/email")
			return
		}
		if r.Method == http.MethodGet {
			s.showLogin(w, r, p, http.StatusOK, prefillMail(p.ar), "", "", "")
			return
		}
		mail, pw := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
		mailErr, pwErr := checkMailInput(mail), ""
		if pw == "" {
			pwErr = "Enter your password."
		}
		if mailErr != "" || pwErr != "" {
			s.showLogin(w, r, p, http.StatusBadRequest, mail, mailErr, pwErr, "")
			return
		}
		u, accepted, err := s.passwordSignIn(r, p, mail, pw)
		if ue := asUserError(err); ue != nil {
			s.showLogin(w, r, p, ue.status, mail, "", "", ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		recordFirstFactor(p.ar, u, gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: s.Now()})
		p.ar.Mail = u.Mail
		// A password on the list of breached and common passwords raises
		// the user's risk (risk.LeakedCredentials).
		p.ar.Progress.BreachedPassword = password.IsCommon(pw)
		s.advance(w, r, p, u, accepted)
	})
}

func (s *server) showLogin(w http.ResponseWriter, r *http.Request, p *flowPage, status int, mail, mailErr, pwErr, alert string) {
	ef := emailField(mail, "username")
	ef.Error = mailErr
	pf := passwordField()
	pf.Error = pwErr
	pf.AlertLinked = alert != ""
	// Sign-up and password reset send codes by email: without mail they
	// would end on an error, so the page does not offer them and says why.
	lead := []string{"Sign in with your email address and password."}
	var links []pageLink
	switch {
	case s.Mail == nil && p.flow.SignUpAllowed:
		lead = append(lead, msgNoMailSignUpReset)
	case s.Mail == nil:
		lead = append(lead, msgNoMailReset)
	default:
		links = append(links, s.link(p, "", "Forgot your password?", "/reset"))
		if p.flow.SignUpAllowed {
			links = append(links, s.link(p, "No account?", "Sign up", "/signup"))
		}
	}
	s.showSignIn(w, r, p, status, &pageView{
		Title: "Sign in",
		Lead:  lead,
		Alert: alert,
		Form:  s.form(p, "/login", "Sign in", ef, pf),
		Links: links,
	})
}

// showSignIn renders a first page of the sign-in, with the button that
// signs in with a passkey where the flow offers it.
func (s *server) showSignIn(w http.ResponseWriter, r *http.Request, p *flowPage, status int, v *pageView) {
	passkey, err := s.passkeySignInForm(r.Context(), p)
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	if passkey != nil {
		v.Extra = append(v.Extra, passkey)
	}
	s.show(w, r, p, status, v)
}

// passwordSignIn checks an address and password within the limits, and
// returns the user they sign in and what the sign-in's next transaction
// must write for the accepted password (clear the address's failure
// record, store a rehash), so that a sign-in that needs nothing more
// writes once after the password check. Unknown addresses, users without
// a password, wrong passwords and disabled accounts all get the same
// *userError, after the same argon2id work (RL-4).
func (s *server) passwordSignIn(r *http.Request, p *flowPage, mail, pw string) (*gatehouse.User, func(gatehouse.Tx) error, error) {
	ctx := r.Context()
	t := p.t
	now := s.Now()
	norm := gatehouse.NormalizeMail(mail)
	log := s.Logger.With("tenant", t.Name, "client_id", p.ar.ClientID, "method", "pwd", "remote", clientIP(r), "correlation_id", correlationID(ctx))

	// Take the attempt: count it against the IP, and against the address
	// before the password is checked, so that concurrent attempts cannot
	// slip past the delay (Strikes locks the address's record); a success
	// clears the address's record. Every address, with an account or not,
	// is throttled by the same record (RL-4).
	var u *gatehouse.User
	var refused, ipLimited bool
	key := signInStrikeKey(norm)
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		u, refused, ipLimited = nil, false, false
		n, err := tx.Hit(ctx, t.ID, "signin-ip:"+rateIP(r), signInIPWindow, now)
		if err != nil {
			return err
		}
		if n > s.signInsPerIP() {
			ipLimited = true
			return nil
		}
		failures, last, err := tx.Strikes(ctx, t.ID, key)
		if err != nil {
			return err
		}
		if signInRefused(failures, last, now) {
			refused = true
			return nil
		}
		if _, err := tx.AddStrike(ctx, t.ID, key, now); err != nil {
			return err
		}
		u, err = tx.UserByMail(ctx, t.ID, norm)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			u, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case ipLimited:
		log.InfoContext(ctx, "sign-in refused", "reason", "too many attempts from this IP")
		return nil, nil, &userError{http.StatusTooManyRequests, msgSignInIPLimit}
	case refused:
		log.InfoContext(ctx, "sign-in refused", "reason", "too many failed attempts")
		if s.Mail == nil {
			return nil, nil, &userError{http.StatusTooManyRequests, msgSignInThrottledNoMail}
		}
		return nil, nil, &userError{http.StatusTooManyRequests, msgSignInThrottled}
	}

	encoded := ""
	if u != nil {
		encoded = u.PasswordHash
	}
	ok, rehash, err := s.Passwords.Verify(ctx, encoded, pw)
	switch gatehouse.ErrorCode(err) {
	case "":
	case gatehouse.EINVALID: // longer than any password can be
		ok = false
	default:
		return nil, nil, err
	}
	if !ok || u == nil || !u.AccountEnabled {
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "unknown account"
		case u.PasswordHash == "":
			reason = "account has no password"
		case ok:
			reason = "account disabled"
		}
		log.InfoContext(ctx, "sign-in failed", "reason", reason, "user_id", userID(u))
		status := gatehouse.SignInStatus{ErrorCode: gatehouse.SignInInvalidCredentials, FailureReason: "Invalid username or password."}
		if ok && u != nil {
			status = gatehouse.SignInStatus{ErrorCode: gatehouse.SignInAccountDisabled, FailureReason: "The account is disabled."}
		}
		s.logFailedFirstFactor(r, p, u, mail, gatehouse.AuthenticationDetail{Method: "Password", At: now, Requirement: "Primary authentication",
			ResultDetail: "Invalid username or password"}, status)
		return nil, nil, &userError{http.StatusBadRequest, msgSignInIncorrect}
	}

	var newHash string
	if rehash { // PW-10: the stored hash is weaker than today's parameters
		if newHash, err = s.Passwords.Hash(ctx, pw); err != nil {
			log.WarnContext(ctx, "password rehash skipped", "err", err)
			newHash = ""
		}
	}
	accepted := func(tx gatehouse.Tx) error {
		if err := tx.ClearStrikes(ctx, t.ID, key); err != nil {
			return err
		}
		if newHash == "" {
			return nil
		}
		_, err := tx.UpdateUser(ctx, t.ID, u.ID, func(x *gatehouse.User) error {
			x.PasswordHash = newHash
			return nil
		})
		return err
	}
	log.InfoContext(ctx, "password accepted", "user_id", u.ID, "rehashed", newHash != "")
	return u, accepted, nil
}

func (s *server) updateUser(ctx context.Context, tenantID, id string, fn func(*gatehouse.User) error) (*gatehouse.User, error) {
	var u *gatehouse.User
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		var err error
		u, err = tx.UpdateUser(ctx, tenantID, id, fn)
		return err
	})
	return u, err
}

func userID(u *gatehouse.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}

// signInStrikeKey is the key of the failure record of password sign-in
// with the normalized address norm, whether or not it has an account.
func signInStrikeKey(norm string) string { return "signin:" + norm }

// handleEmailLoginPage is the first page of passwordless flows
// (EmailOtpSignup-OAUTH): it asks for the address and sends a code, a
// sign-in code to an account and, where sign-up is allowed, a sign-up code
// to a new address. What the page says does not depend on which (RL-4).
func (s *server) handleEmailLoginPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		if p.passwordFlow() {
			s.redirectTo(w, r, p, "/login")
			return
		}
		if s.Mail == nil {
			s.showError(w, r, p, http.StatusServiceUnavailable, msgNoMail)
			return
		}
		if r.Method == http.MethodGet {
			s.showEmailLogin(w, r, p, http.StatusOK, prefillMail(p.ar), "", "")
			return
		}
		mail := strings.TrimSpace(r.PostForm.Get("email"))
		if msg := checkMailInput(mail); msg != "" {
			s.showEmailLogin(w, r, p, http.StatusBadRequest, mail, msg, "")
			return
		}
		purpose, step := gatehouse.CodeSignIn, stepSignInCode
		_, err := s.Store.UserByMail(r.Context(), p.t.ID, gatehouse.NormalizeMail(mail))
		switch {
		case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			if p.flow.SignUpAllowed {
				purpose, step = gatehouse.CodeSignUp, stepSignUpCode
			}
		case err != nil:
			s.renderInternalError(w, r, err)
			return
		}
		err = s.sendEmailCode(r, p, codeRequest{purpose: purpose, mail: mail, step: step})
		if ue := asUserError(err); ue != nil {
			s.showEmailLogin(w, r, p, ue.status, mail, "", ue.message)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		s.redirectTo(w, r, p, "/login/code")
	})
}

func (s *server) showEmailLogin(w http.ResponseWriter, r *http.Request, p *flowPage, status int, mail, mailErr, alert string) {
	ef := emailField(mail, "username")
	ef.Error = mailErr
	ef.AlertLinked = alert != ""
	lead := []string{"Enter your email address and we'll send you a code to sign in."}
	if p.flow.SignUpAllowed {
		lead = append(lead, "New here? The same code creates your account.")
	}
	s.showSignIn(w, r, p, status, &pageView{
		Title: "Sign in",
		Lead:  lead,
		Alert: alert,
		Form:  s.form(p, "/login/email", "Next", ef),
	})
}

// loginCodePage is where passwordless users enter their code: a sign-in
// code signs them in, a sign-up code leads to the details of the new
// account.
var loginCodePage = codePage{
	path:    "/login/code",
	logAs:   "Email OTP",
	restart: "/login/email",
	title:   "Check your email",
	purposes: map[string]string{
		stepSignInCode: gatehouse.CodeSignIn,
		stepSignUpCode: gatehouse.CodeSignUp,
	},
	flowOK: func(p *flowPage) bool { return !p.passwordFlow() },
	advance: func(s *server, a *gatehouse.AuthRequest, purpose string) {
		a.Verified = true
		if purpose == gatehouse.CodeSignUp {
			a.Step = stepSignUpDetails
			a.Methods = []gatehouse.MethodUse{{Method: gatehouse.MethodEmail, At: s.Now()}}
		}
	},
	next: func(s *server, w http.ResponseWriter, r *http.Request, p *flowPage, purpose string) {
		if purpose == gatehouse.CodeSignUp {
			s.redirectTo(w, r, p, "/signup/details")
			return
		}
		u, err := s.Store.UserByMail(r.Context(), p.t.ID, gatehouse.NormalizeMail(p.ar.Mail))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || err == nil && !u.AccountEnabled {
			s.Logger.InfoContext(r.Context(), "sign-in failed", "tenant", p.t.Name, "method", "otp", "reason", "account gone or disabled", "correlation_id", correlationID(r.Context()))
			s.showError(w, r, p, http.StatusBadRequest, msgSignInFailed)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		recordFirstFactor(p.ar, u, gatehouse.MethodUse{Method: gatehouse.MethodEmail, At: s.Now()})
		s.advance(w, r, p, u, nil)
	},
}

// signInsPerIP is the per-address limit of password sign-in attempts.
func (s *server) signInsPerIP() int {
	if s.SignInsPerIP > 0 {
		return s.SignInsPerIP
	}
	return defaultSignInsPerIP
}
