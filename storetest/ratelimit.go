package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// hit calls Hit in its own transaction.
func hit(t *testing.T, s gatehouse.Store, tenantID, key string, window time.Duration, now time.Time) (int, error) {
	var n int
	err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		var err error
		n, err = tx.Hit(t.Context(), tenantID, key, window, now)
		return err
	})
	return n, err
}

func testHit(t *testing.T, s gatehouse.Store) {
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	// A minute window holding base starts at 12:00:00 UTC.
	base := time.Date(2030, 1, 2, 12, 0, 30, 123456789, time.UTC)
	zone := time.FixedZone("UTC-07:00", -7*3600)
	const minute = time.Minute
	for i, tc := range []struct {
		name   string
		tenant string
		key    string
		window time.Duration
		now    time.Time
		want   int
	}{
		{"First", tn.ID, "signin:ada", minute, base, 1},
		{"SameWindow", tn.ID, "signin:ada", minute, base.Add(10 * time.Second), 2},
		{"WindowStart", tn.ID, "signin:ada", minute, time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC), 3},
		{"WindowLastMicrosecond", tn.ID, "signin:ada", minute, time.Date(2030, 1, 2, 12, 0, 59, 999999999, time.UTC), 4},
		{"OtherZoneSameInstant", tn.ID, "signin:ada", minute, base.In(zone), 5},
		{"OtherKey", tn.ID, "signin:bob", minute, base, 1},
		{"OtherTenant", other.ID, "signin:ada", minute, base, 1},
		{"OtherWindowLength", tn.ID, "signin:ada", time.Hour, base, 1},
		{"NextWindow", tn.ID, "signin:ada", minute, time.Date(2030, 1, 2, 12, 1, 0, 0, time.UTC), 1},
		{"NextWindowAgain", tn.ID, "signin:ada", minute, time.Date(2030, 1, 2, 12, 1, 30, 0, time.UTC), 2},
		{"BackInTheFirstWindow", tn.ID, "signin:ada", minute, base, 6},
		{"HourWindowSpansMinutes", tn.ID, "signin:ada", time.Hour, time.Date(2030, 1, 2, 12, 59, 0, 0, time.UTC), 2},
		{"NextHour", tn.ID, "signin:ada", time.Hour, time.Date(2030, 1, 2, 13, 0, 0, 0, time.UTC), 1},
		{"OddWindowLength", tn.ID, "send:ada", 7 * time.Second, time.Unix(1400, 0), 1},               // window [1400s, 1407s)
		{"OddWindowLengthSame", tn.ID, "send:ada", 7 * time.Second, time.Unix(1406, 999999000), 2},   // still in it
		{"OddWindowLengthNext", tn.ID, "send:ada", 7 * time.Second, time.Unix(1407, 0), 1},           // the next one
		{"OddWindowLengthBefore", tn.ID, "send:ada", 7 * time.Second, time.Unix(1399, 999999000), 1}, // the one before
		{"OddWindowLengthBeforeAgain", tn.ID, "send:ada", 7 * time.Second, time.Unix(1393, 0), 2},    // [1393s, 1400s)
		{"KeyWithQuotes", tn.ID, `ip:2001:db8::1 'x' "y" ?`, minute, base, 1},
		{"KeyWithQuotesAgain", tn.ID, `ip:2001:db8::1 'x' "y" ?`, minute, base.Add(time.Second), 2},
		{"MicrosecondWindow", tn.ID, "micro", time.Microsecond, base, 1},
		{"MicrosecondWindowNext", tn.ID, "micro", time.Microsecond, base.Add(time.Microsecond), 1},
		{"MicrosecondWindowSame", tn.ID, "micro", time.Microsecond, base.Add(time.Microsecond + 1), 2},
		{"LongWindow", tn.ID, "long", 30 * 24 * time.Hour, base, 1},
		{"LongWindowSame", tn.ID, "long", 30 * 24 * time.Hour, base.Add(-time.Microsecond), 2},
		{"FinalCheckOfFirstWindow", tn.ID, "signin:ada", minute, base.Add(-30 * time.Second).In(zone), 7},
	} {
		got, err := hit(t, s, tc.tenant, tc.key, tc.window, tc.now)
		if err != nil {
			t.Fatalf("%d %s: Hit: %v", i, tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%d %s: Hit = %d, want %d", i, tc.name, got, tc.want)
		}
	}

	// A zero now is the store's clock: a hit then and one at time.Now()
	// share today's day window (unless midnight passed between them).
	day := func() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }
	d0 := day()
	first, err := hit(t, s, tn.ID, "clock", 24*time.Hour, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := hit(t, s, tn.ID, "clock", 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if first != 1 || second != 2 && day().Equal(d0) {
		t.Errorf("Hit with the store's clock, then at time.Now() the same day: %d, %d; want 1, 2", first, second)
	}

	_, err = hit(t, s, "no-such-tenant", "k", minute, base)
	wantCode(t, "Hit in a missing tenant", err, gatehouse.ENOTFOUND)
	for _, w := range []time.Duration{0, -time.Second, time.Nanosecond} {
		if _, err := hit(t, s, tn.ID, "k", w, base); err == nil {
			t.Errorf("Hit with a window of %v succeeded, want an error", w)
		}
	}
}

// testConcurrentHit checks that concurrent hits of one key each get a
// count of their own.
func testConcurrentHit(t *testing.T, s gatehouse.Store) {
	tn := newTenant(t, s, "contoso")
	now := time.Now()
	const n = 20
	counts := make(chan int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			c, err := hit(t, s, tn.ID, "signin:ada", time.Hour, now)
			if err != nil {
				t.Errorf("Hit: %v", err)
				return
			}
			counts <- c
		})
	}
	close(start)
	wg.Wait()
	close(counts)
	var got []int
	for c := range counts {
		got = append(got, c)
	}
	slices.Sort(got)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts of %d concurrent hits (-want +got):\n%s", n, diff)
	}
	if c, err := hit(t, s, tn.ID, "signin:ada", time.Hour, now); err != nil || c != n+1 {
		t.Errorf("Hit after the race = %d, %v; want %d", c, err, n+1)
	}
}
