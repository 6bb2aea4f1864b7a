package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// generator makes random policy sets and sign-ins over a small directory,
// so that conditions often match.
type generator struct {
	rng                         *rand.Rand
	users, groups, roles, appsU []string
	countries                   []string
	locs                        []*gatehouse.NamedLocation
}

func newGenerator(rng *rand.Rand) *generator {
	return &generator{rng: rng,
		users:     []string{ada, bob, passkeyed.UserID, emailOnly.UserID},
		groups:    []string{staff, breakers, "bbbbbbbb-0000-4000-8000-000000000003"},
		roles:     []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleUserAdministrator, gatehouse.RoleSecurityAdministrator},
		appsU:     []string{shopApp, payrollID, gatehouse.AdminPortalAppID, gatehouse.AdminAPIAppID},
		countries: []string{"FR", "DE", "US", "GB", "JP"},
	}
}

// some returns a random subset of list (possibly empty).
func (g *generator) some(list []string, p float64) []string {
	var out []string
	for _, v := range list {
		if g.rng.Float64() < p {
			out = append(out, v)
		}
	}
	return out
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// locations makes two to four IP locations over 10.0.0.0/16 and
// 2001:db8::/40 (ranges may overlap and nest) and one or two country
// locations.
func (g *generator) locations() []*gatehouse.NamedLocation {
	var out []*gatehouse.NamedLocation
	for i := range 2 + g.rng.IntN(3) {
		var ranges []string
		for range 1 + g.rng.IntN(3) {
			if g.rng.IntN(3) == 0 {
				bits := 40 + g.rng.IntN(17)
				p, _ := addrIn(g.rng, netip.MustParsePrefix("2001:db8::/40")).Prefix(bits)
				ranges = append(ranges, p.String())
			} else {
				bits := 16 + g.rng.IntN(13)
				p, _ := addrIn(g.rng, netip.MustParsePrefix("10.0.0.0/16")).Prefix(bits)
				ranges = append(ranges, p.String())
			}
		}
		out = append(out, &gatehouse.NamedLocation{ID: fmt.Sprintf("eeeeeeee-0000-4000-8000-%012d", i), Kind: gatehouse.LocationIP,
			IPRanges: ranges, Trusted: g.rng.IntN(2) == 0})
	}
	for i := range 1 + g.rng.IntN(2) {
		out = append(out, &gatehouse.NamedLocation{ID: fmt.Sprintf("ffffffff-0000-4000-8000-%012d", i), Kind: gatehouse.LocationCountry,
			Countries: g.some(g.countries, 0.4), IncludeUnknown: g.rng.IntN(2) == 0})
	}
	return out
}

// policySet makes n random policies and the locations they may name.
func (g *generator) policySet(n int) ([]*gatehouse.Policy, []*gatehouse.NamedLocation) {
	g.locs = g.locations()
	var locIDs []string
	for _, l := range g.locs {
		locIDs = append(locIDs, l.ID)
	}
	var ps []*gatehouse.Policy
	for i := range n {
		p := &gatehouse.Policy{ID: fmt.Sprint("p", i), DisplayName: fmt.Sprint("Policy ", i),
			State: []gatehouse.PolicyState{gatehouse.PolicyEnabled, gatehouse.PolicyEnabled, gatehouse.PolicyReportOnly, gatehouse.PolicyDisabled}[g.rng.IntN(4)]}
		c := &p.Conditions
		switch g.rng.IntN(4) {
		case 0, 1:
			c.Users.IncludeUsers = []string{gatehouse.ConditionAll}
		case 2:
			c.Users.IncludeUsers = g.some(g.users, 0.3)
		default:
			c.Users.IncludeUsers = []string{gatehouse.ConditionNone}
		}
		c.Users.IncludeGroups, c.Users.IncludeRoles = g.some(g.groups, 0.3), g.some(g.roles, 0.3)
		c.Users.ExcludeUsers, c.Users.ExcludeGroups, c.Users.ExcludeRoles = g.some(g.users, 0.15), g.some(g.groups, 0.15), g.some(g.roles, 0.1)
		switch g.rng.IntN(4) {
		case 0, 1:
			c.Applications.Include = []string{gatehouse.ConditionAll}
		case 2:
			c.Applications.Include = append(g.some(g.appsU, 0.4), g.some([]string{gatehouse.ConditionAdminPortals, gatehouse.ConditionNone}, 0.2)...)
		default:
			c.Applications.Include = []string{gatehouse.ConditionAdminPortals}
		}
		c.Applications.Exclude = append(g.some(g.appsU, 0.15), g.some([]string{gatehouse.ConditionAdminPortals}, 0.1)...)
		if g.rng.IntN(2) == 0 {
			c.ClientAppTypes = []string{gatehouse.ClientAll}
		} else {
			c.ClientAppTypes = g.some(gatehouse.ClientAppTypes[1:], 0.5)
		}
		if g.rng.IntN(3) == 0 {
			c.Platforms = &gatehouse.IncludeExclude{Include: g.some(gatehouse.Platforms, 0.4), Exclude: g.some(gatehouse.Platforms[1:], 0.2)}
		}
		if g.rng.IntN(2) == 0 {
			c.Locations = &gatehouse.IncludeExclude{Include: g.some(append([]string{gatehouse.ConditionAll, gatehouse.ConditionAllTrusted}, locIDs...), 0.3),
				Exclude: g.some(append([]string{gatehouse.ConditionAllTrusted}, locIDs...), 0.25)}
		}
		if g.rng.IntN(4) == 0 {
			c.SignInRisk = riskSubset(g)
		}
		if g.rng.IntN(5) == 0 {
			c.UserRisk = riskSubset(g)
		}
		switch g.rng.IntN(6) {
		case 0:
			p.Grant = &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlBlock}}
		case 1:
			p.Grant = &gatehouse.GrantControls{Operator: "AND", Strength: g.pick([]string{gatehouse.StrengthMultifactor, gatehouse.StrengthPasswordless, gatehouse.StrengthPhishingResistant})}
		case 2:
			p.Grant = &gatehouse.GrantControls{Operator: "AND", BuiltIn: []string{gatehouse.ControlMFA, gatehouse.ControlPasswordChange}}
		case 3:
			p.Session = &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 1 + g.rng.IntN(23), Type: "hours"}}
		default:
			p.Grant = &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}
		}
		ps = append(ps, p)
	}
	return ps, g.locs
}

func riskSubset(g *generator) []gatehouse.RiskLevel {
	var out []gatehouse.RiskLevel
	for _, l := range gatehouse.RiskLevels {
		if g.rng.IntN(2) == 0 {
			out = append(out, l)
		}
	}
	return out
}

// address returns an address in, at the edge of or outside the ranges
// of the generator's locations.
func (g *generator) address() netip.Addr {
	var prefixes []netip.Prefix
	for _, l := range g.locs {
		prefixes = append(prefixes, l.Prefixes()...)
	}
	switch g.rng.IntN(4) {
	case 0:
		return addrIn(g.rng, netip.MustParsePrefix("10.0.0.0/16"))
	case 1:
		return addrIn(g.rng, netip.MustParsePrefix("2001:db8::/40"))
	case 2:
		return netip.Addr{}
	}
	p := prefixes[g.rng.IntN(len(prefixes))]
	switch g.rng.IntN(3) {
	case 0:
		return p.Addr().Prev()
	case 1:
		return lastAddr(p).Next()
	}
	return addrIn(g.rng, p)
}

// input returns a random sign-in of the administrator (or, when a has
// no ID, of a random user).
func (g *generator) input(a Admin, geo bool) Input {
	in := Input{UserID: a.UserID, GroupIDs: a.GroupIDs, RoleIDs: a.RoleIDs}
	if a.UserID == "" {
		in.UserID, in.GroupIDs, in.RoleIDs = g.pick(g.users), g.some(g.groups, 0.4), g.some(g.roles, 0.3)
	}
	in.AppID = g.pick(g.appsU)
	if g.rng.IntN(4) == 0 {
		in.Resources = []string{gatehouse.AdminAPIAppID}
	}
	in.ClientAppType = g.pick([]string{gatehouse.ClientBrowser, gatehouse.ClientMobileDesktop, ""})
	in.Platform = g.pick(append(slices.Clone(platformBits), ""))
	in.IP = g.address()
	if geo && g.rng.IntN(4) > 0 {
		in.Country = g.pick(g.countries)
	}
	in.SignInRisk = gatehouse.RiskLevels[g.rng.IntN(4)]
	in.UserRisk = gatehouse.RiskLevels[g.rng.IntN(4)]
	return in
}

// naiveReason decides one policy for the sign-in the plain way, list by
// list, as the semantics read: the reference the compiled Set must match.
func naiveReason(p *gatehouse.Policy, locs []*gatehouse.NamedLocation, in Input) string {
	c := p.Conditions
	u := c.Users
	anyOf := func(list, have []string) bool {
		return slices.ContainsFunc(list, func(v string) bool { return slices.Contains(have, v) })
	}
	apps := func(list []string) []string {
		var out []string
		for _, v := range list {
			if v == gatehouse.ConditionAdminPortals {
				out = append(out, gatehouse.AdminPortalAppID, gatehouse.AdminAPIAppID)
			} else {
				out = append(out, v)
			}
		}
		return out
	}
	inLoc := func(id string) bool {
		for _, l := range locs {
			if l.ID != id {
				continue
			}
			if l.Kind == gatehouse.LocationIP {
				return slices.ContainsFunc(l.Prefixes(), func(p netip.Prefix) bool { return in.IP.IsValid() && p.Contains(in.IP.Unmap()) })
			}
			if in.Country == "" {
				return l.IncludeUnknown
			}
			return slices.Contains(l.Countries, in.Country)
		}
		return false
	}
	trusted := slices.ContainsFunc(locs, func(l *gatehouse.NamedLocation) bool { return l.Trusted && inLoc(l.ID) })
	platform := in.Platform
	if platform == "" {
		platform = gatehouse.PlatformUnknown
	}
	client := in.ClientAppType
	if client == "" {
		client = gatehouse.ClientBrowser
	}
	risk := func(levels []gatehouse.RiskLevel, l gatehouse.RiskLevel) bool {
		return len(levels) == 0 || slices.Contains(levels, riskOf(l))
	}
	targets := append([]string{in.AppID}, in.Resources...)
	appIncluded := func(app string) bool {
		return slices.Contains(c.Applications.Include, gatehouse.ConditionAll) || slices.Contains(apps(c.Applications.Include), app)
	}
	switch {
	case p.State == gatehouse.PolicyDisabled:
		return ReasonNotEnabled
	case slices.Contains(u.ExcludeUsers, in.UserID) || anyOf(u.ExcludeGroups, in.GroupIDs) || anyOf(u.ExcludeRoles, in.RoleIDs):
		return ReasonUsers
	case !slices.Contains(u.IncludeUsers, gatehouse.ConditionAll) && !slices.Contains(u.IncludeUsers, in.UserID) &&
		!anyOf(u.IncludeGroups, in.GroupIDs) && !anyOf(u.IncludeRoles, in.RoleIDs):
		return ReasonUsers
	case !slices.ContainsFunc(targets, func(a string) bool { return appIncluded(a) && !slices.Contains(apps(c.Applications.Exclude), a) }):
		return ReasonApplication
	case len(c.ClientAppTypes) > 0 && !slices.Contains(c.ClientAppTypes, gatehouse.ClientAll) && !slices.Contains(c.ClientAppTypes, client):
		return ReasonClientApps
	case c.Platforms != nil && len(c.Platforms.Include) > 0 && (slices.Contains(c.Platforms.Exclude, platform) ||
		!slices.Contains(c.Platforms.Include, gatehouse.PlatformAll) && !slices.Contains(c.Platforms.Include, platform)):
		return ReasonPlatform
	case c.Locations != nil && len(c.Locations.Include) > 0 && (slices.ContainsFunc(c.Locations.Exclude, func(id string) bool {
		return id == gatehouse.ConditionAllTrusted && trusted || inLoc(id)
	}) || !slices.ContainsFunc(c.Locations.Include, func(id string) bool {
		return id == gatehouse.ConditionAll || id == gatehouse.ConditionAllTrusted && trusted || inLoc(id)
	})):
		return ReasonLocation
	case !risk(c.SignInRisk, in.SignInRisk):
		return ReasonSignInRisk
	case !risk(c.UserRisk, in.UserRisk):
		return ReasonUserRisk
	}
	return ReasonApplies
}

// TestEvaluateMatchesTheSemantics checks the compiled evaluation against
// the plain reading of the conditions for random policy sets and
// sign-ins, and that the enforced ones, and only they, make the
// requirements.
func TestEvaluateMatchesTheSemantics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := newGenerator(rng)
	for round := range 2000 {
		policies, locs := g.policySet(1 + rng.IntN(70)) // past one word of the bitsets
		set := Compile(policies, locs)
		for range 5 {
			in := g.input(Admin{}, rng.IntN(2) == 0)
			d := set.Evaluate(in)
			var wantReqs, gotReqs []string
			for i, p := range policies {
				want := naiveReason(p, locs, in)
				if r := d.Result(i); r.Reason != want {
					t.Fatalf("round %d, policy %d: reason %q, want %q\npolicy %s\ninput %+v", round, i, r.Reason, want, describe([]*gatehouse.Policy{p}), in)
				}
				if want == ReasonApplies && p.State == gatehouse.PolicyEnabled {
					wantReqs = append(wantReqs, p.DisplayName)
				}
			}
			for _, r := range d.Requirements {
				gotReqs = append(gotReqs, strings.TrimSuffix(strings.TrimPrefix(r.Source, `Conditional Access policy "`), `"`))
			}
			if diff := cmp.Diff(wantReqs, gotReqs, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round %d: requirements from (-want +got):\n%s", round, diff)
			}
		}
	}
}
