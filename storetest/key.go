package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func testSigningKeys(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")

	// Keys named so that ID order is the opposite of creation order.
	var keys []*gatehouse.SigningKey
	for i, kid := range []string{"kid-c", "kid-b", "kid-a"} {
		if i > 0 {
			waitPast(t, keys[i-1].CreatedAt)
		}
		k := &gatehouse.SigningKey{
			ID:         kid,
			TenantID:   tn.ID,
			Algorithm:  "RS256",
			PrivateKey: []byte{0x00, 0x01, 0xfe, 0xff, 0x00, byte(i), '\'', '?'},
		}
		c := startClock()
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSigningKey(ctx, k) })
		c.check(t, "CreatedAt", k.CreatedAt)
		keys = append(keys, k)
	}
	theirs := &gatehouse.SigningKey{TenantID: other.ID, Algorithm: "ES256", PrivateKey: []byte("theirs")}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSigningKey(ctx, theirs) })
	if theirs.ID == "" {
		t.Fatal("CreateSigningKey left ID empty")
	}

	t.Run("NewestFirst", func(t *testing.T) {
		got, err := s.SigningKeys(ctx, tn.ID)
		if err != nil {
			t.Fatalf("SigningKeys: %v", err)
		}
		want := []*gatehouse.SigningKey{keys[2], keys[1], keys[0]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SigningKeys (-want +got):\n%s", diff)
		}
		got, err = s.SigningKeys(ctx, other.ID)
		if err != nil {
			t.Fatalf("SigningKeys: %v", err)
		}
		if diff := cmp.Diff([]*gatehouse.SigningKey{theirs}, got); diff != "" {
			t.Errorf("SigningKeys(other tenant) (-want +got):\n%s", diff)
		}
		got, err = s.SigningKeys(ctx, "no-such-tenant")
		if err != nil || len(got) != 0 {
			t.Errorf("SigningKeys(missing tenant) = %v, %v; want none", got, err)
		}
	})

	t.Run("Retire", func(t *testing.T) {
		retired := oddTime(7)
		var got *gatehouse.SigningKey
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateSigningKey(ctx, tn.ID, "kid-c", func(k *gatehouse.SigningKey) error {
				k.RetiredAt = retired
				k.ID, k.TenantID, k.CreatedAt = "x", "y", oddTime(8) // cannot change
				return nil
			})
			return err
		})
		want := *keys[0]
		want.RetiredAt = micro(retired)
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateSigningKey returned (-want +got):\n%s", diff)
		}
		if got.Active() {
			t.Error("retired key is still active")
		}
		all, err := s.SigningKeys(ctx, tn.ID)
		if err != nil {
			t.Fatalf("SigningKeys: %v", err)
		}
		if diff := cmp.Diff(&want, all[2]); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		keys[0] = all[2]
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateSigningKey(ctx, tn.ID, "kid-a", func(k *gatehouse.SigningKey) error {
				k.RetiredAt = oddTime(9)
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateSigningKey returned %v, want the updater's error", err)
			}
			return nil
		})
		all, err := s.SigningKeys(ctx, tn.ID)
		if err != nil {
			t.Fatalf("SigningKeys: %v", err)
		}
		if diff := cmp.Diff(keys[2], all[0]); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSigningKey(ctx, &gatehouse.SigningKey{ID: "kid-a", TenantID: tn.ID, Algorithm: "RS256", PrivateKey: []byte("x")})
		})
		wantCode(t, "CreateSigningKey with a taken ID", err, gatehouse.ECONFLICT, "kid-a")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSigningKey(ctx, &gatehouse.SigningKey{TenantID: "no-such-tenant", Algorithm: "RS256", PrivateKey: []byte("x")})
		})
		wantCode(t, "CreateSigningKey in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateSigningKey(ctx, other.ID, "kid-a", func(*gatehouse.SigningKey) error { return nil })
			return err
		})
		wantCode(t, "UpdateSigningKey(other tenant)", err, gatehouse.ENOTFOUND, "kid-a")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateSigningKey(ctx, tn.ID, "no-such-kid", func(*gatehouse.SigningKey) error { return nil })
			return err
		})
		wantCode(t, "UpdateSigningKey(missing)", err, gatehouse.ENOTFOUND, "no-such-kid")
	})
}

// waitPast waits until the clock, at microsecond precision, is past tm, so
// that the next object created gets a later CreatedAt.
func waitPast(t *testing.T, tm time.Time) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !time.Now().Truncate(time.Microsecond).After(tm) {
		if time.Now().After(deadline) {
			t.Fatalf("the clock did not pass %v within a second", tm)
		}
	}
}
