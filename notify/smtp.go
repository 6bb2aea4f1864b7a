package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// SMTP defaults.
const (
	DefaultSMTPTimeout  = 10 * time.Second
	DefaultSMTPAttempts = 3
	maxSMTPAttempts     = 10
)

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	URL  string // see ParseSMTPURL
	From string // the From header, e.g. "Acme sign-in <no-reply@acme.example>"
	// Timeout bounds one attempt: connecting, TLS, EHLO, AUTH and the mail
	// transaction together. 0 means DefaultSMTPTimeout.
	Timeout time.Duration
	// Attempts is how many times Send tries before it gives up, counting the
	// first. Only temporary failures are retried. 0 means
	// DefaultSMTPAttempts.
	Attempts int
}

// SMTP sends mail through a mail server. It opens one connection per
// attempt and closes it before the attempt ends; it is safe for concurrent
// use.
type SMTP struct {
	server     SMTPServer
	from       string
	fromDomain string
	timeout    time.Duration
	attempts   int
	backoff    []time.Duration // wait before attempt i+2; the last repeats
	tlsConfig  *tls.Config
	logger     *slog.Logger

	mu     sync.Mutex
	status Status
}

// Status is what a sender has seen of its mail server: when a delivery or
// a check last went through, and when one last failed. A recipient the
// server refuses is the recipient's problem, not the server's: it counts
// as going through.
type Status struct {
	LastReached time.Time // zero before the first success
	LastFailed  time.Time // zero before the first failure
}

// Failing reports whether the latest delivery or check failed.
func (st Status) Failing() bool { return st.LastFailed.After(st.LastReached) }

// Status returns what the sender has seen of its mail server.
func (s *SMTP) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// record notes how a delivery or check ended.
func (s *SMTP) record(err error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil || errors.Is(err, ErrRejected) {
		s.status.LastReached = now
	} else {
		s.status.LastFailed = now
	}
}

// NewSMTP returns an SMTP sender configured by cfg. It does not connect;
// use Check for that. A nil logger discards.
func NewSMTP(cfg SMTPConfig, logger *slog.Logger) (*SMTP, error) {
	srv, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.From == "" {
		return nil, errors.New("notify: a sender (From) address is required")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: sender address %q is not an email address: %w", cfg.From, err)
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("notify: SMTP timeout %v is negative", cfg.Timeout)
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultSMTPTimeout
	}
	switch {
	case cfg.Attempts < 0 || cfg.Attempts > maxSMTPAttempts:
		return nil, fmt.Errorf("notify: SMTP attempts must be from 1 to %d, not %d", maxSMTPAttempts, cfg.Attempts)
	case cfg.Attempts == 0:
		cfg.Attempts = DefaultSMTPAttempts
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SMTP{
		server:     *srv,
		from:       from.String(),
		fromDomain: domainOf(from.Address),
		timeout:    cfg.Timeout,
		attempts:   cfg.Attempts,
		backoff:    []time.Duration{200 * time.Millisecond, time.Second},
		tlsConfig: &tls.Config{
			ServerName:         srv.Host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: srv.InsecureSkipVerify, // #nosec G402 -- opt-in for development servers
		},
		logger: logger,
	}, nil
}

// Send delivers m, trying up to the configured number of attempts, each
// bounded by the configured timeout and by ctx. It retries only temporary
// failures (no connection, a timeout, a dropped connection, a 4xx reply),
// after 200ms and then 1s; a 5xx reply or a TLS failure ends it at once.
// It returns an error wrapping ErrRejected when the address is invalid or
// the server refuses the recipient permanently, and wrapping
// ErrUnavailable for every other failure. The error's text and the log
// name the recipient's domain only; the message body is never logged.
//
// With the defaults, a server that accepts connections and never answers
// holds Send for about 31 seconds (3 × 10s and the backoffs); a caller
// that must answer sooner passes a ctx with a deadline.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, rcpt, err := s.message(m)
	if err != nil {
		return err
	}
	domain := domainOf(rcpt)
	start := time.Now()
	attempt := 0
	for {
		attempt++
		err = s.session(ctx, func(c *gomail.Client, sc *gosmtp.Client) error {
			if err := c.SendWithSMTPClient(sc, msg); err != nil && !msg.IsDelivered() {
				return err
			}
			// The server took the message; a failed RSET or QUIT changes
			// nothing and must not cause a second delivery.
			_ = c.CloseWithSMTPClient(sc)
			return nil
		})
		if err == nil {
			s.record(nil)
			s.logger.InfoContext(ctx, "email sent", "recipient_domain", domain, "attempts", attempt,
				"duration", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if !temporary(err) || attempt >= s.attempts {
			break
		}
		wait := s.backoff[min(attempt-1, len(s.backoff)-1)]
		s.logger.WarnContext(ctx, "email delivery failed; retrying", "recipient_domain", domain, "attempt", attempt,
			"retry_in", wait, "err", redactAddress(err.Error(), rcpt))
		if !sleep(ctx, wait) {
			err = fmt.Errorf("%w while waiting to retry after: %w", context.Cause(ctx), err)
			break
		}
	}
	kind := ErrUnavailable
	if rejected(err) {
		kind = ErrRejected
	}
	e := &sendError{
		kind:  kind,
		text:  fmt.Sprintf("notify: mail to %s through %s failed after %s: %s", redacted(rcpt), s.server.Addr(), plural(attempt, "attempt"), redactAddress(err.Error(), rcpt)),
		cause: err,
	}
	if ctx.Err() == nil { // a caller that gave up says nothing of the server
		s.record(e)
	}
	s.logger.ErrorContext(ctx, "email not sent", "recipient_domain", domain, "attempts", attempt,
		"duration", time.Since(start).Round(time.Millisecond), "err", e.text)
	return e
}

// Check connects to the mail server and says EHLO, STARTTLS and AUTH as a
// delivery would, then QUIT: a readiness probe. It makes one attempt,
// bounded by the configured timeout and by ctx, and returns an error
// wrapping ErrUnavailable when it fails.
func (s *SMTP) Check(ctx context.Context) error {
	err := s.session(ctx, func(c *gomail.Client, sc *gosmtp.Client) error {
		return c.CloseWithSMTPClient(sc)
	})
	if err != nil {
		e := &sendError{
			kind:  ErrUnavailable,
			text:  fmt.Sprintf("notify: mail server %s: %s", s.server.Addr(), err),
			cause: err,
		}
		if ctx.Err() == nil {
			s.record(e)
		}
		return e
	}
	s.record(nil)
	return nil
}

// message builds the go-mail message of m and returns it with the bare
// recipient address.
func (s *SMTP) message(m Message) (*gomail.Msg, string, error) {
	if m.Subject == "" || m.Text == "" {
		return nil, "", errors.New("notify: a message needs a subject and a text body")
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, "", &sendError{
			kind:  ErrRejected,
			text:  fmt.Sprintf("notify: recipient %s is not a valid email address", redacted(m.To)),
			cause: errors.New("invalid recipient address"),
		}
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, "", fmt.Errorf("notify: sender address: %w", err)
	}
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(rand.Text() + "@" + s.fromDomain)
	// RFC 3834: tell autoresponders (out-of-office replies) to keep quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, to.Address, nil
}

// session runs fn on a new connection to the server that has said EHLO and
// done STARTTLS and AUTH as configured. The whole of it is bounded by the
// configured timeout and by ctx: when either ends, the connection is
// closed under the exchange, whatever go-mail is waiting for. The
// connection is closed, and no goroutine of it is left, when session
// returns.
func (s *SMTP) session(parent context.Context, fn func(*gomail.Client, *gosmtp.Client) error) (err error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()

	var (
		conn    net.Conn
		stop    func() bool
		stopped = make(chan struct{})
	)
	defer func() {
		// Runs before cancel, which would otherwise fire the AfterFunc.
		if stop != nil && !stop() {
			<-stopped // the AfterFunc ran or is running: let it finish
		}
		if conn != nil {
			conn.Close()
		}
		if err == nil {
			return
		}
		// A context's Err may lag its deadline by a moment, while the
		// connection's own deadline has already ended a read.
		now := time.Now()
		switch {
		case parent.Err() != nil:
			err = fmt.Errorf("gave up: %w (%v)", context.Cause(parent), err)
		case expired(parent, now):
			err = fmt.Errorf("gave up: %w (%v)", context.DeadlineExceeded, err)
		case ctx.Err() != nil, expired(ctx, now), errors.Is(err, os.ErrDeadlineExceeded):
			err = &timeoutError{after: s.timeout, cause: err}
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		if conn != nil {
			return nil, errors.New("notify: one attempt dialled twice") // go-mail dials once without a fallback port
		}
		c, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() {
			c.Close()
			close(stopped)
		})
		if s.server.TLS != TLSImplicit {
			return c, nil
		}
		tc := tls.Client(c, s.tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			return nil, err
		}
		return tc, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.server.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	switch s.server.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default: // TLSImplicit (the dialer does TLS) and TLSNone
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.server.Username != "" {
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthCramMD5}
		if s.server.TLS == TLSNone {
			// ParseSMTPURL allows this on loopback hosts only.
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc, gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthCramMD5}
		}
		opts = append(opts,
			gomail.WithUsername(s.server.Username),
			gomail.WithPassword(s.server.Password),
			gomail.WithOpportunisticSMTPAuth(mechs...))
	}
	client, err := gomail.NewClient(s.server.Host, opts...)
	if err != nil {
		return fmt.Errorf("configure SMTP client: %w", err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if s.server.TLS == TLSStartTLS && strings.Contains(err.Error(), "not support STARTTLS") {
			return fmt.Errorf("the server does not offer STARTTLS, which this URL requires (it has credentials, or starttls=required); use smtps://, or starttls=off for a relay on this machine: %w", err)
		}
		return err
	}
	return fn(client, sc)
}

// expired reports whether ctx has a deadline that is not after now.
func expired(ctx context.Context, now time.Time) bool {
	d, ok := ctx.Deadline()
	return ok && !now.Before(d)
}

// timeoutError is an attempt that ran out of time.
type timeoutError struct {
	after time.Duration
	cause error
	what  string // who did not finish; "" for the mail server
}

func (e *timeoutError) Error() string {
	what := e.what
	if what == "" {
		what = "the mail server"
	}
	return fmt.Sprintf("%s did not finish within %v (%v)", what, e.after, e.cause)
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// temporary reports whether an attempt that failed with err may succeed if
// tried again soon.
func temporary(err error) bool {
	var (
		te     *timeoutError
		se     *gomail.SendError
		tpe    *textproto.Error
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case errors.As(err, &te):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false // the caller gave up
	case errors.As(err, &se):
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false
		}
		// 0: the connection failed in the middle of the transaction.
		code := se.ErrorCode()
		return code == 0 || code/100 == 4
	case errors.As(err, &tpe):
		return tpe.Code/100 == 4
	case badTLS(err):
		return false // misconfiguration: trying again will not help
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.As(err, &opErr):
		return true
	}
	return false
}

// badTLS reports whether err is a TLS failure that trying again will not
// mend: a certificate that does not verify, or a peer that does not speak
// TLS as configured.
func badTLS(err error) bool {
	var (
		certErr *tls.CertificateVerificationError
		alert   tls.AlertError
		rhe     tls.RecordHeaderError
		uae     x509.UnknownAuthorityError
		hne     x509.HostnameError
		cie     x509.CertificateInvalidError
	)
	return errors.As(err, &certErr) || errors.As(err, &alert) || errors.As(err, &rhe) ||
		errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie)
}

// rejected reports whether err is a permanent refusal of the recipient.
func rejected(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && se.ErrorCode()/100 == 5
}

// sleep waits for d or until ctx is done, and reports whether it waited
// the whole of d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
