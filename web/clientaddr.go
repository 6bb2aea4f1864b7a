package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// A client address is who a request came from, as the per-address limits
// count it and the logs record it. Without trusted proxies it is the
// connection's peer (RemoteAddr). When the peer is a trusted proxy, it is
// taken from X-Forwarded-For, walked from the right, the end the proxies
// append to: each address there was written by the hop to its right, so
// it is believable only while that hop is trusted. The first address that
// is not a trusted proxy is the client; everything to its left was
// written by the client or by proxies nobody vouches for, and is ignored.
// A malformed entry ends the walk at the last good address (a trusted
// hop): nothing behind it can be believed. When every entry is a trusted
// proxy, the left-most is the client (a request from inside the trusted
// network). The Forwarded header (RFC 7239) is never read: a proxy that
// appends to one of the two headers usually passes the other through as
// the client sent it, so reading both would let clients choose their
// address.

// forwardedFor is the header trusted proxies append to.
const forwardedFor = "X-Forwarded-For"

// clientAddrs are the addresses of one request: the client, and the peer
// that connected (the same as the client unless a trusted proxy forwarded
// the request).
type clientAddrs struct {
	client, peer string
}

// resolveClient returns the addresses of the request that comes from
// remoteAddr (http.Request.RemoteAddr) with the X-Forwarded-For header
// values xff, believing the header only from the trusted proxies.
func resolveClient(trusted []netip.Prefix, remoteAddr string, xff []string) clientAddrs {
	peer, ok := parsePeer(remoteAddr)
	if !ok {
		// Not an IP address (a Unix socket, a test's made-up peer): it is
		// recorded as it is and never trusted.
		host := remoteAddr
		if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
			host = h
		}
		return clientAddrs{host, host}
	}
	out := clientAddrs{peer.String(), peer.String()}
	if !isTrusted(trusted, peer) {
		return out
	}
	// From the last header line's last entry to the first line's first,
	// splitting no more than the walk reads.
	for i := len(xff) - 1; i >= 0; i-- {
		list, more := xff[i], true
		for more {
			entry := list
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				entry, list = list[j+1:], list[:j]
			} else {
				more = false
			}
			a, ok := parseForwarded(entry)
			if !ok {
				return out // the last good address: a trusted hop
			}
			out.client = a.String()
			if !isTrusted(trusted, a) {
				return out
			}
		}
	}
	return out
}

// isTrusted reports whether a is in one of the trusted ranges.
func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parsePeer parses a RemoteAddr: an IP address with a port, as net/http
// sets it, or without one. An IPv4-mapped IPv6 address becomes IPv4, and
// an IPv6 zone is dropped.
func parsePeer(remoteAddr string) (netip.Addr, bool) {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// parseForwarded parses one X-Forwarded-For entry: an IPv4 or IPv6
// address, optionally in brackets or with a port (some proxies add one),
// with optional whitespace around it. Anything else (empty entries,
// "unknown", host names, zones, obfuscated identifiers) is malformed.
func parseForwarded(entry string) (netip.Addr, bool) {
	entry = strings.Trim(entry, " \t")
	a, err := netip.ParseAddr(entry)
	if err != nil {
		ap, perr := netip.ParseAddrPort(entry)
		switch {
		case perr == nil:
			a = ap.Addr()
		case len(entry) > 2 && entry[0] == '[' && entry[len(entry)-1] == ']':
			if a, err = netip.ParseAddr(entry[1 : len(entry)-1]); err != nil || !a.Is6() {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// clientOf resolves the addresses of r with the server's trusted proxies.
func (s *server) clientOf(r *http.Request) clientAddrs {
	var xff []string
	if len(s.TrustedProxies) > 0 {
		xff = r.Header.Values(forwardedFor)
	}
	return resolveClient(s.TrustedProxies, r.RemoteAddr, xff)
}
