package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Server logs are buffered: writing every request's line to stderr on its
// own was a system call per request, an eighth of the server's time at the
// token endpoint. Lines wait at most logFlushInterval, or until
// logBufferSize bytes wait; a record at WARN or above is written out at
// once with everything before it, and so is everything when the server
// stops. A process killed outright (kill -9) loses at most the last
// logFlushInterval of INFO and DEBUG lines.
const (
	logFlushInterval = 100 * time.Millisecond
	logBufferSize    = 32 << 10
)

// logWriter is an io.Writer that buffers what it is given for w.
type logWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// newLogWriter returns a logWriter for w that flushes every interval
// until Close.
func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{w: w, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.Flush()
			}
		}
	}()
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBufferSize {
		if err := l.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes out what waits.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *logWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Close stops the flushing and writes out what waits.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}

// flushingHandler writes out a logWriter after every record at WARN or
// above, so that warnings and errors are never held back.
type flushingHandler struct {
	slog.Handler
	w *logWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.w}
}

// newBufferedLogger returns the logger of a long-running command, writing
// to w through a logWriter; call the returned function before the command
// returns to stop it and write out what waits.
func newBufferedLogger(c *config, w io.Writer) (*slog.Logger, func()) {
	lw := newLogWriter(w, logFlushInterval)
	return slog.New(flushingHandler{newLogger(c, lw).Handler(), lw}), func() { lw.Close() }
}
