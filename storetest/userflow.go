package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func userFlowID(f *gatehouse.UserFlow) string { return f.ID }

// newApplication creates an application with the appId in the tenant.
func newApplication(t *testing.T, s gatehouse.Store, tenantID, appID string) *gatehouse.Application {
	t.Helper()
	a := &gatehouse.Application{TenantID: tenantID, AppID: appID, DisplayName: appID}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateApplication(t.Context(), a) })
	return a
}

// newUserFlow creates a flow with the display name and applications in the
// tenant.
func newUserFlow(t *testing.T, s gatehouse.Store, tenantID, name string, appIDs ...string) *gatehouse.UserFlow {
	t.Helper()
	f := &gatehouse.UserFlow{TenantID: tenantID, DisplayName: name, IdentityProvider: gatehouse.IdentityProviderEmailOTP, AppIDs: appIDs}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserFlow(t.Context(), f) })
	return f
}

// flowOfApp returns the ID of the flow the application uses, "" for none.
func flowOfApp(t *testing.T, s gatehouse.Store, tenantID, appID string) string {
	t.Helper()
	f, err := s.UserFlowByAppID(t.Context(), tenantID, appID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatalf("UserFlowByAppID(%s): %v", appID, err)
	}
	return f.ID
}

// usesFlowMessage is the conflict message for an application that uses
// another flow.
func usesFlowMessage(appID, flow string) string {
	return fmt.Sprintf("Application %q already uses the user flow %q.", appID, flow)
}

func testUserFlows(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	for _, appID := range []string{"app-1", "app-2", "app-3", "app-4"} {
		newApplication(t, s, tn.ID, appID)
	}
	newApplication(t, s, other.ID, "app-1")
	newApplication(t, s, other.ID, "theirs-only")

	c := startClock()
	f := &gatehouse.UserFlow{
		TenantID:         tn.ID,
		DisplayName:      "Customers' sign-up ?",
		Description:      `Ünïcødé ✓ "quoted"`,
		IdentityProvider: gatehouse.IdentityProviderEmailPassword,
		SignUpAllowed:    true,
		Attributes: []gatehouse.FlowAttribute{
			{Name: "surname", Label: "Family name", DataType: "string", Required: true},
			{Name: "displayName", Label: "Display name", DataType: "string"},
			{Name: "loyaltyNumber", Label: "Loyalty number", DataType: "int64", Custom: true},
			{Name: "newsletter", Label: "Send me news", DataType: "boolean", Custom: true, Required: true},
		},
		AppIDs: []string{"app-2", "app-1", "app-2"}, // a duplicate
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserFlow(ctx, f) })
	if f.ID == "" {
		t.Fatal("CreateUserFlow left ID empty")
	}
	c.check(t, "CreatedAt", f.CreatedAt)
	c.check(t, "UpdatedAt", f.UpdatedAt)
	if diff := cmp.Diff([]string{"app-2", "app-1"}, f.AppIDs); diff != "" {
		t.Errorf("AppIDs after CreateUserFlow, duplicates dropped in order (-want +got):\n%s", diff)
	}
	want := *f

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UserFlow mismatch (-want +got):\n%s", diff)
		}
		for _, appID := range []string{"app-1", "app-2"} {
			got, err := s.UserFlowByAppID(ctx, tn.ID, appID)
			if err != nil {
				t.Fatalf("UserFlowByAppID(%s): %v", appID, err)
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("UserFlowByAppID(%s) mismatch (-want +got):\n%s", appID, diff)
			}
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.UserFlow(ctx, tn.ID, f.ID) // inside a transaction too
			if err == nil {
				if diff := cmp.Diff(&want, got); diff != "" {
					t.Errorf("Tx.UserFlow mismatch (-want +got):\n%s", diff)
				}
			}
			return err
		})
		if err != nil {
			t.Errorf("Tx.UserFlow: %v", err)
		}
		flows, next, err := s.ListUserFlows(ctx, tn.ID, gatehouse.ListOptions{})
		if err != nil {
			t.Fatalf("ListUserFlows: %v", err)
		}
		if diff := cmp.Diff([]*gatehouse.UserFlow{&want}, flows); diff != "" || next != "" {
			t.Errorf("ListUserFlows: next %q, (-want +got):\n%s", next, diff)
		}
		_, err = s.UserFlowByAppID(ctx, tn.ID, "app-3")
		wantCode(t, "UserFlowByAppID(app without a flow)", err, gatehouse.ENOTFOUND, "app-3")
		_, err = s.UserFlowByAppID(ctx, tn.ID, "no-such-app")
		wantCode(t, "UserFlowByAppID(missing app)", err, gatehouse.ENOTFOUND, "no-such-app")
	})

	t.Run("ZeroValues", func(t *testing.T) {
		z := &gatehouse.UserFlow{TenantID: tn.ID, DisplayName: "Bare", IdentityProvider: gatehouse.IdentityProviderEmailOTP,
			Attributes: []gatehouse.FlowAttribute{}, AppIDs: []string{}}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUserFlow(ctx, z) })
		got, err := s.UserFlow(ctx, tn.ID, z.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if got.Attributes != nil || got.AppIDs != nil || got.SignUpAllowed || got.Description != "" {
			t.Errorf("UserFlow = %+v, want no attributes, no apps (nil), sign-up not allowed", got)
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserFlow(ctx, tn.ID, z.ID) })
	})

	t.Run("AppUsedByAnotherFlow", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{TenantID: tn.ID, DisplayName: "Second",
				IdentityProvider: gatehouse.IdentityProviderEmailOTP, AppIDs: []string{"app-3", "app-1"}})
		})
		wantCode(t, "CreateUserFlow with an app of another flow", err, gatehouse.ECONFLICT, usesFlowMessage("app-1", want.DisplayName))
		var e *gatehouse.Error
		if errors.As(err, &e) && e.Field == "" {
			t.Errorf("conflict %v names no field", err)
		}
		// Nothing of the refused flow was written.
		if got := flowOfApp(t, s, tn.ID, "app-3"); got != "" {
			t.Errorf("app-3 uses flow %s after a refused CreateUserFlow, want none", got)
		}
		flows, _, err := s.ListUserFlows(ctx, tn.ID, gatehouse.ListOptions{})
		if err != nil {
			t.Fatalf("ListUserFlows: %v", err)
		}
		if diff := cmp.Diff([]string{f.ID}, ids(flows, userFlowID)); diff != "" {
			t.Errorf("flows after a refused CreateUserFlow (-want +got):\n%s", diff)
		}
		// The transaction goes on after the conflict.
		update(t, s, func(tx gatehouse.Tx) error {
			err := tx.CreateUserFlow(ctx, &gatehouse.UserFlow{TenantID: tn.ID, DisplayName: "Third", AppIDs: []string{"app-2"}})
			wantCode(t, "CreateUserFlow in a transaction", err, gatehouse.ECONFLICT, usesFlowMessage("app-2", want.DisplayName))
			g := &gatehouse.UserFlow{ID: "still-works", TenantID: tn.ID, DisplayName: "Fourth"}
			if err := tx.CreateUserFlow(ctx, g); err != nil {
				return err
			}
			return tx.DeleteUserFlow(ctx, tn.ID, g.ID)
		})
	})

	t.Run("UnknownApp", func(t *testing.T) {
		for _, appID := range []string{"no-such-app", "theirs-only"} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{TenantID: tn.ID, DisplayName: "X", AppIDs: []string{"app-3", appID}})
			})
			wantCode(t, "CreateUserFlow with app "+appID, err, gatehouse.ENOTFOUND, appID)
		}
		if got := flowOfApp(t, s, tn.ID, "app-3"); got != "" {
			t.Errorf("app-3 uses flow %s after refused CreateUserFlows, want none", got)
		}
	})

	t.Run("Isolation", func(t *testing.T) {
		// The other tenant's app-1 is another application, free to use a
		// flow of its own.
		theirs := newUserFlow(t, s, other.ID, want.DisplayName, "app-1")
		if got := flowOfApp(t, s, other.ID, "app-1"); got != theirs.ID {
			t.Errorf("other tenant's app-1 uses flow %q, want %q", got, theirs.ID)
		}
		if got := flowOfApp(t, s, tn.ID, "app-1"); got != f.ID {
			t.Errorf("app-1 uses flow %q, want %q", got, f.ID)
		}
		_, err := s.UserFlow(ctx, other.ID, f.ID)
		wantCode(t, "UserFlow(other tenant)", err, gatehouse.ENOTFOUND, f.ID)
		_, err = s.UserFlowByAppID(ctx, other.ID, "app-2")
		wantCode(t, "UserFlowByAppID(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, other.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.DisplayName = "hijacked"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateUserFlow(other tenant)", err, gatehouse.ENOTFOUND, f.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserFlow(ctx, other.ID, f.ID) })
		wantCode(t, "DeleteUserFlow(other tenant)", err, gatehouse.ENOTFOUND, f.ID)
		flows, _, err := s.ListUserFlows(ctx, other.ID, gatehouse.ListOptions{})
		if err != nil {
			t.Fatalf("ListUserFlows: %v", err)
		}
		if diff := cmp.Diff([]string{theirs.ID}, ids(flows, userFlowID)); diff != "" {
			t.Errorf("ListUserFlows(other tenant) (-want +got):\n%s", diff)
		}
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("flow changed through another tenant (-want +got):\n%s", diff)
		}
	})

	t.Run("Update", func(t *testing.T) {
		c := startClock()
		var got *gatehouse.UserFlow
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateUserFlow(ctx, tn.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.DisplayName = "Renamed"
				f.Description = ""
				f.IdentityProvider = gatehouse.IdentityProviderEmailOTP
				f.SignUpAllowed = false
				f.Attributes = f.Attributes[2:]
				f.Attributes[0].Label = "Member number"
				f.AppIDs = []string{"app-3", "app-2", "app-3"} // app-1 leaves, app-3 joins
				f.ID, f.TenantID, f.CreatedAt = "x", "y", oddTime(4)
				return nil
			})
			return err
		})
		c.check(t, "UpdatedAt", got.UpdatedAt)
		w := want
		w.DisplayName, w.Description = "Renamed", ""
		w.IdentityProvider, w.SignUpAllowed = gatehouse.IdentityProviderEmailOTP, false
		w.Attributes = slices.Clone(want.Attributes[2:])
		w.Attributes[0].Label = "Member number"
		w.AppIDs = []string{"app-3", "app-2"}
		w.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("UpdateUserFlow returned (-want +got):\n%s", diff)
		}
		read, err := s.UserFlowByAppID(ctx, tn.ID, "app-3")
		if err != nil {
			t.Fatalf("UserFlowByAppID(app-3): %v", err)
		}
		if diff := cmp.Diff(&w, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		if got := flowOfApp(t, s, tn.ID, "app-1"); got != "" {
			t.Errorf("app-1 uses flow %q after leaving it, want none", got)
		}
		want = w
		// The application that left is free for another flow.
		second := newUserFlow(t, s, tn.ID, "Second", "app-1")
		if got := flowOfApp(t, s, tn.ID, "app-1"); got != second.ID {
			t.Errorf("app-1 uses flow %q, want %q", got, second.ID)
		}
	})

	t.Run("UpdateKeepsApps", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, tn.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.Description = "only the description"
				return nil
			})
			return err
		})
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff(want.AppIDs, got.AppIDs); diff != "" || got.Description != "only the description" {
			t.Errorf("Description %q, AppIDs (-want +got):\n%s", got.Description, diff)
		}
		want = *got
	})

	t.Run("UpdateToTakenApp", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, tn.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.DisplayName = "changed"
				f.AppIDs = []string{"app-4", "app-1"}
				return nil
			})
			return err
		})
		wantCode(t, "UpdateUserFlow with an app of another flow", err, gatehouse.ECONFLICT, usesFlowMessage("app-1", "Second"))
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, tn.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.AppIDs = append(f.AppIDs, "no-such-app")
				return nil
			})
			return err
		})
		wantCode(t, "UpdateUserFlow with a missing app", err, gatehouse.ENOTFOUND, "no-such-app")
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("changed by a failed update (-want +got):\n%s", diff)
		}
		if got := flowOfApp(t, s, tn.ID, "app-4"); got != "" {
			t.Errorf("app-4 uses flow %q after a refused update, want none", got)
		}
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, tn.ID, f.ID, func(f *gatehouse.UserFlow) error {
				f.DisplayName = "changed"
				f.Attributes[0].Required = !f.Attributes[0].Required
				f.AppIDs = []string{"app-4"}
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateUserFlow returned %v, want the updater's error", err)
			}
			return nil // commit whatever happened
		})
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("RenameApp", func(t *testing.T) {
		// The flow follows its application to a new appId.
		app, err := s.ApplicationByAppID(ctx, tn.ID, "app-2")
		if err != nil {
			t.Fatalf("ApplicationByAppID: %v", err)
		}
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateApplication(ctx, tn.ID, app.ID, func(a *gatehouse.Application) error {
				a.AppID = "app-2-renamed"
				return nil
			})
			return err
		})
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff([]string{"app-3", "app-2-renamed"}, got.AppIDs); diff != "" {
			t.Errorf("AppIDs after renaming app-2 (-want +got):\n%s", diff)
		}
		if got := flowOfApp(t, s, tn.ID, "app-2-renamed"); got != f.ID {
			t.Errorf("renamed app uses flow %q, want %q", got, f.ID)
		}
		// A new application under the old appId uses no flow.
		newApplication(t, s, tn.ID, "app-2")
		if got := flowOfApp(t, s, tn.ID, "app-2"); got != "" {
			t.Errorf("new app-2 uses flow %q, want none", got)
		}
		want.AppIDs = got.AppIDs
	})

	t.Run("DeleteApp", func(t *testing.T) {
		app, err := s.ApplicationByAppID(ctx, tn.ID, "app-3")
		if err != nil {
			t.Fatalf("ApplicationByAppID: %v", err)
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteApplication(ctx, tn.ID, app.ID) })
		got, err := s.UserFlow(ctx, tn.ID, f.ID)
		if err != nil {
			t.Fatalf("UserFlow: %v", err)
		}
		if diff := cmp.Diff([]string{"app-2-renamed"}, got.AppIDs); diff != "" {
			t.Errorf("AppIDs after deleting app-3 (-want +got):\n%s", diff)
		}
		// An application created later with the same appId does not
		// inherit the flow, and is free for any flow.
		newApplication(t, s, tn.ID, "app-3")
		if got := flowOfApp(t, s, tn.ID, "app-3"); got != "" {
			t.Errorf("recreated app-3 uses flow %q, want none", got)
		}
		third := newUserFlow(t, s, tn.ID, "Third", "app-3")
		if got := flowOfApp(t, s, tn.ID, "app-3"); got != third.ID {
			t.Errorf("app-3 uses flow %q, want %q", got, third.ID)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.UserFlow(ctx, tn.ID, "no-such-flow")
		wantCode(t, "UserFlow", err, gatehouse.ENOTFOUND, "no-such-flow")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateUserFlow(ctx, tn.ID, "no-such-flow", func(*gatehouse.UserFlow) error { return nil })
			return err
		})
		wantCode(t, "UpdateUserFlow", err, gatehouse.ENOTFOUND, "no-such-flow")
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserFlow(ctx, tn.ID, "no-such-flow") })
		wantCode(t, "DeleteUserFlow", err, gatehouse.ENOTFOUND, "no-such-flow")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{TenantID: "no-such-tenant", DisplayName: "X"})
		})
		wantCode(t, "CreateUserFlow in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{ID: f.ID, TenantID: tn.ID, DisplayName: "Copy"})
		})
		wantCode(t, "CreateUserFlow with a taken ID", err, gatehouse.ECONFLICT, f.ID)
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserFlow(ctx, tn.ID, f.ID) })
		_, err := s.UserFlow(ctx, tn.ID, f.ID)
		wantCode(t, "UserFlow after delete", err, gatehouse.ENOTFOUND)
		_, err = s.UserFlowByAppID(ctx, tn.ID, "app-2-renamed")
		wantCode(t, "UserFlowByAppID of its app after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserFlow(ctx, tn.ID, f.ID) })
		wantCode(t, "DeleteUserFlow again", err, gatehouse.ENOTFOUND)
		// Its application is free for another flow.
		g := newUserFlow(t, s, tn.ID, "Successor", "app-2-renamed")
		if got := flowOfApp(t, s, tn.ID, "app-2-renamed"); got != g.ID {
			t.Errorf("app-2-renamed uses flow %q, want %q", got, g.ID)
		}
	})
}

func testUserFlowListing(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	newApplication(t, s, tn.ID, "app-1")
	newApplication(t, s, tn.ID, "app-2")
	f1 := newUserFlow(t, s, tn.ID, "Customers", "app-1")
	f2 := newUserFlow(t, s, tn.ID, "Customers")
	f3 := newUserFlow(t, s, tn.ID, "Partners", "app-2")
	newUserFlow(t, s, other.ID, "Customers")
	sorted := func(fs ...*gatehouse.UserFlow) []string {
		out := ids(fs, userFlowID)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		filter map[string]string
		want   []string
	}{
		{"DisplayName", map[string]string{"displayName": "Customers"}, sorted(f1, f2)},
		{"NoMatch", map[string]string{"displayName": "customers"}, nil},
		{"None", nil, sorted(f1, f2, f3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flows, next, err := s.ListUserFlows(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListUserFlows: %v", err)
			}
			if diff := cmp.Diff(tc.want, ids(flows, userFlowID), cmpEmpty); diff != "" || next != "" {
				t.Errorf("next %q, IDs (-want +got):\n%s", next, diff)
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		flows, sizes := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.UserFlow, string, error) {
			return s.ListUserFlows(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(sorted(f1, f2, f3), ids(flows, userFlowID)); diff != "" {
			t.Errorf("IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		// Each listed flow carries its own applications.
		apps := map[string][]string{}
		for _, f := range flows {
			apps[f.ID] = f.AppIDs
		}
		if diff := cmp.Diff(map[string][]string{f1.ID: {"app-1"}, f2.ID: nil, f3.ID: {"app-2"}}, apps); diff != "" {
			t.Errorf("AppIDs of listed flows (-want +got):\n%s", diff)
		}
	})
	t.Run("UnknownField", func(t *testing.T) {
		_, _, err := s.ListUserFlows(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"description": "x"}})
		wantCode(t, "ListUserFlows filtered on description", err, gatehouse.EINVALID, "description")
	})
}

// testConcurrentUserFlowApps checks that of many flows created at once
// with one application, exactly one gets it.
func testConcurrentUserFlowApps(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	newApplication(t, s, tn.ID, "app-1")
	const n = 20
	errs := make(chan error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs <- s.Update(ctx, func(tx gatehouse.Tx) error {
				return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{TenantID: tn.ID, DisplayName: fmt.Sprintf("Flow %02d", i),
					IdentityProvider: gatehouse.IdentityProviderEmailOTP, AppIDs: []string{"app-1"}})
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	var ok, conflicts int
	for err := range errs {
		switch gatehouse.ErrorCode(err) {
		case "":
			ok++
		case gatehouse.ECONFLICT:
			conflicts++
			wantCode(t, "CreateUserFlow", err, gatehouse.ECONFLICT, `Application "app-1" already uses the user flow "Flow `)
		default:
			t.Errorf("CreateUserFlow: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d flows created at once with one app: %d succeeded and %d conflicted, want 1 and %d", n, ok, conflicts, n-1)
	}
	flows, _, err := s.ListUserFlows(ctx, tn.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListUserFlows: %v", err)
	}
	if len(flows) != 1 || !slices.Equal(flows[0].AppIDs, []string{"app-1"}) {
		t.Errorf("flows after the race: %+v, want one flow with app-1", flows)
	}
}
