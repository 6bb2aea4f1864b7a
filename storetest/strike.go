package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// strikes reads a failure record in a transaction of its own.
func strikes(t *testing.T, s gatehouse.Store, tenantID, key string) (int, time.Time) {
	t.Helper()
	var n int
	var last time.Time
	update(t, s, func(tx gatehouse.Tx) error {
		var err error
		n, last, err = tx.Strikes(t.Context(), tenantID, key)
		return err
	})
	return n, last
}

// addStrike adds a failure in a transaction of its own.
func addStrike(t *testing.T, s gatehouse.Store, tenantID, key string, now time.Time) (int, error) {
	var n int
	err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		var err error
		n, err = tx.AddStrike(t.Context(), tenantID, key, now)
		return err
	})
	return n, err
}

func testStrikes(t *testing.T, s gatehouse.Store) {
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	const key = `signin:ada@example.com 'x' "y" ?`

	if n, last := strikes(t, s, tn.ID, key); n != 0 || !last.IsZero() {
		t.Errorf("Strikes of a new key = %d, %v; want 0 and the zero time", n, last)
	}
	for i := 1; i <= 3; i++ {
		n, err := addStrike(t, s, tn.ID, key, oddTime(i))
		if err != nil || n != i {
			t.Fatalf("AddStrike %d = %d, %v; want %d", i, n, err, i)
		}
	}
	n, last := strikes(t, s, tn.ID, key)
	if n != 3 || !last.Equal(micro(oddTime(3))) {
		t.Errorf("Strikes = %d, %v; want 3, %v", n, last, micro(oddTime(3)))
	}
	checkStoredTime(t, "last strike", last)
	// A zero time is the store's clock.
	c := startClock()
	if n, err := addStrike(t, s, tn.ID, key, time.Time{}); err != nil || n != 4 {
		t.Fatalf("AddStrike at the zero time = %d, %v; want 4", n, err)
	}
	_, last = strikes(t, s, tn.ID, key)
	c.check(t, "strike at the zero time", last)

	// Other keys and other tenants have records of their own.
	if n, last := strikes(t, s, other.ID, key); n != 0 || !last.IsZero() {
		t.Errorf("Strikes in another tenant = %d, %v; want none", n, last)
	}
	if n, last := strikes(t, s, tn.ID, "signin:bob@example.com"); n != 0 || !last.IsZero() {
		t.Errorf("Strikes of another key = %d, %v; want none", n, last)
	}
	if n, err := addStrike(t, s, other.ID, key, oddTime(5)); err != nil || n != 1 {
		t.Errorf("AddStrike in another tenant = %d, %v; want 1", n, err)
	}

	// A strike that rolls back is not counted.
	err := updateErr(t, s, func(tx gatehouse.Tx) error {
		if _, err := tx.AddStrike(t.Context(), tn.ID, key, oddTime(6)); err != nil {
			return err
		}
		return errUpdater
	})
	if err != errUpdater {
		t.Fatalf("Update = %v, want %v", err, errUpdater)
	}
	if n, _ := strikes(t, s, tn.ID, key); n != 4 {
		t.Errorf("Strikes after a rolled back AddStrike = %d, want 4", n)
	}

	// Clearing removes the record of the key in the tenant only.
	update(t, s, func(tx gatehouse.Tx) error { return tx.ClearStrikes(t.Context(), tn.ID, key) })
	if n, last := strikes(t, s, tn.ID, key); n != 0 || !last.IsZero() {
		t.Errorf("Strikes after ClearStrikes = %d, %v; want none", n, last)
	}
	if n, _ := strikes(t, s, other.ID, key); n != 1 {
		t.Errorf("ClearStrikes cleared another tenant's record: %d, want 1", n)
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.ClearStrikes(t.Context(), tn.ID, "never-struck") })
	if n, err := addStrike(t, s, tn.ID, key, oddTime(7)); err != nil || n != 1 {
		t.Errorf("AddStrike after ClearStrikes = %d, %v; want 1", n, err)
	}

	_, err = addStrike(t, s, "no-such-tenant", key, oddTime(1))
	wantCode(t, "AddStrike in a missing tenant", err, gatehouse.ENOTFOUND)
}

// testConcurrentStrikes checks that concurrent strikes all count, and that
// Strikes locks the record: transactions that check the record and then
// strike take turns, so each sees the strikes of the ones before, whether
// or not the record existed when they started.
func testConcurrentStrikes(t *testing.T, s gatehouse.Store) {
	tn := newTenant(t, s, "contoso")
	const n = 20
	race := func(key string, check bool) []bool {
		seen := make([]bool, n+1) // seen[c]: some transaction read a count of c
		var mu sync.Mutex
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				<-start
				err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
					before := -1
					if check {
						c, _, err := tx.Strikes(t.Context(), tn.ID, key)
						if err != nil {
							return err
						}
						before = c
					}
					after, err := tx.AddStrike(t.Context(), tn.ID, key, time.Now())
					if err != nil {
						return err
					}
					if check && after != before+1 {
						t.Errorf("Strikes read %d, then AddStrike returned %d", before, after)
					}
					if check {
						mu.Lock()
						seen[before] = true
						mu.Unlock()
					}
					return nil
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if got, _ := strikes(t, s, tn.ID, key); got != n {
			t.Errorf("%s: %d concurrent strikes left a count of %d", key, n, got)
		}
		return seen[:n]
	}
	race("blind", false)
	for c, ok := range race("checked", true) {
		if !ok {
			t.Errorf("no transaction read a count of %d: checks and strikes interleaved", c)
		}
	}
}
