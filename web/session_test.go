package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// sessionCookie returns the raw value of the browser's session cookie
// with acme, or "".
func (h *hostedEnv) sessionCookie(b *browser) string {
	u, _ := url.Parse(h.url + "/acme/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "gh_s_acme" {
			return c.Value
		}
	}
	return ""
}

// browserWithSession returns a new browser holding only the session
// cookie value.
func (h *hostedEnv) browserWithSession(value string) *browser {
	b := newBrowser(h.t, rpRedirect)
	u, _ := url.Parse(h.url + "/acme/")
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gh_s_acme", Value: value, Path: "/"}})
	return b
}

var promptNone = oauth2.SetAuthURLParam("prompt", "none")

// TestSE2NewSessionIDAtEverySignIn: every sign-in, the re-authentication
// of prompt=login included, sets a new session secret, and the old one
// stops working at once.
func TestSE2NewSessionIDAtEverySignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		h.app.authorize(b, "ada@example.com", "correct horse battery")
		seen := map[string]bool{}
		prev, prevID := h.sessionCookie(b), h.sessionOf(b)
		if prev == "" || !h.sessionExists(prevID) {
			t.Fatalf("no session after the sign-in (cookie %q)", prev)
		}
		seen[prev] = true
		for i, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"), oauth2.SetAuthURLParam("prompt", "login")} {
			if _, shown := h.app.authorize(b, "ada@example.com", "correct horse battery", opt); !shown {
				t.Fatalf("re-authentication %d: no sign-in page", i+1)
			}
			cur, curID := h.sessionCookie(b), h.sessionOf(b)
			if seen[cur] {
				t.Errorf("re-authentication %d: the session cookie kept an earlier value", i+1)
			}
			seen[cur] = true
			if h.sessionExists(prevID) {
				t.Errorf("re-authentication %d: the previous session still exists", i+1)
			}
			if !h.sessionExists(curID) {
				t.Errorf("re-authentication %d: the new session is not stored", i+1)
			}
			// The old cookie, replayed, is no session; the new one is.
			if res, _ := h.app.authorize(h.browserWithSession(prev), "", "", promptNone); res.err != "login_required" {
				t.Errorf("re-authentication %d: the previous cookie still signs in: %+v", i+1, res)
			}
			if res, _ := h.app.authorize(h.browserWithSession(cur), "", "", promptNone); res.code == "" {
				t.Errorf("re-authentication %d: the new cookie does not sign in: %+v", i+1, res)
			}
			prev, prevID = cur, curID
		}
	})
}

// cookieClient is a client that keeps cookies by hand, so that Secure
// cookies can be followed over plain http, and records every Set-Cookie.
type cookieClient struct {
	t       *testing.T
	base    string // where requests go, whatever the public URL
	public  string // the server's public URL, which Locations start with
	jar     map[string]string
	set     []*http.Cookie
	lastURL *url.URL
}

func (c *cookieClient) do(method, u string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	u = c.base + strings.TrimPrefix(strings.TrimPrefix(u, c.public), c.base)
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		c.set = append(c.set, ck)
		if ck.MaxAge < 0 {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck.Value
		}
	}
	c.lastURL = req.URL
	return resp, string(raw)
}

// signInAndOut signs in with the client through the pages, then signs out
// on the confirmation page, and returns every cookie the server set.
func signInAndOut(t *testing.T, c *cookieClient, authorizeURL, mail, pw string) []*http.Cookie {
	t.Helper()
	resp, _ := c.do("GET", authorizeURL, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	resp, body := c.do("GET", resp.Header.Get("Location"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: status %d %.300s", resp.StatusCode, text(body))
	}
	vals := formValues(t, page{url: c.lastURL, body: body}, "email", mail)
	vals.Set("password", pw)
	resp, body = c.do("POST", c.base+"/acme/login", vals)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), rpRedirect) {
		t.Fatalf("sign-in: status %d location %q %.300s", resp.StatusCode, resp.Header.Get("Location"), text(body))
	}
	resp, body = c.do("GET", c.base+"/acme/oauth2/v2.0/logout", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out page: status %d %.300s", resp.StatusCode, text(body))
	}
	resp, body = c.do("POST", c.base+"/acme/oauth2/v2.0/logout", formValues(t, page{url: c.lastURL, body: body}, "confirm", "yes"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(text(body), "You have signed out") {
		t.Fatalf("sign-out: status %d %.300s", resp.StatusCode, text(body))
	}
	return c.set
}

// TestSE3CookieAttributes parses the Set-Cookie headers of a sign-in and a
// sign-out: HttpOnly, SameSite=Lax, Path=/ and no Domain always; Secure
// and the __Host- prefix when the public URL is https, neither when it is
// http on a loopback host (development).
func TestSE3CookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, public string
		secure       bool
	}{
		{"http loopback", "", false},
		{"https", "https://id.example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), newKey(t), func(o *web.Options) {
				if tc.public != "" {
					o.PublicURL = tc.public
				}
			})
			public := e.url
			if tc.public != "" {
				public = tc.public
			}
			acme := e.createTenant("acme")
			tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, gatehouse.AdminAPIScope(public, "acme"))
			api := e.url + "/acme/graph/v1.0"
			e.must(201, "POST", api+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
			appID := e.must(201, "POST", api+"/applications", tok, map[string]any{"displayName": "Shop", "web": map[string]any{"redirectUris": []string{rpRedirect}}}).str("appId")
			e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, true, appID)

			c := &cookieClient{t: t, base: e.url, public: public, jar: map[string]string{}}
			authz := e.url + "/acme/oauth2/v2.0/authorize?" + url.Values{"client_id": {appID}, "redirect_uri": {rpRedirect},
				"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}.Encode()
			set := signInAndOut(t, c, authz, "ada@example.com", "correct horse battery")

			prefix := ""
			if tc.secure {
				prefix = "__Host-"
			}
			names := map[string]int{}
			for _, ck := range set {
				names[ck.Name]++
				if ck.Name != prefix+"gh_b_acme" && ck.Name != prefix+"gh_s_acme" {
					t.Errorf("cookie %q: want %sgh_b_acme or %sgh_s_acme", ck.Name, prefix, prefix)
				}
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != tc.secure {
					t.Errorf("Set-Cookie %s: HttpOnly %v SameSite %v Path %q Domain %q Secure %v; want HttpOnly, Lax, /, no Domain, Secure %v",
						ck.Raw, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain, ck.Secure, tc.secure)
				}
				if strings.Contains(strings.ToLower(ck.Raw), "domain=") {
					t.Errorf("Set-Cookie %s has a Domain", ck.Raw)
				}
			}
			// The binding cookie once, the session cookie at sign-in and
			// its removal at sign-out.
			if names[prefix+"gh_b_acme"] != 1 || names[prefix+"gh_s_acme"] != 2 {
				t.Errorf("cookies set: %v", names)
			}
			if last := set[len(set)-1]; last.Name != prefix+"gh_s_acme" || last.MaxAge >= 0 {
				t.Errorf("sign-out did not remove the session cookie: %s", last.Raw)
			}
		})
	}
}

// TestSE4SessionTimeouts: the server ends a session 12 hours after its
// last use, and one in constant use 7 days after its sign-in.
func TestSE4SessionTimeouts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")

		b := newBrowser(t, rpRedirect)
		h.app.authorize(b, "ada@example.com", "correct horse battery")
		h.clk.Advance(web.SessionIdleTimeout - time.Second)
		if res, _ := h.app.authorize(b, "", "", promptNone); res.code == "" {
			t.Fatalf("prompt=none a second before the idle timeout: %+v, want a code", res)
		}
		h.clk.Advance(web.SessionIdleTimeout + time.Second)
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "login_required" {
			t.Errorf("prompt=none past the idle timeout: %+v, want login_required", res)
		}

		b = newBrowser(t, rpRedirect)
		h.app.authorize(b, "ada@example.com", "correct horse battery")
		start := h.clk.Now()
		for step := 1; ; step++ {
			h.clk.Advance(web.SessionIdleTimeout - time.Hour)
			res, _ := h.app.authorize(b, "", "", promptNone)
			age := h.clk.Now().Sub(start)
			if age < web.SessionLifetime {
				if res.code == "" {
					t.Fatalf("prompt=none %v after the sign-in, used every 11 hours: %+v, want a code", age, res)
				}
				continue
			}
			if res.err != "login_required" {
				t.Errorf("prompt=none %v after the sign-in (past the 7-day limit), used every 11 hours: %+v, want login_required", age, res)
			}
			break
		}
	})
}

// TestLogoutConfirmation: without an id_token_hint the end-session
// endpoint asks the user to confirm. The confirmation without its
// anti-forgery token, with another browser's, or posted from another
// browser, ends nothing; the real one ends the session and its tokens.
func TestLogoutConfirmation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		h.addUser("ada@example.com", "correct horse battery")
		h.addUser("eve@example.com", "correct horse battery")
		logout := h.url + "/acme/oauth2/v2.0/logout"

		b := newBrowser(t, rpRedirect)
		res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery")
		tok, err := h.app.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatal(err)
		}
		sid := h.sessionOf(b)
		confirm := b.get(logout)
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "<h1>Sign out?</h1>") || !strings.Contains(text(confirm.body), "ada@example.com") {
			t.Fatalf("sign-out page: status %d %.400s", confirm.status, text(confirm.body))
		}
		good := formValues(t, confirm, "confirm", "yes")
		if good.Get("csrf") == "" {
			t.Fatalf("the sign-out form has no anti-forgery token: %v", good)
		}

		eve := newBrowser(t, rpRedirect)
		h.app.authorize(eve, "eve@example.com", "correct horse battery")
		eveForm := formValues(t, eve.get(logout), "confirm", "yes")
		post := func(b *browser, vals url.Values) page {
			req, _ := http.NewRequest("POST", logout, strings.NewReader(vals.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return noFollow(b).do(req)
		}
		without := url.Values{}
		for k, v := range good {
			if k != "csrf" {
				without[k] = v
			}
		}
		for _, c := range []struct {
			name string
			b    *browser
			vals url.Values
		}{
			{"without the anti-forgery token", b, without},
			{"with another browser's token", b, eveForm},
			{"from another signed-in browser", eve, good},
			{"from a browser without cookies", newBrowser(t, rpRedirect), good},
		} {
			if r := post(c.b, c.vals); r.status != http.StatusForbidden {
				t.Errorf("sign-out %s: status %d, want 403; %.300s", c.name, r.status, text(r.body))
			}
			if !h.sessionExists(sid) {
				t.Fatalf("sign-out %s ended Ada's session", c.name)
			}
		}
		if res, _ := h.app.authorize(eve, "", "", promptNone); res.code == "" {
			t.Errorf("Eve's refused sign-out ended her session: %+v", res)
		}

		if r := post(b, good); r.status != http.StatusOK || !strings.Contains(text(r.body), "You have signed out") {
			t.Fatalf("confirmed sign-out: status %d %.300s", r.status, text(r.body))
		}
		if h.sessionExists(sid) {
			t.Errorf("the session outlived the confirmed sign-out")
		}
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "login_required" {
			t.Errorf("prompt=none after sign-out: %+v, want login_required", res)
		}
		if _, err := h.app.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Errorf("the session's refresh token works after sign-out")
		}
	})
}

// TestSE6DeletedUserSessionsEnd: deleting a user ends the user's sessions
// and tokens at once (disabling is covered by TestSessionsEndWithTheUser).
func TestSE6DeletedUserSessionsEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		h := newHostedEnv(t, eng, hostedOptions{})
		id := h.addUser("ada@example.com", "correct horse battery")
		b := newBrowser(t, rpRedirect)
		res, _ := h.app.authorize(b, "ada@example.com", "correct horse battery")
		tok, err := h.app.cfg.Exchange(ctx, res.code)
		if err != nil {
			t.Fatal(err)
		}
		sid := h.sessionOf(b)
		if _, err := h.app.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("userinfo before the delete: %v", err)
		}

		h.must(204, "DELETE", h.tenant.AdminAPI+"/users/"+id, h.tok, nil)
		if h.sessionExists(sid) {
			t.Errorf("the deleted user's session is still stored")
		}
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "login_required" {
			t.Errorf("prompt=none in the deleted user's browser: %+v, want login_required", res)
		}
		if _, err := h.app.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("refresh of a deleted user: %v, want invalid_grant", err)
		}
		if _, err := h.app.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Errorf("userinfo with a deleted user's access token still works")
		}
		// A new account with the same address is someone else.
		h.addUser("ada@example.com", "correct horse battery")
		if res, _ := h.app.authorize(b, "", "", promptNone); res.err != "login_required" {
			t.Errorf("prompt=none after the address was given to a new account: %+v, want login_required", res)
		}
	})
}
