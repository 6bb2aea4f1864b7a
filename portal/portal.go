package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are what the portal needs.
type Options struct {
	// PublicURL is the server's public base URL: the portal's own
	// addresses and the redirect URI are built from it.
	PublicURL string
	// API is the server's handler. The portal calls the token, revocation
	// and admin API endpoints through it in process.
	API http.Handler
	// Vault seals the session cookie and keys the anti-forgery tokens.
	Vault  *vault.Vault
	Logger *slog.Logger
	Now    func() time.Time
}

// Portal serves the admin portal's pages under /{tenant}/portal/.
type Portal struct {
	opt    Options
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static map[string]staticFile
	csrf   *http.CrossOriginProtection
}

type staticFile struct {
	body        []byte
	contentType string
	hash        string
}

// New returns the portal, with its templates parsed.
func New(opt Options) (*Portal, error) {
	if opt.API == nil || opt.Vault == nil || opt.PublicURL == "" {
		return nil, errors.New("portal: PublicURL, API and Vault are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	p := &Portal{opt: opt, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	p.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderMessage(w, r, http.StatusForbidden, "This form came from another site", "The request did not come from this portal, so nothing was changed. Go back to the portal and try again.")
	}))
	if err := p.loadStatic(); err != nil {
		return nil, err
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	p.routes()
	return p, nil
}

// ServeHTTP serves the portal's pages, every one under a strict
// Content-Security-Policy, and refuses cross-origin POSTs.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	p.csrf.Handler(p.mux).ServeHTTP(w, r)
}

func (p *Portal) loadStatic() error {
	p.static = map[string]staticFile{}
	return fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		sum := sha256.Sum256(b)
		p.static[path.Base(name)] = staticFile{body: b, contentType: ct, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
}

func (p *Portal) parseTemplates() error {
	funcs := template.FuncMap{
		// dict builds the argument of the input templates: pairs of a name
		// and a value.
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
		"result": ResultText,
		"when":   when,
		// opts builds a list of choices from pairs of a value and a label.
		"opts": func(kv ...string) []option {
			var out []option
			for i := 0; i+1 < len(kv); i += 2 {
				out = append(out, option{kv[i], kv[i+1]})
			}
			return out
		},
		"ifelse": func(cond bool, a, b string) string {
			if cond {
				return a
			}
			return b
		},
		"has": func(list []string, v string) bool {
			for _, s := range list {
				if s == v {
					return true
				}
			}
			return false
		},
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	p.pages = map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return err
		}
		p.pages[base] = t
	}
	return nil
}

// base is the portal's path in the tenant: /{tenant}/portal/.
func base(r *http.Request) string { return "/" + r.PathValue("tenant") + "/portal/" }

func (p *Portal) secureCookies() bool {
	u, err := url.Parse(p.opt.PublicURL)
	return err != nil || u.Scheme == "https" || !gatehouse.IsLoopbackHost(u.Hostname())
}

// page is what every page's template gets.
type page struct {
	Title   string
	Base    string
	Tenant  string
	Admin   *session
	Nav     []navItem
	Active  string
	CSRF    string
	Notice  string
	Alert   string
	Errors  map[string]string // a field's error, in the API's words
	Form    url.Values        // what was sent, shown again after an error
	Style   string
	Script  string
	Data    any
	Confirm *confirm
}

// Value returns the value sent for a field, for forms shown again.
func (pg *page) Value(name string) string { return pg.Form.Get(name) }

// navItem is one entry of the navigation.
type navItem struct {
	Key, Text, Href string
}

// confirm is a confirmation page's question (confirm.html).
type confirm struct {
	Question, Detail, Action, Button, Cancel string
}

func (p *Portal) newPage(r *http.Request, s *session, title, active string) *page {
	pg := &page{Title: title, Base: base(r), Tenant: r.PathValue("tenant"), Admin: s, Active: active, Errors: map[string]string{}, Form: url.Values{},
		Style: base(r) + "static/portal.css?v=" + p.static["portal.css"].hash, Script: base(r) + "static/portal.js?v=" + p.static["portal.js"].hash}
	if s != nil {
		pg.CSRF = p.csrfToken(s)
		pg.Nav = navFor(pg.Base, s.Roles)
	}
	if r.Method == http.MethodPost {
		pg.Form = r.PostForm
	}
	return pg
}

// render writes the page with the template name.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) {
	t, ok := p.pages[name]
	if !ok {
		p.opt.Logger.ErrorContext(r.Context(), "portal: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		p.opt.Logger.ErrorContext(r.Context(), "portal: render", "page", name, "error", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderMessage shows a page that only says something.
func (p *Portal) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	s, _ := p.readSession(r)
	pg := p.newPage(r, s, title, "")
	pg.Data = text
	p.render(w, r, status, "message", pg)
}

// seeOther redirects with 303 to a path of the portal.
func seeOther(w http.ResponseWriter, r *http.Request, rel string) {
	http.Redirect(w, r, base(r)+rel, http.StatusSeeOther)
}

func (p *Portal) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := p.static[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(f.body)
	})
}
