package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/google/go-cmp/cmp"
)

// Fuzz targets of the web package. `go test` runs their seeds (f.Add and
// testdata/fuzz/FuzzXxx); fuzzing for longer is described in
// docs/architecture.md ("Fuzz targets"). Each target calls the function
// it fuzzes once, in one place, so that a change of its signature is a
// one-line change here.

const fuzzAdminScope = "https://id.example.com/acme/graph/v1.0/.default"

// FuzzParseAuthorizeParams: parseAuthorizeParams does not panic, answers
// the same twice, and either refuses with a known OAuth error code whose
// description repeats no value over its length limit, or returns a
// request within every rule: response_type code, the lengths, scopes
// from the known ones (openid among them, each once; the admin API only
// for apps granted it), PKCE S256 with a well-formed challenge (required
// for public clients and apps that require it), known prompt values
// (none alone) and max_age within bounds.
func FuzzParseAuthorizeParams(f *testing.F) {
	for _, q := range []string{
		"response_type=code&scope=openid&state=s&nonce=n",
		"response_type=code&scope=openid+profile+email+offline_access+openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=code&scope=openid+" + url.QueryEscape(fuzzAdminScope) + "&prompt=login+consent&max_age=0",
		"response_type=code&scope=openid&prompt=none+login",
		"response_type=token&scope=openid",
		"response_type=code&scope=openid&code_challenge=abc&code_challenge_method=plain",
		"response_type=code&scope=openid&max_age=99999999999999999999999",
		"response_type=code&scope=openid&max_age=-1",
		"response_type=code&scope=openid&request=x",
		"response_type=code&scope=openid&state=" + strings.Repeat("s", 2049),
		"response_type=code&response_mode=fragment&scope=openid",
		"response_type=code&scope=https://id.example.com/acme/graph/v1.0/User.Read",
		"%zz=1&response_type=code&scope=openid",
		`response_type=code&scope=openid&claims={"id_token":{"acr":{"essential":true,"values":["9"]}}}`,
		`response_type=code&scope=openid&claims={"userinfo":{"name":{"essential":true}},"id_token":{"acr":{"values":["2","1"]}}}`,
	} {
		f.Add(q, false, false, false)
		f.Add(q, true, true, true)
	}
	codes := []string{"invalid_request", "request_not_supported", "request_uri_not_supported", "unsupported_response_type", "invalid_scope",
		"unmet_authentication_requirements"}
	f.Fuzz(func(t *testing.T, query string, public, requirePKCE, delegated bool) {
		form, _ := url.ParseQuery(query) // what a request would carry, even when part of it is malformed
		app := &gatehouse.Application{AppID: "client-1", IsFallbackPublicClient: public, RequirePKCE: requirePKCE, AdminAPIDelegated: delegated}
		parse := func() (*gatehouse.AuthRequest, *authError) {
			return parseAuthorizeParams(form, app, resourceScopes{admin: fuzzAdminScope, server: "https://id.example.com/"})
		}
		ar, aerr := parse()
		ar2, aerr2 := parse()
		if diff := cmp.Diff(ar, ar2); diff != "" || !reflect.DeepEqual(aerr, aerr2) {
			t.Fatalf("two parses of %q differ: %s %v %v", query, diff, aerr, aerr2)
		}
		if (ar == nil) == (aerr == nil) {
			t.Fatalf("parseAuthorizeParams(%q) = %v, %v; want exactly one", query, ar, aerr)
		}
		if aerr != nil {
			if !slices.Contains(codes, aerr.code) || aerr.description == "" || !utf8.ValidString(aerr.description) {
				t.Fatalf("refused %q with %+v", query, aerr)
			}
			for _, p := range authorizeParamLimits {
				if v := form.Get(p.name); len(v) > p.max && strings.Contains(aerr.description, v) {
					t.Fatalf("the error of %q repeats %s, over its limit", query, p.name)
				}
			}
			return
		}
		for _, p := range authorizeParamLimits {
			if len(form.Get(p.name)) > p.max {
				t.Fatalf("accepted %q with %s over %d bytes", query, p.name, p.max)
			}
		}
		scopes := strings.Fields(ar.Scope)
		switch {
		case form.Get("response_type") != "code" || ar.ResponseMode != "query" || form.Has("request") || form.Has("request_uri"):
			t.Fatalf("accepted %q: response_type %q, response_mode %q", query, form.Get("response_type"), ar.ResponseMode)
		case ar.State != form.Get("state") || ar.Nonce != form.Get("nonce") || ar.ClientID != app.AppID:
			t.Fatalf("accepted %q as %+v", query, ar)
		case !slices.Contains(scopes, "openid") || len(slices.Compact(slices.Sorted(slices.Values(scopes)))) != len(scopes):
			t.Fatalf("accepted %q with scope %q", query, ar.Scope)
		case ar.CodeChallenge == "" && (public || requirePKCE || ar.CodeChallengeMethod != ""):
			t.Fatalf("accepted %q without PKCE (public %v, requirePkce %v)", query, public, requirePKCE)
		case ar.CodeChallenge != "" && (ar.CodeChallengeMethod != "S256" || !validChallenge(ar.CodeChallenge)):
			t.Fatalf("accepted %q with challenge %q method %q", query, ar.CodeChallenge, ar.CodeChallengeMethod)
		case ar.MaxAge < -1 || ar.MaxAge > maxMaxAge:
			t.Fatalf("accepted %q with max_age %d", query, ar.MaxAge)
		}
		for _, s := range scopes {
			if !slices.Contains(grantableScopes, s) && !(s == fuzzAdminScope && delegated) {
				t.Fatalf("accepted %q with the scope %q (delegated %v)", query, s, delegated)
			}
		}
		if form.Has("claims") && oidc.LoadClaimsRequest(ar.Claims) == nil {
			t.Fatalf("accepted %q with a claims request that does not load back: %q", query, ar.Claims)
		}
		prompts := strings.Fields(ar.Prompt)
		for _, p := range prompts {
			if !slices.Contains([]string{"none", "login", "consent", "select_account"}, p) || p == "none" && len(prompts) > 1 {
				t.Fatalf("accepted %q with prompt %q", query, ar.Prompt)
			}
		}
	})
}

// FuzzMatchRedirectURI: matchRedirectURI does not panic, and a redirect
// URI it accepts for an app always validates (AS-12) and is the registered
// one, or for an http loopback one the same but for the port (AS-1, RFC
// 8252): same scheme, host, path (as sent, escapes included) and query,
// with no fragment or user info.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, c := range [][2]string{
		{"https://app.example.com/cb", "https://app.example.com/cb"},
		{"https://app.example.com/cb", "https://app.example.com/cb/"},
		{"http://127.0.0.1:8400/cb", "http://127.0.0.1:51234/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:99999/cb"},
		{"http://localhost/cb", "http://localhost:/cb"},
		{"http://localhost/cb", "http://localhost:1/cb#"},
		{"http://[::1]:8400/cb?x=1", "http://[::1]:1/cb?x=1"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:1/c%62"},
		{"http://127.0.0.1/a/b", "http://127.0.0.1:1/a%2Fb"},
		{"http://localhost/cb", "http://user@localhost:1/cb"},
		{"http://localhost/cb", "http://LOCALHOST:1/cb"},
		{"https://app.example.com/cb", "https://app.example.com:443/cb"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, registered, uri string) {
		if gatehouse.ValidateRedirectURI("web.redirectUris", registered) != nil {
			return // apps only hold valid redirect URIs
		}
		app := &gatehouse.Application{WebRedirectURIs: []string{registered}}
		if !matchRedirectURI(app, uri) {
			return
		}
		if err := gatehouse.ValidateRedirectURI("redirect_uri", uri); err != nil {
			t.Fatalf("matchRedirectURI accepted %q for %q, which does not validate: %v", uri, registered, err)
		}
		if uri == registered {
			return
		}
		u, err1 := url.Parse(uri)
		ru, err2 := url.Parse(registered)
		if err1 != nil || err2 != nil || u.Scheme != "http" || ru.Scheme != "http" || !gatehouse.IsLoopbackHost(u.Hostname()) ||
			u.Hostname() != ru.Hostname() || u.EscapedPath() != ru.EscapedPath() || u.RawQuery != ru.RawQuery || u.ForceQuery != ru.ForceQuery ||
			u.User != nil || strings.Contains(uri, "#") {
			t.Fatalf("matchRedirectURI accepted %q for %q", uri, registered)
		}
	})
}

// fuzzBodyTypes are the admin API's input types, by name, for
// FuzzDecodeBody.
var fuzzBodyTypes = []func() any{
	func() any { return new(userInput) },
	func() any { return new(applicationInput) },
	func() any { return new(groupInput) },
	func() any { return new(userFlowInput) },
	func() any { return new(brandingInput) },
	func() any { return new(addPasswordInput) },
	func() any { return new(roleAssignmentInput) },
	func() any { return new(decodeTestInput) },
}

// FuzzDecodeBody: the admin API's body decoder does not panic, decodes
// the same body the same way twice, refuses only with EINVALID, and a
// rejected body never yields a partial object (the destination is left
// as it was); an accepted one holds only text that is UTF-8 without NUL.
func FuzzDecodeBody(f *testing.F) {
	for _, b := range []string{
		`{"mail":"a@example.com","displayName":"A","passwordProfile":{"password":"x"}}`,
		`{"displayName":"App","web":{"redirectUris":["https://a.example/cb",null]},"gatehouse":{"postLogoutRedirectUris":null}}`,
		`{"displayName":null}`, `{"description":null,"isAssignableToRole":true}`, `{"@odata.type":"#microsoft.graph.group","x@odata.y":1}`,
		`{"displayName":"\ud800"}`, `{"displayName":"a\u0000b"}`, "{\"displayName\":\"\xff\"}", `{"\u0000":1}`,
		`[]`, `null`, `"x"`, `{"a":1}{"b":2}`, `{"count":1e400}`, `{"count":9999999999}`, `{"nested":{"uris":[1]}}`,
		`{"kept":null,"items":[{"id":"x"}],"raw":{"any":[null]}}`, `{"onAttributeCollection":null,"conditions":null,"priority":500}`,
	} {
		for i := range fuzzBodyTypes {
			f.Add([]byte(b), uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, kind uint8) {
		mk := fuzzBodyTypes[int(kind)%len(fuzzBodyTypes)]
		dst, dst2, zero := mk(), mk(), mk()
		d, err := decodeBytes(body, dst)
		d2, err2 := decodeBytes(body, dst2)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || !reflect.DeepEqual(dst, dst2) || !reflect.DeepEqual(d, d2) {
			t.Fatalf("two decodes of %q into %T differ: %v / %v", body, dst, err, err2)
		}
		if err != nil {
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Message == "" {
				t.Fatalf("decoding %q into %T: %#v; want EINVALID", body, dst, err)
			}
			if !reflect.DeepEqual(dst, zero) {
				t.Fatalf("decoding %q into %T failed (%v) but filled in %+v", body, dst, err, dst)
			}
			return
		}
		walkStrings(reflect.ValueOf(dst), func(s string) {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("decoding %q into %T accepted the text %q", body, dst, s)
			}
		})
	})
}

// walkStrings calls fn with every string held in v.
func walkStrings(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walkStrings(v.Field(i), fn)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage: checked as JSON text
			var x any
			if v.Len() > 0 && json.Unmarshal(v.Bytes(), &x) == nil {
				walkStrings(reflect.ValueOf(&x), fn)
			}
			return
		}
		for i := range v.Len() {
			walkStrings(v.Index(i), fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(k, fn)
			walkStrings(v.MapIndex(k), fn)
		}
	case reflect.String:
		fn(v.String())
	}
}

// FuzzListQuery: the admin API's query options — checkQueryOptions on a
// collection, then listQuery and $select — do not panic, answer the same
// twice, refuse only with a 400 naming the option, and accept only $top
// from 1 to 999, one filter on a filterable property, a $skiptoken that
// Gatehouse issued for this collection (as it issued it) and $select of
// the resource's own properties.
func FuzzListQuery(f *testing.F) {
	key := make([]byte, vault.KeySize)
	if _, err := rand.Read(key); err != nil {
		f.Fatal(err)
	}
	v, err := vault.New(key)
	if err != nil {
		f.Fatal(err)
	}
	s := &server{Options: Options{Vault: v, PublicURL: "https://id.example.com", Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }}}
	tenant := &gatehouse.Tenant{ID: "7f8c9d2e-0000-4000-8000-00000000000a", Name: "acme"}
	request := func(rawQuery string) *http.Request {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/acme/graph/v1.0/users", RawQuery: rawQuery}, Header: http.Header{}}
		return r.WithContext(context.WithValue(context.Background(), ctxTenant, tenant))
	}
	for _, q := range []string{"", "$top=5", "$top=0", "$top=1000", "$top=+5", "$top=05", "$filter=mail%20eq%20'a@b.c'",
		"$filter=displayName eq 'it''s'", "$filter=targetResources/any(t: t/id eq 'x')", "$filter=city eq 'x'", "$select=mail,displayName,MAIL",
		"$select=*", "$select=web/redirectUris", "$select=,", "$expand=memberOf", "$top=1&$top=2", "$skiptoken=abc.def", "top=5&$count=true",
		"$skiptoken=" + s.skipToken(request(""), "user-41"), "$skiptoken=" + s.skipToken(request(""), "user-41") + "&$top=2&$select=id"} {
		f.Add(q)
	}
	filterable := []string{"mail", "displayName"}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		type result struct {
			status int
			body   string
			opt    gatehouse.ListOptions
			sel    *selected
			err    string
		}
		run := func() result {
			var res result
			r := request(rawQuery)
			rec := httptest.NewRecorder()
			s.checkQueryOptions(collectionOptions, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				opt, err := s.listQuery(r, filterable...)
				if err == nil {
					res.sel, err = selection(r, reflect.TypeFor[graphUser]())
				}
				res.opt = opt
				if err != nil {
					res.err = err.Error()
					s.writeAPIError(w, r, err)
				}
			})).ServeHTTP(rec, r)
			res.status, res.body = rec.Code, rec.Body.String()
			return res
		}
		res := run()
		if again := run(); !reflect.DeepEqual(res, again) {
			t.Fatalf("two runs of %q differ:\n%+v\n%+v", rawQuery, res, again)
		}
		if res.status != http.StatusOK {
			var body struct {
				Error struct{ Code, Message, Target string }
			}
			if res.status != http.StatusBadRequest || json.Unmarshal([]byte(res.body), &body) != nil || !strings.HasPrefix(body.Error.Target, "$") || body.Error.Message == "" {
				t.Fatalf("refused %q with %d %s; want a 400 naming the option", rawQuery, res.status, res.body)
			}
			return
		}
		q, _ := url.ParseQuery(rawQuery)
		for k, vs := range q {
			if strings.HasPrefix(k, "$") && (!slices.Contains(collectionOptions, k) || len(vs) != 1) {
				t.Fatalf("accepted %q with the option %s given %d times", rawQuery, k, len(vs))
			}
		}
		opt := res.opt
		switch {
		case opt.Top < 0 || opt.Top > gatehouse.MaxPageSize || q.Has("$top") && opt.Top == 0:
			t.Fatalf("accepted %q with $top %d", rawQuery, opt.Top)
		case len(opt.Filter) > 1:
			t.Fatalf("accepted %q with filters %v", rawQuery, opt.Filter)
		case opt.After != "" && q.Get("$skiptoken") != s.skipToken(request(rawQuery), opt.After):
			t.Fatalf("accepted the $skiptoken %q, which is not the one Gatehouse issues for %q", q.Get("$skiptoken"), opt.After)
		}
		for k := range opt.Filter {
			if !slices.Contains(filterable, k) {
				t.Fatalf("accepted %q with a filter on %q", rawQuery, k)
			}
		}
		if res.sel != nil {
			for _, n := range res.sel.names {
				if !slices.Contains(properties(reflect.TypeFor[graphUser]()), n) {
					t.Fatalf("accepted %q selecting %q", rawQuery, n)
				}
			}
		}
	})
}

// FuzzCAPolicyBody: decoding a conditionalAccessPolicy body and applying
// it, on create and as a PATCH of a stored policy, does not panic and
// answers the same twice; a refusal is an EINVALID error with a message
// in valid UTF-8 (naming the property, decode and apply's tests check
// which); an accepted policy is valid, and what GET
// would return of it imports again to the same policy (an export from
// Gatehouse, as one from Entra, imports unchanged).
func FuzzCAPolicyBody(f *testing.F) {
	for _, b := range []string{graphExample1, graphExample2, graphExample3, graphExample4, graphExample4Response,
		entraSeedPolicy, entraPhishingResistant, entraEveryTime, entraBlockLegacy,
		`{"state":"disabled"}`, `{"conditions":{"signInRiskLevels":["high","medium"]}}`, `{"grantControls":null,"sessionControls":{"persistentBrowser":{"mode":"never","isEnabled":true}}}`,
		`{"conditions":{"locations":null,"platforms":{"includePlatforms":["ALL"],"excludePlatforms":["ios"]}}}`,
		`{"displayName":"x","state":"enabled","conditions":{"users":{"includeUsers":["None"]},"applications":{"includeApplications":["none"]}},"grantControls":{"operator":"and","builtInControls":["mfa","passwordChange"]}}`,
		`{"sessionControls":{"signInFrequency":{"value":null,"type":"days","frequencyInterval":"everyTime","isEnabled":true}}}`,
		`{"id":"other","displayName":null}`, `[]`, `{"conditions":{"times":{"all":true}}}`,
	} {
		f.Add([]byte(b))
	}
	stored := &gatehouse.Policy{ID: "b3f1298e-8e93-49af-bdbf-94cf7d453ca3", TenantID: "t", DisplayName: "Stored", State: gatehouse.PolicyEnabled,
		Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
			Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}}, ClientAppTypes: []string{gatehouse.ClientAll}},
		Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
	apply := func(body []byte, base *gatehouse.Policy, create bool) (*gatehouse.Policy, error) {
		var in caPolicyInput
		d, err := decodeBytes(body, &in)
		if err != nil {
			return nil, err
		}
		p := base.Clone()
		if err := in.apply(p, d, create); err != nil {
			return nil, err
		}
		return p, nil
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, create := range []bool{true, false} {
			base := stored
			if create {
				base = newCAPolicy("t")
			}
			p, err := apply(body, base, create)
			p2, err2 := apply(body, base, create)
			if diff := cmp.Diff(p, p2); diff != "" || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
				t.Fatalf("two applications of %q differ: %s %v %v", body, diff, err, err2)
			}
			if err != nil {
				var e *gatehouse.Error
				if !errors.As(err, &e) || (e.Code != gatehouse.EINVALID && e.Code != gatehouse.ETOOLARGE) || !utf8.ValidString(e.Message) || e.Message == "" {
					t.Fatalf("refusal of %q: %#v", body, err)
				}
				continue
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted %q into an invalid policy: %v", body, err)
			}
			export, err := json.Marshal(toGraphCAPolicy(p))
			if err != nil {
				t.Fatal(err)
			}
			again, err := apply(export, newCAPolicy("t"), true)
			if err != nil {
				t.Fatalf("the export %s of %q does not import: %v", export, body, err)
			}
			again.ID, again.CreatedAt, again.ModifiedAt = p.ID, p.CreatedAt, p.ModifiedAt
			if diff := cmp.Diff(p, again); diff != "" {
				t.Fatalf("the export of %q imports to another policy (-accepted +imported):\n%s", body, diff)
			}
		}
	})
}
