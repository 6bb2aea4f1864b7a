package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// testOnePhone checks that a user has at most one phone for text messages
// (Graph's "mobile" phone), also when registrations race, while other
// users, other tenants and other methods are not affected.
func testOnePhone(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	eve := newUser(t, s, other.ID, "eve@example.com")
	phone := func(u *gatehouse.User, number string) *gatehouse.UserMethod {
		return &gatehouse.UserMethod{TenantID: u.TenantID, UserID: u.ID, Method: gatehouse.MethodSMS, DisplayName: "Mobile", Phone: number}
	}
	first := phone(ada, "+41446681800")
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, first) })
	err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, phone(ada, "+41446681801")) })
	wantCode(t, "CreateUserMethod of a second phone", err, gatehouse.ECONFLICT, "phone for text messages already")
	// The same number for another user, a phone in another tenant, and
	// other methods of the user are fine.
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, phone(bob, "+41446681800")) })
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, phone(eve, "+41446681800")) })
	update(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateUserMethod(ctx, &gatehouse.UserMethod{TenantID: tn.ID, UserID: ada.ID, Method: gatehouse.MethodSoftwareOath,
			TOTP: &gatehouse.TOTPSecret{Sealed: []byte{1}}})
	})
	// Once the phone is removed, another can be registered.
	update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserMethod(ctx, tn.ID, first.ID) })
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserMethod(ctx, phone(ada, "+41446681801")) })

	// Of concurrent registrations for one user, exactly one succeeds.
	cy := newUser(t, s, tn.ID, "cy@example.com")
	const n = 8
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update(ctx, func(tx gatehouse.Tx) error {
				return tx.CreateUserMethod(ctx, phone(cy, "+4144668180"+string(rune('0'+i))))
			})
			switch gatehouse.ErrorCode(err) {
			case "":
				created.Add(1)
			case gatehouse.ECONFLICT:
			default:
				t.Errorf("CreateUserMethod: %v", err)
			}
		})
	}
	wg.Wait()
	if got := created.Load(); got != 1 {
		t.Errorf("%d of %d concurrent phone registrations of one user succeeded, want 1", got, n)
	}
	if ms, err := s.UserMethods(ctx, tn.ID, cy.ID); err != nil || len(ms) != 1 {
		t.Errorf("the user has %d methods (%v), want 1 phone", len(ms), err)
	}
}

// EnableMethod turns the method of the tenant's methods policy on, in tx,
// for tests that set a tenant up directly in the store.
func EnableMethod(ctx context.Context, tx gatehouse.Tx, tenantID, method string) error {
	_, err := tx.UpdateMethodsPolicy(ctx, tenantID, func(p *gatehouse.MethodsPolicy) error {
		c := p.Config(method)
		c.Enabled = true
		p.SetConfig(c)
		return nil
	})
	return err
}
