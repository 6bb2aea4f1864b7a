package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/signin"
)

// The sign-in dispatcher. Every page that completes a factor records it on
// the authorization request and calls advance, which asks signin.Next what
// the sign-in still needs and does it: sends the browser to the step's
// page, refuses, or, once every requirement is met, finishes the sign-in
// (finish: a session, a grant and its code, in one transaction). The
// authorization endpoint asks the same question of a browser's session
// (single sign-on, prompt=none), and the refresh grant of a grant.

// rpRequirements are the relying party's requirements of an authorization
// request: prompt and max_age (freshness), acr_values (voluntary, in
// order of preference) and an acr claim of the claims parameter
// (essential or voluntary) (OP-3, OP-5).
func rpRequirements(ar *gatehouse.AuthRequest) []signin.Requirement {
	var reqs []signin.Requirement
	prompts := strings.Fields(ar.Prompt)
	switch {
	case slices.Contains(prompts, "login"):
		reqs = append(reqs, signin.Requirement{Source: "prompt=login", Fresh: true})
	case slices.Contains(prompts, "select_account"):
		reqs = append(reqs, signin.Requirement{Source: "prompt=select_account", Fresh: true})
	case ar.MaxAge == 0:
		reqs = append(reqs, signin.Requirement{Source: "max_age=0", Fresh: true})
	case ar.MaxAge > 0:
		reqs = append(reqs, signin.Requirement{Source: "max_age", MaxAge: time.Duration(ar.MaxAge) * time.Second})
	}
	if r, ok := acrRequirement("acr_values", strings.Fields(ar.ACRValues), false); ok {
		reqs = append(reqs, r)
	}
	if essential, values, ok := oidc.LoadClaimsRequest(ar.Claims).ACR(); ok {
		if r, ok := acrRequirement("claims", values, essential); ok {
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// acrRequirement turns requested acr values into a requirement. Voluntary
// values ask for the first known value, falling back to the others in
// order; essential ones accept any of the values, so the weakest known one
// is the level, and the acr claim names the strongest reached. Values
// Gatehouse does not define are ignored (parseAuthorizeParams refuses an
// essential acr none of whose values is known).
func acrRequirement(source string, values []string, essential bool) (signin.Requirement, bool) {
	var levels []gatehouse.Level
	for _, v := range values {
		if l, ok := gatehouse.LevelForACR(v); ok {
			levels = append(levels, l)
		}
	}
	switch {
	case essential && len(values) == 0:
		return signin.Requirement{}, false // any acr will do
	case len(levels) == 0:
		return signin.Requirement{}, false
	case essential:
		return signin.Requirement{Source: source, Level: slices.Min(levels), Essential: true, ACRs: values}, true
	}
	return signin.Requirement{Source: source, Level: levels[0], Fallbacks: levels[1:]}, true
}

// methodsView is what the authentication methods policy and the user's
// registrations offer one user.
type methodsView struct {
	policy     *gatehouse.MethodsPolicy
	groups     []string
	registered []*gatehouse.UserMethod
}

// loadMethods reads what the methods policy and the user's registrations
// offer the user.
func loadMethods(ctx context.Context, rd gatehouse.Reader, tenantID string, u *gatehouse.User) (*methodsView, error) {
	p, err := rd.MethodsPolicy(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	v := &methodsView{policy: p}
	if len(p.Groups()) > 0 {
		if v.groups, err = rd.UserGroupIDs(ctx, tenantID, u.ID); err != nil {
			return nil, err
		}
	}
	if v.registered, err = rd.UserMethods(ctx, tenantID, u.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// offers reports whether the policy offers the method to the user.
func (v *methodsView) offers(method string) bool { return v.policy.Offers(method, v.groups) }

// registrations returns the user's registered methods of the kind that the
// policy offers and that can be used (a recovery code set with codes left).
func (v *methodsView) registrations(method string) []*gatehouse.UserMethod {
	if !v.offers(method) {
		return nil
	}
	var out []*gatehouse.UserMethod
	for _, m := range v.registered {
		if m.Method == method && (method != gatehouse.MethodRecoveryCode || m.RemainingRecoveryCodes() > 0) {
			out = append(out, m)
		}
	}
	return out
}

// maxMethodsPerKind bounds the registrations of one kind a user may have.
const maxMethodsPerKind = 5

// available returns the second factors the user can use now, in policy
// order: email (no registration: the sign-in address) and the registered
// methods the policy offers.
func (s *server) available(v *methodsView) []string {
	var out []string
	for _, m := range gatehouse.PolicyMethods {
		if !s.verifies(m) {
			continue
		}
		if m == gatehouse.MethodEmail && v.offers(m) || len(v.registrations(m)) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// registrable returns the methods the user may register now.
func (s *server) registrable(v *methodsView) []string {
	var out []string
	for _, m := range gatehouse.PolicyMethods {
		if m == gatehouse.MethodEmail || !v.offers(m) || !s.registers(m) {
			continue
		}
		if m == gatehouse.MethodFido2 && !v.policy.Config(m).SelfServiceRegistration {
			continue
		}
		n := 0
		for _, r := range v.registered {
			if r.Method == m {
				n++
			}
		}
		if n < maxRegistrations(m) {
			out = append(out, m)
		}
	}
	return out
}

// standing returns the methods of a sign-in that still stand: those that
// name a registration the user still has (LC-2: a removed method counts
// no more, in sessions and grants alike).
func standing(uses []gatehouse.MethodUse, registered []*gatehouse.UserMethod) []gatehouse.MethodUse {
	var out []gatehouse.MethodUse
	for _, u := range uses {
		if u.MethodID == "" || slices.ContainsFunc(registered, func(m *gatehouse.UserMethod) bool { return m.ID == u.MethodID }) {
			out = append(out, u)
		}
	}
	return out
}

// withPending adds to the user's registrations the method the request is
// registering, which a page confirmed and whose creation commits with the
// step that records it (advance's extra): the factor it proved stands.
func withPending(registered []*gatehouse.UserMethod, ar *gatehouse.AuthRequest) []*gatehouse.UserMethod {
	if ar.Progress.Pending == nil {
		return registered
	}
	return append(slices.Clone(registered), ar.Progress.Pending)
}

// decide asks signin.Next what the request's sign-in needs, with the user
// it has authenticated so far (nil before the first factor). The
// requirements are the relying party's and, for a sign-in to an
// application, those of the tenant's Conditional Access policies, whose
// evaluation it returns (nil before the first factor and for the
// security info page's own requests).
func (s *server) decide(r *http.Request, t *gatehouse.Tenant, ar *gatehouse.AuthRequest, u *gatehouse.User, interactive bool) (signin.Decision, *caSignIn, error) {
	ctx := r.Context()
	in := signin.Input{Now: s.Now(), User: u, Requirements: s.requirementsOf(ar), Interactive: interactive,
		PasswordChanged: ar.Progress.PasswordChanged}
	if u == nil {
		return signin.Next(in), nil, nil
	}
	v, err := loadMethods(ctx, s.Store, t.ID, u)
	if err != nil {
		return signin.Decision{}, nil, err
	}
	var ca *caSignIn
	if ar.Purpose != gatehouse.PurposeAccount {
		c, err := s.cache.client(ctx, s.Store, t.ID, ar.ClientID)
		if err != nil {
			return signin.Decision{}, nil, err
		}
		q := caRequest{app: c.app, redirectURI: ar.RedirectURI, scope: ar.Scope, breached: ar.Progress.BreachedPassword}
		if ca, err = s.evaluateCA(r, s.Store, t, q, u); err != nil {
			return signin.Decision{}, nil, err
		}
		in.Requirements = append(in.Requirements, ca.decision.Requirements...)
	}
	in.Methods = standing(ar.Methods, withPending(v.registered, ar))
	in.Available, in.Registrable = s.available(v), s.registrable(v)
	d := signin.Next(in)
	if ar.Purpose == gatehouse.PurposeAccount && ar.Register != "" && d.Step == signin.Issue && !registeredHere(ar) {
		// The security info page asked to add a method, and the user has
		// just proven it's them: now the registration.
		if !slices.Contains(in.Registrable, ar.Register) {
			return signin.Decision{Step: signin.Refuse, Error: signin.ErrAccessDenied,
				Reason: "That kind of method can't be added to your account now."}, nil, nil
		}
		d = signin.Decision{Step: signin.Register, Methods: []string{ar.Register}, Level: d.Level}
	}
	return d, ca, nil
}

// registeredHere reports whether the request registered the method its
// security info page asked for (a new authentication with it).
func registeredHere(ar *gatehouse.AuthRequest) bool {
	return slices.ContainsFunc(ar.Methods, func(m gatehouse.MethodUse) bool { return m.Method == ar.Register && !m.Carried })
}

// requirementsOf returns every source's requirements of the request.
func (s *server) requirementsOf(ar *gatehouse.AuthRequest) []signin.Requirement {
	if ar.Purpose == gatehouse.PurposeAccount {
		return accountRequirements(ar)
	}
	return rpRequirements(ar)
}

// recordFirstFactor records a first factor on the request: it becomes the
// sign-in's first authentication. The second factors the same user
// completed before (carried over from their session) stay; those of
// another user go.
func recordFirstFactor(ar *gatehouse.AuthRequest, u *gatehouse.User, use gatehouse.MethodUse) {
	var keep []gatehouse.MethodUse
	if ar.UserID == u.ID && len(ar.Methods) > 1 {
		keep = ar.Methods[1:]
	}
	ar.Methods = append([]gatehouse.MethodUse{use}, keep...)
	ar.UserID = u.ID
}

// recordSecondFactor records a further authentication of the request's user.
func recordSecondFactor(ar *gatehouse.AuthRequest, use gatehouse.MethodUse) {
	ar.Methods = append(ar.Methods, use)
}

// advance decides what the sign-in of p needs now that its request (in
// memory) recorded a factor, and does it. extra, if set, commits with the
// request's new state: what the factor's page must write in the same
// transaction (clearing failure records, say); a *userError from it
// writes nothing and is shown to the user.
func (s *server) advance(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, extra func(gatehouse.Tx) error) {
	if u != nil {
		if err := s.accountOwner(r, p.ar, u); errors.Is(err, errNotOwner) {
			s.refuse(w, r, p, u, signin.Decision{Step: signin.Refuse, Error: signin.ErrAccessDenied,
				Reason: "you signed in as " + u.Mail + ", not as the account whose security info this is. Sign in as that account."}, nil, nil)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
	}
	d, ca, err := s.decide(r, p.t, p.ar, u, true)
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	if d.Step == signin.Issue {
		s.finish(w, r, p.t, p.ar, u, d, ca, extra)
		return
	}
	if d.Step == signin.Refuse {
		s.refuse(w, r, p, u, d, ca, extra)
		return
	}
	ar := p.ar
	next := ""
	// The first time a sign-in to an application stops for the user after
	// the first factor, the sign-in log says so (Entra's 50074, "strong
	// authentication is required"), once.
	var interruption *gatehouse.SignIn
	if ca != nil && u != nil && !ar.Progress.Interrupted && d.Step != signin.FirstFactor {
		interruption = s.signInEntry(r, p.t, ca, u, u.Mail, ar.Methods, nil, gatehouse.SignInStatus{ErrorCode: gatehouse.SignInInterrupted,
			FailureReason: interruptionReason(d)}, ar.Progress.PasswordChanged)
		ar.Progress.Interrupted = true
	}
	err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if interruption != nil {
			interruption.ID = "" // a retried transaction writes it anew
			if err := tx.CreateSignIn(r.Context(), interruption); err != nil {
				return err
			}
		}
		updated, err := tx.UpdateAuthRequest(r.Context(), p.t.ID, ar.ID, func(a *gatehouse.AuthRequest) error {
			a.UserID, a.Methods, a.Mail, a.Verified = ar.UserID, ar.Methods, ar.Mail, ar.Verified
			a.Step, a.Progress = stepFor(d), ar.Progress.Carry()
			return nil
		})
		if err != nil {
			return err
		}
		p.ar = updated
		return nil
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
	switch d.Step {
	case signin.FirstFactor:
		next = s.firstFactorPage(p)
	case signin.ChangePassword:
		next = pathChangePassword
	case signin.SecondFactor, signin.Register:
		next = "/login/mfa"
		if len(d.Methods) == 1 {
			// One way on: take it (a code is sent from the method's page
			// only on a POST, so the page asks first).
			next = s.methodPage(d.Step, d.Methods[0])
		}
	}
	s.redirectTo(w, r, p, next)
}

// interruptionReason is the sign-in log's failure reason of a sign-in
// that stopped for the user.
func interruptionReason(d signin.Decision) string {
	switch d.Step {
	case signin.ChangePassword:
		return "The user must change their password."
	case signin.Register:
		return "The user must register an authentication method."
	}
	return "Strong authentication is required."
}

// Steps of a request waiting for the user to complete a second factor or
// register a method.
const (
	stepSecondFactor = "mfa"
	stepRegister     = "register"
	// stepChangePassword: a Conditional Access policy demands a new
	// password (passwordchange.go).
	stepChangePassword = "change-password"
)

func stepFor(d signin.Decision) string {
	switch d.Step {
	case signin.SecondFactor:
		return stepSecondFactor
	case signin.Register:
		return stepRegister
	case signin.ChangePassword:
		return stepChangePassword
	}
	return stepStart
}

// msgSignInDone is the page of a request completed meanwhile (another tab).
const msgSignInDone = "This sign-in was already completed. Go back to the application."

// refuse ends a sign-in that cannot go on: the client gets the error by
// redirect (a page for the security info page's own requests), and the
// request is deleted, with the sign-in log's entry of the refusal and
// extra's writes (a correct password still clears the address's failure
// record: a refusal by policy is no failed password).
func (s *server) refuse(w http.ResponseWriter, r *http.Request, p *flowPage, u *gatehouse.User, d signin.Decision, ca *caSignIn, extra func(gatehouse.Tx) error) {
	s.Logger.InfoContext(r.Context(), "sign-in refused", "tenant", p.t.Name, "user_id", userID(u), "client_id", p.ar.ClientID,
		"reason", d.Reason, "error", d.Error, "correlation_id", correlationID(r.Context()))
	var entry *gatehouse.SignIn
	if ca != nil {
		entry = s.signInEntry(r, p.t, ca, u, p.ar.Mail, p.ar.Methods, nil, refusalStatus(ca, u, d.Error, d.Reason), p.ar.Progress.PasswordChanged)
	}
	err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if entry != nil {
			entry.ID = "" // a retried transaction writes it anew
			if err := tx.CreateSignIn(r.Context(), entry); err != nil {
				return err
			}
		}
		return tx.DeleteAuthRequest(r.Context(), p.t.ID, p.ar.ID)
	})
	if ue := asUserError(err); ue != nil {
		s.showError(w, r, p, ue.status, ue.message)
		return
	} else if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		s.renderInternalError(w, r, err)
		return
	}
	if p.ar.Purpose == gatehouse.PurposeAccount {
		s.renderError(w, r, http.StatusForbidden, refusalSentence(d))
		return
	}
	s.redirectError(w, r, p.t, p.ar.RedirectURI, p.ar.State, authError{d.Error, d.Reason})
}

// refusalSentence says why a sign-in was refused, for people.
func refusalSentence(d signin.Decision) string {
	switch d.Error {
	case signin.ErrUnmet:
		return "You can't continue: this needs a stronger way of signing in than your account has. Contact the site's administrator."
	case signin.ErrAccessDenied:
		return "You can't continue: " + d.Reason
	}
	return "You can't continue. Go back and try again."
}

// finish completes a sign-in that meets every requirement, in one
// transaction: extra's writes; the request is deleted (which makes it
// single use); the browser gets a new session (SE-2) unless it reuses its
// session with nothing new; and a grant with its single-use code is made
// for the client. The browser then goes back to the client with the code
// (or, for the security info page's own requests, to that page).
//
// ca, the Conditional Access evaluation of a sign-in to an application,
// gives the sign-in log's entry, written in the same transaction, and the
// session cookie's lifetime (persistentBrowser).
func (s *server) finish(w http.ResponseWriter, r *http.Request, t *gatehouse.Tenant, ar *gatehouse.AuthRequest, u *gatehouse.User, d signin.Decision, ca *caSignIn, extra func(gatehouse.Tx) error) {
	ctx := r.Context()
	now := s.Now()
	var oldID string
	if c, err := r.Cookie(s.sessionCookieName(t.Name)); err == nil && len(c.Value) >= 43 {
		oldID = sha256Hex(c.Value)
	}
	code, codeHash, err := oidc.NewOpaqueToken()
	if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	var (
		secret string // a new session's cookie secret, "" when the session stays
		sess   *gatehouse.Session
		entry  *gatehouse.SignIn
	)
	if ca != nil {
		entry = s.signInEntry(r, t, ca, u, u.Mail, ar.Methods, nil, gatehouse.SignInStatus{}, ar.Progress.PasswordChanged)
	}
	err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
		secret, sess = "", nil
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if entry != nil {
			entry.ID = "" // a retried transaction writes it anew
			if err := tx.CreateSignIn(ctx, entry); err != nil {
				return err
			}
		}
		if ar.ID != "" {
			// Deleting the request is what makes it single use: of
			// concurrent completions, only the one that deletes it goes on.
			if err := tx.DeleteAuthRequest(ctx, t.ID, ar.ID); err != nil {
				return err
			}
		}
		var prev *gatehouse.Session
		if oldID != "" {
			if p, err := tx.Session(ctx, t.ID, oldID); err == nil {
				prev = p
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		if prev != nil && prev.UserID == u.ID && !newMethods(ar.Methods) && prev.ID == ar.SessionID {
			// Single sign-on with nothing new: the same session goes on.
			var err error
			sess, err = tx.UpdateSession(ctx, t.ID, prev.ID, func(se *gatehouse.Session) error {
				se.LastSeenAt = now
				return nil
			})
			return s.issueInTx(ctx, tx, t, ar, u, sess, d, codeHash, now, err)
		}
		secret = randomSecret()
		sess = &gatehouse.Session{ID: sha256Hex(secret), TenantID: t.ID, UserID: u.ID, SID: newUUID(),
			Methods: gatehouse.Settled(ar.Methods), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime)}
		if first, ok := ar.FirstFactor(); ok {
			sess.AuthTime = first.At
		}
		sess.AMR, sess.ACR = gatehouse.AMR(sess.Methods), gatehouse.LevelOf(sess.Methods).ACR()
		if prev != nil {
			// The same user signing in again keeps the browser's SID, so
			// that signing out later ends the grants of both sessions.
			if prev.UserID == u.ID {
				sess.SID = prev.SID
			}
			if err := tx.DeleteSession(ctx, t.ID, prev.ID); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		err := tx.CreateSession(ctx, sess)
		return s.issueInTx(ctx, tx, t, ar, u, sess, d, codeHash, now, err)
	})
	if ue := asUserError(err); ue != nil {
		s.renderError(w, r, ue.status, ue.message)
		return
	} else if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && ar.ID != "" {
		s.renderError(w, r, http.StatusConflict, msgSignInDone)
		return
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return
	}
	if secret != "" {
		lifetime := time.Duration(0) // the browser's session
		if ca != nil {
			lifetime = ca.decision.Session.CookieLifetime(SessionLifetime)
		}
		s.setCookie(w, s.sessionCookieName(t.Name), secret, lifetime)
	}
	s.Logger.InfoContext(ctx, "sign-in", "tenant", t.Name, "user_id", u.ID, "client_id", ar.ClientID, "amr", strings.Join(d.AMR, " "),
		"acr", d.ACR, "new_session", secret != "", "correlation_id", correlationID(ctx))
	if ar.Purpose == gatehouse.PurposeAccount {
		http.Redirect(w, r, s.basePath()+ar.ReturnTo, http.StatusSeeOther)
		return
	}
	s.redirectWith(w, r, t, ar.RedirectURI, ar.State, url.Values{"code": {code}})
}

// newMethods reports whether the request holds an authentication of its
// own, not carried over from the browser's session.
func newMethods(uses []gatehouse.MethodUse) bool {
	return slices.ContainsFunc(uses, func(u gatehouse.MethodUse) bool { return !u.Carried })
}

// issueInTx creates, in finish's transaction, the grant of a completed
// sign-in and its single-use code (nothing for the security info page's
// own requests). prevErr is the error of the session write before it.
func (s *server) issueInTx(ctx context.Context, tx gatehouse.Tx, t *gatehouse.Tenant, ar *gatehouse.AuthRequest, u *gatehouse.User, sess *gatehouse.Session, d signin.Decision, codeHash string, now time.Time, prevErr error) error {
	if prevErr != nil || ar.Purpose == gatehouse.PurposeAccount {
		return prevErr
	}
	g := &gatehouse.Grant{
		ID: newUUID(), TenantID: t.ID, UserID: u.ID, ClientID: ar.ClientID, SessionID: sess.SID,
		Scope: ar.Scope, Nonce: ar.Nonce, Methods: gatehouse.Settled(d.Counted), AMR: d.AMR, ACR: d.ACR, Claims: ar.Claims,
		CreatedAt: now, ExpiresAt: now.Add(oidc.RefreshTokenLifetime),
	}
	if len(d.Counted) > 0 {
		g.AuthTime = d.Counted[0].At
	}
	payload, err := json.Marshal(oidc.CodePayload{GrantID: g.ID, ClientID: ar.ClientID, RedirectURI: ar.RedirectURI,
		CodeChallenge: ar.CodeChallenge, CodeChallengeMethod: ar.CodeChallengeMethod})
	if err != nil {
		return err
	}
	if err := tx.CreateGrant(ctx, g); err != nil {
		return err
	}
	return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: t.ID, Kind: oidc.CodeKind, Key: codeHash, Payload: payload, ExpiresAt: now.Add(oidc.CodeLifetime)})
}

// firstFactorPage is the page where the request's user authenticates.
func (s *server) firstFactorPage(p *flowPage) string { return startPage(p) }

// handleContinuePage picks a sign-in up where it stands: the pages that
// record a factor usually call advance themselves; this route is where a
// request in any step can be sent to find its next page.
func (s *server) handleContinuePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.startFlowPage(w, r)
		if !ok {
			return
		}
		u, ok := s.requestUser(w, r, p)
		if !ok {
			return
		}
		s.advance(w, r, p, u, nil)
	})
}

// requestUser returns the user the request has authenticated so far (nil
// before the first factor). A user who was disabled or deleted meanwhile
// ends the sign-in with a page.
func (s *server) requestUser(w http.ResponseWriter, r *http.Request, p *flowPage) (*gatehouse.User, bool) {
	if p.ar.UserID == "" {
		return nil, true
	}
	u, err := s.Store.User(r.Context(), p.t.ID, p.ar.UserID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || err == nil && !u.AccountEnabled {
		s.Logger.InfoContext(r.Context(), "sign-in failed", "tenant", p.t.Name, "reason", "account gone or disabled", "correlation_id", correlationID(r.Context()))
		s.showError(w, r, p, http.StatusBadRequest, msgSignInFailed)
		return nil, false
	} else if err != nil {
		s.renderInternalError(w, r, err)
		return nil, false
	}
	return u, true
}

// recentAuthentication is how recent the authentication of the user's own
// security info changes must be (LC-1).
const recentAuthentication = 10 * time.Minute

// accountRequirements are the requirements of the security info page's own
// requests (LC-1): an authentication at most recentAuthentication old, at
// the level the request names in ACRValues (multifactor for a user who has
// a second factor), essential.
func accountRequirements(ar *gatehouse.AuthRequest) []signin.Requirement {
	reqs := []signin.Requirement{{Source: "security info", MaxAge: recentAuthentication}}
	if l, ok := gatehouse.LevelForACR(ar.ACRValues); ok {
		reqs = append(reqs, signin.Requirement{Source: "security info", Level: l, Essential: true})
	}
	return reqs
}

// refreshRefusal asks signin.Next whether a grant may still yield tokens
// without the user, inside the refresh grant's transaction: only while
// every authentication it counted stands (LC-2: a removed method refuses
// the refresh when the sign-in needed it), and every requirement on it
// still holds, the tenant's Conditional Access policies' included, as
// they are now (a user now blocked, a policy now requiring MFA of a
// single-factor sign-in, a sign-in frequency that has run out). It
// returns why not, for the client, or "", and the policies' evaluation
// when they refused it.
func (s *server) refreshRefusal(r *http.Request, rd gatehouse.Reader, t *gatehouse.Tenant, app *gatehouse.Application, g *gatehouse.Grant, u *gatehouse.User) (string, *caSignIn, error) {
	ctx := r.Context()
	v, err := loadMethods(ctx, rd, t.ID, u)
	if err != nil {
		return "", nil, err
	}
	held := gatehouse.LevelOf(g.Methods)
	in := signin.Input{Now: s.Now(), User: u, Methods: gatehouse.CarriedOver(standing(g.Methods, v.registered)),
		Requirements: []signin.Requirement{{Source: "the sign-in's tokens", Level: held, Essential: true}}}
	d := signin.Next(in)
	if d.Step != signin.Issue {
		if d.Error == signin.ErrUnmet || d.Error == signin.ErrLoginRequired {
			return "An authentication method this sign-in used has been removed; the user must sign in again.", nil, nil
		}
		return "The user must sign in again: " + d.Reason, nil, nil
	}
	ca, err := s.evaluateCA(r, rd, t, caRequest{app: app, scope: g.Scope, refresh: true}, u)
	if err != nil {
		return "", nil, err
	}
	if len(ca.decision.Requirements) == 0 {
		return "", nil, nil
	}
	in.Requirements = append(in.Requirements, ca.decision.Requirements...)
	if d = signin.Next(in); d.Step == signin.Issue {
		return "", nil, nil
	}
	if ca.decision.Blocked != nil {
		return d.Reason, ca, nil
	}
	return "The user must sign in again: the tenant's Conditional Access policies ask more of this sign-in than it had. " + d.Reason, ca, nil
}
