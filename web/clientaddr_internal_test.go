package web

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestResolveClient(t *testing.T) {
	proxies := prefixes(t, "10.0.0.0/8", "127.0.0.1/32", "2001:db8:ffff::/48")
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		client  string
		peer    string
	}{
		// Nobody trusted: the headers are ignored, whatever they say.
		{"no proxies", nil, "192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7", "192.0.2.7"},
		{"untrusted peer", proxies, "192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7", "192.0.2.7"},
		{"untrusted peer, trusted-looking header", proxies, "192.0.2.7:5555", []string{"10.0.0.1"}, "192.0.2.7", "192.0.2.7"},
		{"untrusted IPv6 peer", proxies, "[2001:db8:1:2::7]:443", []string{"198.51.100.1"}, "2001:db8:1:2::7", "2001:db8:1:2::7"},

		// A trusted peer.
		{"trusted, no header", proxies, "10.1.2.3:5555", nil, "10.1.2.3", "10.1.2.3"},
		{"one hop", proxies, "10.1.2.3:5555", []string{"198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"one hop, loopback proxy", proxies, "127.0.0.1:40000", []string{"198.51.100.1"}, "198.51.100.1", "127.0.0.1"},
		{"two trusted hops", proxies, "10.1.2.3:5555", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1", "10.1.2.3"},
		{"hops on separate header lines", proxies, "10.1.2.3:5555", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1", "10.1.2.3"},
		{"every hop trusted", proxies, "10.1.2.3:5555", []string{"10.5.5.5, 10.9.9.9"}, "10.5.5.5", "10.1.2.3"},
		{"no spaces", proxies, "10.1.2.3:5555", []string{"198.51.100.1,10.9.9.9"}, "198.51.100.1", "10.1.2.3"},
		{"tabs and spaces", proxies, "10.1.2.3:5555", []string{" \t198.51.100.1 ,\t10.9.9.9 "}, "198.51.100.1", "10.1.2.3"},

		// Spoofing: whatever the client put in front is never taken.
		{"spoofed left-most", proxies, "10.1.2.3:5555", []string{"203.0.113.66, 198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"spoofed trusted left-most", proxies, "10.1.2.3:5555", []string{"10.0.0.1, 198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"spoofed header line", proxies, "10.1.2.3:5555", []string{"203.0.113.66", "198.51.100.1, 10.9.9.9"}, "198.51.100.1", "10.1.2.3"},
		{"spoofed behind two hops", proxies, "10.1.2.3:5555", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1, 10.9.9.9"}, "198.51.100.1", "10.1.2.3"},

		// Malformed entries end the walk at the last good address.
		{"garbage", proxies, "10.1.2.3:5555", []string{"not-an-ip"}, "10.1.2.3", "10.1.2.3"},
		{"unknown", proxies, "10.1.2.3:5555", []string{"unknown"}, "10.1.2.3", "10.1.2.3"},
		{"empty header", proxies, "10.1.2.3:5555", []string{""}, "10.1.2.3", "10.1.2.3"},
		{"empty entry", proxies, "10.1.2.3:5555", []string{"198.51.100.1, , 10.9.9.9"}, "10.9.9.9", "10.1.2.3"},
		{"garbage behind a trusted hop", proxies, "10.1.2.3:5555", []string{"198.51.100.1, bogus, 10.9.9.9"}, "10.9.9.9", "10.1.2.3"},
		{"garbage left of the client", proxies, "10.1.2.3:5555", []string{"bogus, 198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"host name", proxies, "10.1.2.3:5555", []string{"client.example.com"}, "10.1.2.3", "10.1.2.3"},
		{"obfuscated identifier", proxies, "10.1.2.3:5555", []string{"_hidden"}, "10.1.2.3", "10.1.2.3"},
		{"zone", proxies, "10.1.2.3:5555", []string{"fe80::1%eth0"}, "10.1.2.3", "10.1.2.3"},
		{"bracketed IPv4", proxies, "10.1.2.3:5555", []string{"[198.51.100.1]"}, "10.1.2.3", "10.1.2.3"},
		{"CIDR", proxies, "10.1.2.3:5555", []string{"198.51.100.0/24"}, "10.1.2.3", "10.1.2.3"},
		{"out-of-range octet", proxies, "10.1.2.3:5555", []string{"198.51.100.256"}, "10.1.2.3", "10.1.2.3"},

		// Entries with ports and brackets, as some proxies write them.
		{"IPv4 with port", proxies, "10.1.2.3:5555", []string{"198.51.100.1:61000"}, "198.51.100.1", "10.1.2.3"},
		{"IPv6 with port", proxies, "10.1.2.3:5555", []string{"[2001:db8:1:2::1]:61000"}, "2001:db8:1:2::1", "10.1.2.3"},
		{"IPv6 in brackets", proxies, "10.1.2.3:5555", []string{"[2001:db8:1:2::1]"}, "2001:db8:1:2::1", "10.1.2.3"},

		// IPv6 proxies and clients; the client's full address is kept.
		{"IPv6 client", proxies, "10.1.2.3:5555", []string{"2001:db8:1:2:aaaa:bbbb:cccc:dddd"}, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "10.1.2.3"},
		{"IPv6 proxy", proxies, "[2001:db8:ffff:1::5]:443", []string{"198.51.100.1"}, "198.51.100.1", "2001:db8:ffff:1::5"},
		{"IPv6 trusted hop", proxies, "10.1.2.3:5555", []string{"2001:db8:1::9, 2001:db8:ffff::1"}, "2001:db8:1::9", "10.1.2.3"},
		{"IPv4-mapped client", proxies, "10.1.2.3:5555", []string{"::ffff:198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"IPv4-mapped trusted hop", proxies, "10.1.2.3:5555", []string{"198.51.100.1, ::ffff:10.9.9.9"}, "198.51.100.1", "10.1.2.3"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.1.2.3]:5555", []string{"198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"peer with a zone", prefixes(t, "fe80::/10"), "[fe80::1%eth0]:5555", []string{"198.51.100.1"}, "198.51.100.1", "fe80::1"},

		// RemoteAddr without a port, or not an IP address at all.
		{"peer without a port", proxies, "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1", "10.1.2.3"},
		{"IPv6 peer without a port", proxies, "2001:db8:ffff::5", []string{"198.51.100.1"}, "198.51.100.1", "2001:db8:ffff::5"},
		{"peer not an address", proxies, "pipe:0", []string{"198.51.100.1"}, "pipe", "pipe"},
		{"trust everyone", prefixes(t, "0.0.0.0/0"), "192.0.2.7:5555", []string{"203.0.113.66, 198.51.100.1"}, "203.0.113.66", "192.0.2.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := resolveClient(c.trusted, c.remote, c.xff)
			if got.client != c.client || got.peer != c.peer {
				t.Errorf("resolveClient(%s, %q) = client %q peer %q, want client %q peer %q", c.remote, c.xff, got.client, got.peer, c.client, c.peer)
			}
		})
	}
}

// TestClientOf checks that the server reads every X-Forwarded-For line of
// a request, and none from an untrusted peer, and that the limits count
// what it resolved by /64.
func TestClientOf(t *testing.T) {
	s := &server{Options: Options{TrustedProxies: prefixes(t, "10.0.0.0/8")}}
	for _, c := range []struct {
		remote string
		xff    []string
		client string
		rate   string
	}{
		{"10.1.2.3:5555", []string{"203.0.113.66", "2001:db8:1:2:aaaa::1, 10.9.9.9"}, "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"10.1.2.3:5555", []string{"198.51.100.1:4444"}, "198.51.100.1", "198.51.100.1"},
		{"192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7", "192.0.2.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		got := s.clientOf(r)
		if got.client != c.client {
			t.Errorf("%s %q: client %q, want %q", c.remote, c.xff, got.client, c.client)
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxClient, got))
		if ip, rate := clientIP(r), rateIP(r); ip != c.client || rate != c.rate {
			t.Errorf("%s %q: clientIP %q rateIP %q, want %q and %q", c.remote, c.xff, ip, rate, c.client, c.rate)
		}
	}
}
