package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

type ctxKey int

const (
	ctxCorrelationID ctxKey = iota
	ctxTenant
	ctxPrincipal
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

// observe gives every request a correlation ID, sets the security headers
// every response carries, and records the request in the log and metrics.
// It never logs headers or bodies: they carry secrets.
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
		r = r.WithContext(context.WithValue(r.Context(), ctxCorrelationID, id))
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
		s.Logger.LogAttrs(r.Context(), levelFor(rec.status), "request",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", elapsed),
			slog.String("correlation_id", id), slog.String("remote", clientIP(r)))
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

// clientIP is the address of the immediate peer. Gatehouse does not trust
// forwarding headers unless a proxy is configured (a later option).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
