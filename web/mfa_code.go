package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/signin"
)

// Second factors completed with a code the user types from a method they
// registered: an authenticator app's code (mfa_totp.go) or a recovery
// code (mfa_recovery.go). One page serves each: the code field, and the
// try in one transaction that checks the registration's failure record
// across every session (RL-3), locks the registration while the code is
// tried (so that of concurrent submissions of one TOTP step or one
// recovery code exactly one succeeds: TOTP-3, RC-1), and records the
// factor on the authorization request when the code is accepted. The
// dispatcher (advance) then decides what the sign-in needs next.

// msgMFAThrottled is what a code page says while every registration of
// its method waits out its failures.
const msgMFAThrottled = "Too many wrong codes. Wait a few minutes, then try again, or use another way to verify it's you."

// codeMethod describes a second factor entered as a code.
type codeMethod struct {
	method string // gatehouse.MethodSoftwareOath or MethodRecoveryCode
	path   string // its page
	title  string
	lead   func(s *server, p *flowPage) string
	field  func() pageField
	// normalize returns the code as the method compares it, or false if
	// what was typed cannot be one.
	normalize func(typed string) (string, bool)
	// try tries a normalized code against one registration m, in the
	// store's updater of m; an accepted code records its use on m.
	try func(s *server, m *gatehouse.UserMethod, code string, now time.Time) (mfa.Outcome, error)
	// Messages next to the field: a code of the wrong form, a wrong code,
	// a code used before.
	msgFormat, msgWrong, msgUsed string
}

// methodStrikeKey is the key of a registered method's failure record
// (RL-3): shared by every session and node, whichever sign-in tries it.
func methodStrikeKey(methodID string) string { return "mfa:" + methodID }

// handleCodeMethodPage serves the page of a second factor entered as a
// code: GET (or the chooser's POST action=start) shows the field; a POST
// with a code tries it.
func (s *server) handleCodeMethodPage(c codeMethod) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.secondFactorState(w, r, p, c.method, signin.SecondFactor)
		if !ok {
			return
		}
		if r.Method == http.MethodGet || r.PostForm.Get("action") == "start" {
			s.showCodeMethod(w, r, p, u, c, http.StatusOK, "", "")
			return
		}
		code, ok := c.normalize(r.PostForm.Get("code"))
		if !ok {
			s.showCodeMethod(w, r, p, u, c, http.StatusBadRequest, c.msgFormat, "")
			return
		}
		outcome, throttled, err := s.tryRegistered(r, p, u, c, code)
		if s.stepFailed(w, r, p, err) {
			return
		}
		switch {
		case throttled:
			s.showCodeMethod(w, r, p, u, c, http.StatusTooManyRequests, "", msgMFAThrottled)
		case outcome == mfa.Accepted:
			s.advance(w, r, p, u, nil)
		case outcome == mfa.Used:
			s.logFailedCode(r, p, methodLogName(gatehouse.MethodUse{Method: c.method}), true)
			s.showCodeMethod(w, r, p, u, c, http.StatusBadRequest, c.msgUsed, "")
		default:
			s.logFailedCode(r, p, methodLogName(gatehouse.MethodUse{Method: c.method}), true)
			s.showCodeMethod(w, r, p, u, c, http.StatusBadRequest, c.msgWrong, "")
		}
	})
}

// showCodeMethod renders a code method's page with an error about the
// field or an alert about the page.
func (s *server) showCodeMethod(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, c codeMethod, status int, fieldErr, alert string) {
	f := c.field()
	f.Error = fieldErr
	f.AlertLinked = alert != ""
	s.show(w, r, p, status, &pageView{
		Title: c.title,
		Lead:  []string{c.lead(s, p)},
		Alert: alert,
		Form:  s.form(p, c.path, "Verify", f),
		Links: s.otherWays(r, p, u),
	})
}

// otherWays links to the chooser when the step that p is at (a second
// factor or a registration) offers u more than one method.
func (s *server) otherWays(r *http.Request, p *flowPage, u *gatehouse.User) []pageLink {
	if d, _, err := s.decide(r, p.t, p.ar, u, true); err != nil || len(d.Methods) < 2 {
		return nil
	}
	return []pageLink{s.link(p, "", "Use another way", "/login/mfa")}
}

// stepFailed shows the page of err, the error of a sign-in step's
// transaction, and reports whether there was one. ENOTFOUND means that
// the request is gone: another tab completed it meanwhile.
func (s *server) stepFailed(w http.ResponseWriter, r *http.Request, p *flowPage, err error) bool {
	switch {
	case err == nil:
		return false
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		s.showError(w, r, p, http.StatusConflict, msgSignInDone)
	default:
		s.renderInternalError(w, r, err)
	}
	return true
}

// errNotAccepted ends the updater of a registration whose try did not
// accept the code: nothing is written to it.
var errNotAccepted = errors.New("code not accepted")

// tryRegistered tries code against the user's registrations of c's method
// that the policy offers, in one transaction. A registration whose
// failure record says to wait (the delays of password sign-in: free for
// five failures, then growing) is skipped; throttled reports that every
// one was. A wrong or used code adds a failure to each registration it
// was tried against; an accepted one clears its registration's record and
// records the factor on the request. An ENOTFOUND error means the
// request is gone (completed in another tab); then nothing is written.
func (s *server) tryRegistered(r *http.Request, p *flowPage, u *gatehouse.User, c codeMethod, code string) (mfa.Outcome, bool, error) {
	ctx := r.Context()
	v, err := loadMethods(ctx, s.Store, p.t.ID, u)
	if err != nil {
		return mfa.Wrong, false, err
	}
	regs := v.registrations(c.method)
	now := s.Now()
	var (
		outcome   mfa.Outcome
		throttled bool
		updated   *gatehouse.AuthRequest
	)
	err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		outcome, throttled, updated = mfa.Wrong, len(regs) > 0, nil
		for _, reg := range regs {
			key := methodStrikeKey(reg.ID)
			n, last, err := tx.Strikes(ctx, p.t.ID, key)
			if err != nil {
				return err
			}
			if signInRefused(n, last, now) {
				continue
			}
			throttled = false
			out := mfa.Wrong
			_, err = tx.UpdateUserMethod(ctx, p.t.ID, reg.ID, func(m *gatehouse.UserMethod) error {
				var err error
				if out, err = c.try(s, m, code, now); err != nil {
					return err
				}
				if out != mfa.Accepted {
					return errNotAccepted
				}
				return nil
			})
			switch {
			case errors.Is(err, errNotAccepted):
			case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
				continue // removed meanwhile
			case err != nil:
				return err
			default:
				if err := tx.ClearStrikes(ctx, p.t.ID, key); err != nil {
					return err
				}
				outcome = mfa.Accepted
				updated, err = tx.UpdateAuthRequest(ctx, p.t.ID, p.ar.ID, func(a *gatehouse.AuthRequest) error {
					recordSecondFactor(a, gatehouse.MethodUse{Method: c.method, MethodID: reg.ID, At: now})
					return nil
				})
				return err
			}
			if out == mfa.Used {
				outcome = mfa.Used
			}
			if _, err := tx.AddStrike(ctx, p.t.ID, key, now); err != nil {
				return err
			}
		}
		return nil
	})
	result := outcome.String()
	if err != nil {
		result = "error"
	} else if throttled {
		result = "throttled"
	}
	s.Logger.InfoContext(ctx, "second factor tried", "tenant", p.t.Name, "user_id", u.ID, "method", c.method, "result", result,
		"correlation_id", correlationID(ctx))
	if err != nil {
		return mfa.Wrong, false, err
	}
	if updated != nil {
		p.ar = updated
	}
	return outcome, throttled, nil
}
