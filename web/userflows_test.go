package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
)

const (
	odataFlow       = "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow"
	odataFlowStart  = "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp"
	odataFlowIdPs   = "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp"
	odataFlowAttrs  = "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp"
	odataFlowCreate = "#microsoft.graph.onUserCreateStartExternalUsersSelfServiceSignUp"
	// extensionPrefix is how Entra names custom attributes (with its
	// b2c-extensions-app's appId).
	extensionPrefix = "extension_6ea3bc85aec24b1c92ff4a117afb6621_"
)

// newApp registers an application and returns its object ID and appId.
func (e *testEnv) newApp(api, tok, name string) (string, string) {
	e.t.Helper()
	r := e.must(201, "POST", api+"/applications", tok, map[string]any{"displayName": name})
	return r.str("id"), r.str("appId")
}

// clientToken registers an application granted perms and returns a
// client-credentials token of it.
func (e *testEnv) clientToken(res *provision.Result, tok string, perms ...gatehouse.Permission) string {
	e.t.Helper()
	obj, appID := e.newApp(res.AdminAPI, tok, "Client with "+fmt.Sprint(len(perms))+" permissions")
	for _, p := range perms {
		e.must(201, "POST", res.AdminAPI+"/applications/"+obj+"/appRoleAssignments", tok, map[string]any{"appRoleId": p.ID})
	}
	secret := e.must(200, "POST", res.AdminAPI+"/applications/"+obj+"/addPassword", tok, nil).str("secretText")
	return e.token(e.url+"/"+res.Tenant+"/oauth2/v2.0/token", appID, secret, res.AutomationClient.Scope)
}

// auditActivities counts the audit entries about the target by activity.
func (e *testEnv) auditActivities(api, tok, targetID string) map[string]int {
	e.t.Helper()
	r := e.must(200, "GET", api+"/auditLogs/directoryAudits?$top=999&$filter=targetResources/any(t:t/id%20eq%20'"+targetID+"')", tok, nil)
	got := map[string]int{}
	for _, v := range r.body["value"].([]any) {
		entry := v.(map[string]any)
		if entry["category"] != "Policy" {
			e.t.Errorf("audit entry %q has category %v, want Policy", entry["activityDisplayName"], entry["category"])
		}
		got[entry["activityDisplayName"].(string)]++
	}
	return got
}

// storefrontFlow is a user flow in the shape Graph documents: email with
// password, sign-up allowed, a built-in attribute with an input, one
// without, and two custom attributes, one named as Entra names them.
func storefrontFlow(appIDs ...string) map[string]any {
	apps := []any{}
	for _, id := range appIDs {
		apps = append(apps, map[string]any{"appId": id})
	}
	return map[string]any{
		"@odata.type":                odataFlow,
		"displayName":                "Storefront sign-up",
		"description":                "Customers of the shop",
		"conditions":                 map[string]any{"applications": map[string]any{"includeApplications": apps}},
		"onInteractiveAuthFlowStart": map[string]any{"@odata.type": odataFlowStart, "isSignUpAllowed": true},
		"onAuthenticationMethodLoadStart": map[string]any{"@odata.type": odataFlowIdPs,
			"identityProviders": []any{map[string]any{"id": "EmailPassword-OAUTH"}}},
		"onAttributeCollection": map[string]any{
			"@odata.type": odataFlowAttrs,
			"attributes": []any{
				map[string]any{"id": "email", "displayName": "Email Address", "userFlowAttributeType": "builtIn", "dataType": "string"},
				map[string]any{"id": "displayName", "displayName": "Full name", "userFlowAttributeType": "builtIn", "dataType": "string"},
				map[string]any{"id": "city", "userFlowAttributeType": "builtIn", "dataType": "string"},
				map[string]any{"id": extensionPrefix + "loyaltyNumber", "displayName": "Loyalty number", "userFlowAttributeType": "custom", "dataType": "string"},
				map[string]any{"id": "newsletter", "displayName": "Send me offers", "userFlowAttributeType": "custom", "dataType": "boolean"},
			},
			"attributeCollectionPage": map[string]any{"views": []any{map[string]any{"inputs": []any{
				map[string]any{"attribute": "email", "label": "Email Address", "inputType": "Text", "hidden": true, "editable": false, "writeToDirectory": true, "required": true},
				map[string]any{"attribute": "displayName", "label": "Full name", "inputType": "text", "hidden": false, "editable": true, "writeToDirectory": true, "required": true},
				map[string]any{"attribute": extensionPrefix + "loyaltyNumber", "inputType": "text", "required": false},
				map[string]any{"attribute": "newsletter", "inputType": "checkboxSingleSelect", "validationRegEx": nil, "options": []any{}},
			}}}},
		},
		"onUserCreateStart": map[string]any{"@odata.type": odataFlowCreate, "userTypeToCreate": "member"},
	}
}

// storefrontFlowWant is what GET returns for storefrontFlow: attributes in
// the order of their inputs, then those without one; labels defaulted; the
// custom attribute under the name Gatehouse keeps.
const storefrontFlowWant = `{
  "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
  "id": %q,
  "displayName": "Storefront sign-up",
  "description": "Customers of the shop",
  "priority": 500,
  "conditions": {"applications": {"includeApplications": [{"appId": %q}, {"appId": %q}]}},
  "onInteractiveAuthFlowStart": {
    "@odata.type": "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
    "isSignUpAllowed": true
  },
  "onAuthenticationMethodLoadStart": {
    "@odata.type": "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
    "identityProviders": [{"id": "EmailPassword-OAUTH"}]
  },
  "onAttributeCollection": {
    "@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp",
    "attributes": [
      {"id": "email", "displayName": "Email Address", "userFlowAttributeType": "builtIn", "dataType": "string"},
      {"id": "displayName", "displayName": "Full name", "userFlowAttributeType": "builtIn", "dataType": "string"},
      {"id": "loyaltyNumber", "displayName": "Loyalty number", "userFlowAttributeType": "custom", "dataType": "string"},
      {"id": "newsletter", "displayName": "Send me offers", "userFlowAttributeType": "custom", "dataType": "boolean"},
      {"id": "city", "displayName": "City", "userFlowAttributeType": "builtIn", "dataType": "string"}
    ],
    "attributeCollectionPage": {"views": [{"inputs": [
      {"attribute": "email", "label": "Email Address", "inputType": "text", "hidden": true, "editable": false, "writeToDirectory": true, "required": true},
      {"attribute": "displayName", "label": "Full name", "inputType": "text", "hidden": false, "editable": true, "writeToDirectory": true, "required": true},
      {"attribute": "loyaltyNumber", "label": "Loyalty number", "inputType": "text", "hidden": false, "editable": true, "writeToDirectory": true, "required": false},
      {"attribute": "newsletter", "label": "Send me offers", "inputType": "boolean", "hidden": false, "editable": true, "writeToDirectory": true, "required": false},
      {"attribute": "city", "label": "City", "inputType": "text", "hidden": false, "editable": true, "writeToDirectory": true, "required": false}
    ]}]}
  },
  "onUserCreateStart": {
    "@odata.type": "#microsoft.graph.onUserCreateStartExternalUsersSelfServiceSignUp",
    "userTypeToCreate": "member"
  },
  "gatehouse": {"passkeySignIn": false}
}`

func jsonObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return m
}

// withChange returns a copy of the body with the property at the dotted
// path set, or removed if v is nil.
func withChange(body map[string]any, path string, v any) map[string]any {
	raw, _ := json.Marshal(body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	m := out
	keys := strings.Split(path, ".")
	if strings.HasPrefix(path, "@") { // an annotation such as @odata.type
		keys = []string{path}
	}
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	if v == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = v
	}
	return out
}

func TestUserFlowsAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		flows := api + "/identity/authenticationEventsFlows"
		_, shop := e.newApp(api, tok, "Storefront")
		_, mobile := e.newApp(api, tok, "Mobile app")
		_, kiosk := e.newApp(api, tok, "Kiosk")

		// Create with attributes and two apps, and read back.
		created := e.must(201, "POST", flows, tok, storefrontFlow(shop, mobile))
		id := created.str("id")
		want := jsonObject(t, fmt.Sprintf(storefrontFlowWant, id, shop, mobile))
		if diff := cmp.Diff(want, created.body); diff != "" {
			t.Errorf("POST response (-want +got):\n%s", diff)
		}
		got := e.must(200, "GET", flows+"/"+id, tok, nil)
		if diff := cmp.Diff(want, got.body); diff != "" {
			t.Errorf("GET (-want +got):\n%s", diff)
		}
		stored, err := e.store.UserFlow(ctx, acme.TenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		wantAttrs := []gatehouse.FlowAttribute{
			{Name: "displayName", Label: "Full name", DataType: "string", Required: true},
			{Name: "loyaltyNumber", Label: "Loyalty number", DataType: "string", Custom: true},
			{Name: "newsletter", Label: "Send me offers", DataType: "boolean", Custom: true},
			{Name: "city", Label: "City", DataType: "string"},
		}
		if diff := cmp.Diff(wantAttrs, stored.Attributes); diff != "" {
			t.Errorf("stored attributes (-want +got):\n%s", diff)
		}
		if stored.IdentityProvider != gatehouse.IdentityProviderEmailPassword || !stored.SignUpAllowed || !cmp.Equal(stored.AppIDs, []string{shop, mobile}) {
			t.Errorf("stored flow: identity provider %q, sign-up %v, apps %v", stored.IdentityProvider, stored.SignUpAllowed, stored.AppIDs)
		}
		list := e.must(200, "GET", flows+"?$filter=displayName%20eq%20'Storefront%20sign-up'", tok, nil)
		if vals := list.body["value"].([]any); len(vals) != 1 || vals[0].(map[string]any)["id"] != id {
			t.Errorf("list filtered on displayName = %s", list.raw)
		}

		// What GET returns PATCHes back unchanged.
		e.must(204, "PATCH", flows+"/"+id, tok, got.raw)
		again := e.must(200, "GET", flows+"/"+id, tok, nil)
		if diff := cmp.Diff(got.body, again.body); diff != "" {
			t.Errorf("GET after PATCHing back the GET (-before +after):\n%s", diff)
		}

		// An application uses exactly one flow.
		r := e.must(409, "POST", flows, tok, withChange(storefrontFlow(shop), "displayName", "Second flow"))
		if m := r.errMessage(); !strings.Contains(m, "Storefront") || !strings.Contains(m, shop) || !strings.Contains(m, "Storefront sign-up") || !strings.Contains(m, id) {
			t.Errorf("409 message %q does not name the application and the flow it uses", m)
		}

		// Bad input: a 400 naming the problem, and nothing written.
		auditsBefore := e.countAll(api+"/auditLogs/directoryAudits", tok)
		body := storefrontFlow(kiosk)
		attrs := "onAttributeCollection.attributes"
		inputs := "onAttributeCollection.attributeCollectionPage.views"
		input := func(in map[string]any) []any {
			return []any{map[string]any{"inputs": []any{in}}}
		}
		onlyAttrs := func(list ...any) map[string]any {
			return withChange(withChange(body, "onAttributeCollection.attributeCollectionPage", nil), attrs, list)
		}
		for _, c := range []struct {
			name string
			body any
			want []string
		}{
			{"unknown appId", withChange(body, "conditions.applications.includeApplications", []any{map[string]any{"appId": "no-such-app"}}), []string{"no-such-app"}},
			{"an appId twice", withChange(body, "conditions.applications.includeApplications", []any{map[string]any{"appId": kiosk}, map[string]any{"appId": kiosk}}), []string{kiosk, "twice"}},
			{"unknown property", withChange(body, "favouriteColour", "blue"), []string{"favouriteColour"}},
			{"unknown nested property", onlyAttrs(map[string]any{"id": "city", "description": "Where you live"}), []string{"onAttributeCollection.attributes[0].description"}},
			{"custom authentication extension", withChange(body, "onAttributeCollectionStart", map[string]any{"handler": map[string]any{}}), []string{"onAttributeCollectionStart"}},
			{"social identity provider", withChange(body, "onAuthenticationMethodLoadStart.identityProviders", []any{map[string]any{"id": "Google-OAUTH"}}), []string{"Google-OAUTH", "not supported"}},
			{"two identity providers", withChange(body, "onAuthenticationMethodLoadStart.identityProviders", []any{map[string]any{"id": "EmailPassword-OAUTH"}, map[string]any{"id": "EmailOtpSignup-OAUTH"}}), []string{"one identity provider per user flow"}},
			{"no identity provider", withChange(body, "onAuthenticationMethodLoadStart", nil), []string{"identityProviders is required"}},
			{"no name", withChange(body, "displayName", nil), []string{"displayName"}},
			{"priority", withChange(body, "priority", 100), []string{"priority"}},
			{"all applications", withChange(body, "conditions.applications.includeAllApplications", true), []string{"includeAllApplications"}},
			{"guests", withChange(body, "onUserCreateStart.userTypeToCreate", "guest"), []string{"userTypeToCreate", "guest"}},
			{"another flow type", withChange(body, "@odata.type", "#microsoft.graph.b2cIdentityUserFlow"), []string{"@odata.type"}},
			{"radio buttons", withChange(body, inputs, input(map[string]any{"attribute": "city", "inputType": "radioSingleSelect"})), []string{"inputType", "radioSingleSelect"}},
			{"hidden input", withChange(body, inputs, input(map[string]any{"attribute": "city", "hidden": true})), []string{"hidden"}},
			{"validation pattern", withChange(body, inputs, input(map[string]any{"attribute": "city", "validationRegEx": "^[a-z]+$"})), []string{"validationRegEx"}},
			{"email input changed", withChange(body, inputs, input(map[string]any{"attribute": "email", "required": false})), []string{"required"}},
			{"two views", withChange(body, inputs, []any{map[string]any{"inputs": []any{}}, map[string]any{"inputs": []any{}}}), []string{"one view"}},
			{"input without attribute", withChange(body, inputs, input(map[string]any{"attribute": "jobTitle"})), []string{"jobTitle"}},
			{"two labels", withChange(body, inputs, input(map[string]any{"attribute": "displayName", "label": "Name"})), []string{"Full name", "Name"}},
			{"custom attribute with a built-in name", onlyAttrs(map[string]any{"id": "city", "userFlowAttributeType": "custom"}), []string{"city"}},
			{"unknown built-in", onlyAttrs(map[string]any{"id": "shoeSize", "userFlowAttributeType": "builtIn"}), []string{"shoeSize"}},
			{"built-in of another type", onlyAttrs(map[string]any{"id": "city", "dataType": "int64"}), []string{"city", "int64"}},
			{"read-only id", withChange(body, "id", "my-own-id"), []string{"id", "read-only"}},
		} {
			r := e.call("POST", flows, tok, c.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400; %s", c.name, r.status, r.raw)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(r.errMessage(), w) {
					t.Errorf("%s: message %q does not mention %q", c.name, r.errMessage(), w)
				}
			}
		}
		for _, patch := range []string{
			`{"onUserCreateStart": {"userTypeToCreate": "guest"}}`,
			`{"onAuthenticationMethodLoadStart": null}`,
			`{"onAuthenticationMethodLoadStart": {"identityProviders": []}}`,
			`{"displayName": null}`,
		} {
			if r := e.call("PATCH", flows+"/"+id, tok, patch); r.status != 400 {
				t.Errorf("PATCH %s: status %d, want 400", patch, r.status)
			}
		}
		if n := e.countAll(flows, tok); n != 1 {
			t.Errorf("rejected requests left %d flows, want 1", n)
		}
		if n := e.countAll(api+"/auditLogs/directoryAudits", tok); n != auditsBefore {
			t.Errorf("rejected requests wrote %d audit entries", n-auditsBefore)
		}
		if diff := cmp.Diff(want, e.must(200, "GET", flows+"/"+id, tok, nil).body); diff != "" {
			t.Errorf("rejected requests changed the flow (-want +got):\n%s", diff)
		}

		// Link and unlink applications through includeApplications.
		apps := flows + "/" + id + "/conditions/applications/includeApplications"
		appIDs := func() []string {
			var out []string
			for _, v := range e.must(200, "GET", apps, tok, nil).body["value"].([]any) {
				out = append(out, v.(map[string]any)["appId"].(string))
			}
			return out
		}
		if diff := cmp.Diff([]string{shop, mobile}, appIDs()); diff != "" {
			t.Errorf("includeApplications (-want +got):\n%s", diff)
		}
		link := func(appID string) map[string]any {
			return map[string]any{"@odata.type": "#microsoft.graph.authenticationConditionApplication", "appId": appID}
		}
		if r := e.must(201, "POST", apps, tok, link(kiosk)); r.str("appId") != kiosk {
			t.Errorf("POST includeApplications = %s", r.raw)
		}
		e.must(409, "POST", apps, tok, link(kiosk))
		if r := e.must(400, "POST", apps, tok, link("no-such-app")); !strings.Contains(r.errMessage(), "no-such-app") {
			t.Errorf("unknown appId: message %q", r.errMessage())
		}
		e.must(204, "DELETE", apps+"/"+mobile+"/$ref", tok, nil)
		e.must(404, "DELETE", apps+"/"+mobile+"/$ref", tok, nil)
		if diff := cmp.Diff([]string{shop, kiosk}, appIDs()); diff != "" {
			t.Errorf("includeApplications after linking and unlinking (-want +got):\n%s", diff)
		}
		if f, err := e.store.UserFlowByAppID(ctx, acme.TenantID, kiosk); err != nil || f.ID != id {
			t.Errorf("UserFlowByAppID(kiosk) = %v, %v; want the flow", f, err)
		}

		// The unlinked app can use another flow; a linked one cannot.
		second := e.must(201, "POST", flows, tok, map[string]any{
			"@odata.type": odataFlow, "displayName": "Passwordless",
			"conditions":                      map[string]any{"applications": map[string]any{"includeApplications": []any{map[string]any{"appId": mobile}}}},
			"onAuthenticationMethodLoadStart": map[string]any{"identityProviders": []any{map[string]any{"id": "EmailOtpSignup-OAUTH"}}},
		}).str("id")
		if r := e.must(409, "POST", flows+"/"+second+"/conditions/applications/includeApplications", tok, link(shop)); !strings.Contains(r.errMessage(), "Storefront sign-up") || !strings.Contains(r.errMessage(), id) || !strings.Contains(r.errMessage(), shop) {
			t.Errorf("linking an app of another flow: message %q", r.errMessage())
		}
		e.must(409, "PATCH", flows+"/"+second, tok, map[string]any{"conditions": map[string]any{"applications": map[string]any{"includeApplications": []any{map[string]any{"appId": shop}}}}})

		// PATCH replaces what it sends, and only that.
		e.must(204, "PATCH", flows+"/"+id, tok, map[string]any{
			"@odata.type":                     odataFlow,
			"onInteractiveAuthFlowStart":      map[string]any{"isSignUpAllowed": false},
			"onAuthenticationMethodLoadStart": map[string]any{"identityProviders": []any{map[string]any{"id": "EmailOtpSignup-OAUTH"}}},
			"onAttributeCollection": map[string]any{"attributes": []any{
				map[string]any{"id": "email"}, map[string]any{"id": "loyaltyNumber", "userFlowAttributeType": "custom"}, map[string]any{"id": "displayName"},
			}},
		})
		stored, err = e.store.UserFlow(ctx, acme.TenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		wantAttrs = []gatehouse.FlowAttribute{
			{Name: "loyaltyNumber", Label: "Loyalty number", DataType: "string", Custom: true},
			{Name: "displayName", Label: "Full name", DataType: "string", Required: true},
		}
		if diff := cmp.Diff(wantAttrs, stored.Attributes); diff != "" {
			t.Errorf("attributes after PATCH (-want +got):\n%s", diff)
		}
		if stored.IdentityProvider != gatehouse.IdentityProviderEmailOTP || stored.SignUpAllowed || stored.DisplayName != "Storefront sign-up" || !cmp.Equal(stored.AppIDs, []string{shop, kiosk}) {
			t.Errorf("after PATCH: identity provider %q, sign-up %v, name %q, apps %v", stored.IdentityProvider, stored.SignUpAllowed, stored.DisplayName, stored.AppIDs)
		}

		// DELETE frees the flow's applications.
		e.must(204, "DELETE", flows+"/"+id, tok, nil)
		e.must(404, "GET", flows+"/"+id, tok, nil)
		e.must(404, "DELETE", flows+"/"+id, tok, nil)
		e.must(201, "POST", flows+"/"+second+"/conditions/applications/includeApplications", tok, link(shop))

		// Every change is in the audit log.
		if diff := cmp.Diff(map[string]int{
			"Add user flow": 1, "Update user flow": 1, "Add application to user flow": 1,
			"Remove application from user flow": 1, "Delete user flow": 1,
		}, e.auditActivities(api, tok, id)); diff != "" {
			t.Errorf("audit entries of the flow (-want +got):\n%s", diff)
		}
		updates := e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Update%20user%20flow'", tok, nil)
		var changed []string
		for _, v := range updates.body["value"].([]any) {
			for _, mp := range v.(map[string]any)["targetResources"].([]any)[0].(map[string]any)["modifiedProperties"].([]any) {
				changed = append(changed, mp.(map[string]any)["displayName"].(string))
			}
		}
		// The PATCH above; the unchanged round trip wrote no entry.
		if diff := cmp.Diff([]string{"onAttributeCollection", "onAuthenticationMethodLoadStart", "onInteractiveAuthFlowStart"}, changed); diff != "" {
			t.Errorf("modified properties of the updates (-want +got):\n%s", diff)
		}
	})
}

func TestUserFlowsAccess(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		flows := api + "/identity/authenticationEventsFlows"
		_, shop := e.newApp(api, tok, "Storefront")
		id := e.must(201, "POST", flows, tok, storefrontFlow(shop)).str("id")

		users := e.clientToken(acme, tok, gatehouse.PermUserReadWriteAll)
		if r := e.must(403, "GET", flows, users, nil); !strings.Contains(r.errMessage(), "EventListener.Read.All") {
			t.Errorf("403 message %q does not name EventListener.Read.All", r.errMessage())
		}
		reader := e.clientToken(acme, tok, gatehouse.PermEventListenerReadAll)
		e.must(200, "GET", flows+"/"+id, reader, nil)
		e.must(200, "GET", flows+"/"+id+"/conditions/applications/includeApplications", reader, nil)
		if r := e.must(403, "DELETE", flows+"/"+id, reader, nil); !strings.Contains(r.errMessage(), "EventListener.ReadWrite.All") {
			t.Errorf("403 message %q does not name EventListener.ReadWrite.All", r.errMessage())
		}
		e.must(403, "POST", flows, reader, storefrontFlow())
		writer := e.clientToken(acme, tok, gatehouse.PermEventListenerReadWriteAll)
		e.must(204, "PATCH", flows+"/"+id, writer, map[string]any{"description": "Changed by automation"})

		// As in Entra External ID, an Application Administrator may not
		// change user flows; a Global Administrator may.
		appAdmin := e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "apps@acme.example"}).str("id")
		e.must(201, "POST", api+"/roleManagement/directory/roleAssignments", tok, map[string]any{"roleDefinitionId": gatehouse.RoleApplicationAdministrator, "principalId": appAdmin})
		e.must(403, "GET", flows, e.delegatedToken(acme, appAdmin), nil)
		admin := e.delegatedToken(acme, e.adminUserID(api, tok, acme.Admin.Email))
		e.must(204, "DELETE", flows+"/"+id, admin, nil)
		byUser := e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Delete%20user%20flow'", tok, nil)
		if vals := byUser.body["value"].([]any); len(vals) != 1 || vals[0].(map[string]any)["initiatedBy"].(map[string]any)["user"] == nil {
			t.Errorf("delete by the administrator: audit %s", byUser.raw)
		}
	})
}
