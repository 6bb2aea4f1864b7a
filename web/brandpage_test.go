package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestPagesShowTheLogo: the hosted pages show every logo the branding API
// accepts, and their Content-Security-Policy lets the browser load it: any
// https logo, and an http logo on a loopback host (development) by its
// origin only.
func TestPagesShowTheLogo(t *testing.T) {
	h := newHostedEnv(t, storetest.Engines(t)[0], hostedOptions{})
	for _, c := range []struct {
		logo    string
		imgSrc  string // what img-src must allow
		notSrc  string // what it must not
		showImg bool
	}{
		{"https://cdn.acme.example/logo.png", "https:", "http:", true},
		{"http://localhost:3000/logo.png", "http://localhost:3000", "http: ", true},
		{"", "'self'", "http://", false},
	} {
		h.must(204, "PATCH", h.tenant.AdminAPI+"/organization/"+h.tenant.TenantID+"/branding", h.tok,
			map[string]any{"gatehouse": map[string]any{"logoUrl": c.logo}})
		b := newBrowser(t, rpRedirect)
		pg := h.begin(b)
		img := `<img class="brand-logo" src="` + c.logo + `"`
		if got := strings.Contains(pg.body, img); got != c.showImg {
			t.Errorf("logo %q: the sign-in page shows the image: %v, want %v", c.logo, got, c.showImg)
		}
		req, _ := http.NewRequestWithContext(context.Background(), "GET", pg.url.String(), nil)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		var imgSrc string
		for _, d := range strings.Split(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "img-src ") {
				imgSrc = d + " "
			}
		}
		if !strings.Contains(imgSrc, " "+c.imgSrc) || strings.Contains(imgSrc, " "+c.notSrc) {
			t.Errorf("logo %q: CSP %q; want img-src to allow %q and not %q", c.logo, csp, c.imgSrc, c.notSrc)
		}
	}
	if tn, err := h.store.Tenant(context.Background(), h.tenant.TenantID); err != nil || tn.Branding != (gatehouse.Branding{}) {
		t.Errorf("branding after clearing the logo: %+v, %v", tn, err)
	}
}
