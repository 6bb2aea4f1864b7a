package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// browser is a cookie-keeping HTTP client that stops at redirects to the
// relying party's redirect URIs, as a browser would hand them to the app.
type browser struct {
	t      testing.TB
	client *http.Client
	stopAt []string
}

func newBrowser(t testing.TB, stopAt ...string) *browser {
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

// page is a fetched page: its final URL, status, body and, for a
// redirect the browser stopped at, the Location.
type page struct {
	url      *url.URL
	status   int
	body     string
	location string
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
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// submit fills the page's first POST form that has an input of each kind
// in fill (keys are input types or names: "email", "password", "code"…)
// and posts it.
func (b *browser) submit(p page, fill map[string]string) page {
	b.t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(p.body, -1) {
		fa := attrs(f[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		vals := url.Values{}
		matched := 0
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			name := a["name"]
			if name == "" {
				continue
			}
			if v, ok := fill[a["type"]]; ok && a["type"] != "hidden" {
				vals.Set(name, v)
				matched++
			} else if v, ok := fill[name]; ok {
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
		req, _ := http.NewRequest("POST", action.String(), strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
		return b.do(req)
	}
	b.t.Fatalf("no POST form on %s with inputs for %v; page:\n%s", p.url, fill, p.body)
	return page{}
}

// clock is the real clock moved forward by what the test advanced it.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// createFlow connects apps to a new email-and-password user flow.
func (e *testEnv) createFlow(tenantID, idp string, signUp bool, appIDs ...string) {
	e.t.Helper()
	err := e.store.Update(context.Background(), func(tx gatehouse.Tx) error {
		return tx.CreateUserFlow(context.Background(), &gatehouse.UserFlow{TenantID: tenantID, DisplayName: "Sign up and sign in",
			IdentityProvider: idp, SignUpAllowed: signUp, AppIDs: appIDs,
			Attributes: []gatehouse.FlowAttribute{{Name: "displayName", Label: "Display name", DataType: "string", Required: true}}})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}
