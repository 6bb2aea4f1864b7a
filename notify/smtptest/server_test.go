package smtptest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify/smtptest"
)

// send delivers a raw message through a real SMTP client.
func send(t *testing.T, srv *smtptest.Server, from string, to []string, msg string) error {
	t.Helper()
	return smtp.SendMail(srv.Addr, nil, from, to, []byte(strings.ReplaceAll(msg, "\n", "\r\n")))
}

func TestServerParses(t *testing.T) {
	tests := []struct {
		name        string
		msg         string
		wantSubject string
		wantText    string
		wantHTML    string
	}{
		{
			name:        "no content type",
			msg:         "From: a@example.com\nTo: b@example.com\nSubject: Hello\n\nPlain body.\nLine 2.\n",
			wantSubject: "Hello",
			wantText:    "Plain body.\nLine 2.\n",
		},
		{
			name: "quoted-printable alternative",
			msg: `From: a@example.com
To: b@example.com
Subject: =?UTF-8?q?Your_Acme_=E2=9C=93_code?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Your code is 12345678. A long line that is wrapped by quoted-printable enco=
ding =E2=80=94 ok.
--b1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<p style=3D"color:red">12345678</p>
--b1--
`,
			wantSubject: "Your Acme ✓ code",
			wantText:    "Your code is 12345678. A long line that is wrapped by quoted-printable encoding — ok.",
			wantHTML:    `<p style="color:red">12345678</p>`,
		},
		{
			name: "base64 inside mixed with an attachment",
			msg: `From: a@example.com
To: b@example.com
Subject: Nested
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

Q29kZTogODc2NTQz
MjE=
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGI+ODc2NTQzMjE8L2I+
--inner--
--outer
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename="notes.txt"

not the body
--outer--
`,
			wantSubject: "Nested",
			wantText:    "Code: 87654321",
			wantHTML:    "<b>87654321</b>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			if err := send(t, srv, "a@example.com", []string{"b@example.com"}, tt.msg); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.Subject != tt.wantSubject || m.Text != tt.wantText || m.HTML != tt.wantHTML {
				t.Errorf("got subject %q, text %q, HTML %q\nwant subject %q, text %q, HTML %q",
					m.Subject, m.Text, m.HTML, tt.wantSubject, tt.wantText, tt.wantHTML)
			}
			if m.From != "a@example.com" || len(m.To) != 1 || m.To[0] != "b@example.com" || m.User != "" || m.TLS {
				t.Errorf("envelope %q -> %q, user %q, TLS %v", m.From, m.To, m.User, m.TLS)
			}
			if !strings.Contains(string(m.Data), "Subject: ") || m.Header.Get("To") != "b@example.com" {
				t.Errorf("Data or Header not kept: %q", m.Header)
			}
		})
	}
}

func TestServerRefusesWhatItCannotParse(t *testing.T) {
	srv := smtptest.Start(t)
	msg := "Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n\nbody\n"
	err := send(t, srv, "a@example.com", []string{"b@example.com"}, msg)
	var tpe *textproto.Error
	if !errors.As(err, &tpe) || tpe.Code != 554 || !strings.Contains(tpe.Msg, "charset") {
		t.Errorf("SendMail: %v, want 554 naming the charset", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages kept, want 0", n)
	}
}

func TestServerAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("gatehouse", "s3cret"), smtptest.WithTLS())
	dial := func(t *testing.T) *smtp.Client {
		t.Helper()
		c, err := smtp.Dial(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("the server offers AUTH before STARTTLS")
		}
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
			t.Fatalf("StartTLS: %v", err)
		}
		return c
	}
	code := func(err error) int {
		var tpe *textproto.Error
		if errors.As(err, &tpe) {
			return tpe.Code
		}
		return 0
	}

	c := dial(t)
	if err := c.Mail("a@example.com"); code(err) != 530 {
		t.Errorf("MAIL without AUTH: %v, want 530", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "gatehouse", "wrong", "127.0.0.1")); code(err) != 535 {
		t.Errorf("AUTH with a wrong password: %v, want 535", err)
	}

	c = dial(t)
	if err := c.Auth(smtp.PlainAuth("", "gatehouse", "s3cret", "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: hi\r\n\r\nCode 11223344\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, func(r smtptest.Received) bool { return r.Subject == "hi" }, 10*time.Second)
	if m.User != "gatehouse" || !m.TLS {
		t.Errorf("user %q, TLS %v; want gatehouse over TLS", m.User, m.TLS)
	}
	if got, want := srv.URL(), "smtp://gatehouse:s3cret@"+srv.Addr+"?insecure_skip_verify=1"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
}

func TestServerImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithImplicitTLS())
	if got, want := srv.URL(), "smtps://"+srv.Addr+"?insecure_skip_verify=1"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	conn, err := tls.Dial("tcp", srv.Addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: tls\r\n\r\nbody\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("messages %+v, want one over TLS", m)
	}
}

func TestServerFailuresAndRejections(t *testing.T) {
	srv := smtptest.Start(t)
	if got, want := srv.URL(), "smtp://"+srv.Addr+"?starttls=off"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	srv.FailNext(2, 451, "busy, try later")
	msg := "Subject: s\n\nbody\n"
	for i, want := range []int{451, 451, 0} {
		err := send(t, srv, "a@example.com", []string{"b@example.com"}, msg)
		var tpe *textproto.Error
		switch {
		case want == 0 && err != nil:
			t.Errorf("send %d: %v, want delivered", i, err)
		case want != 0 && (!errors.As(err, &tpe) || tpe.Code != want || !strings.HasSuffix(tpe.Msg, "busy, try later")):
			t.Errorf("send %d: %v, want %d busy, try later", i, err, want)
		}
	}
	err := send(t, srv, "a@example.com", []string{"nobody@example.invalid"}, msg)
	var tpe *textproto.Error
	if !errors.As(err, &tpe) || tpe.Code != 550 {
		t.Errorf("send to .invalid: %v, want 550", err)
	}
	if got := srv.Transactions(); got != 4 {
		t.Errorf("Transactions() = %d, want 4", got)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("%d messages, want 1", got)
	}
}

func TestCodeFor(t *testing.T) {
	srv := smtptest.Start(t)
	mail := func(to, code string) {
		t.Helper()
		if err := send(t, srv, "a@example.com", []string{to}, "Subject: code\n\nYour code: "+code+"\nFrom 10.0.0.1 at 2026-03-01.\n"); err != nil {
			t.Fatalf("SendMail: %v", err)
		}
	}
	mail("ada@example.com", "11111111")
	mail("ada@example.com", "22222222")
	mail("bob@example.com", "33333333")

	if got := srv.CodeFor(t, "ADA@example.com"); got != "22222222" {
		t.Errorf("CodeFor(ada) = %q, want the newest code 22222222", got)
	}
	if got := srv.CodeFor(t, "bob@example.com"); got != "33333333" {
		t.Errorf("CodeFor(bob) = %q, want 33333333", got)
	}

	// The next call waits for a new message.
	done := make(chan string, 1)
	go func() { done <- srv.CodeFor(t, "ada@example.com") }()
	mail("ada@example.com", "44444444")
	select {
	case got := <-done:
		if got != "44444444" {
			t.Errorf("CodeFor(ada) after a resend = %q, want 44444444", got)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("CodeFor did not return")
	}
}

// fatalTB records a Fatalf instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func expectFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	if f.msg == "" {
		t.Fatal("the helper did not fail the test")
	}
	return f.msg
}

func TestHelpersFail(t *testing.T) {
	srv := smtptest.Start(t)
	if err := send(t, srv, "a@example.com", []string{"ada@example.com"}, "Subject: no code\n\nHello.\n"); err != nil {
		t.Fatal(err)
	}
	if err := send(t, srv, "a@example.com", []string{"bob@example.com"}, "Subject: two codes\n\n12345678 or 87654321\n"); err != nil {
		t.Fatal(err)
	}

	msg := expectFatal(t, func(tb testing.TB) {
		srv.WaitFor(tb, func(r smtptest.Received) bool { return r.Subject == "missing" }, 50*time.Millisecond)
	})
	if !strings.Contains(msg, "no matching message") || !strings.Contains(msg, `"no code"`) {
		t.Errorf("WaitFor failed with %q, want it to list the messages received", msg)
	}
	if msg := expectFatal(t, func(tb testing.TB) { srv.CodeFor(tb, "ada@example.com") }); !strings.Contains(msg, "no 8-digit code") {
		t.Errorf("CodeFor of a mail without a code failed with %q", msg)
	}
	if msg := expectFatal(t, func(tb testing.TB) { srv.CodeFor(tb, "bob@example.com") }); !strings.Contains(msg, "more than one") {
		t.Errorf("CodeFor of a mail with two codes failed with %q", msg)
	}
	hole := smtptest.StartBlackhole(t)
	if msg := expectFatal(t, func(tb testing.TB) { hole.WaitAccepted(tb, 1, 50*time.Millisecond) }); !strings.Contains(msg, "accepted 0 connections") {
		t.Errorf("WaitAccepted failed with %q", msg)
	}
}

func TestBlackholeAndClosedURL(t *testing.T) {
	hole := smtptest.StartBlackhole(t)
	conn, err := net.Dial("tcp", hole.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hole.WaitAccepted(t, 1, 10*time.Second)
	if err := conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, err := conn.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read from the blackhole: %v, want a timeout", err)
	}

	closed := strings.TrimPrefix(smtptest.ClosedURL(t), "smtp://")
	if c, err := net.Dial("tcp", closed); err == nil {
		c.Close()
		t.Errorf("dialing ClosedURL's address succeeded")
	}
}

// Start and StartBlackhole leave no goroutine behind, even with a client
// connection that never said QUIT.
func TestCleanupEndsGoroutines(t *testing.T) {
	baseline := runtime.NumGoroutine()
	for _, opts := range [][]smtptest.Option{nil, {smtptest.WithTLS()}, {smtptest.WithImplicitTLS(), smtptest.WithAuth("u", "p")}} {
		t.Run("", func(t *testing.T) {
			srv := smtptest.Start(t, opts...)
			conn, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			hole := smtptest.StartBlackhole(t)
			hconn, err := net.Dial("tcp", hole.Addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { hconn.Close() })
			hole.WaitAccepted(t, 1, 10*time.Second)
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for n := runtime.NumGoroutine(); n > baseline; n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}
