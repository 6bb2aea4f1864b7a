package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2"
)

// countingStore counts the write transactions run through it.
type countingStore struct {
	gatehouse.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// signInCosts signs a user in with the load client (the authorization
// request with PKCE, the hosted page, the password, the code exchange, the
// ID token checked) and returns the write transactions and argon2id runs
// of the server for it, counting from after a first sign-in.
func signInCosts(t *testing.T, store *sqlstore.Store, opts load.SignInOptions, mfa func(e *testEnv, acme *provision.Result, tok string)) (updates, hashes int64) {
	t.Helper()
	counted := &countingStore{Store: store}
	hasher := password.NewHasher(password.DefaultParams, 1, 8)
	e := newEnv(t, store, newKey(t), func(o *web.Options) { o.Store, o.Passwords = counted, hasher })
	e.hasher = hasher
	acme := e.createTenant("acme")
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	shop := e.newRP("acme", tok, "Shop", nil)
	e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, false, shop.cfg.ClientID)
	if mfa != nil {
		mfa(e, acme, tok)
	}
	e.must(201, "POST", acme.AdminAPI+"/users", tok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": benchPassword}})
	c, err := load.New(context.Background(), load.Config{Issuer: acme.Issuer, ClientID: shop.cfg.ClientID, ClientSecret: shop.cfg.ClientSecret, RedirectURI: rpRedirect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for i := range 3 {
		u0, h0 := counted.updates.Load(), hasher.Computed()
		if _, err := c.SignInWith(context.Background(), "ada@example.com", benchPassword, opts, nil); err != nil {
			t.Fatalf("sign-in %d: %v", i+1, err)
		}
		updates, hashes = counted.updates.Load()-u0, int64(hasher.Computed()-h0)
	}
	return updates, hashes
}

// TestSignInCosts holds a password sign-in to what it must cost (issue 9,
// item 2): exactly one argon2id run, and four write transactions: the
// authorization request with its count per client address; the attempt,
// counted before the hash so that concurrent guesses cannot pass the delay
// (RL-1, RL-2); the outcome (counters cleared, session, grant, code and
// sign-in log in one); the code's redemption.
func TestSignInCosts(t *testing.T) {
	const wantUpdates = 4
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			updates, hashes := signInCosts(t, eng.Open(t), load.SignInOptions{}, nil)
			if hashes != 1 {
				t.Errorf("a password sign-in ran argon2id %d times, want 1", hashes)
			}
			if updates != wantUpdates {
				t.Errorf("a password sign-in ran %d write transactions, want %d", updates, wantUpdates)
			}
		})
	}
}

// TestAuthorizeRequestsPerAddress: the authorization requests one client
// address may start in five minutes are bounded (each is stored for a
// while); past the bound the browser gets a 429 page instead of the
// sign-in page. The count and the request are one transaction, and the
// bound holds exactly under concurrent requests.
func TestAuthorizeRequestsPerAddress(t *testing.T) {
	const bound = 600 // authRequestsPerIP
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng.Open(t), newKey(t))
			acme := e.createTenant("acme")
			tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
			shop := e.newRP("acme", tok, "Shop", nil)
			e.createFlow(acme.TenantID, gatehouse.IdentityProviderEmailPassword, false, shop.cfg.ClientID)
			authURL := shop.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func() *http.Response {
				t.Helper()
				resp, err := client.Get(authURL)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}
			var (
				wg      sync.WaitGroup
				next    atomic.Int64
				started atomic.Int64
				refused atomic.Int64
			)
			// One address (127.0.0.1), four at a time, 20 past the bound.
			for range 4 {
				wg.Go(func() {
					for next.Add(1) <= bound+20 {
						switch resp := get(); {
						case resp.StatusCode == http.StatusSeeOther && strings.Contains(resp.Header.Get("Location"), "/login?tx="):
							started.Add(1)
						case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "60":
							refused.Add(1)
						default:
							t.Errorf("authorization request: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
						}
					}
				})
			}
			wg.Wait()
			if started.Load() != bound || refused.Load() != 20 {
				t.Errorf("%d requests started and %d refused, want %d and 20", started.Load(), refused.Load(), bound)
			}
		})
	}
}
