package storetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// testUpdateRollsBack checks that nothing fn wrote stays when fn fails.
func testUpdateRollsBack(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	g := newGroup(t, s, tn.ID, "Staff")

	err := updateErr(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{TenantID: tn.ID, Category: "UserManagement", Activity: "Add user",
			Targets: []gatehouse.AuditTarget{{ID: "new-user", Type: "User"}}}); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &gatehouse.User{ID: "new-user", TenantID: tn.ID, Mail: "new@example.com"}); err != nil {
			return err
		}
		if _, err := tx.UpdateUser(ctx, tn.ID, ada.ID, func(u *gatehouse.User) error {
			u.JobTitle = "changed in a rolled-back transaction"
			return nil
		}); err != nil {
			return err
		}
		if err := tx.AddGroupMember(ctx, tn.ID, g.ID, ada.ID); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, tn.ID, g.ID); err != nil {
			return err
		}
		if err := tx.CreateTenant(ctx, &gatehouse.Tenant{Name: "rolled-back"}); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := tx.User(ctx, tn.ID, "new-user"); err != nil {
			return err
		}
		if _, err := tx.Group(ctx, tn.ID, g.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("Tx.Group after Tx.DeleteGroup: got %v, want ENOTFOUND", err)
		}
		return errUpdater
	})
	if !errors.Is(err, errUpdater) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}

	entries, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListAuditEntries: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("audit entries after a rolled back Update: %v, want none", ids(entries, auditEntryID))
	}
	_, err = s.User(ctx, tn.ID, "new-user")
	wantCode(t, "User created in a rolled back Update", err, gatehouse.ENOTFOUND)
	got, err := s.User(ctx, tn.ID, ada.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(ada, got); diff != "" {
		t.Errorf("user updated in a rolled back Update (-want +got):\n%s", diff)
	}
	if _, err := s.Group(ctx, tn.ID, g.ID); err != nil {
		t.Errorf("group deleted in a rolled back Update: %v", err)
	}
	members, _, err := s.ListGroupMembers(ctx, tn.ID, g.ID, gatehouse.ListOptions{})
	if err != nil || len(members) != 0 {
		t.Errorf("members after a rolled back Update: %v, %v; want none", ids(members, userID), err)
	}
	_, err = s.TenantByName(ctx, "rolled-back")
	wantCode(t, "tenant created in a rolled back Update", err, gatehouse.ENOTFOUND)

	// A *gatehouse.Error from fn comes back as it was.
	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{TenantID: tn.ID, Mail: "ADA@example.com"})
	})
	wantCode(t, "Update with a conflicting CreateUser", err, gatehouse.ECONFLICT, "ADA@example.com")
}

// testConcurrentUpdateUser checks that concurrent updaters of one user do
// not lose each other's writes.
func testConcurrentUpdateUser(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	u := newUser(t, s, tn.ID, "ada@example.com")
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			errs <- s.Update(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.UpdateUser(ctx, tn.ID, u.ID, func(u *gatehouse.User) error {
					u.JobTitle = increment(u.JobTitle)
					return nil
				})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got, err := s.User(ctx, tn.ID, u.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if got.JobTitle != strconv.Itoa(n) {
		t.Errorf("counter = %q after %d concurrent increments, want %d", got.JobTitle, n, n)
	}
}

// increment treats s as a decimal counter ("" is 0) and returns it plus
// one: concurrency tests count their writes in a text field.
func increment(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}
