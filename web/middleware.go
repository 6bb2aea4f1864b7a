package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

type ctxKey int

const (
	ctxCorrelationID ctxKey = iota
	ctxTenant
	ctxPrincipal
	ctxClient
)

// correlationID returns the request's correlation ID ("" outside a request).
func correlationID(ctx context.Context) string {
	id, _ := ctx.Value(ctxCorrelationID).(string)
	return id
}

// tenantFrom returns the tenant withTenant resolved.
func tenantFrom(ctx context.Context) *gatehouse.Tenant {
	t, _ := ctx.Value(ctxTenant).(*gatehouse.Tenant)
	return t
}

func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe gives every request a correlation ID and its client address
// (clientaddr.go), sets the security headers every response carries, and
// records the request in the log and metrics: remote is the client
// address, and peer, only when it differs, the proxy that forwarded the
// request. It never logs headers or bodies: they carry secrets.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newCorrelationID()
		h := w.Header()
		h.Set("request-id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		rec := &statusRecorder{ResponseWriter: w}
		addrs := s.clientOf(r)
		ctx := context.WithValue(r.Context(), ctxCorrelationID, id)
		r = r.WithContext(context.WithValue(ctx, ctxClient, addrs))
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observeRequest(route, r.Method, rec.status, elapsed)
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", elapsed),
			slog.String("correlation_id", id), slog.String("remote", addrs.client),
		}
		if addrs.peer != addrs.client {
			attrs = append(attrs, slog.String("peer", addrs.peer))
		}
		s.Logger.LogAttrs(r.Context(), levelFor(rec.status), "request", attrs...)
	})
}

// recoverPanics turns a panic into a 500 with the correlation ID, and logs
// the stack.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeAPIError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withTenant resolves the {tenant} path segment; an unknown tenant is a 404
// that does not reveal anything else.
func (s *server) withTenant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("tenant")
		t, err := s.Store.TenantByName(r.Context(), name)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				err = gatehouse.Errorf(gatehouse.ENOTFOUND, "Tenant %q does not exist.", name)
			}
			if strings.Contains(r.URL.Path, "/oauth2/") {
				s.writeOAuthError(w, r, err)
				return
			}
			s.writeAPIError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxTenant, t)))
	})
}

// levelFor logs server errors as errors and everything else at info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// clientIP is the full address of the client that sent r, as observe
// resolved it: the peer, or, behind a trusted proxy, the address the
// proxies forwarded (clientaddr.go). Outside observe it is the peer.
func clientIP(r *http.Request) string {
	if a, ok := r.Context().Value(ctxClient).(clientAddrs); ok {
		return a.client
	}
	return resolveClient(nil, r.RemoteAddr, nil).client
}

// maxFormBody bounds every form-encoded request body: the hosted pages,
// the authorization, token, revocation, introspection and logout
// endpoints.
const maxFormBody = 64 << 10

// checkInput refuses, with 400, a request whose path, query or form holds
// a NUL character or text that is not UTF-8: no stored value can contain
// either, and PostgreSQL refuses them outright. It also bounds and parses
// form bodies here, once, so no handler reads an unbounded form.
func (s *server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bad := !cleanText(r.URL.Path)
		if !bad {
			bad = !cleanValues(r.URL.Query())
		}
		if !bad && r.Method == http.MethodPost {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
				tooLarge, err := readBounded(w, r, maxFormBody, r.ParseForm)
				switch {
				case tooLarge:
					s.refuseInput(w, r, http.StatusRequestEntityTooLarge, "The form is larger than 64 KiB.")
					return
				case err != nil:
					s.refuseInput(w, r, http.StatusBadRequest, "The form is not valid application/x-www-form-urlencoded.")
					return
				}
				bad = !cleanValues(r.PostForm)
			}
		}
		if bad {
			s.refuseInput(w, r, http.StatusBadRequest, "The request contains a NUL character or text that is not UTF-8.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// How much of a body over its limit is still read, and thrown away,
// before the 413 is sent, and for how long at most.
const (
	maxDrain  = 16 << 20
	drainTime = 10 * time.Second
)

// readBounded calls read, which reads r's body, with the body bounded to
// limit bytes, and reports whether the body was over the limit; other
// errors of read are returned. A body declared (Content-Length) over the
// limit is not read at all.
//
// For a body over the limit it first reads on and throws away the rest,
// up to maxDrain bytes within drainTime, and sets Connection: close: many
// clients (Python's http.client, browsers on slow links in effect) send
// their whole request before they read the answer, and a server that
// closes the connection while they still send makes the kernel answer
// with a reset, which destroys the 413 the client was about to read. A
// client that waits for 100 Continue before it sends a declared-too-large
// body is not asked to send it. A body longer than the drain still ends in
// a reset for such clients; nothing longer is worth reading.
func readBounded(w http.ResponseWriter, r *http.Request, limit int64, read func() error) (tooLarge bool, err error) {
	body := r.Body
	started := false
	if r.ContentLength <= limit {
		started = true
		r.Body = http.MaxBytesReader(w, body, limit)
		err = read()
		if _, over := errors.AsType[*http.MaxBytesError](err); !over {
			return false, err
		}
	}
	w.Header().Set("Connection", "close")
	waiting := !started && strings.EqualFold(r.Header.Get("Expect"), "100-continue")
	if !waiting && r.ContentLength <= limit+maxDrain {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(drainTime))
		_, _ = io.CopyN(io.Discard, body, maxDrain)
	}
	return true, nil
}

func cleanText(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

func cleanValues(vs url.Values) bool {
	for k, list := range vs {
		if !cleanText(k) {
			return false
		}
		for _, v := range list {
			if !cleanText(v) {
				return false
			}
		}
	}
	return true
}

// refuseInput answers bad input in the format of the endpoint it was sent
// to: Graph errors for the admin API, OAuth errors for back-channel
// endpoints, a page for everything a browser visits.
func (s *server) refuseInput(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/graph/"):
		code := gatehouse.EINVALID
		if status == http.StatusRequestEntityTooLarge {
			code = gatehouse.ETOOLARGE
		}
		s.writeAPIError(w, r, gatehouse.Errorf(code, "%s", msg))
	case strings.HasSuffix(p, "/oauth2/v2.0/token"), strings.HasSuffix(p, "/oauth2/v2.0/revoke"),
		strings.HasSuffix(p, "/oauth2/v2.0/introspect"), strings.HasSuffix(p, "/oidc/userinfo"):
		w.Header().Set("Pragma", "no-cache")
		encode(w, status, &oauthError{Code: "invalid_request", Description: msg})
	default:
		s.renderError(w, r, status, msg)
	}
}

// rateIP is the client address (clientIP) as rate limits count it: an
// IPv4 address, or the /64 network of an IPv6 address (one subscriber
// usually holds a whole /64, so counting single IPv6 addresses would not
// limit anyone). Logs record the full address.
func rateIP(r *http.Request) string {
	ip := net.ParseIP(clientIP(r))
	if ip == nil {
		return clientIP(r)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
