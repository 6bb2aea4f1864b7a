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
	Links []RootLink // shown first, as a list
	// PathsLead introduces Paths, the addresses the server serves.
	PathsLead string
	Paths     []homePath
}

// homePath is one address of the server, written as documentation:
// {tenant} stands for a tenant's name.
type homePath struct{ Label, Path string }

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
				Links:     s.RootLinks,
				PathsLead: "For developers and administrators. {tenant} stands for a tenant's name, as given to gatehouse tenant create.",
				Paths: []homePath{
					{"OpenID Connect discovery", gatehouse.IssuerURL(base, "{tenant}") + "/.well-known/openid-configuration"},
					{"Admin API (Microsoft Graph-shaped)", gatehouse.AdminAPIURL(base, "{tenant}")},
					{"A tenant's page", tenant},
					{"Liveness and readiness", base + "/healthz, " + base + "/readyz"},
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
			s.renderError(w, r, http.StatusNotFound, msgNoPage)
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
				Links: []RootLink{{Text: "OpenID Connect discovery document", Href: issuer + "/.well-known/openid-configuration",
					Note: "For developers: the tenant's issuer is " + issuer + "."}},
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
		s.renderError(w, r, http.StatusNotFound, msgNoPage)
	})
}
