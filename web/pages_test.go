package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// frozenClock is a clock that moves only when told, so that tests of
// delays and expiry need no sleeps.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozenClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hostedEnv is a server with a tenant "acme" whose app "Shop" uses a user
// flow, and, unless told otherwise, a real SMTP server the server's mail
// goes through.
type hostedEnv struct {
	*testEnv
	clk    *frozenClock
	smtp   *smtptest.Server // nil when the server has no SMTP sender
	tenant *provision.Result
	tok    string
	app    *rp
	flow   *gatehouse.UserFlow
	vkey   []byte // the vault key, for a second server on the store
}

// hostedOptions configure a hostedEnv.
type hostedOptions struct {
	idp       string // the flow's identity provider; email with password by default
	signUpOff bool
	attrs     []gatehouse.FlowAttribute // nil: a required displayName
	sender    notify.Sender             // instead of the smtptest server
	noMail    bool                      // no mail configured at all
	mailbox   *notify.Mailbox
	sms       notify.SMSSender // the server's text message sender; nil: none
	accent    string
	logger    *slog.Logger
	perIP     int              // sign-in attempts per address and 5 minutes; 0: the default
	trusted   []netip.Prefix   // the trusted proxies
	passwords *password.Hasher // the server's hasher; nil: testHasher
	pwMin     int              // the shortest new password; 0: the default
	// localhost makes the public URL http://localhost:PORT instead of
	// 127.0.0.1: passkeys need a host name (browsers refuse IP addresses
	// as WebAuthn relying party IDs).
	localhost bool
}

func newHostedEnv(t *testing.T, eng storetest.Engine, o hostedOptions) *hostedEnv {
	t.Helper()
	// A minute ahead of the real clock: what was made with the real one
	// (the tenant, its keys and secrets) is already valid. On a whole
	// second, so that times read back from the store (in microseconds)
	// and from tokens (in seconds) are the times the server wrote.
	clk := &frozenClock{t: time.Now().UTC().Add(time.Minute).Truncate(time.Second)}
	st := eng.Open(t)
	st.Now = clk.Now
	h := &hostedEnv{clk: clk}
	var sender notify.Sender
	switch {
	case o.sender != nil:
		sender = o.sender
	case o.noMail || o.mailbox != nil:
	default:
		h.smtp = smtptest.Start(t)
		smtp, err := notify.NewSMTP(notify.SMTPConfig{URL: h.smtp.URL(), From: "Acme <no-reply@acme.example>"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sender = smtp
	}
	h.vkey = newKey(t)
	h.testEnv = newEnv(t, st, h.vkey, func(opt *web.Options) {
		if o.localhost {
			opt.PublicURL = strings.Replace(opt.PublicURL, "//127.0.0.1:", "//localhost:", 1)
		}
		opt.Now = clk.Now
		opt.Mail = sender
		opt.Mailbox = o.mailbox
		opt.SMS = o.sms
		opt.SignInsPerIP = o.perIP
		opt.TrustedProxies = o.trusted
		opt.PasswordMinLength = o.pwMin
		if o.passwords != nil {
			opt.Passwords = o.passwords
		}
		if o.logger != nil {
			opt.Logger = o.logger
		}
	})
	if o.localhost {
		h.url = strings.Replace(h.url, "//127.0.0.1:", "//localhost:", 1)
	}
	h.tenant = h.createTenant("acme")
	h.tok = h.token(h.url+"/acme/oauth2/v2.0/token", h.tenant.AutomationClient.ClientID, h.tenant.AutomationClient.ClientSecret, h.tenant.AutomationClient.Scope)
	h.app = h.newRP("acme", h.tok, "Shop", nil)
	if o.idp == "" {
		o.idp = gatehouse.IdentityProviderEmailPassword
	}
	if o.attrs == nil {
		o.attrs = []gatehouse.FlowAttribute{{Name: "displayName", Label: "Display name", DataType: "string", Required: true}}
	}
	h.flow = &gatehouse.UserFlow{TenantID: h.tenant.TenantID, DisplayName: "Sign up and sign in", IdentityProvider: o.idp,
		SignUpAllowed: !o.signUpOff, AppIDs: []string{h.app.cfg.ClientID}, Attributes: o.attrs}
	ctx := context.Background()
	err := st.Update(ctx, func(tx gatehouse.Tx) error {
		if o.accent != "" {
			if _, err := tx.UpdateTenant(ctx, h.tenant.TenantID, func(tn *gatehouse.Tenant) error {
				tn.DisplayName, tn.Branding.AccentColor = "Acme Shop", o.accent
				return nil
			}); err != nil {
				return err
			}
		}
		return tx.CreateUserFlow(ctx, h.flow)
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// addUser creates a user through the admin API, with a password unless pw
// is "".
func (h *hostedEnv) addUser(mail, pw string) string {
	h.t.Helper()
	body := map[string]any{"mail": mail, "displayName": strings.Split(mail, "@")[0]}
	if pw != "" {
		body["passwordProfile"] = map[string]any{"password": pw}
	}
	return h.must(201, "POST", h.tenant.AdminAPI+"/users", h.tok, body).str("id")
}

func (h *hostedEnv) user(mail string) *gatehouse.User {
	h.t.Helper()
	u, err := h.store.UserByMail(context.Background(), h.tenant.TenantID, mail)
	if err != nil {
		h.t.Fatalf("user %s: %v", mail, err)
	}
	return u
}

// begin sends a new browser through the authorization endpoint to the
// flow's first page.
func (h *hostedEnv) begin(b *browser) page {
	h.t.Helper()
	pg := b.get(h.app.cfg.AuthCodeURL("st"))
	if pg.status != 200 || !strings.Contains(pg.url.Path, "/acme/login") {
		h.t.Fatalf("authorize: status %d at %s, want the sign-in page; body %.500s", pg.status, pg.url, pg.body)
	}
	return pg
}

// noFollow returns a browser with b's cookies that stops at every redirect.
func noFollow(b *browser) *browser {
	return &browser{t: b.t, client: &http.Client{Jar: b.client.Jar, Transport: b.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// step submits a form of p that must succeed: the answer is a 303 (never a
// 307, AS-11) to another page, which step fetches, or to the app, which it
// returns as the redirect.
func (h *hostedEnv) step(b *browser, p page, fill map[string]string) page {
	h.t.Helper()
	r := noFollow(b).submit(p, fill)
	if r.status != http.StatusSeeOther {
		h.t.Fatalf("POST %s: status %d, want 303; body %.800s", r.url.Path, r.status, text(r.body))
	}
	if strings.HasPrefix(r.location, rpRedirect) {
		return r
	}
	loc, err := r.url.Parse(r.location)
	if err != nil {
		h.t.Fatal(err)
	}
	return b.get(loc.String())
}

// follow fetches the link of p whose text is text.
func (h *hostedEnv) follow(b *browser, p page, linkText string) page {
	h.t.Helper()
	re := regexp.MustCompile(`<a href="([^"]*)">` + regexp.QuoteMeta(linkText) + `</a>`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		h.t.Fatalf("no link %q on %s", linkText, p.url)
	}
	u, _ := p.url.Parse(htmlUnescape(m[1]))
	return b.get(u.String())
}

// signedIn checks that r is the redirect to the app with a code, exchanges
// the code, and returns the ID token's claims.
func (h *hostedEnv) signedIn(r page) map[string]any {
	h.t.Helper()
	if !strings.HasPrefix(r.location, rpRedirect) {
		h.t.Fatalf("not back at the app: status %d location %q body %.500s", r.status, r.location, text(r.body))
	}
	u, _ := url.Parse(r.location)
	tok, err := h.app.cfg.Exchange(context.Background(), u.Query().Get("code"))
	if err != nil {
		h.t.Fatalf("code exchange: %v", err)
	}
	return h.app.verifyID(tok)
}

// sessionOf returns the ID of the browser's session with acme, or "".
func (h *hostedEnv) sessionOf(b *browser) string {
	u, _ := url.Parse(h.url + "/acme/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "gh_s_acme" {
			sum := sha256.Sum256([]byte(c.Value))
			return hex.EncodeToString(sum[:])
		}
	}
	return ""
}

func (h *hostedEnv) sessionExists(id string) bool {
	h.t.Helper()
	_, err := h.store.Session(context.Background(), h.tenant.TenantID, id)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		h.t.Fatal(err)
	}
	return err == nil
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// text returns the visible text of an HTML page, with spaces collapsed.
func text(body string) string {
	return strings.Join(strings.Fields(htmlUnescape(tagRE.ReplaceAllString(body, " "))), " ")
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

func amr(claims map[string]any) string {
	var out []string
	for _, v := range claims["amr"].([]any) {
		out = append(out, v.(string))
	}
	return strings.Join(out, " ")
}

var boolAttrRE = regexp.MustCompile(`\s(autofocus|required|checked)\b`)

// input returns the attributes of the input with the given id.
func input(t *testing.T, p page, id string) map[string]string {
	t.Helper()
	for _, m := range inputRE.FindAllStringSubmatch(p.body, -1) {
		if a := attrs(m[1]); a["id"] == id {
			for _, b := range boolAttrRE.FindAllStringSubmatch(m[1], -1) {
				a[b[1]] = ""
			}
			return a
		}
	}
	t.Fatalf("no input #%s on %s", id, p.url)
	return nil
}

// label returns the text of the label for the input with the given id.
func label(t *testing.T, p page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<label for="` + regexp.QuoteMeta(id) + `">(.*?)</label>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no label for #%s on %s", id, p.url)
	}
	return text(m[1])
}

func TestPageMarkupAndHeaders(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{accent: "#0F766E", attrs: []gatehouse.FlowAttribute{
			{Name: "displayName", Label: "Display name", DataType: "string", Required: true},
			{Name: "city", DataType: "string"},
			{Name: "loyaltyNumber", Label: "Loyalty number", DataType: "int64", Custom: true},
			{Name: "newsletter", Label: "Send me the newsletter", DataType: "boolean", Custom: true},
		}})
		b := newBrowser(t, rpRedirect)
		login := h.begin(b)

		type want struct {
			id, label, typ, autocomplete, inputmode string
		}
		check := func(p page, title string, wants ...want) {
			t.Helper()
			if !strings.Contains(p.body, "<h1>"+title+"</h1>") {
				t.Errorf("%s: no heading %q", p.url.Path, title)
			}
			hdr := headers(t, b, p.url.String())
			csp := hdr.Get("Content-Security-Policy")
			for _, part := range []string{"frame-ancestors 'none'", "default-src 'none'", "style-src 'self'", "form-action 'self' http://127.0.0.1:9"} {
				if !strings.Contains(csp, part) {
					t.Errorf("%s: CSP %q lacks %q", p.url.Path, csp, part)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script") || strings.Contains(p.body, "style=") {
				t.Errorf("%s: inline script or style", p.url.Path)
			}
			if got := hdr.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", p.url.Path, got)
			}
			for i, w := range wants {
				in := input(t, p, w.id)
				if got := label(t, p, w.id); got != w.label && got != w.label+" *" {
					t.Errorf("%s #%s: label %q, want %q", p.url.Path, w.id, got, w.label)
				}
				if in["type"] != w.typ || in["autocomplete"] != w.autocomplete || in["inputmode"] != w.inputmode {
					t.Errorf("%s #%s: type=%q autocomplete=%q inputmode=%q; want %q %q %q", p.url.Path, w.id,
						in["type"], in["autocomplete"], in["inputmode"], w.typ, w.autocomplete, w.inputmode)
				}
				if _, focused := in["autofocus"]; focused != (i == 0) {
					t.Errorf("%s #%s: autofocus %v", p.url.Path, w.id, focused)
				}
			}
		}
		check(login, "Sign in",
			want{"email", "Email address", "email", "username", ""},
			want{"password", "Password", "password", "current-password", ""})
		if !strings.Contains(login.body, ">Sign in</button>") || !strings.Contains(text(login.body), "No account? Sign up") ||
			!strings.Contains(login.body, ">Forgot your password?</a>") || !strings.Contains(login.body, "Acme Shop") {
			t.Errorf("login page lacks its button, links or the tenant's name")
		}

		// The stylesheets: the embedded one and the tenant's accent colour.
		css := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindAllStringSubmatch(login.body, -1)
		if len(css) != 2 {
			t.Fatalf("stylesheets: %v", css)
		}
		for i, want := range []string{"--accent: #2563eb", "--accent: #0f766e; --accent-ink: #ffffff;"} {
			u, _ := login.url.Parse(htmlUnescape(css[i][1]))
			r := b.get(u.String())
			if ct := headers(t, b, u.String()).Get("Content-Type"); r.status != 200 || ct != "text/css; charset=utf-8" || !strings.Contains(r.body, want) {
				t.Errorf("GET %s: status %d, type %q, body %.100q; want %q", u.Path, r.status, ct, r.body, want)
			}
		}

		signUp := h.follow(b, login, "Sign up")
		check(signUp, "Create your account", want{"email", "Email address", "email", "email", ""})
		code := h.step(b, signUp, map[string]string{"email": "grace@example.com"})
		check(code, "Check your email", want{"code", "Code", "text", "one-time-code", "numeric"})
		if !strings.Contains(code.body, ">Verify</button>") || !strings.Contains(code.body, ">Send a new code</button>") {
			t.Errorf("code page lacks its buttons")
		}
		details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "grace@example.com")})
		check(details, "Create your account",
			want{"password", "New password", "password", "new-password", ""},
			want{"attr-displayName", "Display name", "text", "name", ""},
			want{"attr-city", "City", "text", "address-level2", ""},
			want{"attr-loyaltyNumber", "Loyalty number", "text", "", "numeric"},
			want{"attr-newsletter", "Send me the newsletter", "checkbox", "", ""})

		// Errors name their input, which points at them and takes the focus.
		bad := noFollow(b).submit(details, map[string]string{"password": "short", "attr.displayName": "", "attr.loyaltyNumber": "many", "attr.newsletter": ""})
		if bad.status != 400 {
			t.Fatalf("details with errors: status %d", bad.status)
		}
		for id, msg := range map[string]string{
			"password":           "Use at least 8 characters.",
			"attr-displayName":   "Display name is required.",
			"attr-loyaltyNumber": "Enter a whole number, like 42.",
		} {
			in := input(t, bad, id)
			if in["aria-invalid"] != "true" || !strings.Contains(in["aria-describedby"], id+"-error") {
				t.Errorf("#%s: aria-invalid=%q aria-describedby=%q", id, in["aria-invalid"], in["aria-describedby"])
			}
			if !strings.Contains(bad.body, `<p class="field-error" id="`+id+`-error">`+msg+`</p>`) {
				t.Errorf("#%s: error %q not shown", id, msg)
			}
		}
		if _, ok := input(t, bad, "password")["autofocus"]; !ok {
			t.Errorf("the first input with an error does not get the focus")
		}
		if _, ok := input(t, bad, "attr-city")["aria-invalid"]; ok {
			t.Errorf("a valid input is marked invalid")
		}
		if strings.Contains(bad.body, `value="short"`) {
			t.Errorf("the password was sent back in the page")
		}

		// The static stylesheet is cacheable under its version only.
		u, _ := login.url.Parse(htmlUnescape(css[0][1]))
		if cc := headers(t, b, u.String()).Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("versioned stylesheet: Cache-Control %q", cc)
		}
		if cc := headers(t, b, h.url+"/static/pages.css").Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("unversioned stylesheet: Cache-Control %q", cc)
		}
	})
}

func TestPageFormsNeedTheirBrowser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		login := h.begin(b)

		// A wrong anti-forgery token (FE-1).
		forged := strings.Replace(login.body, `name="csrf" value="`, `name="csrf" value="x`, 1)
		r := noFollow(b).submit(page{url: login.url, body: forged}, map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		if r.status != 403 || !strings.Contains(text(r.body), "This form has expired. Go back and try again.") {
			t.Errorf("POST with a wrong csrf: status %d, body %.300s", r.status, text(r.body))
		}
		// The right form, posted from another browser (no binding cookie).
		other := newBrowser(t, rpRedirect)
		r = noFollow(other).submit(login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
		if r.status != 403 || r.location != "" {
			t.Errorf("POST from another browser: status %d location %q", r.status, r.location)
		}
		// And the page itself in another browser.
		if r := other.get(login.url.String()); r.status != 400 || !strings.Contains(text(r.body), "started in another browser") ||
			!regexp.MustCompile(`Correlation ID: [0-9a-f-]{36}`).MatchString(text(r.body)) {
			t.Errorf("GET in another browser: status %d, body %.300s", r.status, text(r.body))
		}
		// The user was not signed in by any of it, and is by the real form.
		if claims := h.signedIn(h.step(b, login, map[string]string{"email": "ada@example.com", "password": "correct horse battery"})); amr(claims) != "pwd" {
			t.Errorf("amr %v", claims["amr"])
		}
		// Unknown tenants and transactions get pages, not JSON.
		for _, u := range []string{"/nosuch/login?tx=x", "/acme/login?tx=nosuch", "/acme/signup"} {
			r := b.get(h.url + u)
			if ct := headers(t, b, h.url+u).Get("Content-Type"); r.status != 404 && r.status != 400 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(r.body, "Correlation ID") {
				t.Errorf("GET %s: status %d, type %q", u, r.status, ct)
			}
		}
	})
}

func TestDevMailbox(t *testing.T) {
	mb := notify.NewMailbox(0, nil)
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{mailbox: mb})
	b := newBrowser(t, rpRedirect)
	signUp := h.follow(b, h.begin(b), "Sign up")
	h.step(b, signUp, map[string]string{"email": "grace@example.com"})

	list := b.get(h.url + "/dev/mailbox")
	if list.status != 200 || !strings.Contains(list.body, "Development mailbox — not for production") || !strings.Contains(list.body, "grace@example.com") {
		t.Fatalf("mailbox: status %d, body %.500s", list.status, text(list.body))
	}
	msgs := mb.Messages()
	if len(msgs) != 1 {
		t.Fatalf("mailbox holds %d messages", len(msgs))
	}
	code := regexp.MustCompile(`\b[0-9]{8}\b`).FindString(msgs[0].Text)
	one := b.get(h.url + "/dev/mailbox/" + msgs[0].ID)
	if one.status != 200 || !strings.Contains(text(one.body), "Code: "+code) || !strings.Contains(headers(t, b, one.url.String()).Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("message page: status %d, body %.500s", one.status, text(one.body))
	}
	if strings.Contains(one.body, "<table role=\"presentation\"") {
		t.Errorf("the mail's HTML is part of the page itself, not framed")
	}
	// The HTML part is rendered beside the text in a sandboxed frame from a
	// route of its own, which may run nothing.
	csp := headers(t, b, one.url.String()).Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("message page CSP %q: want frames from this server only, and nothing inline", csp)
	}
	frame := regexp.MustCompile(`<iframe class="mail-html" src="([^"]+)" sandbox="" [^>]*>`).FindStringSubmatch(one.body)
	if frame == nil || !strings.Contains(one.body, "<h2>Text</h2>") {
		t.Fatalf("the message page has no sandboxed frame beside the text:\n%s", one.body)
	}
	src, _ := one.url.Parse(htmlUnescape(frame[1]))
	part := b.get(src.String())
	hdr := headers(t, b, src.String())
	if part.status != 200 || part.body != msgs[0].HTML || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HTML part: status %d, type %q, body %.200q", part.status, hdr.Get("Content-Type"), part.body)
	}
	partCSP := hdr.Get("Content-Security-Policy")
	if !strings.HasPrefix(partCSP, "sandbox;") || strings.Contains(partCSP, "script") || !strings.Contains(partCSP, "default-src 'none'") ||
		!strings.Contains(partCSP, "frame-ancestors 'self'") || hdr.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("HTML part: CSP %q, X-Frame-Options %q; want a sandbox without scripts, framed only here", partCSP, hdr.Get("X-Frame-Options"))
	}
	if r := b.get(h.url + "/dev/mailbox/nosuch/html"); r.status != 404 {
		t.Errorf("HTML part of an unknown message: status %d", r.status)
	}
	// A text-only message has no frame.
	if err := mb.Send(context.Background(), notify.Message{To: "ada@example.com", Subject: "Plain", Text: "Only text."}); err != nil {
		t.Fatal(err)
	}
	plainMsg := mb.Messages()[0]
	if r := b.get(h.url + "/dev/mailbox/" + plainMsg.ID); r.status != 200 || strings.Contains(r.body, "<iframe") ||
		strings.Contains(headers(t, b, h.url+"/dev/mailbox/"+plainMsg.ID).Get("Content-Security-Policy"), "frame-src") {
		t.Errorf("text-only message: status %d, a frame or frame-src", r.status)
	}
	if r := b.get(h.url + "/dev/mailbox/" + plainMsg.ID + "/html"); r.status != 404 {
		t.Errorf("HTML part of a text-only message: status %d", r.status)
	}
	if r := h.call("GET", h.url+"/readyz", "", nil); !strings.Contains(r.raw, "development mailbox") {
		t.Errorf("readyz: %s", r.raw)
	}

	// Not there without a development mailbox.
	plain := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{})
	if r := b.get(plain.url + "/dev/mailbox"); r.status != 404 {
		t.Errorf("mailbox without development mode: status %d", r.status)
	}
}

// headers fetches u again (a GET page is safe to fetch twice) and returns
// the response's header.
func headers(t *testing.T, b *browser, u string) http.Header {
	t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header
}

// lockedBuffer is a log destination for concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requiredMarks checks the "*" markers of a page's inputs: with the note
// "Fields marked * are required", exactly the required inputs are marked;
// without it, none is. It returns whether the page has the note.
func requiredMarks(t *testing.T, p page) bool {
	t.Helper()
	noted := strings.Contains(text(p.body), "Fields marked * are required.")
	for _, m := range inputRE.FindAllStringSubmatch(p.body, -1) {
		a := attrs(m[1])
		if a["type"] == "hidden" {
			continue
		}
		_, required := input(t, p, a["id"])["required"]
		marked := strings.HasSuffix(label(t, p, a["id"]), " *")
		if marked != (noted && required) {
			t.Errorf("%s #%s: marked %v, required %v, note shown %v", p.url.Path, a["id"], marked, required, noted)
		}
	}
	return noted
}

// TestRequiredFieldsMarked walks every hosted page of sign-up, sign-in and
// password reset: a form with optional inputs marks each required one
// (the new password included) and says what "*" means; a form whose
// inputs are all required marks none.
func TestRequiredFieldsMarked(t *testing.T) {
	for _, c := range []struct {
		name  string
		attrs []gatehouse.FlowAttribute
		noted bool // on the details page
	}{
		{"some optional", []gatehouse.FlowAttribute{
			{Name: "displayName", Label: "Display name", DataType: "string", Required: true},
			{Name: "city", DataType: "string"},
			{Name: "terms", Label: "I accept the terms", DataType: "boolean", Custom: true, Required: true},
		}, true},
		{"all optional", []gatehouse.FlowAttribute{{Name: "city", DataType: "string"}}, true},
		{"all required", []gatehouse.FlowAttribute{{Name: "displayName", Label: "Display name", DataType: "string", Required: true}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{attrs: c.attrs})
			h.addUser("ada@example.com", "correct horse battery")
			b := newBrowser(t, rpRedirect)
			login := h.begin(b)
			signUp := h.follow(b, login, "Sign up")
			code := h.step(b, signUp, map[string]string{"email": "grace@example.com"})
			details := h.step(b, code, map[string]string{"code": h.smtp.CodeFor(t, "grace@example.com")})
			reset := h.follow(b, h.begin(b), "Forgot your password?")
			resetCode := h.step(b, reset, map[string]string{"email": "ada@example.com"})
			newPassword := h.step(b, resetCode, map[string]string{"code": h.smtp.CodeFor(t, "ada@example.com")})
			for _, p := range []page{login, signUp, code, resetCode, reset, newPassword} {
				if requiredMarks(t, p) {
					t.Errorf("%s: the note is shown on a form whose inputs are all required", p.url.Path)
				}
			}
			if got := requiredMarks(t, details); got != c.noted {
				t.Errorf("details page: note shown %v, want %v", got, c.noted)
			}
			if c.noted && label(t, details, "password") != "New password *" {
				t.Errorf("details page: the new password's label is %q, want it marked", label(t, details, "password"))
			}
			// A refused form keeps its marks.
			if r := noFollow(b).submit(details, map[string]string{"password": "short"}); r.status != http.StatusBadRequest || requiredMarks(t, r) != c.noted {
				t.Errorf("refused details: status %d", r.status)
			}
		})
	}
}
