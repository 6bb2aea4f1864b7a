package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100, 0: 1} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(1…100, %v) = %d, want %d", p, got, want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %d", got)
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one = %d", got)
	}
}

func TestSamplesAreBounded(t *testing.T) {
	var s samples
	for i := range 10000 {
		s.add(time.Duration(i), 100)
	}
	if len(s.d) != 100 || s.n != 10000 || s.max != 9999 {
		t.Errorf("after 10000 durations with a limit of 100: kept %d, count %d, max %d", len(s.d), s.n, s.max)
	}
	// A uniform sample of 0…9999 has its median near 5000.
	st := stats("x", &s)
	if !st.Sampled || st.P50 < 3000 || st.P50 > 7000 {
		t.Errorf("stats of the sample: %+v", st)
	}
}

func TestRun(t *testing.T) {
	calls := make([]int, 3)
	// Workers 0 and 1 never block: they wait for worker 2's first
	// failure, or they could use up the run before worker 2 is scheduled.
	failed := make(chan struct{})
	var once sync.Once
	r := Run(context.Background(), "test", Options{Concurrency: 3, Duration: 50 * time.Millisecond}, func(ctx context.Context, w int, rec *Recorder) error {
		calls[w]++
		rec.Observe("step", time.Millisecond)
		if w == 2 {
			once.Do(func() { close(failed) })
			return failf("step", "HTTP 503", "busy")
		}
		select {
		case <-failed:
		case <-ctx.Done():
		}
		return nil
	})
	if r.Completed != int64(calls[0]+calls[1]) || r.Failed != int64(calls[2]) || r.Errors["step: HTTP 503"] != r.Failed {
		t.Errorf("report %+v for calls %v", r, calls)
	}
	if r.ErrorExamples["step: HTTP 503"] != "step: HTTP 503: busy" {
		t.Errorf("examples %v", r.ErrorExamples)
	}
	if s, _ := r.Step("step"); s.Count != int64(calls[0]+calls[1]+calls[2]) || s.P50 != time.Millisecond {
		t.Errorf("step stats %+v", s)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	for _, want := range []string{"load test: 3 workers", "step: HTTP 503", "e.g. step: HTTP 503: busy", "p99"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Completed int64
		PerSecond float64 `json:"per_second"`
		Steps     []struct {
			Step string
			P50  float64 `json:"p50_ms"`
		}
	}
	if err := json.Unmarshal(raw, &j); err != nil || j.Completed != r.Completed || j.PerSecond <= 0 || len(j.Steps) != 1 || j.Steps[0].P50 != 1 {
		t.Errorf("JSON report %s (%v)", raw, err)
	}
}

func TestRunStopsInFlightIterations(t *testing.T) {
	// An iteration that never ends is canceled after the grace period and
	// counted as interrupted, not failed.
	r := Run(context.Background(), "stuck", Options{Concurrency: 2, Duration: 10 * time.Millisecond, Grace: 20 * time.Millisecond}, func(ctx context.Context, w int, rec *Recorder) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if r.Interrupted != 2 || r.Failed != 0 || r.Completed != 0 {
		t.Errorf("stuck iterations: %+v", r)
	}
}

func TestRunIterations(t *testing.T) {
	var calls atomic.Int64
	r := Run(context.Background(), "counted", Options{Concurrency: 3, Iterations: 7, Duration: time.Minute}, func(context.Context, int, *Recorder) error {
		calls.Add(1)
		return nil
	})
	if r.Completed != 7 || calls.Load() != 7 {
		t.Errorf("a run of 7 iterations completed %d (%d calls)", r.Completed, calls.Load())
	}
}

func TestRunRate(t *testing.T) {
	// 40 a second for 250 ms: slots at 0, 25, 50, … 225 ms, so at most
	// 10 iterations, however many workers are free.
	var starts []time.Time
	var mu sync.Mutex
	begin := time.Now()
	r := Run(context.Background(), "paced", Options{Concurrency: 8, Rate: 40, Duration: 250 * time.Millisecond}, func(context.Context, int, *Recorder) error {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil
	})
	if r.Completed == 0 || r.Completed > 10 {
		t.Fatalf("a run at 40/s for 250 ms completed %d iterations, want 1 to 10", r.Completed)
	}
	// The i-th start is at its slot or later, and slots are 25 ms apart.
	slices.SortFunc(starts, time.Time.Compare)
	for i, at := range starts {
		if d := at.Sub(begin); d < time.Duration(i)*25*time.Millisecond {
			t.Errorf("iteration %d started %v into the run, want at least %v", i, d, time.Duration(i)*25*time.Millisecond)
		}
	}
}

func TestClassify(t *testing.T) {
	for err, want := range map[error]string{
		context.DeadlineExceeded: "timeout",
		errors.New("odd"):        "error",
		fmt.Errorf("exchange: %w", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}):                    "invalid_grant",
		&oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}:                                 "HTTP 503",
		&url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: &net.OpError{Err: syscall.ECONNREFUSED}}: "connection refused",
	} {
		if got := classify(err); got != want {
			t.Errorf("classify(%v) = %q, want %q", err, got, want)
		}
	}
}
