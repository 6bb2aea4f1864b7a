package web_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestRoleAssignableGroups: Graph's isAssignableToRole is set only when a
// group is created, and only by those who may manage directory roles
// (Global Administrator, RoleManagement.ReadWrite.Directory). Such a group
// is protected as Entra protects role-assignable groups: its properties,
// its members and its members' accounts are changed only by them. A User
// Administrator cannot add themselves to the break-glass group that
// Conditional Access policies exclude, nor take over a member's account;
// the refusals are 403s that say why, and nothing refused is written.
func TestRoleAssignableGroups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		userAdmin, ua := e.roleHolder(acme, tok, "useradmin@example.com", gatehouse.RoleUserAdministrator)
		globalAdmin := e.delegatedToken(acme, e.must(200, "GET", api+"/users?$filter=mail%20eq%20'admin@acme.example'", tok, nil).body["value"].([]any)[0].(map[string]any)["id"].(string))
		groupWriter := e.clientToken(acme, tok, gatehouse.PermGroupReadWriteAll, gatehouse.PermUserReadWriteAll)

		// Creating one: the role managers may, nobody else.
		create := map[string]any{"displayName": "Break-glass accounts", "mailEnabled": false, "mailNickname": "breakglass",
			"securityEnabled": true, "isAssignableToRole": true}
		for name, caller := range map[string]string{"User Administrator": ua, "app with Group.ReadWrite.All": groupWriter} {
			r := e.must(403, "POST", api+"/groups", caller, create)
			if m := r.errMessage(); !strings.Contains(m, "isAssignableToRole") || !strings.Contains(m, "RoleManagement.ReadWrite.Directory") {
				t.Errorf("%s creating a role-assignable group: %q; want it to name isAssignableToRole and who may", name, m)
			}
		}
		if r := e.must(400, "POST", api+"/groups", tok, map[string]any{"displayName": "x", "isAssignableToRole": nil}); !strings.Contains(r.errMessage(), "isAssignableToRole") {
			t.Errorf("isAssignableToRole null: %q", r.errMessage())
		}
		bg := e.must(201, "POST", api+"/groups", tok, create)
		if bg.body["isAssignableToRole"] != true {
			t.Fatalf("created group %s; want isAssignableToRole true", bg.raw)
		}
		breakGlass := bg.str("id")
		plain := e.must(201, "POST", api+"/groups", ua, map[string]any{"displayName": "Customers"})
		if plain.body["isAssignableToRole"] != false {
			t.Errorf("plain group %s; want isAssignableToRole false", plain.raw)
		}
		ga2 := e.must(201, "POST", api+"/groups", globalAdmin, map[string]any{"displayName": "Operators", "isAssignableToRole": true}).str("id")

		member := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Break glass", "mail": "breakglass@example.com",
			"passwordProfile": map[string]any{"password": "an emergency passphrase"}}).str("id")
		e.must(204, "POST", api+"/groups/"+breakGlass+"/members/$ref", tok, map[string]any{"@odata.id": api + "/directoryObjects/" + member})
		other := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Other", "mail": "other@example.com"}).str("id")

		snapshot := func() map[string]string {
			out := map[string]string{}
			for _, p := range []string{"/groups/" + breakGlass, "/groups/" + breakGlass + "/members", "/users/" + member, "/groups/" + ga2} {
				out[p] = e.must(200, "GET", api+p, tok, nil).raw
			}
			return out
		}
		before := snapshot()
		audits := e.countAll(api+"/auditLogs/directoryAudits", tok)

		ref := func(id string) map[string]any { return map[string]any{"@odata.id": api + "/directoryObjects/" + id} }
		for _, c := range []struct {
			name, method, path string
			body               any
			want               string
		}{
			{"adding themselves to the group", "POST", "/groups/" + breakGlass + "/members/$ref", ref(userAdmin), "role-assignable"},
			{"adding another user", "POST", "/groups/" + breakGlass + "/members/$ref", ref(other), "role-assignable"},
			{"removing the member", "DELETE", "/groups/" + breakGlass + "/members/" + member + "/$ref", nil, "role-assignable"},
			{"renaming the group", "PATCH", "/groups/" + breakGlass, map[string]any{"displayName": "Old accounts"}, "role-assignable"},
			{"a PATCH that changes nothing", "PATCH", "/groups/" + breakGlass, map[string]any{"displayName": "Break-glass accounts"}, "role-assignable"},
			{"deleting the group", "DELETE", "/groups/" + breakGlass, nil, "role-assignable"},
			{"deleting another role-assignable group", "DELETE", "/groups/" + ga2, nil, "Operators"},
			{"resetting the member's password", "PATCH", "/users/" + member, map[string]any{"passwordProfile": map[string]any{"password": "the attacker's passphrase"}}, "Break-glass accounts"},
			{"changing the member's address", "PATCH", "/users/" + member, map[string]any{"mail": "mine@example.com"}, "is a member of the group"},
			{"disabling the member", "PATCH", "/users/" + member, map[string]any{"accountEnabled": false}, "protected"},
			{"ending the member's sessions", "POST", "/users/" + member + "/revokeSignInSessions", nil, "protected"},
			{"deleting the member", "DELETE", "/users/" + member, nil, "protected"},
		} {
			r := e.must(403, c.method, api+c.path, ua, c.body)
			if m := r.errMessage(); !strings.Contains(m, c.want) || !strings.Contains(m, "Global Administrator") || !strings.Contains(m, "RoleManagement.ReadWrite.Directory") {
				t.Errorf("User Administrator %s: %q; want it to say %q and who may", c.name, m, c.want)
			}
		}
		// An app that may manage groups and users, but not roles, is
		// refused alike.
		e.must(403, "POST", api+"/groups/"+breakGlass+"/members/$ref", groupWriter, ref(other))
		e.must(403, "PATCH", api+"/users/"+member, groupWriter, map[string]any{"displayName": "x"})
		for p, raw := range snapshot() {
			if raw != before[p] {
				t.Errorf("a refused change wrote to %s:\nbefore %s\nafter  %s", p, before[p], raw)
			}
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != audits {
			t.Errorf("refused changes wrote %d audit entries", n-audits)
		}

		// isAssignableToRole is set at creation only; repeating it is fine.
		for _, c := range []struct {
			group string
			value bool
		}{{breakGlass, false}, {plain.str("id"), true}} {
			r := e.must(400, "PATCH", api+"/groups/"+c.group, tok, map[string]any{"isAssignableToRole": c.value})
			if !strings.Contains(r.errMessage(), "isAssignableToRole") || r.body["error"].(map[string]any)["target"] != "isAssignableToRole" {
				t.Errorf("changing isAssignableToRole to %v: %s", c.value, r.raw)
			}
		}
		e.must(204, "PATCH", api+"/groups/"+breakGlass, tok, map[string]any{"isAssignableToRole": true, "description": "Emergency access"})

		// Roles are still assigned to users only, and the refusal says so.
		r := e.must(400, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{
			"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": breakGlass, "directoryScopeId": "/"})
		if !strings.Contains(r.errMessage(), "is a group") {
			t.Errorf("a role for a group: %q", r.errMessage())
		}

		// Unprotected groups and users stay the User Administrator's.
		e.must(204, "POST", api+"/groups/"+plain.str("id")+"/members/$ref", ua, ref(other))
		e.must(204, "PATCH", api+"/users/"+other, ua, map[string]any{"displayName": "Other"})
		e.must(204, "DELETE", api+"/groups/"+plain.str("id"), ua, nil)

		// The role managers may do all of it: a Global Administrator and
		// an app with RoleManagement.ReadWrite.Directory.
		e.must(204, "POST", api+"/groups/"+breakGlass+"/members/$ref", globalAdmin, ref(other))
		e.must(204, "DELETE", api+"/groups/"+breakGlass+"/members/"+other+"/$ref", tok, nil)
		e.must(204, "PATCH", api+"/users/"+member, globalAdmin, map[string]any{"displayName": "Break-glass"})
		e.must(204, "PATCH", api+"/groups/"+breakGlass, globalAdmin, map[string]any{"displayName": "Emergency accounts"})
		e.must(204, "DELETE", api+"/groups/"+ga2, tok, nil)
		// Once the member has left the group, the User Administrator may
		// manage the account again.
		e.must(204, "DELETE", api+"/groups/"+breakGlass+"/members/"+member+"/$ref", tok, nil)
		e.must(204, "PATCH", api+"/users/"+member, ua, map[string]any{"displayName": "Former break-glass"})
		e.must(204, "DELETE", api+"/groups/"+breakGlass, globalAdmin, nil)
	})
}

// TestCAExcludedGroupsAreProtected: a group that a Conditional Access
// policy excludes (the break-glass group) is protected like a
// role-assignable one: a User Administrator, or an app with only
// Group.ReadWrite.All, cannot change its members or properties, nor its
// members' accounts, and the 403 names the policy. Those who may manage
// groups and also change the exclusion itself (a User Administrator who
// is a Conditional Access Administrator too; Group.ReadWrite.All with
// Policy.ReadWrite.ConditionalAccess) and the role managers may change
// its membership; once no policy excludes it, it is an ordinary group.
func TestCAExcludedGroupsAreProtected(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		c := newCAEnv(t, eng)
		ua := c.role("useradmin@example.com", gatehouse.RoleUserAdministrator)
		groupWriter := c.clientToken(c.res, c.tok, gatehouse.PermGroupReadWriteAll, gatehouse.PermUserReadWriteAll)
		// Who may manage groups and Conditional Access.
		caAdminID, caAdmin := c.roleHolder(c.res, c.tok, "caadmin@example.com", gatehouse.RoleUserAdministrator)
		c.must(201, "POST", c.api+"/roleManagement/directory/roleAssignments", c.tok, map[string]any{
			"roleDefinitionId": gatehouse.RoleConditionalAccessAdministrator, "principalId": caAdminID, "directoryScopeId": "/"})
		caApp := c.clientToken(c.res, c.tok, gatehouse.PermGroupReadWriteAll, gatehouse.PermPolicyReadWriteCA)
		member, other := c.user("breakglass@example.com"), c.user("other@example.com")
		bg := c.group("Emergency access", member, c.admin)
		ref := func(id string) map[string]any { return map[string]any{"@odata.id": c.api + "/directoryObjects/" + id} }
		// Before any policy names it, the User Administrator manages it.
		c.must(204, "POST", c.api+"/groups/"+bg+"/members/$ref", ua, ref(other))
		c.must(204, "DELETE", c.api+"/groups/"+bg+"/members/"+other+"/$ref", ua, nil)

		p := seedPolicy(bg)
		p["state"] = "disabled" // any policy's exclusion protects, enforced or not
		policy := c.must(201, "POST", c.ca+"/policies", c.tok, p).str("id")
		for _, tc := range []struct {
			name, method, path string
			body               any
		}{
			{"adding themselves", "POST", "/groups/" + bg + "/members/$ref", ref(other)},
			{"removing a member", "DELETE", "/groups/" + bg + "/members/" + member + "/$ref", nil},
			{"renaming the group", "PATCH", "/groups/" + bg, map[string]any{"displayName": "Old accounts"}},
			{"deleting the group", "DELETE", "/groups/" + bg, nil},
		} {
			for who, tok := range map[string]string{"User Administrator": ua, "Group.ReadWrite.All": groupWriter} {
				r := c.must(403, tc.method, c.api+tc.path, tok, tc.body)
				if m := r.errMessage(); !strings.Contains(m, "Conditional Access policies exclude it") || !strings.Contains(m, `"Require MFA for all users"`) ||
					!strings.Contains(m, "Conditional Access Administrator") {
					t.Errorf("%s %s: %q; want it to name the policy and who may", who, tc.name, m)
				}
			}
		}
		r := c.must(403, "PATCH", c.api+"/users/"+member, ua, map[string]any{"displayName": "Taken over"})
		if !strings.Contains(r.errMessage(), "Emergency access") {
			t.Errorf("changing a member's account: %q", r.errMessage())
		}
		if n := len(c.must(200, "GET", c.api+"/groups/"+bg+"/members", c.tok, nil).body["value"].([]any)); n != 2 {
			t.Errorf("refused changes left %d members, want 2", n)
		}

		// The Conditional Access writers and the role managers may.
		c.must(204, "POST", c.api+"/groups/"+bg+"/members/$ref", caAdmin, ref(other))
		c.must(204, "DELETE", c.api+"/groups/"+bg+"/members/"+other+"/$ref", caApp, nil)
		c.must(204, "POST", c.api+"/groups/"+bg+"/members/$ref", c.tok, ref(other))

		// Without the exclusion, it is an ordinary group again.
		c.must(204, "DELETE", c.ca+"/policies/"+policy, c.tok, nil)
		c.must(204, "DELETE", c.api+"/groups/"+bg+"/members/"+other+"/$ref", ua, nil)
		c.must(204, "PATCH", c.api+"/users/"+member, ua, map[string]any{"displayName": "Former break-glass"})
	})
}
