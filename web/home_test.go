package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// checkStyledPage fails unless r is an HTML page of the hosted pages' look
// (their stylesheet, a heading) under their strict CSP, with nothing inline.
func checkStyledPage(t *testing.T, what string, r response, heading string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q, want an HTML page", what, ct)
	}
	if !strings.Contains(r.raw, "<h1>"+heading+"</h1>") {
		t.Errorf("%s: no heading %q in %.300s", what, heading, text(r.raw))
	}
	if !regexp.MustCompile(`<link rel="stylesheet" href="/static/pages\.css\?v=[0-9a-f]+">`).MatchString(r.raw) {
		t.Errorf("%s: the page does not use the hosted pages' stylesheet", what)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(r.raw, "<script") || strings.Contains(r.raw, "style=") {
		t.Errorf("%s: inline script or style", what)
	}
}

// hrefs returns the targets of the page's links.
func hrefs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<a href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, htmlUnescape(m[1]))
	}
	return out
}

// TestRootAndUnknownPages checks the server's root page (what Gatehouse is,
// the links it was given, documentation-style addresses, no tenant names),
// a tenant's page (its name and discovery document), and that every
// unknown address outside the admin API is the styled "Page not available"
// page with 404, while the admin API keeps its Graph-shaped JSON.
func TestRootAndUnknownPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		links := []web.RootLink{
			{Text: "Sample app", Href: "http://localhost:18081/", Note: "Sign up and sign in as a customer would."},
			{Text: "Development mailbox", Href: "/dev/mailbox"},
		}
		e := newEnv(t, eng.Open(t), newKey(t), func(o *web.Options) { o.RootLinks = links })
		res := e.createTenant("acme")
		ctx := context.Background()
		err := e.store.Update(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateTenant(ctx, res.TenantID, func(tn *gatehouse.Tenant) error {
				tn.DisplayName = "Acme Shop"
				return nil
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("root", func(t *testing.T) {
			r := e.call("GET", e.url+"/", "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET /: status %d, body %.300s", r.status, r.raw)
			}
			checkStyledPage(t, "GET /", r, "Gatehouse")
			body := text(strings.ReplaceAll(r.raw, "<wbr>", "")) // where long addresses may break
			for _, want := range []string{
				"Gatehouse is a self-hosted customer identity server.",
				"Start here", "Sample app Sign up and sign in as a customer would.", "Development mailbox",
				e.url + "/{tenant}/v2.0/.well-known/openid-configuration",
				e.url + "/{tenant}/graph/v1.0",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the root page lacks %q:\n%s", want, body)
				}
			}
			if !strings.Contains(r.raw, ">"+e.url+"<wbr>/{tenant}<wbr>/graph<wbr>/v1.0</dd>") {
				t.Errorf("the admin API's address may not break between its segments:\n%s", r.raw)
			}
			got := hrefs(r.raw)
			if len(got) != 2 || got[0] != "http://localhost:18081/" || got[1] != "/dev/mailbox" {
				t.Errorf("root page links %q, want the RootLinks in order", got)
			}
			// Anonymous visitors learn no tenant's name.
			for _, secret := range []string{"acme", "Acme Shop"} {
				if strings.Contains(strings.ToLower(r.raw), strings.ToLower(secret)) {
					t.Errorf("the root page names the tenant %q", secret)
				}
			}
			if h := e.call("HEAD", e.url+"/", "", nil); h.status != http.StatusOK {
				t.Errorf("HEAD /: status %d", h.status)
			}
		})

		t.Run("root without links", func(t *testing.T) {
			plain := newEnv(t, eng.Open(t), newKey(t))
			r := plain.call("GET", plain.url+"/", "", nil)
			checkStyledPage(t, "GET / of serve", r, "Gatehouse")
			if strings.Contains(r.raw, "Start here") || len(hrefs(r.raw)) != 0 {
				t.Errorf("a root page without RootLinks shows links: %q", hrefs(r.raw))
			}
		})

		t.Run("tenant", func(t *testing.T) {
			discovery := res.Issuer + "/.well-known/openid-configuration"
			for _, p := range []string{"/acme", "/acme/"} {
				r := e.call("GET", e.url+p, "", nil)
				if r.status != http.StatusOK {
					t.Fatalf("GET %s: status %d, body %.300s", p, r.status, r.raw)
				}
				checkStyledPage(t, "GET "+p, r, "Sign-in service")
				if body := text(r.raw); !strings.Contains(body, "This is where the applications of Acme Shop sign you in.") ||
					!strings.Contains(body, "For developers OpenID Connect discovery document The tenant's issuer is "+res.Issuer+".") {
					t.Errorf("GET %s does not name the tenant and its issuer:\n%s", p, body)
				}
				if got := hrefs(r.raw); len(got) != 1 || got[0] != discovery {
					t.Errorf("GET %s: links %q, want only %q", p, got, discovery)
				}
			}
			// The link leads to the tenant's discovery document.
			d := e.must(http.StatusOK, "GET", discovery, "", nil)
			if d.str("issuer") != res.Issuer {
				t.Errorf("discovery issuer %q, want %q", d.str("issuer"), res.Issuer)
			}
		})

		t.Run("unknown addresses", func(t *testing.T) {
			var bodies []string
			for _, p := range []string{
				"/nosuch", "/nosuch/", "/acme/nothing", "/acme/oauth2/v2.0/nothing", "/a/b/c",
				"/static/nothing.css", "/dev/mailbox", "/favicon.ico", "/acme/v2.0",
			} {
				r := e.call("GET", e.url+p, "", nil)
				if r.status != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", p, r.status)
					continue
				}
				checkStyledPage(t, "GET "+p, r, "Page not available")
				body := regexp.MustCompile(`Correlation ID: \S+`).ReplaceAllString(text(r.raw), "")
				if !strings.Contains(body, "There is no page at this address.") {
					t.Errorf("GET %s: %s", p, body)
				}
				if got := hrefs(r.raw); len(got) != 1 || got[0] != "/" {
					t.Errorf("GET %s: links %q, want one to the start page", p, got)
				}
				bodies = append(bodies, body)
			}
			// An unknown tenant looks like any unknown address.
			for i, b := range bodies {
				if b != bodies[0] {
					t.Errorf("page %d differs from the page of an unknown tenant:\n%s\n%s", i, b, bodies[0])
				}
			}
		})

		t.Run("admin API keeps JSON", func(t *testing.T) {
			for _, p := range []string{"/acme/graph/v1.0/nothing", "/nosuch/graph/v1.0/users"} {
				r := e.call("GET", e.url+p, "", nil)
				if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Errorf("GET %s: status %d, type %q, want a Graph 404", p, r.status, r.header.Get("Content-Type"))
				}
				if e, _ := r.body["error"].(map[string]any); e["code"] != "Request_ResourceNotFound" {
					t.Errorf("GET %s: body %s", p, r.raw)
				}
			}
		})

		t.Run("wrong method", func(t *testing.T) {
			for _, c := range []struct {
				method, path, allow, contentType string
			}{
				{"DELETE", "/", "GET, HEAD", "text/html; charset=utf-8"},
				{"PUT", "/acme/login", "GET, HEAD, POST", "text/html; charset=utf-8"},
				{"POST", "/acme", "GET, HEAD", "text/html; charset=utf-8"},
				{"GET", "/acme/oauth2/v2.0/token", "OPTIONS, POST", "application/json"},
			} {
				r := e.call(c.method, e.url+c.path, "", nil)
				if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow || !strings.HasPrefix(r.header.Get("Content-Type"), c.contentType) {
					t.Errorf("%s %s: status %d, Allow %q, type %q; want 405, %q, %q", c.method, c.path, r.status,
						r.header.Get("Allow"), r.header.Get("Content-Type"), c.allow, c.contentType)
				}
				if !strings.Contains(htmlUnescape(r.raw), "This address does not accept "+c.method+" requests") {
					t.Errorf("%s %s: body %.300s", c.method, c.path, r.raw)
				}
			}
		})
	})
}

func TestRootLinksChecked(t *testing.T) {
	st := storetest.Engines(t)[0].Open(t)
	env := newEnv(t, st, newKey(t))
	for _, l := range []web.RootLink{
		{Text: "", Href: "/dev/mailbox"},
		{Text: "Script", Href: "javascript:alert(1)"},
		{Text: "Relative", Href: "dev/mailbox"},
		{Text: "Protocol-relative", Href: "//evil.example/"},
	} {
		_, err := web.NewServer(web.Options{Store: st, Keys: env.keys, Vault: env.vault, Passwords: env.hasher, PublicURL: env.url, RootLinks: []web.RootLink{l}})
		if err == nil || !strings.Contains(err.Error(), "RootLink") {
			t.Errorf("RootLink %+v: NewServer error %v, want one naming the RootLink", l, err)
		}
	}
}
