package portal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2/clientcredentials"
)

// maxPageBytes is the most any portal page may weigh.
const maxPageBytes = 100 << 10

var testHasher = password.NewHasher(password.DefaultParams, 0, 64)

// env is a running Gatehouse with one tenant, "acme".
type env struct {
	t      *testing.T
	store  *sqlstore.Store
	vault  *vault.Vault
	url    string
	tenant *provision.Result
	token  string // the automation client's admin API token
	calls  *apiCounter
	mail   *notify.Mailbox // where the server's mail goes
}

// apiCounter counts the admin API requests the server logs.
type apiCounter struct{ n atomic.Int64 }

func (c *apiCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *apiCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *apiCounter) WithGroup(string) slog.Handler            { return c }
func (c *apiCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "request" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "path" && strings.Contains(a.Value.String(), "/graph/v1.0/") {
				c.n.Add(1)
			}
			return true
		})
	}
	return nil
}

func newEnv(t *testing.T, eng storetest.Engine) *env {
	t.Helper()
	store := eng.Open(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := oidc.NewKeys(store, v, time.Now)
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	e := &env{t: t, store: store, vault: v, url: "http://" + srv.Listener.Addr().String(), calls: &apiCounter{},
		mail: notify.NewMailbox(100, time.Now)}
	h, err = web.NewServer(web.Options{Store: store, Keys: keys, Vault: v, Passwords: testHasher, PublicURL: e.url, Version: "test",
		Logger: slog.New(e.calls), Mailbox: e.mail})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	e.tenant, err = provision.CreateTenant(context.Background(), provision.Deps{Store: store, Keys: keys, Vault: v, Passwords: testHasher, PublicURL: e.url}, "acme", "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: e.tenant.AutomationClient.ClientID, ClientSecret: e.tenant.AutomationClient.ClientSecret,
		TokenURL: e.url + "/acme/oauth2/v2.0/token", Scopes: []string{e.tenant.AutomationClient.Scope}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.token = tok.AccessToken
	return e
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newEnv(t, eng)) })
	}
}

// api calls the admin API as the automation client and decodes the answer.
func (e *env) api(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	return e.apiAs(e.token, method, path, body, want)
}

func (e *env) apiAs(token, method, path string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.tenant.AdminAPI+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// newAdmin creates a user with a password and, unless role is "", the
// directory role.
func (e *env) newAdmin(mail, role string) (id, pw string) {
	e.t.Helper()
	pw = "correct horse battery staple"
	id = e.api("POST", "/users", map[string]any{"displayName": "Admin " + mail, "mail": mail, "passwordProfile": map[string]any{"password": pw}}, 201)["id"].(string)
	if role != "" {
		e.api("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": role, "principalId": id, "directoryScopeId": "/"}, 201)
	}
	return id, pw
}

// browser is a cookie-keeping HTTP client that checks every portal page it
// fetches against the size budget.
type browser struct {
	e      *env
	client *http.Client
	jar    *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, client: &http.Client{Jar: jar}}
}

// page is a fetched page.
type page struct {
	url    *url.URL
	status int
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := page{url: resp.Request.URL, status: resp.StatusCode, body: string(raw)}
	if strings.Contains(p.url.Path, "/portal/") {
		if len(raw) > maxPageBytes {
			b.e.t.Errorf("%s weighs %d bytes, over %d", p.url, len(raw), maxPageBytes)
		}
		checkLabels(b.e.t, p)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			b.e.t.Errorf("%s: Content-Security-Policy %q", p.url, csp)
		}
	}
	return p
}

func (b *browser) get(path string) page {
	req, _ := http.NewRequest("GET", b.e.url+path, nil)
	return b.do(req)
}

var (
	formRE     = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE    = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	textareaRE = regexp.MustCompile(`(?is)<textarea\b([^>]*)>(.*?)</textarea>`)
	selectRE   = regexp.MustCompile(`(?is)<select\b([^>]*)>(.*?)</select>`)
	optionRE   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	attrRE     = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)(?:\s*=\s*"([^"]*)")?`)
	tagRE      = regexp.MustCompile(`(?s)<[^>]*>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// formValues returns what a browser would send for the form as it is:
// hidden and text inputs, checked boxes and radios, textareas, selected
// options.
func formValues(body string) url.Values {
	vals := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(body, -1) {
		a := attrs(in[1])
		name := a["name"]
		if name == "" {
			continue
		}
		if t := a["type"]; t == "checkbox" || t == "radio" {
			if _, checked := a["checked"]; checked {
				v, ok := a["value"]
				if !ok || v == "" {
					v = "on"
				}
				vals.Add(name, v)
			}
			continue
		}
		vals.Add(name, a["value"])
	}
	for _, ta := range textareaRE.FindAllStringSubmatch(body, -1) {
		vals.Set(attrs(ta[1])["name"], html.UnescapeString(ta[2]))
	}
	for _, sel := range selectRE.FindAllStringSubmatch(body, -1) {
		name := attrs(sel[1])["name"]
		for i, o := range optionRE.FindAllStringSubmatch(sel[2], -1) {
			oa := attrs(o[1])
			if _, selected := oa["selected"]; selected || i == 0 {
				vals.Set(name, oa["value"])
			}
		}
	}
	return vals
}

// submit posts the page's form whose action ends with action, with the
// fields in set replacing the form's own (an empty list removes a field).
func (b *browser) submit(p page, action string, set url.Values) page {
	b.e.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") || !strings.HasSuffix(fa["action"], action) {
			continue
		}
		vals := formValues(f[2])
		for k, v := range set {
			if len(v) == 0 {
				vals.Del(k)
			} else {
				vals[k] = v
			}
		}
		target, _ := p.url.Parse(fa["action"])
		req, _ := http.NewRequest("POST", target.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.url)
		return b.do(req)
	}
	b.e.t.Fatalf("no POST form for %q on %s; page:\n%s", action, p.url, p.body)
	return page{}
}

// signIn opens the portal and signs in through the tenant's hosted pages.
func (b *browser) signIn(mail, pw string) page {
	b.e.t.Helper()
	login := b.get("/acme/portal/")
	if !strings.Contains(login.url.Path, "/acme/login") {
		b.e.t.Fatalf("opening the portal signed out went to %s, want the sign-in page", login.url)
	}
	p := b.submitAny(login, url.Values{"email": {mail}, "password": {pw}})
	if p.status != 200 || p.url.Path != "/acme/portal/" {
		b.e.t.Fatalf("after signing in: %d %s:\n%s", p.status, p.url, text(p.body))
	}
	return p
}

// submitAny posts the first POST form having inputs named in set.
func (b *browser) submitAny(p page, set url.Values) page {
	b.e.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		vals := formValues(f[2])
		ok := true
		for k := range set {
			if _, has := vals[k]; !has {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for k, v := range set {
			vals[k] = v
		}
		target, _ := p.url.Parse(fa["action"])
		req, _ := http.NewRequest("POST", target.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.url)
		return b.do(req)
	}
	b.e.t.Fatalf("no POST form with %v on %s:\n%s", set, p.url, p.body)
	return page{}
}

// text is the page's visible text, whitespace collapsed.
func text(body string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(body, " "))), " ")
}

// sessionToken opens the portal's sealed session cookie, as only the
// server (which holds the vault key) can, and returns its admin API token.
func (b *browser) sessionToken() string {
	b.e.t.Helper()
	u, _ := url.Parse(b.e.url)
	for _, c := range b.jar.Cookies(u) {
		if c.Name != "gh_portal_session_acme" {
			continue
		}
		sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
		if err != nil {
			b.e.t.Fatal(err)
		}
		plain, err := b.e.vault.Open(sealed, []byte("portal-session/acme"))
		if err != nil {
			b.e.t.Fatal(err)
		}
		var s struct {
			AT string `json:"at"`
		}
		if err := json.Unmarshal(plain, &s); err != nil {
			b.e.t.Fatal(err)
		}
		return s.AT
	}
	b.e.t.Fatal("no portal session cookie")
	return ""
}

func mustContain(t *testing.T, p page, want ...string) {
	t.Helper()
	tx := text(p.body)
	for _, w := range want {
		if !strings.Contains(tx, w) {
			t.Errorf("%s (%d) does not say %q; it says:\n%s", p.url, p.status, w, tx)
		}
	}
}

func mustNotContain(t *testing.T, p page, unwanted ...string) {
	t.Helper()
	tx := text(p.body)
	for _, w := range unwanted {
		if strings.Contains(tx, w) {
			t.Errorf("%s says %q, which it should not:\n%s", p.url, w, tx)
		}
	}
}

var _ = fmt.Sprintf
var _ = gatehouse.AdminPortalAppID

var regexpSecret = regexp.MustCompile(`<span data-copy="client secret">([^<]+)</span>`)

var (
	controlRE      = regexp.MustCompile(`(?is)<(input|textarea|select)\b([^>]*)>`)
	labelForRE     = regexp.MustCompile(`(?is)<label\b[^>]*\bfor="([^"]+)"`)
	wrappedInputRE = regexp.MustCompile(`(?is)<label\b[^>]*>\s*<input\b([^>]*)>`)
)

// checkLabels fails the test for a form control of the page without a
// label: one whose for names its id, or one it wraps.
func checkLabels(t *testing.T, p page) {
	t.Helper()
	labelled := map[string]bool{}
	for _, m := range labelForRE.FindAllStringSubmatch(p.body, -1) {
		labelled["id:"+m[1]] = true
	}
	for _, m := range wrappedInputRE.FindAllStringSubmatch(p.body, -1) {
		labelled["tag:"+m[1]] = true
	}
	for _, m := range controlRE.FindAllStringSubmatch(p.body, -1) {
		a := attrs(m[2])
		if a["type"] == "hidden" || a["type"] == "submit" {
			continue
		}
		if !labelled["id:"+a["id"]] && !labelled["tag:"+m[2]] {
			t.Errorf("%s: a %s without a label: %s", p.url, m[1], m[0])
		}
	}
}
