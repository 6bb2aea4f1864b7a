package web

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The token endpoint's reads are cached per node for a moment. A client
// credentials grant needs the tenant and the application, two database
// reads that cost as much as the ES256 signature itself; at thousands of
// tokens a second they are the same rows over and over. The hosted pages
// and the authorization endpoint take the tenant and the application's
// user flow from the same cache: a sign-in read each three times, once per
// request of the browser, a twelfth of its work besides the hash.
//
// What a cached row may make wrong is bounded by cacheTTL: on the node
// that committed a change to an application or a tenant, the cache
// forgets everything at once (the store is wrapped, below, to notice);
// every other node reads the rows again at most cacheTTL after it cached
// them. So a changed user flow or branding shows on the pages of every
// node within cacheTTL, and at once on the node where it was changed; a
// deleted application, a removed client secret or a revoked
// permission stops counting at the token endpoint within cacheTTL on every
// node, and at once on the node where it was changed; and the admin API,
// which loads its caller from the store on every request, never counts a
// token of a deleted application or a revoked permission at all. Unknown
// tenants and clients are not cached, so guesses cannot fill the cache.
const cacheTTL = time.Second

// maxCachedClients bounds the cached applications; past it, expired ones
// are dropped, and if none has expired, all of them.
const maxCachedClients = 10000

// readCache holds the tenants and applications the token endpoint read.
type readCache struct {
	now func() time.Time
	// gen counts the committed writes of tenants and applications on this
	// node; an entry read under an older generation is stale.
	gen atomic.Uint64
	// policyGen counts the committed writes of Conditional Access
	// policies and named locations on this node (policySet).
	policyGen atomic.Uint64
	tenants   sync.Map // tenant name -> *cachedTenant
	clients   sync.Map // clientKey -> *cachedClient
	count     atomic.Int64
	sweep     sync.Mutex
	// flows holds the user flows of the pages (clientKey -> *cachedFlow),
	// at most maxCachedClients: past that it is emptied.
	flows     sync.Map
	flowCount atomic.Int64
	// pages says whether the pages use the cache (pageCache).
	pages bool
}

type cachedFlow struct {
	f      *gatehouse.UserFlow
	gen    uint64
	expiry time.Time
}

// pageCache is whether the hosted pages and the authorization endpoint
// read the tenant and the user flow through the cache; the tests of
// package web_test, which also change them in the store directly, turn it
// off (export_test.go).
var pageCache = true

type cachedTenant struct {
	t      *gatehouse.Tenant
	gen    uint64
	expiry time.Time
}

type clientKey struct{ tenantID, appID string }

// cachedClient is an application as the token endpoint uses it: never
// changed once cached, with the names of its permissions worked out once.
type cachedClient struct {
	app    *gatehouse.Application
	roles  []string
	gen    uint64
	expiry time.Time
}

func newReadCache(now func() time.Time) *readCache { return &readCache{now: now, pages: pageCache} }

// changed makes every entry stale: called after a transaction that wrote a
// tenant or an application has committed.
func (c *readCache) changed() { c.gen.Add(1) }

func (c *readCache) fresh(gen uint64, expiry time.Time) bool {
	return gen == c.gen.Load() && c.now().Before(expiry)
}

// tenantByName returns the tenant named name from the cache or the store.
func (c *readCache) tenantByName(ctx context.Context, rd gatehouse.Reader, name string) (*gatehouse.Tenant, error) {
	if e, ok := c.tenants.Load(name); ok {
		if e := e.(*cachedTenant); c.fresh(e.gen, e.expiry) {
			return e.t, nil
		}
	}
	gen := c.gen.Load() // before the read: a write committed during it makes the entry stale
	t, err := rd.TenantByName(ctx, name)
	if err != nil {
		return nil, err
	}
	c.tenants.Store(name, &cachedTenant{t: t, gen: gen, expiry: c.now().Add(cacheTTL)})
	return t, nil
}

// pageTenant is tenantByName for the pages: from the cache unless the
// pages do not use it.
func (c *readCache) pageTenant(ctx context.Context, rd gatehouse.Reader, name string) (*gatehouse.Tenant, error) {
	if !c.pages {
		return rd.TenantByName(ctx, name)
	}
	return c.tenantByName(ctx, rd, name)
}

// userFlowByAppID returns the user flow of the tenant's application with
// the client ID, from the cache (unless the pages do not use it) or the
// store. The flow must not be changed. An application in no flow is not
// cached.
func (c *readCache) userFlowByAppID(ctx context.Context, rd gatehouse.Reader, tenantID, appID string) (*gatehouse.UserFlow, error) {
	if !c.pages {
		return rd.UserFlowByAppID(ctx, tenantID, appID)
	}
	key := clientKey{tenantID, appID}
	if e, ok := c.flows.Load(key); ok {
		if e := e.(*cachedFlow); c.fresh(e.gen, e.expiry) {
			return e.f, nil
		}
	}
	gen := c.gen.Load()
	f, err := rd.UserFlowByAppID(ctx, tenantID, appID)
	if err != nil {
		return nil, err
	}
	if _, loaded := c.flows.Swap(key, &cachedFlow{f: f, gen: gen, expiry: c.now().Add(cacheTTL)}); !loaded && c.flowCount.Add(1) > maxCachedClients {
		c.flows.Clear()
		c.flowCount.Store(0)
	}
	return f, nil
}

// client returns the tenant's application with the client ID from the
// cache or the store. The application must not be changed.
func (c *readCache) client(ctx context.Context, rd gatehouse.Reader, tenantID, appID string) (*cachedClient, error) {
	key := clientKey{tenantID, appID}
	if e, ok := c.clients.Load(key); ok {
		if e := e.(*cachedClient); c.fresh(e.gen, e.expiry) {
			return e, nil
		}
	}
	gen := c.gen.Load()
	app, err := rd.ApplicationByAppID(ctx, tenantID, appID)
	if err != nil {
		return nil, err
	}
	e := &cachedClient{app: app, roles: app.PermissionValues(), gen: gen, expiry: c.now().Add(cacheTTL)}
	if _, loaded := c.clients.Swap(key, e); !loaded && c.count.Add(1) > maxCachedClients {
		c.trim()
	}
	return e, nil
}

// trim drops the expired or stale applications, or all of them if none is.
func (c *readCache) trim() {
	if !c.sweep.TryLock() {
		return
	}
	defer c.sweep.Unlock()
	drop := func(keep func(*cachedClient) bool) {
		c.clients.Range(func(k, v any) bool {
			if !keep(v.(*cachedClient)) && c.clients.CompareAndDelete(k, v) {
				c.count.Add(-1)
			}
			return true
		})
	}
	drop(func(e *cachedClient) bool { return c.fresh(e.gen, e.expiry) })
	if c.count.Load() > maxCachedClients {
		drop(func(*cachedClient) bool { return false })
	}
}

// watchedStore is the server's store: Update notes whether the transaction
// wrote a tenant, an application or a user flow, and if so, once it has committed,
// makes the read cache forget what it holds.
type watchedStore struct {
	gatehouse.Store
	cache *readCache
}

func (s watchedStore) Update(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	var wrote, policies atomic.Bool
	err := s.Store.Update(ctx, func(tx gatehouse.Tx) error { return fn(watchedTx{tx, &wrote, &policies}) })
	if wrote.Load() {
		s.cache.changed()
	}
	if policies.Load() {
		s.cache.policyGen.Add(1)
	}
	return err
}

// watchedTx is a transaction that notes writes of tenants, applications
// and user flows (wrote), and of Conditional Access policies and named
// locations (policies).
type watchedTx struct {
	gatehouse.Tx
	wrote, policies *atomic.Bool
}

func (tx watchedTx) UpdateTenant(ctx context.Context, id string, fn func(*gatehouse.Tenant) error) (*gatehouse.Tenant, error) {
	tx.wrote.Store(true)
	return tx.Tx.UpdateTenant(ctx, id, fn)
}

func (tx watchedTx) UpdateApplication(ctx context.Context, tenantID, id string, fn func(*gatehouse.Application) error) (*gatehouse.Application, error) {
	tx.wrote.Store(true)
	return tx.Tx.UpdateApplication(ctx, tenantID, id, fn)
}

func (tx watchedTx) DeleteApplication(ctx context.Context, tenantID, id string) error {
	tx.wrote.Store(true)
	return tx.Tx.DeleteApplication(ctx, tenantID, id)
}

func (tx watchedTx) CreateUserFlow(ctx context.Context, f *gatehouse.UserFlow) error {
	tx.wrote.Store(true)
	return tx.Tx.CreateUserFlow(ctx, f)
}

func (tx watchedTx) UpdateUserFlow(ctx context.Context, tenantID, id string, fn func(*gatehouse.UserFlow) error) (*gatehouse.UserFlow, error) {
	tx.wrote.Store(true)
	return tx.Tx.UpdateUserFlow(ctx, tenantID, id, fn)
}

func (tx watchedTx) DeleteUserFlow(ctx context.Context, tenantID, id string) error {
	tx.wrote.Store(true)
	return tx.Tx.DeleteUserFlow(ctx, tenantID, id)
}

func (tx watchedTx) CreatePolicy(ctx context.Context, p *gatehouse.Policy) error {
	tx.policies.Store(true)
	return tx.Tx.CreatePolicy(ctx, p)
}

func (tx watchedTx) UpdatePolicy(ctx context.Context, tenantID, id string, fn func(*gatehouse.Policy) error) (*gatehouse.Policy, error) {
	tx.policies.Store(true)
	return tx.Tx.UpdatePolicy(ctx, tenantID, id, fn)
}

func (tx watchedTx) DeletePolicy(ctx context.Context, tenantID, id string) error {
	tx.policies.Store(true)
	return tx.Tx.DeletePolicy(ctx, tenantID, id)
}

func (tx watchedTx) CreateNamedLocation(ctx context.Context, l *gatehouse.NamedLocation) error {
	tx.policies.Store(true)
	return tx.Tx.CreateNamedLocation(ctx, l)
}

func (tx watchedTx) UpdateNamedLocation(ctx context.Context, tenantID, id string, fn func(*gatehouse.NamedLocation) error) (*gatehouse.NamedLocation, error) {
	tx.policies.Store(true)
	return tx.Tx.UpdateNamedLocation(ctx, tenantID, id, fn)
}

func (tx watchedTx) DeleteNamedLocation(ctx context.Context, tenantID, id string) error {
	tx.policies.Store(true)
	return tx.Tx.DeleteNamedLocation(ctx, tenantID, id)
}
