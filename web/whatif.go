package web

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// What If: POST /identity/conditionalAccess/evaluate, Graph's
// conditionalAccessRoot evaluate action. It answers "what would happen if
// this user signed in to this app from here" with every policy (or only
// those that apply, appliedPoliciesOnly) and whether and why it applies,
// from the same input (caInput) and the same evaluation (policy.Set) as a
// live sign-in: the node's compiled set of the tenant's policies
// (policySet, ca.go).

// whatIfInput is the body of the evaluate action.
type whatIfInput struct {
	SignInIdentity      *whatIfIdentity   `json:"signInIdentity" null:"refuse"`
	SignInContext       *whatIfContext    `json:"signInContext" null:"refuse"`
	SignInConditions    *whatIfConditions `json:"signInConditions"`
	AppliedPoliciesOnly *bool             `json:"appliedPoliciesOnly"`
}

type whatIfIdentity struct {
	ODataType *string `json:"@odata.type" null:"refuse"`
	UserID    *string `json:"userId" null:"refuse"`
	// Of a servicePrincipalSignIn, which Gatehouse does not evaluate.
	ServicePrincipalID json.RawMessage `json:"servicePrincipalId"`
	// Of an external user, which Gatehouse does not have.
	ExternalTenantID json.RawMessage `json:"externalTenantId"`
	ExternalUserType json.RawMessage `json:"externalUserType"`
}

type whatIfContext struct {
	ODataType           *string  `json:"@odata.type" null:"refuse"`
	IncludeApplications []string `json:"includeApplications"`
	// Of the other contexts, which Gatehouse does not have.
	UserAction                      json.RawMessage `json:"userAction"`
	AuthenticationContextReferences json.RawMessage `json:"authenticationContextClassReference"`
}

type whatIfConditions struct {
	ClientAppType    *string         `json:"clientAppType" null:"keep"`
	DevicePlatform   *string         `json:"devicePlatform" null:"keep"`
	IPAddress        *string         `json:"ipAddress" null:"keep"`
	Country          *string         `json:"country" null:"keep"`
	SignInRiskLevel  *string         `json:"signInRiskLevel" null:"keep"`
	UserRiskLevel    *string         `json:"userRiskLevel" null:"keep"`
	AuthenticationFl json.RawMessage `json:"authenticationFlow"`
	DeviceInfo       json.RawMessage `json:"deviceInfo"`
	InsiderRisk      json.RawMessage `json:"insiderRiskLevel"`
	SPRisk           json.RawMessage `json:"servicePrincipalRiskLevel"`
	AgentIDRisk      json.RawMessage `json:"agentIdRiskLevel"`
}

// The @odata.type values the evaluate action takes.
const (
	odataUserSignIn         = "#microsoft.graph.userSignIn"
	odataApplicationContext = "#microsoft.graph.applicationContext"
)

// sameODataType compares @odata.type values, the leading # optional and
// case aside.
func sameODataType(got, want string) bool {
	return strings.EqualFold(strings.TrimPrefix(got, "#"), strings.TrimPrefix(want, "#"))
}

// whatIfResult is Graph's whatIfAnalysisResult: the policy, whether it
// applies, and the first condition that did not match (notSet when it
// applies); @gatehouse.analysisDetail says the reason in a sentence.
type whatIfResult struct {
	graphCAPolicy
	PolicyApplies   bool   `json:"policyApplies"`
	AnalysisReasons string `json:"analysisReasons"`
	Detail          string `json:"analysisReasons@gatehouse.detail,omitempty"`
}

// facts turns the question's signInConditions into the facts of a
// sign-in, with EINVALID errors naming the property. Left out,
// clientAppType (or all) is a browser, devicePlatform (or all) a
// platform the User-Agent would not tell, ipAddress no address, country
// GeoIP's answer for the address, and the risk levels none.
func (c *whatIfConditions) facts() (signInFacts, error) {
	const pre = "signInConditions."
	f := signInFacts{Platform: gatehouse.PlatformUnknown}
	if c == nil {
		return f, nil
	}
	if err := refuseAll(pre, []unsupported{
		{"authenticationFlow", "Gatehouse has no device code flow or authentication transfer.", c.AuthenticationFl},
		{"deviceInfo", "Gatehouse does not manage devices.", c.DeviceInfo},
		{"servicePrincipalRiskLevel", "Gatehouse evaluates user sign-ins only.", c.SPRisk},
		{"agentIdRiskLevel", "Gatehouse has no agent identities.", c.AgentIDRisk},
	}); err != nil {
		return f, err
	}
	if raw := c.InsiderRisk; len(raw) > 0 && !isEmptyJSON(raw) && string(raw) != `"none"` {
		return f, gatehouse.FieldErrorf(pre+"insiderRiskLevel", "Property '%sinsiderRiskLevel' is not supported: Gatehouse has no insider risk management. Send none or leave it out.", pre)
	}
	if v := c.ClientAppType; v != nil && *v != "" && !strings.EqualFold(*v, gatehouse.ClientAll) {
		i := slices.IndexFunc(gatehouse.ClientAppTypes, func(t string) bool { return strings.EqualFold(t, *v) })
		if i < 0 {
			return f, gatehouse.FieldErrorf(pre+"clientAppType", "%sclientAppType %q is not one of %s.", pre, *v, strings.Join(gatehouse.ClientAppTypes, ", "))
		}
		f.ClientAppType = gatehouse.ClientAppTypes[i]
	}
	if v := c.DevicePlatform; v != nil && *v != "" && !strings.EqualFold(*v, gatehouse.PlatformAll) {
		i := slices.IndexFunc(gatehouse.Platforms, func(p string) bool { return strings.EqualFold(p, *v) })
		if i < 0 {
			return f, gatehouse.FieldErrorf(pre+"devicePlatform", "%sdevicePlatform %q is not one of %s.", pre, *v, strings.Join(gatehouse.Platforms, ", "))
		}
		f.Platform = gatehouse.Platforms[i]
	}
	if v := c.IPAddress; v != nil && *v != "" {
		a, err := netip.ParseAddr(*v)
		if err != nil || a.Zone() != "" {
			return f, gatehouse.FieldErrorf(pre+"ipAddress", "%sipAddress %q is not an IPv4 or IPv6 address.", pre, *v)
		}
		f.IP = a
	}
	if v := c.Country; v != nil && *v != "" {
		code := strings.ToUpper(*v)
		if !gatehouse.IsCountryCode(code) {
			return f, gatehouse.FieldErrorf(pre+"country", "%scountry %q is not an ISO 3166-1 alpha-2 country code such as FR.", pre, *v)
		}
		f.Country = code
	}
	for _, l := range []struct {
		name string
		v    *string
		dst  *gatehouse.RiskLevel
	}{{"signInRiskLevel", c.SignInRiskLevel, &f.SignInRisk}, {"userRiskLevel", c.UserRiskLevel, &f.UserRisk}} {
		if l.v == nil || *l.v == "" {
			continue
		}
		level := gatehouse.RiskLevel(strings.ToLower(*l.v))
		if !slices.Contains(gatehouse.RiskLevels, level) {
			return f, gatehouse.FieldErrorf(pre+l.name, "%s%s %q is not none, low, medium or high.", pre, l.name, *l.v)
		}
		*l.dst = level
	}
	return f, nil
}

func (s *server) handleWhatIf() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in whatIfInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		userID, apps, facts, err := in.check()
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		for i, id := range apps {
			if err := appExists(ctx, s.Store, t.ID)(id); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				f := "signInContext.includeApplications[" + strconv.Itoa(i) + "]"
				s.writeAPIError(w, r, &gatehouse.Error{Code: gatehouse.ENOTFOUND, Field: f, Message: f + ": no application with appId " + strconv.Quote(id) + " exists in this tenant."})
				return
			} else if err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		input, err := s.caInput(ctx, s.Store, t.ID, userID, apps[0], apps[1:], facts)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			err = &gatehouse.Error{Code: gatehouse.ENOTFOUND, Field: "signInIdentity.userId", Message: "signInIdentity.userId: no user with id " + strconv.Quote(userID) + " exists in this tenant."}
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		set, err := s.policySet(ctx, t.ID) // the live sign-ins' compiled set
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		d := set.Evaluate(input)
		out := []whatIfResult{}
		for _, res := range d.Results() {
			if in.AppliedPoliciesOnly != nil && *in.AppliedPoliciesOnly && !res.Applies {
				continue
			}
			out = append(out, whatIfResult{graphCAPolicy: toGraphCAPolicy(res.Policy), PolicyApplies: res.Applies,
				AnalysisReasons: res.Reason, Detail: res.Detail})
		}
		encode(w, http.StatusOK, collection{Context: gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)", Value: out})
	})
}

// check returns the question's user, applications (the first the one
// signing in) and facts, or an EINVALID error naming the property.
func (in *whatIfInput) check() (userID string, apps []string, f signInFacts, err error) {
	id, c := in.SignInIdentity, in.SignInContext
	switch {
	case id == nil:
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity", "signInIdentity is required: {\"@odata.type\": \"%s\", \"userId\": \"…\"}.", odataUserSignIn)
	case id.ODataType != nil && !sameODataType(*id.ODataType, odataUserSignIn):
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.@odata.type", "signInIdentity.@odata.type %q is not supported: Gatehouse evaluates user sign-ins only (%s).", *id.ODataType, odataUserSignIn)
	case !isEmptyJSON(id.ServicePrincipalID) && len(id.ServicePrincipalID) > 0:
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.servicePrincipalId", "signInIdentity.servicePrincipalId is not supported: Gatehouse evaluates user sign-ins only.")
	case len(id.ExternalTenantID) > 0 && !isEmptyJSON(id.ExternalTenantID):
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.externalTenantId", "signInIdentity.externalTenantId is not supported: Gatehouse has no external users.")
	case len(id.ExternalUserType) > 0 && !isEmptyJSON(id.ExternalUserType):
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.externalUserType", "signInIdentity.externalUserType is not supported: Gatehouse has no external users.")
	case id.UserID == nil || *id.UserID == "":
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.userId", "signInIdentity.userId is required: the id of the user signing in.")
	case !gatehouse.IsGUID(*id.UserID):
		return "", nil, f, gatehouse.FieldErrorf("signInIdentity.userId", "signInIdentity.userId %q is not a user id (a GUID).", *id.UserID)
	case c == nil:
		return "", nil, f, gatehouse.FieldErrorf("signInContext", "signInContext is required: {\"@odata.type\": \"%s\", \"includeApplications\": [\"appId\"]}.", odataApplicationContext)
	case c.ODataType != nil && !sameODataType(*c.ODataType, odataApplicationContext):
		return "", nil, f, gatehouse.FieldErrorf("signInContext.@odata.type", "signInContext.@odata.type %q is not supported: Gatehouse has no user actions or authentication contexts; use %s.", *c.ODataType, odataApplicationContext)
	case len(c.UserAction) > 0 && !isEmptyJSON(c.UserAction):
		return "", nil, f, gatehouse.FieldErrorf("signInContext.userAction", "signInContext.userAction is not supported: Gatehouse has no user actions.")
	case len(c.AuthenticationContextReferences) > 0 && !isEmptyJSON(c.AuthenticationContextReferences):
		return "", nil, f, gatehouse.FieldErrorf("signInContext.authenticationContextClassReference", "signInContext.authenticationContextClassReference is not supported: Gatehouse has no authentication contexts.")
	case len(c.IncludeApplications) == 0:
		return "", nil, f, gatehouse.FieldErrorf("signInContext.includeApplications", "signInContext.includeApplications is required: the appId of the application signed in to.")
	}
	for i, a := range c.IncludeApplications {
		if !gatehouse.IsGUID(a) {
			f := "signInContext.includeApplications[" + strconv.Itoa(i) + "]"
			return "", nil, signInFacts{}, gatehouse.FieldErrorf(f, "%s %q is not an appId (a GUID).", f, a)
		}
		if a = strings.ToLower(a); !slices.Contains(apps, a) {
			apps = append(apps, a)
		}
	}
	f, err = in.SignInConditions.facts()
	return strings.ToLower(*id.UserID), apps, f, err
}
