package load_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/web"
)

// startSink starts a MailSink on a free loopback port, closed when the
// test ends, and a sender of Gatehouse's that delivers to it.
func startSink(t *testing.T) (*load.MailSink, *notify.SMTP) {
	t.Helper()
	sink, err := load.StartMailSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sink.Close(); err != nil {
			t.Errorf("MailSink.Close: %v", err)
		}
	})
	sender, err := notify.NewSMTP(notify.SMTPConfig{URL: sink.URL(), From: "Acme <no-reply@acme.example>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sink, sender
}

func TestMailSink(t *testing.T) {
	sink, sender := startSink(t)
	composer, err := notify.NewComposer()
	if err != nil {
		t.Fatal(err)
	}
	send := func(to, code string) {
		t.Helper()
		m, err := composer.Code(notify.CodeMail{Branding: notify.Branding{TenantName: "acme"}, To: to, Code: code, Purpose: notify.PurposeSignIn, ExpiresIn: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := sender.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	send("Ada@example.com", "12345678")
	send("ada@example.com", "87654321") // replaces the first
	send("bob@example.com", "11112222")
	notice, err := composer.Notice(notify.Branding{TenantName: "acme"}, "carol@example.com", "No account", "There is no account for this address.")
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(t.Context(), notice); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ to, want string }{{"ada@example.com", "87654321"}, {"BOB@example.com", "11112222"}} {
		if got, err := sink.Code(t.Context(), tc.to); got != tc.want || err != nil {
			t.Errorf("Code(%s) = %q, %v; want %s", tc.to, got, err, tc.want)
		}
	}
	// Each code is handed out once; then Code waits, here until ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if got, err := sink.Code(ctx, "ada@example.com"); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Code after the code was taken = %q, %v; want it to wait until the deadline", got, err)
	}
	c := sink.Counts()
	if c.Messages != 4 || c.WithoutCode != 1 || c.PerRecipient["ada@example.com"] != 2 || c.MaxPerRecipient() != 2 || len(c.PerRecipient) != 3 {
		t.Errorf("Counts = %+v, want 4 messages (1 without a code) to 3 addresses, 2 to ada@example.com", c)
	}
	if d := sink.Counts().Since(c); d.Messages != 0 || len(d.PerRecipient) != 0 {
		t.Errorf("Since of the same counts = %+v, want nothing", d)
	}
	if _, err := load.StartMailSink("192.0.2.1:25"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a mail sink on a non-loopback address: %v, want it refused", err)
	}
}

// TestSignInsWithEmailCodes runs the sign-in load with an email second
// factor (LD-2): every sign-in reads its code from the mail sink.
func TestSignInsWithEmailCodes(t *testing.T) {
	sink, sender := startSink(t)
	_, setup := startGatehouse(t, 4, func(o *web.Options, c *load.SetupConfig) {
		o.Mail = sender
		c.EmailMFA = true
	})
	if !setup.EmailMFA {
		t.Errorf("setup reports no email second factor")
	}
	c := newClient(t, setup, false)
	const workers = 2
	before := sink.Counts()
	r := load.Run(t.Context(), "signin", load.Options{Concurrency: workers, Iterations: 6, Duration: time.Minute},
		load.SignInsWith(c, accounts(setup), workers, load.SignInOptions{ACRValues: "2", EmailCode: sink.Code}))
	checkRun(t, r, load.StepAuthorize, load.StepPassword, load.StepSecondFactor, load.StepToken, load.StepIDToken, load.StepSignIn)
	if r.Completed != 6 {
		t.Errorf("%d sign-ins completed, want the 6 started", r.Completed)
	}
	sf, _ := r.Step(load.StepSecondFactor)
	if got := sink.Counts().Since(before); int64(got.Messages) != sf.Count || got.WithoutCode != 0 {
		t.Errorf("the sink received %+v for %d second factors, want one code each", got, sf.Count)
	}
	// Without the second factor asked for, the same users sign in with
	// the password only.
	r = load.Run(t.Context(), "signin", load.Options{Concurrency: workers, Iterations: 2, Duration: time.Minute}, load.SignIns(c, accounts(setup), workers))
	if _, ok := r.Step(load.StepSecondFactor); ok || r.Completed != 2 {
		t.Errorf("sign-ins without acr_values: %d completed, second factor seen %v; want 2 and no", r.Completed, ok)
	}
}

// TestOTPFlood floods the code requests of password reset (LD-8) and
// checks that the mail that went out stays within the send limits: 10 an
// hour per address, 30 per client address, no second code within the
// cool-down.
func TestOTPFlood(t *testing.T) {
	for _, tc := range []struct {
		name               string
		addresses, sources int
		binding            string // the limit reached first
		want               int    // codes sent: the bound of that limit
	}{
		{"few addresses", 3, 2, load.StepRefusedAddress, 3 * 10},
		{"one network", 5, 1, load.StepRefusedNetwork, 1 * 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, sender := startSink(t)
			_, setup := startGatehouse(t, 1, func(o *web.Options, _ *load.SetupConfig) { o.Mail = sender })
			c, err := load.New(t.Context(), load.Config{Issuer: setup.Issuer, ClientID: setup.ClientID, ClientSecret: setup.ClientSecret,
				RedirectURI: setup.RedirectURI, Sources: tc.sources})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			// More requests than the limits allow, counted rather than timed.
			r := load.Run(t.Context(), "otp-flood", load.Options{Concurrency: 3, Iterations: int64(tc.want + 12), Duration: time.Minute},
				load.OTPFlood(c, load.Accounts{Prefix: "flood-", N: tc.addresses}))
			var b strings.Builder
			r.WriteText(&b)
			t.Logf("\n%s", b.String())
			if r.Failed != 0 {
				t.Fatalf("%d iterations failed: %v", r.Failed, r.ErrorExamples)
			}
			count := func(step string) int { s, _ := r.Step(step); return int(s.Count) }
			sent, mail := count(load.StepCodeSent), sink.Counts()
			if sent != tc.want || mail.Messages != sent {
				t.Errorf("%d codes sent and %d mails received, want %d of each", sent, mail.Messages, tc.want)
			}
			if n := mail.MaxPerRecipient(); n > 10 || len(mail.PerRecipient) > tc.addresses {
				t.Errorf("%d addresses got mail, one of them %d messages; want at most %d and 10", len(mail.PerRecipient), n, tc.addresses)
			}
			// Every code sent was followed at once by a request within the
			// cool-down; every other iteration was refused by the limit.
			if got := count(load.StepRefusedCooldown); got != sent {
				t.Errorf("%d requests refused by the cool-down after %d codes sent, want as many", got, sent)
			}
			if got, want := count(tc.binding), int(r.Completed)-sent; got != want {
				t.Errorf("%d refused by %q, want the %d other iterations", got, tc.binding, want)
			}
		})
	}
}

// TestStuffing runs credential stuffing (LD-7) against a server with a
// small hash pool, and checks the report against the server's metrics:
// every wrong answer was one hash, the pool never ran or queued more than
// its bounds, and the probes of the token endpoint and JWK set succeeded.
func TestStuffing(t *testing.T) {
	const workers, queue = 1, 2
	_, setup := startGatehouse(t, 1, func(o *web.Options, _ *load.SetupConfig) {
		o.Passwords = password.NewHasher(password.DefaultParams, workers, queue)
	})
	c := newClient(t, setup, false)
	r, err := c.StuffingRun(t.Context(), load.Options{Concurrency: 8, Iterations: 150, Duration: time.Minute},
		load.StuffingConfig{Addresses: load.Accounts{Prefix: "stuffed-", N: 20}, Baseline: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r.WriteText(&b)
	t.Logf("\n%s", b.String())
	if r.Failed != 0 || r.Completed != 150 {
		t.Fatalf("%d guesses answered, %d failed: %v; want 150 and none", r.Completed, r.Failed, r.ErrorExamples)
	}
	count := func(step string) int64 { s, _ := r.Step(step); return s.Count }
	wrong, throttled, busy := count(load.StepGuessWrong), count(load.StepGuessThrottled), count(load.StepGuessBusy)
	if wrong+throttled+busy != r.Completed {
		t.Errorf("%d wrong + %d throttled + %d busy answers, want the %d guesses", wrong, throttled, busy, r.Completed)
	}
	// 20 addresses get 5 free failures each before their delays: the
	// rest are throttled, or refused by the full pool first.
	if wrong > 20*5 || throttled == 0 || busy == 0 {
		t.Errorf("%d wrong, %d throttled, %d busy: want at most 100 hashed, and some of each refusal", wrong, throttled, busy)
	}
	s := r.Server
	if s == nil || s.Samples == 0 {
		t.Fatalf("no server metrics in the report: %+v", s)
	}
	if s.Hashed < float64(wrong) || s.Hashed > float64(wrong+r.Interrupted) {
		t.Errorf("the server computed %.0f hashes for %d wrong answers", s.Hashed, wrong)
	}
	if s.Peak.HashesRunning > workers || s.Peak.HashesWaiting > queue {
		t.Errorf("the pool peaked at %.0f running and %.0f waiting, past its bounds %d and %d", s.Peak.HashesRunning, s.Peak.HashesWaiting, workers, queue)
	}
	if s.Before.ResidentBytes <= 0 || s.After.ResidentBytes <= 0 || s.After.Goroutines <= 0 {
		t.Errorf("memory before %v, after %v; goroutines after %v: the server's process metrics were not read", s.Before.ResidentBytes, s.After.ResidentBytes, s.After.Goroutines)
	}
	for _, step := range []string{load.StepTokenIdle, load.StepJWKSIdle, load.StepTokenLoaded, load.StepJWKSLoaded} {
		if st, ok := r.Step(step); !ok || st.Count == 0 || st.P50 > st.Max {
			t.Errorf("probe %q: %+v (seen %v)", step, st, ok)
		}
	}
}
