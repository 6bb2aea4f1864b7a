package web

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mfa"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/prometheus/client_golang/prometheus"
)

// Options are the dependencies of the HTTP server.
type Options struct {
	Store     gatehouse.Store
	Keys      *oidc.Keys
	Vault     *vault.Vault
	Passwords Hasher
	// PublicURL is the externally visible base URL, e.g.
	// "https://id.example.com"; every issuer and link is built from it.
	PublicURL string
	Logger    *slog.Logger
	// Registry receives the server's metrics and is served on /metrics.
	Registry *prometheus.Registry
	// DBStats, if set, reports connection pool statistics per pool name.
	DBStats func() map[string]sql.DBStats
	Now     func() time.Time
	Version string
	// Mail sends the one-time codes of sign-up, passwordless sign-in and
	// password reset; nil when no mail server is configured, and then
	// those pages say that they cannot send a code.
	Mail notify.Sender
	// Mailbox, set only in development (gatehouse demo, --dev-mailbox),
	// is shown on /dev/mailbox. When Mail is nil, mail goes to it, and
	// when SMS is nil, text messages.
	Mailbox *notify.Mailbox
	// SMS sends the one-time codes of text messages; nil when no SMS
	// gateway is configured, and then text messages are not offered as a
	// second factor and the SMS method cannot be enabled.
	SMS notify.SMSSender
	// MailTimeout bounds each delivery of a code or notice that a request
	// waits for, whatever Mail does (0 means 15 s): past it the user sees
	// that the email could not be sent.
	MailTimeout time.Duration
	// SignInsPerIP is how many password sign-in attempts one client address
	// may make per 5 minutes (0 means 300). It bounds credential stuffing
	// from one address while leaving room for many people behind one NAT.
	SignInsPerIP int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed (clientaddr.go): when a request comes from one of them,
	// its client address, for the per-address limits and the logs, is the
	// right-most forwarded address that is not a trusted proxy. Empty:
	// nobody is trusted, and the client address is the connection's peer.
	// IPv4 ranges are given as IPv4, not IPv4-mapped IPv6.
	TrustedProxies []netip.Prefix
	// PasswordMinLength is the shortest password, in code points, that
	// sign-up, password reset and the admin API accept (PW-1); 0 or
	// anything below 8 means 8.
	PasswordMinLength int
	// GeoIP tells where client addresses are, for Conditional Access
	// country named locations, sign-in risk and the sign-in log; nil when
	// no GeoIP database is configured (--geoip-db), and then every
	// sign-in's country is unknown.
	GeoIP GeoIP
	// RootLinks are the links the server's root page offers first, under
	// "Start here": gatehouse demo passes its sample app, its development
	// mailbox and its tenant's discovery document; an admin portal belongs
	// here too. Each needs a Text and an Href that is an absolute http(s)
	// URL or a path starting with "/". Without them the root page only
	// says what this server is and which addresses it serves.
	RootLinks []RootLink
}

// GeoIP locates client addresses, as *geoip.DB does: false when it knows
// nothing of the address.
type GeoIP interface {
	Locate(ip netip.Addr) (gatehouse.GeoPlace, bool)
}

// RootLink is one link of the server's root page.
type RootLink struct {
	Text string
	Href string
	// Note is an optional sentence shown under the link.
	Note string
}

// Hasher hashes and verifies passwords in a bounded pool (PW-12), as
// *password.Hasher does: Hash and Verify fail with EBUSY when it is full.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error)
	// Stats reports how many hashes run and how many wait, and Computed
	// how many have been computed in all, for metrics.
	Stats() (busy, waiting int)
	Computed() int64
}

var _ Hasher = (*password.Hasher)(nil)

// server holds the dependencies every handler shares.
type server struct {
	Options
	metrics  *metrics
	cache    *readCache       // the token endpoint's tenants and clients (cache.go)
	policies policyCache      // each tenant's compiled Conditional Access policies (ca.go)
	composer *notify.Composer // the mail of the hosted pages
	pages    pageTemplates    // the hosted pages, parsed at start-up
	static   map[string]staticFile
	passkeys *mfa.Passkeys // the WebAuthn relying party; nil when the public URL cannot be one
	portal   http.Handler  // the admin portal (portal.go), a client of this very handler
}

// NewServer returns the HTTP handler of Gatehouse: every route of routes.go
// wrapped in the common middleware (recovery, correlation IDs, security
// headers, logging and metrics).
func NewServer(opt Options) (http.Handler, error) {
	s, err := newServer(opt)
	if err != nil {
		return nil, err
	}
	// The portal calls the server in process; handler is set before the
	// server answers its first request.
	var handler http.Handler
	if s.portal, err = s.newPortal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) })); err != nil {
		return nil, err
	}
	mux := &router{ServeMux: http.NewServeMux()}
	s.routes(mux)
	handler = s.recoverPanics(s.observe(s.checkInput(mux)))
	return handler, nil
}

// newServer checks the options and builds the server, without routes.
func newServer(opt Options) (*server, error) {
	if opt.Store == nil || opt.Keys == nil || opt.Vault == nil || opt.Passwords == nil {
		return nil, errorString("web: Store, Keys, Vault and Passwords are required")
	}
	if opt.PublicURL == "" {
		return nil, errorString("web: PublicURL is required")
	}
	for _, p := range opt.TrustedProxies {
		if !p.IsValid() || p != p.Masked() {
			return nil, errorString("web: TrustedProxies holds " + p.String() + ", which is not a valid network prefix")
		}
	}
	for _, l := range opt.RootLinks {
		if err := l.check(); err != nil {
			return nil, err
		}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MailTimeout <= 0 {
		opt.MailTimeout = defaultMailTimeout
	}
	if opt.Mail == nil && opt.Mailbox != nil {
		opt.Mail = opt.Mailbox
	}
	if opt.SMS == nil && opt.Mailbox != nil {
		opt.SMS = opt.Mailbox.SMS()
	}
	s := &server{Options: opt, cache: newReadCache(opt.Now)}
	s.Store = watchedStore{Store: opt.Store, cache: s.cache}
	var err error
	if s.composer, err = notify.NewComposer(); err != nil {
		return nil, err
	}
	if s.pages, err = parsePageTemplates(); err != nil {
		return nil, err
	}
	if s.static, err = loadStaticFiles(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opt.Registry, opt.DBStats, opt.Passwords)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.passkeys = s.newPasskeys()
	return s, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }
