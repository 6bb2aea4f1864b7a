package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// benchTenant makes n policies of a large tenant: 200 groups, 300 apps,
// 20 IP locations of 10 ranges and 5 country locations; most policies
// target groups and apps, a fifth all users, some with locations,
// platforms and risk.
func benchTenant(n int) ([]*gatehouse.Policy, []*gatehouse.NamedLocation) {
	rng := rand.New(rand.NewPCG(3, 4))
	id := func(prefix, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012d", prefix, i) }
	var locs []*gatehouse.NamedLocation
	for i := range 20 {
		l := &gatehouse.NamedLocation{ID: id(0xeeee, i), Kind: gatehouse.LocationIP, Trusted: i%4 == 0}
		for j := range 10 {
			l.IPRanges = append(l.IPRanges, fmt.Sprintf("10.%d.%d.0/24", i, j))
		}
		locs = append(locs, l)
	}
	for i := range 5 {
		locs = append(locs, &gatehouse.NamedLocation{ID: id(0xffff, i), Kind: gatehouse.LocationCountry, Countries: []string{"FR", "DE", "US"}[:1+i%3]})
	}
	var ps []*gatehouse.Policy
	for i := range n {
		p := &gatehouse.Policy{ID: id(0x9999, i), DisplayName: fmt.Sprint("Policy ", i), State: gatehouse.PolicyEnabled,
			Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
		c := &p.Conditions
		if i%5 == 0 {
			c.Users.IncludeUsers = []string{gatehouse.ConditionAll}
			c.Users.ExcludeGroups = []string{id(0xbbbb, rng.IntN(200))}
		} else {
			c.Users.IncludeGroups = []string{id(0xbbbb, rng.IntN(200)), id(0xbbbb, rng.IntN(200))}
		}
		if i%3 == 0 {
			c.Applications.Include = []string{gatehouse.ConditionAll}
		} else {
			c.Applications.Include = []string{id(0xcccc, rng.IntN(300)), id(0xcccc, rng.IntN(300))}
		}
		c.ClientAppTypes = []string{gatehouse.ClientAll}
		switch i % 7 {
		case 1:
			c.Locations = &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAll}, Exclude: []string{gatehouse.ConditionAllTrusted}}
		case 2:
			c.Locations = &gatehouse.IncludeExclude{Include: []string{locs[rng.IntN(len(locs))].ID}}
		case 3:
			c.Platforms = &gatehouse.IncludeExclude{Include: []string{gatehouse.PlatformAll}, Exclude: []string{gatehouse.PlatformIOS}}
		case 4:
			c.SignInRisk = []gatehouse.RiskLevel{gatehouse.RiskHigh, gatehouse.RiskMedium}
		}
		if i%11 == 0 {
			p.State = gatehouse.PolicyReportOnly
		}
		ps = append(ps, p)
	}
	return ps, locs
}

// benchInput is a sign-in of a user in 10 groups with 2 roles.
func benchInput() Input {
	in := Input{UserID: "aaaaaaaa-0000-4000-8000-000000000001", RoleIDs: []string{gatehouse.RoleUserAdministrator, gatehouse.RoleSecurityAdministrator},
		AppID: fmt.Sprintf("%08x-0000-4000-8000-%012d", 0xcccc, 7), ClientAppType: gatehouse.ClientBrowser, Platform: gatehouse.PlatformWindows,
		IP: netip.MustParseAddr("10.4.3.2"), Country: "FR", SignInRisk: gatehouse.RiskLow}
	for i := range 10 {
		in.GroupIDs = append(in.GroupIDs, fmt.Sprintf("%08x-0000-4000-8000-%012d", 0xbbbb, i*17))
	}
	return in
}

// BenchmarkEvaluate measures one sign-in's evaluation against 1, 100 and
// 1,000 compiled policies (docs/benchmarks.md).
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ps, locs := benchTenant(n)
			set := Compile(ps, locs)
			in := benchInput()
			applied := 0
			b.ReportAllocs()
			for b.Loop() {
				d := set.Evaluate(in)
				applied = len(d.Requirements)
			}
			b.ReportMetric(float64(applied), "applied")
		})
	}
}

// BenchmarkCompile measures compiling 1, 100 and 1,000 policies, which a
// node does once per change of a tenant's policies.
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ps, locs := benchTenant(n)
			b.ReportAllocs()
			for b.Loop() {
				Compile(ps, locs)
			}
		})
	}
}
