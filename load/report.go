package load

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Report is what a run did.
type Report struct {
	Scenario    string        `json:"scenario"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"-"` // asked for
	Elapsed     time.Duration `json:"-"` // until the last iteration ended
	// Completed counts the iterations that succeeded, Failed those that
	// failed, Interrupted those canceled at the end of the run.
	Completed   int64 `json:"completed"`
	Failed      int64 `json:"failed"`
	Interrupted int64 `json:"interrupted"`
	// Errors counts failed iterations by kind ("password: HTTP 429");
	// ErrorExamples holds the first message of each kind.
	Errors        map[string]int64  `json:"errors"`
	ErrorExamples map[string]string `json:"error_examples"`
	// Steps are the latencies of each step that succeeded, in the order
	// the steps were first seen.
	Steps []StepStats `json:"steps"`
	// Server is what the server's /metrics said around the run, for the
	// loads that watch it (StuffingRun).
	Server *ServerReport `json:"server,omitempty"`
	// Mail is what a MailSink received during the run, for the loads
	// that use one.
	Mail *SinkCounts `json:"mail,omitempty"`
}

// StepStats are the latencies of one step: a count and percentiles
// (nearest rank).
type StepStats struct {
	Step               string
	Count              int64
	P50, P90, P99, Max time.Duration
	Sampled            bool // the percentiles are of a uniform sample
}

// PerSecond is the rate of completed iterations.
func (r *Report) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// Step returns the statistics of the step named step, and whether it was
// seen.
func (r *Report) Step(step string) (StepStats, bool) {
	for _, s := range r.Steps {
		if s.Step == step {
			return s, true
		}
	}
	return StepStats{}, false
}

func newReport(name string, o Options, elapsed time.Duration, recs []*Recorder) *Report {
	r := &Report{Scenario: name, Concurrency: o.Concurrency, Duration: o.Duration, Elapsed: elapsed,
		Errors: map[string]int64{}, ErrorExamples: map[string]string{}}
	r.merge(recs)
	return r
}

// addRecorder adds what rec saw, besides the run's workers, to the
// report: its steps after the report's, its errors to the report's.
func (r *Report) addRecorder(rec *Recorder) {
	r.merge([]*Recorder{rec})
}

// merge adds the counts, errors and steps of recs to the report.
func (r *Report) merge(recs []*Recorder) {
	var order []string
	merged := map[string]*samples{}
	for _, rec := range recs {
		r.Completed += rec.completed
		r.Interrupted += rec.interrupted
		for k, n := range rec.errors {
			r.Errors[k] += n
			r.Failed += n
			if _, ok := r.ErrorExamples[k]; !ok {
				r.ErrorExamples[k] = rec.examples[k]
			}
		}
		for _, step := range rec.order {
			s := rec.steps[step]
			m := merged[step]
			if m == nil {
				m = &samples{}
				merged[step] = m
				order = append(order, step)
			}
			m.n += s.n
			m.max = max(m.max, s.max)
			m.d = append(m.d, s.d...)
		}
	}
	for _, step := range order {
		r.Steps = append(r.Steps, stats(step, merged[step]))
	}
}

func stats(step string, s *samples) StepStats {
	slices.Sort(s.d)
	return StepStats{Step: step, Count: s.n, Max: s.max, Sampled: int64(len(s.d)) < s.n,
		P50: percentile(s.d, 0.50), P90: percentile(s.d, 0.90), P99: percentile(s.d, 0.99)}
}

// percentile returns the nearest-rank p-quantile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// WriteText writes the report for people.
func (r *Report) WriteText(out io.Writer) error {
	ew := &errWriter{w: out}
	w := io.Writer(ew)
	fmt.Fprintf(w, "load %s: %d workers for %s (last iteration ended after %s)\n",
		r.Scenario, r.Concurrency, r.Duration, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "completed    %d (%.1f/s)\n", r.Completed, r.PerSecond())
	fmt.Fprintf(w, "failed       %d\n", r.Failed)
	if r.Interrupted > 0 {
		fmt.Fprintf(w, "interrupted  %d (in flight when the run was stopped)\n", r.Interrupted)
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %6d  %s\n          e.g. %s\n", r.Errors[k], k, r.ErrorExamples[k])
	}
	width := 20
	for _, s := range r.Steps {
		width = max(width, len(s.Step))
	}
	fmt.Fprintf(w, "\n%-*s %8s %10s %10s %10s %10s\n", width, "step", "count", "p50", "p90", "p99", "max")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%-*s %8d %10s %10s %10s %10s\n", width, s.Step, s.Count, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
	fmt.Fprintf(w, "(latencies of the steps that succeeded)\n")
	if m := r.Mail; m != nil {
		fmt.Fprintf(w, "\nmail sink: %d messages received (%d without a code) for %d addresses, at most %d to one\n",
			m.Messages, m.WithoutCode, len(m.PerRecipient), m.MaxPerRecipient())
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "\nserver (/metrics, %d samples)  %12s %12s %12s\n", s.Samples, "before", "peak", "after")
		mib := func(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
		num := func(n float64) string { return fmt.Sprintf("%.0f", n) }
		for _, row := range []struct {
			name string
			get  func(ServerSample) float64
			f    func(float64) string
		}{
			{"resident memory", func(x ServerSample) float64 { return x.ResidentBytes }, mib},
			{"Go runtime memory", func(x ServerSample) float64 { return x.GoSysBytes }, mib},
			{"Go heap in use", func(x ServerSample) float64 { return x.HeapInUseBytes }, mib},
			{"goroutines", func(x ServerSample) float64 { return x.Goroutines }, num},
			{"hashes running", func(x ServerSample) float64 { return x.HashesRunning }, num},
			{"hashes waiting", func(x ServerSample) float64 { return x.HashesWaiting }, num},
		} {
			fmt.Fprintf(w, "%-30s %12s %12s %12s\n", row.name, row.f(row.get(s.Before)), row.f(row.get(s.Peak)), row.f(row.get(s.After)))
		}
		fmt.Fprintf(w, "password hashes computed: %.0f (%.1f/s)", s.Hashed, s.HashedPerSecond)
		if s.HashedPerSecond > 0 {
			fmt.Fprintf(w, "; iterations offered %.1f/s, %.1f times that", r.PerSecond(), r.PerSecond()/s.HashedPerSecond)
		}
		fmt.Fprintln(w)
	}
	return ew.err
}

// errWriter keeps the first error of its writes, and writes nothing after.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// MarshalJSON writes the report with durations in milliseconds.
func (r *Report) MarshalJSON() ([]byte, error) {
	type step struct {
		Step    string  `json:"step"`
		Count   int64   `json:"count"`
		P50     float64 `json:"p50_ms"`
		P90     float64 `json:"p90_ms"`
		P99     float64 `json:"p99_ms"`
		Max     float64 `json:"max_ms"`
		Sampled bool    `json:"sampled,omitempty"`
	}
	type plain Report
	out := struct {
		*plain
		Duration  float64 `json:"duration_s"`
		Elapsed   float64 `json:"elapsed_s"`
		PerSecond float64 `json:"per_second"`
		Steps     []step  `json:"steps"`
	}{plain: (*plain)(r), Duration: r.Duration.Seconds(), Elapsed: r.Elapsed.Seconds(), PerSecond: r.PerSecond(), Steps: []step{}}
	toMS := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, s := range r.Steps {
		out.Steps = append(out.Steps, step{s.Step, s.Count, toMS(s.P50), toMS(s.P90), toMS(s.P99), toMS(s.Max), s.Sampled})
	}
	return json.Marshal(out)
}
