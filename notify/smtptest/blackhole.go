package smtptest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Blackhole is a TCP listener on 127.0.0.1 that accepts connections and
// never says anything: a mail server that hangs before its greeting.
type Blackhole struct {
	Addr string // host:port

	mu       sync.Mutex
	conns    []net.Conn
	accepted chan struct{} // closed and replaced at each accepted connection
}

// StartBlackhole starts a Blackhole that is closed, with the connections
// it holds, when the test ends.
func StartBlackhole(t testing.TB) *Blackhole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	b := &Blackhole{Addr: l.Addr().String(), accepted: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			close(b.accepted)
			b.accepted = make(chan struct{})
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			c.Close()
		}
	})
	return b
}

// URL returns the Blackhole's URL for notify.NewSMTP.
func (b *Blackhole) URL() string {
	return "smtp://" + b.Addr
}

// Accepted returns the number of connections accepted so far.
func (b *Blackhole) Accepted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// WaitAccepted waits up to timeout until at least n connections have been
// accepted; it fails the test if they are not.
func (b *Blackhole) WaitAccepted(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		got, ch := len(b.conns), b.accepted
		b.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("smtptest: blackhole accepted %d connections within %v, want %d", got, timeout, n)
		}
	}
}

// ClosedURL returns the URL of a port on 127.0.0.1 where nothing listens:
// a mail server that is down. Connecting to it is refused at once. The
// port stays taken (bound, not listening) until the test ends, so that no
// other listener can get it in the meantime.
func ClosedURL(t testing.TB) string {
	t.Helper()
	addr, closeFn, err := boundPort()
	if err != nil {
		t.Fatalf("smtptest: reserve a closed port: %v", err)
	}
	t.Cleanup(closeFn)
	return "smtp://" + addr
}
