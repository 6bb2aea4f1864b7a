package gatehouse

import (
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// SignIn is one entry of the sign-in log, in the shape of Graph's signIn
// (the subset Gatehouse records): every attempt to sign in, failures
// included. Secrets (passwords, codes, tokens, session IDs) never appear
// in it.
type SignIn struct {
	ID        string    `json:"-"`
	TenantID  string    `json:"-"`
	CreatedAt time.Time `json:"-"`
	// UserID is "" when no account was identified (an unknown address);
	// UserPrincipalName is then what was typed.
	UserID            string `json:"userId,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	UserDisplayName   string `json:"userDisplayName,omitempty"`
	AppID             string `json:"appId,omitempty"`
	AppDisplayName    string `json:"appDisplayName,omitempty"`
	IPAddress         string `json:"ipAddress,omitempty"`
	// ClientAppUsed is Graph's: "Browser" or "Mobile Apps and Desktop
	// clients".
	ClientAppUsed string         `json:"clientAppUsed,omitempty"`
	UserAgent     string         `json:"userAgent,omitempty"`
	Status        SignInStatus   `json:"status"`
	Location      SignInLocation `json:"location,omitzero"`
	// ConditionalAccessStatus is CAStatusSuccess, CAStatusFailure or
	// CAStatusNotApplied.
	ConditionalAccessStatus string          `json:"conditionalAccessStatus,omitempty"`
	AppliedPolicies         []AppliedPolicy `json:"appliedConditionalAccessPolicies,omitempty"`
	// AuthenticationRequirement is AuthSingleFactor or AuthMultiFactor:
	// whether the sign-in had to reach multifactor authentication.
	AuthenticationRequirement string                 `json:"authenticationRequirement,omitempty"`
	AuthenticationDetails     []AuthenticationDetail `json:"authenticationDetails,omitempty"`
	RiskLevelDuringSignIn     RiskLevel              `json:"riskLevelDuringSignIn,omitempty"`
	// RiskEventTypes name the detections that raised the risk
	// (risk.SignIn's): passwordSpray, unfamiliarFeatures, unlikelyTravel,
	// anonymizedIPAddress, unknownLocation.
	RiskEventTypes []string `json:"riskEventTypes,omitempty"`
	IsInteractive  bool     `json:"isInteractive,omitempty"`
	CorrelationID  string   `json:"correlationId,omitempty"`
}

// SignInStatus is Graph's signInStatus: ErrorCode 0 for success, else
// one of the SignIn… codes with a FailureReason for people.
type SignInStatus struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason,omitempty"`
	AdditionalDetails string `json:"additionalDetails,omitempty"`
}

// Sign-in error codes. Gatehouse uses the numbers Entra logs for the same
// outcomes, so that queries written for Entra's sign-in log find them.
const (
	SignInSucceeded = 0
	// SignInInvalidCredentials: a wrong password or code, or an unknown
	// account (they are not told apart, RL-4).
	SignInInvalidCredentials = 50126
	// SignInAccountDisabled: the account is disabled.
	SignInAccountDisabled = 50057
	// SignInThrottled: too many attempts; the sign-in must wait (RL-1).
	SignInThrottled = 50053
	// SignInInterrupted: the sign-in stopped to ask for a second factor
	// (Entra's "strong authentication is required").
	SignInInterrupted = 50074
	// SignInSecondFactorFailed: the second factor was wrong.
	SignInSecondFactorFailed = 500121
	// SignInBlockedByPolicy: a Conditional Access policy blocked access.
	SignInBlockedByPolicy = 53003
	// SignInUnmetRequirement: a requirement the user has no method to
	// meet (Entra's "the user must enroll in multifactor authentication").
	SignInUnmetRequirement = 50079
	// SignInFreshAuthRequired: the sign-in was not interactive (a
	// refresh, prompt=none) and needed the user.
	SignInFreshAuthRequired = 50076
	// SignInAccessDenied: the sign-in was refused for another reason
	// (Entra's "not assigned to a role for the application").
	SignInAccessDenied = 50105
)

// SignInLocation is where a sign-in came from, as GeoIP tells it (Graph's
// signInLocation); empty without a GeoIP database.
type SignInLocation struct {
	City            string          `json:"city,omitempty"`
	State           string          `json:"state,omitempty"`
	CountryOrRegion string          `json:"countryOrRegion,omitempty"`
	Coordinates     *GeoCoordinates `json:"geoCoordinates,omitempty"`
}

// GeoPlace is what a GeoIP database tells of a client address: where it
// is, and whether it belongs to an anonymizing network (a VPN, a proxy,
// Tor) when the database knows.
type GeoPlace struct {
	Location  SignInLocation
	Anonymous bool
}

// GeoCoordinates are a point on Earth in degrees.
type GeoCoordinates struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// AppliedPolicy is one Conditional Access policy's part in a sign-in
// (Graph's appliedConditionalAccessPolicy).
type AppliedPolicy struct {
	ID                      string   `json:"id"`
	DisplayName             string   `json:"displayName"`
	Result                  string   `json:"result"`
	EnforcedGrantControls   []string `json:"enforcedGrantControls"`
	EnforcedSessionControls []string `json:"enforcedSessionControls"`
}

// Policy results of a sign-in, as Graph names them.
const (
	ResultSuccess    = "success"
	ResultFailure    = "failure"
	ResultNotApplied = "notApplied"
	ResultNotEnabled = "notEnabled"
	// The report-only results: the policy applied, and its controls were
	// met, or not met by what needs no user (a block), or would have
	// needed the user (Entra's "user action required"); or it did not
	// apply.
	ResultReportOnlySuccess     = "reportOnlySuccess"
	ResultReportOnlyFailure     = "reportOnlyFailure"
	ResultReportOnlyInterrupted = "reportOnlyInterrupted"
	ResultReportOnlyNotApplied  = "reportOnlyNotApplied"
)

var policyResults = []string{ResultSuccess, ResultFailure, ResultNotApplied, ResultNotEnabled,
	ResultReportOnlySuccess, ResultReportOnlyFailure, ResultReportOnlyInterrupted, ResultReportOnlyNotApplied}

// A sign-in's conditionalAccessStatus.
const (
	CAStatusSuccess    = "success"
	CAStatusFailure    = "failure"
	CAStatusNotApplied = "notApplied"
)

// A sign-in's authenticationRequirement.
const (
	AuthSingleFactor = "singleFactorAuthentication"
	AuthMultiFactor  = "multiFactorAuthentication"
)

// Graph's clientAppUsed values of Gatehouse's client app types.
const (
	ClientAppUsedBrowser       = "Browser"
	ClientAppUsedMobileDesktop = "Mobile Apps and Desktop clients"
)

// AuthenticationDetail is one authentication step of a sign-in (Graph's
// authenticationDetail).
type AuthenticationDetail struct {
	// Method is Graph's name of the method: "Password", "Email OTP",
	// "Text message", "Authenticator app (TOTP)", "Passkey",
	// "Recovery code", or "Previously satisfied" for one carried over
	// from the browser's session.
	Method string `json:"authenticationMethod"`
	// MethodDetail is a non-secret detail: a passkey's or an
	// authenticator's display name.
	MethodDetail string    `json:"authenticationMethodDetail,omitempty"`
	At           time.Time `json:"authenticationStepDateTime"`
	// Requirement is "Primary authentication" or "MFA".
	Requirement string `json:"authenticationStepRequirement,omitempty"`
	// ResultDetail says what happened ("Correct password", "Incorrect
	// code").
	ResultDetail string `json:"authenticationStepResultDetail,omitempty"`
	Succeeded    bool   `json:"succeeded"`
}

// Maximum lengths of a sign-in's free-text properties, which Validate
// checks (a caller truncates the User-Agent before).
const (
	MaxSignInText      = 256
	MaxSignInUserAgent = 1024
)

// Validate returns an EINVALID error naming the first property of the
// entry that is out of its range.
func (s *SignIn) Validate() error {
	for _, t := range []struct {
		field, v string
		max      int
	}{
		{"userPrincipalName", s.UserPrincipalName, MaxSignInText}, {"userDisplayName", s.UserDisplayName, MaxSignInText},
		{"appDisplayName", s.AppDisplayName, MaxSignInText}, {"userAgent", s.UserAgent, MaxSignInUserAgent},
		{"status.failureReason", s.Status.FailureReason, MaxSignInText}, {"status.additionalDetails", s.Status.AdditionalDetails, MaxSignInText},
	} {
		if err := ValidateText(t.field, t.v, t.max); err != nil {
			return err
		}
	}
	if s.IPAddress != "" {
		if _, err := netip.ParseAddr(s.IPAddress); err != nil {
			return FieldErrorf("ipAddress", "ipAddress %q is not an IP address.", s.IPAddress)
		}
	}
	if s.Status.ErrorCode < 0 {
		return FieldErrorf("status.errorCode", "status.errorCode %d is negative.", s.Status.ErrorCode)
	}
	switch s.ConditionalAccessStatus {
	case "", CAStatusSuccess, CAStatusFailure, CAStatusNotApplied:
	default:
		return FieldErrorf("conditionalAccessStatus", "conditionalAccessStatus %q is not success, failure or notApplied.", s.ConditionalAccessStatus)
	}
	switch s.AuthenticationRequirement {
	case "", AuthSingleFactor, AuthMultiFactor:
	default:
		return FieldErrorf("authenticationRequirement", "authenticationRequirement %q is not %s or %s.", s.AuthenticationRequirement, AuthSingleFactor, AuthMultiFactor)
	}
	if s.RiskLevelDuringSignIn != "" && !slices.Contains(RiskLevels, s.RiskLevelDuringSignIn) {
		return FieldErrorf("riskLevelDuringSignIn", "riskLevelDuringSignIn %q is not none, low, medium or high.", s.RiskLevelDuringSignIn)
	}
	for i, p := range s.AppliedPolicies {
		if !slices.Contains(policyResults, p.Result) {
			f := "appliedConditionalAccessPolicies[" + strconv.Itoa(i) + "].result"
			return FieldErrorf(f, "%s %q is not a Conditional Access result.", f, p.Result)
		}
	}
	for i, d := range s.AuthenticationDetails {
		f := "authenticationDetails[" + strconv.Itoa(i) + "]"
		if err := ValidateText(f+".authenticationMethodDetail", d.MethodDetail, MaxSignInText); err != nil {
			return err
		}
		if err := ValidateText(f+".authenticationStepResultDetail", d.ResultDetail, MaxSignInText); err != nil {
			return err
		}
	}
	return nil
}

// Located reports whether GeoIP gave the sign-in coordinates.
func (s *SignIn) Located() bool { return s.Location.Coordinates != nil }

// AddressKey returns the key under which sign-ins from one client address
// are counted, as Gatehouse's per-address limits count them: an IPv4
// address, or an IPv6 /64 ("" for an address that does not parse).
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// NetworkOf returns the network a client address belongs to, for telling
// a user's familiar networks: the IPv4 /24 or the IPv6 /48 ("" for an
// address that does not parse).
func NetworkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// SignInFilter selects entries of the sign-in log: each set field must
// match (Graph's $filter on userId, appId, status/errorCode and
// createdDateTime ge/le).
type SignInFilter struct {
	UserID string
	AppID  string
	// ErrorCode, when set, is the status.errorCode to match (0 for
	// successful sign-ins).
	ErrorCode *int
	// From and To bound CreatedAt, both inclusive; zero for no bound.
	From, To time.Time
}

// SignInHistoryQuery asks the sign-in log for what risk detection needs
// about a sign-in in progress.
type SignInHistoryQuery struct {
	UserID string
	// Address is the sign-in's client address.
	Address string
	// FailuresSince starts the window in which failed sign-ins from the
	// address are counted.
	FailuresSince time.Time
	// RiskySince starts the window in which the user's risky sign-ins
	// are counted.
	RiskySince time.Time
}

// SignInHistory is what the sign-in log tells about a sign-in in
// progress, from the entries before it.
type SignInHistory struct {
	// FailedAccounts is how many distinct accounts (by user principal
	// name, known or not) failed to sign in from the address's key
	// (AddressKey) since FailuresSince.
	FailedAccounts int
	// SignedInBefore reports whether the user signed in successfully
	// before, and NetworkSeen whether one such sign-in came from the
	// address's network (NetworkOf).
	SignedInBefore bool
	NetworkSeen    bool
	// LastLocated is the user's newest successful sign-in with
	// coordinates, nil if none.
	LastLocated *SignIn
	// RiskySignIns is how many of the user's sign-ins since RiskySince had
	// a medium or high risk.
	RiskySignIns int
}
