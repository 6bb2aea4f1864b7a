package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestUserDisplayNameRequired checks Graph's rule that a user is created
// with a displayName: POST /users without one, or with a blank one, is a
// 400 naming displayName that writes nothing; PATCH cannot blank it, but
// a user who signed up without a name can be changed otherwise. What else
// Graph requires of member users (accountEnabled, mailNickname,
// passwordProfile) Gatehouse does not (docs/decisions.md): the payload
// Entra External ID documents for a customer account is accepted.
func TestUserDisplayNameRequired(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)

		users, audits := e.countAll(api+"/users", tok), e.countAll(api+"/auditLogs/directoryAudits", tok)
		for _, c := range []struct {
			name, body, want string
		}{
			{"missing", `{"mail":"ada@example.com","passwordProfile":{"password":"correct horse battery"}}`, "displayName is required"},
			{"missing, identities", `{"identities":[{"signInType":"emailAddress","issuer":"acme","issuerAssignedId":"ada@example.com"}]}`, "displayName is required"},
			{"empty", `{"displayName":"","mail":"ada@example.com"}`, "displayName must not be empty"},
			{"blank", `{"displayName":"   ","mail":"ada@example.com"}`, "displayName must not be empty"},
			{"null", `{"displayName":null,"mail":"ada@example.com"}`, "displayName"},
		} {
			r := e.call("POST", api+"/users", tok, c.body)
			if r.status != http.StatusBadRequest || r.errTarget() != "displayName" || !strings.Contains(r.errMessage(), c.want) {
				t.Errorf("%s: status %d, target %q, message %q; want 400, displayName, %q", c.name, r.status, r.errTarget(), r.errMessage(), c.want)
			}
		}
		if n := e.countAll(api+"/users", tok); n != users {
			t.Errorf("refused creations changed the user count from %d to %d", users, n)
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
			t.Errorf("refused creations wrote %d audit entries", n-audits)
		}

		// Entra External ID's customer account: displayName, an
		// emailAddress identity and a password; no accountEnabled or
		// mailNickname. The account is enabled.
		created := e.must(http.StatusCreated, "POST", api+"/users", tok, map[string]any{
			"displayName":     "Ada Lovelace",
			"identities":      []map[string]any{{"signInType": "emailAddress", "issuer": "acme", "issuerAssignedId": "ada@example.com"}},
			"passwordProfile": map[string]any{"password": "correct horse battery", "forceChangePasswordNextSignIn": false},
		})
		if created.str("displayName") != "Ada Lovelace" || created.str("mail") != "ada@example.com" || created.body["accountEnabled"] != true {
			t.Errorf("created user %s", created.raw)
		}
		id := created.str("id")
		// A workforce payload fails on what customer accounts lack, by name.
		for _, field := range []string{"mailNickname", "userPrincipalName"} {
			r := e.call("POST", api+"/users", tok, map[string]any{"displayName": "Bob", "mail": "bob@example.com", "accountEnabled": true, field: "bob"})
			if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), field) {
				t.Errorf("POST with %s: status %d, message %q; want 400 naming it", field, r.status, r.errMessage())
			}
		}
		for _, blank := range []string{`{"displayName":""}`, `{"displayName":" ","city":"London"}`} {
			if r := e.call("PATCH", api+"/users/"+id, tok, blank); r.status != http.StatusBadRequest || r.errTarget() != "displayName" {
				t.Errorf("PATCH %s: status %d, target %q; want 400 naming displayName", blank, r.status, r.errTarget())
			}
		}
		if got := e.must(http.StatusOK, "GET", api+"/users/"+id, tok, nil); got.str("displayName") != "Ada Lovelace" || got.str("city") != "" {
			t.Errorf("a refused PATCH changed the user: %s", got.raw)
		}

		// A customer who signed up through a flow that asks for no name
		// has none; other properties can still be changed, and a name set.
		ctx := context.Background()
		nameless := &gatehouse.User{TenantID: acme.TenantID, Mail: "grace@example.com", AccountEnabled: true}
		if err := e.store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, nameless) }); err != nil {
			t.Fatal(err)
		}
		e.must(http.StatusNoContent, "PATCH", api+"/users/"+nameless.ID, tok, map[string]any{"city": "Arlington"})
		e.must(http.StatusNoContent, "PATCH", api+"/users/"+nameless.ID, tok, map[string]any{"displayName": "Grace Hopper"})
		if got := e.must(http.StatusOK, "GET", api+"/users/"+nameless.ID, tok, nil); got.str("displayName") != "Grace Hopper" || got.str("city") != "Arlington" {
			t.Errorf("user after PATCH: %s", got.raw)
		}
	})
}
