package gatehouse_test

import (
	"net/netip"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// TestStrengthIDs pins the built-in authentication strengths to Entra's
// IDs and the levels that satisfy them: email codes never reach the
// passwordless or phishing-resistant ones (EO-0).
func TestStrengthIDs(t *testing.T) {
	for id, want := range map[string]gatehouse.Level{
		"00000000-0000-0000-0000-000000000002": gatehouse.LevelMultiFactor,
		"00000000-0000-0000-0000-000000000003": gatehouse.LevelPhishingResistant,
		"00000000-0000-0000-0000-000000000004": gatehouse.LevelPhishingResistant,
	} {
		s, ok := gatehouse.StrengthByID(id)
		if !ok || s.Level != want {
			t.Errorf("StrengthByID(%s) = %v, %v; want level %v", id, s.Level, ok, want)
		}
	}
	if _, ok := gatehouse.StrengthByID("00000000-0000-0000-0000-000000000001"); ok {
		t.Error("an unknown strength was found")
	}
	email := []gatehouse.MethodUse{{Method: gatehouse.MethodPassword}, {Method: gatehouse.MethodEmail}}
	if got := gatehouse.LevelOf(email); got >= gatehouse.LevelPhishingResistant {
		t.Errorf("password and email code reach %v", got)
	}
}

// TestNormalize checks that keywords take Graph's spelling and IDs lower
// case, whatever case they came in.
func TestNormalize(t *testing.T) {
	p := &gatehouse.Policy{Conditions: gatehouse.PolicyConditions{
		Users:          gatehouse.UserConditions{IncludeUsers: []string{"ALL"}, ExcludeGroups: []string{"ABCDEF01-0000-4000-8000-000000000000"}},
		Applications:   gatehouse.ApplicationConditions{Include: []string{"microsoftAdminPortals"}},
		ClientAppTypes: []string{"Browser"},
		Platforms:      &gatehouse.IncludeExclude{Include: []string{"IOS", "MACOS"}},
		Locations:      &gatehouse.IncludeExclude{Include: []string{"all"}, Exclude: []string{"alltrusted"}},
		SignInRisk:     []gatehouse.RiskLevel{"High"},
	}, Grant: &gatehouse.GrantControls{Operator: "or", BuiltIn: []string{"MFA"}}}
	p.Normalize()
	c := p.Conditions
	for _, tc := range []struct{ got, want []string }{
		{c.Users.IncludeUsers, []string{"All"}}, {c.Users.ExcludeGroups, []string{"abcdef01-0000-4000-8000-000000000000"}},
		{c.Applications.Include, []string{"MicrosoftAdminPortals"}}, {c.ClientAppTypes, []string{"browser"}},
		{c.Platforms.Include, []string{"iOS", "macOS"}}, {c.Locations.Include, []string{"All"}}, {c.Locations.Exclude, []string{"AllTrusted"}},
		{p.Grant.BuiltIn, []string{"mfa"}}, {[]string{p.Grant.Operator, string(c.SignInRisk[0])}, []string{"OR", "high"}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

// TestNamedLocationPrefixes checks that a range given with host bits
// covers its network, as in Entra.
func TestNamedLocationPrefixes(t *testing.T) {
	l := &gatehouse.NamedLocation{DisplayName: "x", Kind: gatehouse.LocationIP, IPRanges: []string{"12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63"}}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("12.34.220.0/22"), netip.MustParsePrefix("2001:0:9d38:90d6::/63")}
	if diff := cmp.Diff(want, l.Prefixes(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Prefixes (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		code string
		ok   bool
	}{{"US", true}, {"GB", true}, {"ZW", true}, {"XX", false}, {"us", false}, {"USA", false}, {"", false}} {
		if got := gatehouse.IsCountryCode(c.code); got != c.ok {
			t.Errorf("IsCountryCode(%q) = %v", c.code, got)
		}
	}
}

// TestAddressKeys checks how sign-ins' addresses are grouped: per
// address for IPv4 and per /64 for IPv6 (counting), per /24 and /48
// (familiar networks).
func TestAddressKeys(t *testing.T) {
	for _, tc := range []struct{ ip, key, network string }{
		{"198.51.100.7", "198.51.100.7", "198.51.100.0/24"},
		{"::ffff:198.51.100.7", "198.51.100.7", "198.51.100.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"fe80::1%eth0", "fe80::/64", "fe80::/48"},
		{"not an address", "", ""},
	} {
		if got := gatehouse.AddressKey(tc.ip); got != tc.key {
			t.Errorf("AddressKey(%q) = %q, want %q", tc.ip, got, tc.key)
		}
		if got := gatehouse.NetworkOf(tc.ip); got != tc.network {
			t.Errorf("NetworkOf(%q) = %q, want %q", tc.ip, got, tc.network)
		}
	}
}

// TestSignInValidate checks that a log entry out of range is refused by
// property.
func TestSignInValidate(t *testing.T) {
	ok := gatehouse.SignIn{IPAddress: "192.0.2.1", ConditionalAccessStatus: gatehouse.CAStatusSuccess, RiskLevelDuringSignIn: gatehouse.RiskLow,
		AppliedPolicies: []gatehouse.AppliedPolicy{{Result: gatehouse.ResultReportOnlyInterrupted}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for field, change := range map[string]func(*gatehouse.SignIn){
		"ipAddress":                                  func(s *gatehouse.SignIn) { s.IPAddress = "somewhere" },
		"conditionalAccessStatus":                    func(s *gatehouse.SignIn) { s.ConditionalAccessStatus = "maybe" },
		"riskLevelDuringSignIn":                      func(s *gatehouse.SignIn) { s.RiskLevelDuringSignIn = "hidden" },
		"appliedConditionalAccessPolicies[0].result": func(s *gatehouse.SignIn) { s.AppliedPolicies[0].Result = "unknown" },
		"userAgent":                                  func(s *gatehouse.SignIn) { s.UserAgent = string(make([]byte, 2000)) },
		"status.errorCode":                           func(s *gatehouse.SignIn) { s.Status.ErrorCode = -1 },
		"authenticationRequirement":                  func(s *gatehouse.SignIn) { s.AuthenticationRequirement = "some" },
	} {
		s := ok
		s.AppliedPolicies = []gatehouse.AppliedPolicy{{Result: gatehouse.ResultSuccess}}
		change(&s)
		err := s.Validate()
		if e, isErr := err.(*gatehouse.Error); !isErr || e.Field != field {
			t.Errorf("%s: Validate = %v, want an error naming it", field, err)
		}
	}
}
