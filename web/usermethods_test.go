package web_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/storetest"
)

// registerMethods gives the user one method of each registered kind,
// straight in the store, and returns them.
func (h *hostedEnv) registerMethods(userID string) []*gatehouse.UserMethod {
	h.t.Helper()
	ctx := context.Background()
	ms := []*gatehouse.UserMethod{
		{TenantID: h.tenant.TenantID, UserID: userID, Method: gatehouse.MethodSoftwareOath, DisplayName: "Authenticator app",
			TOTP: &gatehouse.TOTPSecret{Sealed: []byte("sealed")}},
		{TenantID: h.tenant.TenantID, UserID: userID, Method: gatehouse.MethodFido2, DisplayName: "YubiKey",
			Passkey: &gatehouse.PasskeyCredential{CredentialID: []byte(userID), AAGUID: []byte{0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8}}},
		{TenantID: h.tenant.TenantID, UserID: userID, Method: gatehouse.MethodSMS, Phone: "+41446681800"},
		{TenantID: h.tenant.TenantID, UserID: userID, Method: gatehouse.MethodRecoveryCode,
			RecoveryCodes: []gatehouse.RecoveryCode{{Hash: "a"}, {Hash: "b", UsedAt: time.Now()}}},
	}
	err := h.store.Update(ctx, func(tx gatehouse.Tx) error {
		for _, m := range ms {
			if err := tx.CreateUserMethod(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

// auditCount counts the audit entries of the category and activity about
// the target.
func (h *hostedEnv) auditCount(api, targetID, category, activity string) int {
	h.t.Helper()
	r := h.must(200, "GET", api+"/auditLogs/directoryAudits?$top=999&$filter=targetResources/any(t:t/id%20eq%20'"+targetID+"')", h.tok, nil)
	n := 0
	for _, v := range r.body["value"].([]any) {
		e := v.(map[string]any)
		if e["category"] == category && e["activityDisplayName"] == activity {
			n++
		}
	}
	return n
}

// TestUserAuthenticationMethodsAPI: Graph's /users/{id}/authentication
// collections show every method without secrets; administrators remove
// registered ones (audited, LC-3; the user told by email, RL-5); the
// sign-in address and the password stay; an Authentication Administrator
// may not touch an administrator's methods.
func TestUserAuthenticationMethodsAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		api := h.tenant.AdminAPI
		ada := h.addUser("ada@example.com", "correct horse battery")
		ms := h.registerMethods(ada)
		base := api + "/users/" + ada + "/authentication"

		all := h.must(200, "GET", base+"/methods", h.tok, nil)
		var types []string
		for _, v := range all.body["value"].([]any) {
			m := v.(map[string]any)
			types = append(types, strings.TrimPrefix(m["@odata.type"].(string), "#microsoft.graph."))
			if m["secretKey"] != nil {
				t.Errorf("a method shows a secret: %v", m)
			}
		}
		// The password and the address first, then the registered methods
		// (oldest first: here all made at one instant).
		slices.Sort(types[2:])
		if got := strings.Join(types, ","); got != "passwordAuthenticationMethod,emailAuthenticationMethod,#gatehouse.recoveryCodeAuthenticationMethod,"+
			"fido2AuthenticationMethod,phoneAuthenticationMethod,softwareOathAuthenticationMethod" {
			t.Errorf("methods: %s", got)
		}
		email := h.must(200, "GET", base+"/emailMethods/3ddfcfc8-9383-446f-83cc-3ab9be4be18f", h.tok, nil)
		if email.str("emailAddress") != "ada@example.com" {
			t.Errorf("email method: %s", email.raw)
		}
		phone := h.must(200, "GET", base+"/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7", h.tok, nil)
		if phone.str("phoneNumber") != "+41446681800" || phone.str("phoneType") != "mobile" {
			t.Errorf("phone method: %s", phone.raw)
		}
		fido := h.must(200, "GET", base+"/fido2Methods", h.tok, nil).body["value"].([]any)[0].(map[string]any)
		if fido["aaGuid"] != "cb69481e-8ff7-4039-93ec-0a2729a154a8" || fido["displayName"] != "YubiKey" {
			t.Errorf("fido2 method: %v", fido)
		}
		if rc := h.must(200, "GET", base+"/recoveryCodeMethods/"+ms[3].ID, h.tok, nil); rc.body["remainingCodes"] != float64(1) {
			t.Errorf("recovery codes: %s", rc.raw)
		}
		h.must(404, "GET", base+"/softwareOathMethods/"+ms[1].ID, h.tok, nil) // a passkey is no authenticator app
		h.must(404, "GET", api+"/users/no-such-user/authentication/methods", h.tok, nil)

		// The sign-in address and the password are not removable here.
		for _, p := range []string{"/emailMethods/3ddfcfc8-9383-446f-83cc-3ab9be4be18f", "/passwordMethods/28c10230-6103-485e-b985-444c60001490"} {
			if r := h.call("DELETE", base+p, h.tok, nil); r.status != 400 || !strings.Contains(r.errMessage(), "cannot be removed") {
				t.Errorf("DELETE %s: %d %q", p, r.status, r.errMessage())
			}
		}

		// Removal: audited, the user notified, gone.
		h.must(204, "DELETE", base+"/softwareOathMethods/"+ms[0].ID, h.tok, nil)
		h.must(404, "DELETE", base+"/softwareOathMethods/"+ms[0].ID, h.tok, nil)
		if left := h.countAll(base+"/softwareOathMethods", h.tok); left != 0 {
			t.Errorf("%d authenticator apps left after the removal", left)
		}
		if n := h.auditCount(api, ada, "UserManagement", "Admin deleted security info"); n != 1 {
			t.Errorf("%d audit entries for the removal, want 1", n)
		}
		notice := h.smtp.WaitFor(t, func(r smtptest.Received) bool { return strings.Contains(r.Text, "authenticator app was removed") }, 10*time.Second)
		if !strings.Contains(notice.Text, "by an administrator") {
			t.Errorf("the notice does not say who: %s", notice.Text)
		}
		h.must(204, "DELETE", base+"/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7", h.tok, nil)

		// An Authentication Administrator helps customers, not administrators.
		authAdmin := h.addUser("helpdesk@acme.example", "")
		h.must(201, "POST", api+"/roleManagement/directory/roleAssignments", h.tok, map[string]any{"roleDefinitionId": gatehouse.RoleAuthenticationAdministrator, "principalId": authAdmin})
		authTok := h.delegatedToken(h.tenant, authAdmin)
		h.must(204, "DELETE", base+"/fido2Methods/"+ms[1].ID, authTok, nil)
		adminID := h.adminUserID(api, h.tok, h.tenant.Admin.Email)
		h.registerMethods(adminID)
		if r := h.call("GET", api+"/users/"+adminID+"/authentication/methods", authTok, nil); r.status != 403 || !strings.Contains(r.errMessage(), "Privileged Authentication Administrator") {
			t.Errorf("an Authentication Administrator reading a Global Administrator's methods: %d %q", r.status, r.errMessage())
		}
		privileged := h.addUser("security@acme.example", "")
		h.must(201, "POST", api+"/roleManagement/directory/roleAssignments", h.tok, map[string]any{"roleDefinitionId": gatehouse.RolePrivilegedAuthenticationAdministrator, "principalId": privileged})
		h.must(200, "GET", api+"/users/"+adminID+"/authentication/methods", h.delegatedToken(h.tenant, privileged), nil)
		// A User Administrator manages users, not their methods.
		ua := h.addUser("ua@acme.example", "")
		h.must(201, "POST", api+"/roleManagement/directory/roleAssignments", h.tok, map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": ua})
		h.must(403, "GET", base+"/methods", h.delegatedToken(h.tenant, ua), nil)
	})
}

// TestLC2RemovedMethodEndsRefresh: a refresh token of a sign-in whose
// second factor was an authenticator app stops working once the app is
// removed (LC-2); one whose sign-in did not use it goes on.
func TestLC2RemovedMethodEndsRefresh(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		ctx := context.Background()
		ada := h.addUser("ada@example.com", "correct horse battery")
		totp := h.registerMethods(ada)[0]
		now := h.clk.Now()
		refresh := func(methods []gatehouse.MethodUse) string {
			tok, hash, err := oidc.NewOpaqueToken()
			if err != nil {
				t.Fatal(err)
			}
			g := &gatehouse.Grant{TenantID: h.tenant.TenantID, UserID: ada, ClientID: h.app.cfg.ClientID, Scope: "openid offline_access",
				Methods: methods, AMR: gatehouse.AMR(methods), ACR: gatehouse.LevelOf(methods).ACR(), AuthTime: now, ExpiresAt: now.Add(time.Hour)}
			err = h.store.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateGrant(ctx, g); err != nil {
					return err
				}
				return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: hash, TenantID: g.TenantID, GrantID: g.ID, ExpiresAt: g.ExpiresAt})
			})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		withApp := refresh([]gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: now}, {Method: gatehouse.MethodSoftwareOath, MethodID: totp.ID, At: now}})
		withoutApp := refresh([]gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: now}})
		use := func(tok string) (int, map[string]any) {
			status, body, _ := postForm(t, h.app.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}},
				h.app.cfg.ClientID, h.app.cfg.ClientSecret)
			return status, body
		}
		status, body := use(withApp)
		if status != 200 {
			t.Fatalf("refresh before the removal: %d %v", status, body)
		}
		withApp = body["refresh_token"].(string)
		h.must(204, "DELETE", h.tenant.AdminAPI+"/users/"+ada+"/authentication/softwareOathMethods/"+totp.ID, h.tok, nil)
		if status, body := use(withApp); status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "removed") {
			t.Errorf("refresh after the removal: %d %v, want invalid_grant naming the removal", status, body)
		}
		if status, body := use(withoutApp); status != 200 {
			t.Errorf("a sign-in that did not use the app: refresh %d %v", status, body)
		}
	})
}

// TestAdminAddsAPhone: an administrator adds a user's phone for text
// messages (Graph's POST phoneMethods), in E.164 whatever the spacing,
// one per user, with errors that name the field and write nothing, and
// changes its number with PATCH; each change audited.
func TestAdminAddsAPhone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		api := h.tenant.AdminAPI
		ada := h.addUser("ada@example.com", "")
		phones := api + "/users/" + ada + "/authentication/phoneMethods"
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"phoneType": "mobile"}, "phoneNumber"},
			{map[string]any{"phoneNumber": "0044 20 7946 0958", "phoneType": "mobile"}, "phoneNumber"},
			{map[string]any{"phoneNumber": "+44 20 7946 0958", "phoneType": "office"}, "phoneType"},
		} {
			if r := h.call("POST", phones, h.tok, c.body); r.status != 400 || r.errTarget() != c.field {
				t.Errorf("POST %v: %d target %q %q, want 400 naming %s", c.body, r.status, r.errTarget(), r.errMessage(), c.field)
			}
		}
		if n := h.countAll(phones, h.tok); n != 0 {
			t.Fatalf("refused POSTs left %d phones", n)
		}
		added := h.must(201, "POST", phones, h.tok, map[string]any{"phoneNumber": "+44 (20) 7946-0958", "phoneType": "mobile"})
		if added.str("phoneNumber") != "+442079460958" || added.str("id") != "3179e48a-750b-4051-897c-87b9720928f7" {
			t.Errorf("added phone: %s", added.raw)
		}
		h.must(409, "POST", phones, h.tok, map[string]any{"phoneNumber": "+41 44 668 18 00"})
		h.must(204, "PATCH", phones+"/3179e48a-750b-4051-897c-87b9720928f7", h.tok, map[string]any{"phoneNumber": "+41 44 668 18 00"})
		if got := h.must(200, "GET", phones+"/3179e48a-750b-4051-897c-87b9720928f7", h.tok, nil).str("phoneNumber"); got != "+41446681800" {
			t.Errorf("after PATCH the number is %q", got)
		}
		for activity, want := range map[string]int{"Admin registered security info": 1, "Admin updated security info": 1} {
			if n := h.auditCount(api, ada, "UserManagement", activity); n != want {
				t.Errorf("%d %q audit entries, want %d", n, activity, want)
			}
		}
	})
}
