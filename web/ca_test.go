package web_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// Conditional Access enforced on the sign-in path: the seed's policy
// (require MFA of all users but the break-glass group, for all apps),
// report-only and disabled policies, a block for one app, step-up of a
// single sign-on, the refresh grant re-evaluated, a password change for
// a risky user; and what the sign-in log says of each.

// addPolicy stores a Conditional Access policy (all users, all apps, MFA,
// enabled, changed by opts) behind the admin API's back: the server sees
// it at its next sign-in (the tests read the policies version every time).
func (h *hostedEnv) addPolicy(name string, opts ...func(*gatehouse.Policy)) *gatehouse.Policy {
	h.t.Helper()
	p := &gatehouse.Policy{TenantID: h.tenant.TenantID, DisplayName: name, State: gatehouse.PolicyEnabled,
		Conditions: gatehouse.PolicyConditions{
			Users:          gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
			Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}},
			ClientAppTypes: []string{gatehouse.ClientAll},
		},
		Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
	for _, o := range opts {
		o(p)
	}
	p.Normalize()
	if err := p.Validate(); err != nil {
		h.t.Fatalf("policy %q: %v", name, err)
	}
	ctx := context.Background()
	if err := h.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, p) }); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// setPolicyState changes a stored policy's state.
func (h *hostedEnv) setPolicyState(id string, st gatehouse.PolicyState) {
	h.t.Helper()
	ctx := context.Background()
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.UpdatePolicy(ctx, h.tenant.TenantID, id, func(p *gatehouse.Policy) error { p.State = st; return nil })
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

func excludeGroups(ids ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.Users.ExcludeGroups = ids }
}

func forApps(ids ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.Applications.Include = ids }
}

func blocking(p *gatehouse.Policy) {
	p.Grant = &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlBlock}}
}

func policyState(st gatehouse.PolicyState) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.State = st }
}

// signIns returns the user's sign-in log entries, oldest first ("" for
// every user's).
func (h *hostedEnv) signIns(userID string) []*gatehouse.SignIn {
	h.t.Helper()
	ss, _, err := h.store.ListSignIns(context.Background(), h.tenant.TenantID, gatehouse.SignInFilter{UserID: userID}, gatehouse.ListOptions{Top: gatehouse.MaxPageSize})
	if err != nil {
		h.t.Fatal(err)
	}
	// The server's clock stands still: the IDs (UUIDv7) keep the order.
	slices.SortStableFunc(ss, func(a, b *gatehouse.SignIn) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ss
}

// lastSignIn returns the user's newest sign-in log entry.
func (h *hostedEnv) lastSignIn(userID string) *gatehouse.SignIn {
	h.t.Helper()
	ss := h.signIns(userID)
	if len(ss) == 0 {
		h.t.Fatalf("the sign-in log has no entry of user %s", userID)
	}
	return ss[len(ss)-1]
}

// resultOf returns the policy's result in a sign-in log entry.
func resultOf(e *gatehouse.SignIn, policyID string) string {
	for _, a := range e.AppliedPolicies {
		if a.ID == policyID {
			return a.Result
		}
	}
	return "(absent)"
}

// breakGlass makes a group with the user in it.
func (h *hostedEnv) groupWith(name string, userIDs ...string) string {
	h.t.Helper()
	g := h.must(201, "POST", h.tenant.AdminAPI+"/groups", h.tok, map[string]any{"displayName": name}).str("id")
	for _, id := range userIDs {
		h.must(204, "POST", h.tenant.AdminAPI+"/groups/"+g+"/members/$ref", h.tok,
			map[string]any{"@odata.id": h.tenant.AdminAPI + "/directoryObjects/" + id})
	}
	return g
}

// TestCASeedPolicy: the seed's policy prompts a customer for an email
// code, and the tokens say mfa; the break-glass account is not prompted;
// the sign-in log shows the policy's success and notApplied, and the
// interruption before the code.
func TestCASeedPolicy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		admin := h.addUser("breakglass@example.com", "correct horse battery")
		bg := h.groupWith("Break glass", admin)
		h.enableMethod("Email")
		p := h.addPolicy("Require MFA for all users", excludeGroups(bg))

		b := newBrowser(t, rpRedirect)
		mfa := h.passwordThenMFA(b, "ada@example.com")
		claims := h.signedIn(h.emailSecondFactor(b, mfa, "ada@example.com"))
		if amr(claims) != "pwd otp email mfa" || claims["acr"] != "2" {
			t.Errorf("claims after the policy's second factor: amr %q acr %v", amr(claims), claims["acr"])
		}
		log := h.signIns(ada)
		if len(log) != 2 {
			t.Fatalf("sign-in log of ada: %d entries, want the interruption and the success", len(log))
		}
		if e := log[0]; e.Status.ErrorCode != gatehouse.SignInInterrupted || resultOf(e, p.ID) != gatehouse.ResultFailure {
			t.Errorf("first entry: errorCode %d, policy %s; want %d and failure", e.Status.ErrorCode, resultOf(e, p.ID), gatehouse.SignInInterrupted)
		}
		e := log[1]
		if e.Status.ErrorCode != 0 || resultOf(e, p.ID) != gatehouse.ResultSuccess || e.ConditionalAccessStatus != gatehouse.CAStatusSuccess ||
			e.AuthenticationRequirement != gatehouse.AuthMultiFactor || e.AppID != h.app.cfg.ClientID || e.AppDisplayName != "Shop" {
			t.Errorf("success entry: %+v", e)
		}
		if len(e.AuthenticationDetails) != 2 || e.AuthenticationDetails[0].Method != "Password" || e.AuthenticationDetails[1].Method != "Email OTP" {
			t.Errorf("authenticationDetails: %+v", e.AuthenticationDetails)
		}
		if e.IPAddress != "127.0.0.1" || e.ClientAppUsed != gatehouse.ClientAppUsedBrowser || e.CorrelationID == "" || !e.IsInteractive {
			t.Errorf("entry facts: ip %q client %q correlation %q interactive %v", e.IPAddress, e.ClientAppUsed, e.CorrelationID, e.IsInteractive)
		}

		// The break-glass account: no prompt, and the policy did not apply.
		b = newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "breakglass@example.com", "correct horse battery"); res.code == "" {
			t.Fatalf("the break-glass account's sign-in: %+v, want a code without a second factor", res)
		}
		if e := h.lastSignIn(admin); resultOf(e, p.ID) != gatehouse.ResultNotApplied || e.ConditionalAccessStatus != gatehouse.CAStatusNotApplied {
			t.Errorf("break-glass entry: policy %s, status %s; want notApplied", resultOf(e, p.ID), e.ConditionalAccessStatus)
		}
	})
}

// TestCAReportOnlyAndDisabled: a report-only policy prompts nobody and
// logs what it would have done; a disabled one logs notEnabled.
func TestCAReportOnlyAndDisabled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		mfa := h.addPolicy("MFA, report-only", policyState(gatehouse.PolicyReportOnly))
		block := h.addPolicy("Block, report-only", blocking, policyState(gatehouse.PolicyReportOnly))
		off := h.addPolicy("Block, disabled", blocking, policyState(gatehouse.PolicyDisabled))

		b := newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery"); res.code == "" {
			t.Fatalf("a sign-in under report-only policies: %+v, want a code", res)
		}
		e := h.lastSignIn(ada)
		for _, c := range []struct{ id, want string }{
			{mfa.ID, gatehouse.ResultReportOnlyInterrupted}, {block.ID, gatehouse.ResultReportOnlyFailure}, {off.ID, gatehouse.ResultNotEnabled},
		} {
			if got := resultOf(e, c.id); got != c.want {
				t.Errorf("policy %s: %s, want %s", c.id, got, c.want)
			}
		}
		if e.ConditionalAccessStatus != gatehouse.CAStatusNotApplied {
			t.Errorf("conditionalAccessStatus %s, want notApplied (report-only counts for nothing)", e.ConditionalAccessStatus)
		}

		// With a second factor asked for by the app, the report-only MFA
		// policy would have been met.
		b = newBrowser(t, rpRedirect)
		h.signedIn(h.emailSecondFactor(b, h.passwordThenMFA(b, "ada@example.com", acrMFA), "ada@example.com"))
		if got := resultOf(h.lastSignIn(ada), mfa.ID); got != gatehouse.ResultReportOnlySuccess {
			t.Errorf("report-only MFA after an MFA sign-in: %s, want reportOnlySuccess", got)
		}
	})
}

// TestCABlockOneApp: a block policy for one app blocks that app only, and
// its sign-in log entry says so (53003).
func TestCABlockOneApp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		payroll := h.newRP("acme", h.tok, "Payroll", nil)
		h.addFlowApp(payroll.cfg.ClientID)
		p := h.addPolicy("Block payroll", blocking, forApps(payroll.cfg.ClientID))

		b := newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery"); res.code == "" {
			t.Fatalf("the shop: %+v, want a code", res)
		}
		if res, _ := payroll.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery"); res.err != "access_denied" {
			t.Errorf("payroll: %+v, want access_denied", res)
		}
		e := h.lastSignIn(ada)
		if e.Status.ErrorCode != gatehouse.SignInBlockedByPolicy || resultOf(e, p.ID) != gatehouse.ResultFailure || e.AppID != payroll.cfg.ClientID ||
			e.ConditionalAccessStatus != gatehouse.CAStatusFailure {
			t.Errorf("payroll's entry: code %d policy %s app %s status %s", e.Status.ErrorCode, resultOf(e, p.ID), e.AppID, e.ConditionalAccessStatus)
		}
		// Single sign-on to payroll from the shop's session is blocked too.
		if res, _ := payroll.authorize(b, "", ""); res.err != "access_denied" {
			t.Errorf("payroll by single sign-on: %+v, want access_denied", res)
		}
	})
}

// addFlowApp adds an application to the hosted env's user flow.
func (h *hostedEnv) addFlowApp(appID string) {
	h.t.Helper()
	ctx := context.Background()
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.UpdateUserFlow(ctx, h.tenant.TenantID, h.flow.ID, func(f *gatehouse.UserFlow) error {
			f.AppIDs = append(f.AppIDs, appID)
			return nil
		})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestCAStepUpAndRefresh: a user signed in without MFA is stepped up
// when a policy starts to require it (no password page), prompt=none says
// interaction_required, and the refresh token of the single-factor
// sign-in stops working; a block stops the multifactor one's too.
func TestCAStepUpAndRefresh(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		b := newBrowser(t, rpRedirect)
		res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery")
		single, err := h.app.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.refresh(single.RefreshToken); err != nil {
			t.Fatalf("refresh before any policy: %v", err)
		}

		p := h.addPolicy("Require MFA")
		if _, err := h.refresh(single.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("refresh of a single-factor sign-in under an MFA policy: %v, want invalid_grant", err)
		}
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "interaction_required" {
			t.Errorf("prompt=none: %+v, want interaction_required", res)
		}
		step := b.get(h.app.cfg.AuthCodeURL("st"))
		if strings.HasSuffix(step.url.Path, "/acme/login") {
			t.Fatal("the step-up showed the password page again")
		}
		back := h.emailSecondFactor(b, step, "ada@example.com")
		u, _ := url.Parse(back.location)
		multi, err := h.app.cfg.Exchange(ctx, u.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		if c := h.app.verifyID(multi); amr(c) != "pwd otp email mfa" {
			t.Errorf("amr after the step-up: %q", amr(c))
		}
		next, err := h.refresh(multi.RefreshToken)
		if err != nil {
			t.Fatalf("refresh of the multifactor sign-in: %v", err)
		}

		// Ada is now blocked: her refresh token stops working, and the log
		// says why.
		blockAda := h.addPolicy("Block Ada", blocking, func(p *gatehouse.Policy) { p.Conditions.Users.IncludeUsers = []string{ada} })
		if _, err := h.refresh(next); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("refresh of a blocked user: %v, want invalid_grant", err)
		}
		e := h.lastSignIn(ada)
		if e.IsInteractive || e.Status.ErrorCode != gatehouse.SignInBlockedByPolicy || resultOf(e, blockAda.ID) != gatehouse.ResultFailure ||
			resultOf(e, p.ID) != gatehouse.ResultSuccess {
			t.Errorf("the refused refresh's entry: interactive %v code %d block %s mfa %s", e.IsInteractive, e.Status.ErrorCode,
				resultOf(e, blockAda.ID), resultOf(e, p.ID))
		}
		// Report-only, the block lets the refresh through.
		h.setPolicyState(blockAda.ID, gatehouse.PolicyReportOnly)
		if _, err := h.refresh(next); err != nil {
			t.Errorf("refresh with the block report-only: %v", err)
		}
	})
}

// refresh redeems a refresh token and returns the new one.
func (h *hostedEnv) refresh(rt string) (string, error) {
	src := h.app.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return "", err
	}
	return tok.RefreshToken, nil
}

// TestCASignInFrequencyAndPersistence: a sign-in frequency makes an old
// session sign in again; a persistent browser session keeps the session
// cookie past the browser's closing, and without one it is a session
// cookie.
func TestCASignInFrequencyAndPersistence(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		pg := noFollow(b).submit(h.begin(b), map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		if c := sessionSetCookie(pg); c == "" || strings.Contains(c, "Max-Age") {
			t.Errorf("without a policy the session cookie is a session cookie: %q", c)
		}

		h.addPolicy("Daily, persistent", func(p *gatehouse.Policy) {
			p.Grant = nil
			p.Session = &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 1, Type: "hours"},
				PersistentBrowser: gatehouse.PersistentAlways}
		})
		// Within the hour, single sign-on goes on.
		if res, _ := h.app.authorize(b, "", "", promptNone); res.code == "" {
			t.Errorf("single sign-on within the sign-in frequency: %+v", res)
		}
		h.clk.Advance(61 * time.Minute)
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "login_required" {
			t.Errorf("prompt=none past the sign-in frequency: %+v, want login_required", res)
		}
		b2 := newBrowser(t, rpRedirect)
		pg = noFollow(b2).submit(h.begin(b2), map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		if c := sessionSetCookie(pg); !strings.Contains(c, "Max-Age=") {
			t.Errorf("with a persistent browser session the cookie must outlive the browser: %q", c)
		}
	})
}

// sessionSetCookie returns the Set-Cookie header of acme's session cookie
// in the response, "" if none.
func sessionSetCookie(p page) string {
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gh_s_acme=") {
			return c
		}
	}
	return ""
}

// TestCAPasswordChangeForRiskyUser: a user whose password is on the list
// of breached passwords is high risk; a policy requiring MFA and a
// password change for high user risk sends them through both, after which
// their risk is gone.
func TestCAPasswordChangeForRiskyUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		hash, err := testHasher.Hash(ctx, "password123")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, h.tenant.TenantID, ada, func(u *gatehouse.User) error { u.PasswordHash = hash; return nil })
			return err
		}); err != nil {
			t.Fatal(err)
		}
		h.enableMethod("Email")
		p := h.addPolicy("Risky users: change password", func(p *gatehouse.Policy) {
			p.Conditions.UserRisk = []gatehouse.RiskLevel{gatehouse.RiskHigh}
			p.Grant = &gatehouse.GrantControls{Operator: "AND", BuiltIn: []string{gatehouse.ControlMFA, gatehouse.ControlPasswordChange}}
		})

		b := newBrowser(t, rpRedirect)
		first := b.get(h.app.cfg.AuthCodeURL("st"))
		mfa := h.step(b, first, map[string]string{"email": "ada@example.com", "password": "password123"})
		change := h.emailSecondFactor(b, mfa, "ada@example.com")
		if !strings.HasSuffix(change.url.Path, "/login/password/change") {
			t.Fatalf("after the second factor: %s, want the password change page; %.400s", change.url.Path, text(change.body))
		}
		if bad := noFollow(b).submit(change, map[string]string{"password": "password123"}); bad.status != 400 {
			t.Errorf("the same password again: status %d, want 400", bad.status)
		}
		claims := h.signedIn(h.step(b, change, map[string]string{"password": "a new and quite long passphrase"}))
		if amr(claims) != "pwd otp email mfa" {
			t.Errorf("amr after the change: %q", amr(claims))
		}
		e := h.lastSignIn(ada)
		if resultOf(e, p.ID) != gatehouse.ResultSuccess {
			t.Errorf("the policy after the change: %s, want success", resultOf(e, p.ID))
		}
		if u := h.user("ada@example.com"); !u.PasswordChangedAt.Equal(h.clk.Now()) {
			t.Errorf("passwordChangedAt %v, want %v", u.PasswordChangedAt, h.clk.Now())
		}
		// The new password is not breached: no second factor, no change.
		if res, _ := h.app.authorize(newBrowser(t, rpRedirect), "ada@example.com", "a new and quite long passphrase"); res.code == "" {
			t.Errorf("a sign-in with the new password: %+v, want a code", res)
		}
		if got := resultOf(h.lastSignIn(ada), p.ID); got != gatehouse.ResultNotApplied {
			t.Errorf("the policy with the new password: %s, want notApplied", got)
		}
	})
}

// TestCAWrongPasswordLogged: failed passwords are in the sign-in log,
// known account or not, with the address they came from.
func TestCAWrongPasswordLogged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		for _, mail := range []string{"ada@example.com", "nobody@example.com"} {
			b := newBrowser(t, rpRedirect)
			if pg := b.submit(h.begin(b), map[string]string{"email": mail, "password": "wrong password"}); pg.status != 400 {
				t.Fatalf("a wrong password for %s: status %d", mail, pg.status)
			}
		}
		e := h.lastSignIn(ada)
		if e.Status.ErrorCode != gatehouse.SignInInvalidCredentials || e.UserPrincipalName != "ada@example.com" || e.IPAddress == "" {
			t.Errorf("ada's failed sign-in: %+v", e)
		}
		all := h.signIns("")
		if !slices.ContainsFunc(all, func(s *gatehouse.SignIn) bool {
			return s.UserID == "" && s.UserPrincipalName == "nobody@example.com" && s.Status.ErrorCode == gatehouse.SignInInvalidCredentials
		}) {
			t.Errorf("no entry for the unknown account among %d", len(all))
		}
	})
}

// TestCAPolicyChangeReachesEveryNode: two servers on one store, as two
// nodes on one PostgreSQL. A policy written by another node (here, to the
// store directly) is enforced by this one at the latest for a sign-in
// that starts web.PolicyRecheck after the change: a sign-in that starts a
// second after it is blocked.
func TestCAPolicyChangeReachesEveryNode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		web.SetPolicyRecheck(t, 500*time.Millisecond)
		// Sign-ins keep coming from one address until the second is over.
		h := newHostedEnv(t, eng, hostedOptions{perIP: 100000})
		h.addUser("ada@example.com", "correct horse battery")
		other := newEnv(t, h.store, h.vkey, func(o *web.Options) { o.Now, o.SignInsPerIP = h.clk.Now, 100000 })
		cfg := h.app.cfg
		cfg.Endpoint.AuthURL = strings.Replace(cfg.Endpoint.AuthURL, h.url, other.url, 1)
		onB := &rp{t: t, e: other, cfg: cfg}
		signIn := func() authResult {
			res, _ := onB.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery")
			return res
		}
		if res := signIn(); res.code == "" {
			t.Fatalf("node B before the policy: %+v, want a code", res)
		}
		h.addPolicy("Block everyone", blocking)
		changed := time.Now()
		for time.Since(changed) < time.Second {
			signIn() // blocked or not yet: node B may still use what it compiled
		}
		if res := signIn(); res.err != "access_denied" {
			t.Errorf("node B a second after the policy was written: %+v, want access_denied", res)
		}
	})
}

// TestCAWrongSecondFactorLogged: a wrong email code after the password is
// in the sign-in log as a failed second factor (500121), with the
// password that succeeded and the code that did not.
func TestCAWrongSecondFactorLogged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		p := h.addPolicy("Require MFA")
		b := newBrowser(t, rpRedirect)
		codePage := h.step(b, h.passwordThenMFA(b, "ada@example.com"), map[string]string{"action": "start"})
		if pg := b.submit(codePage, map[string]string{"code": "00000000"}); pg.status != 400 {
			t.Fatalf("a wrong code: status %d", pg.status)
		}
		e := h.lastSignIn(ada)
		if e.Status.ErrorCode != gatehouse.SignInSecondFactorFailed || resultOf(e, p.ID) != gatehouse.ResultFailure {
			t.Errorf("the wrong code's entry: code %d policy %s", e.Status.ErrorCode, resultOf(e, p.ID))
		}
		if d := e.AuthenticationDetails; len(d) != 2 || !d[0].Succeeded || d[1].Succeeded || d[1].Method != "Email OTP" {
			t.Errorf("authenticationDetails: %+v", d)
		}
	})
}

// TestCAAdminAPIIsAnApplication: a sign-in that asks for the admin API's
// delegated permission is a sign-in to the admin API too (FE-2): a policy
// for the admin API applies to it, and not to the same app's sign-ins
// without it.
func TestCAAdminAPIIsAnApplication(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		console := h.newRP("acme", h.tok, "Console", map[string]any{"requiredResourceAccess": directoryAccessAsUser})
		h.addFlowApp(console.cfg.ClientID)
		p := h.addPolicy("Block the admin API", blocking, forApps(gatehouse.AdminAPIAppID))

		if res, _ := console.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery"); res.code == "" {
			t.Fatalf("the console without the admin API: %+v, want a code", res)
		}
		console.cfg.Scopes = append(console.cfg.Scopes, gatehouse.AdminAPIScope(h.url, "acme"))
		if res, _ := console.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery"); res.err != "access_denied" {
			t.Errorf("the console asking for the admin API: %+v, want access_denied", res)
		}
		if e := h.lastSignIn(h.user("ada@example.com").ID); resultOf(e, p.ID) != gatehouse.ResultFailure {
			t.Errorf("the policy's result: %s, want failure", resultOf(e, p.ID))
		}
	})
}
