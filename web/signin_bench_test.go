package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/notify"
	"github.com/gatehouse/gatehouse/notify/smtptest"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/crypto/argon2"
)

// The sign-in benchmarks run complete sign-ins over HTTP (the load
// package's client: PKCE, the hosted form, the code exchange, the ID
// token's verification) next to raw argon2id hashing in the same run, so
// that the ratio sign-ins/s ÷ hashes/s is what to quote; and they measure
// the token and JWKS endpoints with the password hash pool saturated
// (PW-12, LD-7). docs/benchmarks.md has the figures.
//
//	go test -run xxx -bench 'SignIn|Argon2idRaw|UnderHashLoad' -benchtime=200x -count=3 ./web/

const benchPassword = "correct horse battery staple"

// signInBench is a tenant ready for sign-ins: users users with
// benchPassword, an application connected to an email-and-password user
// flow, and a load client for it. Its server's hasher is opts' or the
// tests' one.
type signInBench struct {
	e      *testEnv
	acme   *provision.Result
	client *load.Client
	prefix string
}

func newSignInBench(b *testing.B, users int, opts ...func(*web.Options)) *signInBench {
	b.Helper()
	return newSignInBenchApp(b, users, nil, opts...)
}

// newSignInBenchApp is newSignInBench with the relying party's
// application registered with the Graph members of app besides its own.
func newSignInBenchApp(b *testing.B, users int, app map[string]any, opts ...func(*web.Options)) *signInBench {
	b.Helper()
	store, err := sqlstore.OpenSQLite(context.Background(), b.TempDir()+"/gatehouse.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, store, newKey(b), opts...)
	acme := e.createTenant("acme")
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	shop := e.newRP("acme", tok, "Shop", app)
	e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, false, shop.cfg.ClientID)
	const prefix = "bench"
	for i := 1; i <= users; i++ {
		e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": load.UserMail(prefix, i), "passwordProfile": map[string]any{"password": benchPassword}})
	}
	c, err := load.New(context.Background(), load.Config{Issuer: acme.Issuer, ClientID: shop.cfg.ClientID, ClientSecret: shop.cfg.ClientSecret, RedirectURI: rpRedirect})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	if !c.SpreadsSources() && runtime.GOOS == "linux" {
		b.Fatal("the load client does not spread its browsers over loopback addresses; the limit per address would refuse sign-ins")
	}
	return &signInBench{e: e, acme: acme, client: c, prefix: prefix}
}

// BenchmarkSignIn measures complete sign-ins end to end over HTTP on
// SQLite, in parallel: 4 goroutines per core, each signing in a user of its
// own (per-account throttling counts attempts in flight).
func BenchmarkSignIn(b *testing.B) {
	const perCore = 4
	workers := perCore * runtime.GOMAXPROCS(0)
	s := newSignInBench(b, workers)
	var next atomic.Int64
	b.SetParallelism(perCore)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mail := load.UserMail(s.prefix, int(next.Add(1)))
		for pb.Next() {
			if _, err := s.client.SignIn(context.Background(), mail, benchPassword, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// BenchmarkArgon2idRaw is the ceiling of BenchmarkSignIn: argon2id with
// the production parameters, called directly, one goroutine per core.
func BenchmarkArgon2idRaw(b *testing.B) {
	p := password.DefaultParams
	salt := make([]byte, 16)
	b.RunParallel(func(pb *testing.PB) {
		pw := []byte(benchPassword)
		for pb.Next() {
			argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, 32)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkTokenAndJWKSUnderHashLoad measures the latency of the token
// endpoint (client credentials), of JWKS and of the discovery document,
// b.N requests of each one after the other, first on an idle server and then while credential
// stuffing keeps its password hash pool full (PW-12): more guessers than
// the pool's workers and queue (as gatehouse serve sizes them), each
// posting wrong passwords for unknown addresses from addresses of its own,
// so that every guess costs a hash or, with the pool full, a 503. A guesser
// refused with 503 waits stuffPause before its next guess, so that the
// refusals do not turn into a flood of their own. It reports p50 and p99
// of both phases, and the guesses answered in the loaded phase.
//
// It runs with as many hash workers as cores and, on more than one core,
// with one core left to the rest of the server (gatehouse serve's
// default), both in this process; and with as many worker processes as
// cores (password.NewProcessHasher, serve --hash-processes).
func BenchmarkTokenAndJWKSUnderHashLoad(b *testing.B) {
	const queue = 64 // cmd/gatehouse serve's hashQueue
	procs := runtime.GOMAXPROCS(0)
	b.Run(fmt.Sprintf("workers=%d", procs), func(b *testing.B) {
		benchUnderHashLoad(b, procs, password.NewHasher(password.DefaultParams, procs, queue))
	})
	if procs > 1 {
		b.Run(fmt.Sprintf("workers=%d", procs-1), func(b *testing.B) {
			benchUnderHashLoad(b, procs-1, password.NewHasher(password.DefaultParams, procs-1, queue))
		})
	}
	b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) {
		benchUnderHashLoad(b, procs, password.NewProcessHasher(password.DefaultParams, queue, hashWorkers(b, procs)))
	})
}

func benchUnderHashLoad(b *testing.B, workers int, hasher *password.Hasher) {
	const (
		queue      = 64 // cmd/gatehouse serve's hashQueue
		stuffPause = 50 * time.Millisecond
	)
	defer serveGC()()
	s := newSignInBench(b, 1, func(o *web.Options) { o.Passwords = hasher })
	tokenURL := s.e.url + "/acme/oauth2/v2.0/token"
	jwksURL := s.e.url + "/acme/discovery/v2.0/keys"
	discoveryURL := s.acme.Issuer + "/.well-known/openid-configuration"
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {s.acme.AutomationClient.Scope}}.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(req *http.Request) time.Duration {
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
		}
		return time.Since(start)
	}
	measure := func(n int) (token, jwks, disco []time.Duration) {
		for range n {
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(s.acme.AutomationClient.ClientID, s.acme.AutomationClient.ClientSecret)
			token = append(token, do(req))
			req, _ = http.NewRequest("GET", jwksURL, nil)
			jwks = append(jwks, do(req))
			req, _ = http.NewRequest("GET", discoveryURL, nil)
			disco = append(disco, do(req))
		}
		return token, jwks, disco
	}
	b.ResetTimer()

	measure(10) // warm the connections and the key cache
	idleToken, idleJWKS, idleDisco := measure(b.N)

	// Saturate the pool.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg                sync.WaitGroup
		hashed, busy, odd atomic.Int64
		seq               atomic.Int64
	)
	stuffers := workers + queue + 4*workers
	for range stuffers {
		g, err := s.client.NewGuesser(ctx)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer g.Close()
			for ctx.Err() == nil {
				status, err := g.Try(ctx, fmt.Sprintf("stuffed%d@example.com", seq.Add(1)), "wrong password")
				switch {
				case err != nil && ctx.Err() != nil:
				case status == http.StatusBadRequest:
					hashed.Add(1)
				case status == http.StatusServiceUnavailable:
					busy.Add(1)
					// Pace the guessers as a real stuffing client backing
					// off would; the benchmark measures, it never waits on
					// this for a result.
					time.Sleep(stuffPause)
				default:
					odd.Add(1)
					time.Sleep(stuffPause)
				}
			}
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		running, waiting := hasher.Stats()
		if running == workers && waiting >= queue-workers && busy.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			b.Fatalf("the hash pool did not fill in 30 s: %d running, %d waiting, %d refused", running, waiting, busy.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	hashed.Store(0)
	busy.Store(0)
	start := time.Now()
	var queued, samples int
	loadedToken, loadedJWKS, loadedDisco := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	for range b.N {
		_, waiting := hasher.Stats()
		queued += waiting
		samples++
		t, j, d := measure(1)
		loadedToken, loadedJWKS, loadedDisco = append(loadedToken, t...), append(loadedJWKS, j...), append(loadedDisco, d...)
	}
	loaded := time.Since(start)
	cancel()
	wg.Wait()
	if odd.Load() > 0 {
		b.Errorf("%d guesses were answered with neither 400 nor 503: throttling, not the hash pool, refused them", odd.Load())
	}

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(pct(idleToken, 0.50)), "token-p50-idle-ms")
	b.ReportMetric(ms(pct(idleToken, 0.99)), "token-p99-idle-ms")
	b.ReportMetric(ms(pct(loadedToken, 0.50)), "token-p50-loaded-ms")
	b.ReportMetric(ms(pct(loadedToken, 0.99)), "token-p99-loaded-ms")
	b.ReportMetric(ms(pct(idleJWKS, 0.50)), "jwks-p50-idle-ms")
	b.ReportMetric(ms(pct(idleJWKS, 0.99)), "jwks-p99-idle-ms")
	b.ReportMetric(ms(pct(loadedJWKS, 0.50)), "jwks-p50-loaded-ms")
	b.ReportMetric(ms(pct(loadedJWKS, 0.99)), "jwks-p99-loaded-ms")
	b.ReportMetric(ms(pct(idleDisco, 0.99)), "discovery-p99-idle-ms")
	b.ReportMetric(ms(pct(loadedDisco, 0.99)), "discovery-p99-loaded-ms")
	b.ReportMetric(float64(hashed.Load())/loaded.Seconds(), "guesses-hashed/s")
	b.ReportMetric(float64(busy.Load())/loaded.Seconds(), "guesses-503/s")
	b.ReportMetric(float64(queued)/float64(samples), "hash-queue-mean")
}

// pct returns the nearest-rank p-quantile of d (sorted in place).
func pct(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	i := int(float64(len(d))*p+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// BenchmarkSignInEmailOTP measures complete sign-ins with a second factor
// by email (the "with email OTP", LD-2): the relying party asks
// for multifactor authentication (acr_values=2), so each sign-in is the
// password (one argon2id hash), the email code sent through a real SMTP
// exchange to an in-process server and read back from it, and the code
// exchange. Run it beside BenchmarkArgon2idRaw and quote the ratio.
func BenchmarkSignInEmailOTP(b *testing.B) {
	const perCore = 4
	workers := perCore * runtime.GOMAXPROCS(0)
	mail := smtptest.Start(b)
	sender, err := notify.NewSMTP(notify.SMTPConfig{URL: mail.URL(), From: "Acme <no-reply@acme.example>"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// A user per sign-in: the email code limits (10 an hour per address,
	// RL-6) would refuse more.
	s := newSignInBench(b, max(workers, b.N), func(o *web.Options) { o.Mail = sender })
	tok := s.e.token(s.e.url+"/acme/oauth2/v2.0/token", s.acme.AutomationClient.ClientID, s.acme.AutomationClient.ClientSecret, s.acme.AutomationClient.Scope)
	s.e.must(204, "PATCH", s.acme.AdminAPI+"/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Email", tok, map[string]any{"state": "enabled"})
	opts := load.SignInOptions{ACRValues: "2", EmailCode: func(_ context.Context, to string) (string, error) { return mail.CodeFor(b, to), nil }}
	var next atomic.Int64
	b.SetParallelism(perCore)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			user := load.UserMail(s.prefix, int(next.Add(1)))
			if _, err := s.client.SignInWith(context.Background(), user, benchPassword, opts, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}
