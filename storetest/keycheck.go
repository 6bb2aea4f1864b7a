package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func testKeyCheck(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	value := []byte{0x00, 0x01, 0xfe, 0xff, '\'', '?', 0x00}

	_, err := s.KeyCheck(ctx)
	wantCode(t, "KeyCheck of a new database", err, gatehouse.ENOTFOUND)

	// A rolled back transaction leaves no key check behind.
	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateKeyCheck(ctx, &gatehouse.KeyCheck{Value: []byte("rolled back")}); err != nil {
			return err
		}
		return errUpdater
	})
	if !errors.Is(err, errUpdater) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	_, err = s.KeyCheck(ctx)
	wantCode(t, "KeyCheck after a rolled back CreateKeyCheck", err, gatehouse.ENOTFOUND)

	c := &gatehouse.KeyCheck{Value: bytes.Clone(value)}
	clk := startClock()
	update(t, s, func(tx gatehouse.Tx) error {
		if _, err := tx.KeyCheck(ctx); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("Tx.KeyCheck before CreateKeyCheck: %v, want ENOTFOUND", err)
		}
		if err := tx.CreateKeyCheck(ctx, c); err != nil {
			return err
		}
		// The transaction sees its own write.
		got, err := tx.KeyCheck(ctx)
		if err != nil {
			return err
		}
		if !bytes.Equal(got.Value, value) {
			t.Errorf("Tx.KeyCheck after CreateKeyCheck = %x, want %x", got.Value, value)
		}
		return nil
	})
	clk.check(t, "CreatedAt", c.CreatedAt)
	want := &gatehouse.KeyCheck{Value: value, CreatedAt: c.CreatedAt}
	got, err := s.KeyCheck(ctx)
	if err != nil {
		t.Fatalf("KeyCheck: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyCheck (-want +got):\n%s", diff)
	}

	// The first key check stays: another value, the same value, or an
	// empty one are all conflicts, and the transaction goes on.
	for _, other := range [][]byte{[]byte("another key's check"), bytes.Clone(value), nil} {
		update(t, s, func(tx gatehouse.Tx) error {
			err := tx.CreateKeyCheck(ctx, &gatehouse.KeyCheck{Value: other})
			wantCode(t, fmt.Sprintf("CreateKeyCheck(%q) over a stored one", other), err, gatehouse.ECONFLICT)
			got, err := tx.KeyCheck(ctx)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Tx.KeyCheck after the conflict (-want +got):\n%s", diff)
			}
			return nil
		})
	}
	got, err = s.KeyCheck(ctx)
	if err != nil {
		t.Fatalf("KeyCheck: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyCheck after the conflicts (-want +got):\n%s", diff)
	}
}

// testConcurrentKeyCheck checks that of concurrent first CreateKeyCheck
// calls with different values exactly one stores its value, and that every
// other caller sees that value in its own transaction.
func testConcurrentKeyCheck(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	const n = 12
	type result struct {
		value []byte // what the caller stored or, after a conflict, found
		err   error  // CreateKeyCheck's
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			err := s.Update(ctx, func(tx gatehouse.Tx) error {
				mine := []byte(fmt.Sprintf("check of key %d", i))
				results[i] = result{}
				err := tx.CreateKeyCheck(ctx, &gatehouse.KeyCheck{Value: mine})
				switch gatehouse.ErrorCode(err) {
				case "":
					results[i] = result{mine, nil}
					return nil
				case gatehouse.ECONFLICT:
					c, rerr := tx.KeyCheck(ctx)
					if rerr != nil {
						return rerr
					}
					results[i] = result{c.Value, err}
					return nil
				}
				return err
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	stored, err := s.KeyCheck(ctx)
	if err != nil {
		t.Fatalf("KeyCheck: %v", err)
	}
	wins := 0
	for i, r := range results {
		switch gatehouse.ErrorCode(r.err) {
		case "":
			wins++
		case gatehouse.ECONFLICT:
		default:
			t.Errorf("caller %d: CreateKeyCheck: %v", i, r.err)
		}
		if !bytes.Equal(r.value, stored.Value) {
			t.Errorf("caller %d stored or saw %q, but the database holds %q", i, r.value, stored.Value)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent first CreateKeyCheck calls: %d stored a value, want exactly 1", n, wins)
	}
}
