package policy

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// Global Administrators of the lockout tests: one with an authenticator
// app, one with a passkey, a break-glass account with a password only,
// and one who signs in with email codes and has no password.
var (
	admin      = Admin{UserID: ada, Name: "Ada", RoleIDs: []string{gatehouse.RoleGlobalAdministrator}, Level: gatehouse.LevelMultiFactor, Password: true}
	passkeyed  = Admin{UserID: "aaaaaaaa-0000-4000-8000-000000000003", Name: "Pat", RoleIDs: []string{gatehouse.RoleGlobalAdministrator}, Level: gatehouse.LevelPhishingResistant, Passkey: true, Password: true}
	breakGlass = Admin{UserID: bob, Name: "Break glass", GroupIDs: []string{breakers}, RoleIDs: []string{gatehouse.RoleGlobalAdministrator}, Level: gatehouse.LevelSingleFactor, Password: true}
	emailOnly  = Admin{UserID: "aaaaaaaa-0000-4000-8000-000000000004", Name: "Eve", RoleIDs: []string{gatehouse.RoleGlobalAdministrator}, Level: gatehouse.LevelMultiFactor}
)

var admins = []Admin{admin, passkeyed, breakGlass, emailOnly}

// TestLockouts checks who the guard says a policy set keeps out of the
// admin portal, and why.
func TestLockouts(t *testing.T) {
	portal := apps([]string{gatehouse.AdminPortalAppID})
	for _, tc := range []struct {
		name     string
		policies []*gatehouse.Policy
		geoIP    bool
		want     []string // names
		reasons  []string // what the first lockout's reasons say, in part
	}{
		{"NoPolicies", nil, false, nil, nil},
		{"MFAKeepsOutTheSingleFactor", []*gatehouse.Policy{policy("Require MFA")}, false, []string{"Break glass"},
			[]string{`The policy "Require MFA" requires multifactor authentication, and their methods reach at most single-factor authentication.`}},
		{"MFAExcludingBreakGlass", []*gatehouse.Policy{policy("Require MFA", users(gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeGroups: []string{breakers}}))},
			false, nil, nil},
		{"BlockEveryone", []*gatehouse.Policy{policy("Block portal", blocks, portal)}, false, []string{"Ada", "Pat", "Break glass", "Eve"},
			[]string{`The policy "Block portal" blocks them.`}},
		{"BlockOtherApp", []*gatehouse.Policy{policy("Block payroll", blocks, apps([]string{payrollID}))}, false, nil, nil},
		{"ReportOnlyBlock", []*gatehouse.Policy{policy("Block", blocks, state(gatehouse.PolicyReportOnly))}, false, nil, nil},
		{"DisabledBlock", []*gatehouse.Policy{policy("Block", blocks, state(gatehouse.PolicyDisabled))}, false, nil, nil},
		{"PhishingResistantNeedsPasskey", []*gatehouse.Policy{policy("Strong admins", grant("OR", gatehouse.StrengthPhishingResistant),
			users(gatehouse.UserConditions{IncludeRoles: []string{gatehouse.RoleGlobalAdministrator}}))}, false, []string{"Ada", "Break glass", "Eve"},
			[]string{`The policy "Strong admins" requires phishing-resistant multifactor authentication, which needs a passkey, and they have none.`}},
		{"BlockOutsideTrustedLetsThemInAtTheOffice", []*gatehouse.Policy{policy("Office only", blocks, where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted))},
			false, nil, nil},
		{"BlockEverywhere", []*gatehouse.Policy{policy("Nowhere", blocks, where([]string{gatehouse.ConditionAll}))}, false, []string{"Ada", "Pat", "Break glass", "Eve"},
			[]string{`The policy "Nowhere" blocks them.`}},
		{"BlockOutsideEUWithoutGeoIP", []*gatehouse.Policy{policy("EU only", blocks, where([]string{gatehouse.ConditionAll}, euID))}, false,
			[]string{"Ada", "Pat", "Break glass", "Eve"}, []string{`"EU only" blocks them.`}},
		{"BlockOutsideEUWithGeoIP", []*gatehouse.Policy{policy("EU only", blocks, where([]string{gatehouse.ConditionAll}, euID))}, true, nil, nil},
		{"BlockEUAndElsewhere", []*gatehouse.Policy{
			policy("EU", blocks, where([]string{euID})),
			policy("Not EU", blocks, where([]string{gatehouse.ConditionAll}, euID)),
		}, true, []string{"Ada", "Pat", "Break glass", "Eve"}, nil},
		{"BlockAllButIOS", []*gatehouse.Policy{policy("iOS only", blocks, platforms([]string{gatehouse.PlatformAll}, gatehouse.PlatformIOS))}, false, nil, nil},
		{"BlockEveryPlatform", []*gatehouse.Policy{policy("No device", blocks, platforms([]string{gatehouse.PlatformAll}))}, false,
			[]string{"Ada", "Pat", "Break glass", "Eve"}, nil},
		// An address of the office is also one of a larger blocked
		// network: nowhere is left.
		{"NestedRanges", []*gatehouse.Policy{
			policy("Office only", blocks, where([]string{gatehouse.ConditionAll}, officeID)),
			policy("Block the net", blocks, where([]string{"eeeeeeee-0000-4000-8000-000000000001"})),
		}, false, []string{"Ada", "Pat", "Break glass", "Eve"}, nil},
		// The one way in is between two blocked ends of the office's
		// network, which no range starts or ends.
		{"MiddleOfANetwork", []*gatehouse.Policy{
			policy("Network only", blocks, where([]string{gatehouse.ConditionAll}, "eeeeeeee-0000-4000-8000-000000000002")),
			policy("Block the ends", blocks, where([]string{"eeeeeeee-0000-4000-8000-000000000003"})),
		}, false, nil, nil},
		{"RiskyUsersOnly", []*gatehouse.Policy{policy("Risky", blocks, userRisk(gatehouse.RiskHigh))}, false, nil, nil},
		{"PasswordChangeWithoutPassword", []*gatehouse.Policy{policy("Change", grant("AND", "", gatehouse.ControlMFA, gatehouse.ControlPasswordChange))},
			false, []string{"Break glass", "Eve"}, nil},
		{"MobileOnlyBlock", []*gatehouse.Policy{policy("Apps", blocks, clients(gatehouse.ClientMobileDesktop))}, false, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			locs := append(slices.Clone(locations), &gatehouse.NamedLocation{ID: "eeeeeeee-0000-4000-8000-000000000001", Kind: gatehouse.LocationIP,
				IPRanges: []string{"203.0.0.0/16", "2001:db8::/32"}},
				&gatehouse.NamedLocation{ID: "eeeeeeee-0000-4000-8000-000000000002", Kind: gatehouse.LocationIP, IPRanges: []string{"10.0.0.0/16"}},
				&gatehouse.NamedLocation{ID: "eeeeeeee-0000-4000-8000-000000000003", Kind: gatehouse.LocationIP, IPRanges: []string{"10.0.0.0/24", "10.0.255.0/24"}})
			got := Compile(tc.policies, locs).Lockouts(admins, tc.geoIP)
			var names []string
			for _, l := range got {
				names = append(names, l.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("locked out %q, want %q", names, tc.want)
			}
			if len(got) == 0 {
				return
			}
			s := got[0].Sentence()
			if !strings.HasPrefix(s, got[0].Name+" could not sign in to the admin portal: ") {
				t.Errorf("sentence %q does not start with who", s)
			}
			for _, r := range tc.reasons {
				if !strings.Contains(s, r) {
					t.Errorf("sentence %q does not say %q", s, r)
				}
			}
		})
	}
}

// TestLockoutsFindEveryEscape checks, for random policy sets, that when
// some sign-in lets an administrator into the admin portal, the guard
// does not call them locked out: it tries every place and platform that
// matters. Sign-ins are sampled from every named location's ranges and
// around them, countries and platforms.
func TestLockoutsFindEveryEscape(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	gen := newGenerator(rng)
	for round := range 300 {
		policies, locs := gen.policySet(rng.IntN(6) + 1)
		set := Compile(policies, locs)
		geo := rng.IntN(2) == 0
		for _, a := range admins {
			locked := len(set.Lockouts([]Admin{a}, geo)) == 1
			escape := false
			for range 400 {
				in := gen.input(a, geo)
				in.AppID, in.ClientAppType, in.SignInRisk, in.UserRisk, in.Resources = gatehouse.AdminPortalAppID, gatehouse.ClientBrowser, "", "", nil
				if len(keepsOut(set.Evaluate(in), a)) == 0 {
					escape = true
					break
				}
			}
			if locked && escape {
				t.Fatalf("round %d: %s is called locked out, but a sign-in lets them in; policies %s", round, a.Name, describe(policies))
			}
		}
	}
}

// describe lists policies for failure messages.
func describe(ps []*gatehouse.Policy) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\n  " + p.DisplayName + " " + string(p.State))
		b.WriteString(" users=" + strings.Join(slices.Concat(p.Conditions.Users.IncludeUsers, p.Conditions.Users.IncludeGroups, p.Conditions.Users.IncludeRoles), ","))
		b.WriteString(" apps=" + strings.Join(p.Conditions.Applications.Include, ","))
		if l := p.Conditions.Locations; l != nil {
			b.WriteString(" locations=" + strings.Join(l.Include, ",") + " -" + strings.Join(l.Exclude, ","))
		}
		if pl := p.Conditions.Platforms; pl != nil {
			b.WriteString(" platforms=" + strings.Join(pl.Include, ",") + " -" + strings.Join(pl.Exclude, ","))
		}
		if p.Grant != nil {
			b.WriteString(" grant=" + p.Grant.Operator + strings.Join(p.Grant.BuiltIn, ",") + p.Grant.Strength)
		}
	}
	return b.String()
}

// addrIn returns a random address of the prefix.
func addrIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if rng.IntN(2) == 1 {
			b[i/8] |= 1 << (7 - uint(i)%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
