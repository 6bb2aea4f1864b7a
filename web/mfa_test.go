package web_test

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"golang.org/x/oauth2"
)

// configURL is the admin API path of one method's configuration.
func (h *hostedEnv) configURL(id string) string {
	return h.tenant.AdminAPI + "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/" + id
}

// enableMethod turns a method on for all users, or for the groups given.
func (h *hostedEnv) enableMethod(id string, groups ...string) {
	h.t.Helper()
	body := map[string]any{"state": "enabled"}
	if len(groups) > 0 {
		var ts []map[string]any
		for _, g := range groups {
			ts = append(ts, map[string]any{"targetType": "group", "id": g})
		}
		body["includeTargets"] = ts
	}
	h.must(204, "PATCH", h.configURL(id), h.tok, body)
}

var (
	acrMFA       = oauth2.SetAuthURLParam("acr_values", "2")
	essentialMFA = oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2","3"]}}}`)
)

// passwordThenMFA signs in with the password on the hosted page that an
// authorization request with opts shows, and returns the page after it.
func (h *hostedEnv) passwordThenMFA(b *browser, mail string, opts ...oauth2.AuthCodeOption) page {
	h.t.Helper()
	first := b.get(h.app.cfg.AuthCodeURL("st", opts...))
	if first.status != 200 || !strings.HasSuffix(first.url.Path, "/acme/login") {
		h.t.Fatalf("authorize: status %d at %s; body %.400s", first.status, first.url, text(first.body))
	}
	return h.step(b, first, map[string]string{"email": mail, "password": "correct horse battery"})
}

// emailSecondFactor completes the email second factor from its page:
// send the code, enter the one the mail brought.
func (h *hostedEnv) emailSecondFactor(b *browser, pg page, mail string) page {
	h.t.Helper()
	if !strings.HasSuffix(pg.url.Path, "/login/mfa/email") {
		h.t.Fatalf("at %s, want the email second factor page; body %.500s", pg.url.Path, text(pg.body))
	}
	codePage := h.step(b, pg, map[string]string{"action": "start"})
	if !strings.Contains(text(codePage.body), "We sent a code to "+mail[:1]+"***@") {
		h.t.Errorf("the code page does not name the masked address: %.400s", text(codePage.body))
	}
	return h.step(b, codePage, map[string]string{"code": h.smtp.CodeFor(h.t, mail)})
}

// TestMFAEmailSecondFactor: with email codes enabled, a relying party that
// asks for multifactor authentication gets a code step after the password,
// and the tokens say so (amr mfa, acr 2); without the request, nothing.
func TestMFAEmailSecondFactor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")

		b := newBrowser(t, rpRedirect)
		plain := h.app.authorize // no acr: a password is enough
		if res, shown := plain(b, "ada@example.com", "correct horse battery"); res.code == "" || !shown {
			t.Fatalf("a sign-in without acr_values: %+v", res)
		}

		for _, opt := range []oauth2.AuthCodeOption{acrMFA, essentialMFA} {
			b := newBrowser(t, rpRedirect)
			mfa := h.passwordThenMFA(b, "ada@example.com", opt)
			claims := h.signedIn(h.emailSecondFactor(b, mfa, "ada@example.com"))
			if amr(claims) != "pwd otp email mfa" || claims["acr"] != "2" {
				t.Errorf("claims after password and email code: amr %q acr %v", amr(claims), claims["acr"])
			}
		}
	})
}

// TestMFAUnmetRequirements: a voluntary acr_values the user cannot meet is
// dropped (acr 1), an essential acr is refused with
// unmet_authentication_requirements (OP-5), never downgraded; a method
// that is off, or targeted at a group the user is not in, is not offered.
func TestMFAUnmetRequirements(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		graceID := h.addUser("grace@example.com", "correct horse battery")
		group := h.must(201, "POST", h.tenant.AdminAPI+"/groups", h.tok, map[string]any{"displayName": "MFA pilot"}).str("id")
		h.must(204, "POST", h.tenant.AdminAPI+"/groups/"+group+"/members/$ref", h.tok,
			map[string]any{"@odata.id": h.tenant.AdminAPI + "/directoryObjects/" + graceID})

		check := func(what, mail string, wantMFA bool) {
			t.Helper()
			b := newBrowser(t, rpRedirect)
			if wantMFA {
				if pg := h.passwordThenMFA(b, mail, acrMFA); !strings.HasSuffix(pg.url.Path, "/login/mfa/email") {
					t.Errorf("%s: acr_values=2 for %s went to %s, want the email second factor", what, mail, pg.url)
				}
				return
			}
			res, _ := h.app.authorize(b, mail, "correct horse battery", acrMFA)
			if res.code == "" {
				t.Errorf("%s: acr_values=2 for %s: %+v, want a code (the voluntary acr dropped)", what, mail, res)
			} else {
				claims := h.signedIn(page{location: rpRedirect + "?code=" + url.QueryEscape(res.code)})
				if claims["acr"] != "1" || amr(claims) != "pwd" {
					t.Errorf("%s: claims acr %v amr %q, want 1 and pwd", what, claims["acr"], amr(claims))
				}
			}
			b = newBrowser(t, rpRedirect)
			if res, _ := h.app.authorize(b, mail, "correct horse battery", essentialMFA); res.err != "unmet_authentication_requirements" {
				t.Errorf("%s: an essential acr for %s: %+v, want unmet_authentication_requirements", what, mail, res)
			}
		}
		check("every method off", "ada@example.com", false)
		h.enableMethod("Email", group)
		check("email for the pilot group only", "ada@example.com", false)
		check("email for the pilot group only", "grace@example.com", true)
		h.must(204, "PATCH", h.configURL("Email"), h.tok, map[string]any{"state": "disabled"})
		check("email turned off again", "grace@example.com", false)
	})
}

// TestMFAStepUpSSO: a browser signed in with a password only, opening an
// app that needs MFA, is asked for the second factor alone (no password
// page), gets a new session ID (SE-2), and prompt=none says
// interaction_required until then.
func TestMFAStepUpSSO(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		b := newBrowser(t, rpRedirect)
		if res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery"); res.code == "" {
			t.Fatalf("first sign-in: %+v", res)
		}
		before := h.sessionOf(b)

		// prompt=none cannot step up.
		if res, _ := h.app.authorize(b, "", "", acrMFA, promptNone); res.err != "interaction_required" {
			t.Errorf("prompt=none with a single-factor session and acr_values=2: %+v, want interaction_required", res)
		}
		// Single sign-on without the acr goes through.
		if res, _ := h.app.authorize(b, "", "", promptNone); res.code == "" {
			t.Errorf("prompt=none without acr: %+v", res)
		}

		step := b.get(h.app.cfg.AuthCodeURL("st", acrMFA))
		if strings.HasSuffix(step.url.Path, "/acme/login") {
			t.Fatalf("the step-up showed the password page again")
		}
		claims := h.signedIn(h.emailSecondFactor(b, step, "ada@example.com"))
		if amr(claims) != "pwd otp email mfa" || claims["acr"] != "2" {
			t.Errorf("claims after the step-up: amr %q acr %v", amr(claims), claims["acr"])
		}
		after := h.sessionOf(b)
		if after == before || h.sessionExists(before) || !h.sessionExists(after) {
			t.Errorf("the step-up kept the session ID (SE-2): before %s after %s", before, after)
		}
		// Now the session has the second factor: prompt=none passes.
		if res, _ := h.app.authorize(b, "", "", acrMFA, promptNone); res.code == "" {
			t.Errorf("prompt=none with a multifactor session: %+v, want a code", res)
		}
		// prompt=login re-authenticates: the password page again, then the
		// second factor the session had still counts (the same user).
		pg := b.get(h.app.cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("prompt", "login")))
		if !strings.HasSuffix(pg.url.Path, "/acme/login") {
			t.Errorf("prompt=login did not show the sign-in page: %s", pg.url)
		}
	})
}

// TestEO0NoEmailAfterEmail: in a passwordless flow (the first factor an
// email code), the email code is never the second factor (EO-0).
func TestEO0NoEmailAfterEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{idp: gatehouse.IdentityProviderEmailOTP})
		h.addUser("ada@example.com", "")
		h.enableMethod("Email")
		b := newBrowser(t, rpRedirect)
		first := b.get(h.app.cfg.AuthCodeURL("st", essentialMFA))
		code := h.step(b, first, map[string]string{"email": "ada@example.com"})
		res := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")})
		u, _ := url.Parse(res.location)
		if got := u.Query().Get("error"); got != "unmet_authentication_requirements" {
			t.Errorf("an email code sign-in with only email codes enabled and an essential acr 2: %s, want unmet_authentication_requirements", res.location)
		}
	})
}

// TestMethodsPolicyAPI: Graph's shape, PATCH of one configuration, errors
// that name the field and write nothing, who may change it, the audit
// log.
func TestMethodsPolicyAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		api := h.tenant.AdminAPI
		pol := h.must(200, "GET", api+"/policies/authenticationMethodsPolicy", h.tok, nil)
		if pol.str("id") != "authenticationMethodsPolicy" {
			t.Errorf("policy id %q", pol.str("id"))
		}
		configs := pol.body["authenticationMethodConfigurations"].([]any)
		var ids []string
		for _, c := range configs {
			m := c.(map[string]any)
			ids = append(ids, m["id"].(string))
			if m["state"] != "disabled" {
				t.Errorf("%s is %v by default, want disabled", m["id"], m["state"])
			}
		}
		if got := strings.Join(ids, ","); got != "Email,Sms,SoftwareOath,Fido2,RecoveryCode" {
			t.Errorf("configurations %s", got)
		}
		fido := h.must(200, "GET", h.configURL("fido2"), h.tok, nil)
		if fido.str("@odata.type") != "#microsoft.graph.fido2AuthenticationMethodConfiguration" || fido.body["isSelfServiceRegistrationAllowed"] != true {
			t.Errorf("fido2 configuration: %s", fido.raw)
		}

		// What GET returns PATCHes back unchanged, writing nothing.
		audits := h.countAll(api+"/auditLogs/directoryAudits", h.tok)
		email := h.must(200, "GET", h.configURL("Email"), h.tok, nil)
		delete(email.body, "@odata.context")
		h.must(204, "PATCH", h.configURL("Email"), h.tok, email.body)
		h.must(204, "PATCH", api+"/policies/authenticationMethodsPolicy", h.tok, map[string]any{"policyMigrationState": "migrationComplete"})
		if n := h.countAll(api+"/auditLogs/directoryAudits", h.tok); n != audits {
			t.Errorf("a PATCH that changes nothing wrote %d audit entries", n-audits)
		}

		for _, c := range []struct {
			path  string
			body  map[string]any
			field string
		}{
			{"Email", map[string]any{"state": "on"}, "state"},
			{"Email", map[string]any{"isSelfServiceRegistrationAllowed": true}, "isSelfServiceRegistrationAllowed"},
			{"Email", map[string]any{"allowExternalIdToUseEmailOtp": "disabled"}, "allowExternalIdToUseEmailOtp"},
			{"Email", map[string]any{"includeTargets": []any{map[string]any{"targetType": "group", "id": "no-such-group"}}}, "includeTargets[0].id"},
			{"Email", map[string]any{"includeTargets": []any{map[string]any{"targetType": "user", "id": "all_users"}}}, "includeTargets[0].targetType"},
			{"Email", map[string]any{"excludeTargets": []any{map[string]any{"targetType": "group", "id": "all_users"}}}, "excludeTargets[0].id"},
			{"Email", map[string]any{"includeTargets": []any{map[string]any{"id": "all_users", "isRegistrationRequired": true}}}, "includeTargets[0].isRegistrationRequired"},
			{"Sms", map[string]any{"includeTargets": []any{map[string]any{"id": "all_users", "isUsableForSignIn": true}}}, "includeTargets[0].isUsableForSignIn"},
			{"Fido2", map[string]any{"isAttestationEnforced": true}, "isAttestationEnforced"},
			{"Fido2", map[string]any{"keyRestrictions": map[string]any{"isEnforced": true, "enforcementType": "allow", "aaGuids": []any{}}}, "keyRestrictions.aaGuids"},
			{"Fido2", map[string]any{"keyRestrictions": map[string]any{"aaGuids": []any{"not-a-guid"}}}, "keyRestrictions.aaGuids[0]"},
			{"Fido2", map[string]any{"id": "Email"}, "id"},
			{"SoftwareOath", map[string]any{"defaultLifetimeInMinutes": 60}, "defaultLifetimeInMinutes"},
			{"SoftwareOath", map[string]any{"favouriteColour": "green"}, "favouriteColour"},
		} {
			r := h.call("PATCH", h.configURL(c.path), h.tok, c.body)
			if r.status != 400 || !strings.Contains(r.errMessage(), c.field) {
				t.Errorf("PATCH %s %v: status %d %q, want 400 naming %s", c.path, c.body, r.status, r.errMessage(), c.field)
			}
		}
		h.must(404, "GET", h.configURL("MicrosoftAuthenticator"), h.tok, nil)
		if n := h.countAll(api+"/auditLogs/directoryAudits", h.tok); n != audits {
			t.Errorf("refused PATCHes wrote %d audit entries", n-audits)
		}

		// The change itself, audited with before and after.
		h.must(204, "PATCH", h.configURL("fido2"), h.tok, map[string]any{"state": "enabled", "isSelfServiceRegistrationAllowed": false,
			"keyRestrictions": map[string]any{"isEnforced": true, "enforcementType": "block", "aaGuids": []any{"CB69481E-8FF7-4039-93EC-0A2729A154A8"}}})
		fido = h.must(200, "GET", h.configURL("Fido2"), h.tok, nil)
		kr := fido.body["keyRestrictions"].(map[string]any)
		if fido.str("state") != "enabled" || fido.body["isSelfServiceRegistrationAllowed"] != false || kr["isEnforced"] != true ||
			kr["aaGuids"].([]any)[0] != "cb69481e-8ff7-4039-93ec-0a2729a154a8" {
			t.Errorf("after PATCH: %s", fido.raw)
		}
		if got := h.auditActivities(api, h.tok, "Fido2"); got["Authentication Methods Policy Update"] != 1 {
			t.Errorf("audit activities for Fido2: %v", got)
		}

		// Who may: the Authentication Policy and Security Administrators,
		// not a User or Conditional Access Administrator.
		for role, want := range map[string]int{
			gatehouse.RoleAuthenticationPolicyAdministrator: 204,
			gatehouse.RoleSecurityAdministrator:             204,
			gatehouse.RoleUserAdministrator:                 403,
			gatehouse.RoleConditionalAccessAdministrator:    403,
		} {
			id := h.addUser(role[:8]+"@acme.example", "")
			h.must(201, "POST", api+"/roleManagement/directory/roleAssignments", h.tok, map[string]any{"roleDefinitionId": role, "principalId": id})
			tok := h.delegatedToken(h.tenant, id)
			// (SoftwareOath: enabling Sms also needs an SMS gateway.)
			r := h.call("PATCH", h.configURL("SoftwareOath"), tok, map[string]any{"state": "enabled"})
			if r.status != want {
				t.Errorf("role %s: PATCH status %d %q, want %d", role, r.status, r.errMessage(), want)
			}
			h.must(204, "PATCH", h.configURL("SoftwareOath"), h.tok, map[string]any{"state": "disabled"})
		}
	})
}

// TestMFAEmailCodeRules: the second factor's code has the rules of every
// email code: five wrong tries kill it (EO-5, a new one is sent), an
// expired one fails (EO-2, a new one is sent), and of concurrent
// submissions of the right code exactly one signs in (EO-3).
func TestMFAEmailCodeRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.enableMethod("Email")
		const mail = "ada@example.com"
		codePage := func(b *browser) page {
			mfa := h.passwordThenMFA(b, mail, acrMFA)
			return h.step(b, mfa, map[string]string{"action": "start"})
		}

		b := newBrowser(t, rpRedirect)
		p := codePage(b)
		code := h.smtp.CodeFor(t, mail)
		for i := 1; i <= 4; i++ {
			if r := tryCode(b, p, otherCode(code)); r.status != 400 || !strings.Contains(text(r.body), "That code is wrong") {
				t.Fatalf("wrong code %d: %d %.300s", i, r.status, text(r.body))
			}
		}
		if r := tryCode(b, p, otherCode(code)); !strings.Contains(text(r.body), "Too many wrong codes. We sent a new one.") {
			t.Fatalf("wrong code 5: %d %.300s", r.status, text(r.body))
		}
		fresh := h.smtp.CodeFor(t, mail)
		if r := tryCode(b, p, code); r.status != 400 {
			t.Errorf("the killed code still works: %d", r.status)
		}
		h.clk.Advance(11 * time.Minute)
		if r := tryCode(b, p, fresh); !strings.Contains(text(r.body), "That code has expired. We sent a new one.") {
			t.Errorf("an expired code: %d %.300s", r.status, text(r.body))
		}
		last := h.smtp.CodeFor(t, mail)
		if r := noFollow(b).submit(p, map[string]string{"code": last}); !strings.HasPrefix(r.location, rpRedirect) {
			t.Errorf("the new code after expiry does not sign in: %d %q", r.status, r.location)
		}

		// One code, many submissions at once: one sign-in.
		b = newBrowser(t, rpRedirect)
		p = codePage(b)
		code = h.smtp.CodeFor(t, mail)
		const n = 8
		var wg sync.WaitGroup
		var signedIn atomic.Int32
		for range n {
			wg.Go(func() {
				if r := noFollow(b).submit(p, map[string]string{"code": code}); strings.HasPrefix(r.location, rpRedirect) {
					signedIn.Add(1)
				}
			})
		}
		wg.Wait()
		if got := signedIn.Load(); got != 1 {
			t.Errorf("%d of %d concurrent submissions of one code signed in, want 1", got, n)
		}
	})
}
