package main

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"golang.org/x/oauth2/clientcredentials"
)

// demoRun is a running gatehouse demo.
type demoRun struct {
	out, logs *syncBuffer
	gatehouse string // Gatehouse's base URL
	sample    string // the sample app's base URL
	stop      func() error
}

var (
	gatehouseLineRE = regexp.MustCompile(`(?m)^ Gatehouse\s+(http://\S+)$`)
	sampleLineRE    = regexp.MustCompile(`(?m)^   1\. Open the sample app:\s+(http://\S+)$`)
)

// startDemo runs gatehouse demo on free ports in dir until the test ends,
// and returns once it has printed its banner and both servers answer
// /healthz.
func startDemo(t *testing.T, dir string, args ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{out: &syncBuffer{}, logs: &syncBuffer{}}
	done := make(chan error, 1)
	args = append([]string{"gatehouse", "demo", "--data-dir", dir, "--addr", "127.0.0.1:0", "--sample-addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	go func() { done <- run(ctx, args, mapenv(nil), strings.NewReader(""), d.out, d.logs) }()
	var (
		once    sync.Once
		stopErr error
	)
	d.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = errors.New("demo did not return within 20 s of cancellation")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { d.stop() })

	deadline := time.Now().Add(60 * time.Second)
	for {
		out := d.out.String()
		if strings.Contains(out, "Press Ctrl-C to stop") && strings.Contains(out, "start over)\n") {
			g, s := gatehouseLineRE.FindStringSubmatch(out), sampleLineRE.FindStringSubmatch(out)
			if g == nil || s == nil {
				t.Fatalf("the demo's output lacks the Gatehouse or sample app URL:\n%s", out)
			}
			d.gatehouse, d.sample = g[1], s[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo returned early: %v\nstdout:\n%s\nlogs:\n%s", err, out, d.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no banner within 60 s; stdout:\n%s\nlogs:\n%s", out, d.logs.String())
		}
	}
	for _, u := range []string{d.gatehouse + "/healthz", d.sample + "/healthz"} {
		for {
			res, err := http.Get(u)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not answer 200 within 60 s (last: %v)", u, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return d
}

// shownOnce returns the value printed on the line starting with label
// (after the banner's indentation) and marked as shown once, or "".
func shownOnce(out, label string) string {
	m := regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(label)+`\s+(\S+)\s+<- shown only this once$`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return ""
	}
	return m[0][1]
}

// field returns the value printed on the first line starting with label.
func field(out, label string) string {
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, dir)
	out := d.out.String()
	issuer := d.gatehouse + "/demo/v2.0"

	// Every URL and credential a newcomer needs.
	for _, want := range []string{
		"Gatehouse                   " + d.gatehouse,
		"Issuer                    " + issuer,
		"Discovery                 " + issuer + "/.well-known/openid-configuration",
		"Admin API                 " + d.gatehouse + "/demo/graph/v1.0",
		"Admin portal              " + d.gatehouse + "/demo/portal/",
		"URL                       " + d.sample,
		"Redirect URI              " + d.sample + "/callback",
		"URL                       " + d.gatehouse + "/dev/mailbox",
		"Email                     admin@demo.gatehouse.test",
		"Email                     breakglass@demo.gatehouse.test",
		"Scope                     " + d.gatehouse + "/demo/graph/v1.0/.default",
		"Token endpoint            " + d.gatehouse + "/demo/oauth2/v2.0/token",
		"DEVELOPMENT ONLY",
		"Sign up and sign in",
		"Data                        " + dir,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	adminPassword := shownOnce(out, "Password")
	automationSecret := shownOnce(out, "Client secret")
	automationID := field(out[strings.Index(out, "Automation client"):], "Client ID")
	breakGlassPassword := shownOnce(out[strings.Index(out, "Break-glass account"):], "Password")
	sampleClientID := field(out[strings.Index(out, "Sample app (open this"):], "Client ID")
	for name, v := range map[string]string{"admin password": adminPassword, "automation secret": automationSecret,
		"automation client ID": automationID, "break-glass password": breakGlassPassword, "sample client ID": sampleClientID} {
		if len(v) < 20 {
			t.Errorf("%s = %q in the output:\n%s", name, v, out)
		}
	}
	if adminPassword == breakGlassPassword {
		t.Errorf("the admin and break-glass accounts have the same password")
	}
	if !strings.Contains(d.logs.String(), "DEVELOPMENT MAILBOX") {
		t.Errorf("the logs do not warn about the development mailbox:\n%s", d.logs.String())
	}

	// The discovery document is served, with the printed issuer.
	var doc struct {
		Issuer     string `json:"issuer"`
		EndSession string `json:"end_session_endpoint"`
	}
	getJSON(t, issuer+"/.well-known/openid-configuration", &doc)
	if doc.Issuer != issuer || doc.EndSession == "" {
		t.Errorf("discovery = %+v, want issuer %s and an end-session endpoint", doc, issuer)
	}
	// The printed automation client works: it lists the break-glass group
	// and its member.
	cc := clientcredentials.Config{ClientID: automationID, ClientSecret: automationSecret,
		TokenURL: d.gatehouse + "/demo/oauth2/v2.0/token", Scopes: []string{d.gatehouse + "/demo/graph/v1.0/.default"}}
	api := cc.Client(context.Background())
	var groups struct {
		Value []struct {
			ID, DisplayName    string
			IsAssignableToRole bool
		} `json:"value"`
	}
	getJSONWith(t, api, d.gatehouse+"/demo/graph/v1.0/groups", &groups)
	if len(groups.Value) != 1 || groups.Value[0].DisplayName != "Break-glass accounts" || !groups.Value[0].IsAssignableToRole {
		t.Fatalf("groups = %+v, want the break-glass group, role-assignable", groups.Value)
	}
	var members struct {
		Value []struct{ Mail string } `json:"value"`
	}
	getJSONWith(t, api, d.gatehouse+"/demo/graph/v1.0/groups/"+groups.Value[0].ID+"/members", &members)
	if len(members.Value) != 1 || members.Value[0].Mail != "breakglass@demo.gatehouse.test" {
		t.Errorf("break-glass group members = %+v", members.Value)
	}
	// The break-glass account is a Global Administrator.
	var users struct {
		Value []struct{ ID string } `json:"value"`
	}
	getJSONWith(t, api, d.gatehouse+"/demo/graph/v1.0/users?$filter=mail%20eq%20'breakglass@demo.gatehouse.test'", &users)
	if len(users.Value) != 1 {
		t.Fatalf("break-glass users = %+v", users.Value)
	}
	var roles struct {
		Value []struct{ RoleDefinitionID string } `json:"value"`
	}
	getJSONWith(t, api, d.gatehouse+"/demo/graph/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'"+users.Value[0].ID+"'", &roles)
	if len(roles.Value) != 1 || roles.Value[0].RoleDefinitionID != gatehouse.RoleGlobalAdministrator {
		t.Errorf("break-glass role assignments = %+v, want Global Administrator", roles.Value)
	}
	// Email one-time passcodes are on for all users.
	var email struct {
		State          string `json:"state"`
		IncludeTargets []struct{ ID string }
	}
	getJSONWith(t, api, d.gatehouse+"/demo/graph/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", &email)
	if email.State != "enabled" || len(email.IncludeTargets) != 1 || email.IncludeTargets[0].ID != "all_users" {
		t.Errorf("the demo's email method configuration: %+v, want enabled for all_users", email)
	}
	// The development mailbox page is there.
	if res, err := http.Get(d.gatehouse + "/dev/mailbox"); err != nil || res.StatusCode != 200 {
		t.Errorf("/dev/mailbox: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// The root page, the banner's first URL, leads to the sample app, the
	// admin portal, the mailbox and the tenant's discovery document, and
	// each link works.
	rb := newWebBrowser(t)
	root := rb.get(d.gatehouse + "/")
	var links []string
	for _, m := range linkRE.FindAllStringSubmatch(root.body, -1) {
		links = append(links, htmlAttrs(m[1])["href"])
	}
	wantLinks := []string{d.sample, d.gatehouse + "/demo/portal/", d.gatehouse + "/dev/mailbox", issuer + "/.well-known/openid-configuration"}
	if root.status != 200 || strings.Join(links, " ") != strings.Join(wantLinks, " ") {
		t.Errorf("root page: status %d, links %q, want %q", root.status, links, wantLinks)
	}
	for _, l := range links {
		if p := rb.get(l); p.status != 200 {
			t.Errorf("root page link %s: status %d", l, p.status)
		}
	}

	// The printed passwords sign in, through the sample app.
	b := newWebBrowser(t)
	home := b.signInAt(d.sample, "breakglass@demo.gatehouse.test", breakGlassPassword)
	if !strings.Contains(home.body, "Signed in with: <strong>pwd</strong>") || !strings.Contains(home.body, "breakglass@demo.gatehouse.test") {
		t.Errorf("the break-glass account's sign-in to the sample app ended at %s:\n%s", home.url, home.body)
	}
	// The administrator is not excluded from the seed's policy: after the
	// password, an email code.
	ab := newWebBrowser(t)
	mfa := ab.signInAt(d.sample, "admin@demo.gatehouse.test", adminPassword)
	if home := ab.emailSecondFactor(mfa, d.gatehouse, "admin@demo.gatehouse.test"); !strings.Contains(home.body, "Signed in with: <strong>pwd, otp, email, mfa</strong>") {
		t.Errorf("the administrator's sign-in to the sample app ended at %s:\n%s", home.url, home.body)
	}

	if err := d.stop(); err != nil {
		t.Fatalf("demo: %v\nlogs:\n%s", err, d.logs.String())
	}
	if _, err := http.Get(d.sample + "/healthz"); err == nil {
		t.Errorf("the sample app still answers after the demo stopped")
	}
	if _, err := http.Get(d.gatehouse + "/healthz"); err == nil {
		t.Errorf("Gatehouse still answers after the demo stopped")
	}

	// A second run reuses the tenant and gives the sample app a new secret.
	d2 := startDemo(t, dir)
	out2 := d2.out.String()
	if strings.Contains(out2, "shown only this once") {
		t.Errorf("the second run shows credentials again:\n%s", out2)
	}
	for _, want := range []string{"(shown on the first run; delete " + dir + " to start over)", "Reused the demo tenant", "Email                     admin@demo.gatehouse.test"} {
		if !strings.Contains(out2, want) {
			t.Errorf("the second run's output lacks %q:\n%s", want, out2)
		}
	}
	if got := field(out2[strings.Index(out2, "Automation client"):], "Client ID"); got != automationID {
		t.Errorf("second run: automation client ID %q, want the first run's %q", got, automationID)
	}
	if got := field(out2[strings.Index(out2, "Sample app (open this"):], "Client ID"); got != sampleClientID {
		t.Errorf("second run: sample app client ID %q, want the first run's %q", got, sampleClientID)
	}
	// The sample app works with its new secret, and the old passwords still
	// sign in.
	if home := newWebBrowser(t).signInAt(d2.sample, "breakglass@demo.gatehouse.test", breakGlassPassword); !strings.Contains(home.body, "Signed in with: <strong>pwd</strong>") {
		t.Errorf("second run: sign-in to the sample app ended at %s:\n%s", home.url, home.body)
	}
	if err := d2.stop(); err != nil {
		t.Fatal(err)
	}

	// One tenant, one sample app with one "demo" secret, every step audited.
	ctx := context.Background()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tenants, err := store.ListTenants(ctx)
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants = %d (%v), want 1", len(tenants), err)
	}
	app, err := store.ApplicationByAppID(ctx, tenants[0].ID, sampleClientID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(app.PasswordCredentials); n != 1 || app.PasswordCredentials[0].DisplayName != "demo" || !app.RequirePKCE {
		t.Errorf("sample app registration after two runs: %d secrets %+v, RequirePKCE %v", n, app.PasswordCredentials, app.RequirePKCE)
	}
	flow, err := store.UserFlowByAppID(ctx, tenants[0].ID, sampleClientID)
	if err != nil {
		t.Fatal(err)
	}
	if flow.DisplayName != "Sign up and sign in" || !flow.SignUpAllowed || flow.IdentityProvider != gatehouse.IdentityProviderEmailPassword ||
		len(flow.Attributes) != 2 || flow.Attributes[0].Name != "displayName" || !flow.Attributes[0].Required || flow.Attributes[1].Name != "city" {
		t.Errorf("user flow = %+v", flow)
	}
	store.Close()
	acts := auditActivities(t, dir, "demo")
	for act, want := range map[string]int{
		"Add tenant": 1, "Remove client secret": 1,
		"Add application": 3, "Add client secret": 3, // the automation client, the admin portal, the sample app
		"Add user flow": 1, "Add group": 1, "Add user": 2, "Add member to group": 1, "Add conditional access policy": 1,
	} {
		if acts[act] != want {
			t.Errorf("audit log has %d %q, want %d (all: %v)", acts[act], act, want, acts)
		}
	}
}

// TestDemoSignUp walks a newcomer's first sign-up through the demo, as the
// banner tells them to: the sample app, Gatehouse's sign-up pages with the
// code from the development mailbox, the claims on the sample app, and
// sign-out.
func TestDemoSignUp(t *testing.T) {
	d := startDemo(t, filepath.Join(t.TempDir(), "demo"))
	b := newWebBrowser(t)

	back := b.signUpAt(d.sample, d.gatehouse, "grace@example.com", "Grace Hopper", func() string { return b.mailboxCode(d.gatehouse, "grace@example.com") })
	out := b.submit(back, "post", "Sign out", nil)
	if !strings.HasPrefix(out.url.String(), d.sample+"/?") || !strings.Contains(out.body, "You have signed out") {
		t.Errorf("after Sign out the browser is at %s:\n%s", out.url, out.body)
	}
	// Signing in again asks for the password that was just chosen.
	again := b.submit(b.get(d.sample+"/"), "get", "Sign in", nil)
	mfa := b.submit(again, "post", "", map[string]string{"email": "grace@example.com", "current-password": "a long and unguessable passphrase"})
	// The seed's Conditional Access policy asks for a code after it.
	final := b.emailSecondFactor(mfa, d.gatehouse, "grace@example.com")
	if !strings.Contains(final.body, "Signed in with: <strong>pwd, otp, email, mfa</strong>") {
		t.Errorf("signing in again after sign-out ended at %s:\n%s", final.url, final.body)
	}
}

func getJSON(t *testing.T, u string, v any) { t.Helper(); getJSONWith(t, http.DefaultClient, u, v) }

func getJSONWith(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: status %d: %s", u, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, body)
	}
}

// webBrowser is a cookie-keeping HTTP client that follows redirects, as a
// browser does, and fills and submits the forms of HTML pages.
type webBrowser struct {
	t      *testing.T
	client *http.Client
}

func newWebBrowser(t *testing.T) *webBrowser {
	jar, _ := cookiejar.New(nil)
	return &webBrowser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// webPage is a fetched page.
type webPage struct {
	url    *url.URL
	status int
	body   string
}

func (b *webBrowser) do(req *http.Request) webPage {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return webPage{url: res.Request.URL, status: res.StatusCode, body: string(body)}
}

func (b *webBrowser) get(u string) webPage {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"`)
	buttonRE = regexp.MustCompile(`(?is)<button\b[^>]*>(.*?)</button>`)
	linkRE   = regexp.MustCompile(`(?is)<a\b([^>]*)>(.*?)</a>`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

func htmlAttrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

func innerText(s string) string {
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(s, "")))
}

// follow opens the link whose text is text.
func (b *webBrowser) follow(p webPage, text string) webPage {
	b.t.Helper()
	for _, l := range linkRE.FindAllStringSubmatch(p.body, -1) {
		if innerText(l[2]) == text {
			u, err := p.url.Parse(htmlAttrs(l[1])["href"])
			if err != nil {
				b.t.Fatal(err)
			}
			return b.get(u.String())
		}
	}
	b.t.Fatalf("no link %q on %s:\n%s", text, p.url, p.body)
	return webPage{}
}

// submit fills and submits the first form of the page with the method
// ("get" or "post"), a button labelled button (unless ""), and an input for
// each key of fill: an input's autocomplete token, type or name. Other
// inputs keep their values.
func (b *webBrowser) submit(p webPage, method, button string, fill map[string]string) webPage {
	b.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := htmlAttrs(f[1])
		m := strings.ToLower(fa["method"])
		if m == "" {
			m = "get"
		}
		if m != method {
			continue
		}
		if button != "" {
			found := false
			for _, l := range buttonRE.FindAllStringSubmatch(f[2], -1) {
				found = found || innerText(l[1]) == button
			}
			if !found {
				continue
			}
		}
		vals := url.Values{}
		matched := 0
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := htmlAttrs(in[1])
			if a["name"] == "" {
				continue
			}
			filled := false
			for _, k := range []string{a["autocomplete"], a["type"], a["name"]} {
				if v, ok := fill[k]; ok && k != "" && a["type"] != "hidden" {
					vals.Set(a["name"], v)
					matched++
					filled = true
					break
				}
			}
			if !filled {
				vals.Set(a["name"], a["value"])
			}
		}
		if matched < len(fill) {
			continue
		}
		action, _ := p.url.Parse(fa["action"])
		var req *http.Request
		if m == "get" {
			action.RawQuery = vals.Encode()
			req, _ = http.NewRequest("GET", action.String(), nil)
		} else {
			req, _ = http.NewRequest("POST", action.String(), strings.NewReader(vals.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
		}
		return b.do(req)
	}
	b.t.Fatalf("no %s form with a %q button and inputs for %v on %s:\n%s", method, button, fill, p.url, p.body)
	return webPage{}
}

// signUpAt signs up on Gatehouse's pages from the sample app at base, with
// the code that code reads from wherever the mail went and, if name is not
// "", a display name and a city; it returns the sample app's page the
// browser ends on, checked to show the claims.
func (b *webBrowser) signUpAt(base, gatehouseURL, mail, name string, code func() string) webPage {
	b.t.Helper()
	home := b.get(base + "/")
	signIn := b.submit(home, "get", "Sign in", nil)
	if !strings.HasPrefix(signIn.url.String(), gatehouseURL+"/") {
		b.t.Fatalf("Sign in led to %s, not Gatehouse's sign-in page", signIn.url)
	}
	signUp := b.follow(signIn, "Sign up")
	codePage := b.submit(signUp, "post", "", map[string]string{"email": mail})
	if !strings.Contains(codePage.body, `autocomplete="one-time-code"`) {
		b.t.Fatalf("after entering the address, no code page at %s:\n%s", codePage.url, codePage.body)
	}
	details := b.submit(codePage, "post", "", map[string]string{"one-time-code": code()})
	fill := map[string]string{"new-password": "a long and unguessable passphrase"}
	if name != "" {
		fill["name"], fill["address-level2"] = name, "Arlington"
	}
	back := b.submit(details, "post", "", fill)
	if back.url.String() != base+"/" {
		b.t.Fatalf("after sign-up the browser is at %s (status %d), not back on the sample app:\n%s", back.url, back.status, back.body)
	}
	wants := []string{"Signed in with: <strong>pwd, otp, email, mfa</strong>", "Signed in as <strong>" + mail + "</strong>", "<code>auth_time</code>", "Userinfo response"}
	if name != "" {
		wants = append(wants, "Hello, "+name)
	}
	for _, want := range wants {
		if !strings.Contains(back.body, want) {
			b.t.Errorf("the sample app after sign-up lacks %q:\n%s", want, back.body)
		}
	}
	return back
}

// signInAt signs in to the sample app at base on Gatehouse's sign-in page
// and returns the page the browser ends on.
func (b *webBrowser) signInAt(base, mail, password string) webPage {
	b.t.Helper()
	pg := b.submit(b.get(base+"/"), "get", "Sign in", nil)
	return b.submit(pg, "post", "", map[string]string{"email": mail, "current-password": password})
}

// emailSecondFactor completes the email second factor from its page with
// the code from the development mailbox, and returns the page the
// browser ends on.
func (b *webBrowser) emailSecondFactor(p webPage, gatehouseURL, mail string) webPage {
	b.t.Helper()
	if !strings.HasSuffix(p.url.Path, "/login/mfa/email") {
		b.t.Fatalf("at %s, want the email second factor page:\n%s", p.url, p.body)
	}
	codePage := b.submit(p, "post", "Send code", nil)
	return b.submit(codePage, "post", "", map[string]string{"one-time-code": b.mailboxCode(gatehouseURL, mail)})
}

var mailboxCodeRE = regexp.MustCompile(`(?s)<tr><td>[^<]*</td><td>([^<]*)</td><td><a [^>]*>[^<]*</a> <span class="code-chip mono">(\d{8})</span>`)

// mailboxCode reads the newest code sent to mail from the development
// mailbox page.
func (b *webBrowser) mailboxCode(gatehouseURL, mail string) string {
	b.t.Helper()
	pg := b.get(gatehouseURL + "/dev/mailbox")
	for _, m := range mailboxCodeRE.FindAllStringSubmatch(pg.body, -1) {
		if html.UnescapeString(m[1]) == mail {
			return m[2]
		}
	}
	b.t.Fatalf("no code for %s in the development mailbox:\n%s", mail, pg.body)
	return ""
}
