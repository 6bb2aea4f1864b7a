package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
)

const (
	testCode = "48151623"
	testTo   = "ada.lovelace@example.com"
	testFrom = "Acme sign-in <no-reply@acme.example>"
)

// codeMessage composes a sign-up code mail to to.
func codeMessage(t *testing.T, to string) notify.Message {
	t.Helper()
	c, err := notify.NewComposer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Code(notify.CodeMail{
		Branding:  notify.Branding{TenantName: "acme", DisplayName: "Acme"},
		To:        to,
		Code:      testCode,
		Purpose:   notify.PurposeSignUp,
		ExpiresIn: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newSMTP(t *testing.T, cfg notify.SMTPConfig, log *logRecorder) *notify.SMTP {
	t.Helper()
	if cfg.From == "" {
		cfg.From = testFrom
	}
	s, err := notify.NewSMTP(cfg, slog.New(log))
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func TestSMTPDelivers(t *testing.T) {
	tests := []struct {
		name     string
		opts     []smtptest.Option
		url      func(*smtptest.Server) string
		wantUser string
		wantTLS  bool
	}{
		{name: "plain relay", url: (*smtptest.Server).URL},
		{
			name: "no credentials, STARTTLS when offered",
			opts: []smtptest.Option{smtptest.WithTLS()},
			url: func(s *smtptest.Server) string {
				return "smtp://" + s.Addr + "?insecure_skip_verify=1"
			},
			wantTLS: true,
		},
		{
			name:     "credentials over STARTTLS",
			opts:     []smtptest.Option{smtptest.WithAuth("gatehouse", "s3cret:p@ss/word"), smtptest.WithTLS()},
			url:      (*smtptest.Server).URL,
			wantUser: "gatehouse",
			wantTLS:  true,
		},
		{
			name:     "credentials over implicit TLS",
			opts:     []smtptest.Option{smtptest.WithAuth("gatehouse", "s3cret:p@ss/word"), smtptest.WithImplicitTLS()},
			url:      (*smtptest.Server).URL,
			wantUser: "gatehouse",
			wantTLS:  true,
		},
		{
			name:     "credentials in clear to a loopback relay with starttls=off",
			opts:     []smtptest.Option{smtptest.WithAuth("gatehouse", "s3cret:p@ss/word")},
			url:      (*smtptest.Server).URL,
			wantUser: "gatehouse",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opts...)
			log := &logRecorder{}
			s := newSMTP(t, notify.SMTPConfig{URL: tt.url(srv)}, log)
			m := codeMessage(t, testTo)
			baseline := runtime.NumGoroutine()

			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}

			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("the server received %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.From != "no-reply@acme.example" || len(got.To) != 1 || got.To[0] != testTo {
				t.Errorf("envelope from %q to %q, want no-reply@acme.example to %s", got.From, got.To, testTo)
			}
			if got.User != tt.wantUser {
				t.Errorf("authenticated user %q, want %q", got.User, tt.wantUser)
			}
			if got.TLS != tt.wantTLS {
				t.Errorf("TLS %v, want %v", got.TLS, tt.wantTLS)
			}
			if got.Subject != m.Subject {
				t.Errorf("subject %q, want %q", got.Subject, m.Subject)
			}
			if got.Text != m.Text {
				t.Errorf("text part:\n%s\nwant:\n%s", got.Text, m.Text)
			}
			if got.HTML != m.HTML {
				t.Errorf("HTML part differs from the composed one:\n%s", got.HTML)
			}
			if h := got.Header.Get("Auto-Submitted"); h != "auto-generated" {
				t.Errorf("Auto-Submitted: %q, want auto-generated", h)
			}
			if h := got.Header.Get("From"); !strings.Contains(h, "no-reply@acme.example") {
				t.Errorf("From: %q", h)
			}
			if h := got.Header.Get("Message-Id"); !strings.HasSuffix(h, "@acme.example>") {
				t.Errorf("Message-Id: %q, want one in the sender's domain", h)
			}
			if h := got.Header.Get("User-Agent") + got.Header.Get("X-Mailer"); h != "" {
				t.Errorf("the message names its mailer: %q", h)
			}
			if code := srv.CodeFor(t, "Ada.Lovelace@example.com"); code != testCode {
				t.Errorf("CodeFor = %q, want %q", code, testCode)
			}
			if err := s.Check(context.Background()); err != nil {
				t.Errorf("Check: %v", err)
			}
			log.checkNoSecrets(t, testCode, testTo, "s3cret", "ada.lovelace")
			if !strings.Contains(log.text(), "recipient_domain=example.com") {
				t.Errorf("the log does not name the recipient's domain:\n%s", log.text())
			}
			checkGoroutines(t, baseline)
		})
	}
}

func TestSMTPRetries(t *testing.T) {
	tests := []struct {
		name         string
		failures     int
		code         int
		attempts     int
		wantErr      error // nil: delivered
		wantAttempts int   // transactions the server sees
	}{
		{name: "one 451 then delivered", failures: 1, code: 451, wantAttempts: 2},
		{name: "two 451 then delivered", failures: 2, code: 451, wantAttempts: 3},
		{name: "451 on every attempt", failures: 3, code: 451, wantErr: notify.ErrUnavailable, wantAttempts: 3},
		{name: "451 with one attempt allowed", failures: 1, code: 451, attempts: 1, wantErr: notify.ErrUnavailable, wantAttempts: 1},
		{name: "550 is not retried", failures: 1, code: 550, wantErr: notify.ErrUnavailable, wantAttempts: 1},
		{name: "554 is not retried", failures: 3, code: 554, wantErr: notify.ErrUnavailable, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			srv.FailNext(tt.failures, tt.code, "injected failure")
			log := &logRecorder{}
			s := newSMTP(t, notify.SMTPConfig{URL: srv.URL(), Attempts: tt.attempts}, log)

			err := s.Send(context.Background(), codeMessage(t, testTo))

			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Send: %v, want %v", err, tt.wantErr)
			}
			if got := srv.Transactions(); got != tt.wantAttempts {
				t.Errorf("the server saw %d transactions, want %d", got, tt.wantAttempts)
			}
			wantMsgs := 0
			if tt.wantErr == nil {
				wantMsgs = 1
			}
			if got := len(srv.Messages()); got != wantMsgs {
				t.Errorf("the server received %d messages, want %d", got, wantMsgs)
			}
			if err != nil && !strings.Contains(err.Error(), "injected failure") {
				t.Errorf("the error does not give the server's reply: %v", err)
			}
			log.checkNoSecrets(t, testCode, testTo)
		})
	}
}

func TestSMTPRejectedRecipient(t *testing.T) {
	srv := smtptest.Start(t)
	log := &logRecorder{}
	s := newSMTP(t, notify.SMTPConfig{URL: srv.URL()}, log)

	err := s.Send(context.Background(), codeMessage(t, "grace.hopper@example.invalid"))

	if !errors.Is(err, notify.ErrRejected) || errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("Send: %v, want ErrRejected", err)
	}
	if got, want := gatehouse.ErrorCode(err), gatehouse.EINVALID; got != want {
		t.Errorf("ErrorCode = %q, want %q", got, want)
	}
	if got, want := gatehouse.ErrorMessage(err), notify.ErrRejected.Message; got != want {
		t.Errorf("ErrorMessage = %q, want %q", got, want)
	}
	if got := srv.Transactions(); got != 1 {
		t.Errorf("the server saw %d transactions, want 1: a 5xx is not retried", got)
	}
	if strings.Contains(err.Error(), "grace.hopper") || !strings.Contains(err.Error(), "example.invalid") {
		t.Errorf("the error must name the recipient's domain only: %v", err)
	}
	log.checkNoSecrets(t, testCode, "grace.hopper")

	err = s.Send(context.Background(), notify.Message{To: "not an address", Subject: "s", Text: "t"})
	if !errors.Is(err, notify.ErrRejected) {
		t.Errorf("Send to an invalid address: %v, want ErrRejected", err)
	}
}

func TestSMTPRefusesToSendCredentialsInClear(t *testing.T) {
	// The server offers AUTH but not STARTTLS, as a misconfigured server
	// or one behind a STARTTLS-stripping attacker would.
	srv := smtptest.Start(t, smtptest.WithAuth("gatehouse", "hunter2hunter2"))
	log := &logRecorder{}
	s := newSMTP(t, notify.SMTPConfig{URL: "smtp://gatehouse:hunter2hunter2@" + srv.Addr}, log)

	err := s.Send(context.Background(), codeMessage(t, testTo))

	if !errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("Send: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("the error does not say STARTTLS is missing: %v", err)
	}
	if got := log.count("email delivery failed; retrying"); got != 0 {
		t.Errorf("retried %d times a failure that cannot pass", got)
	}
	if srv.Transactions() != 0 || len(srv.Messages()) != 0 {
		t.Errorf("the server got %d transactions and %d messages, want none", srv.Transactions(), len(srv.Messages()))
	}
	log.checkNoSecrets(t, testCode, testTo, "hunter2hunter2")

	if err := s.Check(context.Background()); !errors.Is(err, notify.ErrUnavailable) {
		t.Errorf("Check: %v, want ErrUnavailable", err)
	}
}

func TestSMTPPermanentFailures(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		url     func(*smtptest.Server) string
		wantErr string // in the error's text
	}{
		{
			name: "wrong password",
			opts: []smtptest.Option{smtptest.WithAuth("gatehouse", "right-password"), smtptest.WithTLS()},
			url: func(s *smtptest.Server) string {
				return "smtp://gatehouse:wrong-password@" + s.Addr + "?insecure_skip_verify=1"
			},
			wantErr: "535",
		},
		{
			name: "untrusted certificate (STARTTLS)",
			opts: []smtptest.Option{smtptest.WithTLS()},
			url: func(s *smtptest.Server) string {
				return "smtp://" + s.Addr + "?starttls=required"
			},
			wantErr: "certificate",
		},
		{
			name: "untrusted certificate (implicit TLS)",
			opts: []smtptest.Option{smtptest.WithImplicitTLS()},
			url: func(s *smtptest.Server) string {
				return "smtps://" + s.Addr
			},
			wantErr: "certificate",
		},
		{
			name: "starttls=required but not offered",
			url: func(s *smtptest.Server) string {
				return "smtp://" + s.Addr + "?starttls=required"
			},
			wantErr: "STARTTLS",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opts...)
			log := &logRecorder{}
			s := newSMTP(t, notify.SMTPConfig{URL: tt.url(srv)}, log)
			baseline := runtime.NumGoroutine()

			err := s.Send(context.Background(), codeMessage(t, testTo))

			if !errors.Is(err, notify.ErrUnavailable) {
				t.Fatalf("Send: %v, want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Send: %v, want an error about %q", err, tt.wantErr)
			}
			if got := log.count("email delivery failed; retrying"); got != 0 {
				t.Errorf("retried %d times a failure that cannot pass:\n%s", got, log.text())
			}
			if len(srv.Messages()) != 0 {
				t.Errorf("the server received a message")
			}
			if err := s.Check(context.Background()); !errors.Is(err, notify.ErrUnavailable) {
				t.Errorf("Check: %v, want ErrUnavailable", err)
			}
			log.checkNoSecrets(t, testCode, testTo, "wrong-password")
			checkGoroutines(t, baseline)
		})
	}
}

func TestSMTPServerDown(t *testing.T) {
	log := &logRecorder{}
	s := newSMTP(t, notify.SMTPConfig{URL: smtptest.ClosedURL(t), Timeout: 5 * time.Second}, log)
	baseline := runtime.NumGoroutine()
	start := time.Now()

	err := s.Send(context.Background(), codeMessage(t, testTo))

	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("Send took %v against a closed port, want the two backoffs (1.2s) and little more", elapsed)
	}
	if !errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("Send: %v, want ErrUnavailable", err)
	}
	if got, want := gatehouse.ErrorMessage(err), "We couldn't send the email right now. Please try again in a few minutes."; got != want {
		t.Errorf("ErrorMessage = %q, want %q", got, want)
	}
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("the error does not say the connection was refused three times: %v", err)
	}
	if got := log.count("email delivery failed; retrying"); got != 2 {
		t.Errorf("retried %d times, want 2:\n%s", got, log.text())
	}
	if err := s.Check(context.Background()); !errors.Is(err, notify.ErrUnavailable) {
		t.Errorf("Check: %v, want ErrUnavailable", err)
	}
	log.checkNoSecrets(t, testCode, testTo)
	checkGoroutines(t, baseline)
}

func TestSMTPServerSlow(t *testing.T) {
	hole := smtptest.StartBlackhole(t)
	log := &logRecorder{}
	const timeout = 300 * time.Millisecond
	s := newSMTP(t, notify.SMTPConfig{URL: hole.URL(), Timeout: timeout, Attempts: 2}, log)
	baseline := runtime.NumGoroutine()
	start := time.Now()

	err := s.Send(context.Background(), codeMessage(t, testTo))

	elapsed := time.Since(start)
	if !errors.Is(err, notify.ErrUnavailable) {
		t.Fatalf("Send: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Errorf("the error does not say the server timed out: %v", err)
	}
	hole.WaitAccepted(t, 2, 10*time.Second) // its accept loop counts on its own goroutine
	if got := hole.Accepted(); got != 2 {
		t.Errorf("%d connections, want 2 (one per attempt)", got)
	}
	if elapsed < 2*timeout {
		t.Errorf("Send returned after %v, before two attempts of %v each could time out", elapsed, timeout)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Send returned after %v, want about 2×%v plus a 200ms backoff", elapsed, timeout)
	}

	// Check times out the same way.
	start = time.Now()
	if err := s.Check(context.Background()); !errors.Is(err, notify.ErrUnavailable) {
		t.Errorf("Check: %v, want ErrUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed < timeout || elapsed > 5*time.Second {
		t.Errorf("Check returned after %v, want about %v", elapsed, timeout)
	}
	log.checkNoSecrets(t, testCode, testTo)
	checkGoroutines(t, baseline)
}

func TestSMTPHonoursContext(t *testing.T) {
	t.Run("cancelled while the server hangs", func(t *testing.T) {
		hole := smtptest.StartBlackhole(t)
		log := &logRecorder{}
		s := newSMTP(t, notify.SMTPConfig{URL: hole.URL(), Timeout: time.Minute}, log)
		baseline := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, codeMessage(t, testTo)) }()
		hole.WaitAccepted(t, 1, 10*time.Second)
		cancel()

		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Send did not return after its context was cancelled")
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, notify.ErrUnavailable) {
			t.Errorf("Send: %v, want context.Canceled and ErrUnavailable", err)
		}
		hole.WaitAccepted(t, 1, 10*time.Second) // its accept loop counts on its own goroutine
		if got := hole.Accepted(); got != 1 {
			t.Errorf("%d connections, want 1: a cancelled send is not retried", got)
		}
		checkGoroutines(t, baseline)
	})

	t.Run("cancelled in the middle of the exchange", func(t *testing.T) {
		addr, stalled := startStaller(t)
		s := newSMTP(t, notify.SMTPConfig{URL: "smtp://" + addr, Timeout: time.Minute}, &logRecorder{})
		baseline := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, codeMessage(t, testTo)) }()
		select {
		case <-stalled:
		case <-time.After(10 * time.Second):
			t.Fatal("Send did not say EHLO")
		}
		cancel()

		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || !errors.Is(err, notify.ErrUnavailable) {
				t.Errorf("Send: %v, want context.Canceled and ErrUnavailable", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Send did not return after its context was cancelled")
		}
		checkGoroutines(t, baseline)
	})

	t.Run("cancelled while waiting to retry", func(t *testing.T) {
		log := &logRecorder{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		log.hook = func(msg string) {
			if msg == "email delivery failed; retrying" {
				cancel()
			}
		}
		s := newSMTP(t, notify.SMTPConfig{URL: smtptest.ClosedURL(t)}, log)
		baseline := runtime.NumGoroutine()

		err := s.Send(ctx, codeMessage(t, testTo))

		if !errors.Is(err, context.Canceled) || !errors.Is(err, notify.ErrUnavailable) {
			t.Errorf("Send: %v, want context.Canceled and ErrUnavailable", err)
		}
		if got := log.count("email delivery failed; retrying"); got != 1 {
			t.Errorf("%d retries logged, want 1: the send must stop while waiting to retry", got)
		}
		checkGoroutines(t, baseline)
	})

	t.Run("deadline shorter than the timeout", func(t *testing.T) {
		hole := smtptest.StartBlackhole(t)
		log := &logRecorder{}
		s := newSMTP(t, notify.SMTPConfig{URL: hole.URL(), Timeout: time.Minute}, log)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()

		err := s.Send(ctx, codeMessage(t, testTo))

		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("Send returned after %v, want soon after the context's 200ms deadline", elapsed)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, notify.ErrUnavailable) {
			t.Errorf("Send: %v, want context.DeadlineExceeded and ErrUnavailable", err)
		}
		hole.WaitAccepted(t, 1, 10*time.Second) // its accept loop counts on its own goroutine
		if got := hole.Accepted(); got != 1 {
			t.Errorf("%d connections, want 1: the caller's deadline is not retried", got)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		srv := smtptest.Start(t)
		s := newSMTP(t, notify.SMTPConfig{URL: srv.URL()}, &logRecorder{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Send(ctx, codeMessage(t, testTo)); !errors.Is(err, context.Canceled) {
			t.Errorf("Send: %v, want context.Canceled", err)
		}
		if n := srv.Transactions(); n != 0 {
			t.Errorf("the server saw %d transactions, want 0", n)
		}
	})
}

func TestNewSMTPErrors(t *testing.T) {
	const okURL = "smtp://mail.example.com"
	tests := []struct {
		name string
		cfg  notify.SMTPConfig
		want string
	}{
		{"no URL", notify.SMTPConfig{From: testFrom}, "SMTP URL"},
		{"bad URL", notify.SMTPConfig{URL: "http://mail.example.com", From: testFrom}, `not "http"`},
		{"no sender", notify.SMTPConfig{URL: okURL}, "sender"},
		{"bad sender", notify.SMTPConfig{URL: okURL, From: "no-reply"}, "not an email address"},
		{"negative timeout", notify.SMTPConfig{URL: okURL, From: testFrom, Timeout: -time.Second}, "negative"},
		{"negative attempts", notify.SMTPConfig{URL: okURL, From: testFrom, Attempts: -1}, "attempts"},
		{"too many attempts", notify.SMTPConfig{URL: okURL, From: testFrom, Attempts: 11}, "attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewSMTP(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewSMTP: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := notify.NewSMTP(notify.SMTPConfig{URL: okURL, From: testFrom}, nil); err != nil {
		t.Errorf("NewSMTP with a nil logger: %v", err)
	}
}

// The URL smtptest writes must parse, with the password percent-decoded.
func TestSMTPTestURLParses(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("u@example.com", "p@ss:w/rd#?%"), smtptest.WithTLS())
	got, err := notify.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatalf("ParseSMTPURL(%q): %v", srv.URL(), err)
	}
	if got.Username != "u@example.com" || got.Password != "p@ss:w/rd#?%" || got.TLS != notify.TLSStartTLS || !got.InsecureSkipVerify {
		t.Errorf("ParseSMTPURL = %+v", got)
	}
	if u, _ := url.Parse(got.String()); u == nil || strings.Contains(got.String(), "p@ss") {
		t.Errorf("String() = %q, want a URL without the password", got.String())
	}
}

// TestSMTPStatus: the sender remembers whether its last delivery or check
// went through, and a caller that gave up says nothing about the server.
func TestSMTPStatus(t *testing.T) {
	srv := smtptest.Start(t)
	s := newSMTP(t, notify.SMTPConfig{URL: srv.URL(), Attempts: 1}, &logRecorder{})
	if st := s.Status(); !st.LastReached.IsZero() || !st.LastFailed.IsZero() || st.Failing() {
		t.Fatalf("a new sender's status: %+v", st)
	}
	if err := s.Send(context.Background(), codeMessage(t, testTo)); err != nil {
		t.Fatal(err)
	}
	reached := s.Status().LastReached
	if reached.IsZero() || s.Status().Failing() {
		t.Fatalf("after a delivery: %+v", s.Status())
	}

	srv.FailNext(1, 451, "try later")
	if err := s.Send(context.Background(), codeMessage(t, testTo)); err == nil {
		t.Fatal("Send went through a refusing server")
	}
	if st := s.Status(); !st.Failing() || st.LastReached != reached {
		t.Errorf("after a failed delivery: %+v", st)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.Failing() {
		t.Errorf("after a good check: %+v", st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := s.Status()
	if err := s.Send(ctx, codeMessage(t, testTo)); err == nil {
		t.Fatal("Send with a cancelled context went through")
	}
	if st := s.Status(); st != before {
		t.Errorf("a cancelled send changed the status: %+v, was %+v", st, before)
	}

	down := newSMTP(t, notify.SMTPConfig{URL: smtptest.ClosedURL(t), Attempts: 1}, &logRecorder{})
	if err := down.Check(context.Background()); err == nil || !down.Status().Failing() {
		t.Errorf("a check of a server that is down: %v, status %+v", err, down.Status())
	}
}
