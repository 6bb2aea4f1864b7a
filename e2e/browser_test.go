package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sampleapp"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/gatehouse/gatehouse/web"
)

// chromium returns the path of the Chromium binary, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed: install the Debian package chromium (.ci/run does) to run the browser tests")
	return ""
}

// lateHandler serves a handler that is set after the listener exists, so
// that servers can know each other's addresses before they are built.
type lateHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	h := l.h
	l.mu.Unlock()
	h.ServeHTTP(w, r)
}

func (l *lateHandler) set(h http.Handler) { l.mu.Lock(); l.h = h; l.mu.Unlock() }

// wrap puts a middleware in front of the handler.
func (l *lateHandler) wrap(mw func(http.Handler) http.Handler) {
	l.mu.Lock()
	l.h = mw(l.h)
	l.mu.Unlock()
}

func startLate(t *testing.T) (*lateHandler, string) {
	l := &lateHandler{h: http.NotFoundHandler()}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// stack is Gatehouse with a tenant, two sample apps in one user flow and a
// real SMTP server.
type stack struct {
	gatehouse, shop, blog string
	smtp                  *smtptest.Server
	logs                  *logBuffer
	store                 *sqlstore.Store
	hasher                *password.Hasher
	tenantID, flowID      string
	apps                  map[string]*lateHandler // the sample apps by name
	// tenant is what provisioning the tenant returned: its admin API and
	// automation client.
	tenant *provision.Result
	token  string // the automation client's admin API token, once asked for
}

// stackOptions change the stack startStackWith builds.
type stackOptions struct {
	// localhost serves Gatehouse at http://localhost:PORT rather than
	// 127.0.0.1: passkeys need a host name as their relying party ID.
	localhost bool
	// sms, if set, sends the server's text messages.
	sms notify.SMSSender
}

// logBuffer collects every log line of the stack, at debug level, so a
// test can check that no secret was ever logged (LOG-1).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func startStack(t *testing.T, store *sqlstore.Store) *stack {
	return startStackWith(t, store, stackOptions{})
}

func startStackWith(t *testing.T, store *sqlstore.Store, o stackOptions) *stack {
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := oidc.NewKeys(store, v, time.Now)
	hasher := password.NewHasher(password.DefaultParams, 0, 64)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mailSrv := smtptest.Start(t)
	mailer, err := notify.NewSMTP(notify.SMTPConfig{URL: mailSrv.URL(), From: "Acme <no-reply@acme.example>", Timeout: 5 * time.Second}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ghLate, ghURL := startLate(t)
	if o.localhost {
		ghURL = strings.Replace(ghURL, "//127.0.0.1:", "//localhost:", 1)
	}
	h, err := web.NewServer(web.Options{Store: store, Keys: keys, Vault: v, Passwords: hasher, PublicURL: ghURL, Mail: mailer, SMS: o.sms, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ghLate.set(h)
	res, err := provision.CreateTenant(ctx, provision.Deps{Store: store, Keys: keys, Vault: v, Passwords: hasher, PublicURL: ghURL}, "acme", "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{gatehouse: ghURL, smtp: mailSrv, logs: logs, store: store, hasher: hasher, tenantID: res.TenantID, apps: map[string]*lateHandler{}, tenant: res}
	var appIDs []string
	for _, app := range []struct {
		name string
		url  *string
	}{{"Shop", &st.shop}, {"Blog", &st.blog}} {
		late, base := startLate(t)
		*app.url = base
		a := &gatehouse.Application{TenantID: res.TenantID, AppID: newID(), DisplayName: app.name,
			WebRedirectURIs: []string{sampleapp.RedirectURI(base)}, PostLogoutRedirectURIs: []string{sampleapp.PostLogoutRedirectURI(base)}, RequirePKCE: true}
		secret, hint, err := oidc.NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		a.PasswordCredentials = []gatehouse.PasswordCredential{{KeyID: newID(), Hint: hint, Hash: oidc.HashClientSecret(v, secret), Start: time.Now().Add(-time.Minute)}}
		if err := store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateApplication(ctx, a) }); err != nil {
			t.Fatal(err)
		}
		sa, err := sampleapp.New(ctx, sampleapp.Config{Issuer: res.Issuer, ClientID: a.AppID, ClientSecret: secret, BaseURL: base, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		late.set(sa)
		st.apps[app.name] = late
		appIDs = append(appIDs, a.AppID)
	}
	flow := &gatehouse.UserFlow{TenantID: res.TenantID, DisplayName: "Sign up and sign in",
		IdentityProvider: gatehouse.IdentityProviderEmailPassword, SignUpAllowed: true, AppIDs: appIDs,
		Attributes: []gatehouse.FlowAttribute{
			{Name: "displayName", Label: "Display name", DataType: "string", Required: true},
			{Name: "city", Label: "City", DataType: "string"},
		}}
	if err := store.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateUserFlow(ctx, flow) }); err != nil {
		t.Fatal(err)
	}
	st.flowID = flow.ID
	return st
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

// headlessChromium starts a headless Chromium for the test, with a fresh
// profile, and returns its context, which ends with the test or after 90
// seconds.
func headlessChromium(t *testing.T, path string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("headless", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pageText returns the text of the page Chromium shows.
func pageText(ctx context.Context) string {
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return body
}

// stepper returns a function that runs one named step of a test in
// Chromium, failing the test with the page it ended on.
func stepper(t *testing.T, ctx context.Context) func(step string, actions ...chromedp.Action[chromedp.Void]) {
	return func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			url, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s: %v\nat %s:\n%s", step, err, url, pageText(ctx))
		}
	}
}

// byLabel finds the input a visible label names.
func byLabel(label string) chromedp.Search {
	return chromedp.Search(`//input[@id=//label[normalize-space(text())='` + label + `']/@for]`)
}

func button(texts ...string) chromedp.Search {
	var alts []string
	for _, text := range texts {
		alts = append(alts, `//button[normalize-space(.)='`+text+`']`)
	}
	return chromedp.Search(strings.Join(alts, " | "))
}

// chrome is a tab of headless Chromium, for one test.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

// newChrome starts headless Chromium for the test (or skips it without
// Chromium); every step must finish within 90 seconds in all.
func newChrome(t *testing.T) *chrome {
	return &chrome{t: t, ctx: headlessChromium(t, chromium(t))}
}

// bodyText returns the visible text of the page.
func (c *chrome) bodyText() string { return pageText(c.ctx) }

// run does the actions of one step of the test, which fails with the page
// it was on if one of them fails.
func (c *chrome) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	stepper(c.t, c.ctx)(step, actions...)
}

// TestBrowserSignUpSignInSSO walks the seed's "test the sign-in" story in
// headless Chromium: sign up on the hosted pages with a code read from the
// mail a real SMTP server received, land on the sample app with the
// claims, sign out, sign in again with the password, and sign in to a
// second app of the tenant without a password prompt.
func TestBrowserSignUpSignInSSO(t *testing.T) {
	chromium(t)
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			st := startStack(t, eng.Open(t))
			ctx := headlessChromium(t, chromium(t))

			var mu sync.Mutex
			var visited []string
			err := chromedp.Listen(ctx, func(ev any) {
				if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame.ParentID == "" {
					mu.Lock()
					visited = append(visited, e.Frame.URL)
					mu.Unlock()
				}
			})
			if err != nil {
				t.Fatalf("start Chromium: %v", err)
			}

			mail := "grace@example.com"
			bodyText := func() string { return pageText(ctx) }
			run := stepper(t, ctx)
			run("open the sample app and choose sign in",
				chromedp.Navigate(st.shop),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(byLabel("Email address")))
			run("choose sign up",
				chromedp.Click(chromedp.Search(`//a[contains(normalize-space(.), 'Sign up')]`)),
				chromedp.WaitVisible(byLabel("Email address")),
				chromedp.SendKeys(byLabel("Email address"), mail),
				chromedp.Click(button("Next", "Send code")),
				chromedp.WaitVisible(byLabel("Code")))
			code := st.smtp.CodeFor(t, mail)
			run("enter the code from the mail",
				chromedp.SendKeys(byLabel("Code"), code),
				chromedp.Click(button("Verify")),
				chromedp.WaitVisible(byLabel("New password")))
			run("set a password and the flow's attributes",
				chromedp.SendKeys(byLabel("New password"), "tea at the ritz 1923"),
				chromedp.SendKeys(byLabel("Display name"), "Grace Hopper"),
				chromedp.SendKeys(byLabel("City"), "Arlington"),
				chromedp.Click(button("Create account")),
				chromedp.WaitVisible(button("Sign out")))
			claims := bodyText()
			for _, want := range []string{"pwd", mail, "Grace Hopper", "auth_time", "address formatted Arlington locality Arlington"} {
				if !strings.Contains(strings.Join(strings.Fields(claims), " "), want) {
					t.Errorf("after sign-up the sample app does not show %q:\n%s", want, claims)
				}
			}
			run("sign out",
				chromedp.Click(button("Sign out")),
				chromedp.WaitVisible(button("Sign in")))
			run("sign in again with the password",
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(byLabel("Password")),
				chromedp.SetValue(byLabel("Email address"), mail),
				chromedp.SendKeys(byLabel("Password"), "tea at the ritz 1923"),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Sign out")))
			mu.Lock()
			visited = nil
			mu.Unlock()
			run("sign in to the second app",
				chromedp.Navigate(st.blog),
				chromedp.Click(button("Sign in")),
				chromedp.WaitVisible(button("Sign out")))
			claims = bodyText()
			if !strings.Contains(claims, mail) {
				t.Errorf("the second app does not show the signed-in user:\n%s", claims)
			}
			logs := st.logs.String()
			if !strings.Contains(logs, "sign-in") {
				t.Errorf("the log does not record the sign-ins:\n%s", logs)
			}
			for what, secret := range map[string]string{"password": "tea at the ritz 1923", "email code": code} {
				if strings.Contains(logs, secret) {
					t.Errorf("the %s appears in the log (LOG-1)", what)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, u := range visited {
				if strings.HasPrefix(u, st.gatehouse) && strings.Contains(u, "/acme/login") {
					t.Errorf("SSO to the second app showed a sign-in page: %s (visited %v)", u, visited)
				}
			}
		})
	}
}
