package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestOversizedBodies: a form over 64 KiB (hosted pages, the authorize,
// logout, token, revocation and introspection endpoints) or a JSON body
// over 1 MiB (the admin API) is answered with a 413 the client actually
// receives — a page, an OAuth error or a Graph error — instead of a
// connection reset. Two real clients send each body over TCP: Go's, which
// reads the answer while it sends, and one that sends its whole request
// before it reads (as Python's http.client and many others do, and as a
// browser on a slow link in effect does), with a small send buffer so
// that the body cannot hide in the sockets' buffers.
func TestOversizedBodies(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	form := func(n int) []byte { return []byte("client_id=x&pad=" + strings.Repeat("a", n)) }
	for _, c := range []struct {
		name, path, contentType string
		body                    []byte
		want                    string // "page", "oauth" or "graph"
	}{
		{"sign-in page", "/acme/login?tx=x", "application/x-www-form-urlencoded", form(64 << 10), "page"},
		{"sign-up page, 8 MiB", "/acme/signup?tx=x", "application/x-www-form-urlencoded", form(8 << 20), "page"},
		{"authorize", "/acme/oauth2/v2.0/authorize", "application/x-www-form-urlencoded", form(200 << 10), "page"},
		{"logout", "/acme/oauth2/v2.0/logout", "application/x-www-form-urlencoded", form(64 << 10), "page"},
		{"token", "/acme/oauth2/v2.0/token", "application/x-www-form-urlencoded", form(64 << 10), "oauth"},
		{"token, 4 MiB", "/acme/oauth2/v2.0/token", "application/x-www-form-urlencoded", form(4 << 20), "oauth"},
		{"revoke", "/acme/oauth2/v2.0/revoke", "application/x-www-form-urlencoded", form(300 << 10), "oauth"},
		{"introspect", "/acme/oauth2/v2.0/introspect", "application/x-www-form-urlencoded", form(300 << 10), "oauth"},
		{"admin API", "/acme/graph/v1.0/users", "application/json", []byte(`{"displayName": "` + strings.Repeat("a", 8<<20) + `"}`), "graph"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, client := range []string{"go", "send-all-then-read", "chunked"} {
				req, err := http.NewRequest("POST", e.url+c.path, bytes.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				if client == "chunked" { // no Content-Length: the limit is found by reading
					req.Body, req.ContentLength = io.NopCloser(struct{ io.Reader }{bytes.NewReader(c.body)}), -1
				}
				req.Header.Set("Content-Type", c.contentType)
				if c.want == "graph" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				var resp *http.Response
				if client == "go" {
					resp, err = http.DefaultClient.Do(req)
				} else {
					resp, err = sendAllThenRead(req)
				}
				if err != nil {
					t.Fatalf("%s client: POST %s with %d bytes: %v; want a 413", client, c.path, len(c.body), err)
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s client: reading the answer: %v", client, err)
				}
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413; body %.300s", resp.StatusCode, raw)
				}
				switch c.want {
				case "page":
					if !strings.Contains(text(string(raw)), "larger than 64 KiB") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
						t.Errorf("page %q: %.400s", resp.Header.Get("Content-Type"), text(string(raw)))
					}
				case "oauth":
					var body struct{ Error, ErrorDescription string }
					if json.Unmarshal(raw, &body) != nil || body.Error != "invalid_request" || !strings.Contains(string(raw), "64 KiB") {
						t.Errorf("OAuth error %s", raw)
					}
				case "graph":
					var body struct {
						Error struct{ Code, Message string }
					}
					if json.Unmarshal(raw, &body) != nil || !strings.Contains(body.Error.Message, "larger than the limit") {
						t.Errorf("Graph error %s", raw)
					}
				}
			}
		})
	}

	// A client that asks before it sends (Expect: 100-continue) is told
	// at once, and sends nothing.
	body := &countingReader{r: bytes.NewReader(form(1 << 20))}
	req, err := http.NewRequest("POST", e.url+"/acme/oauth2/v2.0/token", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(body.r.Len())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("Expect: 100-continue: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || body.n.Load() != 0 {
		t.Errorf("Expect: 100-continue: status %d after %d bytes of the body were sent; want 413 before any", resp.StatusCode, body.n.Load())
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// sendAllThenRead sends req on a new connection whose send buffer is small,
// all of it, and only then reads the answer.
func sendAllThenRead(req *http.Request) (*http.Response, error) {
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		return nil, err
	}
	if err := conn.(*net.TCPConn).SetWriteBuffer(16 << 10); err != nil {
		conn.Close()
		return nil, err
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sending: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading: %w", err)
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{resp.Body, conn}
	return resp, nil
}
