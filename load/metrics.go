package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ServerSample is what a Gatehouse server's /metrics said at one time:
// its memory, goroutines and password hash pool.
type ServerSample struct {
	At time.Time `json:"-"`
	// ResidentBytes is process_resident_memory_bytes: the memory the
	// operating system gives the process.
	ResidentBytes float64 `json:"resident_bytes"`
	// HeapInUseBytes is go_memstats_heap_inuse_bytes, and GoSysBytes
	// go_memstats_sys_bytes: all the memory the Go runtime holds.
	HeapInUseBytes float64 `json:"heap_inuse_bytes"`
	GoSysBytes     float64 `json:"go_sys_bytes"`
	Goroutines     float64 `json:"goroutines"`
	// HashesRunning and HashesWaiting are the password hash pool's
	// workers busy and requests queued; HashesTotal the hashes computed
	// since the server started.
	HashesRunning float64 `json:"hashes_running"`
	HashesWaiting float64 `json:"hashes_waiting"`
	HashesTotal   float64 `json:"hashes_total"`
}

// metricsNames maps the metrics read to the sample's fields.
var metricsNames = map[string]func(*ServerSample) *float64{
	"process_resident_memory_bytes":         func(s *ServerSample) *float64 { return &s.ResidentBytes },
	"go_memstats_heap_inuse_bytes":          func(s *ServerSample) *float64 { return &s.HeapInUseBytes },
	"go_memstats_sys_bytes":                 func(s *ServerSample) *float64 { return &s.GoSysBytes },
	"go_goroutines":                         func(s *ServerSample) *float64 { return &s.Goroutines },
	"gatehouse_password_hashes_in_progress": func(s *ServerSample) *float64 { return &s.HashesRunning },
	"gatehouse_password_hashes_waiting":     func(s *ServerSample) *float64 { return &s.HashesWaiting },
	"gatehouse_password_hashes_total":       func(s *ServerSample) *float64 { return &s.HashesTotal },
}

// ServerMetrics reads the server's /metrics (on the issuer's origin).
func (c *Client) ServerMetrics(ctx context.Context) (ServerSample, error) {
	s := ServerSample{At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, "GET", c.origin+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := c.app.Do(req)
	if err != nil {
		return s, fmt.Errorf("load: /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("load: /metrics: HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return s, fmt.Errorf("load: /metrics: %w", err)
	}
	for name, field := range metricsNames {
		f := families[name]
		if f == nil || len(f.Metric) != 1 {
			return s, fmt.Errorf("load: /metrics has no %s: is this a Gatehouse server?", name)
		}
		m := f.Metric[0]
		switch {
		case m.Gauge != nil:
			*field(&s) = m.Gauge.GetValue()
		case m.Counter != nil:
			*field(&s) = m.Counter.GetValue()
		case m.Untyped != nil:
			*field(&s) = m.Untyped.GetValue()
		}
	}
	return s, nil
}

// ServerReport is what the server's /metrics said around a run: before
// it, the highest value of each figure from before to after (the resident
// memory can shrink during a run, when the runtime returns pages), and
// after it.
type ServerReport struct {
	Before ServerSample `json:"before"`
	Peak   ServerSample `json:"peak"`
	After  ServerSample `json:"after"`
	// Samples is how many times /metrics was read during the run.
	Samples int `json:"samples"`
	// Hashed is how many password hashes the server computed from Before
	// to After, and HashedPerSecond their rate over the run.
	Hashed          float64 `json:"hashed"`
	HashedPerSecond float64 `json:"hashed_per_second"`
}

// watcher reads /metrics every interval, keeping the peak of each figure.
type watcher struct {
	mu      sync.Mutex
	peak    ServerSample
	samples int
	err     error
	stop    chan struct{}
	done    chan struct{}
}

func (c *Client) watch(ctx context.Context, every time.Duration) *watcher {
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			s, err := c.ServerMetrics(ctx)
			w.mu.Lock()
			if err != nil && w.err == nil && ctx.Err() == nil {
				w.err = err
			} else if err == nil {
				w.samples++
				w.peak = peak(w.peak, s)
			}
			w.mu.Unlock()
			select {
			case <-tick.C:
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return w
}

// end stops the watcher and returns the peak and the number of samples.
func (w *watcher) end() (ServerSample, int, error) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.samples, w.err
}

// peak returns, field by field, the larger of a and b.
func peak(a, b ServerSample) ServerSample {
	for _, field := range metricsNames {
		*field(&a) = max(*field(&a), *field(&b))
	}
	a.At = b.At
	return a
}
