package web

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/policy"
)

// TestLockoutGuardRandomized searches 1,000 random policy sets and
// administrators for one that the lockout guard accepts without
// confirmation although no sign-in lets any Global Administrator into the
// admin portal: from any of a grid of addresses (inside and outside each
// named location), platforms and countries, some administrator must
// escape every block and meet every requirement with the level their
// methods reach. A refusal must name every administrator. The search
// must see both answers often, or it proves nothing.
func TestLockoutGuardRandomized(t *testing.T) {
	const seed = 20261204
	rng := rand.New(rand.NewPCG(seed, 7))
	g := lockoutGen{rng: rng}
	locations := g.locations()
	grid := []netip.Addr{{}, netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.9"),
		netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:198.51.100.200")}
	platforms := append([]string{gatehouse.PlatformUnknown}, gatehouse.Platforms[1:]...)
	accepted, refused := 0, 0
	for i := range 1000 {
		policies := g.policies()
		admins := g.admins()
		geoIP := rng.IntN(2) == 0
		set := policy.Compile(policies, locations)
		err := lockoutRefusal(set, admins, geoIP, "")
		countries := []string{""}
		if geoIP {
			countries = append(countries, "FR", "DE")
		}
		escapes := false
		for _, a := range admins {
			for _, ip := range grid {
				for _, p := range platforms {
					for _, c := range countries {
						d := set.Evaluate(policy.Input{UserID: a.UserID, GroupIDs: a.GroupIDs, RoleIDs: a.RoleIDs, AppID: gatehouse.AdminPortalAppID,
							ClientAppType: gatehouse.ClientBrowser, Platform: p, IP: ip, Country: c})
						escapes = escapes || canMeet(d, a)
					}
				}
			}
		}
		if err == nil {
			accepted++
			if !escapes {
				raw, _ := json.MarshalIndent(policies, "", " ")
				t.Fatalf("case %d (seed %d): the guard accepted a policy set that keeps every administrator %+v out of the admin portal:\n%s", i, seed, admins, raw)
			}
			continue
		}
		refused++
		if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
			t.Fatalf("case %d: refusal %v is not ECONFLICT", i, err)
		}
		for _, a := range admins {
			if !strings.Contains(gatehouse.ErrorMessage(err), a.Name) {
				t.Fatalf("case %d: refusal %q does not name %s", i, gatehouse.ErrorMessage(err), a.Name)
			}
		}
	}
	if accepted < 100 || refused < 100 {
		t.Fatalf("the search saw %d accepted and %d refused policy sets; want both at least 100", accepted, refused)
	}
	t.Logf("%d accepted, %d refused", accepted, refused)
}

// canMeet reports whether the administrator escapes every block of the
// decision and can meet every requirement.
func canMeet(d policy.Decision, a policy.Admin) bool {
	if d.Blocked != nil {
		return false
	}
	for _, r := range d.Requirements {
		if r.Block || r.Level > a.Level || (r.PasswordChange && !a.Password) {
			return false
		}
	}
	return true
}

// lockoutGen makes random policies and administrators over a small
// directory, so that they often meet.
type lockoutGen struct{ rng *rand.Rand }

var (
	genAdmins  = []string{"a1000000-0000-4000-8000-000000000001", "a1000000-0000-4000-8000-000000000002", "a1000000-0000-4000-8000-000000000003"}
	genGroups  = []string{"b2000000-0000-4000-8000-000000000001", "b2000000-0000-4000-8000-000000000002"}
	genLocs    = []string{"c3000000-0000-4000-8000-000000000001", "c3000000-0000-4000-8000-000000000002", "c3000000-0000-4000-8000-000000000003"}
	genOtherID = "d4000000-0000-4000-8000-000000000001"
)

func (g lockoutGen) locations() []*gatehouse.NamedLocation {
	return []*gatehouse.NamedLocation{
		{ID: genLocs[0], Kind: gatehouse.LocationIP, DisplayName: "Office", Trusted: true, IPRanges: []string{"198.51.100.0/24", "2001:db8::/32"}},
		{ID: genLocs[1], Kind: gatehouse.LocationIP, DisplayName: "Lab", IPRanges: []string{"203.0.113.0/24"}},
		{ID: genLocs[2], Kind: gatehouse.LocationCountry, DisplayName: "France", Countries: []string{"FR"}, IncludeUnknown: true},
	}
}

// some returns a random non-empty subset of list.
func (g lockoutGen) some(list []string) []string {
	var out []string
	for len(out) == 0 {
		for _, v := range list {
			if g.rng.IntN(2) == 0 {
				out = append(out, v)
			}
		}
	}
	return out
}

func (g lockoutGen) pick(list ...string) string { return list[g.rng.IntN(len(list))] }

func (g lockoutGen) policies() []*gatehouse.Policy {
	var out []*gatehouse.Policy
	for n := 1 + g.rng.IntN(5); len(out) < n; {
		if p := g.policy(len(out)); p.Validate() == nil {
			out = append(out, p)
		}
	}
	return out
}

func (g lockoutGen) policy(i int) *gatehouse.Policy {
	p := &gatehouse.Policy{ID: "e5000000-0000-4000-8000-00000000000" + string(rune('0'+i)), DisplayName: "Policy " + string(rune('A'+i)),
		State: gatehouse.PolicyState(g.pick(string(gatehouse.PolicyEnabled), string(gatehouse.PolicyEnabled), string(gatehouse.PolicyEnabled),
			string(gatehouse.PolicyReportOnly), string(gatehouse.PolicyDisabled)))}
	c := &p.Conditions
	switch g.rng.IntN(4) {
	case 0, 1:
		c.Users.IncludeUsers = []string{gatehouse.ConditionAll}
	case 2:
		c.Users.IncludeUsers = g.some(genAdmins)
	default:
		c.Users.IncludeRoles = []string{gatehouse.RoleGlobalAdministrator}
	}
	if g.rng.IntN(3) == 0 {
		c.Users.IncludeGroups = g.some(genGroups)
	}
	switch g.rng.IntN(4) {
	case 0:
		c.Users.ExcludeGroups = g.some(genGroups)
	case 1:
		c.Users.ExcludeUsers = g.some(genAdmins)
	}
	c.Applications.Include = []string{g.pick(gatehouse.ConditionAll, gatehouse.ConditionAll, gatehouse.ConditionAll, gatehouse.ConditionAdminPortals, gatehouse.AdminPortalAppID, genOtherID)}
	if c.Applications.Include[0] == gatehouse.ConditionAll && g.rng.IntN(5) == 0 {
		c.Applications.Exclude = []string{gatehouse.AdminPortalAppID}
	}
	c.ClientAppTypes = []string{g.pick(gatehouse.ClientAll, gatehouse.ClientAll, gatehouse.ClientBrowser, gatehouse.ClientMobileDesktop)}
	if g.rng.IntN(4) == 0 {
		if g.rng.IntN(2) == 0 {
			c.Platforms = &gatehouse.IncludeExclude{Include: []string{gatehouse.PlatformAll}, Exclude: g.some([]string{gatehouse.PlatformIOS, gatehouse.PlatformWindows})}
		} else {
			c.Platforms = &gatehouse.IncludeExclude{Include: g.some([]string{gatehouse.PlatformAndroid, gatehouse.PlatformWindows, gatehouse.PlatformLinux})}
		}
	}
	switch g.rng.IntN(5) {
	case 0:
		c.Locations = &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAll}, Exclude: []string{g.pick(gatehouse.ConditionAllTrusted, genLocs[0], genLocs[1], genLocs[2])}}
	case 1:
		c.Locations = &gatehouse.IncludeExclude{Include: g.some(genLocs)}
	}
	if g.rng.IntN(6) == 0 {
		c.SignInRisk = []gatehouse.RiskLevel{gatehouse.RiskHigh}
	}
	p.Grant = &gatehouse.GrantControls{Operator: "OR"}
	switch g.rng.IntN(4) {
	case 0:
		p.Grant.BuiltIn = []string{gatehouse.ControlBlock}
	case 1:
		p.Grant.BuiltIn = []string{gatehouse.ControlMFA}
	case 2:
		p.Grant.Strength = gatehouse.StrengthPhishingResistant
	default:
		p.Grant.Strength = gatehouse.StrengthMultifactor
	}
	p.Normalize()
	return p
}

func (g lockoutGen) admins() []policy.Admin {
	var out []policy.Admin
	ids := []string{genAdmins[g.rng.IntN(len(genAdmins))]} // mostly one: lockouts are then common
	if g.rng.IntN(4) == 0 {
		ids = g.some(genAdmins)
	}
	for _, id := range ids {
		a := policy.Admin{UserID: id, Name: "admin " + id[len(id)-1:], RoleIDs: []string{gatehouse.RoleGlobalAdministrator}, Password: true,
			Level: []gatehouse.Level{gatehouse.LevelSingleFactor, gatehouse.LevelSingleFactor, gatehouse.LevelMultiFactor, gatehouse.LevelPhishingResistant}[g.rng.IntN(4)]}
		a.Passkey = a.Level == gatehouse.LevelPhishingResistant
		if g.rng.IntN(2) == 0 {
			a.GroupIDs = g.some(genGroups)
		}
		out = append(out, a)
	}
	return out
}
