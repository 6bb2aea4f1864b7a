package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
	"github.com/google/go-cmp/cmp"
)

// IDs of the test directory.
const (
	ada       = "aaaaaaaa-0000-4000-8000-000000000001"
	bob       = "aaaaaaaa-0000-4000-8000-000000000002"
	staff     = "bbbbbbbb-0000-4000-8000-000000000001"
	breakers  = "bbbbbbbb-0000-4000-8000-000000000002"
	shopApp   = "cccccccc-0000-4000-8000-000000000001"
	payrollID = "cccccccc-0000-4000-8000-000000000002"
	officeID  = "dddddddd-0000-4000-8000-000000000001"
	homeID    = "dddddddd-0000-4000-8000-000000000002"
	euID      = "dddddddd-0000-4000-8000-000000000003"
	anywhere  = "dddddddd-0000-4000-8000-000000000004"
)

// locations are the test tenant's named locations: a trusted office (IPv4
// and IPv6, one range given with host bits), an untrusted home network,
// European countries without unknown ones, and a country location that
// includes unknown countries.
var locations = []*gatehouse.NamedLocation{
	{ID: officeID, DisplayName: "Office", Kind: gatehouse.LocationIP, IPRanges: []string{"203.0.113.77/24", "2001:db8:1::/48"}, Trusted: true},
	{ID: homeID, DisplayName: "Home", Kind: gatehouse.LocationIP, IPRanges: []string{"198.51.100.0/25"}},
	{ID: euID, DisplayName: "EU", Kind: gatehouse.LocationCountry, Countries: []string{"FR", "DE"}},
	{ID: anywhere, DisplayName: "Unknown", Kind: gatehouse.LocationCountry, Countries: []string{"US"}, IncludeUnknown: true},
}

// policy returns an enabled policy requiring MFA of all users for all
// apps, changed by the options.
func policy(name string, opts ...func(*gatehouse.Policy)) *gatehouse.Policy {
	p := &gatehouse.Policy{ID: "policy-" + name, DisplayName: name, State: gatehouse.PolicyEnabled,
		Conditions: gatehouse.PolicyConditions{
			Users:          gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
			Applications:   gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}},
			ClientAppTypes: []string{gatehouse.ClientAll},
		},
		Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func users(u gatehouse.UserConditions) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.Users = u }
}

func apps(include []string, exclude ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) {
		p.Conditions.Applications = gatehouse.ApplicationConditions{Include: include, Exclude: exclude}
	}
}

func clients(types ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.ClientAppTypes = types }
}

func platforms(include []string, exclude ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) {
		p.Conditions.Platforms = &gatehouse.IncludeExclude{Include: include, Exclude: exclude}
	}
}

func where(include []string, exclude ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) {
		p.Conditions.Locations = &gatehouse.IncludeExclude{Include: include, Exclude: exclude}
	}
}

func signInRisk(levels ...gatehouse.RiskLevel) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.SignInRisk = levels }
}

func userRisk(levels ...gatehouse.RiskLevel) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Conditions.UserRisk = levels }
}

func state(s gatehouse.PolicyState) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.State = s }
}

func grant(operator string, strength string, controls ...string) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) {
		p.Grant = &gatehouse.GrantControls{Operator: operator, BuiltIn: controls, Strength: strength}
	}
}

func session(s *gatehouse.SessionControls) func(*gatehouse.Policy) {
	return func(p *gatehouse.Policy) { p.Session = s }
}

func noGrant(p *gatehouse.Policy) { p.Grant = nil }

var blocks = grant("OR", "", gatehouse.ControlBlock)

// signIn is Ada's browser sign-in to the shop from an address in no named
// location, on Windows, without risk; opts change it.
func signIn(opts ...func(*Input)) Input {
	in := Input{UserID: ada, GroupIDs: []string{staff}, RoleIDs: []string{gatehouse.RoleUserAdministrator}, AppID: shopApp,
		ClientAppType: gatehouse.ClientBrowser, Platform: gatehouse.PlatformWindows, IP: netip.MustParseAddr("192.0.2.10")}
	for _, o := range opts {
		o(&in)
	}
	return in
}

func from(ip string) func(*Input) { return func(in *Input) { in.IP = netip.MustParseAddr(ip) } }
func in(country string) func(*Input) {
	return func(in *Input) { in.Country = country }
}

// TestEvaluateConditions checks, condition by condition, when a policy
// applies and, when it does not, the reason: the first condition that did
// not match.
func TestEvaluateConditions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy *gatehouse.Policy
		in     Input
		reason string // ReasonApplies when it applies
		detail string // "" for any
	}{
		// Users: All, None, IDs, groups, roles; exclusions beat inclusions.
		{"AllUsers", policy("p"), signIn(), ReasonApplies, outcomes[applies].detail},
		{"NoneIncludesNobody", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionNone}})), signIn(), ReasonUsers, outcomes[userNotIncluded].detail},
		{"IncludedByID", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{ada}})), signIn(), ReasonApplies, ""},
		{"OtherUserByID", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{bob}})), signIn(), ReasonUsers, outcomes[userNotIncluded].detail},
		{"IDsAreCaseInsensitive", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{ada}})),
			signIn(func(in *Input) { in.UserID = "AAAAAAAA-0000-4000-8000-000000000001" }), ReasonApplies, ""},
		{"IncludedByGroup", policy("p", users(gatehouse.UserConditions{IncludeGroups: []string{staff}})), signIn(), ReasonApplies, ""},
		{"NotInGroup", policy("p", users(gatehouse.UserConditions{IncludeGroups: []string{breakers}})), signIn(), ReasonUsers, outcomes[userNotIncluded].detail},
		{"IncludedByRole", policy("p", users(gatehouse.UserConditions{IncludeRoles: []string{gatehouse.RoleUserAdministrator}})), signIn(), ReasonApplies, ""},
		{"NotInRole", policy("p", users(gatehouse.UserConditions{IncludeRoles: []string{gatehouse.RoleGlobalAdministrator}})), signIn(), ReasonUsers, outcomes[userNotIncluded].detail},
		{"ExcludedUserBeatsAll", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeUsers: []string{ada}})),
			signIn(), ReasonUsers, outcomes[excludedUser].detail},
		{"ExcludedGroupBeatsIncludedID", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{ada}, ExcludeGroups: []string{staff}})),
			signIn(), ReasonUsers, outcomes[excludedGroup].detail},
		{"ExcludedRoleBeatsIncludedGroup", policy("p", users(gatehouse.UserConditions{IncludeGroups: []string{staff}, ExcludeRoles: []string{gatehouse.RoleUserAdministrator}})),
			signIn(), ReasonUsers, outcomes[excludedRole].detail},
		{"ExclusionOfOthersLeavesTheUser", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeUsers: []string{bob}, ExcludeGroups: []string{breakers}})),
			signIn(), ReasonApplies, ""},

		// Applications: All, None, appIds, the admin portals; resources.
		{"AllApps", policy("p"), signIn(), ReasonApplies, ""},
		{"NoApps", policy("p", apps([]string{gatehouse.ConditionNone})), signIn(), ReasonApplication, outcomes[appNotIncluded].detail},
		{"IncludedApp", policy("p", apps([]string{shopApp})), signIn(), ReasonApplies, ""},
		{"OtherApp", policy("p", apps([]string{payrollID})), signIn(), ReasonApplication, outcomes[appNotIncluded].detail},
		{"ExcludedAppBeatsAll", policy("p", apps([]string{gatehouse.ConditionAll}, shopApp)), signIn(), ReasonApplication, outcomes[appExcluded].detail},
		{"AdminPortalsIncludePortal", policy("p", apps([]string{gatehouse.ConditionAdminPortals})),
			signIn(func(in *Input) { in.AppID = gatehouse.AdminPortalAppID }), ReasonApplies, ""},
		{"AdminPortalsIncludeAdminAPI", policy("p", apps([]string{gatehouse.ConditionAdminPortals})),
			signIn(func(in *Input) { in.Resources = []string{gatehouse.AdminAPIAppID} }), ReasonApplies, ""},
		{"AdminPortalsExcludedFromAll", policy("p", apps([]string{gatehouse.ConditionAll}, gatehouse.ConditionAdminPortals)),
			signIn(func(in *Input) { in.AppID = gatehouse.AdminPortalAppID }), ReasonApplication, outcomes[appExcluded].detail},
		{"AppliesThroughAResource", policy("p", apps([]string{gatehouse.ConditionAll}, shopApp)),
			signIn(func(in *Input) { in.Resources = []string{gatehouse.AdminAPIAppID} }), ReasonApplies, ""},
		{"ExcludedForEveryResource", policy("p", apps([]string{gatehouse.ConditionAll}, shopApp, gatehouse.AdminAPIAppID)),
			signIn(func(in *Input) { in.Resources = []string{gatehouse.AdminAPIAppID} }), ReasonApplication, outcomes[appExcluded].detail},
		{"NoResourceIncluded", policy("p", apps([]string{payrollID})),
			signIn(func(in *Input) { in.Resources = []string{gatehouse.AdminAPIAppID} }), ReasonApplication, outcomes[appNotIncluded].detail},
		{"AppIDsAreCaseInsensitive", policy("p", apps([]string{shopApp})),
			signIn(func(in *Input) { in.AppID = "CCCCCCCC-0000-4000-8000-000000000001" }), ReasonApplies, ""},

		// Client app types.
		{"AllClients", policy("p"), signIn(func(in *Input) { in.ClientAppType = gatehouse.ClientMobileDesktop }), ReasonApplies, ""},
		{"BrowserOnly", policy("p", clients(gatehouse.ClientBrowser)), signIn(func(in *Input) { in.ClientAppType = gatehouse.ClientMobileDesktop }),
			ReasonClientApps, outcomes[clientNotIncluded].detail},
		{"BrowserByDefault", policy("p", clients(gatehouse.ClientBrowser)), signIn(func(in *Input) { in.ClientAppType = "" }), ReasonApplies, ""},
		{"MobileOnly", policy("p", clients(gatehouse.ClientMobileDesktop)), signIn(), ReasonClientApps, outcomes[clientNotIncluded].detail},
		{"BrowserAndMobile", policy("p", clients(gatehouse.ClientMobileDesktop, gatehouse.ClientBrowser)), signIn(), ReasonApplies, ""},
		{"LegacyClientsOnly", policy("p", blocks, clients(gatehouse.ClientExchangeActiveSync, gatehouse.ClientOther)), signIn(), ReasonClientApps, outcomes[legacyClients].detail},

		// Platforms.
		{"NoPlatformCondition", policy("p"), signIn(func(in *Input) { in.Platform = "" }), ReasonApplies, ""},
		{"AllButIOSOnAndroid", policy("p", platforms([]string{gatehouse.PlatformAll}, gatehouse.PlatformIOS)),
			signIn(func(in *Input) { in.Platform = gatehouse.PlatformAndroid }), ReasonApplies, ""},
		{"AllButIOSOnIOS", policy("p", platforms([]string{gatehouse.PlatformAll}, gatehouse.PlatformIOS)),
			signIn(func(in *Input) { in.Platform = gatehouse.PlatformIOS }), ReasonPlatform, outcomes[platformExcluded].detail},
		{"AllIncludesUnknown", policy("p", platforms([]string{gatehouse.PlatformAll}, gatehouse.PlatformIOS)),
			signIn(func(in *Input) { in.Platform = gatehouse.PlatformUnknown }), ReasonApplies, ""},
		{"AndroidOnWindows", policy("p", platforms([]string{gatehouse.PlatformAndroid})), signIn(), ReasonPlatform, outcomes[platformNotIncluded].detail},
		{"AndroidOnUnknown", policy("p", platforms([]string{gatehouse.PlatformAndroid, gatehouse.PlatformLinux})),
			signIn(func(in *Input) { in.Platform = "" }), ReasonPlatform, outcomes[platformNotIncluded].detail},
		{"LinuxIncluded", policy("p", platforms([]string{gatehouse.PlatformAndroid, gatehouse.PlatformLinux})),
			signIn(func(in *Input) { in.Platform = gatehouse.PlatformLinux }), ReasonApplies, ""},

		// Locations.
		{"AllButTrustedFromOutside", policy("p", where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted)), signIn(), ReasonApplies, ""},
		{"AllButTrustedFromOffice", policy("p", where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted)),
			signIn(from("203.0.113.5")), ReasonLocation, outcomes[locationExcluded].detail},
		{"AllButTrustedFromOfficeIPv6", policy("p", where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted)),
			signIn(from("2001:db8:1:ffff::1")), ReasonLocation, outcomes[locationExcluded].detail},
		{"AllButTrustedFromMappedIPv4", policy("p", where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted)),
			signIn(from("::ffff:203.0.113.5")), ReasonLocation, outcomes[locationExcluded].detail},
		{"AllButTrustedFromHome", policy("p", where([]string{gatehouse.ConditionAll}, gatehouse.ConditionAllTrusted)),
			signIn(from("198.51.100.5")), ReasonApplies, ""},
		{"OnlyHomeFromHome", policy("p", where([]string{homeID})), signIn(from("198.51.100.127")), ReasonApplies, ""},
		{"OnlyHomeFromNextDoor", policy("p", where([]string{homeID})), signIn(from("198.51.100.128")), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"AllButHomeFromHome", policy("p", where([]string{gatehouse.ConditionAll}, homeID)), signIn(from("198.51.100.1")), ReasonLocation, outcomes[locationExcluded].detail},
		{"TrustedOnlyFromOffice", policy("p", where([]string{gatehouse.ConditionAllTrusted})), signIn(from("203.0.113.200")), ReasonApplies, ""},
		{"TrustedOnlyFromHome", policy("p", where([]string{gatehouse.ConditionAllTrusted})), signIn(from("198.51.100.1")), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"NoAddressIsInNoIPLocation", policy("p", where([]string{homeID, officeID})), signIn(func(in *Input) { in.IP = netip.Addr{} }), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"CountryListed", policy("p", where([]string{euID})), signIn(in("FR")), ReasonApplies, ""},
		{"CountryCaseInsensitive", policy("p", where([]string{euID})), signIn(in("de")), ReasonApplies, ""},
		{"CountryNotListed", policy("p", where([]string{euID})), signIn(in("US")), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"UnknownCountryNotIncluded", policy("p", where([]string{euID})), signIn(), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"UnknownCountryIncluded", policy("p", where([]string{anywhere})), signIn(), ReasonApplies, ""},
		{"KnownCountryNotUnknown", policy("p", where([]string{anywhere})), signIn(in("FR")), ReasonLocation, outcomes[locationNotIncluded].detail},
		{"BlockOutsideEUFromEU", policy("p", blocks, where([]string{gatehouse.ConditionAll}, euID)), signIn(in("DE")), ReasonLocation, outcomes[locationExcluded].detail},
		{"BlockOutsideEUFromUS", policy("p", blocks, where([]string{gatehouse.ConditionAll}, euID)), signIn(in("US")), ReasonApplies, ""},

		// Risk.
		{"SignInRiskListed", policy("p", signInRisk(gatehouse.RiskHigh, gatehouse.RiskMedium)),
			signIn(func(in *Input) { in.SignInRisk = gatehouse.RiskMedium }), ReasonApplies, ""},
		{"SignInRiskNotListed", policy("p", signInRisk(gatehouse.RiskHigh, gatehouse.RiskMedium)),
			signIn(func(in *Input) { in.SignInRisk = gatehouse.RiskLow }), ReasonSignInRisk, outcomes[signInRiskNotIncluded].detail},
		{"NoSignInRiskIsNone", policy("p", signInRisk(gatehouse.RiskHigh)), signIn(), ReasonSignInRisk, outcomes[signInRiskNotIncluded].detail},
		{"NoneListed", policy("p", signInRisk(gatehouse.RiskNone)), signIn(), ReasonApplies, ""},
		{"UserRiskListed", policy("p", userRisk(gatehouse.RiskHigh)), signIn(func(in *Input) { in.UserRisk = gatehouse.RiskHigh }), ReasonApplies, ""},
		{"UserRiskNotListed", policy("p", userRisk(gatehouse.RiskHigh)), signIn(func(in *Input) { in.UserRisk = gatehouse.RiskMedium }), ReasonUserRisk, outcomes[userRiskNotIncluded].detail},

		// State, and the order in which conditions are told.
		{"Disabled", policy("p", state(gatehouse.PolicyDisabled)), signIn(), ReasonNotEnabled, outcomes[disabled].detail},
		{"ReportOnlyApplies", policy("p", state(gatehouse.PolicyReportOnly)), signIn(), ReasonApplies, ""},
		{"UsersBeforeApplications", policy("p", users(gatehouse.UserConditions{IncludeUsers: []string{bob}}), apps([]string{payrollID})), signIn(), ReasonUsers, ""},
		{"ApplicationsBeforeClients", policy("p", apps([]string{payrollID}), clients(gatehouse.ClientMobileDesktop)), signIn(), ReasonApplication, ""},
		{"ClientsBeforePlatforms", policy("p", clients(gatehouse.ClientMobileDesktop), platforms([]string{gatehouse.PlatformIOS})), signIn(), ReasonClientApps, ""},
		{"PlatformsBeforeLocations", policy("p", platforms([]string{gatehouse.PlatformIOS}), where([]string{homeID})), signIn(), ReasonPlatform, ""},
		{"LocationsBeforeRisk", policy("p", where([]string{homeID}), signInRisk(gatehouse.RiskHigh)), signIn(), ReasonLocation, ""},
		{"SignInRiskBeforeUserRisk", policy("p", signInRisk(gatehouse.RiskHigh), userRisk(gatehouse.RiskHigh)), signIn(), ReasonSignInRisk, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate([]*gatehouse.Policy{tc.policy}, locations, tc.in)
			if d.Len() != 1 {
				t.Fatalf("got %d results, want 1", d.Len())
			}
			r := d.Result(0)
			if r.Reason != tc.reason || r.Applies != (tc.reason == ReasonApplies) {
				t.Errorf("reason %q (applies %v, %s), want %q", r.Reason, r.Applies, r.Detail, tc.reason)
			}
			if tc.detail != "" && r.Detail != tc.detail {
				t.Errorf("detail %q, want %q", r.Detail, tc.detail)
			}
			if r.Policy != tc.policy {
				t.Errorf("result names policy %v, want %v", r.Policy.ID, tc.policy.ID)
			}
		})
	}
}

// TestEvaluateDemands checks what the enforced policies demand of a
// sign-in: their controls as requirements, blocks, session controls; and
// that report-only and disabled policies demand nothing.
func TestEvaluateDemands(t *testing.T) {
	src := func(name string) string { return `Conditional Access policy "` + name + `"` }
	mfa := func(name string) signin.Requirement {
		return signin.Requirement{Source: src(name), Essential: true, Level: gatehouse.LevelMultiFactor}
	}
	for _, tc := range []struct {
		name     string
		policies []*gatehouse.Policy
		in       Input
		want     []signin.Requirement
		blocked  string
		session  Session
	}{
		{"Nothing", nil, signIn(), nil, "", Session{}},
		{"MFA", []*gatehouse.Policy{policy("MFA")}, signIn(), []signin.Requirement{mfa("MFA")}, "", Session{}},
		{"MultifactorStrength", []*gatehouse.Policy{policy("S", grant("OR", gatehouse.StrengthMultifactor))}, signIn(),
			[]signin.Requirement{{Source: src("S"), Essential: true, Level: gatehouse.LevelMultiFactor}}, "", Session{}},
		{"PasswordlessStrength", []*gatehouse.Policy{policy("S", grant("OR", gatehouse.StrengthPasswordless))}, signIn(),
			[]signin.Requirement{{Source: src("S"), Essential: true, Level: gatehouse.LevelPhishingResistant}}, "", Session{}},
		{"PhishingResistantStrength", []*gatehouse.Policy{policy("S", grant("AND", gatehouse.StrengthPhishingResistant))}, signIn(),
			[]signin.Requirement{{Source: src("S"), Essential: true, Level: gatehouse.LevelPhishingResistant}}, "", Session{}},
		{"MFAAndPasswordChange", []*gatehouse.Policy{policy("Risky", grant("AND", "", gatehouse.ControlMFA, gatehouse.ControlPasswordChange), userRisk(gatehouse.RiskHigh))},
			signIn(func(in *Input) { in.UserRisk = gatehouse.RiskHigh }),
			[]signin.Requirement{{Source: src("Risky"), Essential: true, Level: gatehouse.LevelMultiFactor, PasswordChange: true}}, "", Session{}},
		{"OrAsksForTheWeakest", []*gatehouse.Policy{policy("Or", grant("OR", gatehouse.StrengthPhishingResistant, gatehouse.ControlMFA))}, signIn(),
			[]signin.Requirement{mfa("Or")}, "", Session{}},
		{"AndAsksForTheStrongest", []*gatehouse.Policy{policy("And", grant("AND", gatehouse.StrengthPhishingResistant, gatehouse.ControlMFA))}, signIn(),
			[]signin.Requirement{{Source: src("And"), Essential: true, Level: gatehouse.LevelPhishingResistant}}, "", Session{}},
		{"Block", []*gatehouse.Policy{policy("MFA"), policy("Block", blocks)}, signIn(),
			[]signin.Requirement{mfa("MFA"), {Source: src("Block"), Block: true, Reason: `Access is blocked by the Conditional Access policy "Block".`}}, "policy-Block", Session{}},
		{"FirstBlockIsTold", []*gatehouse.Policy{policy("B1", blocks), policy("B2", blocks)}, signIn(),
			[]signin.Requirement{{Source: src("B1"), Block: true, Reason: `Access is blocked by the Conditional Access policy "B1".`},
				{Source: src("B2"), Block: true, Reason: `Access is blocked by the Conditional Access policy "B2".`}}, "policy-B1", Session{}},
		{"ReportOnlyDemandsNothing", []*gatehouse.Policy{policy("R", state(gatehouse.PolicyReportOnly)), policy("RB", blocks, state(gatehouse.PolicyReportOnly))},
			signIn(), nil, "", Session{}},
		{"DisabledDemandsNothing", []*gatehouse.Policy{policy("D", blocks, state(gatehouse.PolicyDisabled))}, signIn(), nil, "", Session{}},
		{"NotApplyingDemandsNothing", []*gatehouse.Policy{policy("Elsewhere", blocks, apps([]string{payrollID}))}, signIn(), nil, "", Session{}},
		{"FrequencyOnGrant", []*gatehouse.Policy{policy("F", session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 4, Type: "hours"}}))}, signIn(),
			[]signin.Requirement{{Source: src("F"), Essential: true, Level: gatehouse.LevelMultiFactor, MaxAge: 4 * time.Hour}}, "", Session{SignInFrequency: 4 * time.Hour}},
		{"SessionOnlyFrequency", []*gatehouse.Policy{policy("F", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 2, Type: "days"}}))}, signIn(),
			[]signin.Requirement{{Source: src("F"), Essential: true, Level: gatehouse.LevelSingleFactor, MaxAge: 48 * time.Hour}}, "", Session{SignInFrequency: 48 * time.Hour}},
		{"EveryTime", []*gatehouse.Policy{policy("E", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{EveryTime: true}}))}, signIn(),
			[]signin.Requirement{{Source: src("E"), Essential: true, Level: gatehouse.LevelSingleFactor, Fresh: true}}, "", Session{EveryTime: true}},
		{"ShortestFrequencyAndNeverWin", []*gatehouse.Policy{
			policy("A", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 2, Type: "days"}, PersistentBrowser: gatehouse.PersistentAlways})),
			policy("B", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 5, Type: "hours"}, PersistentBrowser: gatehouse.PersistentNever})),
			policy("C", noGrant, session(&gatehouse.SessionControls{PersistentBrowser: gatehouse.PersistentAlways})),
		}, signIn(), []signin.Requirement{
			{Source: src("A"), Essential: true, Level: gatehouse.LevelSingleFactor, MaxAge: 48 * time.Hour},
			{Source: src("B"), Essential: true, Level: gatehouse.LevelSingleFactor, MaxAge: 5 * time.Hour},
			{Source: src("C"), Essential: true, Level: gatehouse.LevelSingleFactor},
		}, "", Session{PersistentBrowser: gatehouse.PersistentNever, SignInFrequency: 5 * time.Hour}},
		{"Always", []*gatehouse.Policy{policy("A", noGrant, session(&gatehouse.SessionControls{PersistentBrowser: gatehouse.PersistentAlways}))}, signIn(),
			[]signin.Requirement{{Source: src("A"), Essential: true, Level: gatehouse.LevelSingleFactor}}, "", Session{PersistentBrowser: gatehouse.PersistentAlways}},
		{"ReportOnlySessionIsNotApplied", []*gatehouse.Policy{policy("R", state(gatehouse.PolicyReportOnly), session(&gatehouse.SessionControls{PersistentBrowser: gatehouse.PersistentAlways}))},
			signIn(), nil, "", Session{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.policies, locations, tc.in)
			if diff := cmp.Diff(tc.want, d.Requirements); diff != "" {
				t.Errorf("requirements (-want +got):\n%s", diff)
			}
			blocked := ""
			if d.Blocked != nil {
				blocked = d.Blocked.ID
			}
			if blocked != tc.blocked {
				t.Errorf("blocked by %q, want %q", blocked, tc.blocked)
			}
			if diff := cmp.Diff(tc.session, d.Session); diff != "" {
				t.Errorf("session (-want +got):\n%s", diff)
			}
			if d.Len() != len(tc.policies) {
				t.Fatalf("%d results for %d policies", d.Len(), len(tc.policies))
			}
			for i, r := range d.Results() {
				if r.Policy != tc.policies[i] {
					t.Errorf("result %d is of %s, want %s: results follow the set's order", i, r.Policy.ID, tc.policies[i].ID)
				}
			}
		})
	}
}

// TestDecisionReachesSignIn checks that the requirements drive the
// sign-in dispatcher as Entra's semantics say: MFA asks for a second
// factor, a block refuses, a frequency refuses an old authentication.
func TestDecisionReachesSignIn(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	user := &gatehouse.User{ID: ada, AccountEnabled: true}
	pwd := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: now.Add(-time.Minute)}
	old := gatehouse.MethodUse{Method: gatehouse.MethodPassword, At: now.Add(-5 * time.Hour), Carried: true}
	for _, tc := range []struct {
		name     string
		policies []*gatehouse.Policy
		methods  []gatehouse.MethodUse
		want     signin.Step
	}{
		{"NoPolicyIssues", nil, []gatehouse.MethodUse{pwd}, signin.Issue},
		{"MFAAsksForSecondFactor", []*gatehouse.Policy{policy("MFA")}, []gatehouse.MethodUse{pwd}, signin.SecondFactor},
		{"ReportOnlyIssues", []*gatehouse.Policy{policy("MFA", state(gatehouse.PolicyReportOnly))}, []gatehouse.MethodUse{pwd}, signin.Issue},
		{"BlockRefuses", []*gatehouse.Policy{policy("B", blocks)}, []gatehouse.MethodUse{pwd}, signin.Refuse},
		{"FrequencyAsksAgain", []*gatehouse.Policy{policy("F", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 4, Type: "hours"}}))},
			[]gatehouse.MethodUse{old}, signin.FirstFactor},
		{"EveryTimeAsksAgain", []*gatehouse.Policy{policy("E", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{EveryTime: true}}))},
			[]gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: now, Carried: true}}, signin.FirstFactor},
		{"PhishingResistantWithoutPasskeyRefuses", []*gatehouse.Policy{policy("P", grant("OR", gatehouse.StrengthPhishingResistant))}, []gatehouse.MethodUse{pwd}, signin.Refuse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.policies, locations, signIn())
			got := signin.Next(signin.Input{Now: now, User: user, Methods: tc.methods, Requirements: d.Requirements,
				Available: []string{gatehouse.MethodEmail}, Interactive: true})
			if got.Step != tc.want {
				t.Errorf("step %v (%s), want %v", got.Step, got.Reason, tc.want)
			}
		})
	}
}

// TestCookieLifetime checks the persistent browser session control.
func TestCookieLifetime(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want time.Duration
	}{{"", 0}, {gatehouse.PersistentNever, 0}, {gatehouse.PersistentAlways, 7 * 24 * time.Hour}} {
		if got := (Session{PersistentBrowser: tc.mode}).CookieLifetime(7 * 24 * time.Hour); got != tc.want {
			t.Errorf("CookieLifetime with %q = %v, want %v", tc.mode, got, tc.want)
		}
	}
}

// TestAuthenticationRequirement checks the sign-in log's
// authenticationRequirement.
func TestAuthenticationRequirement(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policies []*gatehouse.Policy
		want     string
	}{
		{"None", nil, gatehouse.AuthSingleFactor},
		{"MFA", []*gatehouse.Policy{policy("MFA")}, gatehouse.AuthMultiFactor},
		{"ReportOnlyMFA", []*gatehouse.Policy{policy("MFA", state(gatehouse.PolicyReportOnly))}, gatehouse.AuthSingleFactor},
		{"Block", []*gatehouse.Policy{policy("B", blocks)}, gatehouse.AuthSingleFactor},
		{"FrequencyOnly", []*gatehouse.Policy{policy("F", noGrant, session(&gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{EveryTime: true}}))}, gatehouse.AuthSingleFactor},
	} {
		d := Evaluate(tc.policies, locations, signIn())
		if got := d.AuthenticationRequirement(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParsePlatform checks the platforms told from real User-Agents.
func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", gatehouse.PlatformWindows},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", gatehouse.PlatformMacOS},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", gatehouse.PlatformLinux},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", gatehouse.PlatformLinux},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", gatehouse.PlatformAndroid},
		{"Dalvik/2.1.0 (Linux; U; Android 13; SM-S911B Build/TP1A.220624.014)", gatehouse.PlatformAndroid},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", gatehouse.PlatformIOS},
		{"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", gatehouse.PlatformIOS},
		{"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", gatehouse.PlatformWindowsPhone},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", gatehouse.PlatformUnknown},
		{"curl/8.5.0", gatehouse.PlatformUnknown},
		{"", gatehouse.PlatformUnknown},
	} {
		if got := ParsePlatform(tc.ua); got != tc.want {
			t.Errorf("ParsePlatform(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}
