package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultRedirectURI is the redirect URI Setup registers unless told
// otherwise: the discard port of this machine. Sign-ins stop at the
// redirect to it and never fetch it.
const DefaultRedirectURI = "http://127.0.0.1:9/callback"

// DefaultTimeout bounds each HTTP request unless Config says otherwise.
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of a response is read.
const maxBody = 1 << 20

// errForeignHost is the error of a connection to a host other than the
// issuer's.
var errForeignHost = errors.New("load: refusing to connect to a host other than the issuer's")

// Config is the application a load runs as.
type Config struct {
	// Issuer is the tenant's issuer, e.g. http://localhost:8080/acme/v2.0;
	// its discovery document names the endpoints. Every request goes to
	// its scheme, host and port, and nowhere else.
	Issuer string
	// ClientID and ClientSecret are the application's credentials, sent
	// with client_secret_basic.
	ClientID     string
	ClientSecret string
	// RedirectURI is one of the application's registered redirect URIs.
	// It is never fetched.
	RedirectURI string
	// Scopes are the scopes of sign-ins; openid, profile, email and
	// offline_access when empty.
	Scopes []string
	// Timeout bounds each HTTP request; DefaultTimeout when zero.
	Timeout time.Duration
	// Conns is how many idle connections the application keeps to the
	// server (keep-alive); 64 when zero.
	Conns int
	// SingleSource makes every browser connect from the address the
	// system picks, even when the server is on IPv4 loopback (see Client).
	SingleSource bool
	// Sources, when positive, is how many source addresses the browsers
	// take turns with, instead of one of their own each: a few networks
	// with many browsers behind each, as a flood of requests from a few
	// addresses comes (see Client).
	Sources int
}

// Client is an application of a tenant and the browsers of its users.
// The application's own requests (discovery, keys, token endpoint) share
// kept-alive connections. Each sign-in gets a new browser: an empty cookie
// jar and connections of its own. When the issuer is on IPv4 loopback (on
// Linux, where all of 127.0.0.0/8 is this machine), each browser connects
// from an address of its own in 127.0.0.0/8, as the browsers of different
// people come from different addresses; from one address, the server's
// limit on sign-in attempts per address would refuse all but the first few
// dozen sign-ins of a run. A Client is safe for concurrent use.
type Client struct {
	cfg      Config
	host     string // host:port of the issuer, the only address dialed
	origin   string // scheme://host[:port] of the issuer
	redirect *url.URL
	provider *oidc.Provider
	jwksURL  string
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	app      *http.Client
	shared   *http.Transport // browsers' transport without source addresses
	sources  *sources        // nil: the system picks source addresses
}

// New returns a Client for cfg after reading the issuer's discovery
// document. It refuses a document whose endpoints are on another origin.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 64
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load: the issuer %q is not an http or https URL", cfg.Issuer)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	c := &Client{cfg: cfg, host: net.JoinHostPort(u.Hostname(), port), origin: u.Scheme + "://" + u.Host}
	if cfg.RedirectURI != "" {
		if c.redirect, err = url.Parse(cfg.RedirectURI); err != nil || !c.redirect.IsAbs() {
			return nil, fmt.Errorf("load: the redirect URI %q is not an absolute URL", cfg.RedirectURI)
		}
	}
	if runtime.GOOS == "linux" && !cfg.SingleSource && c.onLoopback4(ctx) {
		c.sources = newSources(cfg.Sources)
	}
	c.shared = c.transport(nil, cfg.Conns)
	c.app = &http.Client{Transport: c.transport(nil, cfg.Conns), Timeout: cfg.Timeout, CheckRedirect: noRedirects}

	c.provider, err = oidc.NewProvider(c.appContext(ctx), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("load: discovery: %w", err)
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := c.provider.Claims(&doc); err != nil {
		return nil, fmt.Errorf("load: discovery: %w", err)
	}
	c.jwksURL = doc.JWKS
	ep := c.provider.Endpoint()
	for _, e := range []string{ep.AuthURL, ep.TokenURL, doc.JWKS} {
		if !c.sameOrigin(e) {
			return nil, fmt.Errorf("load: the discovery document names %s, which is not on %s", e, c.origin)
		}
	}
	ep.AuthStyle = oauth2.AuthStyleInHeader
	c.oauth = oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: ep, RedirectURL: cfg.RedirectURI, Scopes: cfg.Scopes}
	c.verifier = c.provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	return c, nil
}

// TokenURL returns the token endpoint the issuer's discovery document
// names.
func (c *Client) TokenURL() string { return c.oauth.Endpoint.TokenURL }

// Close closes the Client's idle connections.
func (c *Client) Close() {
	c.app.CloseIdleConnections()
	c.shared.CloseIdleConnections()
}

// SpreadsSources reports whether browsers connect from addresses of their
// own (see Client).
func (c *Client) SpreadsSources() bool { return c.sources != nil }

// appContext returns ctx carrying the application's HTTP client for
// golang.org/x/oauth2 and go-oidc.
func (c *Client) appContext(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, c.app), c.app)
}

// onLoopback4 reports whether the issuer's host is this machine's IPv4
// loopback.
func (c *Client) onLoopback4(ctx context.Context) bool {
	host, _, _ := net.SplitHostPort(c.host)
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// transport returns a transport that dials only the issuer's host, from
// src when it is not nil, and never through a proxy.
func (c *Client) transport(src net.IP, conns int) *http.Transport {
	d := &net.Dialer{Timeout: c.cfg.Timeout, KeepAlive: 30 * time.Second}
	network := ""
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
		network = "tcp4"
	}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, nw, addr string) (net.Conn, error) {
			if addr != c.host {
				return nil, fmt.Errorf("%w: %s", errForeignHost, addr)
			}
			if network != "" {
				nw = network
			}
			return d.DialContext(ctx, nw, addr)
		},
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   c.cfg.Timeout,
		ResponseHeaderTimeout: c.cfg.Timeout,
	}
}

// sameOrigin reports whether the absolute URL s is on the issuer's origin.
func (c *Client) sameOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme+"://"+u.Host == c.origin
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// browser is one user's browser: an empty cookie jar and, with source
// addresses, a transport of its own.
type browser struct {
	client *http.Client
	own    *http.Transport
}

func (c *Client) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{client: &http.Client{Jar: jar, Timeout: c.cfg.Timeout, CheckRedirect: noRedirects, Transport: c.shared}}
	if c.sources != nil {
		b.own = c.transport(c.sources.next(), 1)
		b.client.Transport = b.own
	}
	return b
}

func (b *browser) close() {
	if b.own != nil {
		b.own.CloseIdleConnections()
	}
}

// sources hands out IPv4 loopback addresses from 127.1.1.1 to
// 127.254.254.254, from a random start so that runs soon after each other
// use different ones; with a limit, only that many, in turn.
type sources struct {
	start, limit uint32
	n            atomic.Uint32
}

const sourceCount = 254 * 254 * 254

func newSources(limit int) *sources {
	s := &sources{start: rand.Uint32N(sourceCount), limit: sourceCount}
	if limit > 0 {
		s.limit = uint32(min(limit, sourceCount))
	}
	return s
}

func (s *sources) next() net.IP {
	x := (s.start + (s.n.Add(1)-1)%s.limit) % sourceCount
	return net.IPv4(127, byte(1+x/(254*254)), byte(1+x/254%254), byte(1+x%254))
}

// isRedirectURI reports whether loc is the registered redirect URI with a
// query added.
func (c *Client) isRedirectURI(loc *url.URL) bool {
	r := c.redirect
	return r != nil && loc.Scheme == r.Scheme && loc.Host == r.Host && loc.Path == r.Path &&
		strings.HasPrefix(loc.RawQuery, r.RawQuery)
}
