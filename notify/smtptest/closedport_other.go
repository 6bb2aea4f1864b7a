//go:build !unix

package smtptest

import "net"

// boundPort returns a port of 127.0.0.1 that was free a moment ago. Where
// a socket cannot be bound without listening, another listener may take
// the port before the test connects; the tests that use it run on Unix.
func boundPort() (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	return addr, func() {}, l.Close()
}
