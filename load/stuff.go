package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Answers to a guess in credential stuffing (LD-7), which its report
// counts and times as steps.
const (
	// StepGuessWrong is a guess the server hashed and refused (400).
	StepGuessWrong = "guess: wrong (400)"
	// StepGuessThrottled is a guess refused unhashed by the limits per
	// address or per client address (429).
	StepGuessThrottled = "guess: throttled (429)"
	// StepGuessBusy is a guess refused unhashed because the password hash
	// pool was full (503).
	StepGuessBusy = "guess: busy (503)"
	// StepGuess names the failures of a guess.
	StepGuess = "guess"
)

// Steps of the requests that StuffingRun times beside the guesses: the
// token endpoint (client credentials) and the JWK set, before the
// stuffing starts and while it runs.
const (
	StepTokenIdle   = "token (idle)"
	StepJWKSIdle    = "jwks (idle)"
	StepTokenLoaded = "token (under load)"
	StepJWKSLoaded  = "jwks (under load)"
)

// Stuffing is credential stuffing (LD-7): each worker opens a sign-in
// page once (a Guesser) and each iteration posts a wrong password for the
// next of the addresses a names (taken in turn over all workers), each
// post from a client address of its own when the Client spreads them. The
// answer is recorded as a step, StepGuessWrong, StepGuessThrottled or
// StepGuessBusy; a right password or any other answer is an error. Call
// done after the run: it closes the sign-in pages' connections.
func Stuffing(c *Client, a Accounts, workers int) (s Scenario, done func()) {
	var next atomic.Int64
	guessers := make([]*Guesser, workers) // each touched by its own worker only
	s = func(ctx context.Context, w int, rec *Recorder) error {
		if guessers[w] == nil {
			g, err := c.NewGuesser(ctx)
			if err != nil {
				return err
			}
			guessers[w] = g
		}
		mail := UserMail(a.Prefix, int(next.Add(1)-1)%max(a.N, 1)+1)
		t := time.Now()
		status, err := guessers[w].Try(ctx, mail, "not-the-password-"+randomString())
		if err != nil {
			guessers[w].Close()
			guessers[w] = nil
			return err
		}
		step := map[int]string{http.StatusBadRequest: StepGuessWrong, http.StatusTooManyRequests: StepGuessThrottled,
			http.StatusServiceUnavailable: StepGuessBusy}[status]
		if step == "" {
			return failf(StepGuess, fmt.Sprintf("HTTP %d", status), "a wrong password for %s was answered with %d", mail, status)
		}
		rec.Observe(step, time.Since(t))
		return nil
	}
	done = func() {
		for _, g := range guessers {
			if g != nil {
				g.Close()
			}
		}
	}
	return s, done
}

// StuffingConfig is the shape of a StuffingRun.
type StuffingConfig struct {
	// Addresses are the accounts guessed at: their Prefix and N (the
	// password is never right).
	Addresses Accounts
	// Baseline is how long the token endpoint and the JWK set are timed
	// before the stuffing starts.
	Baseline time.Duration
	// ProbeEvery is the pause between two probes (a token request, then
	// a JWK set request); 50 ms when zero.
	ProbeEvery time.Duration
	// Scope is the scope of the token requests; AdminAPIScope of the
	// issuer when empty. The Client's application must be confidential.
	Scope string
}

// StuffingRun runs credential stuffing (Stuffing) with o, and around it
// measures what the bounded password hash pool is meant to hold (PW-12):
// the server's memory and hash pool from its /metrics before, during and
// after the run (Report.Server), and the latency of the token endpoint and
// the JWK set, timed one after the other every cfg.ProbeEvery, first for
// cfg.Baseline on the idle server (StepTokenIdle, StepJWKSIdle) and then
// during the stuffing (StepTokenLoaded, StepJWKSLoaded). Failed probes are
// the run's errors too.
func (c *Client) StuffingRun(ctx context.Context, o Options, cfg StuffingConfig) (*Report, error) {
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 50 * time.Millisecond
	}
	if cfg.Scope == "" {
		cfg.Scope = AdminAPIScope(c.cfg.Issuer)
	}
	before, err := c.ServerMetrics(ctx)
	if err != nil {
		return nil, err
	}
	probes := newRecorder(maxSamples / 4)
	c.probe(ctx, probes, cfg, StepTokenIdle, StepJWKSIdle, time.Now().Add(cfg.Baseline))

	w := c.watch(ctx, time.Second)
	start := time.Now()
	stopProbes := make(chan struct{})
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		c.probeUntil(ctx, probes, cfg, StepTokenLoaded, StepJWKSLoaded, stopProbes)
	}()
	stuffing, done := Stuffing(c, cfg.Addresses, max(o.Concurrency, 1))
	r := Run(ctx, "stuff", o, stuffing)
	done()
	close(stopProbes)
	<-probed
	elapsed := time.Since(start)
	pk, samples, werr := w.end()
	after, err := c.ServerMetrics(ctx)
	if err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	r.addRecorder(probes)
	r.Server = &ServerReport{Before: before, Peak: peak(peak(before, pk), after), After: after, Samples: samples,
		Hashed: after.HashesTotal - before.HashesTotal}
	r.Server.HashedPerSecond = r.Server.Hashed / elapsed.Seconds()
	return r, nil
}

// probe times token and JWK set requests into rec until deadline.
func (c *Client) probe(ctx context.Context, rec *Recorder, cfg StuffingConfig, tokenStep, jwksStep string, deadline time.Time) {
	stop := make(chan struct{})
	timer := time.AfterFunc(time.Until(deadline), func() { close(stop) })
	defer timer.Stop()
	c.probeUntil(ctx, rec, cfg, tokenStep, jwksStep, stop)
}

func (c *Client) probeUntil(ctx context.Context, rec *Recorder, cfg StuffingConfig, tokenStep, jwksStep string, stop <-chan struct{}) {
	for ctx.Err() == nil {
		select {
		case <-stop:
			return
		default:
		}
		t := time.Now()
		if _, err := c.ClientCredentials(ctx, cfg.Scope, nil); err != nil {
			rec.fail(relabel(err, tokenStep))
		} else {
			rec.Observe(tokenStep, time.Since(t))
		}
		t = time.Now()
		if err := c.fetchJWKS(ctx); err != nil {
			rec.fail(relabel(err, jwksStep))
		} else {
			rec.Observe(jwksStep, time.Since(t))
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(cfg.ProbeEvery):
		}
	}
}

// relabel gives a StepError the step of the probe that failed.
func relabel(err error, step string) error {
	var se *StepError
	if errors.As(err, &se) {
		return &StepError{Step: step, Kind: se.Kind, Err: se.Err}
	}
	return stepErr(step, err)
}

// fetchJWKS reads the tenant's JWK set, as a relying party does.
func (c *Client) fetchJWKS(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.jwksURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.app.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return failf("jwks", fmt.Sprintf("HTTP %d", resp.StatusCode), "GET %s", c.jwksURL)
	}
	return nil
}
