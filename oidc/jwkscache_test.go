package oidc

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/storetest"
)

// TestOP7PublishDelayOutlastsJWKSCache: for every refresh interval a node
// may use, a new key is published for longer than the JWK set's cache
// lifetime plus a refresh interval before it signs, and never so long
// that a token of the retired key outlives the key's place in the set.
func TestOP7PublishDelayOutlastsJWKSCache(t *testing.T) {
	for _, refresh := range []time.Duration{time.Second, 5 * time.Second, DefaultRefreshInterval, 30 * time.Second, time.Minute, 10 * time.Minute} {
		k := NewKeys(nil, nil, nil)
		k.SetRefreshInterval(refresh)
		interval, maxAge, delay := k.refreshInterval(), k.JWKSMaxAge(), k.publishDelay()
		if interval > refresh || interval <= 0 {
			t.Errorf("SetRefreshInterval(%v) gave %v", refresh, interval)
		}
		if delay <= maxAge+interval {
			t.Errorf("refresh %v: publish delay %v, want more than the JWKS max-age %v plus the refresh interval", interval, delay, maxAge)
		}
		if maxAge <= 0 {
			t.Errorf("refresh %v: JWKS max-age %v, want the set cacheable", interval, maxAge)
		}
		if delay+AccessTokenLifetime+Leeway > RetainRetired {
			t.Errorf("refresh %v: publish delay %v lets the old key sign tokens that outlive its %v in the JWKS", interval, delay, RetainRetired)
		}
	}
	if k := NewKeys(nil, nil, nil); k.JWKSMaxAge() != JWKSCacheLifetime {
		t.Errorf("default JWKS max-age %v, want %v", k.JWKSMaxAge(), JWKSCacheLifetime)
	}
	k := NewKeys(nil, nil, nil)
	k.SetRefreshInterval(0)
	if k.JWKSMaxAge() != 0 || k.publishDelay() != 0 {
		t.Errorf("refresh 0 (every use reads the store): JWKS max-age %v and publish delay %v, want 0 and 0", k.JWKSMaxAge(), k.publishDelay())
	}
}

func TestOP7CachedJWKSVerifiesEveryToken(t *testing.T) {
	forEachEngine(t, testOP7CachedJWKSVerifiesEveryToken)
}

// testOP7CachedJWKSVerifiesEveryToken plays the worst case out on two
// nodes: node 2 read the keys just before node 1 rotates them, and a
// relying party fetches the JWK set from node 2 at the last instant before
// node 2 reads the store again, then keeps it for the response's max-age
// and never fetches it again. Every token either node signs meanwhile has
// a key of that cached set.
func testOP7CachedJWKSVerifiesEveryToken(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	node2 := NewKeys(f.store, f.vault, f.clock.Now)
	f.clock.Add(10 * time.Minute) // the tenant's keys have signed for a while
	jwksKIDs(t, node2, tenantA)   // node 2 reads the store now
	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(DefaultRefreshInterval - time.Second)
	cached := jwksKIDs(t, node2, tenantA)
	if len(cached) != 2 {
		t.Fatalf("node 2's JWKS before it reads the store again = %v, want the 2 keys from before the rotation", cached)
	}
	cachedUntil := f.clock.Now().Add(node2.JWKSMaxAge())
	newKeySigned := false
	for ; !f.clock.Now().After(cachedUntil.Add(2 * DefaultRefreshInterval)); f.clock.Add(time.Second) {
		for node, k := range map[string]*Keys{"node 1": f.keys, "node 2": node2} {
			kid := kidOf(t, f.sign(t, k, tenantA, RS256, AccessTokenType, f.claims()))
			inCache := slices.Contains(cached, kid)
			if !f.clock.Now().After(cachedUntil) && !inCache {
				t.Fatalf("%s signed with %s while the relying party's cached JWKS %v had %v of its max-age %v left: the cached set lacks the key",
					node, kid, cached, cachedUntil.Sub(f.clock.Now()), node2.JWKSMaxAge())
			}
			newKeySigned = newKeySigned || !inCache
		}
	}
	if !newKeySigned {
		t.Errorf("the new keys never signed within two refresh intervals after the cached JWKS expired")
	}
}
