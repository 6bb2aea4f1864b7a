package notify_test

import (
	"context"
	"fmt"
	"log/slog"
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
