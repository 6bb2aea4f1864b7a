package load

import (
	"errors"
	"testing"
)

func TestTransportDialsOnlyTheIssuer(t *testing.T) {
	c := &Client{cfg: Config{Timeout: DefaultTimeout}, host: "127.0.0.1:8080"}
	_, err := c.transport(nil, 1).DialContext(t.Context(), "tcp", "127.0.0.1:8081")
	if !errors.Is(err, errForeignHost) {
		t.Errorf("dialing another port: %v, want errForeignHost", err)
	}
	if k := classify(err); k != "foreign host" {
		t.Errorf("classify = %q, want foreign host", k)
	}
}

func TestSources(t *testing.T) {
	s := newSources(0)
	s.start = sourceCount - 2 // wraps around
	seen := map[string]bool{}
	for range 1000 {
		ip := s.next()
		if !ip.IsLoopback() || ip.To4() == nil || ip.To4()[3] == 0 || ip.To4()[3] == 255 || ip.String() == "127.0.0.1" {
			t.Fatalf("source address %s", ip)
		}
		if seen[ip.String()] {
			t.Fatalf("source address %s handed out twice in 1000", ip)
		}
		seen[ip.String()] = true
	}
}

func TestSourcesLimited(t *testing.T) {
	s := newSources(3)
	seen := map[string]int{}
	for range 30 {
		seen[s.next().String()]++
	}
	if len(seen) != 3 {
		t.Fatalf("30 addresses from 3 sources: %v, want 3 addresses", seen)
	}
	for ip, n := range seen {
		if n != 10 {
			t.Errorf("%s handed out %d times of 30, want in turn: 10", ip, n)
		}
	}
}
