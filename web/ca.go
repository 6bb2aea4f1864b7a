package web

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/risk"
)

// Conditional Access in the sign-in path. Every path that yields tokens
// to a user (a sign-in on the pages, single sign-on, prompt=none, the
// refresh grant) describes its sign-in as a policy.Input (evaluateCA),
// and the tenant's compiled policies (policySet) answer with a block or
// requirements, which join the relying party's as signin.Next's input.
// The same description and the answer go into the sign-in log
// (signInEntry).

// policyRecheck is how long a node uses its compiled policies of a tenant
// before it asks the store whether they changed (one small read): a change
// made on another node is enforced here within that time, and one made on
// this node at once (watchedStore). A variable for the tests, which
// change policies in the store behind the server's back.
var policyRecheck = 500 * time.Millisecond

// policyCache holds each tenant's compiled policies on this node.
type policyCache struct {
	mu      sync.Mutex
	tenants map[string]*tenantPolicies
}

type tenantPolicies struct {
	mu      sync.Mutex
	set     *policy.Set
	version int64
	gen     uint64    // the node's policy write generation it was checked under
	checked time.Time // when the version was last read (monotonic clock)
}

func (c *policyCache) entry(tenantID string) *tenantPolicies {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tenants == nil {
		c.tenants = map[string]*tenantPolicies{}
	}
	e := c.tenants[tenantID]
	if e == nil {
		e = &tenantPolicies{}
		c.tenants[tenantID] = e
	}
	return e
}

// policySet returns the tenant's policies, compiled, as current as
// policyRecheck allows. Its clock is the machine's, not the server's
// Now: it bounds how stale a node may be in real time.
func (s *server) policySet(ctx context.Context, tenantID string) (*policy.Set, error) {
	e := s.policies.entry(tenantID)
	e.mu.Lock()
	defer e.mu.Unlock()
	gen, now := s.cache.policyGen.Load(), time.Now()
	if e.set != nil && e.gen == gen && now.Sub(e.checked) < policyRecheck {
		return e.set, nil
	}
	v, err := s.Store.PoliciesVersion(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if e.set == nil || v != e.version {
		ps, err := s.Store.PolicySet(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		e.set, e.version = policy.Compile(ps.Policies, ps.Locations), ps.Version
	}
	e.gen, e.checked = gen, now
	return e.set, nil
}

// caRequest is what a path tells evaluateCA about its sign-in besides the
// HTTP request and the user.
type caRequest struct {
	app *gatehouse.Application
	// redirectURI is the authorization request's ("" for the refresh
	// grant): its platform tells the client app type.
	redirectURI string
	scope       string
	// refresh marks the refresh grant: a client's request, not the
	// user's browser, so no sign-in risk is assessed of its address.
	refresh bool
	// breached: the password of the sign-in is on the list of breached
	// and common passwords.
	breached bool
}

// caSignIn is a sign-in as Conditional Access sees it, and the decision
// of the tenant's policies.
type caSignIn struct {
	in       policy.Input
	decision policy.Decision
	app      *gatehouse.Application
	// place is what GeoIP tells of the address (zero without GeoIP).
	place     gatehouse.GeoPlace
	userAgent string
	refresh   bool
	// signInRisk and userRisk are assessed when a policy or the sign-in
	// log needs them (assessed marks it).
	assessed             bool
	signInRisk, userRisk risk.Assessment
	breached             bool
}

// evaluateCA describes the user's sign-in to the application and decides
// it with the tenant's policies. rd is the reader of the caller's
// transaction, if it has one.
func (s *server) evaluateCA(r *http.Request, rd gatehouse.Reader, t *gatehouse.Tenant, q caRequest, u *gatehouse.User) (*caSignIn, error) {
	ctx := r.Context()
	set, err := s.policySet(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	c := s.requestFacts(r, t, q)
	c.in.UserID = u.ID
	needs := set.Needs()
	if needs.Groups {
		if c.in.GroupIDs, err = rd.UserGroupIDs(ctx, t.ID, u.ID); err != nil {
			return nil, err
		}
	}
	if needs.Roles {
		if c.in.RoleIDs, err = userRoles(ctx, rd, t.ID, u.ID); err != nil {
			return nil, err
		}
	}
	if needs.SignInRisk || needs.UserRisk {
		if err := s.assessRisk(ctx, rd, t, c, u); err != nil {
			return nil, err
		}
	}
	c.decision = set.Evaluate(c.in)
	return c, nil
}

// requestFacts describes what the request tells of a sign-in to the
// application: its address and where GeoIP puts it, its device platform,
// its client app type, the resources it asks for (the input without the
// user, inputOf's).
func (s *server) requestFacts(r *http.Request, t *gatehouse.Tenant, q caRequest) *caSignIn {
	c := &caSignIn{app: q.app, userAgent: truncateText(r.UserAgent(), gatehouse.MaxSignInUserAgent), refresh: q.refresh, breached: q.breached}
	ip, _ := netip.ParseAddr(clientIP(r))
	f := signInFacts{ClientAppType: clientAppType(q.app, q.redirectURI), UserAgent: r.UserAgent(), IP: ip.Unmap()}
	if s.GeoIP != nil && f.IP.IsValid() {
		if place, ok := s.GeoIP.Locate(f.IP); ok {
			c.place = place
			f.Country = place.Location.CountryOrRegion
		}
	}
	c.in = inputOf("", nil, nil, q.app.AppID, resourcesOf(s.PublicURL, t, q.scope), f)
	return c
}

// logFailedFirstFactor writes the sign-in log's entry of a first factor
// that failed (a wrong password, an unknown or disabled account): what
// password spray detection counts.
func (s *server) logFailedFirstFactor(r *http.Request, p *flowPage, u *gatehouse.User, mail string, detail gatehouse.AuthenticationDetail, status gatehouse.SignInStatus) {
	c, err := s.cache.client(r.Context(), s.Store, p.t.ID, p.ar.ClientID)
	if err != nil {
		s.Logger.WarnContext(r.Context(), "sign-in log entry not written", "err", err, "correlation_id", correlationID(r.Context()))
		return
	}
	facts := s.requestFacts(r, p.t, caRequest{app: c.app, redirectURI: p.ar.RedirectURI, scope: p.ar.Scope})
	e := s.signInEntry(r, p.t, facts, nil, mail, nil, &detail, status, false)
	if u != nil {
		e.UserID, e.UserPrincipalName, e.UserDisplayName = u.ID, u.Mail, truncateText(u.DisplayName, gatehouse.MaxSignInText)
	}
	s.logSignIn(r.Context(), e)
}

// logFailedCode writes the sign-in log's entry of a wrong code: a second
// factor's (the policies' evaluation, Entra's 500121) or, for second
// false, a first factor's (a sign-in code sent by email).
func (s *server) logFailedCode(r *http.Request, p *flowPage, method string, second bool) {
	ctx := r.Context()
	if p.ar.Purpose == gatehouse.PurposeAccount {
		return // the security info page's own sign-ins are no application's
	}
	detail := gatehouse.AuthenticationDetail{Method: method, At: s.Now(), Requirement: "MFA", ResultDetail: "Incorrect code"}
	if !second {
		detail.Requirement = "Primary authentication"
		var u *gatehouse.User
		if found, err := s.Store.UserByMail(ctx, p.t.ID, p.ar.Mail); err == nil {
			u = found
		}
		s.logFailedFirstFactor(r, p, u, p.ar.Mail, detail, gatehouse.SignInStatus{ErrorCode: gatehouse.SignInInvalidCredentials, FailureReason: "Invalid code."})
		return
	}
	err := func() error {
		u, err := s.Store.User(ctx, p.t.ID, p.ar.UserID)
		if err != nil {
			return err
		}
		c, err := s.cache.client(ctx, s.Store, p.t.ID, p.ar.ClientID)
		if err != nil {
			return err
		}
		ca, err := s.evaluateCA(r, s.Store, p.t, caRequest{app: c.app, redirectURI: p.ar.RedirectURI, scope: p.ar.Scope, breached: p.ar.Progress.BreachedPassword}, u)
		if err != nil {
			return err
		}
		s.logSignIn(ctx, s.signInEntry(r, p.t, ca, u, u.Mail, p.ar.Methods, &detail, gatehouse.SignInStatus{ErrorCode: gatehouse.SignInSecondFactorFailed,
			FailureReason: "Authentication failed during strong authentication request."}, p.ar.Progress.PasswordChanged))
		return nil
	}()
	if err != nil {
		s.Logger.WarnContext(ctx, "sign-in log entry not written", "err", err, "correlation_id", correlationID(ctx))
	}
}

// assessRisk assesses the sign-in's and the user's risk from the sign-in
// log (risk's rules), once.
func (s *server) assessRisk(ctx context.Context, rd gatehouse.Reader, t *gatehouse.Tenant, c *caSignIn, u *gatehouse.User) error {
	if c.assessed {
		return nil
	}
	now := s.Now()
	addr := ""
	if c.in.IP.IsValid() {
		addr = c.in.IP.String()
	}
	h, err := rd.SignInHistory(ctx, t.ID, risk.Query(u.ID, addr, now, u.PasswordChangedAt))
	if err != nil {
		return err
	}
	if !c.refresh {
		c.signInRisk = risk.SignIn(risk.Signals(h, now, c.in.IP, s.GeoIP != nil, c.place.Location, c.place.Anonymous))
		c.in.SignInRisk = c.signInRisk.Level
	}
	c.userRisk = risk.User(risk.UserSignals{BreachedPassword: c.breached, RiskySignIns: h.RiskySignIns})
	c.in.UserRisk = c.userRisk.Level
	c.assessed = true
	return nil
}

// resourcesOf returns the applications besides the client that a scope
// yields tokens for: the admin API when it asks for it.
func resourcesOf(publicURL string, t *gatehouse.Tenant, scope string) []string {
	if hasScope(scope, gatehouse.AdminAPIScope(publicURL, t.Name)) {
		return []string{gatehouse.AdminAPIAppID}
	}
	return nil
}

// clientAppType tells a sign-in's client app type: a mobile or desktop
// app when it signs in through one of the application's publicClient
// redirect URIs (or refreshes as an application that has only those),
// a browser otherwise.
func clientAppType(app *gatehouse.Application, redirectURI string) string {
	switch {
	case redirectURI != "" && slices.Contains(app.PublicClientRedirectURIs, redirectURI):
		return gatehouse.ClientMobileDesktop
	case redirectURI == "" && len(app.PublicClientRedirectURIs) > 0 && len(app.WebRedirectURIs)+len(app.SPARedirectURIs) == 0:
		return gatehouse.ClientMobileDesktop
	}
	return gatehouse.ClientBrowser
}

// truncateText cuts s to at most n bytes on a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// signInEntry is the sign-in log's entry of a sign-in that ended (or was
// interrupted) with the status: who, what, from where, each policy's
// part, how the user authenticated. methods are the sign-in's
// authentications (first factor first, Carried for those of the
// browser's session); failed, if set, is a step that failed.
func (s *server) signInEntry(r *http.Request, t *gatehouse.Tenant, c *caSignIn, u *gatehouse.User, mail string, methods []gatehouse.MethodUse,
	failed *gatehouse.AuthenticationDetail, status gatehouse.SignInStatus, passwordChanged bool) *gatehouse.SignIn {
	e := &gatehouse.SignIn{TenantID: t.ID, CreatedAt: s.Now(), UserPrincipalName: truncateText(mail, gatehouse.MaxSignInText), Status: status,
		IsInteractive: !c.refresh, CorrelationID: correlationID(r.Context()), UserAgent: c.userAgent, Location: c.place.Location}
	if u != nil {
		e.UserID, e.UserPrincipalName, e.UserDisplayName = u.ID, u.Mail, truncateText(u.DisplayName, gatehouse.MaxSignInText)
	}
	if c.app != nil {
		e.AppID, e.AppDisplayName = c.app.AppID, truncateText(c.app.DisplayName, gatehouse.MaxSignInText)
	}
	if c.in.IP.IsValid() {
		e.IPAddress = c.in.IP.String()
	}
	e.ClientAppUsed = gatehouse.ClientAppUsedBrowser
	if c.in.ClientAppType == gatehouse.ClientMobileDesktop {
		e.ClientAppUsed = gatehouse.ClientAppUsedMobileDesktop
	}
	// A sign-in that never reached the policies (a failed first factor)
	// has a zero decision: no policy applied, notApplied.
	e.AppliedPolicies = c.decision.Applied(policy.Outcome{Now: s.Now(), Methods: methods, PasswordChanged: passwordChanged})
	e.ConditionalAccessStatus = policy.Status(e.AppliedPolicies)
	e.AuthenticationRequirement = c.decision.AuthenticationRequirement()
	if c.assessed {
		e.RiskLevelDuringSignIn = c.signInRisk.Level
		if c.refresh {
			e.RiskLevelDuringSignIn = gatehouse.RiskNone
		}
		e.RiskEventTypes = c.signInRisk.Detections
	}
	for i, m := range methods {
		d := gatehouse.AuthenticationDetail{Method: methodLogName(m), At: m.At, Succeeded: true, Requirement: "MFA"}
		if i == 0 {
			d.Requirement = "Primary authentication"
		}
		if m.Carried {
			d.ResultDetail = "First factor requirement satisfied by claim in the token"
			if i > 0 {
				d.ResultDetail = "MFA requirement satisfied by claim in the token"
			}
		}
		e.AuthenticationDetails = append(e.AuthenticationDetails, d)
	}
	if failed != nil {
		e.AuthenticationDetails = append(e.AuthenticationDetails, *failed)
	}
	return e
}

// methodLogName is the sign-in log's name of a method (Graph's
// authenticationMethod values where Entra has one), "Previously
// satisfied" for one carried over from the browser's session.
func methodLogName(m gatehouse.MethodUse) string {
	if m.Carried {
		return "Previously satisfied"
	}
	switch m.Method {
	case gatehouse.MethodPassword:
		return "Password"
	case gatehouse.MethodEmail:
		return "Email OTP"
	case gatehouse.MethodSMS:
		return "Text message"
	case gatehouse.MethodSoftwareOath:
		return "Authenticator app (TOTP)"
	case gatehouse.MethodFido2:
		return "Passkey"
	case gatehouse.MethodRecoveryCode:
		return "Recovery code"
	}
	return m.Method
}

// logSignIn writes the entry in a transaction of its own. The log is
// best effort here: a failure to write it is logged, and the sign-in's
// answer stands.
func (s *server) logSignIn(ctx context.Context, e *gatehouse.SignIn) {
	if err := s.Store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateSignIn(ctx, e) }); err != nil {
		s.Logger.WarnContext(ctx, "sign-in log entry not written", "err", err, "error_code", e.Status.ErrorCode, "correlation_id", e.CorrelationID)
	}
}

// refusalStatus is the sign-in log's status of a refused sign-in.
func refusalStatus(c *caSignIn, u *gatehouse.User, errCode, reason string) gatehouse.SignInStatus {
	code := gatehouse.SignInAccessDenied
	switch {
	case u != nil && !u.AccountEnabled:
		code = gatehouse.SignInAccountDisabled
	case errCode == "access_denied" && c != nil && c.decision.Blocked != nil:
		code = gatehouse.SignInBlockedByPolicy
	case errCode == "unmet_authentication_requirements":
		code = gatehouse.SignInUnmetRequirement
	case errCode == "interaction_required" || errCode == "login_required":
		code = gatehouse.SignInFreshAuthRequired
	}
	return gatehouse.SignInStatus{ErrorCode: code, FailureReason: truncateText(reason, gatehouse.MaxSignInText)}
}
