package faults

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
)

// mailTimeout is the bound on a delivery the web server of FT-3 waits
// for: short, so that the test is quick, and shorter than the sender's own
// (three attempts of 10 s), so that it is the server's bound that ends the
// request to a mail server that stalls.
const mailTimeout = 2 * time.Second

// msgMailUnavailable is what a page says when its mail could not be sent.
const msgMailUnavailable = "We couldn't send the email right now. Please try again in a few minutes."

// TestFT3MailDownAndStalled: with the mail server refusing connections,
// then accepting them and never answering, a request for a code (password
// reset) ends within the server's send timeout with a page that says the
// email could not be sent, and leaves no goroutine behind.
func TestFT3MailDownAndStalled(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				url  func(testing.TB) string
			}{
				{"refusing connections", smtptest.ClosedURL},
				{"accepting and stalling", func(t testing.TB) string { return smtptest.StartBlackhole(t).URL() }},
			} {
				t.Run(tc.name, func(t *testing.T) { testMailFault(t, e, tc.url(t)) })
			}
		})
	}
}

func testMailFault(t *testing.T, e storetest.Engine, smtpURL string) {
	// The sender as gatehouse serve makes it (10 s per attempt, three
	// attempts); the server bounds each delivery at mailTimeout.
	sender, err := notify.NewSMTP(notify.SMTPConfig{URL: smtpURL, From: "Acme <no-reply@acme.example>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, e.Open(t))
	n := c.startInNode(t, "", func(o *web.Options) { o.Mail, o.MailTimeout = sender, mailTimeout })
	acme := c.createTenant(t, n, n.url)
	setup, _ := setUp(t, acme, 1)
	app, err := load.New(t.Context(), load.Config{Issuer: setup.Issuer, ClientID: setup.ClientID, ClientSecret: setup.ClientSecret, RedirectURI: setup.RedirectURI})
	if err != nil {
		t.Fatal(err)
	}
	idle := func() int {
		app.Close()
		n.srv.CloseClientConnections()
		return runtime.NumGoroutine()
	}
	before := idle()

	// Four requests at once, for an address with an account and three
	// without (a notice instead of a code: the same mail path).
	start := time.Now()
	r := load.Run(t.Context(), "reset", load.Options{Concurrency: 4, Iterations: 4, Duration: time.Minute},
		load.OTPFlood(app, load.Accounts{Prefix: setup.UserPrefix, N: 4}))
	took := time.Since(start)
	if r.Completed != 0 || r.Failed != 4 || r.Errors["code request: HTTP 503"] != 4 {
		t.Fatalf("code requests with the mail server down: %d sent, errors %v; want 4 answered 503", r.Completed, r.Errors)
	}
	if ex := r.ErrorExamples["code request: HTTP 503"]; !strings.Contains(ex, msgMailUnavailable) {
		t.Errorf("the page says %q, want %q", ex, msgMailUnavailable)
	}
	// Each request waits for one delivery, bounded by mailTimeout; the
	// rest (the pages before it) takes milliseconds, so 3 s of slack is
	// plenty where the sender alone would take more than 30 s.
	if took > mailTimeout+3*time.Second {
		t.Errorf("the requests took %v, want them to end within the send timeout %v", took, mailTimeout)
	}
	t.Logf("4 requests refused in %v (send timeout %v)", took.Round(time.Millisecond), mailTimeout)

	deadline := time.Now().Add(10 * time.Second)
	for got := idle(); got > before; got = idle() {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines 10 s after the requests, %d before: leaked", got, before)
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			break
		}
		<-time.After(20 * time.Millisecond)
	}
}
