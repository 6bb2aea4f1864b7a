package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gatehouse/gatehouse/notify"
)

// codeWait bounds how long MailSink.Code waits for a message.
const codeWait = 10 * time.Second

// maxSinkMessage bounds the size of a message the sink accepts.
const maxSinkMessage = 1 << 20

// MailSink is a mail server for load tests, on this machine's loopback:
// it accepts every message to any recipient over plain SMTP (no TLS, no
// authentication), counts what each recipient received, and hands out the
// one-time codes the messages carry, so that a load can complete email
// second factors (LD-2) and count the mail a flood of code requests
// actually sent (LD-8). Start the server under test with --smtp-url set to
// URL. It keeps counts and unclaimed codes only, never whole messages. It
// is safe for concurrent use.
type MailSink struct {
	addr string
	ln   net.Listener
	srv  *smtp.Server
	done chan struct{}

	mu       sync.Mutex
	received map[string]int      // per recipient (lower case)
	codes    map[string][]string // per recipient: codes not yet claimed, oldest first
	total    int
	noCode   int           // messages without a code (notices)
	changed  chan struct{} // closed and replaced when a message arrives
}

// StartMailSink starts a MailSink listening on addr, a loopback
// HOST:PORT (port 0 picks a free port). Close stops it.
func StartMailSink(addr string) (*MailSink, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("load: mail sink address %q is not HOST:PORT", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("load: the mail sink listens on a loopback address only (127.0.0.1:2525, say), not %q: it accepts mail from anyone who reaches it", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("load: mail sink: %w", err)
	}
	s := &MailSink{addr: ln.Addr().String(), ln: ln, done: make(chan struct{}),
		received: map[string]int{}, codes: map[string][]string{}, changed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "load-sink.localhost"
	s.srv.MaxMessageBytes = maxSinkMessage
	s.srv.MaxRecipients = 10
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the sink's HOST:PORT.
func (s *MailSink) Addr() string { return s.addr }

// URL is what to give the server under test as --smtp-url.
func (s *MailSink) URL() string {
	return (&url.URL{Scheme: "smtp", Host: s.addr, RawQuery: "starttls=off"}).String()
}

// Close stops the sink and closes its connections.
func (s *MailSink) Close() error {
	err := s.srv.Close()
	s.ln.Close() // in case Serve had not registered it yet when Close ran
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Code returns the newest code sent to the address to that Code has not
// returned before, waiting up to 10 seconds (or until ctx is done) for one
// to arrive. Older unclaimed codes to the address are dropped: a new code
// replaces the earlier ones of a sign-in.
func (s *MailSink) Code(ctx context.Context, to string) (string, error) {
	key := strings.ToLower(to)
	ctx, cancel := context.WithTimeout(ctx, codeWait)
	defer cancel()
	for {
		s.mu.Lock()
		codes, changed := s.codes[key], s.changed
		if len(codes) > 0 {
			delete(s.codes, key)
			s.mu.Unlock()
			return codes[len(codes)-1], nil
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("no code to %s reached the mail sink within %s: %w", to, codeWait, context.Cause(ctx))
		}
	}
}

// SinkCounts is what a MailSink received.
type SinkCounts struct {
	Messages int `json:"messages"`
	// WithoutCode counts the messages with no code: notices, such as the
	// one sent instead of a code to an address without an account.
	WithoutCode int `json:"without_code"`
	// PerRecipient counts the messages to each address (in lower case).
	PerRecipient map[string]int `json:"per_recipient"`
}

// MaxPerRecipient is the most messages any one address received.
func (c SinkCounts) MaxPerRecipient() int {
	m := 0
	for _, n := range c.PerRecipient {
		m = max(m, n)
	}
	return m
}

// Counts returns what the sink has received so far.
func (s *MailSink) Counts() SinkCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := SinkCounts{Messages: s.total, WithoutCode: s.noCode, PerRecipient: make(map[string]int, len(s.received))}
	for k, n := range s.received {
		c.PerRecipient[k] = n
	}
	return c
}

// Since returns the counts received after before, an earlier Counts.
func (c SinkCounts) Since(before SinkCounts) SinkCounts {
	d := SinkCounts{Messages: c.Messages - before.Messages, WithoutCode: c.WithoutCode - before.WithoutCode, PerRecipient: map[string]int{}}
	for k, n := range c.PerRecipient {
		if n -= before.PerRecipient[k]; n > 0 {
			d.PerRecipient[k] = n
		}
	}
	return d
}

var sinkCodeRE = regexp.MustCompile(`\b[0-9]{8}\b`)

// deliver records a message to rcpts.
func (s *MailSink) deliver(rcpts []string, data []byte) error {
	msg, err := notify.Parse(data)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "the load mail sink cannot read the message: " + err.Error()}
	}
	codes := sinkCodeRE.FindAllString(msg.Text, -1)
	slices.Sort(codes)
	codes = slices.Compact(codes)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, to := range rcpts {
		key := strings.ToLower(to)
		s.received[key]++
		s.total++
		if len(codes) == 1 {
			s.codes[key] = append(s.codes[key], codes[0])
		} else {
			s.noCode++
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// sinkSession is one SMTP conversation with the sink.
type sinkSession struct {
	s  *MailSink
	to []string
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSinkMessage+1))
	if err != nil {
		return err
	}
	return ss.s.deliver(ss.to, data)
}

func (ss *sinkSession) Reset()        { ss.to = nil }
func (ss *sinkSession) Logout() error { return nil }
