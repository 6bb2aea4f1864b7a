package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smstest"
	"github.com/gatehouse/gatehouse/notify/smtptest"
)

const (
	testPhone   = "+41446681800"
	testSMSCode = "481516"
)

func codeSMS(t *testing.T, to string) notify.SMS {
	t.Helper()
	m, err := notify.CodeSMS{Branding: notify.Branding{TenantName: "acme", DisplayName: "Acme"}, To: to, Code: testSMSCode,
		ExpiresIn: 10 * time.Minute, Domain: "id.acme.example"}.Text()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newWebhook(t *testing.T, cfg notify.WebhookConfig, log *logRecorder) *notify.Webhook {
	t.Helper()
	w, err := notify.NewWebhook(cfg, slog.New(log))
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestCodeSMSText(t *testing.T) {
	m := codeSMS(t, testPhone)
	want := "481516 is your Acme code. It expires in 10 minutes. Never share it.\n\n@id.acme.example #481516"
	if m.To != testPhone || m.Text != want {
		t.Errorf("CodeSMS.Text() = %+v, want text %q", m, want)
	}
	long, err := notify.CodeSMS{Branding: notify.Branding{TenantName: "x", DisplayName: strings.Repeat("Very long name ", 10)},
		To: testPhone, Code: testSMSCode, ExpiresIn: 10 * time.Minute, Domain: "localhost"}.Text()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(long.Text, "481516 is your Very long name Very long name…") || len([]rune(long.Text)) > 160 {
		t.Errorf("a long tenant name is not cut short: %q (%d characters)", long.Text, len([]rune(long.Text)))
	}
	for name, c := range map[string]notify.CodeSMS{
		"no code":         {Branding: notify.Branding{TenantName: "acme"}, To: testPhone, ExpiresIn: time.Minute, Domain: "localhost"},
		"not E.164":       {Branding: notify.Branding{TenantName: "acme"}, To: "044 668 18 00", Code: testSMSCode, ExpiresIn: time.Minute, Domain: "localhost"},
		"no lifetime":     {Branding: notify.Branding{TenantName: "acme"}, To: testPhone, Code: testSMSCode, Domain: "localhost"},
		"domain with #":   {Branding: notify.Branding{TenantName: "acme"}, To: testPhone, Code: testSMSCode, ExpiresIn: time.Minute, Domain: "a #1"},
		"no tenant name":  {To: testPhone, Code: testSMSCode, ExpiresIn: time.Minute, Domain: "localhost"},
		"domain and port": {Branding: notify.Branding{TenantName: "acme"}, To: testPhone, Code: testSMSCode, ExpiresIn: time.Minute, Domain: "localhost:8080"},
	} {
		if _, err := c.Text(); err == nil {
			t.Errorf("%s: Text() succeeded", name)
		}
	}
}

// TestWebhookSignature pins the signature to a value computed outside Go:
// printf '%s' '1700000000.{"id":"m1","to":"+41446681800","text":"hi"}' |
// openssl dgst -sha256 -hmac 'whsec_0123456789abcdef0123456789abcdef'
func TestWebhookSignature(t *testing.T) {
	got := notify.Sign([]byte("whsec_0123456789abcdef0123456789abcdef"), time.Unix(1700000000, 0),
		[]byte(`{"id":"m1","to":"+41446681800","text":"hi"}`))
	want := "t=1700000000,v1=23f6beb9bdb19f374b32e910c9b8a6f12443b9b39e34157c9ebf5c7090c99511"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestWebhookDelivers(t *testing.T) {
	gw := smstest.Start(t)
	log := &logRecorder{}
	w := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, log)
	baseline := runtime.NumGoroutine()
	var _ notify.SMSSender = w

	m := codeSMS(t, testPhone)
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := gw.CodeFor(t, testPhone); got != testSMSCode {
		t.Errorf("the gateway read code %q, want %q", got, testSMSCode)
	}
	msgs := gw.Messages()
	if len(msgs) != 1 || msgs[0].Text != m.Text || msgs[0].ID == "" || time.Since(msgs[0].SignedAt) > time.Minute {
		t.Errorf("the gateway accepted %+v, want the one message, signed now", msgs)
	}
	if gw.Requests() != 1 || gw.BadSignatures() != 0 {
		t.Errorf("%d requests, %d with a bad signature; want 1 and 0", gw.Requests(), gw.BadSignatures())
	}
	if st := w.Status(); st.Failing() || st.LastReached.IsZero() {
		t.Errorf("Status after a delivery: %+v", st)
	}
	// A second message has an ID of its own.
	if err := w.Send(context.Background(), codeSMS(t, testPhone)); err != nil {
		t.Fatal(err)
	}
	if msgs := gw.Messages(); len(msgs) != 2 || msgs[0].ID == msgs[1].ID {
		t.Errorf("two messages: %+v, want distinct IDs", msgs)
	}
	if !strings.Contains(log.text(), "text message sent recipient=+41…00") {
		t.Errorf("the log does not record the delivery with the number redacted:\n%s", log.text())
	}
	log.checkNoSecrets(t, testSMSCode, testPhone, gw.Secret, "/sms")
	checkGoroutines(t, baseline)
}

func TestWebhookWrongSecret(t *testing.T) {
	gw := smstest.Start(t)
	log := &logRecorder{}
	w := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: strings.Repeat("x", 40)}, log)
	err := w.Send(context.Background(), codeSMS(t, testPhone))
	if !errors.Is(err, notify.ErrUnavailable) || errors.Is(err, notify.ErrRejected) || !strings.Contains(err.Error(), "401") {
		t.Errorf("Send with the wrong secret: %v, want ErrUnavailable naming the 401", err)
	}
	if gw.Requests() != 1 || gw.BadSignatures() != 1 || len(gw.Messages()) != 0 {
		t.Errorf("%d requests, %d refused for their signature, %d kept; want 1 refused and none retried or kept", gw.Requests(), gw.BadSignatures(), len(gw.Messages()))
	}
	// A clock far from the gateway's signs with a timestamp it refuses.
	skewed := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}, log)
	if err := skewed.Send(context.Background(), codeSMS(t, testPhone)); !errors.Is(err, notify.ErrUnavailable) || gw.BadSignatures() != 2 {
		t.Errorf("Send signed ten minutes ago: %v (%d bad signatures), want a refusal", err, gw.BadSignatures())
	}
	log.checkNoSecrets(t, testSMSCode, testPhone, gw.Secret)
}

func TestWebhookRetries(t *testing.T) {
	for _, c := range []struct {
		status   int
		failures int
		attempts int // requests the gateway gets
		ok       bool
		kind     error
	}{
		{http.StatusServiceUnavailable, 2, 3, true, nil},
		{http.StatusBadGateway, 1, 2, true, nil},
		{http.StatusTooManyRequests, 1, 2, true, nil},
		{http.StatusInternalServerError, 3, 3, false, notify.ErrUnavailable},
		{http.StatusBadRequest, 1, 1, false, notify.ErrRejected},
		{http.StatusUnprocessableEntity, 1, 1, false, notify.ErrRejected},
		{http.StatusForbidden, 1, 1, false, notify.ErrUnavailable},
		{http.StatusNotFound, 1, 1, false, notify.ErrUnavailable},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			gw := smstest.Start(t)
			gw.FailNext(c.failures, c.status)
			log := &logRecorder{}
			w := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, log)
			err := w.Send(context.Background(), codeSMS(t, testPhone))
			if c.ok != (err == nil) || c.kind != nil && !errors.Is(err, c.kind) {
				t.Fatalf("Send after %d × %d: %v; want ok %v, kind %v", c.failures, c.status, err, c.ok, c.kind)
			}
			if got := gw.Requests(); got != c.attempts {
				t.Errorf("the gateway got %d requests, want %d", got, c.attempts)
			}
			if got, want := len(gw.Messages()), map[bool]int{true: 1, false: 0}[c.ok]; got != want {
				t.Errorf("the gateway kept %d messages, want %d", got, want)
			}
			if err != nil && c.kind == notify.ErrRejected && !w.Status().LastReached.After(w.Status().LastFailed) {
				t.Errorf("a rejected number counts against the gateway: %+v", w.Status())
			}
			if err != nil && c.kind == notify.ErrUnavailable && !w.Status().Failing() {
				t.Errorf("a failed delivery does not show in Status: %+v", w.Status())
			}
			log.checkNoSecrets(t, testSMSCode, testPhone, gw.Secret)
		})
	}
}

func TestWebhookRejectedNumber(t *testing.T) {
	gw := smstest.Start(t)
	w := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret}, &logRecorder{})
	err := w.Send(context.Background(), codeSMS(t, "+99912345678"))
	if !errors.Is(err, notify.ErrRejected) || gw.Requests() != 1 {
		t.Errorf("Send to a number the gateway refuses: %v after %d requests, want ErrRejected after 1", err, gw.Requests())
	}
	if got := gatehouse.ErrorMessage(err); got != "We couldn't send a text message to that number. Check the number and try again." {
		t.Errorf("ErrorMessage = %q", got)
	}
	// A number that is not E.164 never leaves.
	if err := w.Send(context.Background(), notify.SMS{To: "0446681800", Text: "hi"}); !errors.Is(err, notify.ErrRejected) || gw.Requests() != 1 {
		t.Errorf("Send to a non-E.164 number: %v after %d requests, want ErrRejected without a request", err, gw.Requests())
	}
}

func TestWebhookGatewayDown(t *testing.T) {
	log := &logRecorder{}
	// A path that holds a token must not reach the errors or the log.
	url := strings.TrimSuffix(smtptest.ClosedURL(t), "?starttls=off")
	url = strings.Replace(url, "smtp://", "http://", 1) + "/hook/tok3n-in-the-path"
	w := newWebhook(t, notify.WebhookConfig{URL: url, Secret: strings.Repeat("s", 32)}, log)
	baseline := runtime.NumGoroutine()
	err := w.Send(context.Background(), codeSMS(t, testPhone))
	if !errors.Is(err, notify.ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("Send to a closed port: %v, want ErrUnavailable after 3 refused attempts", err)
	}
	if got := log.count("text message delivery failed; retrying"); got != 2 {
		t.Errorf("retried %d times, want 2:\n%s", got, log.text())
	}
	if strings.Contains(err.Error(), "tok3n") {
		t.Errorf("the error holds the URL's path: %v", err)
	}
	if got, want := gatehouse.ErrorMessage(err), "We couldn't send the text message right now. Please try again in a few minutes."; got != want {
		t.Errorf("ErrorMessage = %q, want %q", got, want)
	}
	if !w.Status().Failing() {
		t.Errorf("Status does not show the failure: %+v", w.Status())
	}
	log.checkNoSecrets(t, testSMSCode, testPhone, "tok3n", strings.Repeat("s", 32))
	checkGoroutines(t, baseline)
}

func TestWebhookGatewaySlow(t *testing.T) {
	gw := smstest.Start(t)
	gw.StallNext(2)
	log := &logRecorder{}
	const timeout = 300 * time.Millisecond
	w := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret, Timeout: timeout, Attempts: 2}, log)
	baseline := runtime.NumGoroutine()
	start := time.Now()
	err := w.Send(context.Background(), codeSMS(t, testPhone))
	if !errors.Is(err, notify.ErrUnavailable) || !strings.Contains(err.Error(), "the SMS gateway did not finish within 300ms") {
		t.Fatalf("Send to a gateway that never answers: %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed < 2*timeout {
		t.Errorf("Send returned after %v, before two attempts of %v could time out", elapsed, timeout)
	}
	if gw.Requests() != 2 {
		t.Errorf("%d requests, want 2", gw.Requests())
	}
	checkGoroutines(t, baseline)

	// The caller's deadline ends it sooner, and says nothing of the gateway.
	gw.StallNext(1)
	w2 := newWebhook(t, notify.WebhookConfig{URL: gw.URL(), Secret: gw.Secret, Timeout: time.Minute}, log)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = w2.Send(ctx, codeSMS(t, testPhone))
	if !errors.Is(err, notify.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send past the caller's deadline: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if st := w2.Status(); !st.LastFailed.IsZero() {
		t.Errorf("a caller that gave up marked the gateway failing: %+v", st)
	}
}

func TestWebhookNoRedirects(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	w := newWebhook(t, notify.WebhookConfig{URL: srv.URL + "/sms", Secret: strings.Repeat("s", 32)}, &logRecorder{})
	err := w.Send(context.Background(), codeSMS(t, testPhone))
	if !errors.Is(err, notify.ErrUnavailable) || !strings.Contains(err.Error(), "307") {
		t.Errorf("Send to a redirecting gateway: %v, want ErrUnavailable naming the 307", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/sms"] != 1 || hits["/elsewhere"] != 0 {
		t.Errorf("requests %v, want one to /sms and none followed", hits)
	}
}

func TestNewWebhookErrors(t *testing.T) {
	secret := strings.Repeat("s", 32)
	for _, c := range []struct {
		cfg  notify.WebhookConfig
		want string
	}{
		{notify.WebhookConfig{URL: "", Secret: secret}, "not an absolute URL"},
		{notify.WebhookConfig{URL: "sms.example.com/hook", Secret: secret}, "not an absolute URL"},
		{notify.WebhookConfig{URL: "ftp://sms.example.com/hook", Secret: secret}, "must use https"},
		{notify.WebhookConfig{URL: "http://sms.example.com/hook?token=t0ken", Secret: secret}, "must use https unless its host is localhost"},
		{notify.WebhookConfig{URL: "https://user:pa55@sms.example.com/hook", Secret: secret}, "must not hold user info"},
		{notify.WebhookConfig{URL: "https://sms.example.com/hook#x", Secret: secret}, "must not have a fragment"},
		{notify.WebhookConfig{URL: "https://sms.example.com/hook", Secret: "short"}, "is 5 bytes long; use at least 32"},
		{notify.WebhookConfig{URL: "https://sms.example.com/hook", Secret: secret, Timeout: -time.Second}, "negative"},
		{notify.WebhookConfig{URL: "https://sms.example.com/hook", Secret: secret, Attempts: 11}, "from 1 to 10"},
	} {
		_, err := notify.NewWebhook(c.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWebhook(%q): %v, want an error saying %q", c.cfg.URL, err, c.want)
			continue
		}
		for _, s := range []string{"t0ken", "pa55", "short"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("NewWebhook(%q): the error %q repeats %q", c.cfg.URL, err, s)
			}
		}
	}
	for _, ok := range []string{"https://sms.example.com/hook?token=t", "http://localhost:9000/sms", "http://127.0.0.1/sms", "http://[::1]:8/x"} {
		if _, err := notify.NewWebhook(notify.WebhookConfig{URL: ok, Secret: secret}, nil); err != nil {
			t.Errorf("NewWebhook(%q): %v", ok, err)
		}
	}
}
