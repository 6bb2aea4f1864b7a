package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestBusyRetryAfter checks that every error writer answers a saturated
// resource (EBUSY) with 503 and Retry-After, and other errors without it.
func TestBusyRetryAfter(t *testing.T) {
	s := &server{Options: Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now}}
	busy := gatehouse.Errorf(gatehouse.EBUSY, "The server is busy; try again in a moment.")
	for _, c := range []struct {
		name  string
		write func(http.ResponseWriter, *http.Request, error)
	}{
		{"admin API", s.writeAPIError},
		{"OAuth", s.writeOAuthError},
	} {
		for _, err := range []error{busy, gatehouse.Errorf(gatehouse.EINVALID, "Bad.")} {
			w := httptest.NewRecorder()
			c.write(w, httptest.NewRequest("POST", "/acme/x", nil), err)
			wantRetry := err == busy
			if got := w.Header().Get("Retry-After"); (got != "") != wantRetry || (wantRetry && w.Code != http.StatusServiceUnavailable) {
				t.Errorf("%s, %v: status %d, Retry-After %q; want 503 with Retry-After only for EBUSY", c.name, err, w.Code, got)
			}
		}
	}
}
