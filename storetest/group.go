package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func groupID(g *gatehouse.Group) string { return g.ID }

func testGroups(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	c := startClock()
	admins := &gatehouse.Group{TenantID: tn.ID, DisplayName: "Admins", Description: "People who can do 'anything' ?", MailNickname: "admins.all-{x}",
		IsAssignableToRole: true}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateGroup(ctx, admins) })
	if admins.ID == "" {
		t.Fatal("CreateGroup left ID empty")
	}
	c.check(t, "CreatedAt", admins.CreatedAt)
	staff := newGroup(t, s, tn.ID, "Staff")
	otherAdmins := newGroup(t, s, other.ID, "Admins")

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Group(ctx, tn.ID, admins.ID)
		if err != nil {
			t.Fatalf("Group: %v", err)
		}
		if diff := cmp.Diff(admins, got); diff != "" {
			t.Errorf("Group mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("List", func(t *testing.T) {
		want := []string{admins.ID, staff.ID}
		slices.Sort(want)
		for _, tc := range []struct {
			name   string
			filter map[string]string
			want   []string
		}{
			{"All", nil, want},
			{"DisplayName", map[string]string{"displayName": "Admins"}, []string{admins.ID}},
			{"NoMatch", map[string]string{"displayName": "Nobody"}, nil},
		} {
			groups, next, err := s.ListGroups(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListGroups %s: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, ids(groups, groupID), cmpEmpty); diff != "" || next != "" {
				t.Errorf("ListGroups %s: next %q, IDs (-want +got):\n%s", tc.name, next, diff)
			}
		}
		groups, sizes := allPages(t, 1, func(opt gatehouse.ListOptions) ([]*gatehouse.Group, string, error) {
			return s.ListGroups(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(want, ids(groups, groupID)); diff != "" {
			t.Errorf("paged IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{1, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		_, _, err := s.ListGroups(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"description": "x"}})
		wantCode(t, "ListGroups filtered on description", err, gatehouse.EINVALID, "description")
	})

	t.Run("Isolation", func(t *testing.T) {
		_, err := s.Group(ctx, other.ID, admins.ID)
		wantCode(t, "Group(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateGroup(ctx, other.ID, admins.ID, func(g *gatehouse.Group) error { return nil })
			return err
		})
		wantCode(t, "UpdateGroup(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGroup(ctx, other.ID, admins.ID) })
		wantCode(t, "DeleteGroup(other tenant)", err, gatehouse.ENOTFOUND)
		groups, _, err := s.ListGroups(ctx, other.ID, gatehouse.ListOptions{})
		if err != nil {
			t.Fatalf("ListGroups: %v", err)
		}
		if diff := cmp.Diff([]string{otherAdmins.ID}, ids(groups, groupID)); diff != "" {
			t.Errorf("ListGroups(other tenant) IDs (-want +got):\n%s", diff)
		}
	})

	t.Run("Update", func(t *testing.T) {
		var got *gatehouse.Group
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateGroup(ctx, tn.ID, staff.ID, func(g *gatehouse.Group) error {
				g.DisplayName = "All staff"
				g.Description = "Everyone"
				g.MailNickname = "staff"
				g.ID, g.TenantID, g.CreatedAt = "x", "y", oddTime(1) // cannot change
				g.IsAssignableToRole = true                          // set at creation only
				return nil
			})
			return err
		})
		want := *staff
		want.DisplayName, want.Description, want.MailNickname = "All staff", "Everyone", "staff"
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateGroup returned (-want +got):\n%s", diff)
		}
		read, err := s.Group(ctx, tn.ID, staff.ID)
		if err != nil {
			t.Fatalf("Group: %v", err)
		}
		if diff := cmp.Diff(&want, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		staff = read
	})

	t.Run("RoleAssignableStays", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateGroup(ctx, tn.ID, admins.ID, func(g *gatehouse.Group) error {
				g.IsAssignableToRole = false
				return nil
			})
			return err
		})
		got, err := s.Group(ctx, tn.ID, admins.ID)
		if err != nil {
			t.Fatalf("Group: %v", err)
		}
		if !got.IsAssignableToRole {
			t.Errorf("UpdateGroup cleared IsAssignableToRole, which is set at creation only")
		}
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateGroup(ctx, tn.ID, admins.ID, func(g *gatehouse.Group) error {
				g.DisplayName = "changed"
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateGroup returned %v, want the updater's error", err)
			}
			return nil
		})
		got, err := s.Group(ctx, tn.ID, admins.ID)
		if err != nil {
			t.Fatalf("Group: %v", err)
		}
		if diff := cmp.Diff(admins, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Group(ctx, tn.ID, "no-such-group")
		wantCode(t, "Group", err, gatehouse.ENOTFOUND, "no-such-group")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateGroup(ctx, &gatehouse.Group{TenantID: "no-such-tenant", DisplayName: "x"})
		})
		wantCode(t, "CreateGroup in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateGroup(ctx, &gatehouse.Group{ID: admins.ID, TenantID: tn.ID, DisplayName: "x"})
		})
		wantCode(t, "CreateGroup with a taken ID", err, gatehouse.ECONFLICT, admins.ID)
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGroup(ctx, tn.ID, staff.ID) })
		_, err := s.Group(ctx, tn.ID, staff.ID)
		wantCode(t, "Group after DeleteGroup", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGroup(ctx, tn.ID, staff.ID) })
		wantCode(t, "DeleteGroup again", err, gatehouse.ENOTFOUND)
	})
}

func testGroupMembers(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	g1 := newGroup(t, s, tn.ID, "One")
	g2 := newGroup(t, s, tn.ID, "Two")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	carol := newUser(t, s, tn.ID, "carol@example.com")
	stranger := newUser(t, s, other.ID, "stranger@example.com")
	strangersGroup := newGroup(t, s, other.ID, "Theirs")
	add := func(g *gatehouse.Group, users ...*gatehouse.User) {
		t.Helper()
		update(t, s, func(tx gatehouse.Tx) error {
			for _, u := range users {
				if err := tx.AddGroupMember(ctx, tn.ID, g.ID, u.ID); err != nil {
					return err
				}
			}
			return nil
		})
	}
	add(g1, ada, bob, carol)
	add(g2, ada)

	// members checks the members of g, in ID order, page by page.
	members := func(t *testing.T, g *gatehouse.Group, want ...*gatehouse.User) {
		t.Helper()
		want = slices.Clone(want)
		slices.SortFunc(want, func(a, b *gatehouse.User) int { return strings.Compare(a.ID, b.ID) })
		got, _ := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.User, string, error) {
			return s.ListGroupMembers(ctx, tn.ID, g.ID, opt)
		})
		if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
			t.Errorf("members of %s (-want +got):\n%s", g.DisplayName, diff)
		}
	}
	groupIDs := func(t *testing.T, u *gatehouse.User, want ...*gatehouse.Group) {
		t.Helper()
		got, err := s.UserGroupIDs(ctx, tn.ID, u.ID)
		if err != nil {
			t.Fatalf("UserGroupIDs: %v", err)
		}
		wantIDs := ids(want, groupID)
		slices.Sort(wantIDs)
		if diff := cmp.Diff(wantIDs, got, cmpEmpty); diff != "" {
			t.Errorf("UserGroupIDs(%s) (-want +got):\n%s", u.Mail, diff)
		}
	}

	t.Run("List", func(t *testing.T) {
		members(t, g1, ada, bob, carol)
		members(t, g2, ada)
		groupIDs(t, ada, g1, g2)
		groupIDs(t, bob, g1)
		users, _, err := s.ListGroupMembers(ctx, tn.ID, g1.ID, gatehouse.ListOptions{Filter: map[string]string{"mail": "BOB@example.com"}})
		if err != nil {
			t.Fatalf("ListGroupMembers filtered: %v", err)
		}
		if diff := cmp.Diff([]string{bob.ID}, ids(users, userID)); diff != "" {
			t.Errorf("ListGroupMembers filtered on mail (-want +got):\n%s", diff)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.AddGroupMember(ctx, tn.ID, g1.ID, bob.ID) })
		wantCode(t, "AddGroupMember twice", err, gatehouse.ECONFLICT, bob.ID)
		members(t, g1, ada, bob, carol)
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, tc := range []struct {
			name            string
			tenant, g, user string
		}{
			{"MissingGroup", tn.ID, "no-such-group", ada.ID},
			{"MissingUser", tn.ID, g1.ID, "no-such-user"},
			{"UserOfOtherTenant", tn.ID, g1.ID, stranger.ID},
			{"GroupOfOtherTenant", tn.ID, strangersGroup.ID, ada.ID},
			{"ThroughOtherTenant", other.ID, g1.ID, ada.ID},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.AddGroupMember(ctx, tc.tenant, tc.g, tc.user) })
			wantCode(t, "AddGroupMember "+tc.name, err, gatehouse.ENOTFOUND)
		}
		_, _, err := s.ListGroupMembers(ctx, tn.ID, "no-such-group", gatehouse.ListOptions{})
		wantCode(t, "ListGroupMembers(missing group)", err, gatehouse.ENOTFOUND, "no-such-group")
		_, _, err = s.ListGroupMembers(ctx, other.ID, g1.ID, gatehouse.ListOptions{})
		wantCode(t, "ListGroupMembers(other tenant)", err, gatehouse.ENOTFOUND)
		_, err = s.UserGroupIDs(ctx, tn.ID, "no-such-user")
		wantCode(t, "UserGroupIDs(missing user)", err, gatehouse.ENOTFOUND, "no-such-user")
		_, err = s.UserGroupIDs(ctx, other.ID, ada.ID)
		wantCode(t, "UserGroupIDs(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.RemoveGroupMember(ctx, tn.ID, g2.ID, bob.ID) })
		wantCode(t, "RemoveGroupMember(not a member)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.RemoveGroupMember(ctx, other.ID, g1.ID, bob.ID) })
		wantCode(t, "RemoveGroupMember(other tenant)", err, gatehouse.ENOTFOUND)
		members(t, g1, ada, bob, carol)
	})

	t.Run("Remove", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.RemoveGroupMember(ctx, tn.ID, g1.ID, bob.ID) })
		members(t, g1, ada, carol)
		groupIDs(t, bob)
		err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.RemoveGroupMember(ctx, tn.ID, g1.ID, bob.ID) })
		wantCode(t, "RemoveGroupMember again", err, gatehouse.ENOTFOUND)
		add(g1, bob) // and back
		members(t, g1, ada, bob, carol)
	})

	t.Run("DeleteGroup", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGroup(ctx, tn.ID, g1.ID) })
		groupIDs(t, ada, g2)
		groupIDs(t, bob)
		// A new group with the old ID starts empty.
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateGroup(ctx, &gatehouse.Group{ID: g1.ID, TenantID: tn.ID, DisplayName: "One again"})
		})
		members(t, g1)
	})
}
