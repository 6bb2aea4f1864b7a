package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/web"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// keyRefresh is how often the nodes of FT-5 re-read their keys: short,
// so that a rotation's publish delay (the JWKS max-age of six refreshes
// plus two refreshes: 4 s) passes within the test.
const keyRefresh = 500 * time.Millisecond

// tokenAlgs are the algorithms a tenant may sign access tokens with (ES256
// by default, RS256 or EdDSA by choice).
var tokenAlgs = []string{"RS256", "ES256", "EdDSA"}

// TestFT5KeyRotationUnderLoad: while clients get access tokens from two
// nodes and verify them against the JWK set of either, and users sign in
// (their ID tokens verified with go-oidc), another node rotates the
// tenant's signing keys twice. Every token verifies, both with go-oidc's
// key set (which fetches the set again for an unknown kid) and with a
// strict cache that keeps a set for exactly its max-age and never fetches
// it sooner; and tokens of all three keys were seen.
func TestFT5KeyRotationUnderLoad(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { testKeyRotation(t, e) })
	}
}

func testKeyRotation(t *testing.T, e storetest.Engine) {
	c := newCluster(t, e.Open(t))
	refresh := func(o *web.Options) { o.Keys.SetRefreshInterval(keyRefresh) }
	a := c.startInNode(t, "", refresh)
	b := c.startInNode(t, a.url, refresh) // the same public URL: a second node
	rotator := c.startInNode(t, a.url, refresh)
	acme := c.createTenant(t, a, a.url)
	setup, app := setUp(t, acme, 2)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var (
		mu       sync.Mutex
		kids     = map[string]int{} // tokens verified per kid
		failures []string
		verified atomic.Int64
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	nodes := []*inNode{a, b}
	for w := range 4 {
		wg.Go(func() {
			// Each client has both relying parties' views of the keys, the
			// JWK set of the other node than the one it gets tokens from.
			from, keysOf := nodes[w%2], nodes[(w+1)%2]
			jwks := keysOf.url + "/acme/discovery/v2.0/keys"
			httpc := &http.Client{Timeout: 10 * time.Second}
			octx := oidc.ClientContext(ctx, httpc)
			lenient := oidc.NewVerifier(acme.Issuer, oidc.NewRemoteKeySet(octx, jwks), &oidc.Config{ClientID: acme.AdminAPI, SupportedSigningAlgs: tokenAlgs})
			strict := &cachedKeys{url: jwks, client: httpc}
			cc := clientcredentials.Config{ClientID: acme.AutomationClient.ClientID, ClientSecret: acme.AutomationClient.ClientSecret,
				TokenURL: from.url + "/acme/oauth2/v2.0/token", Scopes: []string{acme.AutomationClient.Scope}, AuthStyle: oauth2.AuthStyleInHeader}
			for ctx.Err() == nil {
				tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, httpc))
				if ctx.Err() != nil {
					return
				} else if err != nil {
					fail("token: %v", err)
					continue
				}
				if _, err := lenient.Verify(octx, tok.AccessToken); err != nil && ctx.Err() == nil {
					fail("go-oidc: %v", err)
					continue
				}
				kid, err := strict.verify(ctx, tok.AccessToken)
				if err != nil && ctx.Err() == nil {
					fail("cached JWK set: %v", err)
					continue
				}
				verified.Add(1)
				mu.Lock()
				kids[kid]++
				mu.Unlock()
			}
		})
	}
	var signIns *load.Report
	wg.Go(func() {
		signIns = load.Run(ctx, "signin", load.Options{Concurrency: 2, Duration: time.Minute, Grace: time.Second},
			load.SignIns(app, load.Accounts{Prefix: setup.UserPrefix, N: setup.Users, Password: setup.Password}, 2))
	})

	signing := func() int { // keys that have signed a verified token
		mu.Lock()
		defer mu.Unlock()
		return len(kids)
	}
	waitFor(t, 30*time.Second, "tokens before the rotations", func() bool { return verified.Load() >= 20 })
	for i := range 2 {
		if err := rotator.keys.Rotate(ctx, acme.TenantID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, fmt.Sprintf("tokens signed by the key of rotation %d", i+1), func() bool { return signing() == i+2 })
	}
	// A while more with the newest key only.
	last := verified.Load()
	waitFor(t, 30*time.Second, "tokens after the rotations", func() bool { return verified.Load() >= last+20 })
	cancel()
	wg.Wait()

	t.Logf("%d access tokens verified, by kid %v; %d sign-ins", verified.Load(), kids, signIns.Completed)
	for _, f := range failures {
		t.Errorf("validation failure: %s", f)
	}
	if signIns.Failed != 0 || signIns.Completed == 0 {
		t.Errorf("sign-ins during the rotations: %d completed, %d failed: %v", signIns.Completed, signIns.Failed, signIns.ErrorExamples)
	}
}

// cachedKeys is a relying party's strict cache of a JWK set: it keeps the
// set it fetched for the max-age of the response, and never fetches it
// again sooner, not even for a kid it does not know.
type cachedKeys struct {
	url    string
	client *http.Client
	set    *jose.JSONWebKeySet
	until  time.Time
}

var maxAgeRE = regexp.MustCompile(`max-age=(\d+)`)

// verify checks the signature of the JWS raw with the cached set, and
// returns its kid.
func (k *cachedKeys) verify(ctx context.Context, raw string) (string, error) {
	if k.set == nil || !time.Now().Before(k.until) {
		fetched := time.Now()
		req, err := http.NewRequestWithContext(ctx, "GET", k.url, nil)
		if err != nil {
			return "", err
		}
		resp, err := k.client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			return "", err
		}
		m := maxAgeRE.FindStringSubmatch(resp.Header.Get("Cache-Control"))
		if m == nil {
			return "", fmt.Errorf("the JWK set has no max-age: %q", resp.Header.Get("Cache-Control"))
		}
		age, _ := strconv.Atoi(m[1])
		k.set, k.until = &set, fetched.Add(time.Duration(age)*time.Second)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return "", err
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := k.set.Key(kid)
	if len(keys) == 0 {
		return kid, fmt.Errorf("kid %s is not in the JWK set cached for %v more", kid, time.Until(k.until).Round(time.Millisecond))
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		return kid, err
	}
	return kid, nil
}
