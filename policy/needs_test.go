package policy

import (
	"math/rand/v2"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestNeedsLeaveDecisionsAlone checks that a sign-in gathered as Needs
// says (no groups, roles, risk or country where the set does not look at
// them) is decided exactly as the sign-in with every fact.
func TestNeedsLeaveDecisionsAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	g := newGenerator(rng)
	stripped := 0
	for round := range 1000 {
		policies, locs := g.policySet(1 + rng.IntN(6))
		set := Compile(policies, locs)
		n := set.Needs()
		for range 5 {
			full := g.input(Admin{}, true)
			lean := full
			if !n.Groups {
				lean.GroupIDs = nil
			}
			if !n.Roles {
				lean.RoleIDs = nil
			}
			if !n.SignInRisk {
				lean.SignInRisk = ""
			}
			if !n.UserRisk {
				lean.UserRisk = ""
			}
			if !n.Country {
				lean.Country = ""
			}
			if !n.Groups || !n.Roles || !n.SignInRisk || !n.UserRisk || !n.Country {
				stripped++
			}
			a, b := set.Evaluate(full), set.Evaluate(lean)
			for i := range a.Len() {
				if ra, rb := a.Result(i), b.Result(i); ra.Reason != rb.Reason {
					t.Fatalf("round %d, policy %d: %q with every fact, %q with what Needs %+v asks for\npolicy %s", round, i, ra.Reason, rb.Reason, n, describe([]*gatehouse.Policy{policies[i]}))
				}
			}
		}
	}
	if stripped == 0 {
		t.Fatal("no generated set left out any fact: the test checked nothing")
	}
}

func TestNeeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *gatehouse.Policy
		want Needs
	}{
		{"all users", policy("all"), Needs{}},
		{"groups", policy("g", users(gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeGroups: []string{breakers}})), Needs{Groups: true}},
		{"roles", policy("r", users(gatehouse.UserConditions{IncludeRoles: []string{gatehouse.RoleGlobalAdministrator}})), Needs{Roles: true}},
		{"sign-in risk", policy("s", signInRisk(gatehouse.RiskHigh)), Needs{SignInRisk: true}},
		{"user risk, report-only", policy("u", userRisk(gatehouse.RiskHigh), state(gatehouse.PolicyReportOnly)), Needs{UserRisk: true}},
		{"user risk, disabled", policy("u", userRisk(gatehouse.RiskHigh), state(gatehouse.PolicyDisabled)), Needs{}},
		{"country", policy("c", where([]string{euID})), Needs{Country: true}},
		{"ip location", policy("i", where([]string{officeID})), Needs{}},
	} {
		if got := Compile([]*gatehouse.Policy{tc.p}, locations).Needs(); got != tc.want {
			t.Errorf("%s: Needs %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
