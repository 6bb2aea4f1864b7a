package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// consume calls ConsumeOneTime at now in its own transaction.
func consume(t *testing.T, s gatehouse.Store, tenantID, kind, key string, now time.Time) (*gatehouse.OneTime, error) {
	var o *gatehouse.OneTime
	err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		var err error
		o, err = tx.ConsumeOneTime(t.Context(), tenantID, kind, key, now)
		return err
	})
	return o, err
}

func testOneTime(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	now := time.Now()
	create := func(kind, key string, expires time.Time) *gatehouse.OneTime {
		t.Helper()
		o := &gatehouse.OneTime{TenantID: tn.ID, Kind: kind, Key: key, Payload: []byte(`{"sub":"ada","nonce":"n-0S6_WzA2Mj"}` + "\x00\xff"), ExpiresAt: expires}
		c := startClock()
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateOneTime(ctx, o) })
		c.check(t, "CreatedAt", o.CreatedAt)
		return o
	}

	t.Run("Consume", func(t *testing.T) {
		o := create("code", "hash-1", now.Add(10*time.Minute))
		// Another kind and another tenant with the same key are other items.
		create("refresh", "hash-1", now.Add(10*time.Minute))
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: other.ID, Kind: "code", Key: "hash-1", ExpiresAt: now.Add(time.Minute)})
		})
		usedAt := now.Add(time.Second)
		got, err := consume(t, s, tn.ID, "code", "hash-1", usedAt)
		if err != nil {
			t.Fatalf("ConsumeOneTime: %v", err)
		}
		want := *o
		want.ExpiresAt = micro(o.ExpiresAt)
		want.ConsumedAt = micro(usedAt)
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("ConsumeOneTime returned (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "ConsumedAt", got.ConsumedAt)

		// Every later use is a conflict that still shows the item, even
		// after it expired.
		for _, at := range []time.Time{usedAt, now.Add(time.Minute), now.Add(time.Hour)} {
			got, err := consume(t, s, tn.ID, "code", "hash-1", at)
			wantCode(t, "ConsumeOneTime again", err, gatehouse.ECONFLICT)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("ConsumeOneTime again at %v returned (-want +got):\n%s", at, diff)
			}
		}
		// The other items are untouched.
		if _, err := consume(t, s, tn.ID, "refresh", "hash-1", usedAt); err != nil {
			t.Errorf("ConsumeOneTime(another kind, same key): %v", err)
		}
		if _, err := consume(t, s, other.ID, "code", "hash-1", usedAt); err != nil {
			t.Errorf("ConsumeOneTime(another tenant, same key): %v", err)
		}
	})

	t.Run("ZeroNow", func(t *testing.T) {
		// Without a time the store's clock marks the item consumed: it
		// does not stay usable.
		create("code", "hash-zero", now.Add(time.Hour))
		c := startClock()
		got, err := consume(t, s, tn.ID, "code", "hash-zero", time.Time{})
		if err != nil {
			t.Fatalf("ConsumeOneTime: %v", err)
		}
		c.check(t, "ConsumedAt", got.ConsumedAt)
		_, err = consume(t, s, tn.ID, "code", "hash-zero", time.Time{})
		wantCode(t, "ConsumeOneTime again", err, gatehouse.ECONFLICT)
	})

	t.Run("Expired", func(t *testing.T) {
		create("code", "hash-expired", now.Add(time.Minute))
		for _, at := range []time.Time{now.Add(time.Minute), now.Add(time.Hour)} { // at ExpiresAt and after
			got, err := consume(t, s, tn.ID, "code", "hash-expired", at)
			wantCode(t, "ConsumeOneTime(expired)", err, gatehouse.ENOTFOUND)
			if got != nil {
				t.Errorf("ConsumeOneTime(expired) returned %+v, want nil", got)
			}
		}
		// Still usable before it expires: the failed calls changed nothing.
		if _, err := consume(t, s, tn.ID, "code", "hash-expired", now); err != nil {
			t.Errorf("ConsumeOneTime before expiry: %v", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		create("code", "hash-2", now.Add(time.Minute))
		for _, tc := range []struct{ name, tenant, kind, key string }{
			{"MissingKey", tn.ID, "code", "no-such-hash"},
			{"OtherKind", tn.ID, "session", "hash-2"},
			{"OtherTenant", other.ID, "code", "hash-2"},
		} {
			got, err := consume(t, s, tc.tenant, tc.kind, tc.key, now)
			wantCode(t, "ConsumeOneTime "+tc.name, err, gatehouse.ENOTFOUND)
			if got != nil {
				t.Errorf("ConsumeOneTime %s returned %+v, want nil", tc.name, got)
			}
		}
	})

	t.Run("RolledBack", func(t *testing.T) {
		create("code", "hash-3", now.Add(time.Minute))
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			if _, err := tx.ConsumeOneTime(ctx, tn.ID, "code", "hash-3", now); err != nil {
				return err
			}
			return errUpdater
		})
		if !errors.Is(err, errUpdater) {
			t.Fatalf("Update: got %v, want fn's error", err)
		}
		if _, err := consume(t, s, tn.ID, "code", "hash-3", now); err != nil {
			t.Errorf("ConsumeOneTime after a rolled back use: %v", err)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		create("code", "hash-4", now.Add(time.Minute))
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: tn.ID, Kind: "code", Key: "hash-4", ExpiresAt: now.Add(time.Hour)})
		})
		wantCode(t, "CreateOneTime twice", err, gatehouse.ECONFLICT)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: "no-such-tenant", Kind: "code", Key: "k", ExpiresAt: now.Add(time.Hour)})
		})
		wantCode(t, "CreateOneTime in a missing tenant", err, gatehouse.ENOTFOUND)
	})
}

// testConcurrentConsumeOneTime checks that of many concurrent uses of one
// item exactly one succeeds.
func testConcurrentConsumeOneTime(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	now := time.Now()
	update(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: tn.ID, Kind: "code", Key: "hash", Payload: []byte("p"), ExpiresAt: now.Add(time.Minute)})
	})
	const n = 20
	type result struct {
		o   *gatehouse.OneTime
		err error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			o, err := consume(t, s, tn.ID, "code", "hash", now)
			results <- result{o, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var ok, conflicts int
	var winner *gatehouse.OneTime
	var losers []*gatehouse.OneTime
	for r := range results {
		switch gatehouse.ErrorCode(r.err) {
		case "":
			ok++
			winner = r.o
		case gatehouse.ECONFLICT:
			conflicts++
			losers = append(losers, r.o)
		default:
			t.Errorf("ConsumeOneTime: %v", r.err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d concurrent uses: %d succeeded and %d conflicted, want 1 and %d", n, ok, conflicts, n-1)
	}
	for _, o := range losers {
		if diff := cmp.Diff(winner, o); diff != "" {
			t.Errorf("a conflicting use returned (-winner +got):\n%s", diff)
		}
	}
}
