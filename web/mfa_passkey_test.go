package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/mfa/passkeytest"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

// newPasskeyEnv is a hosted environment whose public URL names localhost
// (an IP address cannot be a WebAuthn RP ID) with passkeys (fido2) enabled
// for all users.
func newPasskeyEnv(t *testing.T, eng storetest.Engine, o hostedOptions) *hostedEnv {
	t.Helper()
	o.localhost = true
	h := newHostedEnv(t, eng, o)
	h.setMethod("Fido2", map[string]any{"state": "enabled"})
	return h
}

// setMethod changes a method's configuration of the methods policy.
func (h *hostedEnv) setMethod(id string, body map[string]any) {
	h.t.Helper()
	h.must(204, "PATCH", h.tenant.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"+id, h.tok, body)
}

// beginWith sends a new browser through the authorization endpoint with
// extra parameters, to the flow's first page.
func (h *hostedEnv) beginWith(b *browser, opts ...oauth2.AuthCodeOption) page {
	h.t.Helper()
	pg := b.get(h.app.cfg.AuthCodeURL("st", opts...))
	if pg.status != 200 || !strings.Contains(pg.url.Path, "/acme/login") {
		h.t.Fatalf("authorize: status %d at %s, want a sign-in page; body %.500s", pg.status, pg.url, text(pg.body))
	}
	return pg
}

// mfaRequired is the relying party asking for multifactor authentication.
var mfaRequired = oauth2.SetAuthURLParam("acr_values", "2")

// ceremony returns the kind ("create" or "get") and options of the
// passkey page's ceremony.
func ceremony(t testing.TB, p page) (string, []byte) {
	t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		if a := attrs(f[1]); a["id"] == "webauthn" {
			return a["data-ceremony"], []byte(a["data-options"])
		}
	}
	t.Fatalf("no passkey form on %s (status %d): %.600s", p.url, p.status, text(p.body))
	return "", nil
}

// answer is the authenticator's answer to the page's ceremony, as the
// page's script posts it.
func answer(t testing.TB, p page, a *passkeytest.Authenticator) string {
	t.Helper()
	kind, opts := ceremony(t, p)
	var resp []byte
	var err error
	if kind == "create" {
		resp, err = a.Create(opts)
	} else {
		resp, err = a.Get(opts)
	}
	if err != nil {
		t.Fatalf("authenticator (%s): %v", kind, err)
	}
	return string(resp)
}

// challengeOf returns the challenge of the page's ceremony.
func challengeOf(t *testing.T, p page) string {
	t.Helper()
	_, opts := ceremony(t, p)
	var o struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatalf("ceremony options %s: %v", opts, err)
	}
	return o.Challenge
}

// mfaPage signs the user in with their password to an app that requires
// MFA, and returns the page it leads to, which must be at path.
func (h *hostedEnv) mfaPage(b *browser, mail, pw, path string) page {
	h.t.Helper()
	pg := h.step(b, h.beginWith(b, mfaRequired), map[string]string{"email": mail, "password": pw})
	if pg.url.Path != path {
		h.t.Fatalf("after the password: %s, want %s; %.500s", pg.url.Path, path, text(pg.body))
	}
	return pg
}

// registrationPage is mfaPage for a user who must register a passkey.
func (h *hostedEnv) registrationPage(b *browser, mail, pw string) page {
	h.t.Helper()
	return h.mfaPage(b, mail, pw, "/acme/login/register/passkey")
}

// passkeyStep is mfaPage for a user whose second factor is a passkey.
func (h *hostedEnv) passkeyStep(b *browser, mail, pw string) page {
	h.t.Helper()
	return h.mfaPage(b, mail, pw, "/acme/login/mfa/passkey")
}

// registerPasskey signs the user in with their password to an app that
// requires MFA, registers a passkey of a just in time, and returns the ID
// token's claims.
func (h *hostedEnv) registerPasskey(b *browser, mail, pw string, a *passkeytest.Authenticator) map[string]any {
	h.t.Helper()
	reg := h.registrationPage(b, mail, pw)
	return h.signedIn(h.step(b, reg, map[string]string{"credential": answer(h.t, reg, a)}))
}

// passkeys returns the user's registered passkeys.
func (h *hostedEnv) passkeys(userID string) []*gatehouse.UserMethod {
	h.t.Helper()
	ms, err := h.store.UserMethods(context.Background(), h.tenant.TenantID, userID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*gatehouse.UserMethod
	for _, m := range ms {
		if m.Method == gatehouse.MethodFido2 {
			out = append(out, m)
		}
	}
	return out
}

// sessionMethods returns the methods the browser's session records.
func (h *hostedEnv) sessionMethods(b *browser) []gatehouse.MethodUse {
	h.t.Helper()
	se, err := h.store.Session(context.Background(), h.tenant.TenantID, h.sessionOf(b))
	if err != nil {
		h.t.Fatalf("the browser's session: %v", err)
	}
	return se.Methods
}

// refused checks that r is the passkey page again with the message and a
// new ceremony.
func refused(t *testing.T, r page, status int, msg, oldChallenge string) {
	t.Helper()
	if r.status != status || !strings.Contains(text(r.body), msg) {
		t.Fatalf("status %d, body %.600s; want %d saying %q", r.status, text(r.body), status, msg)
	}
	if challengeOf(t, r) == oldChallenge {
		t.Errorf("the page after a failure shows the challenge that was tried")
	}
}

// TestPasskeyRegisterJustInTimeThenSecondFactor walks the main story: an
// app requires MFA, a user with only a password registers a passkey on
// the spot (the registration is the second factor), and signs in with it
// as the second factor afterwards.
func TestPasskeyRegisterJustInTimeThenSecondFactor(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		uid := h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)

		b := newBrowser(t, rpRedirect)
		reg := h.registrationPage(b, "ada@example.com", "correct horse battery")
		if !strings.Contains(text(reg.body), "Set up a passkey") {
			t.Fatalf("registration page: %.400s", text(reg.body))
		}
		// The page runs one script, from a file, under the strict CSP.
		if csp := headers(t, b, reg.url.String()).Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
		if n := strings.Count(reg.body, "<script"); n != 1 || !strings.Contains(reg.body, `<script src="/static/webauthn.js?v=`) || strings.Contains(reg.body, "style=") {
			t.Errorf("the page has %d scripts, want only webauthn.js: %s", n, reg.body)
		}
		if !strings.Contains(reg.body, "<noscript>") || label(t, reg, "name") != "Name for this passkey" {
			t.Errorf("the page lacks the no-script explanation or the name's label: %s", reg.body)
		}
		js := b.get(h.url + "/static/webauthn.js")
		if js.status != 200 || !strings.Contains(js.body, "navigator.credentials.create") {
			t.Errorf("webauthn.js: status %d", js.status)
		}
		kind, _ := ceremony(t, reg)
		if kind != "create" {
			t.Errorf("ceremony %q, want create", kind)
		}

		back := h.step(b, reg, map[string]string{"credential": answer(t, reg, a), "name": "Work laptop"})
		claims := h.signedIn(back)
		if amr(claims) != "pwd hwk mfa" || claims["acr"] != "3" {
			t.Errorf("after registering: amr %q, acr %v; want pwd hwk mfa, 3", amr(claims), claims["acr"])
		}
		pks := h.passkeys(uid)
		if len(pks) != 1 || pks[0].DisplayName != "Work laptop" || string(pks[0].Passkey.CredentialID) != string(a.Credentials[0].ID) ||
			pks[0].Passkey.BackupEligible || pks[0].Passkey.SignCount != 0 {
			t.Fatalf("registered passkeys %+v", pks)
		}
		methods := h.sessionMethods(b)
		if len(methods) != 2 || methods[1].Method != gatehouse.MethodFido2 || methods[1].MethodID != pks[0].ID || !methods[1].UserVerified {
			t.Errorf("session methods %+v", methods)
		}
		// RL-5 and LC-3: a notice by email, an audit entry.
		notice := h.smtp.WaitFor(t, func(r smtptest.Received) bool { return r.To[0] == "ada@example.com" }, 0)
		if !strings.Contains(notice.Subject, "A passkey was added") || !strings.Contains(notice.Text, "Work laptop") {
			t.Errorf("notice %q: %s", notice.Subject, notice.Text)
		}
		audits := h.must(200, "GET", h.tenant.AdminAPI+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'User%20registered%20security%20info'", h.tok, nil)
		if list := audits.body["value"].([]any); len(list) != 1 || !strings.Contains(audits.raw, uid) || !strings.Contains(audits.raw, pks[0].ID) {
			t.Errorf("audit entries %s", audits.raw)
		}

		// Next time the passkey is the second factor.
		b = newBrowser(t, rpRedirect)
		verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
		if kind, opts := ceremony(t, verify); kind != "get" || !strings.Contains(string(opts), base64.RawURLEncoding.EncodeToString(a.Credentials[0].ID)) {
			t.Errorf("second-factor ceremony %s %s, want get allowing the passkey", kind, opts)
		}
		h.clk.Advance(time.Minute)
		claims = h.signedIn(h.step(b, verify, map[string]string{"credential": answer(t, verify, a)}))
		if amr(claims) != "pwd hwk mfa" || claims["acr"] != "3" {
			t.Errorf("second factor: amr %q, acr %v", amr(claims), claims["acr"])
		}
		pk := h.passkeys(uid)[0]
		if pk.Passkey.SignCount != 1 || !pk.LastUsedAt.Equal(h.clk.Now()) || pk.Passkey.CloneWarning {
			t.Errorf("after use: %+v, last used %v", pk.Passkey, pk.LastUsedAt)
		}

		// An app that does not ask for MFA gets the password alone.
		b = newBrowser(t, rpRedirect)
		claims = h.signedIn(h.step(b, h.begin(b), map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
		if amr(claims) != "pwd" {
			t.Errorf("without acr_values: amr %q, want pwd", amr(claims))
		}
	})
}

// setProgress sets the WebAuthn state of the page's request, as another
// tab that tried its ceremony leaves it.
func (h *hostedEnv) setProgress(p page, state []byte) bool {
	h.t.Helper()
	err := h.store.Update(context.Background(), func(tx gatehouse.Tx) error {
		_, err := tx.UpdateAuthRequest(context.Background(), h.tenant.TenantID, p.url.Query().Get("tx"), func(a *gatehouse.AuthRequest) error {
			a.Progress.WebAuthn = state
			return nil
		})
		return err
	})
	return err == nil
}

// TestWA1PasskeyChallengeSingleUseShortLived checks that a challenge is
// tried at most once, whatever the outcome, that concurrent answers to
// one challenge sign in once, and that an answer after the ceremony's
// lifetime fails.
func TestWA1PasskeyChallengeSingleUseShortLived(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)
		h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a)

		// A reload shows the same ceremony: nothing is tried on GET.
		b := newBrowser(t, rpRedirect)
		verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
		reload := b.get(verify.url.String())
		if challengeOf(t, reload) != challengeOf(t, verify) {
			t.Errorf("a reload started a new ceremony")
		}
		// A post without a credential (no JavaScript) uses the challenge
		// up: the valid answer to it is refused afterwards, against the
		// page's new ceremony as against none.
		valid := answer(t, verify, a)
		r := noFollow(b).submit(verify, map[string]string{"credential": ""})
		refused(t, r, http.StatusBadRequest, "Your browser didn't send a passkey", challengeOf(t, verify))
		r = noFollow(b).submit(verify, map[string]string{"credential": valid})
		refused(t, r, http.StatusBadRequest, "We couldn't verify that passkey", challengeOf(t, verify))
		if !h.setProgress(verify, nil) {
			t.Fatal("no request to clear")
		}
		r = noFollow(b).submit(verify, map[string]string{"credential": valid})
		refused(t, r, http.StatusBadRequest, "expired or was already used", challengeOf(t, verify))

		// Concurrent posts of one valid answer: exactly one signs in. The
		// passkey keeps no counter (as synced passkeys do), so only the
		// challenge's single use can stop the copies.
		h.addUser("grace@example.com", "another long password")
		synced := passkeytest.New(h.url)
		synced.CounterStep = 0
		h.registerPasskey(newBrowser(t, rpRedirect), "grace@example.com", "another long password", synced)
		b = newBrowser(t, rpRedirect)
		fresh := h.passkeyStep(b, "grace@example.com", "another long password")
		vals := formValues(t, fresh, "credential", answer(t, fresh, synced))
		action := h.url + "/acme/login/mfa/passkey"
		const n = 4
		statuses := make([]int, n)
		locations := make([]string, n)
		var wg sync.WaitGroup
		client := noFollow(b).client
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", action, strings.NewReader(vals.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				statuses[i], locations[i] = resp.StatusCode, resp.Header.Get("Location")
			}()
		}
		wg.Wait()
		won := 0
		for i := range n {
			switch {
			case statuses[i] == http.StatusSeeOther && strings.HasPrefix(locations[i], rpRedirect):
				won++
			case statuses[i] != http.StatusBadRequest && statuses[i] != http.StatusConflict:
				t.Errorf("concurrent answer %d: status %d, location %q", i, statuses[i], locations[i])
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent answers to one challenge signed in, want 1 (statuses %v)", won, n, statuses)
		}

		// Short lived: an answer after mfa.PasskeyCeremonyLifetime fails.
		b = newBrowser(t, rpRedirect)
		verify = h.passkeyStep(b, "ada@example.com", "correct horse battery")
		valid = answer(t, verify, a)
		h.clk.Advance(mfa.PasskeyCeremonyLifetime)
		r = noFollow(b).submit(verify, map[string]string{"credential": valid})
		refused(t, r, http.StatusBadRequest, "expired or was already used", challengeOf(t, verify))
		// The new ceremony on that page works. (The clock is now ahead of
		// the real one by more than go-oidc allows, so the code is not
		// redeemed.)
		if back := noFollow(b).submit(r, map[string]string{"credential": answer(t, r, a)}); back.status != http.StatusSeeOther ||
			!strings.HasPrefix(back.location, rpRedirect) || !strings.Contains(back.location, "code=") {
			t.Errorf("the new ceremony: status %d, location %q", back.status, back.location)
		}
	})
}

// TestWA2PasskeyChecksOnThePages sends answers that fail the spec's checks
// through the pages: each is a sentence on the page, and nothing counts.
func TestWA2PasskeyChecksOnThePages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		uid := h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)

		// A registration with a forbidden algorithm, or from another
		// origin, is refused and stores nothing.
		b := newBrowser(t, rpRedirect)
		reg := h.registrationPage(b, "ada@example.com", "correct horse battery")
		for _, fault := range []func(*passkeytest.Authenticator){
			func(x *passkeytest.Authenticator) { x.Alg = passkeytest.ES384 },
			func(x *passkeytest.Authenticator) {
				x.Origin = "http://127.0.0.1" + strings.TrimPrefix(h.url, "http://localhost")
			},
		} {
			bad := passkeytest.New(h.url)
			fault(bad)
			r := noFollow(b).submit(reg, map[string]string{"credential": answer(t, reg, bad)})
			refused(t, r, http.StatusBadRequest, "We couldn't verify that passkey", challengeOf(t, reg))
			reg = r
		}
		for _, junk := range []string{"{}", "not json", `{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"AA","attestationObject":"AA"}}`} {
			r := noFollow(b).submit(reg, map[string]string{"credential": junk})
			refused(t, r, http.StatusBadRequest, "We couldn't verify that passkey", challengeOf(t, reg))
			reg = r
		}
		if n := len(h.passkeys(uid)); n != 0 {
			t.Fatalf("refused registrations stored %d passkeys", n)
		}
		h.signedIn(h.step(b, reg, map[string]string{"credential": answer(t, reg, a)}))

		// An assertion with a broken signature, or of a passkey the user
		// does not have, is refused.
		b = newBrowser(t, rpRedirect)
		verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
		a.BadSignature = true
		r := noFollow(b).submit(verify, map[string]string{"credential": answer(t, verify, a)})
		refused(t, r, http.StatusBadRequest, "We couldn't verify that passkey", challengeOf(t, verify))
		a.BadSignature = false
		stranger := passkeytest.New(h.url)
		_, opts := ceremony(t, r)
		var o struct {
			Challenge passkeytest.Bytes `json:"challenge"`
			RPID      string            `json:"rpId"`
		}
		_ = json.Unmarshal(opts, &o)
		if _, err := stranger.Create([]byte(`{"rp":{"id":"localhost"},"user":{"id":"AAAA"},"challenge":"AAAA"}`)); err != nil {
			t.Fatal(err)
		}
		other, err := stranger.Assert(stranger.Credentials[0], o.RPID, o.Challenge)
		if err != nil {
			t.Fatal(err)
		}
		r2 := noFollow(b).submit(r, map[string]string{"credential": string(other)})
		refused(t, r2, http.StatusBadRequest, "isn't one you set up for this account", challengeOf(t, r))
		if pk := h.passkeys(uid)[0]; pk.Passkey.SignCount != 0 {
			t.Errorf("refused assertions changed the counter: %+v", pk.Passkey)
		}
		if len(h.sessionOf(b)) != 0 && h.sessionExists(h.sessionOf(b)) {
			t.Errorf("refused assertions signed in")
		}
	})
}

// TestWA3PasskeyCredentialUniqueAcrossUsers registers, for a second user,
// a credential with the ID of the first user's passkey: refused with a
// sentence, nothing written.
func TestWA3PasskeyCredentialUniqueAcrossUsers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		ada := h.addUser("ada@example.com", "correct horse battery")
		bob := h.addUser("bob@example.com", "another long password")
		a := passkeytest.New(h.url)
		h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a)
		before := h.passkeys(ada)[0]
		audits := h.countAll(h.tenant.AdminAPI+"/auditLogs/directoryAudits", h.tok)

		thief := passkeytest.New(h.url)
		thief.CredentialID = a.Credentials[0].ID
		b := newBrowser(t, rpRedirect)
		reg := h.registrationPage(b, "bob@example.com", "another long password")
		r := noFollow(b).submit(reg, map[string]string{"credential": answer(t, reg, thief)})
		refused(t, r, http.StatusConflict, "That passkey is already registered", challengeOf(t, reg))
		if n := len(h.passkeys(bob)); n != 0 {
			t.Errorf("bob has %d passkeys", n)
		}
		if after := h.passkeys(ada)[0]; after.UserID != ada || string(after.Passkey.PublicKey) != string(before.Passkey.PublicKey) {
			t.Errorf("ada's passkey changed: %+v", after)
		}
		if n := h.countAll(h.tenant.AdminAPI+"/auditLogs/directoryAudits", h.tok); n != audits {
			t.Errorf("the refused registration wrote %d audit entries", n-audits)
		}
		// The same credential ID is refused by the store itself (the race
		// the page's check cannot see).
		err := h.store.Update(context.Background(), func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(context.Background(), &gatehouse.UserMethod{TenantID: h.tenant.TenantID, UserID: bob,
				Method: gatehouse.MethodFido2, DisplayName: "Copy", Passkey: &gatehouse.PasskeyCredential{CredentialID: a.Credentials[0].ID}})
		})
		if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
			t.Errorf("CreateUserMethod with a taken credential ID: %v, want ECONFLICT", err)
		}
	})
}

// TestWA3PasskeySignCounterRegression checks that an assertion whose
// counter went backwards is refused and flags the passkey, while the
// original authenticator, ahead of the stored counter, goes on working.
func TestWA3PasskeySignCounterRegression(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		logs := &lockedBuffer{}
		h := newPasskeyEnv(t, eng, hostedOptions{logger: slog.New(slog.NewTextHandler(logs, nil))})
		uid := h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)
		h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a)
		for range 2 {
			b := newBrowser(t, rpRedirect)
			verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
			h.signedIn(h.step(b, verify, map[string]string{"credential": answer(t, verify, a)}))
		}
		if pk := h.passkeys(uid)[0]; pk.Passkey.SignCount != 2 || pk.Passkey.CloneWarning {
			t.Fatalf("after two uses: %+v", pk.Passkey)
		}

		// A copy made when the counter was 1.
		a.Credentials[0].Counter = 0
		b := newBrowser(t, rpRedirect)
		verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
		r := noFollow(b).submit(verify, map[string]string{"credential": answer(t, verify, a)})
		refused(t, r, http.StatusForbidden, "its security counter went backwards", challengeOf(t, verify))
		if pk := h.passkeys(uid)[0]; pk.Passkey.SignCount != 2 || !pk.Passkey.CloneWarning {
			t.Errorf("after the regression: %+v, want the counter kept and CloneWarning", pk.Passkey)
		}
		if !strings.Contains(logs.String(), "may be cloned") {
			t.Errorf("the regression was not logged")
		}

		// The original, ahead of the stored counter, still signs in.
		a.Credentials[0].Counter = 9
		h.signedIn(h.step(b, r, map[string]string{"credential": answer(t, r, a)}))
		if pk := h.passkeys(uid)[0]; pk.Passkey.SignCount != 10 || !pk.Passkey.CloneWarning {
			t.Errorf("after the original's use: %+v", pk.Passkey)
		}
	})
}

// enablePasskeySignIn turns on the flow's passkey sign-in through the admin
// API.
func (h *hostedEnv) enablePasskeySignIn(on bool) {
	h.t.Helper()
	h.must(204, "PATCH", h.tenant.AdminAPI+"/identity/authenticationEventsFlows/"+h.flow.ID, h.tok,
		map[string]any{"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow", "gatehouse": map[string]any{"passkeySignIn": on}})
}

// passkeySignIn starts a sign-in with a passkey from the sign-in page.
func (h *hostedEnv) passkeySignIn(b *browser, opts ...oauth2.AuthCodeOption) page {
	h.t.Helper()
	login := h.beginWith(b, opts...)
	pg := h.step(b, login, map[string]string{"action": "start"})
	if pg.url.Path != "/acme/login/passkey" || !strings.Contains(text(pg.body), "Sign in with a passkey") {
		h.t.Fatalf("passkey sign-in page: %s %.500s", pg.url.Path, text(pg.body))
	}
	return pg
}

// TestWA5PasskeySignIn checks signing in with a passkey alone: offered
// where the flow allows it and the policy enables passkeys, user
// verification required (it is both factors), and refused with a
// sentence for an account the policy does not offer passkeys to.
func TestWA5PasskeySignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		uid := h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)
		h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a)

		// Not offered until the flow allows it.
		b := newBrowser(t, rpRedirect)
		if login := h.begin(b); strings.Contains(login.body, "Sign in with a passkey") {
			t.Errorf("the sign-in page offers passkeys without the flow's passkeySignIn")
		}
		h.enablePasskeySignIn(true)

		pg := h.passkeySignIn(b, mfaRequired)
		kind, opts := ceremony(t, pg)
		if kind != "get" || !strings.Contains(string(opts), `"userVerification":"required"`) || strings.Contains(string(opts), "allowCredentials") {
			t.Errorf("sign-in ceremony %s %s", kind, opts)
		}
		claims := h.signedIn(h.step(b, pg, map[string]string{"credential": answer(t, pg, a)}))
		if amr(claims) != "hwk mfa" || claims["acr"] != "3" || claims["sub"] == nil || claims["email"] != "ada@example.com" {
			t.Errorf("passkey sign-in claims %v", claims)
		}
		if m := h.sessionMethods(b); len(m) != 1 || m[0].Method != gatehouse.MethodFido2 || !m[0].UserVerified {
			t.Errorf("session methods %+v", m)
		}

		// Without user verification a passkey alone is refused (WA-5) …
		a.UserVerification = false
		b = newBrowser(t, rpRedirect)
		pg = h.passkeySignIn(b)
		r := noFollow(b).submit(pg, map[string]string{"credential": answer(t, pg, a)})
		refused(t, r, http.StatusBadRequest, "signing in with a passkey alone needs that", challengeOf(t, pg))
		// … while as a second factor it is accepted and recorded as not
		// verified.
		verify := h.passkeyStep(b, "ada@example.com", "correct horse battery")
		h.signedIn(h.step(b, verify, map[string]string{"credential": answer(t, verify, a)}))
		if m := h.sessionMethods(b); len(m) != 2 || m[1].UserVerified {
			t.Errorf("second factor without verification: session methods %+v", m)
		}
		a.UserVerification = true

		// A passkey no account has.
		stranger := passkeytest.New(h.url)
		if _, err := stranger.Create([]byte(`{"rp":{"id":"localhost"},"user":{"id":"` + base64.RawURLEncoding.EncodeToString([]byte(uuid.NewString())) + `"},"challenge":"AAAA"}`)); err != nil {
			t.Fatal(err)
		}
		b = newBrowser(t, rpRedirect)
		pg = h.passkeySignIn(b)
		r = noFollow(b).submit(pg, map[string]string{"credential": answer(t, pg, stranger)})
		refused(t, r, http.StatusBadRequest, "We don't recognize that passkey", challengeOf(t, pg))

		// An account the policy does not offer passkeys to: refused with a
		// sentence once the passkey proved whose it is.
		group := h.must(201, "POST", h.tenant.AdminAPI+"/groups", h.tok, map[string]any{"displayName": "Passkey users"}).str("id")
		h.setMethod("Fido2", map[string]any{"includeTargets": []any{map[string]any{"targetType": "group", "id": group}}})
		pg = r
		r = noFollow(b).submit(pg, map[string]string{"credential": answer(t, pg, a)})
		refused(t, r, http.StatusForbidden, "Passkeys aren't turned on for your account", challengeOf(t, pg))
		h.must(204, "POST", h.tenant.AdminAPI+"/groups/"+group+"/members/$ref", h.tok, map[string]any{"@odata.id": h.tenant.AdminAPI + "/directoryObjects/" + uid})
		h.signedIn(h.step(b, r, map[string]string{"credential": answer(t, r, a)}))

		// A disabled account.
		h.must(204, "PATCH", h.tenant.AdminAPI+"/users/"+uid, h.tok, map[string]any{"accountEnabled": false})
		b = newBrowser(t, rpRedirect)
		pg = h.passkeySignIn(b)
		r = noFollow(b).submit(pg, map[string]string{"credential": answer(t, pg, a)})
		refused(t, r, http.StatusForbidden, "We couldn't sign you in with that passkey", challengeOf(t, pg))
		h.must(204, "PATCH", h.tenant.AdminAPI+"/users/"+uid, h.tok, map[string]any{"accountEnabled": true})

		// Passkeys disabled in the policy: no button, and the page says so.
		h.setMethod("Fido2", map[string]any{"state": "disabled"})
		b = newBrowser(t, rpRedirect)
		login := h.begin(b)
		if strings.Contains(login.body, "Sign in with a passkey") {
			t.Errorf("the sign-in page offers passkeys while the policy disables them")
		}
		if r := b.get(h.url + "/acme/login/passkey?tx=" + login.url.Query().Get("tx")); r.status != http.StatusNotFound || !strings.Contains(text(r.body), "isn't available") {
			t.Errorf("passkey sign-in while disabled: status %d %.300s", r.status, text(r.body))
		}
	})
}

// TestPasskeySyncedIsSWK checks that a passkey that may be synced signs in
// with amr swk.
func TestPasskeySyncedIsSWK(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.enablePasskeySignIn(true)
		a := passkeytest.New(h.url)
		a.BackupEligible, a.BackupState, a.CounterStep = true, true, 0
		if claims := h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a); amr(claims) != "pwd swk mfa" {
			t.Errorf("registration: amr %q, want pwd swk mfa", amr(claims))
		}
		for range 2 { // a counter that stays 0 is no regression
			b := newBrowser(t, rpRedirect)
			pg := h.passkeySignIn(b)
			if claims := h.signedIn(h.step(b, pg, map[string]string{"credential": answer(t, pg, a)})); amr(claims) != "swk mfa" {
				t.Errorf("sign-in: amr %q, want swk mfa", amr(claims))
			}
		}
	})
}

// TestPasskeyPolicyRegistration checks the fido2 configuration at
// registration: key restrictions by AAGUID, self-service registration.
func TestPasskeyPolicyRegistration(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		uid := h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)
		model := uuid.UUID(a.AAGUID).String()

		h.setMethod("Fido2", map[string]any{"keyRestrictions": map[string]any{"isEnforced": true, "enforcementType": "block", "aaGuids": []string{model}}})
		b := newBrowser(t, rpRedirect)
		reg := h.registrationPage(b, "ada@example.com", "correct horse battery")
		if _, opts := ceremony(t, reg); !strings.Contains(string(opts), `"attestation":"direct"`) {
			t.Errorf("under key restrictions the options %s do not ask for the attestation", opts)
		}
		r := noFollow(b).submit(reg, map[string]string{"credential": answer(t, reg, a)})
		refused(t, r, http.StatusForbidden, "doesn't accept that kind of passkey", challengeOf(t, reg))
		if n := len(h.passkeys(uid)); n != 0 {
			t.Errorf("a blocked model was registered")
		}
		h.setMethod("Fido2", map[string]any{"keyRestrictions": map[string]any{"enforcementType": "allow", "aaGuids": []string{model}}})
		h.signedIn(h.step(b, r, map[string]string{"credential": answer(t, r, a)}))

		// Without self-service registration, a user without a passkey
		// cannot register one: a voluntary acr_values is dropped, an
		// essential acr refuses.
		h.addUser("bob@example.com", "another long password")
		h.setMethod("Fido2", map[string]any{"isSelfServiceRegistrationAllowed": false})
		b = newBrowser(t, rpRedirect)
		claims := h.signedIn(h.step(b, h.beginWith(b, mfaRequired), map[string]string{"email": "bob@example.com", "password": "another long password"}))
		if amr(claims) != "pwd" {
			t.Errorf("without self-service registration: amr %q, want pwd", amr(claims))
		}
		b = newBrowser(t, rpRedirect)
		r = noFollow(b).submit(h.beginWith(b, oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2"]}}}`)),
			map[string]string{"email": "bob@example.com", "password": "another long password"})
		if u, _ := url.Parse(r.location); r.status != http.StatusSeeOther || u.Query().Get("error") != "unmet_authentication_requirements" {
			t.Errorf("essential acr without a way to meet it: status %d, location %q", r.status, r.location)
		}
	})
}

// TestPasskeysNeedAHostName checks that a server whose public URL is an IP
// address (which browsers refuse as an RP ID) offers no passkeys, even
// with the policy enabling them.
func TestPasskeysNeedAHostName(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.setMethod("Fido2", map[string]any{"state": "enabled"})
		h.enablePasskeySignIn(true)
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		login := h.beginWith(b, mfaRequired)
		if strings.Contains(login.body, "passkey") {
			t.Errorf("the sign-in page offers passkeys: %.400s", text(login.body))
		}
		claims := h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"}))
		if amr(claims) != "pwd" {
			t.Errorf("amr %q, want pwd (no passkey to register)", amr(claims))
		}
	})
}

// TestUserFlowPasskeySignInSetting checks the flow's gatehouse extension in
// the admin API.
func TestUserFlowPasskeySignInSetting(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		flow := h.tenant.AdminAPI + "/identity/authenticationEventsFlows/" + h.flow.ID
		if got := h.must(200, "GET", flow, h.tok, nil).body["gatehouse"]; !jsonEqual(got, map[string]any{"passkeySignIn": false}) {
			t.Errorf("gatehouse = %v", got)
		}
		h.enablePasskeySignIn(true)
		got := h.must(200, "GET", flow, h.tok, nil)
		if !jsonEqual(got.body["gatehouse"], map[string]any{"passkeySignIn": true}) {
			t.Errorf("after PATCH: gatehouse = %v", got.body["gatehouse"])
		}
		if f, err := h.store.UserFlow(context.Background(), h.tenant.TenantID, h.flow.ID); err != nil || !f.PasskeySignIn {
			t.Errorf("stored flow: %+v, %v", f, err)
		}
		// What GET returns PATCHes back; a PATCH without gatehouse keeps it.
		h.must(204, "PATCH", flow, h.tok, got.raw)
		h.must(204, "PATCH", flow, h.tok, map[string]any{"displayName": "Renamed"})
		if f, _ := h.store.UserFlow(context.Background(), h.tenant.TenantID, h.flow.ID); !f.PasskeySignIn {
			t.Errorf("a PATCH without gatehouse turned passkey sign-in off")
		}
		for _, c := range []struct{ body, field string }{
			{`{"gatehouse": {"passkeySignIn": "yes"}}`, "gatehouse.passkeySignIn"},
			{`{"gatehouse": {"passkeySignIn": null}}`, "gatehouse.passkeySignIn"},
			{`{"gatehouse": null}`, "gatehouse"},
			{`{"gatehouse": {"passkeys": true}}`, "gatehouse.passkeys"},
		} {
			r := h.call("PATCH", flow, h.tok, c.body)
			if r.status != http.StatusBadRequest || !strings.Contains(r.raw, c.field) {
				t.Errorf("PATCH %s: status %d %s; want 400 naming %s", c.body, r.status, r.raw, c.field)
			}
		}
		if f, _ := h.store.UserFlow(context.Background(), h.tenant.TenantID, h.flow.ID); !f.PasskeySignIn {
			t.Errorf("rejected PATCHes changed passkeySignIn")
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestPasskeyInTheChooser checks that a user with a passkey and email codes
// chooses between them, and that a passwordless (email code) flow offers
// the passkey sign-in too.
func TestPasskeyInTheChooser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		a := passkeytest.New(h.url)
		h.registerPasskey(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery", a)
		h.setMethod("Email", map[string]any{"state": "enabled"})

		b := newBrowser(t, rpRedirect)
		chooser := h.mfaPage(b, "ada@example.com", "correct horse battery", "/acme/login/mfa")
		if !strings.Contains(chooser.body, "Use a passkey") || !strings.Contains(chooser.body, "Email a code") {
			t.Fatalf("chooser %s: %.500s", chooser.url.Path, text(chooser.body))
		}
		// The chooser's button starts the ceremony and leads to its page.
		var button []string
		for _, f := range formRE.FindAllStringSubmatch(chooser.body, -1) {
			if strings.Contains(f[2], "Use a passkey") {
				button = f
			}
		}
		if button == nil {
			t.Fatal("no passkey button")
		}
		r := noFollow(b).do(mustRequest(t, chooser, attrs(button[1])["action"], formValues(t, page{url: chooser.url, body: button[0]}, "action", "start")))
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "/acme/login/mfa/passkey?tx=") {
			t.Fatalf("the passkey button: status %d, location %q", r.status, r.location)
		}
		verify := b.get(h.url + "/acme/login/mfa/passkey?tx=" + chooser.url.Query().Get("tx"))
		claims := h.signedIn(h.step(b, verify, map[string]string{"credential": answer(t, verify, a)}))
		if amr(claims) != "pwd hwk mfa" {
			t.Errorf("amr %q", amr(claims))
		}
	})
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newPasskeyEnv(t, eng, hostedOptions{idp: gatehouse.IdentityProviderEmailOTP})
		h.enablePasskeySignIn(true)
		b := newBrowser(t, rpRedirect)
		if login := h.begin(b); login.url.Path != "/acme/login/email" || !strings.Contains(login.body, "Sign in with a passkey") {
			t.Errorf("the email code sign-in page %s does not offer passkeys: %.400s", login.url.Path, text(login.body))
		}
	})
}

// mustRequest is a POST of vals to action, relative to the page.
func mustRequest(t *testing.T, p page, action string, vals url.Values) *http.Request {
	t.Helper()
	u, err := p.url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", u.String(), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
