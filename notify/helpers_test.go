package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecorder is a slog.Handler that keeps each record as one line of text
// and calls hook, if set, with each record's message.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	hook  func(msg string)
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.lines = append(h.lines, b.String())
	hook := h.hook
	h.mu.Unlock()
	if hook != nil {
		hook(r.Message)
	}
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.lines, "\n")
}

// count returns the number of records with the message.
func (h *logRecorder) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.lines {
		if strings.Contains(l, " "+msg) {
			n++
		}
	}
	return n
}

// checkNoSecrets fails the test if the log holds any of the secrets
// (LOG-1, EO-4).
func (h *logRecorder) checkNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	log := h.text()
	for _, s := range secrets {
		if s != "" && strings.Contains(strings.ToLower(log), strings.ToLower(s)) {
			t.Errorf("the log holds %q:\n%s", s, log)
		}
	}
}

// checkGoroutines waits up to 10 seconds for the number of goroutines to
// fall back to baseline and fails the test, with every goroutine's stack,
// if it does not.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for n := runtime.NumGoroutine(); n > baseline; n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines are running, want at most %d as before:\n%s", n, baseline, buf)
		}
		<-tick.C
	}
}

// startStaller starts a mail server on 127.0.0.1 that sends its greeting,
// reads the client's first command and then never answers again. It
// signals on the returned channel each time it has read a first command,
// so a test knows the client is in the middle of the SMTP exchange.
func startStaller(t *testing.T) (addr string, stalled <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 10)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if _, err := io.WriteString(c, "220 staller ESMTP\r\n"); err != nil {
				continue
			}
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				continue
			}
			ch <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done
	})
	return l.Addr().String(), ch
}
