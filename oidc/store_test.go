package oidc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// forEachEngine runs test on SQLite and on PostgreSQL (which skips unless
// storetest.DatabaseURLEnv is set).
func forEachEngine(t *testing.T, test func(t *testing.T, e storetest.Engine)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { test(t, e) })
	}
}

// newTestStore returns a new store of the engine whose CreatedAt times
// come from now, holding tenants with the IDs.
func newTestStore(t *testing.T, e storetest.Engine, now func() time.Time, tenantIDs ...string) gatehouse.Store {
	t.Helper()
	s := e.Open(t)
	s.Now = now
	err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		for i, id := range tenantIDs {
			tn := &gatehouse.Tenant{ID: id, Name: fmt.Sprintf("tenant-%d", i+1), DisplayName: fmt.Sprintf("Tenant %d", i+1)}
			if err := tx.CreateTenant(t.Context(), tn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countingStore counts SigningKeys calls and can be made to fail.
type countingStore struct {
	KeyStore
	reads atomic.Int64
	fail  atomic.Bool
}

var errStoreDown = errors.New("store is down")

func (s *countingStore) SigningKeys(ctx context.Context, tenantID string) ([]*gatehouse.SigningKey, error) {
	s.reads.Add(1)
	if s.fail.Load() {
		return nil, errStoreDown
	}
	return s.KeyStore.SigningKeys(ctx, tenantID)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tenantSet returns the tenant's cached key set.
func (k *Keys) tenantSet(tenantID string) *keySet {
	return k.tenant(tenantID).set.Load()
}
