package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// newEmailCode creates a code of the purpose bound to the binding.
func newEmailCode(t *testing.T, s gatehouse.Store, tenantID, purpose, binding string) *gatehouse.EmailCode {
	t.Helper()
	c := &gatehouse.EmailCode{TenantID: tenantID, Purpose: purpose, Binding: binding, Mail: "ada@example.com",
		CodeHash: "hash-" + randomHex(4), ExpiresAt: time.Now().Add(10 * time.Minute)}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateEmailCode(t.Context(), c) })
	return c
}

// readEmailCode returns the tenant's code with the ID as it is stored,
// read through an updater that changes nothing.
func readEmailCode(t *testing.T, s gatehouse.Store, tenantID, id string) *gatehouse.EmailCode {
	t.Helper()
	var got *gatehouse.EmailCode
	update(t, s, func(tx gatehouse.Tx) error {
		var err error
		got, err = tx.UpdateEmailCode(t.Context(), tenantID, id, func(*gatehouse.EmailCode) error { return nil })
		return err
	})
	return got
}

// activeEmailCodeID returns the ID of the active code of the purpose and
// binding, "" if there is none.
func activeEmailCodeID(t *testing.T, s gatehouse.Store, tenantID, purpose, binding string) string {
	t.Helper()
	c, err := s.ActiveEmailCode(t.Context(), tenantID, purpose, binding)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatalf("ActiveEmailCode: %v", err)
	}
	return c.ID
}

func testEmailCodes(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")

	c := startClock()
	first := &gatehouse.EmailCode{
		TenantID:  tn.ID,
		Purpose:   gatehouse.CodeSignUp,
		Binding:   "auth-request-1",
		Mail:      "ada@example.com",
		CodeHash:  "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Attempts:  1,
		ExpiresAt: oddTime(10),
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateEmailCode(ctx, first) })
	if first.ID == "" {
		t.Fatal("CreateEmailCode left ID empty")
	}
	c.check(t, "CreatedAt", first.CreatedAt)
	want := *first
	want.ExpiresAt = micro(first.ExpiresAt)

	t.Run("ReadBack", func(t *testing.T) {
		// An expired code is still the active one.
		got, err := s.ActiveEmailCode(ctx, tn.ID, gatehouse.CodeSignUp, "auth-request-1")
		if err != nil {
			t.Fatalf("ActiveEmailCode: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("ActiveEmailCode mismatch (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "ExpiresAt", got.ExpiresAt)
		for _, tc := range []struct{ name, tenant, purpose, binding string }{
			{"OtherTenant", other.ID, gatehouse.CodeSignUp, "auth-request-1"},
			{"OtherPurpose", tn.ID, gatehouse.CodeSignIn, "auth-request-1"},
			{"OtherBinding", tn.ID, gatehouse.CodeSignUp, "auth-request-2"},
		} {
			_, err := s.ActiveEmailCode(ctx, tc.tenant, tc.purpose, tc.binding)
			wantCode(t, "ActiveEmailCode "+tc.name, err, gatehouse.ENOTFOUND)
		}
	})

	t.Run("NewCodeInvalidatesEarlier", func(t *testing.T) {
		// Codes of another purpose, binding or tenant stay.
		otherPurpose := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-1")
		otherBinding := newEmailCode(t, s, tn.ID, gatehouse.CodeSignUp, "auth-request-2")
		otherTenant := newEmailCode(t, s, other.ID, gatehouse.CodeSignUp, "auth-request-1")

		second := newEmailCode(t, s, tn.ID, gatehouse.CodeSignUp, "auth-request-1")
		got := readEmailCode(t, s, tn.ID, first.ID)
		if !got.ConsumedAt.Equal(second.CreatedAt) {
			t.Errorf("ConsumedAt of the earlier code = %v, want the new code's CreatedAt %v", got.ConsumedAt, second.CreatedAt)
		}
		w := want
		w.ConsumedAt = got.ConsumedAt
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("earlier code (-want +got):\n%s", diff)
		}
		want = w
		if id := activeEmailCodeID(t, s, tn.ID, gatehouse.CodeSignUp, "auth-request-1"); id != second.ID {
			t.Errorf("active code = %q, want the new one %q", id, second.ID)
		}
		for _, c := range []*gatehouse.EmailCode{otherPurpose, otherBinding, otherTenant} {
			if id := activeEmailCodeID(t, s, c.TenantID, c.Purpose, c.Binding); id != c.ID {
				t.Errorf("active %s code of %s = %q, want %q", c.Purpose, c.Binding, id, c.ID)
			}
		}

		// A third code invalidates the second, not the first again.
		third := newEmailCode(t, s, tn.ID, gatehouse.CodeSignUp, "auth-request-1")
		if got := readEmailCode(t, s, tn.ID, second.ID); !got.ConsumedAt.Equal(third.CreatedAt) {
			t.Errorf("ConsumedAt of the second code = %v, want %v", got.ConsumedAt, third.CreatedAt)
		}
		if got := readEmailCode(t, s, tn.ID, first.ID); !got.ConsumedAt.Equal(want.ConsumedAt) {
			t.Errorf("ConsumedAt of the first code = %v, want it kept at %v", got.ConsumedAt, want.ConsumedAt)
		}
		// Once the active code is consumed, there is none.
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateEmailCode(ctx, tn.ID, third.ID, func(c *gatehouse.EmailCode) error {
				c.ConsumedAt = time.Now()
				return nil
			})
			return err
		})
		_, err := s.ActiveEmailCode(ctx, tn.ID, gatehouse.CodeSignUp, "auth-request-1")
		wantCode(t, "ActiveEmailCode after the last code was used", err, gatehouse.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		code := newEmailCode(t, s, tn.ID, gatehouse.CodeReset, "reset-1")
		var got *gatehouse.EmailCode
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateEmailCode(ctx, tn.ID, code.ID, func(c *gatehouse.EmailCode) error {
				c.Attempts++
				c.Mail = "ADA@example.com"
				c.CodeHash = "other-hash"
				c.ExpiresAt = oddTime(11)
				c.ConsumedAt = oddTime(12)
				// None of these can change.
				c.ID, c.TenantID, c.Purpose, c.Binding, c.CreatedAt = "x", other.ID, gatehouse.CodeSignIn, "elsewhere", oddTime(13)
				return nil
			})
			return err
		})
		w := *code
		w.ExpiresAt = micro(code.ExpiresAt)
		w.Attempts, w.Mail, w.CodeHash = 1, "ADA@example.com", "other-hash"
		w.ExpiresAt, w.ConsumedAt = micro(oddTime(11)), micro(oddTime(12))
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("UpdateEmailCode returned (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(&w, readEmailCode(t, s, tn.ID, code.ID)); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		code := newEmailCode(t, s, tn.ID, gatehouse.CodeReset, "reset-2")
		before := readEmailCode(t, s, tn.ID, code.ID)
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateEmailCode(ctx, tn.ID, code.ID, func(c *gatehouse.EmailCode) error {
				c.Attempts = 5
				c.ConsumedAt = time.Now()
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateEmailCode returned %v, want the updater's error", err)
			}
			return nil
		})
		if diff := cmp.Diff(before, readEmailCode(t, s, tn.ID, code.ID)); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("Unconsume", func(t *testing.T) {
		// A consumed code cannot come back while a newer one is active.
		old := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-9")
		newer := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-9")
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateEmailCode(ctx, tn.ID, old.ID, func(c *gatehouse.EmailCode) error {
				c.ConsumedAt = time.Time{}
				return nil
			})
			return err
		})
		wantCode(t, "UpdateEmailCode un-consuming a code", err, gatehouse.ECONFLICT)
		if id := activeEmailCodeID(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-9"); id != newer.ID {
			t.Errorf("active code = %q, want %q", id, newer.ID)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		code := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-3")
		for _, tc := range []struct{ name, tenant, id string }{
			{"Missing", tn.ID, "no-such-code"},
			{"OtherTenant", other.ID, code.ID},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				_, err := tx.UpdateEmailCode(ctx, tc.tenant, tc.id, func(c *gatehouse.EmailCode) error {
					c.ConsumedAt = time.Now()
					return nil
				})
				return err
			})
			wantCode(t, "UpdateEmailCode "+tc.name, err, gatehouse.ENOTFOUND, tc.id)
		}
		if id := activeEmailCodeID(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-3"); id != code.ID {
			t.Errorf("active code = %q after updates through another tenant, want %q", id, code.ID)
		}
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{TenantID: "no-such-tenant", Purpose: gatehouse.CodeSignIn, Binding: "b"})
		})
		wantCode(t, "CreateEmailCode in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{ID: code.ID, TenantID: tn.ID, Purpose: gatehouse.CodeSignIn, Binding: "other"})
		})
		wantCode(t, "CreateEmailCode with a taken ID", err, gatehouse.ECONFLICT, code.ID)
	})

	t.Run("RolledBack", func(t *testing.T) {
		code := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-4")
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			newEmailCode := &gatehouse.EmailCode{TenantID: tn.ID, Purpose: gatehouse.CodeSignIn, Binding: "auth-request-4"}
			if err := tx.CreateEmailCode(ctx, newEmailCode); err != nil {
				return err
			}
			return errUpdater
		})
		if !errors.Is(err, errUpdater) {
			t.Fatalf("Update: got %v, want fn's error", err)
		}
		// The rolled back code did not invalidate the earlier one.
		if id := activeEmailCodeID(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-4"); id != code.ID {
			t.Errorf("active code after a rolled back CreateEmailCode = %q, want %q", id, code.ID)
		}
	})
}

// errConsumed is what the updaters of testConcurrentEmailCode fail with
// when they find the code consumed.
var errConsumed = errors.New("code already consumed")

// testConcurrentEmailCode checks that concurrent tries of one code take
// turns: of many updaters that consume the code unless it is consumed,
// exactly one finds it unconsumed; and that of many codes created at once
// for one binding, exactly one stays active.
func testConcurrentEmailCode(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	const n = 20

	t.Run("Consume", func(t *testing.T) {
		code := newEmailCode(t, s, tn.ID, gatehouse.CodeSignIn, "auth-request-1")
		errs := make(chan error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				<-start
				errs <- s.Update(ctx, func(tx gatehouse.Tx) error {
					_, err := tx.UpdateEmailCode(ctx, tn.ID, code.ID, func(c *gatehouse.EmailCode) error {
						// Between read and write, give the others time to
						// read too, unless the store makes them wait.
						time.Sleep(time.Millisecond)
						c.Attempts++
						if !c.ConsumedAt.IsZero() {
							return errConsumed
						}
						c.ConsumedAt = time.Now()
						return nil
					})
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		var ok, consumed int
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errConsumed):
				consumed++
			default:
				t.Errorf("Update: %v", err)
			}
		}
		if ok != 1 || consumed != n-1 {
			t.Errorf("%d concurrent tries: %d found the code unconsumed and %d consumed, want 1 and %d", n, ok, consumed, n-1)
		}
		// Only the winner's write stayed: the losers' updaters failed.
		if got := readEmailCode(t, s, tn.ID, code.ID); got.Attempts != 1 || got.ConsumedAt.IsZero() {
			t.Errorf("after the race: Attempts %d, ConsumedAt %v; want 1 and a time", got.Attempts, got.ConsumedAt)
		}
	})

	t.Run("Create", func(t *testing.T) {
		ids := make(chan string, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				c := &gatehouse.EmailCode{TenantID: tn.ID, Purpose: gatehouse.CodeSignUp, Binding: "auth-request-2",
					CodeHash: fmt.Sprint(i), ExpiresAt: time.Now().Add(time.Minute)}
				if err := s.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateEmailCode(ctx, c) }); err != nil {
					t.Errorf("CreateEmailCode: %v", err)
					return
				}
				ids <- c.ID
			})
		}
		close(start)
		wg.Wait()
		close(ids)
		active := activeEmailCodeID(t, s, tn.ID, gatehouse.CodeSignUp, "auth-request-2")
		var unconsumed []string
		count := 0
		for id := range ids {
			count++
			if readEmailCode(t, s, tn.ID, id).ConsumedAt.IsZero() {
				unconsumed = append(unconsumed, id)
			}
		}
		if count != n {
			t.Fatalf("%d of %d codes were created", count, n)
		}
		if len(unconsumed) != 1 || unconsumed[0] != active {
			t.Errorf("unconsumed codes after %d concurrent CreateEmailCode: %v, want only the active one %q", n, unconsumed, active)
		}
	})
}
