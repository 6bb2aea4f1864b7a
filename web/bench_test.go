package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/web"
)

// The token endpoint benchmarks run end to end over HTTP (loopback, keep-
// alive) against the raw signing of the same token in the same run, so the
// ratio between them is what to quote: docs/benchmarks.md.

// reportCPU, deferred right after b.ResetTimer, reports the process's CPU
// time (user and system, all goroutines: client and server alike) per
// operation as cpu-us/op. On a machine shared with other work the rate of
// a benchmark follows the share of the cores it gets; the CPU time per
// operation does not, so the ratio of two benchmarks' cpu-us/op is what
// their ratio of rates would be on cores of their own.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/1e3/float64(b.N), "cpu-us/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchEnv(b *testing.B) (*testEnv, string, string, string, string) {
	store, err := sqlstore.OpenSQLite(context.Background(), b.TempDir()+"/gatehouse.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	// The request log is written as gatehouse serve writes it (text, at
	// INFO), to nowhere.
	e := newEnv(b, store, newKey(b), func(o *web.Options) { o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	acme := e.createTenant("acme")
	return e, e.url + "/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope
}

func BenchmarkTokenEndpoint(b *testing.B) {
	_, tokenURL, id, secret, scope := benchEnv(b)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			// Read the body to its end, or the transport closes the
			// connection instead of reusing it.
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("status %d, %v", resp.StatusCode, err)
			}
		}
	})
}

// BenchmarkTokenEndpointLean is BenchmarkTokenEndpoint with the client of
// 'gatehouse load token' (load.TokenEndpoint), which spends as little of
// the two cores as a load generator can (kept-alive connections, a request
// prepared once), so that what is measured is the server: the figure to
// put beside BenchmarkSignAccessTokenRaw/ES256. 4 connections per core.
func BenchmarkTokenEndpointLean(b *testing.B) {
	_, tokenURL, id, secret, scope := benchEnv(b)
	te, err := load.NewTokenEndpoint(tokenURL, id, secret, scope, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		var conn load.TokenConn
		defer conn.Close()
		for pb.Next() {
			if err := te.Grant(context.Background(), &conn, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSignAccessTokenRaw signs the claims of the token endpoint's
// client credentials token with the tenant's cached key, per algorithm,
// without HTTP: the ceiling of BenchmarkTokenEndpoint (ES256, a new
// tenant's access token algorithm).
func BenchmarkSignAccessTokenRaw(b *testing.B) {
	for _, alg := range gatehouse.SigningAlgorithms {
		b.Run(alg, func(b *testing.B) {
			e, _, id, _, _ := benchEnv(b)
			t, err := e.store.TenantByName(context.Background(), "acme")
			if err != nil {
				b.Fatal(err)
			}
			app, err := e.store.ApplicationByAppID(context.Background(), t.ID, id)
			if err != nil {
				b.Fatal(err)
			}
			issuer, aud := e.url+"/acme/v2.0", e.url+"/acme/graph/v1.0"
			b.ResetTimer()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := oidc.NewAccessToken(issuer, aud, app.ID, id, t.ID, time.Now())
					c.Roles = app.PermissionValues()
					c.IDType = "app"
					if _, err := e.keys.Sign(context.Background(), t.ID, alg, oidc.AccessTokenType, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func benchCreateUsers(b *testing.B, withPassword bool) {
	e, tokenURL, id, secret, scope := benchEnv(b)
	tok := e.token(tokenURL, id, secret, scope)
	api := e.url + "/acme/graph/v1.0/users"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"mail":"user%d@example.com","displayName":"User"}`, n.Add(1))
			if withPassword {
				body = fmt.Sprintf(`{"mail":"user%d@example.com","passwordProfile":{"password":"a long enough password"}}`, n.Add(1))
			}
			req, _ := http.NewRequest("POST", api, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != 201 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			resp.Body.Close()
		}
	})
}

func BenchmarkCreateUser(b *testing.B)             { benchCreateUsers(b, false) }
func BenchmarkCreateUserWithPassword(b *testing.B) { benchCreateUsers(b, true) }
