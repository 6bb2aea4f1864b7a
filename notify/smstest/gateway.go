package smstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/notify/internal/inbox"
)

// Message is a text message the gateway accepted.
type Message struct {
	ID   string
	To   string
	Text string
	// SignedAt is the time of the accepted request's signature.
	SignedAt time.Time
}

// Gateway is an SMS webhook gateway for one test.
type Gateway struct {
	// Secret is the shared secret the gateway verifies signatures with.
	Secret string

	srv  *httptest.Server
	done chan struct{} // closed when the test ends: stalled requests return

	inbox inbox.Inbox[Message]
	keep  sync.Mutex // held while a message is checked for a repeat and kept

	mu       sync.Mutex
	requests int
	refused  int // requests answered 401 for their signature
	failures []int
	stalls   int
}

// Start starts a gateway with a new random secret; it is closed when the
// test ends.
func Start(t testing.TB) *Gateway {
	t.Helper()
	g := &Gateway{Secret: rand.Text() + rand.Text(), done: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() {
		close(g.done)
		g.srv.Close()
	})
	return g
}

// URL returns the URL to post messages to.
func (g *Gateway) URL() string { return g.srv.URL + "/sms" }

// Messages returns the messages the gateway accepted, in order.
func (g *Gateway) Messages() []Message { return g.inbox.All() }

// Requests returns how many requests the gateway received, accepted or
// not.
func (g *Gateway) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

// BadSignatures returns how many requests the gateway refused for their
// signature.
func (g *Gateway) BadSignatures() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refused
}

// FailNext makes the gateway answer the next n requests with the status
// (503 for a gateway that is down, 429 for one that throttles) before it
// looks at them.
func (g *Gateway) FailNext(n, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range n {
		g.failures = append(g.failures, status)
	}
}

// StallNext makes the gateway leave the next n requests unanswered until
// their client gives up.
func (g *Gateway) StallNext(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stalls += n
}

const maxSkew = 5 * time.Minute

var (
	e164RE = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)
)

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.requests++
	var fail int
	if len(g.failures) > 0 {
		fail, g.failures = g.failures[0], g.failures[1:]
	}
	stall := g.stalls > 0
	if stall {
		g.stalls--
	}
	g.mu.Unlock()
	switch {
	case stall:
		// The server notices the client leaving only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-g.done:
		}
		return
	case fail != 0:
		http.Error(w, http.StatusText(fail), fail)
		return
	case r.Method != http.MethodPost || r.URL.Path != "/sms":
		http.Error(w, "POST to /sms", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	signedAt, ok := g.verify(r.Header.Get("Gatehouse-Signature"), body)
	if !ok {
		g.mu.Lock()
		g.refused++
		g.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	var m struct{ ID, To, Text string }
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.ID == "" || m.Text == "" || r.Header.Get("Idempotency-Key") != m.ID {
		http.Error(w, "want {id, to, text} with the id as Idempotency-Key", http.StatusBadRequest)
		return
	}
	if !e164RE.MatchString(m.To) {
		http.Error(w, "to is not an E.164 number", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(m.To, "+999") {
		http.Error(w, "no such number", http.StatusUnprocessableEntity)
		return
	}
	// Requests are kept one at a time, so that a repeat is seen as one.
	g.keep.Lock()
	defer g.keep.Unlock()
	if _, kept := g.inbox.Wait(func(old Message) bool { return old.ID == m.ID }, 0); kept {
		w.WriteHeader(http.StatusOK) // a retry of a message kept already
		return
	}
	g.inbox.Add(Message{ID: m.ID, To: m.To, Text: m.Text, SignedAt: signedAt})
	w.WriteHeader(http.StatusAccepted)
}

// verify checks a signature header, "t=<Unix seconds>,v1=<hex>" (more
// than one v1 may be given, as while a secret is being replaced), against
// the body: HMAC-SHA256 under the secret of t, ".", and the body.
func (g *Gateway) verify(header string, body []byte) (time.Time, bool) {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return time.Time{}, false
	}
	at := time.Unix(secs, 0)
	if d := time.Since(at); d > maxSkew || d < -maxSkew {
		return time.Time{}, false
	}
	mac := hmac.New(sha256.New, []byte(g.Secret))
	fmt.Fprintf(mac, "%s.", ts)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return at, true
		}
	}
	return time.Time{}, false
}

// CodeFor waits up to 10 seconds for a message to the number that an
// earlier CodeFor has not returned, and returns the 6-digit code of the
// newest such message. It fails the test if none arrives or its text does
// not hold one code (the origin-bound line repeats it). Each call consumes
// the messages to that number received so far.
func (g *Gateway) CodeFor(t testing.TB, to string) string {
	t.Helper()
	m, ok := g.inbox.Next(to, func(m Message) bool { return m.To == to }, 10*time.Second)
	if !ok {
		t.Fatalf("smstest: no new text message to %s within 10s; %s", to, g.summary())
	}
	code, err := inbox.Code(codeRE, "6-digit code", m.Text)
	if err != nil {
		t.Fatalf("smstest: the text message to %s %v: %q", to, err, m.Text)
	}
	return code
}

// WaitFor returns the newest message for which pred is true, waiting up to
// timeout for one; it fails the test if none arrives.
func (g *Gateway) WaitFor(t testing.TB, pred func(Message) bool, timeout time.Duration) Message {
	t.Helper()
	m, ok := g.inbox.Wait(pred, timeout)
	if !ok {
		t.Fatalf("smstest: no matching text message within %v; %s", timeout, g.summary())
	}
	return m
}

func (g *Gateway) summary() string {
	msgs := g.Messages()
	if len(msgs) == 0 {
		return fmt.Sprintf("the gateway has accepted no messages (%d requests, %d with a bad signature)", g.Requests(), g.BadSignatures())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the gateway has accepted %d:", len(msgs))
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n\tto %s", m.To)
	}
	return b.String()
}
