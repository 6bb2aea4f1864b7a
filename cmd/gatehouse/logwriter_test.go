package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestBufferedLogger checks that a server's INFO lines wait for the flush
// interval or a warning, that a warning is written at once with what came
// before it, and that stopping writes out the rest.
func TestBufferedLogger(t *testing.T) {
	out := &syncBuffer{}
	lw := newLogWriter(out, time.Hour) // no flush by the clock in this test
	logger := slog.New(flushingHandler{slog.NewTextHandler(lw, nil), lw}).With("component", "test")
	logger.Info("first")
	if got := out.String(); got != "" {
		t.Fatalf("an INFO line was written at once: %q", got)
	}
	logger.Warn("second")
	got := out.String()
	if !strings.Contains(got, "msg=first") || !strings.Contains(got, "msg=second") || !strings.Contains(got, "component=test") {
		t.Fatalf("after a warning, the log holds %q; want both lines", got)
	}
	logger.Info("third")
	lw.Close()
	if got := out.String(); !strings.Contains(got, "msg=third") {
		t.Errorf("Close did not write out the waiting line: %q", got)
	}

	// The clock flushes too, and so does a full buffer.
	out = &syncBuffer{}
	lw = newLogWriter(out, 10*time.Millisecond)
	defer lw.Close()
	slog.New(slog.NewTextHandler(lw, nil)).Info("by the clock")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "by the clock"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an INFO line was not written within 10 s of a 10 ms flush interval")
		}
	}
	full := &syncBuffer{}
	lw2 := newLogWriter(full, time.Hour)
	defer lw2.Close()
	lw2.Write([]byte(strings.Repeat("x", logBufferSize)))
	if n := len(full.String()); n != logBufferSize {
		t.Errorf("a full buffer wrote %d bytes, want %d", n, logBufferSize)
	}
}
