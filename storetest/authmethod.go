package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// testMethodsPolicy checks the default policy, updates, isolation between
// tenants, and that an updater's error writes nothing.
func testMethodsPolicy(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")

	got, err := s.MethodsPolicy(ctx, tn.ID)
	if err != nil {
		t.Fatalf("MethodsPolicy: %v", err)
	}
	if diff := cmp.Diff(gatehouse.DefaultMethodsPolicy(tn.ID), got); diff != "" {
		t.Errorf("a new tenant's policy is not the default (-want +got):\n%s", diff)
	}
	_, err = s.MethodsPolicy(ctx, "no-such-tenant")
	wantCode(t, "MethodsPolicy of a missing tenant", err, gatehouse.ENOTFOUND)
	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.UpdateMethodsPolicy(ctx, "no-such-tenant", func(*gatehouse.MethodsPolicy) error { return nil })
		return err
	})
	wantCode(t, "UpdateMethodsPolicy of a missing tenant", err, gatehouse.ENOTFOUND)

	c := startClock()
	var updated *gatehouse.MethodsPolicy
	update(t, s, func(tx gatehouse.Tx) error {
		var err error
		updated, err = tx.UpdateMethodsPolicy(ctx, tn.ID, func(p *gatehouse.MethodsPolicy) error {
			e := p.Config(gatehouse.MethodEmail)
			e.Enabled, e.Include, e.Exclude = true, []string{"group-a"}, []string{"group-b"}
			p.SetConfig(e)
			f := p.Config(gatehouse.MethodFido2)
			f.Enabled, f.SelfServiceRegistration = true, false
			f.KeyRestrictions = &gatehouse.KeyRestrictions{Enforced: true, Allow: true, AAGUIDs: []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8"}}
			p.SetConfig(f)
			p.TenantID = other.ID // cannot change
			return nil
		})
		return err
	})
	c.check(t, "UpdatedAt", updated.UpdatedAt)
	want := gatehouse.DefaultMethodsPolicy(tn.ID)
	want.SetConfig(gatehouse.MethodConfig{Method: gatehouse.MethodEmail, Enabled: true, Include: []string{"group-a"}, Exclude: []string{"group-b"}})
	want.SetConfig(gatehouse.MethodConfig{Method: gatehouse.MethodFido2, Enabled: true, Include: []string{gatehouse.AllUsers}, Exclude: []string{},
		KeyRestrictions: &gatehouse.KeyRestrictions{Enforced: true, Allow: true, AAGUIDs: []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8"}}})
	want.UpdatedAt = updated.UpdatedAt
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateMethodsPolicy returned (-want +got):\n%s", diff)
	}
	read, err := s.MethodsPolicy(ctx, tn.ID)
	if err != nil {
		t.Fatalf("MethodsPolicy: %v", err)
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if p, err := s.MethodsPolicy(ctx, other.ID); err != nil || p.Config(gatehouse.MethodEmail).Enabled {
		t.Errorf("the other tenant's policy changed too: %+v, %v", p, err)
	}

	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.UpdateMethodsPolicy(ctx, tn.ID, func(p *gatehouse.MethodsPolicy) error {
			p.Methods[0].Enabled = false
			p.Methods[0].Include[0] = "changed"
			return errUpdater
		})
		return err
	})
	if !errors.Is(err, errUpdater) {
		t.Errorf("UpdateMethodsPolicy returned %v, want the updater's error", err)
	}
	if read, _ := s.MethodsPolicy(ctx, tn.ID); !cmp.Equal(want, read) {
		t.Errorf("an updater's error still wrote: %+v", read)
	}

	// Concurrent updaters of a policy that has no row yet take turns.
	fresh := newTenant(t, s, "northwind")
	var wg sync.WaitGroup
	const n = 10
	for range n {
		wg.Go(func() {
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.UpdateMethodsPolicy(ctx, fresh.ID, func(p *gatehouse.MethodsPolicy) error {
					c := p.Config(gatehouse.MethodSMS)
					c.Exclude = append(c.Exclude, "g")
					p.SetConfig(c)
					return nil
				})
				return err
			}); err != nil {
				t.Errorf("concurrent UpdateMethodsPolicy: %v", err)
			}
		})
	}
	wg.Wait()
	if p, err := s.MethodsPolicy(ctx, fresh.ID); err != nil || len(p.Config(gatehouse.MethodSMS).Exclude) != n {
		t.Errorf("after %d concurrent appends the SMS exclusions are %v (%v), want %d", n, p.Config(gatehouse.MethodSMS).Exclude, err, n)
	}
}

// fullUserMethods returns one registered method of each kind for the user.
func fullUserMethods(u *gatehouse.User) []*gatehouse.UserMethod {
	return []*gatehouse.UserMethod{
		{TenantID: u.TenantID, UserID: u.ID, Method: gatehouse.MethodSoftwareOath, DisplayName: "Authenticator app",
			TOTP: &gatehouse.TOTPSecret{Sealed: []byte{0, 1, 2, 255}, LastStep: 56789012}, LastUsedAt: oddTime(3)},
		{TenantID: u.TenantID, UserID: u.ID, Method: gatehouse.MethodFido2, DisplayName: "Passkey ✓",
			Passkey: &gatehouse.PasskeyCredential{CredentialID: []byte{9, 8, 7}, PublicKey: []byte{1}, AttestationType: "none",
				AAGUID: []byte{0xad, 0xce}, SignCount: 7, Transports: []string{"internal", "hybrid"}, BackupEligible: true}},
		{TenantID: u.TenantID, UserID: u.ID, Method: gatehouse.MethodSMS, DisplayName: "Mobile", Phone: "+41446681800"},
		{TenantID: u.TenantID, UserID: u.ID, Method: gatehouse.MethodRecoveryCode, DisplayName: "Recovery codes",
			RecoveryCodes: []gatehouse.RecoveryCode{{Hash: "h1"}, {Hash: "h2", UsedAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}}},
	}
}

// testUserMethods checks registering, reading, updating and removing a
// user's methods, the uniqueness of passkey credentials and isolation.
func testUserMethods(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	eve := newUser(t, s, other.ID, "eve@example.com")

	ms := fullUserMethods(ada)
	c := startClock()
	for _, m := range ms {
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, m) })
		if m.ID == "" {
			t.Fatal("CreateUserMethod left ID empty")
		}
		c.check(t, "CreatedAt", m.CreatedAt)
	}
	want := make([]*gatehouse.UserMethod, len(ms))
	for i, m := range ms {
		w := m.Clone()
		w.LastUsedAt = micro(w.LastUsedAt)
		if m.LastUsedAt.IsZero() {
			w.LastUsedAt = time.Time{}
		}
		want[i] = w
	}
	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.UserMethods(ctx, tn.ID, ada.ID)
		if err != nil {
			t.Fatalf("UserMethods: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UserMethods mismatch (-want +got):\n%s", diff)
		}
		one, err := s.UserMethod(ctx, tn.ID, ms[1].ID)
		if err != nil {
			t.Fatalf("UserMethod: %v", err)
		}
		if diff := cmp.Diff(want[1], one); diff != "" {
			t.Errorf("UserMethod mismatch (-want +got):\n%s", diff)
		}
		byCred, err := s.UserMethodByCredential(ctx, tn.ID, []byte{9, 8, 7})
		if err != nil {
			t.Fatalf("UserMethodByCredential: %v", err)
		}
		if byCred.ID != ms[1].ID {
			t.Errorf("UserMethodByCredential = %s, want the passkey %s", byCred.ID, ms[1].ID)
		}
		if none, err := s.UserMethods(ctx, tn.ID, bob.ID); err != nil || len(none) != 0 {
			t.Errorf("UserMethods of a user without methods = %v, %v; want none", none, err)
		}
	})

	t.Run("Isolation", func(t *testing.T) {
		_, err := s.UserMethod(ctx, other.ID, ms[0].ID)
		wantCode(t, "UserMethod(other tenant)", err, gatehouse.ENOTFOUND)
		_, err = s.UserMethodByCredential(ctx, other.ID, []byte{9, 8, 7})
		wantCode(t, "UserMethodByCredential(other tenant)", err, gatehouse.ENOTFOUND)
		_, err = s.UserMethodByCredential(ctx, tn.ID, nil)
		wantCode(t, "UserMethodByCredential(empty)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, other.ID, ms[0].ID) })
		wantCode(t, "DeleteUserMethod(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserMethod(ctx, other.ID, ms[0].ID, func(m *gatehouse.UserMethod) error { return nil })
			return err
		})
		wantCode(t, "UpdateUserMethod(other tenant)", err, gatehouse.ENOTFOUND)
		// A user of another tenant cannot get a method in this one.
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: tn.ID, UserID: eve.ID, Method: gatehouse.MethodSMS})
		})
		wantCode(t, "CreateUserMethod for another tenant's user", err, gatehouse.ENOTFOUND)
		// The same credential in another tenant is another tenant's.
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: other.ID, UserID: eve.ID, Method: gatehouse.MethodFido2,
				Passkey: &gatehouse.PasskeyCredential{CredentialID: []byte{9, 8, 7}}})
		})
	})

	t.Run("CredentialUnique", func(t *testing.T) {
		// WA-3: a credential ID belongs to one user.
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: tn.ID, UserID: bob.ID, Method: gatehouse.MethodFido2,
				Passkey: &gatehouse.PasskeyCredential{CredentialID: []byte{9, 8, 7}}})
		})
		wantCode(t, "CreateUserMethod with a registered credential", err, gatehouse.ECONFLICT, "registered already")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{ID: ms[0].ID, TenantID: tn.ID, UserID: bob.ID, Method: gatehouse.MethodSMS})
		})
		wantCode(t, "CreateUserMethod with a taken ID", err, gatehouse.ECONFLICT, ms[0].ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: tn.ID, UserID: "no-such-user", Method: gatehouse.MethodSMS})
		})
		wantCode(t, "CreateUserMethod for a missing user", err, gatehouse.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		var got *gatehouse.UserMethod
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateUserMethod(ctx, tn.ID, ms[1].ID, func(m *gatehouse.UserMethod) error {
				m.Passkey.SignCount = 8
				m.Passkey.CloneWarning = true
				m.Passkey.CredentialID = []byte{1} // cannot change
				m.DisplayName = "Laptop"
				m.LastUsedAt = oddTime(9)
				m.UserID, m.Method, m.TenantID = bob.ID, gatehouse.MethodSMS, other.ID // cannot change
				return nil
			})
			return err
		})
		w := want[1].Clone()
		w.Passkey.SignCount, w.Passkey.CloneWarning, w.DisplayName, w.LastUsedAt = 8, true, "Laptop", micro(oddTime(9))
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("UpdateUserMethod returned (-want +got):\n%s", diff)
		}
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserMethod(ctx, tn.ID, ms[0].ID, func(m *gatehouse.UserMethod) error {
				m.TOTP.LastStep = 1
				m.TOTP.Sealed[0] = 42
				return errUpdater
			})
			return err
		})
		if !errors.Is(err, errUpdater) {
			t.Errorf("UpdateUserMethod returned %v, want the updater's error", err)
		}
		if read, _ := s.UserMethod(ctx, tn.ID, ms[0].ID); !cmp.Equal(want[0], read) {
			t.Errorf("an updater's error still wrote: %+v", read)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, tn.ID, ms[2].ID) })
		_, err := s.UserMethod(ctx, tn.ID, ms[2].ID)
		wantCode(t, "UserMethod after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, tn.ID, ms[2].ID) })
		wantCode(t, "DeleteUserMethod again", err, gatehouse.ENOTFOUND)
		// Deleting the user deletes its methods, and frees its credentials.
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, ada.ID) })
		if left, err := s.UserMethods(ctx, tn.ID, ada.ID); err != nil || len(left) != 0 {
			t.Errorf("methods of a deleted user: %v, %v", left, err)
		}
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: tn.ID, UserID: bob.ID, Method: gatehouse.MethodFido2,
				Passkey: &gatehouse.PasskeyCredential{CredentialID: []byte{9, 8, 7}}})
		})
	})
}

// testConcurrentUserMethod checks that updaters of one method take turns:
// of concurrent attempts to accept one TOTP step, exactly one succeeds
// (TOTP-3).
func testConcurrentUserMethod(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	u := newUser(t, s, tn.ID, "ada@example.com")
	m := &gatehouse.UserMethod{TenantID: tn.ID, UserID: u.ID, Method: gatehouse.MethodSoftwareOath, TOTP: &gatehouse.TOTPSecret{Sealed: []byte{1}}}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, m) })
	errStepUsed := errors.New("step used")
	const n, step = 12, 1000
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.Update(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.UpdateUserMethod(ctx, tn.ID, m.ID, func(m *gatehouse.UserMethod) error {
					if m.TOTP.LastStep >= step {
						return errStepUsed
					}
					m.TOTP.LastStep = step
					return nil
				})
				return err
			})
			switch {
			case err == nil:
				accepted.Add(1)
			case !errors.Is(err, errStepUsed):
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	if got := accepted.Load(); got != 1 {
		t.Errorf("%d of %d concurrent uses of one step were accepted, want 1", got, n)
	}
}
