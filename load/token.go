package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TokenEndpoint is a lean client of one OAuth 2.0 token endpoint for the
// client credentials load (LD-3): Gatehouse's or any other server's, such
// as Dex's, with client_secret_basic (RFC 6749 section 2.3.1: client ID and
// secret form-encoded, then Basic). It spends as little of the machine as
// it can, so that a load on the same cores as the server measures the
// server: each virtual user keeps one HTTP/1.1 connection of its own
// (TLS for https), writes one request prepared once, and reads the
// response with net/http's parser. It dials only the token endpoint's
// host and port. Its methods are safe for concurrent use; each virtual
// user passes its own *TokenConn.
type TokenEndpoint struct {
	url     *url.URL
	addr    string // host:port, the only address dialed
	tls     *tls.Config
	request []byte
	timeout time.Duration
}

// TokenConn is one virtual user's connection to a TokenEndpoint: nil
// until the first request, and again after an error.
type TokenConn struct {
	c  net.Conn
	br *bufio.Reader
	// body holds the last response's body, reused by the next: a token
	// response is read into the same few KiB every time rather than into
	// a buffer grown anew.
	body bytes.Buffer
}

// Close closes the connection, if any.
func (tc *TokenConn) Close() {
	if tc.c != nil {
		tc.c.Close()
		tc.c, tc.br = nil, nil
	}
}

// NewTokenEndpoint returns a client that asks tokenURL for client
// credentials tokens for scope ("" sends none) as clientID, each request
// bounded by timeout (DefaultTimeout when zero).
func NewTokenEndpoint(tokenURL, clientID, clientSecret, scope string, timeout time.Duration) (*TokenEndpoint, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("load: the token endpoint %q is not an http or https URL without credentials", tokenURL)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	e := &TokenEndpoint{url: u, addr: net.JoinHostPort(u.Hostname(), port), timeout: timeout}
	if u.Scheme == "https" {
		e.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	body := form.Encode()
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret)))
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-load\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n%s",
		u.RequestURI(), u.Host, basic, len(body), body)
	e.request = b.Bytes()
	return e, nil
}

// URL returns the token endpoint's URL.
func (e *TokenEndpoint) URL() string { return e.url.String() }

// Grant gets one access token on tc and reports its duration to obs, which
// may be nil. A response counts only if it is a 200 whose body is a JSON
// object with an access_token and token_type Bearer (RFC 6749 section
// 5.1); the token itself is not parsed. Its errors are *StepError:
// "HTTP 401", an OAuth error code such as "invalid_client", "timeout"…
func (e *TokenEndpoint) Grant(ctx context.Context, tc *TokenConn, obs Observer) error {
	t := time.Now()
	status, body, err := e.roundTrip(ctx, tc)
	if err != nil {
		return stepErr(StepClientCredentials, err)
	}
	if status != http.StatusOK {
		var res struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &res) == nil && res.Error != "" {
			return failf(StepClientCredentials, res.Error, "HTTP %d: %s", status, res.Description)
		}
		return failf(StepClientCredentials, "HTTP "+strconv.Itoa(status), "%.200s", body)
	}
	if !isTokenResponse(body) {
		return failf(StepClientCredentials, "bad response", "a 200 without an access_token of token_type Bearer: %.200s", body)
	}
	obs.observe(StepClientCredentials, t)
	return nil
}

// isTokenResponse reports whether body looks like a token response: a
// JSON object with a non-empty access_token string and a token_type of
// Bearer, whatever the case. It looks for the two members rather than
// decoding the body: encoding/json took longer over a 1 KiB response than
// the rest of the load's work for it, on the cores the server needs.
func isTokenResponse(body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return false
	}
	at := member(body, "access_token")
	return len(at) > 2 && at[0] == '"' && at[1] != '"' && bytes.EqualFold(member(body, "token_type"), []byte(`"bearer"`))
}

// member returns the value of the top-level-looking member name of a JSON
// object, up to the next comma or closing brace, or nil.
func member(body []byte, name string) []byte {
	i := bytes.Index(body, []byte(`"`+name+`"`))
	if i < 0 {
		return nil
	}
	v := bytes.TrimLeft(body[i+len(name)+2:], " \t\r\n")
	if len(v) == 0 || v[0] != ':' {
		return nil
	}
	v = bytes.TrimLeft(v[1:], " \t\r\n")
	end := bytes.IndexAny(v, ",}")
	if end < 0 {
		return nil
	}
	return bytes.TrimRight(v[:end], " \t\r\n")
}

// roundTrip sends the request on tc, connecting first if needed, and
// returns the response's status and body. On an error the connection is
// closed, and the next call connects again.
func (e *TokenEndpoint) roundTrip(ctx context.Context, tc *TokenConn) (int, []byte, error) {
	if tc.c == nil {
		if err := e.dial(ctx, tc); err != nil {
			return 0, nil, err
		}
	}
	deadline := time.Now().Add(e.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	tc.c.SetDeadline(deadline)
	// The connection, not tc.c: when ctx ends, the deadline may fire after
	// the exchange has failed and tc has let go of it.
	c := tc.c
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	status, body, keep, err := e.exchange(tc)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil || !keep {
		tc.Close()
	}
	return status, body, err
}

func (e *TokenEndpoint) exchange(tc *TokenConn) (status int, body []byte, keep bool, err error) {
	if _, err := tc.c.Write(e.request); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(tc.br, nil)
	if err != nil {
		return 0, nil, false, err
	}
	tc.body.Reset()
	_, err = tc.body.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	switch {
	case err != nil:
		return 0, nil, false, err
	case tc.body.Len() > maxBody:
		return 0, nil, false, fmt.Errorf("load: the token response is larger than %d bytes", maxBody)
	}
	return resp.StatusCode, tc.body.Bytes(), !resp.Close, nil
}

func (e *TokenEndpoint) dial(ctx context.Context, tc *TokenConn) error {
	d := &net.Dialer{Timeout: e.timeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return err
	}
	if e.tls != nil {
		tlc := tls.Client(c, e.tls)
		hctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		if err := tlc.HandshakeContext(hctx); err != nil {
			c.Close()
			return err
		}
		c = tlc
	}
	tc.c, tc.br = c, bufio.NewReaderSize(c, 16<<10)
	return nil
}

// TokenGrants is the client credentials load (LD-3) against e: each
// iteration gets one token, each of the workers on a connection of its
// own.
func TokenGrants(e *TokenEndpoint, workers int) (Scenario, func()) {
	conns := make([]TokenConn, workers) // each touched by its own worker only
	return func(ctx context.Context, w int, rec *Recorder) error {
			return e.Grant(ctx, &conns[w], rec.Observe)
		}, func() {
			for i := range conns {
				conns[i].Close()
			}
		}
}
