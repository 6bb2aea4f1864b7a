package sampleapp

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
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
)

// testHasher is argon2id with the production parameters, shared by all
// tests.
var testHasher = password.NewHasher(password.DefaultParams, 0, 64)

const (
	adaMail     = "ada@example.com"
	adaPassword = "correct horse battery staple"
)

// clock is the sample app's adjustable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a real Gatehouse over SQLite with a tenant whose application
// is this sample app, and the sample app itself.
type testEnv struct {
	t        *testing.T
	store    *sqlstore.Store
	ghURL    string
	tenant   *provision.Result
	mailbox  *notify.Mailbox
	clientID string
	secret   string
	appURL   string
	app      *app
	clock    *clock
	// ghDown makes Gatehouse answer 503 to everything.
	ghDown func(bool)
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{t: t, store: storetest.SQLite(t), mailbox: notify.NewMailbox(0, nil), clock: &clock{t: time.Now()}}
	key := make([]byte, 32)
	rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := oidc.NewKeys(e.store, v, time.Now)

	var (
		mu   sync.Mutex
		down bool
		gh   http.Handler
	)
	e.ghDown = func(d bool) { mu.Lock(); down = d; mu.Unlock() }
	ghSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		gh.ServeHTTP(w, r)
	}))
	e.ghURL = "http://" + ghSrv.Listener.Addr().String()
	gh, err = web.NewServer(web.Options{Store: e.store, Keys: keys, Vault: v, Passwords: testHasher, PublicURL: e.ghURL, Mailbox: e.mailbox, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ghSrv.Start()
	t.Cleanup(ghSrv.Close)

	e.tenant, err = provision.CreateTenant(ctx, provision.Deps{Store: e.store, Keys: keys, Vault: v, Passwords: testHasher, PublicURL: e.ghURL}, "acme", "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}

	var h http.Handler
	appSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	e.appURL = "http://" + appSrv.Listener.Addr().String()
	e.register(v)
	h, err = New(ctx, Config{Issuer: e.tenant.Issuer, ClientID: e.clientID, ClientSecret: e.secret, BaseURL: e.appURL, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.app = h.(*app)
	appSrv.Start()
	t.Cleanup(appSrv.Close)
	return e
}

// register creates the sample app's application with a secret, a user
// flow for it, and the user Ada.
func (e *testEnv) register(v *vault.Vault) {
	e.t.Helper()
	ctx := context.Background()
	secret, hint, err := oidc.NewClientSecret()
	if err != nil {
		e.t.Fatal(err)
	}
	e.secret = secret
	hash, err := testHasher.Hash(ctx, adaPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.store.Update(ctx, func(tx gatehouse.Tx) error {
		app := &gatehouse.Application{
			TenantID: e.tenant.TenantID, AppID: "11111111-2222-3333-4444-555555555555", DisplayName: "Sample",
			WebRedirectURIs: []string{RedirectURI(e.appURL)}, PostLogoutRedirectURIs: []string{PostLogoutRedirectURI(e.appURL)},
			RequirePKCE: true,
			PasswordCredentials: []gatehouse.PasswordCredential{{KeyID: "k1", DisplayName: "test", Hint: hint,
				Hash: oidc.HashClientSecret(v, secret), Start: time.Now().Add(-time.Minute)}},
		}
		if err := tx.CreateApplication(ctx, app); err != nil {
			return err
		}
		e.clientID = app.AppID
		if err := tx.CreateUserFlow(ctx, &gatehouse.UserFlow{
			TenantID: e.tenant.TenantID, DisplayName: "Sign up and sign in", IdentityProvider: gatehouse.IdentityProviderEmailPassword,
			SignUpAllowed: true, AppIDs: []string{app.AppID},
			Attributes: []gatehouse.FlowAttribute{{Name: "displayName", Label: "Display name", DataType: "string", Required: true}, {Name: "city", Label: "City", DataType: "string"}},
		}); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &gatehouse.User{TenantID: e.tenant.TenantID, Mail: adaMail, DisplayName: "Ada Lovelace", City: "London", AccountEnabled: true, PasswordHash: hash})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// browser is a cookie-keeping HTTP client. It follows redirects except to
// the URL prefixes in stopAt, where it hands back the redirect, as a
// browser would before loading the next page.
type browser struct {
	t      *testing.T
	client *http.Client
	stopAt []string
}

func newBrowser(t *testing.T, stopAt ...string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, stopAt: stopAt}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		for _, p := range b.stopAt {
			if strings.HasPrefix(req.URL.String(), p) {
				return http.ErrUseLastResponse
			}
		}
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
	return b
}

// page is a fetched page.
type page struct {
	url      *url.URL
	status   int
	body     string
	location string // of a redirect the browser stopped at
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<(?:input|select|textarea)\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"`)
	labelRE = regexp.MustCompile(`(?is)<button\b[^>]*>(.*?)</button>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// submit fills and submits the page's first form (of method, "get" or
// "post") that has an input for each key of fill (an input's
// autocomplete token, type or name) and, if button is not "", a button
// labelled button. Other inputs keep their values.
func (b *browser) submit(p page, method, button string, fill map[string]string) page {
	b.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		m := strings.ToLower(fa["method"])
		if m == "" {
			m = "get"
		}
		if m != method {
			continue
		}
		if button != "" {
			found := false
			for _, l := range labelRE.FindAllStringSubmatch(f[2], -1) {
				if strings.TrimSpace(html.UnescapeString(l[1])) == button {
					found = true
				}
			}
			if !found {
				continue
			}
		}
		vals := url.Values{}
		matched := 0
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			name := a["name"]
			if name == "" {
				continue
			}
			var v string
			var ok bool
			for _, k := range []string{a["autocomplete"], a["type"], name} {
				if v, ok = fill[k]; ok && k != "" && a["type"] != "hidden" {
					break
				}
				ok = false
			}
			if ok {
				vals.Set(name, v)
				matched++
			} else {
				vals.Set(name, a["value"])
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
	b.t.Fatalf("no %s form on %s with a %q button and inputs for %v; page:\n%s", method, p.url, button, fill, p.body)
	return page{}
}

// signIn starts a sign-in on the sample app and signs in as Ada on
// Gatehouse's page; it returns the page the browser ends on.
func (e *testEnv) signIn(b *browser) page {
	e.t.Helper()
	home := b.get(e.appURL + "/")
	pg := b.submit(home, "get", "Sign in", nil)
	if pg.status != http.StatusOK || !strings.HasPrefix(pg.url.String(), e.ghURL) {
		e.t.Fatalf("Sign in did not lead to Gatehouse's sign-in page: %s status %d location %q\n%.800s", pg.url, pg.status, pg.location, pg.body)
	}
	return b.submit(pg, "post", "", map[string]string{"email": adaMail, "password": adaPassword})
}

func TestSignInAndSignOut(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)

	home := b.get(e.appURL + "/")
	if home.status != 200 || !strings.Contains(home.body, ">Sign in</button>") || strings.Contains(home.body, "Sign out") {
		t.Fatalf("home page before sign-in: status %d\n%s", home.status, home.body)
	}

	pg := e.signIn(b)
	if pg.status != 200 || pg.url.String() != e.appURL+"/" {
		t.Fatalf("after sign-in the browser is at %s (status %d), want the sample app's home\n%.2000s", pg.url, pg.status, pg.body)
	}
	for _, want := range []string{
		"Signed in with: <strong>pwd</strong>",
		"Signed in as <strong>" + adaMail + "</strong> at <time>",
		"Hello, Ada Lovelace",
		">Sign out</button>",
		"<code>amr</code></th><td>pwd",
		"<code>iss</code></th><td>" + e.tenant.Issuer,
		"<code>aud</code></th><td>" + e.clientID,
		"Userinfo response",
		"a refresh token was issued",
	} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("signed-in home page lacks %q", want)
		}
	}
	// auth_time is shown as a time, not only as a number.
	if !regexp.MustCompile(`<code>auth_time</code></th><td>\d+ <span class="time">\w{3} \d+ \w{3} \d{4}, \d\d:\d\d:\d\d`).MatchString(pg.body) {
		t.Errorf("auth_time is not shown as a readable time:\n%s", pg.body)
	}
	// The userinfo table is the real response: Ada's email, from the
	// userinfo endpoint, after the ID token table.
	if i := strings.Index(pg.body, "Userinfo response"); i < 0 || !strings.Contains(pg.body[i:], "<code>email</code></th><td>"+adaMail) {
		t.Errorf("the userinfo table lacks the email claim")
	}
	if strings.Contains(pg.body, "userinfo endpoint could not be read") {
		t.Errorf("userinfo failed:\n%s", pg.body)
	}
	// The city the user flow collected is the address claim, shown by its
	// parts, in the ID token's table and in userinfo's.
	address := `<code>address</code></th><td><dl class="parts"><div><dt><code>formatted</code></dt><dd>London</dd></div><div><dt><code>locality</code></dt><dd>London</dd></div></dl></td>`
	if n := strings.Count(pg.body, address); n != 2 {
		t.Errorf("the address claim is shown %d times as its parts, want 2 (ID token and userinfo):\n%s", n, pg.body)
	}

	// Sign out: the app forgets the user, Gatehouse ends its session and
	// sends the browser back with the state.
	out := b.submit(pg, "post", "Sign out", nil)
	if out.status != 200 || out.url.Path != "/" || !strings.HasPrefix(out.url.String(), e.appURL) {
		t.Fatalf("after sign-out the browser is at %s (status %d)\n%.1500s", out.url, out.status, out.body)
	}
	if out.url.Query().Get("state") == "" {
		t.Errorf("the post-logout redirect %s has no state", out.url)
	}
	if !strings.Contains(out.body, "You have signed out of the sample app and of Gatehouse.") || !strings.Contains(out.body, ">Sign in</button>") {
		t.Errorf("home page after sign-out:\n%s", out.body)
	}
	// Gatehouse's session is gone too: signing in asks for the password.
	again := b.submit(b.get(e.appURL+"/"), "get", "Sign in", nil)
	if !strings.HasPrefix(again.url.String(), e.ghURL) || !strings.Contains(again.body, `type="password"`) {
		t.Errorf("after sign-out, Sign in went to %s without a password prompt", again.url)
	}
	// A reload of the post-logout URL says nothing about signing out.
	if re := b.get(out.url.String()); strings.Contains(re.body, "You have signed out") {
		t.Errorf("the sign-out notice is shown again on reload")
	}
}

// callbackURL signs in (or reuses Gatehouse's session) and returns the
// authorization response that reached the redirect URI, unfollowed.
func (e *testEnv) callbackURL(b *browser) *url.URL {
	e.t.Helper()
	pg := b.get(e.appURL + "/login")
	if pg.location == "" && pg.status == 200 {
		pg = b.submit(pg, "post", "", map[string]string{"email": adaMail, "password": adaPassword})
	}
	if !strings.HasPrefix(pg.location, e.appURL+"/callback") {
		e.t.Fatalf("Gatehouse did not redirect to the callback: status %d location %q\n%.800s", pg.status, pg.location, pg.body)
	}
	u, _ := url.Parse(pg.location)
	return u
}

func withQuery(u *url.URL, set map[string]string, del ...string) string {
	c := *u
	q := c.Query()
	for k, v := range set {
		q.Set(k, v)
	}
	for _, k := range del {
		q.Del(k)
	}
	c.RawQuery = q.Encode()
	return c.String()
}

func TestCallbackChecks(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e.appURL+"/callback")

	tests := []struct {
		name       string
		response   func(u *url.URL) string
		before     func()
		status     int
		wantInBody string
	}{
		{
			name:       "state of another sign-in",
			response:   func(u *url.URL) string { return withQuery(u, map[string]string{"state": "forged"}) },
			status:     400,
			wantInBody: "its state does not match",
		},
		{
			name:       "no state",
			response:   func(u *url.URL) string { return withQuery(u, nil, "state") },
			status:     400,
			wantInBody: "has no state",
		},
		{
			name: "iss of another issuer",
			response: func(u *url.URL) string {
				return withQuery(u, map[string]string{"iss": "https://evil.example/acme/v2.0"})
			},
			status:     400,
			wantInBody: "RFC 9207",
		},
		{
			name:       "iss missing though the provider sends it",
			response:   func(u *url.URL) string { return withQuery(u, nil, "iss") },
			status:     400,
			wantInBody: "iss in the response: none",
		},
		{
			name:       "nonce of another sign-in",
			before:     func() { e.setAttempts(func(a *attempt) { a.nonce = "another" }) },
			response:   func(u *url.URL) string { return u.String() },
			status:     400,
			wantInBody: "nonce is not the one this sign-in sent",
		},
		{
			name:       "PKCE verifier of another sign-in",
			before:     func() { e.setAttempts(func(a *attempt) { a.verifier = otherFirst(a.verifier) }) },
			response:   func(u *url.URL) string { return u.String() },
			status:     502,
			wantInBody: "invalid_grant",
		},
		{
			name:       "too slow",
			before:     func() { e.clock.Advance(attemptLifetime + time.Second) },
			response:   func(u *url.URL) string { return u.String() },
			status:     400,
			wantInBody: "has expired",
		},
		{
			name: "error from the provider",
			response: func(u *url.URL) string {
				return withQuery(u, map[string]string{"error": "access_denied", "error_description": "The user <b>declined</b>."}, "code")
			},
			status:     400,
			wantInBody: "<code>access_denied</code>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.callbackURL(b)
			if tt.before != nil {
				tt.before()
			}
			pg := b.get(tt.response(u))
			if pg.status != tt.status || !strings.Contains(pg.body, tt.wantInBody) {
				t.Errorf("callback: status %d, want %d with %q; body:\n%s", pg.status, tt.status, tt.wantInBody, pg.body)
			}
			if strings.Contains(pg.body, "Signed in with") {
				t.Errorf("the app signed the user in")
			}
			if strings.Contains(pg.body, "<b>declined</b>") {
				t.Errorf("the provider's error description was not escaped")
			}
		})
	}

	t.Run("a good response works once", func(t *testing.T) {
		u := e.callbackURL(b)
		// Another browser has no sign-in with that state.
		if pg := newBrowser(t).get(u.String()); pg.status != 400 || !strings.Contains(pg.body, "state does not match") {
			t.Errorf("callback in another browser: status %d\n%s", pg.status, pg.body)
		}
		pg := b.get(u.String())
		if pg.status != 200 || pg.url.String() != e.appURL+"/" || !strings.Contains(pg.body, "Signed in with: <strong>pwd</strong>") {
			t.Fatalf("good callback: ended at %s with status %d\n%s", pg.url, pg.status, pg.body)
		}
		if pg := b.get(u.String()); pg.status != 400 || !strings.Contains(pg.body, "already used") {
			t.Errorf("replayed callback: status %d\n%s", pg.status, pg.body)
		}
	})
}

// setAttempts changes every sign-in in progress of every session.
// otherFirst returns s with another first character: a verifier, state or
// nonce that differs from s (a random s may start with any character).
func otherFirst(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}

func (e *testEnv) setAttempts(fn func(*attempt)) {
	e.app.sessions.mu.Lock()
	defer e.app.sessions.mu.Unlock()
	for _, se := range e.app.sessions.m {
		for i := range se.attempts {
			fn(&se.attempts[i])
		}
	}
}

func TestAuthorizationRequest(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e.ghURL)
	pg := b.get(e.appURL + "/login")
	u, err := url.Parse(pg.location)
	if pg.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(pg.location, e.ghURL+"/acme/oauth2/v2.0/authorize?") {
		t.Fatalf("/login: status %d location %q", pg.status, pg.location)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id":             e.clientID,
		"redirect_uri":          e.appURL + "/callback",
		"response_type":         "code",
		"scope":                 "openid profile email address offline_access",
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 26 {
			t.Errorf("%s = %q, want a random value", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Errorf("state and nonce are the same value")
	}
	// The session cookie is HttpOnly and SameSite=Lax.
	var c *http.Cookie
	for _, x := range (&http.Response{Header: pg.header}).Cookies() {
		if x.Name == e.app.sessions.name {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 26 || c.Name != "sampleapp_session_"+strings.TrimPrefix(e.appURL[strings.LastIndex(e.appURL, ":"):], ":") {
		t.Errorf("session cookie = %+v", c)
	}
	// A second sign-in gets new values.
	pg2 := b.get(e.appURL + "/login")
	u2, _ := url.Parse(pg2.location)
	if u2.Query().Get("state") == q.Get("state") || u2.Query().Get("nonce") == q.Get("nonce") {
		t.Errorf("a second sign-in reused the state or nonce")
	}
	if q.Has("acr_values") || u2.Query().Has("acr_values") {
		t.Errorf("a plain sign-in asks for acr_values")
	}
	// "Sign in with a second factor" asks for multifactor authentication.
	u3, _ := url.Parse(b.get(e.appURL + "/login?mfa=1").location)
	if got := u3.Query().Get("acr_values"); got != "2" {
		t.Errorf("/login?mfa=1: acr_values = %q, want 2", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	pg := b.get(e.appURL + "/")
	csp := pg.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self' " + e.ghURL} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows script or inline code", csp)
	}
	if got := pg.header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	signedIn := e.signIn(b)
	for _, p := range []page{pg, signedIn} {
		for _, bad := range []string{"<script", "style=", "<style"} {
			if strings.Contains(strings.ToLower(p.body), bad) {
				t.Errorf("page %s has %q", p.url, bad)
			}
		}
		if regexp.MustCompile(`(?i)<[^>]+\son[a-z]+=`).MatchString(p.body) {
			t.Errorf("page %s has an inline event handler", p.url)
		}
	}
	css := b.get(e.appURL + "/static/app.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, ".amr") {
		t.Errorf("/static/app.css: status %d type %q", css.status, css.header.Get("Content-Type"))
	}
	if h := b.get(e.appURL + "/healthz"); h.status != 200 {
		t.Errorf("/healthz = %d", h.status)
	}
}

func TestSignOutNeedsItsForm(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	e.signIn(b)
	// A cross-site form without the token does not sign the user out.
	req, _ := http.NewRequest("POST", e.appURL+"/logout", strings.NewReader("csrf=wrong"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if pg := b.do(req); pg.status != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: status %d", pg.status)
	}
	if home := b.get(e.appURL + "/"); !strings.Contains(home.body, "Signed in with") {
		t.Errorf("the user was signed out by a forged form")
	}
	// Signing out without a session just goes home.
	other := newBrowser(t, e.appURL)
	if pg := other.do(mustRequest("POST", e.appURL+"/logout")); pg.status != http.StatusSeeOther || pg.location != "/" {
		t.Errorf("sign-out without a session: status %d location %q", pg.status, pg.location)
	}
}

func mustRequest(method, u string) *http.Request {
	req, _ := http.NewRequest(method, u, nil)
	return req
}

func TestIssuerNotReachableYet(t *testing.T) {
	e := newEnv(t)
	e.ghDown(true)
	h, err := New(context.Background(), Config{Issuer: e.tenant.Issuer, ClientID: e.clientID, ClientSecret: e.secret, BaseURL: e.appURL, Now: e.clock.Now})
	if err != nil {
		t.Fatalf("New with the issuer down: %v", err)
	}
	e.app = h.(*app)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", e.appURL+"/login", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Gatehouse is not reachable") || !strings.Contains(rec.Body.String(), "503") {
		t.Errorf("/login with the issuer down: %d\n%s", rec.Code, rec.Body)
	}
	// Gatehouse comes up: the next try after the back-off discovers it.
	e.ghDown(false)
	if rec := get(); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/login within the back-off: %d, want the remembered failure", rec.Code)
	}
	e.clock.Advance(retryDiscovery + time.Second)
	if rec := get(); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), e.ghURL) {
		t.Errorf("/login after Gatehouse came up: %d location %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
}

func TestConfigErrors(t *testing.T) {
	good := Config{Issuer: "http://localhost:8080/acme/v2.0", ClientID: "c", BaseURL: "http://localhost:8081"}
	for _, tt := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Issuer = "" }, "issuer is required"},
		{func(c *Config) { c.Issuer = "localhost:8080" }, "not an http(s) URL"},
		{func(c *Config) { c.ClientID = "" }, "client ID is required"},
		{func(c *Config) { c.BaseURL = "" }, "base URL is required"},
		{func(c *Config) { c.BaseURL = "ftp://x" }, "not an http(s) URL"},
		{func(c *Config) { c.BaseURL = "http://localhost:8081/app" }, "scheme, host and port only"},
	} {
		c := good
		tt.change(&c)
		if _, err := New(context.Background(), c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", c, err, tt.want)
		}
	}
}

func TestReadableTime(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := &app{cfg: Config{Now: func() time.Time { return now }}}
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-3 * time.Minute), "(3 minutes ago)"},
		{now.Add(-time.Second), "(1 second ago)"},
		{now.Add(time.Hour), "(1 hour from now)"},
		{now.Add(-72 * time.Hour), "(3 days ago)"},
	} {
		if got := a.readableTime(tt.t); !strings.HasSuffix(got, tt.want) || !strings.Contains(got, tt.t.Local().Format("2006")) {
			t.Errorf("readableTime(%v) = %q, want it to end in %q", tt.t, got, tt.want)
		}
	}
}
