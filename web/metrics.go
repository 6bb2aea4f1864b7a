package web

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/notify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	tokensIssued *prometheus.CounterVec
	// clientCredentialsIssued is tokensIssued's client_credentials
	// counter, looked up once rather than per token.
	clientCredentialsIssued prometheus.Counter
	// series holds the request counter and latency histogram of each
	// route, method and status seen, so that a request does not hash its
	// labels (routes and methods are the patterns of routes.go, statuses
	// the few a handler writes: the map stays small).
	series sync.Map // seriesKey -> *requestSeries
}

type seriesKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics(reg *prometheus.Registry, dbStats func() map[string]sql.DBStats, hasher Hasher) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total",
			Help: "Tokens issued by the token endpoint, by grant type.",
		}, []string{"grant_type"}),
	}
	m.clientCredentialsIssued = m.tokensIssued.WithLabelValues("client_credentials")
	cs := []prometheus.Collector{m.requests, m.latency, m.tokensIssued}
	if dbStats != nil {
		cs = append(cs, dbCollector(dbStats))
	}
	if hasher != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "gatehouse_password_hashes_in_progress",
				Help: "Password hashes being computed by the bounded argon2id pool.",
			}, func() float64 { busy, _ := hasher.Stats(); return float64(busy) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "gatehouse_password_hashes_waiting",
				Help: "Password hashes waiting for a worker of the argon2id pool.",
			}, func() float64 { _, waiting := hasher.Stats(); return float64(waiting) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "gatehouse_password_hashes_total",
				Help: "Password hashes (argon2id runs) computed by the pool, for new passwords and for sign-ins, of known and unknown accounts alike.",
			}, func() float64 { return float64(hasher.Computed()) }),
		)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	key := seriesKey{route, method, status}
	v, ok := m.series.Load(key)
	if !ok {
		v, _ = m.series.LoadOrStore(key, &requestSeries{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(route, method),
		})
	}
	rs := v.(*requestSeries)
	rs.requests.Inc()
	rs.latency.Observe(d.Seconds())
}

// dbStatsCollector exports database/sql pool statistics per pool.
type dbStatsCollector struct {
	stats                        func() map[string]sql.DBStats
	open, inUse, idle, waitCount *prometheus.Desc
	waitSeconds, maxOpen         *prometheus.Desc
}

func dbCollector(stats func() map[string]sql.DBStats) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gatehouse_db_"+name, help, []string{"pool"}, nil)
	}
	return &dbStatsCollector{
		stats:       stats,
		open:        d("open_connections", "Open connections of the database pool."),
		inUse:       d("in_use_connections", "Connections in use."),
		idle:        d("idle_connections", "Idle connections."),
		maxOpen:     d("max_open_connections", "Maximum open connections."),
		waitCount:   d("wait_count_total", "Times a caller waited for a connection."),
		waitSeconds: d("wait_duration_seconds_total", "Total time callers waited for a connection."),
	}
}

func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waitCount, c.waitSeconds} {
		ch <- d
	}
}

func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, st := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(st.InUse), pool)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.Idle), pool)
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(st.MaxOpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(st.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, st.WaitDuration.Seconds(), pool)
	}
}

func (s *server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}

func (s *server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
	})
}

// handleReadyz reports ready only while the database answers.
func (s *server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok"}
		status := http.StatusOK
		if err := s.Store.Ping(ctx); err != nil {
			s.Logger.WarnContext(ctx, "readiness: database unavailable", "err", err)
			checks["database"] = "unavailable"
			status = http.StatusServiceUnavailable
		}
		// Mail does not decide readiness: without it, sign-in with a
		// password still works. The check says what is missing.
		switch {
		case s.Mail == nil:
			checks["mail"] = "not configured: sign-up, passwordless sign-in and password reset cannot send codes"
		case s.Mailbox != nil && s.Mail == notify.Sender(s.Mailbox):
			checks["mail"] = "development mailbox: mail is kept in memory, not delivered"
		default:
			checks["mail"] = mailCheck(s.Mail)
		}
		checks["sms"] = s.smsCheck()
		state := "ready"
		if status != http.StatusOK {
			state = "not ready"
		}
		encode(w, status, map[string]any{"status": state, "checks": checks})
	})
}

// mailCheck says what is known of a configured mail sender: whether its
// last delivery or check went through. The server's address and the error
// stay in the log.
func mailCheck(m notify.Sender) string {
	st, ok := m.(interface{ Status() notify.Status })
	if !ok {
		return "configured"
	}
	switch s := st.Status(); {
	case s.Failing():
		return "failing: the last attempt to send mail, at " + s.LastFailed.UTC().Format(time.RFC3339) + ", failed (see the log); codes may not arrive"
	case !s.LastReached.IsZero():
		return "ok: the mail server was last reached at " + s.LastReached.UTC().Format(time.RFC3339)
	default:
		return "configured: the mail server has not been contacted yet"
	}
}
