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

func policyID(p *gatehouse.Policy) string          { return p.ID }
func locationID(l *gatehouse.NamedLocation) string { return l.ID }

// newLocation creates a named location in the tenant.
func newLocation(t *testing.T, s gatehouse.Store, l *gatehouse.NamedLocation) *gatehouse.NamedLocation {
	t.Helper()
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateNamedLocation(t.Context(), l) })
	return l
}

// newPolicy creates a policy in the tenant.
func newPolicy(t *testing.T, s gatehouse.Store, p *gatehouse.Policy) *gatehouse.Policy {
	t.Helper()
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreatePolicy(t.Context(), p) })
	return p
}

// mfaPolicy returns an enabled policy requiring MFA of all users for all
// apps, named name.
func mfaPolicy(tenantID, name string) *gatehouse.Policy {
	return &gatehouse.Policy{TenantID: tenantID, DisplayName: name, State: gatehouse.PolicyEnabled,
		Conditions: gatehouse.PolicyConditions{
			Users:          gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
			Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}},
			ClientAppTypes: []string{gatehouse.ClientAll},
		},
		Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
}

// version returns the tenant's policies version.
func version(t *testing.T, s gatehouse.Store, tenantID string) int64 {
	t.Helper()
	v, err := s.PoliciesVersion(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("PoliciesVersion: %v", err)
	}
	return v
}

func testPolicies(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	office := newLocation(t, s, &gatehouse.NamedLocation{TenantID: tn.ID, DisplayName: "Office", Kind: gatehouse.LocationIP,
		IPRanges: []string{"203.0.113.0/24", "2001:db8::/48"}, Trusted: true})
	theirs := newLocation(t, s, &gatehouse.NamedLocation{TenantID: other.ID, DisplayName: "Theirs", Kind: gatehouse.LocationCountry, Countries: []string{"FR"}})

	full := &gatehouse.Policy{
		TenantID: tn.ID, DisplayName: `Admins "outside" ✓`, Description: "Ünïcødé", State: gatehouse.PolicyReportOnly,
		Conditions: gatehouse.PolicyConditions{
			Users: gatehouse.UserConditions{
				IncludeUsers: []string{"11111111-1111-4111-8111-111111111111"}, ExcludeUsers: []string{"22222222-2222-4222-8222-222222222222"},
				IncludeGroups: []string{"33333333-3333-4333-8333-333333333333"}, ExcludeGroups: []string{"44444444-4444-4444-8444-444444444444"},
				IncludeRoles: []string{gatehouse.RoleGlobalAdministrator}, ExcludeRoles: []string{gatehouse.RoleUserAdministrator},
			},
			Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}, Exclude: []string{gatehouse.AdminPortalAppID}},
			ClientAppTypes: []string{gatehouse.ClientBrowser, gatehouse.ClientMobileDesktop},
			Platforms:      &gatehouse.IncludeExclude{Include: []string{gatehouse.PlatformAll}, Exclude: []string{gatehouse.PlatformIOS}},
			Locations:      &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAll}, Exclude: []string{office.ID, gatehouse.ConditionAllTrusted}},
			SignInRisk:     []gatehouse.RiskLevel{gatehouse.RiskHigh, gatehouse.RiskMedium},
			UserRisk:       []gatehouse.RiskLevel{gatehouse.RiskLow},
		},
		Grant:   &gatehouse.GrantControls{Operator: "AND", Strength: gatehouse.StrengthPhishingResistant},
		Session: &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 4, Type: "hours"}, PersistentBrowser: gatehouse.PersistentNever},
	}
	v0 := version(t, s, tn.ID)
	c := startClock()
	newPolicy(t, s, full)
	if full.ID == "" {
		t.Fatal("CreatePolicy left ID empty")
	}
	c.check(t, "CreatedAt", full.CreatedAt)
	if !full.ModifiedAt.IsZero() {
		t.Errorf("ModifiedAt of a new policy = %v, want zero (Graph's null)", full.ModifiedAt)
	}
	if v := version(t, s, tn.ID); v <= v0 {
		t.Errorf("PoliciesVersion after CreatePolicy = %d, want more than %d", v, v0)
	}

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Policy(ctx, tn.ID, full.ID)
		if err != nil {
			t.Fatalf("Policy: %v", err)
		}
		if diff := cmp.Diff(full, got); diff != "" {
			t.Errorf("Policy (-want +got):\n%s", diff)
		}
		_, err = s.Policy(ctx, other.ID, full.ID)
		wantCode(t, "Policy of another tenant", err, gatehouse.ENOTFOUND, full.ID)
	})

	t.Run("CreateErrors", func(t *testing.T) {
		v := version(t, s, tn.ID)
		dup := mfaPolicy(tn.ID, "Duplicate")
		dup.ID = full.ID
		err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, dup) })
		wantCode(t, "CreatePolicy with a taken ID", err, gatehouse.ECONFLICT, full.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, mfaPolicy("no-such-tenant", "Lost")) })
		wantCode(t, "CreatePolicy in a missing tenant", err, gatehouse.ENOTFOUND)

		// A location of another tenant, or none at all, is not found,
		// and the error names the property.
		for _, id := range []string{theirs.ID, "55555555-5555-4555-8555-555555555555"} {
			p := mfaPolicy(tn.ID, "Elsewhere")
			p.Conditions.Locations = &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAllTrusted, id}}
			err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, p) })
			wantCode(t, "CreatePolicy naming location "+id, err, gatehouse.ENOTFOUND, id)
			var e *gatehouse.Error
			if errors.As(err, &e) && e.Field != "conditions.locations.includeLocations[1]" {
				t.Errorf("field of the missing location = %q, want conditions.locations.includeLocations[1]", e.Field)
			}
		}
		if got := version(t, s, tn.ID); got != v {
			t.Errorf("PoliciesVersion after failed creates = %d, want %d unchanged", got, v)
		}
		ps, _, err := s.ListPolicies(ctx, tn.ID, gatehouse.ListOptions{})
		if err != nil || len(ps) != 1 {
			t.Errorf("ListPolicies after failed creates = %v, %v; want only %s", ids(ps, policyID), err, full.ID)
		}
	})

	t.Run("Update", func(t *testing.T) {
		v := version(t, s, tn.ID)
		c := startClock()
		var want *gatehouse.Policy
		update(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.UpdatePolicy(ctx, tn.ID, full.ID, func(p *gatehouse.Policy) error {
				p.ID, p.TenantID, p.CreatedAt = "changed", other.ID, time.Time{} // ignored
				p.State = gatehouse.PolicyEnabled
				p.Conditions.Locations = nil
				p.Conditions.Users.ExcludeUsers = append(p.Conditions.Users.ExcludeUsers, "66666666-6666-4666-8666-666666666666")
				p.Grant = nil
				return nil
			})
			want = got
			return err
		})
		c.check(t, "ModifiedAt", want.ModifiedAt)
		if want.ID != full.ID || want.TenantID != tn.ID || !want.CreatedAt.Equal(full.CreatedAt) {
			t.Errorf("UpdatePolicy changed the ID, tenant or CreatedAt: %s %s %v", want.ID, want.TenantID, want.CreatedAt)
		}
		got, err := s.Policy(ctx, tn.ID, full.ID)
		if err != nil {
			t.Fatalf("Policy: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Policy after UpdatePolicy (-returned +read):\n%s", diff)
		}
		if got.State != gatehouse.PolicyEnabled || got.Conditions.Locations != nil || got.Grant != nil || len(got.Conditions.Users.ExcludeUsers) != 2 {
			t.Errorf("UpdatePolicy did not store the changes: %+v", got)
		}
		if full.Conditions.Locations == nil || len(full.Conditions.Users.ExcludeUsers) != 1 {
			t.Error("UpdatePolicy's updater changed the caller's policy: it must get a copy")
		}
		if got := version(t, s, tn.ID); got <= v {
			t.Errorf("PoliciesVersion after UpdatePolicy = %d, want more than %d", got, v)
		}

		v = version(t, s, tn.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdatePolicy(ctx, tn.ID, full.ID, func(p *gatehouse.Policy) error {
				p.DisplayName = "rolled back"
				return errUpdater
			})
			return err
		})
		if !errors.Is(err, errUpdater) {
			t.Errorf("UpdatePolicy with a failing updater: %v, want its error", err)
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdatePolicy(ctx, tn.ID, full.ID, func(p *gatehouse.Policy) error {
				p.Conditions.Locations = &gatehouse.IncludeExclude{Include: []string{theirs.ID}}
				return nil
			})
			return err
		})
		wantCode(t, "UpdatePolicy naming another tenant's location", err, gatehouse.ENOTFOUND, theirs.ID)
		_, err = s.Policy(ctx, other.ID, full.ID)
		wantCode(t, "Policy in the other tenant after UpdatePolicy", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdatePolicy(ctx, other.ID, full.ID, func(*gatehouse.Policy) error { return nil })
			return err
		})
		wantCode(t, "UpdatePolicy through another tenant", err, gatehouse.ENOTFOUND)
		if got := version(t, s, tn.ID); got != v {
			t.Errorf("PoliciesVersion after failed updates = %d, want %d unchanged", got, v)
		}
		if got, _ := s.Policy(ctx, tn.ID, full.ID); got.DisplayName != full.DisplayName {
			t.Errorf("displayName after a rolled back update = %q", got.DisplayName)
		}
	})

	t.Run("ListAndDelete", func(t *testing.T) {
		var made []*gatehouse.Policy
		for i := range 5 {
			p := mfaPolicy(tn.ID, fmt.Sprintf("Policy %d", i%2))
			if i == 4 {
				p.State = gatehouse.PolicyDisabled
			}
			made = append(made, newPolicy(t, s, p))
		}
		all, sizes := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.Policy, string, error) {
			return s.ListPolicies(ctx, tn.ID, opt)
		})
		if len(all) != 6 || len(sizes) != 3 {
			t.Errorf("ListPolicies over pages: %d policies in pages %v, want 6 in 3", len(all), sizes)
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].ID >= all[i].ID {
				t.Errorf("ListPolicies is not in ID order: %q before %q", all[i-1].ID, all[i].ID)
			}
		}
		for _, tc := range []struct {
			filter map[string]string
			want   int
		}{
			{map[string]string{"displayName": "Policy 0"}, 3},
			{map[string]string{"displayName": "Policy 0", "state": "disabled"}, 1},
			{map[string]string{"state": "enabled"}, 5},
			{map[string]string{"displayName": "policy 0"}, 0},
		} {
			got, _, err := s.ListPolicies(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
			if err != nil || len(got) != tc.want {
				t.Errorf("ListPolicies(%v) = %d, %v; want %d", tc.filter, len(got), err, tc.want)
			}
		}
		_, _, err := s.ListPolicies(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"id": "x"}})
		wantCode(t, "ListPolicies filtered on id", err, gatehouse.EINVALID, "displayName", "state")
		theirsList, _, err := s.ListPolicies(ctx, other.ID, gatehouse.ListOptions{})
		if err != nil || len(theirsList) != 0 {
			t.Errorf("ListPolicies of the other tenant = %v, %v; want none", ids(theirsList, policyID), err)
		}

		set, err := s.PolicySet(ctx, tn.ID)
		if err != nil {
			t.Fatalf("PolicySet: %v", err)
		}
		if diff := cmp.Diff(ids(all, policyID), ids(set.Policies, policyID)); diff != "" {
			t.Errorf("PolicySet policies (-listed +set):\n%s", diff)
		}
		if diff := cmp.Diff([]string{office.ID}, ids(set.Locations, locationID)); diff != "" {
			t.Errorf("PolicySet locations (-want +got):\n%s", diff)
		}
		if v := version(t, s, tn.ID); set.Version != v {
			t.Errorf("PolicySet version = %d, want %d", set.Version, v)
		}

		v := version(t, s, tn.ID)
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeletePolicy(ctx, tn.ID, made[0].ID) })
		_, err = s.Policy(ctx, tn.ID, made[0].ID)
		wantCode(t, "Policy after DeletePolicy", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeletePolicy(ctx, tn.ID, made[0].ID) })
		wantCode(t, "DeletePolicy twice", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeletePolicy(ctx, other.ID, made[1].ID) })
		wantCode(t, "DeletePolicy through another tenant", err, gatehouse.ENOTFOUND)
		if got := version(t, s, tn.ID); got != v+1 {
			t.Errorf("PoliciesVersion after one DeletePolicy = %d, want %d", got, v+1)
		}
	})
}

func testNamedLocations(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	if v := version(t, s, tn.ID); v != 0 {
		t.Errorf("PoliciesVersion of a new tenant = %d, want 0", v)
	}

	c := startClock()
	ip := newLocation(t, s, &gatehouse.NamedLocation{TenantID: tn.ID, DisplayName: "Untrusted IP named location", Kind: gatehouse.LocationIP,
		IPRanges: []string{"12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63"}})
	c.check(t, "CreatedAt", ip.CreatedAt)
	if !ip.ModifiedAt.Equal(ip.CreatedAt) {
		t.Errorf("ModifiedAt of a new location = %v, want its CreatedAt %v (as Graph shows it)", ip.ModifiedAt, ip.CreatedAt)
	}
	country := newLocation(t, s, &gatehouse.NamedLocation{TenantID: tn.ID, DisplayName: "Named location with unknown countries and regions",
		Kind: gatehouse.LocationCountry, Countries: []string{"US", "GB"}, IncludeUnknown: true})
	if v := version(t, s, tn.ID); v != 2 {
		t.Errorf("PoliciesVersion after two CreateNamedLocation = %d, want 2", v)
	}
	if v := version(t, s, other.ID); v != 0 {
		t.Errorf("PoliciesVersion of the other tenant = %d, want 0", v)
	}

	t.Run("ReadBack", func(t *testing.T) {
		for _, want := range []*gatehouse.NamedLocation{ip, country} {
			got, err := s.NamedLocation(ctx, tn.ID, want.ID)
			if err != nil {
				t.Fatalf("NamedLocation: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("NamedLocation (-want +got):\n%s", diff)
			}
		}
		_, err := s.NamedLocation(ctx, other.ID, ip.ID)
		wantCode(t, "NamedLocation of another tenant", err, gatehouse.ENOTFOUND)
		got, _, err := s.ListNamedLocations(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"displayName": ip.DisplayName}})
		if err != nil || len(got) != 1 || got[0].ID != ip.ID {
			t.Errorf("ListNamedLocations by displayName = %v, %v; want %s", ids(got, locationID), err, ip.ID)
		}
		all, sizes := allPages(t, 1, func(opt gatehouse.ListOptions) ([]*gatehouse.NamedLocation, string, error) {
			return s.ListNamedLocations(ctx, tn.ID, opt)
		})
		if len(all) != 2 || len(sizes) != 2 {
			t.Errorf("ListNamedLocations pages %v, want two of one", sizes)
		}
		_, _, err = s.ListNamedLocations(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"isTrusted": "true"}})
		wantCode(t, "ListNamedLocations filtered on isTrusted", err, gatehouse.EINVALID, "displayName")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateNamedLocation(ctx, &gatehouse.NamedLocation{ID: ip.ID, TenantID: tn.ID, DisplayName: "x", Kind: gatehouse.LocationCountry})
		})
		wantCode(t, "CreateNamedLocation with a taken ID", err, gatehouse.ECONFLICT, ip.ID)
	})

	t.Run("Update", func(t *testing.T) {
		v := version(t, s, tn.ID)
		c := startClock()
		var got *gatehouse.NamedLocation
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateNamedLocation(ctx, tn.ID, ip.ID, func(l *gatehouse.NamedLocation) error {
				l.Kind = gatehouse.LocationCountry // cannot change
				l.Trusted = true
				l.IPRanges = l.IPRanges[:1]
				l.DisplayName = "Office"
				return nil
			})
			return err
		})
		c.check(t, "ModifiedAt", got.ModifiedAt)
		want := ip.Clone()
		want.Trusted, want.IPRanges, want.DisplayName, want.ModifiedAt = true, ip.IPRanges[:1], "Office", got.ModifiedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateNamedLocation (-want +got):\n%s", diff)
		}
		if len(ip.IPRanges) != 2 {
			t.Error("UpdateNamedLocation's updater changed the caller's location: it must get a copy")
		}
		if got := version(t, s, tn.ID); got != v+1 {
			t.Errorf("PoliciesVersion after UpdateNamedLocation = %d, want %d", got, v+1)
		}
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateNamedLocation(ctx, other.ID, ip.ID, func(*gatehouse.NamedLocation) error { return nil })
			return err
		})
		wantCode(t, "UpdateNamedLocation through another tenant", err, gatehouse.ENOTFOUND)
	})

	t.Run("DeleteInUse", func(t *testing.T) {
		a := mfaPolicy(tn.ID, "Require MFA outside")
		a.Conditions.Locations = &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAll}, Exclude: []string{ip.ID, country.ID}}
		b := mfaPolicy(tn.ID, "Block")
		b.Conditions.Locations = &gatehouse.IncludeExclude{Include: []string{ip.ID}, Exclude: []string{ip.ID}} // named twice
		newPolicy(t, s, a)
		newPolicy(t, s, b)
		v := version(t, s, tn.ID)
		err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, ip.ID) })
		wantCode(t, "DeleteNamedLocation in use", err, gatehouse.ECONFLICT, `"Block", "Require MFA outside"`)
		if got := version(t, s, tn.ID); got != v {
			t.Errorf("PoliciesVersion after a refused delete = %d, want %d", got, v)
		}
		// Once no policy names it, it goes.
		update(t, s, func(tx gatehouse.Tx) error {
			if _, err := tx.UpdatePolicy(ctx, tn.ID, a.ID, func(p *gatehouse.Policy) error {
				p.Conditions.Locations.Exclude = []string{country.ID}
				return nil
			}); err != nil {
				return err
			}
			return tx.DeletePolicy(ctx, tn.ID, b.ID)
		})
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, ip.ID) })
		_, err = s.NamedLocation(ctx, tn.ID, ip.ID)
		wantCode(t, "NamedLocation after DeleteNamedLocation", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, ip.ID) })
		wantCode(t, "DeleteNamedLocation twice", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, country.ID) })
		wantCode(t, "DeleteNamedLocation still excluded by a policy", err, gatehouse.ECONFLICT, "Require MFA outside")
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeletePolicy(ctx, tn.ID, a.ID) })
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, country.ID) })
	})
}

// testConcurrentPolicyLocation checks that a policy naming a location and
// the location's deletion never both succeed: the policy would name a
// location that is gone.
func testConcurrentPolicyLocation(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	const rounds = 10
	for i := range rounds {
		l := newLocation(t, s, &gatehouse.NamedLocation{TenantID: tn.ID, DisplayName: fmt.Sprint("Office ", i), Kind: gatehouse.LocationIP,
			IPRanges: []string{"198.51.100.0/24"}})
		p := mfaPolicy(tn.ID, fmt.Sprint("Policy ", i))
		p.Conditions.Locations = &gatehouse.IncludeExclude{Include: []string{l.ID}}
		var createErr, deleteErr error
		var wg sync.WaitGroup
		wg.Go(func() { createErr = s.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreatePolicy(ctx, p) }) })
		wg.Go(func() {
			deleteErr = s.Update(ctx, func(tx gatehouse.Tx) error { return tx.DeleteNamedLocation(ctx, tn.ID, l.ID) })
		})
		wg.Wait()
		switch {
		case createErr == nil && deleteErr == nil:
			t.Fatalf("round %d: both the policy naming the location and the location's deletion succeeded", i)
		case createErr == nil:
			wantCode(t, "DeleteNamedLocation that lost", deleteErr, gatehouse.ECONFLICT)
			if _, err := s.NamedLocation(ctx, tn.ID, l.ID); err != nil {
				t.Errorf("round %d: the policy's location is gone: %v", i, err)
			}
		case deleteErr == nil:
			wantCode(t, "CreatePolicy that lost", createErr, gatehouse.ENOTFOUND, l.ID)
			if _, err := s.Policy(ctx, tn.ID, p.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("round %d: the policy naming a deleted location exists: %v", i, err)
			}
		default:
			t.Fatalf("round %d: both failed: %v; %v", i, createErr, deleteErr)
		}
	}
}
