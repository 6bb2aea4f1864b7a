package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// fullUser returns a user of the tenant with every field set.
func fullUser(tenantID, mail string) *gatehouse.User {
	return &gatehouse.User{
		TenantID:       tenantID,
		Mail:           mail,
		DisplayName:    "Ada Lovelace",
		GivenName:      "Ada",
		Surname:        "Lovelace",
		City:           "London",
		Country:        "GB",
		PostalCode:     "SW1Y 4LE",
		State:          "Greater London",
		StreetAddress:  "12 St James's Square", // a quote, for the SQL
		JobTitle:       "Analyst",
		AccountEnabled: true,
		PasswordHash:   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		CustomAttributes: map[string]string{
			"loyaltyTier": "gold",
			"note":        `Ünïcødé ✓ "quoted" ?`,
		},
	}
}

func testUsers(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	c := startClock()
	ada := fullUser(tn.ID, "Ada.Lovelace@Example.com")
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, ada) })
	if ada.ID == "" {
		t.Fatal("CreateUser left ID empty")
	}
	c.check(t, "CreatedAt", ada.CreatedAt)
	c.check(t, "UpdatedAt", ada.UpdatedAt)
	want := *ada

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.User(ctx, tn.ID, ada.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("User mismatch (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "CreatedAt", got.CreatedAt)
		for _, mail := range []string{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", " ADA.LOVELACE@EXAMPLE.COM "} {
			got, err := s.UserByMail(ctx, tn.ID, mail)
			if err != nil {
				t.Fatalf("UserByMail(%q): %v", mail, err)
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("UserByMail(%q) mismatch (-want +got):\n%s", mail, diff)
			}
		}
	})

	t.Run("ZeroValues", func(t *testing.T) {
		// No custom attributes, no failed sign-in, disabled: all read back
		// as they were.
		u := &gatehouse.User{TenantID: tn.ID, Mail: "bare@example.com"}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u) })
		got, err := s.User(ctx, tn.ID, u.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("User mismatch (-want +got):\n%s", diff)
		}
		if got.CustomAttributes != nil {
			t.Errorf("got CustomAttributes %#v; want nil", got.CustomAttributes)
		}
	})

	t.Run("GivenID", func(t *testing.T) {
		u := &gatehouse.User{ID: "given-id", TenantID: tn.ID, Mail: "given@example.com"}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u) })
		if _, err := s.User(ctx, tn.ID, "given-id"); err != nil {
			t.Errorf("User(given-id): %v", err)
		}
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUser(ctx, &gatehouse.User{ID: "given-id", TenantID: tn.ID, Mail: "other@example.com"})
		})
		wantCode(t, "CreateUser with a taken ID", err, gatehouse.ECONFLICT, "given-id")
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.User(ctx, tn.ID, "no-such-user")
		wantCode(t, "User", err, gatehouse.ENOTFOUND, "no-such-user")
		_, err = s.UserByMail(ctx, tn.ID, "nobody@example.com")
		wantCode(t, "UserByMail", err, gatehouse.ENOTFOUND, "nobody@example.com")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, tn.ID, "no-such-user", func(*gatehouse.User) error { return nil })
			return err
		})
		wantCode(t, "UpdateUser", err, gatehouse.ENOTFOUND, "no-such-user")
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, "no-such-user") })
		wantCode(t, "DeleteUser", err, gatehouse.ENOTFOUND, "no-such-user")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUser(ctx, &gatehouse.User{TenantID: "no-such-tenant", Mail: "x@example.com"})
		})
		wantCode(t, "CreateUser in a missing tenant", err, gatehouse.ENOTFOUND)
	})

	t.Run("DuplicateMail", func(t *testing.T) {
		for _, mail := range []string{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateUser(ctx, &gatehouse.User{TenantID: tn.ID, Mail: mail})
			})
			wantCode(t, fmt.Sprintf("CreateUser(%q)", mail), err, gatehouse.ECONFLICT, mail)
		}
		// Another tenant may have a user with the same mail.
		other := newTenant(t, s, "fabrikam")
		newUser(t, s, other.ID, "ada.lovelace@example.com")
	})

	t.Run("Update", func(t *testing.T) {
		c := startClock()
		var got *gatehouse.User
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateUser(ctx, tn.ID, ada.ID, func(u *gatehouse.User) error {
				u.Mail = "ADA.LOVELACE@example.com" // the same address in other case
				u.JobTitle = "Countess"
				u.AccountEnabled = false
				u.CustomAttributes["loyaltyTier"] = "platinum"
				u.City = ""
				// None of these can change.
				u.ID, u.TenantID, u.CreatedAt = "x", "y", oddTime(4)
				return nil
			})
			return err
		})
		c.check(t, "UpdatedAt", got.UpdatedAt)
		if got.UpdatedAt.Before(ada.UpdatedAt) {
			t.Errorf("UpdatedAt went back from %v to %v", ada.UpdatedAt, got.UpdatedAt)
		}
		want.Mail, want.JobTitle, want.AccountEnabled = "ADA.LOVELACE@example.com", "Countess", false
		want.CustomAttributes = map[string]string{"loyaltyTier": "platinum", "note": ada.CustomAttributes["note"]}
		want.City = ""
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateUser returned (-want +got):\n%s", diff)
		}
		read, err := s.User(ctx, tn.ID, ada.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if diff := cmp.Diff(&want, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
	})

	t.Run("UpdateToTakenMail", func(t *testing.T) {
		grace := newUser(t, s, tn.ID, "grace@example.com")
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, tn.ID, grace.ID, func(u *gatehouse.User) error {
				u.Mail = "Ada.Lovelace@EXAMPLE.com"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateUser to a taken mail", err, gatehouse.ECONFLICT, "Ada.Lovelace@EXAMPLE.com")
		got, err := s.User(ctx, tn.ID, grace.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if diff := cmp.Diff(grace, got); diff != "" {
			t.Errorf("user changed by a failed update (-want +got):\n%s", diff)
		}
		// The new address is free once its owner moves away from it.
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, tn.ID, grace.ID, func(u *gatehouse.User) error {
				u.Mail = "Grace.Hopper@example.com"
				return nil
			})
			return err
		})
		if _, err := s.UserByMail(ctx, tn.ID, "grace.hopper@EXAMPLE.com"); err != nil {
			t.Errorf("UserByMail(new mail): %v", err)
		}
		_, err = s.UserByMail(ctx, tn.ID, "grace@example.com")
		wantCode(t, "UserByMail(old mail)", err, gatehouse.ENOTFOUND)
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		before, err := s.User(ctx, tn.ID, ada.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUser(ctx, tn.ID, ada.ID, func(u *gatehouse.User) error {
				u.DisplayName = "changed"
				u.JobTitle = "changed"
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateUser returned %v, want the updater's error", err)
			}
			return nil // commit whatever happened
		})
		got, err := s.User(ctx, tn.ID, ada.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if diff := cmp.Diff(before, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		u := newUser(t, s, tn.ID, "leaving@example.com")
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, u.ID) })
		_, err := s.User(ctx, tn.ID, u.ID)
		wantCode(t, "User after DeleteUser", err, gatehouse.ENOTFOUND)
		_, err = s.UserByMail(ctx, tn.ID, "leaving@example.com")
		wantCode(t, "UserByMail after DeleteUser", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, u.ID) })
		wantCode(t, "DeleteUser again", err, gatehouse.ENOTFOUND)
		// The address is free again.
		newUser(t, s, tn.ID, "Leaving@example.com")
	})
}

// testUserIsolation checks that nothing reaches one tenant's users through
// another tenant's ID.
func testUserIsolation(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	a := newTenant(t, s, "tenant-a")
	b := newTenant(t, s, "tenant-b")
	ua := newUser(t, s, a.ID, "only-in-a@example.com")
	ub := newUser(t, s, b.ID, "only-in-b@example.com")

	_, err := s.User(ctx, b.ID, ua.ID)
	wantCode(t, "User(B, A's user)", err, gatehouse.ENOTFOUND)
	_, err = s.UserByMail(ctx, b.ID, ua.Mail)
	wantCode(t, "UserByMail(B, A's mail)", err, gatehouse.ENOTFOUND)
	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.User(ctx, b.ID, ua.ID) // inside a transaction too
		return err
	})
	wantCode(t, "Tx.User(B, A's user)", err, gatehouse.ENOTFOUND)
	err = updateErr(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.UpdateUser(ctx, b.ID, ua.ID, func(u *gatehouse.User) error {
			u.DisplayName = "hijacked"
			return nil
		})
		return err
	})
	wantCode(t, "UpdateUser(B, A's user)", err, gatehouse.ENOTFOUND)
	err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, b.ID, ua.ID) })
	wantCode(t, "DeleteUser(B, A's user)", err, gatehouse.ENOTFOUND)

	got, err := s.User(ctx, a.ID, ua.ID)
	if err != nil {
		t.Fatalf("User(A, A's user): %v", err)
	}
	if diff := cmp.Diff(ua, got); diff != "" {
		t.Errorf("A's user changed through B (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		tenant string
		want   []string
	}{
		{a.ID, []string{ua.ID}},
		{b.ID, []string{ub.ID}},
	} {
		users, _, err := s.ListUsers(ctx, tc.tenant, gatehouse.ListOptions{})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if diff := cmp.Diff(tc.want, ids(users, userID)); diff != "" {
			t.Errorf("ListUsers(%s) IDs (-want +got):\n%s", tc.tenant, diff)
		}
		users, _, err = s.ListUsers(ctx, tc.tenant, gatehouse.ListOptions{Filter: map[string]string{"mail": ua.Mail}})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if tc.tenant == b.ID && len(users) != 0 {
			t.Errorf("ListUsers(B, mail of A's user) = %v, want none", ids(users, userID))
		}
	}
}

func testUserPaging(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	var want []string
	update(t, s, func(tx gatehouse.Tx) error {
		for i := range 25 {
			u := &gatehouse.User{TenantID: tn.ID, Mail: fmt.Sprintf("user%02d@example.com", i)}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			want = append(want, u.ID)
			// Users of another tenant sort among them but never show.
			if err := tx.CreateUser(ctx, &gatehouse.User{TenantID: other.ID, Mail: u.Mail}); err != nil {
				return err
			}
		}
		return nil
	})
	slices.Sort(want)

	for _, tc := range []struct {
		top       int
		wantSizes []int
	}{
		{10, []int{10, 10, 5}},
		{24, []int{24, 1}},
		{25, []int{25}},
		{26, []int{25}},
		{1, slices.Repeat([]int{1}, 25)},
		{0, []int{25}},    // the default page size
		{5000, []int{25}}, // capped at the maximum
	} {
		t.Run(fmt.Sprintf("Top%d", tc.top), func(t *testing.T) {
			users, sizes := allPages(t, tc.top, func(opt gatehouse.ListOptions) ([]*gatehouse.User, string, error) {
				return s.ListUsers(ctx, tn.ID, opt)
			})
			if diff := cmp.Diff(tc.wantSizes, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, ids(users, userID)); diff != "" {
				t.Errorf("IDs over all pages, in order (-want +got):\n%s", diff)
			}
		})
	}
}

func testUserFilters(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	mk := func(mail, name string) *gatehouse.User {
		u := &gatehouse.User{TenantID: tn.ID, Mail: mail, DisplayName: name}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u) })
		return u
	}
	ada := mk("Ada@Example.com", "Ada")
	ada2 := mk("ada2@example.com", "Ada")
	bob := mk("bob@example.com", "Bob")
	want := func(us ...*gatehouse.User) []string {
		out := ids(us, userID)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		filter map[string]string
		want   []string
	}{
		{"MailExact", map[string]string{"mail": "Ada@Example.com"}, want(ada)},
		{"MailOtherCase", map[string]string{"mail": "ADA@EXAMPLE.COM"}, want(ada)},
		{"MailNoMatch", map[string]string{"mail": "carol@example.com"}, nil},
		{"DisplayName", map[string]string{"displayName": "Ada"}, want(ada, ada2)},
		{"Both", map[string]string{"displayName": "Ada", "mail": "ada2@example.com"}, want(ada2)},
		{"BothNoMatch", map[string]string{"displayName": "Bob", "mail": "ada2@example.com"}, nil},
		{"None", nil, want(ada, ada2, bob)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, next, err := s.ListUsers(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if next != "" {
				t.Errorf("next = %q, want \"\"", next)
			}
			if diff := cmp.Diff(tc.want, ids(users, userID), cmpEmpty); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("FilterPaging", func(t *testing.T) {
		users, sizes := allPages(t, 1, func(opt gatehouse.ListOptions) ([]*gatehouse.User, string, error) {
			opt.Filter = map[string]string{"displayName": "Ada"}
			return s.ListUsers(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(want(ada, ada2), ids(users, userID)); diff != "" {
			t.Errorf("IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{1, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
	})
	t.Run("UnknownField", func(t *testing.T) {
		_, _, err := s.ListUsers(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"jobTitle": "x"}})
		wantCode(t, "ListUsers filtered on jobTitle", err, gatehouse.EINVALID, "jobTitle")
	})
}
