package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestOrganizationAndBranding(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")
		other := e.createTenant("other")
		api := acme.AdminAPI
		tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
		org := api + "/organization/" + acme.TenantID
		branding := org + "/branding"

		// The organization is the tenant.
		list := e.must(200, "GET", api+"/organization", tok, nil)
		vals := list.body["value"].([]any)
		if len(vals) != 1 || vals[0].(map[string]any)["id"] != acme.TenantID || vals[0].(map[string]any)["displayName"] != "acme" {
			t.Errorf("GET /organization = %s; want one organization, the tenant", list.raw)
		}
		e.must(204, "PATCH", org, tok, map[string]any{"displayName": "Acme Corporation"})
		if got := e.must(200, "GET", org, tok, nil); got.str("displayName") != "Acme Corporation" {
			t.Errorf("displayName after PATCH = %q", got.str("displayName"))
		}
		for _, body := range []map[string]any{{"displayName": ""}, {"displayName": nil}, {"displayName": "a\u0007b"}, {"tenantType": "CIAM"}} {
			if r := e.call("PATCH", org, tok, body); r.status != 400 || r.body["error"].(map[string]any)["target"] == nil {
				t.Errorf("PATCH organization %v: status %d, %s; want 400 naming the field", body, r.status, r.raw)
			}
		}

		// Branding starts empty, takes a logo URL and an accent colour,
		// and round-trips.
		empty := `{"id": "0", "gatehouse": {"logoUrl": "", "accentColor": ""}}`
		if diff := cmp.Diff(jsonObject(t, empty), e.must(200, "GET", branding, tok, nil).body); diff != "" {
			t.Errorf("initial branding (-want +got):\n%s", diff)
		}
		e.must(204, "PATCH", branding, tok, map[string]any{"gatehouse": map[string]any{"logoUrl": "https://cdn.acme.example/logo.png", "accentColor": "#0b5cad"}})
		set := `{"id": "0", "gatehouse": {"logoUrl": "https://cdn.acme.example/logo.png", "accentColor": "#0b5cad"}}`
		got := e.must(200, "GET", branding, tok, nil)
		if diff := cmp.Diff(jsonObject(t, set), got.body); diff != "" {
			t.Errorf("branding after PATCH (-want +got):\n%s", diff)
		}
		e.must(204, "PATCH", branding, tok, got.raw)
		tn, err := e.store.Tenant(ctx, acme.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (gatehouse.Branding{LogoURL: "https://cdn.acme.example/logo.png", AccentColor: "#0b5cad"}); tn.Branding != want || tn.DisplayName != "Acme Corporation" {
			t.Errorf("stored tenant: branding %+v, displayName %q; want %+v, Acme Corporation", tn.Branding, tn.DisplayName, want)
		}

		// Bad values: a 400 naming the field, and nothing changed.
		long := "https://cdn.acme.example/" + strings.Repeat("a", 1000)
		for _, c := range []struct {
			name string
			body any
			want string
		}{
			{"colour name", `{"gatehouse":{"accentColor":"blue"}}`, "gatehouse.accentColor"},
			{"short colour", `{"gatehouse":{"accentColor":"#fff"}}`, "gatehouse.accentColor"},
			{"colour with alpha", `{"gatehouse":{"accentColor":"#0b5cad80"}}`, "gatehouse.accentColor"},
			{"CSS injection", `{"gatehouse":{"accentColor":"#000;}body{x:y"}}`, "gatehouse.accentColor"},
			{"relative logo", `{"gatehouse":{"logoUrl":"/logo.png"}}`, "gatehouse.logoUrl"},
			{"http logo", `{"gatehouse":{"logoUrl":"http://cdn.acme.example/logo.png"}}`, "gatehouse.logoUrl"},
			{"javascript logo", `{"gatehouse":{"logoUrl":"javascript:alert(1)"}}`, "gatehouse.logoUrl"},
			{"data logo", `{"gatehouse":{"logoUrl":"data:image/png;base64,AAAA"}}`, "gatehouse.logoUrl"},
			{"logo with credentials", `{"gatehouse":{"logoUrl":"https://user:pw@cdn.acme.example/logo.png"}}`, "gatehouse.logoUrl"},
			{"long logo", `{"gatehouse":{"logoUrl":"` + long + `"}}`, "gatehouse.logoUrl"},
			{"wrong type", `{"gatehouse":{"logoUrl":42}}`, "gatehouse.logoUrl"},
			{"Graph property", `{"backgroundColor":"#ffffff"}`, "backgroundColor"},
			{"unknown setting", `{"gatehouse":{"fontFamily":"serif"}}`, "gatehouse.fontFamily"},
			{"another branding", `{"id":"1033","gatehouse":{}}`, "id"},
		} {
			r := e.call("PATCH", branding, tok, c.body)
			if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), c.want) {
				t.Errorf("%s: status %d message %q; want 400 naming %q", c.name, r.status, r.errMessage(), c.want)
			}
		}
		if diff := cmp.Diff(jsonObject(t, set), e.must(200, "GET", branding, tok, nil).body); diff != "" {
			t.Errorf("rejected PATCHes changed the branding (-want +got):\n%s", diff)
		}

		// A loopback logo is fine for development; null or "" clears a setting.
		e.must(204, "PATCH", branding, tok, map[string]any{"gatehouse": map[string]any{"logoUrl": "http://localhost:8080/logo.png", "accentColor": nil}})
		if diff := cmp.Diff(jsonObject(t, `{"id": "0", "gatehouse": {"logoUrl": "http://localhost:8080/logo.png", "accentColor": ""}}`), e.must(200, "GET", branding, tok, nil).body); diff != "" {
			t.Errorf("branding after clearing the colour (-want +got):\n%s", diff)
		}

		// Another tenant's organization is not found here, even by ID.
		otherOrg := api + "/organization/" + other.TenantID
		e.must(404, "GET", otherOrg, tok, nil)
		e.must(404, "PATCH", otherOrg, tok, map[string]any{"displayName": "Taken over"})
		e.must(404, "GET", otherOrg+"/branding", tok, nil)
		e.must(404, "PATCH", otherOrg+"/branding", tok, map[string]any{"gatehouse": map[string]any{"accentColor": "#ff0000"}})
		if tn, err := e.store.Tenant(ctx, other.TenantID); err != nil || tn.Branding != (gatehouse.Branding{}) || tn.DisplayName != "other" {
			t.Errorf("the other tenant changed: %+v, %v", tn, err)
		}

		// Permissions: Organization.ReadWrite.All or
		// OrganizationalBranding.ReadWrite.All write branding; read
		// permissions only read it; others nothing.
		users := e.clientToken(acme, tok, gatehouse.PermUserReadWriteAll)
		if r := e.must(403, "GET", branding, users, nil); !strings.Contains(r.errMessage(), "OrganizationalBranding.Read.All") {
			t.Errorf("403 message %q does not name OrganizationalBranding.Read.All", r.errMessage())
		}
		e.must(403, "GET", api+"/organization", users, nil)
		reader := e.clientToken(acme, tok, gatehouse.PermOrganizationalBrandingReadAll)
		e.must(200, "GET", branding, reader, nil)
		e.must(403, "PATCH", branding, reader, map[string]any{"gatehouse": map[string]any{"accentColor": "#ff0000"}})
		e.must(403, "GET", org, reader, nil)
		brander := e.clientToken(acme, tok, gatehouse.PermOrganizationalBrandingReadWriteAll)
		e.must(204, "PATCH", branding, brander, map[string]any{"gatehouse": map[string]any{"accentColor": "#ff0000"}})
		e.must(403, "PATCH", org, brander, map[string]any{"displayName": "Nope"})
		orgReader := e.clientToken(acme, tok, gatehouse.PermOrganizationReadAll)
		e.must(200, "GET", org, orgReader, nil)
		e.must(403, "PATCH", org, orgReader, map[string]any{"displayName": "Nope"})

		// Changes are audited with the values before and after.
		r := e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Update%20company%20branding'", tok, nil)
		entries := r.body["value"].([]any)
		if len(entries) != 3 { // set, clear, by the branding client; the unchanged round trip wrote none
			t.Fatalf("got %d 'Update company branding' entries, want 3: %s", len(entries), r.raw)
		}
		newest := entries[0].(map[string]any)
		target := newest["targetResources"].([]any)[0].(map[string]any)
		wantMP := []any{map[string]any{"displayName": "gatehouse",
			"oldValue": `{"accentColor":"","logoUrl":"http://localhost:8080/logo.png"}`,
			"newValue": `{"accentColor":"#ff0000","logoUrl":"http://localhost:8080/logo.png"}`}}
		if diff := cmp.Diff(wantMP, target["modifiedProperties"]); diff != "" || target["id"] != acme.TenantID || newest["category"] != "DirectoryManagement" {
			t.Errorf("newest branding audit entry: target %v, category %v; modified properties (-want +got):\n%s", target["id"], newest["category"], diff)
		}
		r = e.must(200, "GET", api+"/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Update%20organization'", tok, nil)
		if n := len(r.body["value"].([]any)); n != 1 {
			t.Errorf("got %d 'Update organization' entries, want 1", n)
		}
	})
}
