package storetest

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func roleAssignmentID(a *gatehouse.RoleAssignment) string { return a.ID }

// assignRole gives the user the role.
func assignRole(t *testing.T, s gatehouse.Store, u *gatehouse.User, role string) *gatehouse.RoleAssignment {
	t.Helper()
	a := &gatehouse.RoleAssignment{TenantID: u.TenantID, RoleDefinitionID: role, PrincipalID: u.ID, DirectoryScopeID: "/"}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateRoleAssignment(t.Context(), a) })
	return a
}

func testRoleAssignments(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	stranger := newUser(t, s, other.ID, "stranger@example.com")

	c := startClock()
	adaGA := &gatehouse.RoleAssignment{TenantID: tn.ID, RoleDefinitionID: gatehouse.RoleGlobalAdministrator, PrincipalID: ada.ID, DirectoryScopeID: "/"}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateRoleAssignment(ctx, adaGA) })
	if adaGA.ID == "" {
		t.Fatal("CreateRoleAssignment left ID empty")
	}
	c.check(t, "CreatedAt", adaGA.CreatedAt)
	adaUA := assignRole(t, s, ada, gatehouse.RoleUserAdministrator)
	bobGA := assignRole(t, s, bob, gatehouse.RoleGlobalAdministrator)
	strangerGA := assignRole(t, s, stranger, gatehouse.RoleGlobalAdministrator)

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.RoleAssignment(ctx, tn.ID, adaGA.ID)
		if err != nil {
			t.Fatalf("RoleAssignment: %v", err)
		}
		if diff := cmp.Diff(adaGA, got); diff != "" {
			t.Errorf("RoleAssignment mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("List", func(t *testing.T) {
		sorted := func(as ...*gatehouse.RoleAssignment) []string {
			out := ids(as, roleAssignmentID)
			slices.Sort(out)
			return out
		}
		for _, tc := range []struct {
			name   string
			filter map[string]string
			want   []string
		}{
			{"All", nil, sorted(adaGA, adaUA, bobGA)},
			{"Principal", map[string]string{"principalId": ada.ID}, sorted(adaGA, adaUA)},
			{"Role", map[string]string{"roleDefinitionId": gatehouse.RoleGlobalAdministrator}, sorted(adaGA, bobGA)},
			{"Both", map[string]string{"roleDefinitionId": gatehouse.RoleGlobalAdministrator, "principalId": bob.ID}, sorted(bobGA)},
			{"NoMatch", map[string]string{"roleDefinitionId": gatehouse.RoleSecurityAdministrator}, nil},
			{"OtherTenantsPrincipal", map[string]string{"principalId": stranger.ID}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				as, next, err := s.ListRoleAssignments(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
				if err != nil {
					t.Fatalf("ListRoleAssignments: %v", err)
				}
				if diff := cmp.Diff(tc.want, ids(as, roleAssignmentID), cmpEmpty); diff != "" || next != "" {
					t.Errorf("next %q, IDs (-want +got):\n%s", next, diff)
				}
			})
		}
		as, sizes := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.RoleAssignment, string, error) {
			return s.ListRoleAssignments(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(sorted(adaGA, adaUA, bobGA), ids(as, roleAssignmentID)); diff != "" {
			t.Errorf("paged IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		_, _, err := s.ListRoleAssignments(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"directoryScopeId": "/"}})
		wantCode(t, "ListRoleAssignments filtered on directoryScopeId", err, gatehouse.EINVALID, "directoryScopeId")
	})

	t.Run("Duplicate", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{
				TenantID: tn.ID, RoleDefinitionID: gatehouse.RoleGlobalAdministrator, PrincipalID: ada.ID, DirectoryScopeID: "/",
			})
		})
		wantCode(t, "CreateRoleAssignment twice", err, gatehouse.ECONFLICT, ada.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{
				ID: adaGA.ID, TenantID: tn.ID, RoleDefinitionID: gatehouse.RoleSecurityAdministrator, PrincipalID: ada.ID, DirectoryScopeID: "/",
			})
		})
		wantCode(t, "CreateRoleAssignment with a taken ID", err, gatehouse.ECONFLICT, adaGA.ID)
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, tc := range []struct {
			name              string
			tenant, principal string
		}{
			{"MissingPrincipal", tn.ID, "no-such-user"},
			{"PrincipalOfOtherTenant", tn.ID, stranger.ID},
			{"MissingTenant", "no-such-tenant", ada.ID},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{
					TenantID: tc.tenant, RoleDefinitionID: gatehouse.RoleSecurityAdministrator, PrincipalID: tc.principal, DirectoryScopeID: "/",
				})
			})
			wantCode(t, "CreateRoleAssignment "+tc.name, err, gatehouse.ENOTFOUND)
		}
		_, err := s.RoleAssignment(ctx, tn.ID, "no-such-assignment")
		wantCode(t, "RoleAssignment", err, gatehouse.ENOTFOUND, "no-such-assignment")
		_, err = s.RoleAssignment(ctx, tn.ID, strangerGA.ID)
		wantCode(t, "RoleAssignment(other tenant's)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteRoleAssignment(ctx, tn.ID, strangerGA.ID) })
		wantCode(t, "DeleteRoleAssignment(other tenant's)", err, gatehouse.ENOTFOUND)
		if _, err := s.RoleAssignment(ctx, other.ID, strangerGA.ID); err != nil {
			t.Errorf("RoleAssignment(its own tenant) after a delete through another: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteRoleAssignment(ctx, tn.ID, adaUA.ID) })
		_, err := s.RoleAssignment(ctx, tn.ID, adaUA.ID)
		wantCode(t, "RoleAssignment after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteRoleAssignment(ctx, tn.ID, adaUA.ID) })
		wantCode(t, "DeleteRoleAssignment again", err, gatehouse.ENOTFOUND)
		// The role can be assigned again.
		assignRole(t, s, ada, gatehouse.RoleUserAdministrator)
	})
}

// testDeleteUserCascades checks that deleting a user removes its group
// memberships and role assignments, and nobody else's.
func testDeleteUserCascades(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	g1 := newGroup(t, s, tn.ID, "One")
	g2 := newGroup(t, s, tn.ID, "Two")
	update(t, s, func(tx gatehouse.Tx) error {
		for _, m := range []struct{ g, u string }{{g1.ID, ada.ID}, {g2.ID, ada.ID}, {g1.ID, bob.ID}} {
			if err := tx.AddGroupMember(ctx, tn.ID, m.g, m.u); err != nil {
				return err
			}
		}
		return nil
	})
	adaGA := assignRole(t, s, ada, gatehouse.RoleGlobalAdministrator)
	assignRole(t, s, ada, gatehouse.RoleUserAdministrator)
	bobGA := assignRole(t, s, bob, gatehouse.RoleGlobalAdministrator)

	update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, ada.ID) })

	members, _, err := s.ListGroupMembers(ctx, tn.ID, g1.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListGroupMembers: %v", err)
	}
	if diff := cmp.Diff([]string{bob.ID}, ids(members, userID)); diff != "" {
		t.Errorf("members of g1 after deleting ada (-want +got):\n%s", diff)
	}
	members, _, err = s.ListGroupMembers(ctx, tn.ID, g2.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListGroupMembers: %v", err)
	}
	if len(members) != 0 {
		t.Errorf("members of g2 after deleting ada = %v, want none", ids(members, userID))
	}
	as, _, err := s.ListRoleAssignments(ctx, tn.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListRoleAssignments: %v", err)
	}
	if diff := cmp.Diff([]string{bobGA.ID}, ids(as, roleAssignmentID)); diff != "" {
		t.Errorf("role assignments after deleting ada (-want +got):\n%s", diff)
	}
	_, err = s.RoleAssignment(ctx, tn.ID, adaGA.ID)
	wantCode(t, "RoleAssignment of the deleted user", err, gatehouse.ENOTFOUND)

	// A new user with the old ID starts with nothing: the rows are gone,
	// not hidden.
	update(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{ID: ada.ID, TenantID: tn.ID, Mail: "ada@example.com"})
	})
	gids, err := s.UserGroupIDs(ctx, tn.ID, ada.ID)
	if err != nil {
		t.Fatalf("UserGroupIDs: %v", err)
	}
	if len(gids) != 0 {
		t.Errorf("UserGroupIDs of a recreated user = %v, want none", gids)
	}
	as, _, err = s.ListRoleAssignments(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"principalId": ada.ID}})
	if err != nil {
		t.Fatalf("ListRoleAssignments: %v", err)
	}
	if len(as) != 0 {
		t.Errorf("role assignments of a recreated user = %v, want none", ids(as, roleAssignmentID))
	}
}
