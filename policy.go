package gatehouse

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Conditional Access: policies in the shape of Microsoft Graph's
// conditionalAccessPolicy, and the named locations they refer to. A
// policy says to which sign-ins it applies (its conditions) and what such
// a sign-in must satisfy (its grant controls) or how its session behaves
// (its session controls). The values are Graph's, so that a policy
// written for Entra means the same here; what Gatehouse cannot honour is
// refused by Validate, naming the property, rather than stored and
// ignored.

// PolicyState is whether a policy is enforced.
type PolicyState string

const (
	PolicyEnabled  PolicyState = "enabled"
	PolicyDisabled PolicyState = "disabled"
	// PolicyReportOnly is evaluated and logged but never enforced: it
	// neither prompts nor blocks.
	PolicyReportOnly PolicyState = "enabledForReportingButNotEnforced"
)

// Well-known application IDs. The admin portal and the admin API are
// applications like any other to Conditional Access (FE-2): a policy
// includes or excludes them by these appIds.
const (
	// AdminPortalAppID is the appId of every tenant's admin portal.
	AdminPortalAppID = "0e0c3a58-7a9d-4d7c-9b1e-676174656801"
	// AdminAPIAppID is the appId of every tenant's admin API, the
	// resource of delegated admin API tokens: Microsoft Graph's, whose
	// shape the admin API has.
	AdminAPIAppID = GraphResourceAppID
)

// Keywords of the users, applications and locations conditions, as Graph
// spells them (Gatehouse matches them case-insensitively).
const (
	ConditionAll        = "All"
	ConditionNone       = "None"
	ConditionAllTrusted = "AllTrusted"
	// ConditionAdminPortals stands for the admin portal and the admin
	// API: Entra's MicrosoftAdminPortals, Gatehouse's admin portals.
	ConditionAdminPortals = "MicrosoftAdminPortals"
)

// Client app types (Graph's conditionalAccessClientApp). A Gatehouse
// sign-in is ClientBrowser (the hosted pages) or ClientMobileDesktop (a
// native app's system browser or embedded view, an app's refresh). The
// legacy types name protocols Gatehouse does not speak: a policy may list
// them, and then applies to no Gatehouse sign-in through them.
const (
	ClientAll                = "all"
	ClientBrowser            = "browser"
	ClientMobileDesktop      = "mobileAppsAndDesktopClients"
	ClientExchangeActiveSync = "exchangeActiveSync"
	ClientEASSupported       = "easSupported"
	ClientOther              = "other"
)

// ClientAppTypes lists the client app types a policy may name.
var ClientAppTypes = []string{ClientAll, ClientBrowser, ClientMobileDesktop, ClientExchangeActiveSync, ClientEASSupported, ClientOther}

// Device platforms (Graph's conditionalAccessDevicePlatform), told from
// the User-Agent. PlatformUnknown is a sign-in whose platform cannot be
// told: only "all" includes it.
const (
	PlatformAll          = "all"
	PlatformAndroid      = "android"
	PlatformIOS          = "iOS"
	PlatformWindows      = "windows"
	PlatformWindowsPhone = "windowsPhone"
	PlatformMacOS        = "macOS"
	PlatformLinux        = "linux"
	PlatformUnknown      = "unknown"
)

// Platforms lists the platforms a policy may name.
var Platforms = []string{PlatformAll, PlatformAndroid, PlatformIOS, PlatformWindows, PlatformWindowsPhone, PlatformMacOS, PlatformLinux}

// Built-in grant controls Gatehouse enforces.
const (
	ControlBlock          = "block"
	ControlMFA            = "mfa"
	ControlPasswordChange = "passwordChange"
)

// The IDs of the built-in authentication strengths, as Entra numbers
// them.
const (
	StrengthMultifactor       = "00000000-0000-0000-0000-000000000002"
	StrengthPasswordless      = "00000000-0000-0000-0000-000000000003"
	StrengthPhishingResistant = "00000000-0000-0000-0000-000000000004"
)

// AuthenticationStrength is a built-in authentication strength and the
// level a sign-in must reach to satisfy it. Email one-time codes never
// reach the passwordless or phishing-resistant strengths (EO-0): only a
// passkey with user verification does.
type AuthenticationStrength struct {
	ID          string
	DisplayName string
	Description string
	Level       Level
	// Combinations are the method combinations that satisfy it, in
	// Graph's authenticationMethodModes.
	Combinations []string
}

// AuthenticationStrengths lists the built-in strengths.
var AuthenticationStrengths = []AuthenticationStrength{
	{StrengthMultifactor, "Multifactor authentication", "Combinations of methods that satisfy strong authentication, such as a password and an authenticator app.",
		LevelMultiFactor, []string{"fido2", "password,softwareOath", "password,sms", "password,email", "email,softwareOath", "email,sms"}},
	{StrengthPasswordless, "Passwordless MFA", "Passwordless methods that satisfy strong authentication: a passkey.",
		LevelPhishingResistant, []string{"fido2"}},
	{StrengthPhishingResistant, "Phishing-resistant MFA", "Phishing-resistant, passwordless methods for the strongest authentication: a passkey.",
		LevelPhishingResistant, []string{"fido2"}},
}

// StrengthByID returns the built-in strength with the ID, or false.
func StrengthByID(id string) (AuthenticationStrength, bool) {
	for _, s := range AuthenticationStrengths {
		if strings.EqualFold(s.ID, id) {
			return s, true
		}
	}
	return AuthenticationStrength{}, false
}

// RiskLevel is a sign-in's or a user's risk, as Graph's riskLevel names
// it.
type RiskLevel string

const (
	RiskNone   RiskLevel = "none"
	RiskLow    RiskLevel = "low"
	RiskMedium RiskLevel = "medium"
	RiskHigh   RiskLevel = "high"
)

// RiskLevels lists the risk levels, lowest first.
var RiskLevels = []RiskLevel{RiskNone, RiskLow, RiskMedium, RiskHigh}

// Rank orders the levels: 0 for none (and anything unknown) to 3 for high.
func (r RiskLevel) Rank() int { return max(0, slices.Index(RiskLevels, r)) }

// RiskLevelOfRank returns the level of a rank, clamped to none and high.
func RiskLevelOfRank(rank int) RiskLevel { return RiskLevels[min(max(rank, 0), len(RiskLevels)-1)] }

// Policy is a Conditional Access policy.
type Policy struct {
	ID          string
	TenantID    string
	DisplayName string
	// Description is Graph's description, unused by evaluation.
	Description string
	State       PolicyState
	Conditions  PolicyConditions
	// Grant is nil for a policy with session controls only.
	Grant *GrantControls
	// Session is nil for a policy without session controls.
	Session   *SessionControls
	CreatedAt time.Time
	// ModifiedAt is zero until the policy is first changed (Graph's
	// modifiedDateTime is null until then).
	ModifiedAt time.Time
}

// PolicyConditions are the conditions a sign-in must meet for a policy to
// apply. Empty lists and nil conditions are not configured: they match
// every sign-in.
type PolicyConditions struct {
	Users        UserConditions        `json:"users"`
	Applications ApplicationConditions `json:"applications"`
	// ClientAppTypes holds ClientAll or the types the policy applies to.
	ClientAppTypes []string        `json:"clientAppTypes"`
	Platforms      *IncludeExclude `json:"platforms,omitempty"`
	Locations      *IncludeExclude `json:"locations,omitempty"`
	SignInRisk     []RiskLevel     `json:"signInRiskLevels,omitempty"`
	UserRisk       []RiskLevel     `json:"userRiskLevels,omitempty"`
}

// UserConditions are the users, groups and directory roles (by template
// ID) a policy includes and excludes. IncludeUsers may hold ConditionAll
// or ConditionNone. An exclusion beats every inclusion.
type UserConditions struct {
	IncludeUsers  []string `json:"includeUsers,omitempty"`
	ExcludeUsers  []string `json:"excludeUsers,omitempty"`
	IncludeGroups []string `json:"includeGroups,omitempty"`
	ExcludeGroups []string `json:"excludeGroups,omitempty"`
	IncludeRoles  []string `json:"includeRoles,omitempty"`
	ExcludeRoles  []string `json:"excludeRoles,omitempty"`
}

// ApplicationConditions are the applications (by appId) a policy includes
// and excludes; Include may hold ConditionAll, ConditionNone or
// ConditionAdminPortals, Exclude ConditionAdminPortals.
type ApplicationConditions struct {
	Include []string `json:"includeApplications,omitempty"`
	Exclude []string `json:"excludeApplications,omitempty"`
}

// IncludeExclude is a condition of included and excluded values: the
// platforms condition (platform names, PlatformAll), or the locations
// condition (named location IDs, ConditionAll, ConditionAllTrusted).
type IncludeExclude struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// GrantControls are what a sign-in the policy applies to must satisfy:
// BuiltIn controls (ControlBlock, ControlMFA, ControlPasswordChange) and
// an authentication strength, all of them (Operator "AND") or any one
// (Operator "OR").
type GrantControls struct {
	Operator string   `json:"operator"`
	BuiltIn  []string `json:"builtInControls,omitempty"`
	// Strength is the ID of a built-in authentication strength, or "".
	Strength string `json:"authenticationStrength,omitempty"`
}

// SessionControls shape the session of a sign-in the policy applies to.
type SessionControls struct {
	SignInFrequency *SignInFrequency `json:"signInFrequency,omitempty"`
	// PersistentBrowser is "always" or "never" (persistent browser
	// session), or "" when not configured.
	PersistentBrowser string `json:"persistentBrowser,omitempty"`
}

// Persistent browser session modes.
const (
	PersistentAlways = "always"
	PersistentNever  = "never"
)

// SignInFrequency is how often the user must authenticate again, both
// factors (Graph's authenticationType primaryAndSecondaryAuthentication):
// every Value hours or days, or every time.
type SignInFrequency struct {
	EveryTime bool   `json:"everyTime,omitempty"`
	Value     int    `json:"value,omitempty"`
	Type      string `json:"type,omitempty"` // "hours" or "days"
}

// Duration returns how old an authentication may be; 0 for EveryTime.
func (f *SignInFrequency) Duration() time.Duration {
	if f == nil || f.EveryTime {
		return 0
	}
	if f.Type == "days" {
		return time.Duration(f.Value) * 24 * time.Hour
	}
	return time.Duration(f.Value) * time.Hour
}

// Clone returns a deep copy of p.
func (p *Policy) Clone() *Policy {
	c := *p
	c.Conditions = p.Conditions.clone()
	if p.Grant != nil {
		g := *p.Grant
		g.BuiltIn = slices.Clone(g.BuiltIn)
		c.Grant = &g
	}
	if p.Session != nil {
		s := *p.Session
		if s.SignInFrequency != nil {
			f := *s.SignInFrequency
			s.SignInFrequency = &f
		}
		c.Session = &s
	}
	return &c
}

func (c PolicyConditions) clone() PolicyConditions {
	u := c.Users
	out := PolicyConditions{
		Users: UserConditions{slices.Clone(u.IncludeUsers), slices.Clone(u.ExcludeUsers), slices.Clone(u.IncludeGroups),
			slices.Clone(u.ExcludeGroups), slices.Clone(u.IncludeRoles), slices.Clone(u.ExcludeRoles)},
		Applications:   ApplicationConditions{slices.Clone(c.Applications.Include), slices.Clone(c.Applications.Exclude)},
		ClientAppTypes: slices.Clone(c.ClientAppTypes),
		SignInRisk:     slices.Clone(c.SignInRisk),
		UserRisk:       slices.Clone(c.UserRisk),
	}
	if c.Platforms != nil {
		out.Platforms = &IncludeExclude{slices.Clone(c.Platforms.Include), slices.Clone(c.Platforms.Exclude)}
	}
	if c.Locations != nil {
		out.Locations = &IncludeExclude{slices.Clone(c.Locations.Include), slices.Clone(c.Locations.Exclude)}
	}
	return out
}

// Blocks reports whether the policy's grant controls block access.
func (p *Policy) Blocks() bool {
	return p.Grant != nil && slices.Contains(p.Grant.BuiltIn, ControlBlock)
}

// PolicyReferences are the objects a policy names by ID, for a caller
// that checks that they exist.
type PolicyReferences struct {
	Users, Groups, Roles, Applications, Locations []string
}

// References returns the IDs the policy's conditions name, each once,
// keywords (All, None, AllTrusted, …) left out.
func (p *Policy) References() PolicyReferences {
	u := p.Conditions.Users
	var r PolicyReferences
	r.Users = idsOnly(u.IncludeUsers, u.ExcludeUsers)
	r.Groups = idsOnly(u.IncludeGroups, u.ExcludeGroups)
	r.Roles = idsOnly(u.IncludeRoles, u.ExcludeRoles)
	r.Applications = idsOnly(p.Conditions.Applications.Include, p.Conditions.Applications.Exclude)
	if l := p.Conditions.Locations; l != nil {
		r.Locations = idsOnly(l.Include, l.Exclude)
	}
	return r
}

// idsOnly returns the GUIDs of the lists, each once, in order.
func idsOnly(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, v := range l {
			if IsGUID(v) && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func IsGUID(s string) bool { return len(s) == 36 && guidRE.MatchString(s) }

// mfaTrustedIPs is Entra's legacy "MFA trusted IPs" location, which
// Gatehouse does not have.
const mfaTrustedIPs = "00000000-0000-0000-0000-000000000000"

// Limits of a policy's lists.
const (
	maxConditionValues = 500
	maxDisplayName     = 256
	maxDescription     = 1024
)

// Validate returns an EINVALID error naming the first property, by its
// Graph path (conditions.users.includeUsers[1]), that is wrong or that
// Gatehouse cannot honour. It expects keywords and IDs as Normalize
// leaves them.
func (p *Policy) Validate() error {
	if strings.TrimSpace(p.DisplayName) == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", p.DisplayName, maxDisplayName); err != nil {
		return err
	}
	if err := ValidateText("description", p.Description, maxDescription); err != nil {
		return err
	}
	switch p.State {
	case PolicyEnabled, PolicyDisabled, PolicyReportOnly:
	case "":
		return FieldErrorf("state", "state is required: enabled, disabled or enabledForReportingButNotEnforced.")
	default:
		return FieldErrorf("state", "state %q is not one of enabled, disabled, enabledForReportingButNotEnforced.", p.State)
	}
	if err := p.Conditions.validate(); err != nil {
		return err
	}
	if p.Grant == nil && p.Session == nil {
		return FieldErrorf("grantControls", "grantControls: the policy has neither grantControls nor sessionControls; give at least one control.")
	}
	if err := p.validateGrant(); err != nil {
		return err
	}
	return p.validateSession()
}

func (c *PolicyConditions) validate() error {
	if err := c.Users.validate(); err != nil {
		return err
	}
	if err := c.Applications.validate(); err != nil {
		return err
	}
	if len(c.ClientAppTypes) == 0 {
		return FieldErrorf("conditions.clientAppTypes", "conditions.clientAppTypes must list all, or the client app types the policy applies to.")
	}
	if err := values("conditions.clientAppTypes", c.ClientAppTypes, ClientAppTypes, ClientAll); err != nil {
		return err
	}
	if p := c.Platforms; p != nil {
		if len(p.Include) == 0 {
			return FieldErrorf("conditions.platforms.includePlatforms", "conditions.platforms.includePlatforms must list all or the platforms the policy applies to.")
		}
		if err := values("conditions.platforms.includePlatforms", p.Include, Platforms, PlatformAll); err != nil {
			return err
		}
		if err := values("conditions.platforms.excludePlatforms", p.Exclude, Platforms[1:], ""); err != nil {
			return err
		}
	}
	if l := c.Locations; l != nil {
		if len(l.Include) == 0 {
			return FieldErrorf("conditions.locations.includeLocations", "conditions.locations.includeLocations must list All, AllTrusted or named location IDs.")
		}
		if err := locationIDs("conditions.locations.includeLocations", l.Include, true); err != nil {
			return err
		}
		if err := locationIDs("conditions.locations.excludeLocations", l.Exclude, false); err != nil {
			return err
		}
	}
	for _, r := range []struct {
		field  string
		levels []RiskLevel
	}{{"conditions.signInRiskLevels", c.SignInRisk}, {"conditions.userRiskLevels", c.UserRisk}} {
		for i, l := range r.levels {
			f := r.field + "[" + strconv.Itoa(i) + "]"
			if !slices.Contains(RiskLevels, l) {
				if l == "hidden" {
					return FieldErrorf(f, "%s: the risk level hidden is not supported; Gatehouse computes every sign-in's risk (none, low, medium or high).", f)
				}
				return FieldErrorf(f, "%s %q is not one of none, low, medium, high.", f, l)
			}
			if slices.Index(r.levels, l) != i {
				return FieldErrorf(f, "%s lists %q twice.", r.field, l)
			}
		}
	}
	return nil
}

// values checks that list holds known values, each once, and that the
// keyword all, when set, stands alone.
func values(field string, list, known []string, all string) error {
	if len(list) > len(known) {
		return FieldErrorf(field, "%s lists %d values; there are only %d.", field, len(list), len(known))
	}
	for i, v := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		if !slices.Contains(known, v) {
			return FieldErrorf(f, "%s %q is not supported; use %s.", f, v, strings.Join(known, ", "))
		}
		if slices.Index(list, v) != i {
			return FieldErrorf(f, "%s lists %q twice.", field, v)
		}
		if all != "" && v == all && len(list) > 1 {
			return FieldErrorf(f, "%s lists %q with other values; %q includes them all.", field, all, all)
		}
	}
	return nil
}

// idList checks a list of object IDs: GUIDs, each once, at most
// maxConditionValues, with the keywords allowed where they may stand
// (alone).
func idList(field string, list []string, keywords ...string) error {
	if len(list) > maxConditionValues {
		return FieldErrorf(field, "%s has %d entries; the limit is %d.", field, len(list), maxConditionValues)
	}
	for i, v := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case slices.Contains(keywords, v):
			if len(list) > 1 && v != ConditionAdminPortals && v != ConditionAllTrusted {
				return FieldErrorf(f, "%s lists %q with other values; %q stands alone.", field, v, v)
			}
		case !IsGUID(v):
			return FieldErrorf(f, "%s %q is not an object ID (a GUID)%s.", f, v, keywordHint(keywords))
		}
		if slices.Index(list, v) != i {
			return FieldErrorf(f, "%s lists %q twice.", field, v)
		}
	}
	return nil
}

func keywordHint(keywords []string) string {
	if len(keywords) == 0 {
		return ""
	}
	return " or one of " + strings.Join(keywords, ", ")
}

func (u *UserConditions) validate() error {
	const p = "conditions.users."
	for i, v := range slices.Concat(u.IncludeUsers, u.ExcludeUsers) {
		if strings.EqualFold(v, "GuestsOrExternalUsers") {
			field := p + "includeUsers"
			if i >= len(u.IncludeUsers) {
				field, i = p+"excludeUsers", i-len(u.IncludeUsers)
			}
			return FieldErrorf(fmt.Sprintf("%s[%d]", field, i), "%s: GuestsOrExternalUsers is not supported; Gatehouse has no guest or external users.", field)
		}
	}
	if err := idList(p+"includeUsers", u.IncludeUsers, ConditionAll, ConditionNone); err != nil {
		return err
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"excludeUsers", u.ExcludeUsers}, {"includeGroups", u.IncludeGroups}, {"excludeGroups", u.ExcludeGroups}} {
		if err := idList(p+l.field, l.list); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"includeRoles", u.IncludeRoles}, {"excludeRoles", u.ExcludeRoles}} {
		if err := idList(p+l.field, l.list); err != nil {
			return err
		}
		for i, id := range l.list {
			if _, ok := RoleByID(id); !ok {
				f := fmt.Sprintf("%s%s[%d]", p, l.field, i)
				return FieldErrorf(f, "%s %q is not the template ID of a Gatehouse directory role.", f, id)
			}
		}
	}
	if len(u.IncludeUsers)+len(u.IncludeGroups)+len(u.IncludeRoles) == 0 {
		return FieldErrorf(p+"includeUsers", "conditions.users.includeUsers: the policy includes no users; set includeUsers (All, None or user IDs), includeGroups or includeRoles.")
	}
	if slices.Contains(u.IncludeUsers, ConditionNone) && len(u.IncludeGroups)+len(u.IncludeRoles) > 0 {
		return FieldErrorf(p+"includeUsers", "conditions.users.includeUsers is None, which includes nobody, but the policy also includes groups or roles; use one or the other.")
	}
	return nil
}

func (a *ApplicationConditions) validate() error {
	const p = "conditions.applications."
	for _, l := range []struct {
		field string
		list  []string
	}{{"includeApplications", a.Include}, {"excludeApplications", a.Exclude}} {
		for i, v := range l.list {
			if strings.EqualFold(v, "Office365") {
				f := fmt.Sprintf("%s%s[%d]", p, l.field, i)
				return FieldErrorf(f, "%s: Office365 is not supported; Gatehouse has no Office 365 apps. Name the applications by appId.", f)
			}
		}
	}
	if len(a.Include) == 0 {
		return FieldErrorf(p+"includeApplications", "conditions.applications.includeApplications is required: All, None, MicrosoftAdminPortals or application IDs (appId).")
	}
	if err := idList(p+"includeApplications", a.Include, ConditionAll, ConditionNone, ConditionAdminPortals); err != nil {
		return err
	}
	return idList(p+"excludeApplications", a.Exclude, ConditionAdminPortals)
}

// locationIDs checks a locations list: named location IDs, All (include
// only, alone) and AllTrusted.
func locationIDs(field string, list []string, include bool) error {
	keywords := []string{ConditionAllTrusted}
	if include {
		keywords = append(keywords, ConditionAll)
	}
	for i, v := range list {
		if v == mfaTrustedIPs {
			f := fmt.Sprintf("%s[%d]", field, i)
			return FieldErrorf(f, "%s: the location %s (Entra's MFA trusted IPs) is not supported; create a trusted IP named location instead.", f, mfaTrustedIPs)
		}
		if !include && v == ConditionAll {
			f := fmt.Sprintf("%s[%d]", field, i)
			return FieldErrorf(f, "%s: All cannot be excluded; it would exclude every sign-in.", f)
		}
	}
	return idList(field, list, keywords...)
}

func (p *Policy) validateGrant() error {
	g := p.Grant
	if g == nil {
		return nil
	}
	if g.Operator != "AND" && g.Operator != "OR" {
		return FieldErrorf("grantControls.operator", "grantControls.operator %q is not AND or OR.", g.Operator)
	}
	known := []string{ControlBlock, ControlMFA, ControlPasswordChange}
	for i, c := range g.BuiltIn {
		f := "grantControls.builtInControls[" + strconv.Itoa(i) + "]"
		switch c {
		case ControlBlock, ControlMFA, ControlPasswordChange:
		case "compliantDevice", "domainJoinedDevice":
			return FieldErrorf(f, "%s: %s is not supported; Gatehouse does not manage devices.", f, c)
		case "approvedApplication", "compliantApplication":
			return FieldErrorf(f, "%s: %s is not supported; Gatehouse has no app protection policies.", f, c)
		case "riskRemediation":
			return FieldErrorf(f, "%s: riskRemediation is not supported; use passwordChange with mfa.", f)
		default:
			return FieldErrorf(f, "%s %q is not supported; use %s.", f, c, strings.Join(known, ", "))
		}
		if slices.Index(g.BuiltIn, c) != i {
			return FieldErrorf(f, "grantControls.builtInControls lists %q twice.", c)
		}
	}
	if g.Strength != "" {
		if _, ok := StrengthByID(g.Strength); !ok {
			return FieldErrorf("grantControls.authenticationStrength.id", "grantControls.authenticationStrength.id %q is not a built-in authentication strength; use %s (multifactor), %s (passwordless) or %s (phishing-resistant).",
				g.Strength, StrengthMultifactor, StrengthPasswordless, StrengthPhishingResistant)
		}
	}
	n := len(g.BuiltIn)
	if g.Strength != "" {
		n++
	}
	switch {
	case n == 0:
		return FieldErrorf("grantControls.builtInControls", "grantControls.builtInControls: grantControls requires no control; list builtInControls or an authenticationStrength, or set grantControls to null.")
	case slices.Contains(g.BuiltIn, ControlBlock) && n > 1:
		return FieldErrorf("grantControls.builtInControls", "grantControls.builtInControls: block cannot be combined with other grant controls; a blocked sign-in has nothing left to satisfy.")
	case slices.Contains(g.BuiltIn, ControlMFA) && g.Strength != "":
		return FieldErrorf("grantControls.authenticationStrength", "grantControls.authenticationStrength: mfa and an authentication strength cannot be used together, as in Entra; the multifactor authentication strength is what mfa requires.")
	}
	if slices.Contains(g.BuiltIn, ControlPasswordChange) {
		c := p.Conditions
		switch {
		case g.Operator != "AND" || (!slices.Contains(g.BuiltIn, ControlMFA) && g.Strength == ""):
			return FieldErrorf("grantControls.builtInControls", "grantControls.builtInControls: passwordChange must be combined with mfa (or an authenticationStrength) using the AND operator, so that the password is changed after a strong authentication.")
		case len(c.UserRisk) == 0:
			return FieldErrorf("conditions.userRiskLevels", "conditions.userRiskLevels: a policy requiring passwordChange must have the userRiskLevels condition; the password change remediates user risk.")
		case !slices.Equal(c.Applications.Include, []string{ConditionAll}) || len(c.Applications.Exclude) > 0:
			return FieldErrorf("conditions.applications.includeApplications", "conditions.applications.includeApplications: a policy requiring passwordChange must include All applications and exclude none.")
		case c.Platforms != nil || c.Locations != nil || len(c.SignInRisk) > 0 || !slices.Equal(c.ClientAppTypes, []string{ClientAll}):
			return FieldErrorf("conditions", "conditions: a policy requiring passwordChange can have no conditions other than users, applications and userRiskLevels.")
		}
	}
	return nil
}

func (p *Policy) validateSession() error {
	s := p.Session
	if s == nil {
		return nil
	}
	if s.SignInFrequency == nil && s.PersistentBrowser == "" {
		return FieldErrorf("sessionControls", "sessionControls: no session control is enabled; set signInFrequency or persistentBrowser, or set sessionControls to null.")
	}
	if f := s.SignInFrequency; f != nil {
		const field = "sessionControls.signInFrequency"
		switch {
		case f.EveryTime && (f.Value != 0 || f.Type != ""):
			return FieldErrorf(field+".value", "%s with frequencyInterval everyTime takes no value or type.", field)
		case f.EveryTime:
		case f.Type != "hours" && f.Type != "days":
			return FieldErrorf(field+".type", "%s.type %q is not hours or days.", field, f.Type)
		case f.Type == "hours" && (f.Value < 1 || f.Value > 23):
			return FieldErrorf(field+".value", "%s.value %d is not from 1 to 23 hours (use days for longer).", field, f.Value)
		case f.Type == "days" && (f.Value < 1 || f.Value > 365):
			return FieldErrorf(field+".value", "%s.value %d is not from 1 to 365 days.", field, f.Value)
		}
	}
	switch s.PersistentBrowser {
	case "", PersistentAlways, PersistentNever:
	default:
		return FieldErrorf("sessionControls.persistentBrowser.mode", "sessionControls.persistentBrowser.mode %q is not always or never.", s.PersistentBrowser)
	}
	if s.PersistentBrowser != "" && !slices.Equal(p.Conditions.Applications.Include, []string{ConditionAll}) {
		return FieldErrorf("sessionControls.persistentBrowser", "sessionControls.persistentBrowser: a persistent browser session is the browser session of every application, so the policy must include All applications, as in Entra.")
	}
	return nil
}

// NamedLocation is a Conditional Access named location: IP ranges
// (Graph's ipNamedLocation) or countries and regions (countryNamedLocation).
type NamedLocation struct {
	ID          string
	TenantID    string
	DisplayName string
	Kind        string // LocationIP or LocationCountry
	// IPRanges are CIDR ranges as given ("12.34.221.11/22" covers
	// 12.34.220.0/22), IPv4 and IPv6 (LocationIP).
	IPRanges []string `json:"ipRanges,omitempty"`
	// Trusted marks a trusted IP location (Graph's isTrusted), which the
	// AllTrusted keyword of policies includes (LocationIP).
	Trusted bool `json:"isTrusted,omitempty"`
	// Countries are ISO 3166-1 alpha-2 codes, upper case (LocationCountry).
	Countries []string `json:"countriesAndRegions,omitempty"`
	// IncludeUnknown includes sign-ins whose country cannot be told:
	// addresses GeoIP does not map, and every address when no GeoIP
	// database is configured (LocationCountry).
	IncludeUnknown bool `json:"includeUnknownCountriesAndRegions,omitempty"`
	CreatedAt      time.Time
	ModifiedAt     time.Time
}

// Kinds of named locations.
const (
	LocationIP      = "ip"
	LocationCountry = "country"
)

// Limits of named locations.
const (
	maxIPRanges = 2000
	// minPrefixBits is the shortest prefix an IP range may have: as in
	// Entra, a range may not be larger than a /8.
	minPrefixBits = 8
)

// Clone returns a deep copy of l.
func (l *NamedLocation) Clone() *NamedLocation {
	c := *l
	c.IPRanges = slices.Clone(l.IPRanges)
	c.Countries = slices.Clone(l.Countries)
	return &c
}

// Prefixes returns the location's IP ranges as networks (masked).
// Validate has checked them; a range that does not parse is left out.
func (l *NamedLocation) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range l.IPRanges {
		if p, err := netip.ParsePrefix(r); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// Validate returns an EINVALID error naming the first bad property.
func (l *NamedLocation) Validate() error {
	if strings.TrimSpace(l.DisplayName) == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", l.DisplayName, maxDisplayName); err != nil {
		return err
	}
	switch l.Kind {
	case LocationIP:
		if len(l.Countries) > 0 || l.IncludeUnknown {
			return FieldErrorf("countriesAndRegions", "countriesAndRegions: an IP named location has no countries.")
		}
		if len(l.IPRanges) == 0 {
			return FieldErrorf("ipRanges", "ipRanges is required: at least one CIDR range such as 203.0.113.0/24 or 2001:db8::/48.")
		}
		if len(l.IPRanges) > maxIPRanges {
			return FieldErrorf("ipRanges", "ipRanges has %d ranges; the limit is %d.", len(l.IPRanges), maxIPRanges)
		}
		seen := map[netip.Prefix]int{}
		for i, r := range l.IPRanges {
			f := "ipRanges[" + strconv.Itoa(i) + "].cidrAddress"
			p, err := netip.ParsePrefix(r)
			if err != nil || p.Addr().Zone() != "" {
				return FieldErrorf(f, "%s %q is not a CIDR range such as 203.0.113.0/24 or 2001:db8::/48.", f, r)
			}
			if p.Bits() < minPrefixBits {
				return FieldErrorf(f, "%s %q is larger than a /%d; give smaller ranges.", f, r, minPrefixBits)
			}
			if j, dup := seen[p.Masked()]; dup {
				return FieldErrorf(f, "%s %q is the same range as ipRanges[%d].", f, r, j)
			}
			seen[p.Masked()] = i
		}
	case LocationCountry:
		if len(l.IPRanges) > 0 || l.Trusted {
			return FieldErrorf("ipRanges", "ipRanges: a country named location has no IP ranges and cannot be trusted.")
		}
		if len(l.Countries) == 0 {
			return FieldErrorf("countriesAndRegions", "countriesAndRegions is required: ISO 3166-1 two-letter codes such as US or GB.")
		}
		for i, c := range l.Countries {
			f := "countriesAndRegions[" + strconv.Itoa(i) + "]"
			if !IsCountryCode(c) {
				return FieldErrorf(f, "%s %q is not an ISO 3166-1 two-letter country or region code in upper case.", f, c)
			}
			if slices.Index(l.Countries, c) != i {
				return FieldErrorf(f, "countriesAndRegions lists %q twice.", c)
			}
		}
	default:
		return FieldErrorf("@odata.type", "@odata.type: a named location is an ipNamedLocation or a countryNamedLocation.")
	}
	return nil
}

// countryCodes are the ISO 3166-1 alpha-2 codes (officially assigned),
// two letters each.
const countryCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

// IsCountryCode reports whether s is an ISO 3166-1 alpha-2 code.
func IsCountryCode(s string) bool {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	for i := 0; i+2 <= len(countryCodes); i += 3 {
		if countryCodes[i:i+2] == s {
			return true
		}
	}
	return false
}

// PolicySet is every Conditional Access policy and named location of a
// tenant, read together with the tenant's PoliciesVersion.
type PolicySet struct {
	// Version is the tenant's policies version when the set was read;
	// the policies and locations are at least as new.
	Version   int64
	Policies  []*Policy
	Locations []*NamedLocation
}

// Normalize writes the policy's keywords and enumeration values as Graph
// spells them (Graph matches them case-insensitively: "all" is "All",
// "ios" is "iOS") and its object IDs in lower case, as Gatehouse stores
// IDs, so that Validate and evaluation compare them exactly.
func (p *Policy) Normalize() {
	c := &p.Conditions
	u := &c.Users
	u.IncludeUsers = canonical(u.IncludeUsers, ConditionAll, ConditionNone)
	u.ExcludeUsers = canonical(u.ExcludeUsers)
	u.IncludeGroups, u.ExcludeGroups = canonical(u.IncludeGroups), canonical(u.ExcludeGroups)
	u.IncludeRoles, u.ExcludeRoles = canonical(u.IncludeRoles), canonical(u.ExcludeRoles)
	a := &c.Applications
	a.Include = canonical(a.Include, ConditionAll, ConditionNone, ConditionAdminPortals)
	a.Exclude = canonical(a.Exclude, ConditionAdminPortals)
	c.ClientAppTypes = canonical(c.ClientAppTypes, ClientAppTypes...)
	if c.Platforms != nil {
		c.Platforms.Include = canonical(c.Platforms.Include, Platforms...)
		c.Platforms.Exclude = canonical(c.Platforms.Exclude, Platforms...)
	}
	if c.Locations != nil {
		c.Locations.Include = canonical(c.Locations.Include, ConditionAll, ConditionAllTrusted)
		c.Locations.Exclude = canonical(c.Locations.Exclude, ConditionAll, ConditionAllTrusted)
	}
	for _, levels := range [][]RiskLevel{c.SignInRisk, c.UserRisk} {
		for i, l := range levels {
			levels[i] = RiskLevel(strings.ToLower(string(l)))
		}
	}
	if g := p.Grant; g != nil {
		g.Operator = strings.ToUpper(g.Operator)
		g.BuiltIn = canonical(g.BuiltIn, ControlBlock, ControlMFA, ControlPasswordChange)
		g.Strength = strings.ToLower(g.Strength)
	}
	if s := p.Session; s != nil {
		s.PersistentBrowser = strings.ToLower(s.PersistentBrowser)
		if f := s.SignInFrequency; f != nil {
			f.Type = strings.ToLower(f.Type)
		}
	}
}

// canonical returns list with each value that equals one of the keywords
// but for case written as the keyword, and GUIDs in lower case.
func canonical(list []string, keywords ...string) []string {
	for i, v := range list {
		if IsGUID(v) {
			list[i] = strings.ToLower(v)
			continue
		}
		for _, k := range keywords {
			if strings.EqualFold(v, k) {
				list[i] = k
				break
			}
		}
	}
	return list
}

// Normalize writes the location's country codes in upper case.
func (l *NamedLocation) Normalize() {
	for i, c := range l.Countries {
		l.Countries[i] = strings.ToUpper(c)
	}
}
