package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of a run.
const (
	// DefaultGrace is how long a run waits, after its duration, for the
	// iterations in flight before it cancels them.
	DefaultGrace = 30 * time.Second
	// maxSamples bounds the durations kept per step, over all workers
	// (8 MiB); past it, a uniform sample of them is kept.
	maxSamples = 1 << 20
	// errorPause is how long a worker waits after a failed iteration, so
	// that a server that fails fast is not flooded.
	errorPause = 100 * time.Millisecond
)

// Options are the shape of a run.
type Options struct {
	// Concurrency is the number of workers, each running one iteration at
	// a time; at least 1.
	Concurrency int
	// Duration is how long workers start new iterations.
	Duration time.Duration
	// Grace bounds the wait for the iterations in flight after Duration;
	// DefaultGrace when zero. Iterations still running then are canceled
	// and counted as interrupted, not as errors.
	Grace time.Duration
	// Rate, when positive, bounds how many iterations start per second,
	// over all workers, evenly spaced: the load then offers that rate (as
	// long as Concurrency workers keep up) instead of as many as the
	// workers can do one after the other. Slots a busy run misses are not
	// made up later.
	Rate float64
	// Iterations, when positive, ends the run once that many iterations
	// have started, if Duration has not ended it before.
	Iterations int64
	// Progress, when not nil, is called every ProgressEvery (10 s when
	// zero) with the counts so far.
	Progress      func(elapsed time.Duration, completed, failed int64)
	ProgressEvery time.Duration
}

// Scenario is one iteration of a load in worker (0 ≤ worker <
// Concurrency). It reports the duration of its steps to rec.Observe and
// returns an error, preferably a *StepError, when it fails.
type Scenario func(ctx context.Context, worker int, rec *Recorder) error

// Run runs scenario in o.Concurrency workers, each starting iterations one
// after the other until o.Duration has passed or ctx is done, and returns
// what happened. It returns after at most o.Duration plus o.Grace.
func Run(ctx context.Context, name string, o Options, scenario Scenario) *Report {
	o.Concurrency = max(o.Concurrency, 1)
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
	start := time.Now()
	stop := start.Add(o.Duration)
	ctx, cancel := context.WithDeadline(ctx, stop.Add(o.Grace))
	defer cancel()

	var completed, failed atomic.Int64
	recs := make([]*Recorder, o.Concurrency)
	pace := newPacer(o.Rate)
	var started atomic.Int64
	var wg sync.WaitGroup
	for w := range recs {
		rec := newRecorder(maxSamples / o.Concurrency)
		recs[w] = rec
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				if o.Iterations > 0 && started.Add(1) > o.Iterations || !pace.wait(ctx, stop) {
					break
				}
				err := scenario(ctx, w, rec)
				switch {
				case err == nil:
					rec.completed++
					completed.Add(1)
				case ctx.Err() != nil:
					rec.interrupted++
				default:
					rec.fail(err)
					failed.Add(1)
					pause(ctx, errorPause)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if o.Progress != nil {
		tick := time.NewTicker(o.ProgressEvery)
		defer tick.Stop()
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-tick.C:
				o.Progress(time.Since(start), completed.Load(), failed.Load())
			}
		}
	}
	<-done
	return newReport(name, o, time.Since(start), recs)
}

// pause waits for d or until ctx is done, and reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// pacer hands out the start times of iterations at a rate, evenly spaced.
// A nil pacer does not wait.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	last     time.Time // the slot handed out last
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{interval: time.Duration(float64(time.Second) / rate)}
}

// wait waits for the next slot, one interval after the last one handed
// out or now, whichever is later, so that a run that fell behind does not
// start a burst to catch up. It reports false, without waiting, when the
// slot would be at or after stop or ctx ends first.
func (p *pacer) wait(ctx context.Context, stop time.Time) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	slot := time.Now()
	if !p.last.IsZero() {
		slot = later(slot, p.last.Add(p.interval))
	}
	if !slot.Before(stop) {
		p.mu.Unlock()
		return false
	}
	p.last = slot
	p.mu.Unlock()
	return pause(ctx, time.Until(slot))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Recorder keeps what one worker saw: the duration of each step (all of
// them up to a limit, then a uniform sample, and the exact count and
// maximum), and its errors by kind. It is not safe for concurrent use:
// each worker has its own.
type Recorder struct {
	limit       int
	steps       map[string]*samples
	order       []string // steps in the order first observed
	completed   int64
	interrupted int64
	errors      map[string]int64
	examples    map[string]string
}

func newRecorder(limit int) *Recorder {
	return &Recorder{limit: max(limit, 1), steps: map[string]*samples{}, errors: map[string]int64{}, examples: map[string]string{}}
}

// Observe records that step took d. Its signature is an Observer's.
func (r *Recorder) Observe(step string, d time.Duration) {
	s := r.steps[step]
	if s == nil {
		s = &samples{}
		r.steps[step] = s
		r.order = append(r.order, step)
	}
	s.add(d, r.limit)
}

// fail records an iteration's error under its kind, "step: kind" for a
// *StepError.
func (r *Recorder) fail(err error) {
	kind := "error: " + classify(err)
	var se *StepError
	if errors.As(err, &se) {
		kind = se.Step + ": " + se.Kind
	}
	r.errors[kind]++
	if _, ok := r.examples[kind]; !ok {
		r.examples[kind] = err.Error()
	}
}

// samples are the durations of one step.
type samples struct {
	n   int64
	max time.Duration
	d   []time.Duration
}

// add records d, keeping at most limit durations by reservoir sampling
// (Vitter's algorithm R): each of the n seen is kept with probability
// limit/n.
func (s *samples) add(d time.Duration, limit int) {
	s.n++
	s.max = max(s.max, d)
	if len(s.d) < limit {
		s.d = append(s.d, d)
		return
	}
	if i := rand.Int64N(s.n); i < int64(limit) {
		s.d[i] = d
	}
}
