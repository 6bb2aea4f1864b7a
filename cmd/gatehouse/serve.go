package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/geoip"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// HTTP server limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 15 * time.Second
	// hashQueue is how many password hashes may wait for a worker before
	// sign-ins are refused as busy (PW-12).
	hashQueue = 64
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		usage:   "serve [flags]",
		summary: "Run the server.",
		help: `Runs the Gatehouse server: every tenant's OpenID provider, admin API,
/healthz, /readyz and /metrics. It creates or upgrades the database schema
first. It stops gracefully on SIGINT or SIGTERM, finishing requests in flight
for up to 15 seconds.

Gatehouse speaks plain HTTP; put it behind a reverse proxy that terminates
TLS and set --public-url to the address clients use, and --trusted-proxies
to the proxy's address, so that the per-address limits and the logs see
each client's address instead of the proxy's.

Storage is SQLite in --data-dir unless --database-url names a PostgreSQL
database; any number of servers may share one PostgreSQL database and one
encryption key.

Email: one-time codes (sign-up, passwordless sign-in, password reset) are
sent through the mail server of --smtp-url, from --mail-from. For
development, --dev-mailbox keeps them in memory instead and shows them on
/dev/mailbox. With neither, flows that need email cannot complete.

Text messages: the codes of the SMS second factor are posted, signed with
--sms-webhook-secret, to the SMS gateway at --sms-webhook-url, which
passes them on to your SMS provider. With --dev-mailbox they are kept in
the mailbox instead. With neither, text messages are not offered.`,
		options: join([]option{optAddr, optPublicURL}, storageOptions, []option{optSMTPURL, optMailFrom, optSMSWebhookURL, optSMSWebhookSecret, optDevMailbox, optHashWorkers, optHashProcesses, optHashNice, optPasswordMinLength, optTrustedProxies, optGeoIPDB, optSignInRetention}, logOptions),
		args:    noArgs,
		run:     serve,
	}
}

// newMailSender returns the sender of outgoing mail: SMTP with --smtp-url,
// the development mailbox with --dev-mailbox (then also returned as
// mailbox, for its page), or none. It says in the log which it is, loudly
// for the mailbox.
func newMailSender(c *config, logger *slog.Logger) (notify.Sender, *notify.Mailbox, error) {
	switch {
	case c.SMTPURL != "":
		s, err := notify.NewSMTP(notify.SMTPConfig{URL: c.SMTPURL, From: c.MailFrom}, logger)
		if err != nil {
			return nil, nil, fmt.Errorf("--smtp-url: %w", err)
		}
		srv, _ := notify.ParseSMTPURL(c.SMTPURL)
		logger.Info("email is sent through a mail server", "smtp", srv.String(), "tls", srv.TLS.String(), "from", c.MailFrom)
		return s, nil, nil
	case c.DevMailbox:
		mb := notify.NewMailbox(0, time.Now)
		logger.Warn("DEVELOPMENT MAILBOX: --dev-mailbox is set, so no email is sent: messages, with their one-time codes, are kept in memory and shown to anyone on /dev/mailbox. Never use this where real people sign in.")
		return mb, mb, nil
	}
	logger.Warn("no --smtp-url: email delivery is not configured, so sign-up, passwordless sign-in and password reset cannot send their codes (set --smtp-url and --mail-from, or --dev-mailbox on a development machine)")
	return nil, nil, nil
}

// newSMSSender returns the sender of text messages: the webhook gateway
// of --sms-webhook-url, or none (with --dev-mailbox the server keeps them
// in the mailbox). It says in the log which it is; never the secret, nor
// the URL's path, which may hold a token.
func newSMSSender(c *config, logger *slog.Logger) (notify.SMSSender, error) {
	switch {
	case c.SMSWebhookURL != "":
		w, err := notify.NewWebhook(notify.WebhookConfig{URL: c.SMSWebhookURL, Secret: c.SMSWebhookSecret}, logger)
		if err != nil {
			return nil, fmt.Errorf("--sms-webhook-url: %w", err)
		}
		u, _ := url.Parse(c.SMSWebhookURL)
		logger.Info("text messages are sent through an SMS webhook gateway", "gateway", u.Scheme+"://"+u.Host)
		return w, nil
	case c.DevMailbox:
		logger.Warn("DEVELOPMENT MAILBOX: text messages, with their one-time codes, are kept in memory and shown on /dev/mailbox")
		return nil, nil
	}
	logger.Info("no --sms-webhook-url: text messages are not offered as a second factor, and the Sms method cannot be enabled")
	return nil, nil
}

// serve runs the server until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, e *env, c *config) error {
	logger, flushLog := newBufferedLogger(c, e.stderr)
	defer flushLog()
	for _, w := range c.warnings {
		logger.Warn(w)
	}
	defer tuneGC(e.getenv, logger)()
	mail, mailbox, err := newMailSender(c, logger)
	if err != nil {
		return err
	}
	sms, err := newSMSSender(c, logger)
	if err != nil {
		return err
	}
	geo, err := openGeoIP(c, logger)
	if err != nil {
		return err
	}
	defer geo.Close()

	store, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := openVault(ctx, c, store, logger)
	if err != nil {
		return err
	}
	hasher, closeHasher, err := newServeHasher(c, logger)
	if err != nil {
		return err
	}
	defer closeHasher()
	keys := oidc.NewKeys(store, v, time.Now)
	keys.SetLogger(logger)

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	publicURL := c.PublicURL
	if publicURL == "" {
		// With port 0 only the listener knows the port.
		addr := c.Addr
		if _, port, _ := net.SplitHostPort(addr); port == "0" {
			addr = ln.Addr().String()
		}
		publicURL = derivePublicURL(addr)
	}

	opts := web.Options{
		Store:             store,
		Keys:              keys,
		Vault:             v,
		Passwords:         hasher,
		PublicURL:         publicURL,
		Logger:            logger,
		Registry:          reg,
		DBStats:           store.PoolStats,
		Now:               time.Now,
		Version:           versionString(),
		Mail:              mail,
		Mailbox:           mailbox,
		SMS:               sms,
		PasswordMinLength: c.PasswordMinLength,

		TrustedProxies: c.TrustedProxies,
	}
	if geo != nil {
		opts.GeoIP = geo
	}
	h, err := web.NewServer(opts)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Requests keep running while the server drains; Shutdown, not
		// the signal, ends them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	stopSweeper := startSweeper(ctx, store, logger)
	defer stopSweeper()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL, "version", versionString())
	logTrustedProxies(logger, c.TrustedProxies)
	// Probe the mail server now, so that one that is down is reported at
	// start rather than at the first sign-up; the probe ends with serve.
	if smtp, ok := mail.(*notify.SMTP); ok {
		pctx, cancel := context.WithCancel(ctx)
		probed := make(chan struct{})
		go func() {
			defer close(probed)
			if err := smtp.Check(pctx); err != nil && pctx.Err() == nil {
				logger.Warn("the mail server does not answer as it should; sign-ups and password resets will fail until it does", "err", err)
			}
		}()
		defer func() { cancel(); <-probed }()
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running at the shutdown deadline were cut off", "err", err)
		srv.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	stopSweeper()
	if err := store.Close(); err != nil {
		return fmt.Errorf("close the database: %w", err)
	}
	logger.Info("stopped")
	return nil
}

var _ web.GeoIP = (*geoip.DB)(nil)

// openGeoIP opens the GeoIP database of --geoip-db, nil without one, and
// says in the log which it is.
func openGeoIP(c *config, logger *slog.Logger) (*geoip.DB, error) {
	if c.GeoIPDB == "" {
		logger.Info("no --geoip-db: the country of sign-ins is unknown, so country named locations match only when they include unknown countries and regions")
		return nil, nil
	}
	db, err := geoip.Open(c.GeoIPDB)
	if err != nil {
		return nil, fmt.Errorf("--geoip-db: %w", err)
	}
	logger.Info("GeoIP database opened", "path", c.GeoIPDB, "type", db.Type())
	return db, nil
}

// logTrustedProxies says in the log whose X-Forwarded-For is believed.
func logTrustedProxies(logger *slog.Logger, proxies []netip.Prefix) {
	if len(proxies) == 0 {
		return
	}
	list := make([]string, len(proxies))
	for i, p := range proxies {
		list[i] = p.String()
	}
	logger.Info("client addresses are taken from X-Forwarded-For of requests from trusted proxies", "trusted_proxies", strings.Join(list, ","))
}

// serveGCPercent is the garbage collector's target serve runs with unless
// GOGC says otherwise: a token request allocates some 20 KiB (most of it
// in crypto/ecdsa) against a live heap of a few MiB, so at Go's default of
// 100 the collector runs dozens of times a second and takes a sixth of
// the server's CPU. At 400 the token endpoint costs a fifth less CPU for
// some 15 MiB more memory (docs/benchmarks.md, decision 34).
const serveGCPercent = 400

// tuneGC sets serveGCPercent unless the GOGC environment variable is set,
// and returns what restores the previous setting.
func tuneGC(getenv func(string) string, logger *slog.Logger) func() {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(serveGCPercent)
	logger.Info("garbage collector target set; set GOGC to choose another", "gogc", serveGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// hashWorkerCommand is the argument that makes gatehouse a password hash
// worker process (run).
const hashWorkerCommand = "hash-worker"

// newServeHasher returns serve's password hasher: in worker processes of
// this binary (--hash-processes, the default), one per core unless
// --hash-workers says otherwise, or in this process; and what stops it.
// When the workers cannot be started and --hash-processes was not given,
// it hashes in this process and says why in the log.
func newServeHasher(c *config, logger *slog.Logger) (*password.Hasher, func(), error) {
	inProcess := func() (*password.Hasher, func(), error) {
		return password.NewHasher(password.DefaultParams, hashWorkers(c.HashWorkers), hashQueue), func() {}, nil
	}
	if !c.HashProcesses {
		return inProcess()
	}
	h, stop, err := startHashProcesses(c, logger)
	if err != nil && !c.given[optHashProcesses.name] {
		logger.Warn("password hashes run in the server's process: the hash worker processes could not be started", "err", err)
		return inProcess()
	}
	return h, stop, err
}

// hashWorkerProgram is the program the hash worker processes run: this
// one (replaced in tests).
var hashWorkerProgram = os.Executable

// startHashProcesses starts serve's hash worker processes and checks that
// each answers.
func startHashProcesses(c *config, logger *slog.Logger) (*password.Hasher, func(), error) {
	self, err := hashWorkerProgram()
	if err != nil {
		return nil, nil, fmt.Errorf("--hash-processes: find this program: %w", err)
	}
	n := c.HashWorkers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ws, err := password.StartWorkers(n, func() *exec.Cmd {
		cmd := exec.Command(self, hashWorkerCommand, strconv.Itoa(c.HashNice))
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		cmd.Stderr = os.Stderr
		return cmd
	})
	if err == nil {
		if err = ws.Check(); err != nil {
			ws.Close()
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--hash-processes: %w", err)
	}
	logger.Info("password hashes run in worker processes", "workers", n, "nice", c.HashNice)
	return password.NewProcessHasher(password.DefaultParams, hashQueue, ws), func() { ws.Close() }, nil
}

// hashWorkers is the size of the password hashing pool: n when set, else
// one fewer than the cores (at least one). Leaving a core free keeps the
// token endpoint's and JWKS's tail latency low while sign-ins saturate the
// pool (docs/benchmarks.md measures both settings).
func hashWorkers(n int) int {
	if n > 0 {
		return n
	}
	return max(1, runtime.GOMAXPROCS(0)-1)
}
