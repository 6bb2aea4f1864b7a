package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/internal/inbox"
)

// An Option configures a Server.
type Option func(*Server)

// WithAuth makes the server offer AUTH PLAIN and require it, with these
// credentials, before it accepts mail. Without WithTLS or WithImplicitTLS
// the server offers AUTH in clear, which Gatehouse's sender refuses except
// with starttls=off on a loopback host (as URL writes it).
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithTLS makes the server offer STARTTLS with a self-signed certificate
// for 127.0.0.1, ::1 and localhost, generated for it.
func WithTLS() Option {
	return func(s *Server) { s.mode = modeStartTLS }
}

// WithImplicitTLS makes the server speak TLS from the first byte (smtps),
// with a self-signed certificate as WithTLS.
func WithImplicitTLS() Option {
	return func(s *Server) { s.mode = modeImplicitTLS }
}

type tlsMode int

const (
	modeNone tlsMode = iota
	modeStartTLS
	modeImplicitTLS
)

// Received is a message the server accepted.
type Received struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as received (RFC 5322)
	User string   // the user that authenticated, "" without AUTH
	TLS  bool     // whether the connection was encrypted

	// Parsed from Data. Text and HTML are the first text/plain and
	// text/html parts, decoded (quoted-printable, base64) and with line
	// endings turned into "\n".
	Header  mail.Header
	Subject string // decoded (RFC 2047)
	Text    string
	HTML    string
}

// Server is an SMTP server on 127.0.0.1 for one test.
type Server struct {
	Addr string // host:port

	user, pass string
	mode       tlsMode
	srv        *smtp.Server
	ln         *listener

	inbox inbox.Inbox[Received]

	mu       sync.Mutex
	mails    int // MAIL commands received
	failures []*smtp.SMTPError
}

// Start starts a server, configured by opts, that is closed when the test
// ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.ln = newListener(l)
	s.Addr = l.Addr().String()

	logger := &testLogger{t: t}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "smtptest.localhost"
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	s.srv.ErrorLog = logger
	s.srv.AllowInsecureAuth = s.mode == modeNone
	var served net.Listener = s.ln
	if s.mode != modeNone {
		cert, err := selfSigned()
		if err != nil {
			l.Close()
			t.Fatalf("smtptest: %v", err)
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.mode == modeStartTLS {
			s.srv.TLSConfig = cfg
		} else {
			served = tls.NewListener(s.ln, cfg)
		}
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(served); err != nil {
			logger.Printf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		s.srv.Close()
		s.ln.Close() // in case Serve had not yet registered it when Close ran
		<-done
		s.ln.closeAll()
		s.ln.wait()
		logger.stop()
	})
	return s
}

// URL returns the server's URL for notify.NewSMTP: smtp:// or smtps://,
// with the credentials of WithAuth, insecure_skip_verify=1 when the server
// uses its self-signed certificate, and starttls=off when it has no TLS.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.mode == modeImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.pass)
	}
	if s.mode == modeNone {
		u.RawQuery = "starttls=off"
	} else {
		u.RawQuery = "insecure_skip_verify=1"
	}
	return u.String()
}

// Messages returns the messages the server accepted, in the order it
// accepted them.
func (s *Server) Messages() []Received { return s.inbox.All() }

// Transactions returns the number of MAIL commands the server received,
// accepted or refused: the number of delivery attempts that got that far.
func (s *Server) Transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mails
}

// FailNext makes the server refuse the next n transactions at MAIL FROM
// with the reply code (4xx for a temporary failure, 5xx for a permanent
// one) and text.
func (s *Server) FailNext(n, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, &smtp.SMTPError{
			Code:         code,
			EnhancedCode: smtp.EnhancedCodeNotSet,
			Message:      text,
		})
	}
}

// WaitFor returns the newest message for which pred is true, waiting up to
// timeout for one to arrive; it fails the test if none does. With a timeout
// of 0 it only looks at the messages already received.
func (s *Server) WaitFor(t testing.TB, pred func(Received) bool, timeout time.Duration) Received {
	t.Helper()
	r, ok := s.inbox.Wait(pred, timeout)
	if !ok {
		t.Fatalf("smtptest: no matching message within %v; %s", timeout, s.summary())
	}
	return r
}

// CodeFor waits up to 10 seconds for mail to the address to (compared
// without regard to case) that an earlier CodeFor has not returned, and
// returns the 8-digit code in the text part of the newest such message. It
// fails the test if no message arrives or its text does not hold exactly
// one 8-digit code. Each call consumes all the messages to that address
// received so far, so calling it once per code sent reads each code in
// turn.
func (s *Server) CodeFor(t testing.TB, to string) string {
	t.Helper()
	r, ok := s.inbox.Next(strings.ToLower(to), func(r Received) bool { return hasRecipient(r, to) }, 10*time.Second)
	if !ok {
		t.Fatalf("smtptest: no new mail to %s within 10s; %s", to, s.summary())
	}
	code, err := inbox.Code(codeRE, "8-digit code", r.Text)
	if err != nil {
		t.Fatalf("smtptest: the text of the mail to %s (subject %q) %v:\n%s", to, r.Subject, err, r.Text)
	}
	return code
}

var codeRE = regexp.MustCompile(`\b[0-9]{8}\b`)

func hasRecipient(r Received, addr string) bool {
	for _, to := range r.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

func (s *Server) summary() string {
	msgs := s.Messages()
	if len(msgs) == 0 {
		return "the server has received no messages"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the server has received %d:", len(msgs))
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n\tto %v: %q", m.To, m.Subject)
	}
	return b.String()
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// session is one client's conversation; go-smtp calls it from that
// connection's goroutine only.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNoSuchUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
)

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.user == "" {
		return nil, smtp.ErrAuthUnsupported
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != ss.s.user || password != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	ss.s.mails++
	var fail *smtp.SMTPError
	if len(ss.s.failures) > 0 {
		fail, ss.s.failures = ss.s.failures[0], ss.s.failures[1:]
	}
	ss.s.mu.Unlock()
	if ss.s.user != "" && ss.user == "" {
		return errAuthRequired
	}
	if fail != nil {
		return fail
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(strings.ToLower(to), ".invalid") {
		return errNoSuchUser
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	p, err := notify.Parse(data)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtptest cannot parse the message: " + err.Error()}
	}
	rec := Received{Data: data, Header: p.Header, Subject: p.Subject, Text: p.Text, HTML: p.HTML,
		From: ss.from, To: append([]string(nil), ss.to...), User: ss.user}
	_, rec.TLS = ss.conn.TLSConnectionState()

	ss.s.inbox.Add(rec)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// selfSigned returns a new certificate for the loopback addresses.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// testLogger forwards go-smtp's log to the test until the test ends.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("smtptest: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.Printf("%s", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// listener keeps track of the connections it accepted, so that the server
// can close all of them and wait until their handlers have let go.
type listener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

func newListener(l net.Listener) *listener {
	return &listener{Listener: l, conns: map[*conn]struct{}{}}
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &conn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()
	return tc, nil
}

// closeAll closes every open connection under its handler.
func (l *listener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Conn.Close()
	}
}

// wait returns when the handler of every accepted connection has closed it.
func (l *listener) wait() { l.wg.Wait() }

type conn struct {
	net.Conn
	l    *listener
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		c.l.wg.Done()
	})
	return err
}
