package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Webhook defaults and limits.
const (
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultWebhookAttempts = 3
	maxWebhookAttempts     = 10
	// MinWebhookSecret is the shortest shared secret, in bytes, that
	// NewWebhook accepts: 32 characters of `openssl rand -base64 32`
	// carry 192 bits at least.
	MinWebhookSecret = 32
	// WebhookSignatureHeader carries the signature of a webhook request:
	// "t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
	WebhookSignatureHeader = "Gatehouse-Signature"
	// maxGatewayAnswer is how much of a gateway's answer is read (and
	// dropped: it may repeat the message, so it is never logged).
	maxGatewayAnswer = 4 << 10
)

// WebhookConfig configures a webhook SMS gateway.
type WebhookConfig struct {
	// URL receives the JSON POST of each message: https, or http on a
	// loopback host (a gateway on this machine).
	URL string
	// Secret is the key of the requests' HMAC-SHA256 signatures, shared
	// with the gateway: at least MinWebhookSecret bytes.
	Secret string
	// Timeout bounds one attempt: connecting, TLS, sending and the
	// gateway's answer. 0 means DefaultWebhookTimeout.
	Timeout time.Duration
	// Attempts is how many times Send tries before it gives up, counting
	// the first. Only temporary failures are retried. 0 means
	// DefaultWebhookAttempts.
	Attempts int
	// Now is the clock the signatures' timestamps are read from; nil means
	// time.Now. (The gateway compares them with its own clock.)
	Now func() time.Time
}

// webhookMessage is the JSON body of a webhook request. ID is the same in
// every attempt of one message, so that a gateway can drop the repeats of
// a message whose answer was lost; so is the Idempotency-Key header.
type webhookMessage struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// Webhook sends text messages through an SMS gateway of the operator's
// own: each message is a JSON POST to a URL, signed with a shared secret
// the way Stripe and GitHub sign their webhooks. It is safe for concurrent
// use.
type Webhook struct {
	url      string
	origin   string // scheme and host of url, for logs: the path may hold a token
	secret   []byte
	timeout  time.Duration
	attempts int
	backoff  []time.Duration // wait before attempt i+2; the last repeats
	now      func() time.Time
	client   *http.Client
	logger   *slog.Logger

	mu     sync.Mutex
	status Status
}

// CheckWebhookURL returns an error unless raw is an absolute https URL, or
// an http URL of a loopback host, without user info or fragment. Its
// errors never repeat the URL, whose path or query may hold a token.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("the SMS webhook URL is not an absolute URL such as https://sms.example.com/gatehouse")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("the SMS webhook URL must use https (or http on this machine)")
	case u.Scheme == "http" && !gatehouse.IsLoopbackHost(u.Hostname()):
		return errors.New("the SMS webhook URL must use https unless its host is localhost or a loopback address: the messages hold one-time codes")
	case u.User != nil:
		return errors.New("the SMS webhook URL must not hold user info: the signature authenticates Gatehouse to the gateway")
	case u.Fragment != "" || u.RawFragment != "":
		return errors.New("the SMS webhook URL must not have a fragment")
	}
	return nil
}

// CheckWebhookSecret returns an error unless secret is fit to sign
// webhook requests.
func CheckWebhookSecret(secret string) error {
	if len(secret) < MinWebhookSecret {
		return fmt.Errorf("the SMS webhook secret is %d bytes long; use at least %d, e.g. from `openssl rand -base64 32`", len(secret), MinWebhookSecret)
	}
	return nil
}

// NewWebhook returns a webhook gateway configured by cfg. It does not
// connect. A nil logger discards.
func NewWebhook(cfg WebhookConfig, logger *slog.Logger) (*Webhook, error) {
	if err := CheckWebhookURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if err := CheckWebhookSecret(cfg.Secret); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("notify: webhook timeout %v is negative", cfg.Timeout)
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultWebhookTimeout
	}
	switch {
	case cfg.Attempts < 0 || cfg.Attempts > maxWebhookAttempts:
		return nil, fmt.Errorf("notify: webhook attempts must be from 1 to %d, not %d", maxWebhookAttempts, cfg.Attempts)
	case cfg.Attempts == 0:
		cfg.Attempts = DefaultWebhookAttempts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, _ := url.Parse(cfg.URL)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the gateway is the operator's; no proxy from the environment
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	tr.ResponseHeaderTimeout = cfg.Timeout
	// One connection per attempt, closed before Send returns: text messages
	// are few, and no goroutine outlives a call.
	tr.DisableKeepAlives = true
	return &Webhook{
		url:      cfg.URL,
		origin:   u.Scheme + "://" + u.Host,
		secret:   []byte(cfg.Secret),
		timeout:  cfg.Timeout,
		attempts: cfg.Attempts,
		backoff:  []time.Duration{200 * time.Millisecond, time.Second},
		now:      cfg.Now,
		client: &http.Client{
			Transport: tr,
			// A redirect is a misconfigured URL; following it would send
			// the code somewhere the operator did not name.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger: logger,
	}, nil
}

// Status returns what the sender has seen of its gateway: when a
// delivery last went through, and when one last failed.
func (w *Webhook) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

func (w *Webhook) record(err error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil || errors.Is(err, ErrRejected) {
		w.status.LastReached = now
	} else {
		w.status.LastFailed = now
	}
}

// Sign returns the value of the WebhookSignatureHeader of a request with
// the body, signed at the time t with the secret: "t=<t>,v1=<hex>", where
// hex is the HMAC-SHA256 under secret of the decimal Unix time t, a ".",
// and the body as sent.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts m to the gateway, trying up to the configured number of
// attempts, each bounded by the configured timeout and by ctx, and each
// signed afresh. It retries only temporary failures: no connection, a
// timeout, a dropped connection, or an answer of 5xx, 408 or 429; after
// 200ms, then 1s. An answer of 400 or 422 (the gateway refused the number
// or the text) returns an error wrapping ErrRejected; every other failure,
// among them 401 and 403 (the gateway refused the signature) and
// redirects, one wrapping ErrUnavailable. Errors and the log name the
// number as "+41…00" and the gateway by scheme and host; neither the text,
// nor the secret, nor the gateway's answer is ever logged.
func (w *Webhook) Send(ctx context.Context, m SMS) error {
	if !phoneRE.MatchString(m.To) {
		return smsError(ErrRejected, "notify: "+RedactPhone(m.To)+" is not an E.164 phone number", errors.New("invalid phone number"))
	}
	if m.Text == "" {
		return errors.New("notify: a text message needs text")
	}
	id := rand.Text()
	body, err := json.Marshal(webhookMessage{ID: id, To: m.To, Text: m.Text})
	if err != nil {
		return fmt.Errorf("notify: encode text message: %w", err)
	}
	to := RedactPhone(m.To)
	start := time.Now()
	attempt := 0
	for {
		attempt++
		err = w.post(ctx, id, body)
		if err == nil {
			w.record(nil)
			w.logger.InfoContext(ctx, "text message sent", "recipient", to, "gateway", w.origin, "attempts", attempt,
				"duration", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if !temporaryPost(err) || attempt >= w.attempts {
			break
		}
		wait := w.backoff[min(attempt-1, len(w.backoff)-1)]
		w.logger.WarnContext(ctx, "text message delivery failed; retrying", "recipient", to, "gateway", w.origin,
			"attempt", attempt, "retry_in", wait, "err", err.Error())
		if !sleep(ctx, wait) {
			err = fmt.Errorf("%w while waiting to retry after: %w", context.Cause(ctx), err)
			break
		}
	}
	kind := ErrUnavailable
	var ae *answerError
	if errors.As(err, &ae) && (ae.status == http.StatusBadRequest || ae.status == http.StatusUnprocessableEntity) {
		kind = ErrRejected
	}
	e := smsError(kind, fmt.Sprintf("notify: text message to %s through %s failed after %s: %s", to, w.origin, plural(attempt, "attempt"), err), err)
	if ctx.Err() == nil { // a caller that gave up says nothing of the gateway
		w.record(e)
	}
	w.logger.ErrorContext(ctx, "text message not sent", "recipient", to, "gateway", w.origin, "attempts", attempt,
		"duration", time.Since(start).Round(time.Millisecond), "err", e.text)
	return e
}

// post makes one attempt.
func (w *Webhook) post(parent context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(parent, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-SMS-Webhook/1")
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set(WebhookSignatureHeader, Sign(w.secret, w.now(), body))
	resp, err := w.client.Do(req)
	if err != nil {
		// url.Error repeats the URL, whose path or query may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case parent.Err() != nil:
			return fmt.Errorf("gave up: %w (%v)", context.Cause(parent), err)
		case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
			return &timeoutError{after: w.timeout, cause: err, what: "the SMS gateway"}
		}
		return &netError{cause: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxGatewayAnswer))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &answerError{status: resp.StatusCode}
}

// answerError is a gateway's answer other than 2xx.
type answerError struct{ status int }

func (e *answerError) Error() string {
	return fmt.Sprintf("the gateway answered %d %s", e.status, http.StatusText(e.status))
}

// netError is an attempt that got no answer: the connection failed.
type netError struct{ cause error }

func (e *netError) Error() string { return e.cause.Error() }
func (e *netError) Unwrap() error { return e.cause }

// temporaryPost reports whether an attempt that failed with err may
// succeed if tried again soon.
func temporaryPost(err error) bool {
	var (
		ae *answerError
		ne *netError
	)
	switch {
	case errors.As(err, &ae):
		return ae.status/100 == 5 || ae.status == http.StatusRequestTimeout || ae.status == http.StatusTooManyRequests
	case temporary(err):
		return true
	}
	// Failures of net/http that temporary does not know (a connection
	// closed in the middle of the answer, a garbled answer) are network
	// failures too, unless TLS or DNS says the configuration is wrong.
	var dnsErr *net.DNSError
	return errors.As(err, &ne) && !badTLS(err) && !errors.As(err, &dnsErr) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
