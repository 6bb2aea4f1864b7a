package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

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
TLS and set --public-url to the address clients use.

Storage is SQLite in --data-dir unless --database-url names a PostgreSQL
database; any number of servers may share one PostgreSQL database and one
encryption key.

Email: this version sends no email yet. --smtp-url and --mail-from are
validated and accepted so that configurations stay valid, but no flow
that needs email (one-time codes, password reset) is served.`,
		options: join([]option{optAddr, optPublicURL}, storageOptions, []option{optSMTPURL, optMailFrom}, logOptions),
		args:    noArgs,
		run:     serve,
	}
}

// serve runs the server until ctx is done, then shuts it down gracefully.
func serve(ctx context.Context, e *env, c *config) error {
	logger := newLogger(c, e.stderr)
	for _, w := range c.warnings {
		logger.Warn(w)
	}
	if c.SMTPURL == "" {
		logger.Warn("no --smtp-url: email delivery is not configured")
	} else {
		logger.Warn("--smtp-url is set, but this version of Gatehouse sends no email yet")
	}

	store, err := openStore(ctx, c, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := openVault(ctx, c, store)
	if err != nil {
		return err
	}
	hasher := password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0), hashQueue)
	keys := oidc.NewKeys(store, v, time.Now)

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

	h, err := web.NewServer(web.Options{
		Store:     store,
		Keys:      keys,
		Vault:     v,
		Passwords: hasher,
		PublicURL: publicURL,
		Logger:    logger,
		Registry:  reg,
		DBStats:   store.PoolStats,
		Now:       time.Now,
		Version:   versionString(),
	})
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

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL, "version", versionString())

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
	if err := store.Close(); err != nil {
		return fmt.Errorf("close the database: %w", err)
	}
	logger.Info("stopped")
	return nil
}
