package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/gatehouse/gatehouse/sampleapp"
)

func sampleAppCommand() *command {
	return &command{
		name:    "sample-app",
		usage:   "sample-app --issuer URL --client-id ID [flags]",
		summary: "Run the sample customer app, signing in with a tenant.",
		help: `Runs the sample customer app: a small web app that signs in with a
Gatehouse tenant through OpenID Connect (authorization code flow with PKCE),
shows the ID token's claims (with the authentication methods, amr, at the
top) and the userinfo response, and signs out through the tenant's
end-session endpoint. It is the "test the sign-in" step of an MFA setup.

Register an application in the tenant with the web redirect URI
PUBLIC_URL/callback and the post-logout redirect URI PUBLIC_URL/ (with the
defaults: http://localhost:8081/callback and http://localhost:8081/), add a
client secret, and connect the application to a sign-up and sign-in user
flow. 'gatehouse demo' does all of that and runs this app for you.

The app keeps its sessions in memory. It stops gracefully on SIGINT or
SIGTERM.`,
		options: join([]option{optSampleIssuer, optSampleClientID, optSampleClientSecret, optSampleAddr, optSamplePublicURL}, logOptions),
		args:    noArgs,
		run:     runSampleApp,
	}
}

func runSampleApp(ctx context.Context, e *env, c *config) error {
	if c.Issuer == "" {
		return errors.New("--issuer is required: the issuer of the tenant to sign in with, e.g. http://localhost:8080/acme/v2.0")
	}
	if c.ClientID == "" {
		return errors.New("--client-id is required: the application's client ID (appId)")
	}
	logger := newLogger(c, e.stderr)
	for _, w := range c.warnings {
		logger.Warn(w)
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = derivePublicURL(listenAddr(c.Addr, ln))
	}
	if c.ClientSecret == "" {
		logger.Warn("no --client-secret: the sample app signs in as a public client, with PKCE only")
	}
	h, err := sampleapp.New(ctx, sampleapp.Config{
		Issuer:       c.Issuer,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		BaseURL:      publicURL,
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	srv := newServers(ctx, logger)
	srv.start("sample app", ln, h)
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL,
		"redirect_uri", sampleapp.RedirectURI(publicURL),
		"post_logout_redirect_uri", sampleapp.PostLogoutRedirectURI(publicURL))
	fmt.Fprintf(e.stdout, "The sample app is running at %s (Ctrl-C stops it).\nIt signs in with %s as client %s.\n", publicURL, c.Issuer, c.ClientID)
	err = srv.wait(ctx)
	logger.Info("stopped")
	return err
}

// listenAddr returns the address a server listening on ln for the
// configured addr is reached at: with port 0 only the listener knows the
// port.
func listenAddr(addr string, ln net.Listener) string {
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		return ln.Addr().String()
	}
	return addr
}

// servers runs the HTTP servers of one command and shuts them all down
// together.
type servers struct {
	ctx    context.Context
	logger *slog.Logger
	errc   chan error
	wg     sync.WaitGroup
	list   []*http.Server
}

func newServers(ctx context.Context, logger *slog.Logger) *servers {
	return &servers{ctx: ctx, logger: logger, errc: make(chan error, 8)}
}

// start serves h on ln in the background.
func (s *servers) start(name string, ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		// Requests keep running while the server drains; Shutdown, not
		// the signal, ends them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(s.ctx) },
	}
	s.list = append(s.list, srv)
	s.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- fmt.Errorf("%s: serve: %w", name, err)
		}
	})
}

// wait returns when ctx is done or a server has failed, after shutting every
// server down gracefully: requests in flight get shutdownTimeout to finish.
func (s *servers) wait(ctx context.Context) error {
	var err error
	select {
	case err = <-s.errc:
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var down sync.WaitGroup
	for _, srv := range s.list {
		down.Go(func() {
			if e := srv.Shutdown(sctx); e != nil {
				s.logger.Warn("requests still running at the shutdown deadline were cut off", "err", e)
				srv.Close()
			}
		})
	}
	down.Wait()
	s.wg.Wait()
	if err == nil {
		select {
		case err = <-s.errc:
		default:
		}
	}
	return err
}
