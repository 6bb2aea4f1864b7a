package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
)

// directory is a tenant with one of everything the admin API lists.
type directory struct {
	e                                 *testEnv
	api, tok, tenantID                string
	user, group, app, appID, ra, flow string
}

func newDirectory(t *testing.T, eng storetest.Engine) *directory {
	e := newEnv(t, eng.Open(t), newKey(t))
	acme := e.createTenant("acme")
	d := &directory{e: e, api: acme.AdminAPI, tenantID: acme.TenantID,
		tok: e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)}
	d.user = e.must(201, "POST", d.api+"/users", d.tok, map[string]any{"mail": "ada@example.com", "displayName": "Ada"}).str("id")
	d.group = e.must(201, "POST", d.api+"/groups", d.tok, map[string]any{"displayName": "Staff"}).str("id")
	e.must(204, "POST", d.api+"/groups/"+d.group+"/members/$ref", d.tok, map[string]any{"@odata.id": d.api + "/directoryObjects/" + d.user})
	d.app, d.appID = e.newApp(d.api, d.tok, "Shop")
	e.must(201, "POST", d.api+"/applications/"+d.app+"/appRoleAssignments", d.tok, map[string]any{"appRoleId": gatehouse.PermUserReadAll.ID})
	d.ra = e.must(201, "POST", d.api+"/roleManagement/directory/roleAssignments", d.tok, map[string]any{"roleDefinitionId": gatehouse.RoleUserAdministrator, "principalId": d.user}).str("id")
	d.flow = e.must(201, "POST", d.api+"/identity/authenticationEventsFlows", d.tok, storefrontFlow(d.appID)).str("id")
	return d
}

// getRoutes lists every GET of the admin API: whether it is a collection,
// and a property its objects have.
func (d *directory) getRoutes() []struct {
	path, property string
	collection     bool
} {
	flows := "/identity/authenticationEventsFlows"
	return []struct {
		path, property string
		collection     bool
	}{
		{"/users", "mail", true},
		{"/users/" + d.user, "mail", false},
		{"/users/" + d.user + "/memberOf", "displayName", true},
		{"/groups", "displayName", true},
		{"/groups/" + d.group, "displayName", false},
		{"/groups/" + d.group + "/members", "mail", true},
		{"/applications", "appId", true},
		{"/applications/" + d.app, "appId", false},
		{"/applications/" + d.app + "/appRoleAssignments", "appRoleValue", true},
		{"/roleManagement/directory/roleDefinitions", "displayName", true},
		{"/roleManagement/directory/roleAssignments", "principalId", true},
		{"/roleManagement/directory/roleAssignments/" + d.ra, "principalId", false},
		{"/auditLogs/directoryAudits", "activityDisplayName", true},
		{flows, "displayName", true},
		{flows + "/" + d.flow, "displayName", false},
		{flows + "/" + d.flow + "/conditions/applications/includeApplications", "appId", true},
		{"/organization", "displayName", true},
		{"/organization/" + d.tenantID, "displayName", false},
		{"/organization/" + d.tenantID + "/branding", "gatehouse", false},
	}
}

// keys returns the properties of an object, annotations aside.
func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		if !strings.Contains(k, "@odata.") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestSelect checks $select on every GET of the admin API: only the named
// properties come back (not even id unless named), in objects and in
// collections, with an @odata.context that says so; an unknown property
// is a 400 naming it.
func TestSelect(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		d := newDirectory(t, eng)
		e := d.e
		for _, rt := range d.getRoutes() {
			all := e.must(200, "GET", d.api+rt.path, d.tok, nil)
			sel := e.must(200, "GET", d.api+rt.path+"?$select="+strings.ToUpper(rt.property[:1])+rt.property[1:], d.tok, nil)
			objects := []any{sel.body}
			wantContext := "(" + rt.property + ")/$entity"
			if rt.collection {
				objects = sel.body["value"].([]any)
				wantContext = "(" + rt.property + ")"
				if n := len(all.body["value"].([]any)); len(objects) != n || n == 0 {
					t.Errorf("GET %s: %d objects with $select, %d without; want the same, and some", rt.path, len(objects), n)
				}
			}
			if ctx := sel.str("@odata.context"); !strings.HasSuffix(ctx, wantContext) || !strings.Contains(ctx, "/$metadata#") {
				t.Errorf("GET %s?$select=%s: @odata.context %q, want one ending in %q", rt.path, rt.property, ctx, wantContext)
			}
			for _, o := range objects {
				if diff := cmp.Diff([]string{rt.property}, keys(o.(map[string]any))); diff != "" {
					t.Errorf("GET %s?$select=%s: properties (-want +got):\n%s", rt.path, rt.property, diff)
				}
			}
			if got := e.must(200, "GET", d.api+rt.path+"?$select=*", d.tok, nil); got.raw != all.raw {
				t.Errorf("GET %s?$select=*: %s, want all properties %s", rt.path, got.raw, all.raw)
			}
			for _, bad := range []string{"favouriteColour", rt.property + ",,id", "web/redirectUris"} {
				r := e.call("GET", d.api+rt.path+"?$select="+url.QueryEscape(bad), d.tok, nil)
				if r.status != 400 || r.errTarget() != "$select" {
					t.Errorf("GET %s?$select=%s: status %d, target %q; want 400 naming $select", rt.path, bad, r.status, r.errTarget())
				}
			}
			if r := e.call("GET", d.api+rt.path+"?$select=favouriteColour", d.tok, nil); !strings.Contains(r.errMessage(), "favouriteColour") || !strings.Contains(r.errMessage(), rt.property) {
				t.Errorf("GET %s?$select=favouriteColour: message %q does not name the property and those there are", rt.path, r.errMessage())
			}
		}

		// Two properties, id among them, in the order of the object.
		r := e.must(200, "GET", d.api+"/users/"+d.user+"?$select=mail,id", d.tok, nil)
		if !strings.HasPrefix(r.raw, `{"@odata.context":`) || !strings.Contains(r.raw, `"id":"`+d.user+`","mail":"ada@example.com"}`) || len(r.body) != 3 {
			t.Errorf("GET user with $select=mail,id = %s", r.raw)
		}
	})
}

// TestQueryOptions checks that every GET refuses, by name, the query
// options Gatehouse does not implement, and that other methods take none.
func TestQueryOptions(t *testing.T) {
	d := newDirectory(t, storetest.Engines(t)[0])
	e := d.e
	for _, rt := range d.getRoutes() {
		unsupported := []string{"$expand=memberOf", "$orderby=displayName", "$count=true", "$search=%22displayName:a%22", "$skip=1", "$format=json", "$levels=2"}
		if !rt.collection {
			unsupported = append(unsupported, "$top=1", "$filter=displayName%20eq%20'a'", "$skiptoken=x")
		}
		for _, q := range unsupported {
			name, _, _ := strings.Cut(q, "=")
			r := e.call("GET", d.api+rt.path+"?"+q, d.tok, nil)
			if r.status != 400 || r.errTarget() != name || !strings.Contains(r.errMessage(), name) {
				t.Errorf("GET %s?%s: status %d, target %q, message %q; want 400 naming %s", rt.path, q, r.status, r.errTarget(), r.errMessage(), name)
			}
		}
		// Parameters without "$" are not OData options: ignored, as by Graph.
		e.must(200, "GET", d.api+rt.path+"?api-version=1.6", d.tok, nil)
		if r := e.call("GET", d.api+rt.path+"?$select=id&$select=id", d.tok, nil); r.status != 400 || !strings.Contains(r.errMessage(), "once") {
			t.Errorf("GET %s with $select twice: status %d, message %q", rt.path, r.status, r.errMessage())
		}
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/users?$select=id"},
		{"PATCH", "/users/" + d.user + "?$expand=memberOf"},
		{"DELETE", "/groups/" + d.group + "?$top=1"},
	} {
		r := e.call(c.method, d.api+c.path, d.tok, map[string]any{"mail": "x@example.com"})
		if r.status != 400 || !strings.Contains(r.errMessage(), "takes no query options") {
			t.Errorf("%s %s: status %d, message %q; want 400 refusing the option", c.method, c.path, r.status, r.errMessage())
		}
	}
	if n := e.countAll(d.api+"/users", d.tok); n != 2 {
		t.Errorf("refused requests left %d users, want 2", n)
	}
}

// pages follows a collection's @odata.nextLink from url and returns the
// IDs (or, for objects without one, the given property) of each page.
func (e *testEnv) pages(url, tok, idProperty string) [][]string {
	e.t.Helper()
	var out [][]string
	for url != "" {
		r := e.must(200, "GET", url, tok, nil)
		var ids []string
		for _, v := range r.body["value"].([]any) {
			ids = append(ids, v.(map[string]any)[idProperty].(string))
		}
		out = append(out, ids)
		url = r.str("@odata.nextLink")
		if len(out) > 20 {
			e.t.Fatalf("more than 20 pages from %s", url)
		}
	}
	return out
}

// TestPaging checks that every collection honours $top with
// @odata.nextLink paging, those held in memory too, and that a $skiptoken
// not made for the collection is a 400.
func TestPaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		d := newDirectory(t, eng)
		e, api, tok := d.e, d.api, d.tok
		for _, name := range []string{"Second", "Third"} {
			g := e.must(201, "POST", api+"/groups", tok, map[string]any{"displayName": name}).str("id")
			e.must(204, "POST", api+"/groups/"+g+"/members/$ref", tok, map[string]any{"@odata.id": api + "/users/" + d.user})
		}
		e.must(201, "POST", api+"/applications/"+d.app+"/appRoleAssignments", tok, map[string]any{"appRoleId": gatehouse.PermGroupReadAll.ID})
		e.must(201, "POST", api+"/applications/"+d.app+"/appRoleAssignments", tok, map[string]any{"appRoleId": gatehouse.PermAuditLogReadAll.ID})
		_, kiosk := e.newApp(api, tok, "Kiosk")
		flowApps := api + "/identity/authenticationEventsFlows/" + d.flow + "/conditions/applications/includeApplications"
		e.must(201, "POST", flowApps, tok, map[string]any{"appId": kiosk})

		sizes := func(pages [][]string) []int {
			var n []int
			for _, p := range pages {
				n = append(n, len(p))
			}
			return n
		}
		for _, c := range []struct {
			url, id string
			want    []int
		}{
			{api + "/users/" + d.user + "/memberOf?$top=2", "id", []int{2, 1}},
			{api + "/roleManagement/directory/roleDefinitions?$top=8", "id", []int{8, len(gatehouse.Roles) - 8}},
			{api + "/applications/" + d.app + "/appRoleAssignments?$top=1", "id", []int{1, 1, 1}},
			{flowApps + "?$top=1", "appId", []int{1, 1}},
			{api + "/organization?$top=1", "id", []int{1}},
			{api + "/groups?$top=2&$select=id", "id", []int{2, 1}},
		} {
			pages := d.e.pages(c.url, tok, c.id)
			if diff := cmp.Diff(c.want, sizes(pages)); diff != "" {
				t.Errorf("page sizes of %s (-want +got):\n%s", c.url, diff)
			}
			seen := map[string]bool{}
			for _, p := range pages {
				for _, id := range p {
					if seen[id] {
						t.Errorf("%s: %s on two pages", c.url, id)
					}
					seen[id] = true
				}
			}
		}

		// $top is checked everywhere.
		for _, path := range []string{"/users/" + d.user + "/memberOf", "/roleManagement/directory/roleDefinitions", "/applications/" + d.app + "/appRoleAssignments", "/users", "/organization"} {
			for _, top := range []string{"abc", "0", "-1", "1000", "1.5"} {
				if r := e.call("GET", api+path+"?$top="+top, tok, nil); r.status != 400 || r.errTarget() != "$top" || !strings.Contains(r.errMessage(), top) {
					t.Errorf("GET %s?$top=%s: status %d, target %q, message %q; want 400 naming $top", path, top, r.status, r.errTarget(), r.errMessage())
				}
			}
		}

		// A $skiptoken works only where it was issued, as it was issued.
		first := e.must(200, "GET", api+"/groups?$top=1", tok, nil)
		next, err := url.Parse(first.str("@odata.nextLink"))
		if err != nil || next.Query().Get("$skiptoken") == "" {
			t.Fatalf("nextLink %q: %v", first.str("@odata.nextLink"), err)
		}
		token := next.Query().Get("$skiptoken")
		// A token with its first character changed (to one it surely is not).
		mangled := "Z" + token[1:]
		if token[0] == 'Z' {
			mangled = "Y" + token[1:]
		}
		e.must(200, "GET", api+"/groups?$top=1&$skiptoken="+url.QueryEscape(token), tok, nil)
		for _, bad := range []struct{ path, token string }{
			{"/groups", "abc"},
			{"/groups", ""},
			{"/groups", d.group}, // a bare ID, as tokens were once
			{"/groups", token[:len(token)-2]},
			{"/groups", mangled},
			{"/users", token},                          // another collection's
			{"/groups/" + d.group + "/members", token}, // another path's
		} {
			r := e.call("GET", api+bad.path+"?$skiptoken="+url.QueryEscape(bad.token), tok, nil)
			if r.status != 400 || r.errTarget() != "$skiptoken" || !strings.Contains(r.errMessage(), "$skiptoken") {
				t.Errorf("GET %s?$skiptoken=%q: status %d, target %q, message %q; want 400 naming $skiptoken", bad.path, bad.token, r.status, r.errTarget(), r.errMessage())
			}
		}
		// A page cursor whose item has gone since is a 400, not an empty page.
		grants := e.must(200, "GET", api+"/applications/"+d.app+"/appRoleAssignments?$top=1", tok, nil)
		gone := grants.body["value"].([]any)[0].(map[string]any)["id"].(string)
		e.must(204, "DELETE", api+"/applications/"+d.app+"/appRoleAssignments/"+gone, tok, nil)
		if r := e.call("GET", grants.str("@odata.nextLink"), tok, nil); r.status != 400 || !strings.Contains(r.errMessage(), "changed") {
			t.Errorf("next page after its cursor's item was removed: status %d, message %q", r.status, r.errMessage())
		}
	})
}

// TestMethodNotAllowed checks that a known path with a method it does not
// have is a 405 with Allow and a Graph error, and an unknown path a 404.
func TestMethodNotAllowed(t *testing.T) {
	d := newDirectory(t, storetest.Engines(t)[0])
	e := d.e
	for _, c := range []struct {
		method, path, allow string
	}{
		{"PUT", "/users", "GET, HEAD, POST"},
		{"DELETE", "/users", "GET, HEAD, POST"},
		{"PUT", "/users/" + d.user, "DELETE, GET, HEAD, PATCH"},
		{"GET", "/applications/" + d.app + "/addPassword", "POST"},
		{"PATCH", "/groups/" + d.group + "/members", "GET, HEAD"},
		{"GET", "/groups/" + d.group + "/members/$ref", "POST"},
		{"POST", "/auditLogs/directoryAudits", "GET, HEAD"},
		{"OPTIONS", "/organization", "GET, HEAD"},
	} {
		r := e.call(c.method, d.api+c.path, d.tok, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: status %d, Allow %q; want 405, Allow %q", c.method, c.path, r.status, r.header.Get("Allow"), c.allow)
		}
		if msg := r.errMessage(); !strings.Contains(msg, c.method) || !strings.Contains(msg, c.path) || r.body["error"].(map[string]any)["code"] == nil {
			t.Errorf("%s %s: error %s; want a Graph error naming the method and path", c.method, c.path, r.raw)
		}
	}
	for _, path := range []string{"/nonsense", "/users/" + d.user + "/nonsense", "/groups/" + d.group + "/owners"} {
		if r := e.call("PUT", d.api+path, d.tok, nil); r.status != 404 {
			t.Errorf("PUT %s: status %d, want 404", path, r.status)
		}
	}
	if n := e.countAll(d.api+"/users", d.tok); n != 2 {
		t.Errorf("refused methods left %d users, want 2", n)
	}
}

// TestFilterMessages checks that a refused $filter says what would work.
func TestFilterMessages(t *testing.T) {
	d := newDirectory(t, storetest.Engines(t)[0])
	e := d.e
	audits := d.api + "/auditLogs/directoryAudits?$filter="
	for _, c := range []struct {
		url       string
		want, not []string
	}{
		{d.api + "/groups/" + d.group + "/members?$filter=" + url.QueryEscape("mail eq 'ada@example.com'"), []string{"cannot be filtered"}, []string{" on ."}},
		{d.api + "/roleManagement/directory/roleDefinitions?$filter=" + url.QueryEscape("displayName eq 'x'"), []string{"cannot be filtered"}, nil},
		{audits + url.QueryEscape("targetId eq '"+d.user+"'"), []string{"targetResources/any(t: t/id eq '…')", "category eq '…'", "activityDisplayName eq '…'"}, nil},
		{audits + url.QueryEscape("result eq 'success'"), []string{`"result"`, "targetResources/any(t: t/id eq '…')"}, []string{"targetId"}},
		{audits + url.QueryEscape("category eq Policy"), []string{"Invalid $filter", "category eq '…'"}, []string{"targetId"}},
		{d.api + "/users?$filter=" + url.QueryEscape("targetResources/any(t:t/id eq 'x')"), []string{`"targetResources"`, "mail eq '…'"}, []string{"targetId"}},
	} {
		r := e.call("GET", c.url, d.tok, nil)
		if r.status != 400 || r.errTarget() != "$filter" {
			t.Errorf("GET %s: status %d, target %q; want 400 naming $filter", c.url, r.status, r.errTarget())
		}
		for _, w := range c.want {
			if !strings.Contains(r.errMessage(), w) {
				t.Errorf("GET %s: message %q does not say %q", c.url, r.errMessage(), w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(r.errMessage(), n) {
				t.Errorf("GET %s: message %q says %q", c.url, r.errMessage(), n)
			}
		}
	}
	// The syntax the messages suggest works.
	r := e.must(200, "GET", audits+url.QueryEscape("targetResources/any(t: t/id eq '"+d.user+"')"), d.tok, nil)
	if len(r.body["value"].([]any)) == 0 {
		t.Errorf("no audit entries about the user: %s", r.raw)
	}
}
