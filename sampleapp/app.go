package sampleapp

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

//go:embed templates static
var files embed.FS

// Scopes the app asks for: address too, so that the city or other parts
// of the address a user flow collects show up as the address claim.
var scopes = []string{oidc.ScopeOpenID, "profile", "email", "address", oidc.ScopeOfflineAccess}

// Timeouts of the app's requests to the provider.
const (
	discoveryTimeout = 5 * time.Second
	providerTimeout  = 10 * time.Second
	// retryDiscovery is how long a failed discovery is remembered before
	// the next request tries again.
	retryDiscovery = 2 * time.Second
)

// Config configures the sample app.
type Config struct {
	// Issuer is the tenant's issuer, e.g.
	// "http://localhost:8080/demo/v2.0"; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string // "" for a public client (PKCE only)
	// BaseURL is the app's own public address, e.g. "http://localhost:8081",
	// without a path. Its redirect URI is BaseURL + "/callback" and its
	// post-logout redirect URI BaseURL + "/"; both must be registered on
	// the application.
	BaseURL string
	Logger  *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// RedirectURI returns the app's redirect URI for its base URL.
func RedirectURI(baseURL string) string { return strings.TrimSuffix(baseURL, "/") + "/callback" }

// PostLogoutRedirectURI returns the app's post-logout redirect URI for its
// base URL.
func PostLogoutRedirectURI(baseURL string) string { return strings.TrimSuffix(baseURL, "/") + "/" }

// app is the sample app's HTTP handler.
type app struct {
	cfg      Config
	client   *http.Client
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux

	mu       sync.Mutex
	prov     *provider // nil until discovery succeeds
	lastTry  time.Time
	lastFail error
}

// provider is what discovery told the app about the issuer.
type provider struct {
	p          *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      *oauth2.Config
	endSession string // "" if the provider has no end-session endpoint
	issParam   bool   // authorization_response_iss_parameter_supported
}

// New returns the sample app. It validates cfg and discovers the issuer;
// if the issuer does not answer yet, New still succeeds and every request
// that needs the issuer tries discovery again, showing a page that says
// what failed until it works.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &app{
		cfg:      cfg,
		client:   &http.Client{Timeout: providerTimeout},
		sessions: newSessions(cfg.Now, cfg.BaseURL),
		pages:    pages,
	}
	if _, err := a.provider(ctx); err != nil {
		cfg.Logger.WarnContext(ctx, "sample app: the issuer is not reachable yet; discovery is retried on the next request", "issuer", cfg.Issuer, "err", err)
	}
	a.mux = http.NewServeMux()
	a.routes(a.mux)
	return a, nil
}

func checkConfig(cfg *Config) error {
	u, err := url.Parse(cfg.Issuer)
	if cfg.Issuer == "" {
		return errors.New("sampleapp: the issuer is required")
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("sampleapp: issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return errors.New("sampleapp: the client ID is required")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	b, err := url.Parse(cfg.BaseURL)
	if cfg.BaseURL == "" {
		return errors.New("sampleapp: the base URL is required")
	}
	if err != nil || (b.Scheme != "https" && b.Scheme != "http") || b.Host == "" || b.User != nil {
		return fmt.Errorf("sampleapp: base URL %q is not an http(s) URL such as http://localhost:8081", cfg.BaseURL)
	}
	if b.Path != "" || b.RawQuery != "" || b.Fragment != "" {
		return fmt.Errorf("sampleapp: base URL %q must be scheme, host and port only: the app serves from the root of its host", cfg.BaseURL)
	}
	return nil
}

func (a *app) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", a.handleHome())
	mux.Handle("GET /login", a.handleLogin())
	mux.Handle("GET /callback", a.handleCallback())
	mux.Handle("POST /logout", a.handleLogout())
	mux.Handle("GET /static/app.css", a.handleCSS())
	mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}))
}

// ServeHTTP serves every route with the security headers of a page.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", a.csp())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// The callback's URL holds the code: never send it on.
	h.Set("Referrer-Policy", "no-referrer")
	a.mux.ServeHTTP(w, r)
}

// csp is the Content-Security-Policy of every response: no script at all,
// styles from this app only, and forms that may lead only here or to the
// provider (browsers apply form-action to the redirects after a form).
func (a *app) csp() string {
	origins := []string{"'self'"}
	add := func(raw string) {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
				origins = append(origins, o)
			}
		}
	}
	add(a.cfg.Issuer)
	a.mu.Lock()
	if p := a.prov; p != nil {
		add(p.oauth.Endpoint.AuthURL)
		add(p.endSession)
	}
	a.mu.Unlock()
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + strings.Join(origins, " ") +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// provider returns the discovered provider, discovering it first if that
// has not succeeded yet.
func (a *app) provider(ctx context.Context) (*provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.prov != nil {
		return a.prov, nil
	}
	now := a.cfg.Now()
	if a.lastFail != nil && now.Sub(a.lastTry) < retryDiscovery {
		return nil, a.lastFail
	}
	a.lastTry = now
	p, err := a.discover(ctx)
	if err != nil {
		a.lastFail = err
		return nil, err
	}
	a.prov, a.lastFail = p, nil
	a.cfg.Logger.InfoContext(ctx, "sample app: discovered the issuer", "issuer", a.cfg.Issuer)
	return p, nil
}

func (a *app) discover(ctx context.Context) (*provider, error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.client), a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", a.cfg.Issuer, err)
	}
	var meta struct {
		EndSession  string   `json:"end_session_endpoint"`
		IssParam    bool     `json:"authorization_response_iss_parameter_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("read the discovery document of %s: %w", a.cfg.Issuer, err)
	}
	ep := p.Endpoint()
	switch {
	case a.cfg.ClientSecret == "":
		ep.AuthStyle = oauth2.AuthStyleInParams // client_id only
	case slices.Contains(meta.AuthMethods, "client_secret_basic"):
		ep.AuthStyle = oauth2.AuthStyleInHeader
	case slices.Contains(meta.AuthMethods, "client_secret_post"):
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &provider{
		p:        p,
		verifier: p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, Now: a.cfg.Now}),
		oauth: &oauth2.Config{
			ClientID:     a.cfg.ClientID,
			ClientSecret: a.cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  RedirectURI(a.cfg.BaseURL),
			Scopes:       scopes,
		},
		endSession: meta.EndSession,
		issParam:   meta.IssParam,
	}, nil
}

// newRandom returns a fresh random value for state and nonce: 130 bits.
func newRandom() string { return rand.Text() }
