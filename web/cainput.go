package web

import (
	"context"
	"net/netip"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/policy"
)

// signInFacts are what a sign-in tells of itself besides who signs in to
// what: how, from where, and how risky. The live sign-in path fills in
// UserAgent and IP from the request and the risk levels from the risk
// package; What If gives Platform and Country as the question states them.
type signInFacts struct {
	// ClientAppType is gatehouse.ClientBrowser ("" means it) or
	// gatehouse.ClientMobileDesktop.
	ClientAppType string
	// Platform, when set, is the device platform; otherwise it is
	// policy.ParsePlatform(UserAgent).
	Platform  string
	UserAgent string
	// IP is the client address (the zero Addr for none). Country, when
	// set, is its ISO 3166-1 code; otherwise GeoIP tells it, when a
	// database is configured.
	IP      netip.Addr
	Country string
	// SignInRisk and UserRisk are the risk levels ("" is none).
	SignInRisk gatehouse.RiskLevel
	UserRisk   gatehouse.RiskLevel
}

// caInput returns the Conditional Access input of a sign-in of the user
// to the application appID that yields tokens for resources too (the
// admin API's appId when it asks for it): the user's groups (direct
// members: Gatehouse's groups hold users only, so membership is
// transitive already) and directory roles by template ID, read from rd,
// and the facts. The live sign-in path and What If both call it, so that
// What If answers with the same input the sign-in would be evaluated on.
// It returns ENOTFOUND if there is no such user.
func (s *server) caInput(ctx context.Context, rd gatehouse.Reader, tenantID, userID, appID string, resources []string, f signInFacts) (policy.Input, error) {
	u, err := rd.User(ctx, tenantID, userID)
	if err != nil {
		return policy.Input{}, err
	}
	groups, err := rd.UserGroupIDs(ctx, tenantID, u.ID)
	if err != nil {
		return policy.Input{}, err
	}
	roles, err := userRoles(ctx, rd, tenantID, u.ID)
	if err != nil {
		return policy.Input{}, err
	}
	in := inputOf(u.ID, groups, roles, appID, resources, f)
	if in.Country == "" && in.IP.IsValid() && s.GeoIP != nil {
		if place, ok := s.GeoIP.Locate(in.IP); ok {
			in.Country = place.Location.CountryOrRegion
		}
	}
	return in, nil
}

// inputOf is the Conditional Access input of a sign-in of the user, a
// member of the groups holding the roles, to the application appID that
// yields tokens for resources too, with the facts: what the live sign-in
// path (evaluateCA) and What If (caInput) both evaluate.
func inputOf(userID string, groups, roles []string, appID string, resources []string, f signInFacts) policy.Input {
	in := policy.Input{
		UserID: userID, GroupIDs: groups, RoleIDs: roles,
		AppID: appID, Resources: slices.DeleteFunc(slices.Clone(resources), func(r string) bool { return r == appID }),
		ClientAppType: f.ClientAppType, Platform: f.Platform,
		IP: f.IP.Unmap(), Country: f.Country,
		SignInRisk: f.SignInRisk, UserRisk: f.UserRisk,
	}
	if in.ClientAppType == "" {
		in.ClientAppType = gatehouse.ClientBrowser
	}
	if in.Platform == "" {
		in.Platform = policy.ParsePlatform(f.UserAgent)
	}
	return in
}

// caPolicySet compiles the tenant's policies and named locations as rd
// holds them now.
func caPolicySet(ctx context.Context, rd gatehouse.Reader, tenantID string) (*policy.Set, error) {
	ps, err := rd.PolicySet(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return policy.Compile(ps.Policies, ps.Locations), nil
}
