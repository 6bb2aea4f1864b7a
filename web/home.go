package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The server's root page says what Gatehouse is and where its addresses
// are, without naming any tenant: anonymous visitors must not learn which
// tenants exist. A tenant's root page names the tenant and links its
// discovery document, which is public anyway. Every other unknown path,
// outside the admin API, gets the "Page not available" page.

// msgNoPage is the body of the "Page not available" page: the same for an
// unknown tenant as for any other unknown address.
const msgNoPage = "There is no page at this address. Check the link, or go back to the application you came from."

// homeView is what the root pages show under their heading.
type homeView struct {
	// Links are shown first, as a list under the heading LinksTitle.
	LinksTitle string
	Links      []RootLink
	// PathsLead introduces Paths, the addresses the server serves.
	PathsLead string
	Paths     []homePath
}

// homePath is one address of the server, written as documentation:
// {tenant} stands for a tenant's name.
type homePath struct{ Label, Path string }

// Segments returns the path in pieces, the first with the scheme and
// host and each other starting with "/", between which the page may break
// a long address.
func (p homePath) Segments() []string {
	start := 0
	if i := strings.Index(p.Path, "://"); i >= 0 {
		start = i + 3
	}
	var out []string
	last := 0
	for i := start; i < len(p.Path); i++ {
		if p.Path[i] == '/' && i > last {
			out = append(out, p.Path[last:i])
			last = i
		}
	}
	return append(out, p.Path[last:])
}

// check reports a RootLink that NewServer cannot show.
func (l RootLink) check() error {
	if l.Text == "" {
		return errorString("web: a RootLink needs a Text (its Href is " + l.Href + ")")
	}
	u, err := url.Parse(l.Href)
	switch {
	case err != nil:
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(l.Href, "/") && !strings.HasPrefix(l.Href, "//"):
		return nil
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return nil
	}
	return errorString(fmt.Sprintf("web: RootLink %q has the Href %q; use an absolute http(s) URL or a path starting with /", l.Text, l.Href))
}

// handleRoot is the server's root page.
func (s *server) handleRoot() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := strings.TrimSuffix(s.PublicURL, "/")
		tenant := gatehouse.TenantURL(base, "{tenant}")
		s.renderPage(w, r, http.StatusOK, "home", &pageView{
			Title: "Gatehouse",
			Lead: []string{
				"Gatehouse is a self-hosted customer identity server. Applications send people here to sign up and sign in with OpenID Connect; administrators manage each tenant through its admin API.",
				"To sign in, open the application you want to use and choose Sign in: it brings you to the right page.",
			},
			Home: &homeView{
				LinksTitle: "Start here",
				Links:      s.RootLinks,
				PathsLead:  "For developers and administrators; {tenant} stands for a tenant's name.",
				Paths: []homePath{
					{"OpenID Connect discovery", gatehouse.IssuerURL(base, "{tenant}") + "/.well-known/openid-configuration"},
					{"Admin API (Microsoft Graph-shaped)", gatehouse.AdminAPIURL(base, "{tenant}")},
					{"A tenant's page", tenant},
					{"Liveness", base + "/healthz"},
					{"Readiness", base + "/readyz"},
				},
			},
		})
	})
}

// handleTenantHome is a tenant's root page: its name and a link to its
// discovery document. An unknown tenant gets the same page as any unknown
// address.
func (s *server) handleTenantHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.Store.TenantByName(r.Context(), r.PathValue("tenant"))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			s.renderNoPage(w, r)
			return
		} else if err != nil {
			s.renderInternalError(w, r, err)
			return
		}
		issuer := gatehouse.IssuerURL(s.PublicURL, t.Name)
		s.renderPage(w, r, http.StatusOK, "home", &pageView{
			Title: "Sign-in service",
			Brand: s.pageBrand(t),
			Lead: []string{
				"This is where the applications of " + tenantDisplayName(t) + " sign you in. To sign in, open the application you want to use and choose Sign in.",
			},
			Home: &homeView{
				LinksTitle: "For developers",
				Links: []RootLink{{Text: "OpenID Connect discovery document", Href: issuer + "/.well-known/openid-configuration",
					Note: "The tenant's issuer is " + issuer + "."}},
			},
		})
	})
}

// handleNotFound answers requests no other route matches: a 405 with Allow
// when the path exists with other methods (in the format of the endpoint,
// as refuseInput answers), the "Page not available" page otherwise.
func (s *server) handleNotFound(mt *methodTable) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed := mt.allowed(r); allowed != nil {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.refuseInput(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("This address does not accept %s requests; it accepts %s.", r.Method, orList(allowed)))
			return
		}
		s.renderNoPage(w, r)
	})
}

// renderNoPage shows the "Page not available" page, which leads to the
// server's root page.
func (s *server) renderNoPage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, r, http.StatusNotFound, "message", &pageView{Title: errorTitle(http.StatusNotFound), Body: []string{msgNoPage},
		Links: []pageLink{{Text: "Gatehouse's start page", Href: s.basePath() + "/"}}, CorrelationID: correlationID(r.Context())})
}
