package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The Conditional Access admin API: policies at
// /identity/conditionalAccess/policies and named locations at
// /identity/conditionalAccess/namedLocations, in Graph's shapes
// (capolicy_shape.go). Each change is one transaction that checks what
// the policy names, guards against locking every Global Administrator
// out of the admin portal (lockout.go), and writes the audit entry with
// the object before and after.

// Entity sets of the Conditional Access collections, for @odata.context.
const (
	caPoliciesSet  = "identity/conditionalAccess/policies"
	caLocationsSet = "identity/conditionalAccess/namedLocations"
)

// checkPolicyReferences returns an ENOTFOUND error naming the property
// (conditions.users.includeGroups[0]) of the first user, group or
// application the policy names that the tenant does not have. The admin
// portal's and the admin API's appIds are always there; role template
// IDs and named locations are checked by Validate and the store.
func checkPolicyReferences(ctx context.Context, rd gatehouse.Reader, tenantID string, p *gatehouse.Policy) error {
	u, a := p.Conditions.Users, p.Conditions.Applications
	lists := []struct {
		path, kind string
		ids        []string
		exists     func(id string) error
	}{
		{"conditions.users.includeUsers", "user", u.IncludeUsers, func(id string) error { _, err := rd.User(ctx, tenantID, id); return err }},
		{"conditions.users.excludeUsers", "user", u.ExcludeUsers, func(id string) error { _, err := rd.User(ctx, tenantID, id); return err }},
		{"conditions.users.includeGroups", "group", u.IncludeGroups, func(id string) error { _, err := rd.Group(ctx, tenantID, id); return err }},
		{"conditions.users.excludeGroups", "group", u.ExcludeGroups, func(id string) error { _, err := rd.Group(ctx, tenantID, id); return err }},
		{"conditions.applications.includeApplications", "application (by appId)", a.Include, appExists(ctx, rd, tenantID)},
		{"conditions.applications.excludeApplications", "application (by appId)", a.Exclude, appExists(ctx, rd, tenantID)},
	}
	for _, l := range lists {
		for i, id := range l.ids {
			if !gatehouse.IsGUID(id) {
				continue // a keyword: All, None, MicrosoftAdminPortals
			}
			err := l.exists(id)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				f := l.path + "[" + strconv.Itoa(i) + "]"
				return &gatehouse.Error{Code: gatehouse.ENOTFOUND, Field: f,
					Message: fmt.Sprintf("%s: no %s with id %q exists in this tenant.", f, l.kind, id)}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// appExists returns a lookup of applications by appId that knows the
// admin portal and the admin API.
func appExists(ctx context.Context, rd gatehouse.Reader, tenantID string) func(string) error {
	return func(appID string) error {
		if appID == gatehouse.AdminPortalAppID || appID == gatehouse.AdminAPIAppID {
			return nil
		}
		_, err := rd.ApplicationByAppID(ctx, tenantID, appID)
		return err
	}
}

func (s *server) handleCAPolicyList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "displayName", "state")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		ps, next, err := s.Store.ListPolicies(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphCAPolicy, 0, len(ps))
		for _, p := range ps {
			out = append(out, toGraphCAPolicy(p))
		}
		s.writeCollection(w, r, caPoliciesSet, out, next)
	})
}

func (s *server) handleCAPolicyGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Store.Policy(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, caPoliciesSet, toGraphCAPolicy(p))
	})
}

// handleCAPolicyCreate creates a policy from Graph's body, with Graph's
// defaults for what it leaves out; 201 with the policy as GET returns it.
func (s *server) handleCAPolicyCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		confirmed, err := lockoutConfirmed(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var in caPolicyInput
		d, err := decode(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		p := newCAPolicy(t.ID)
		if err := in.apply(p, d, true); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			c := p.Clone() // the store fills in ID and times; a retry starts afresh
			if err := checkPolicyReferences(ctx, tx, t.ID, c); err != nil {
				return err
			}
			if err := tx.CreatePolicy(ctx, c); err != nil {
				return err
			}
			overrode, err := s.guardLockout(r, tx, confirmed)
			if err != nil {
				return err
			}
			p = c
			return s.audit(r, tx, change{category: "Policy", activity: "Add conditional access policy", operation: "Add",
				targetType: "Policy", targetID: c.ID, name: c.DisplayName, after: toGraphCAPolicy(c), reason: overrode})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/"+caPoliciesSet+"/"+p.ID)
		encode(w, http.StatusCreated, toGraphCAPolicy(p))
	})
}

// handleCAPolicyUpdate changes what the body holds (capolicy_shape.go's
// apply); 204, as Graph answers.
func (s *server) handleCAPolicyUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		confirmed, err := lockoutConfirmed(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var in caPolicyInput
		d, err := decode(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before *gatehouse.Policy
			after, err := tx.UpdatePolicy(ctx, t.ID, r.PathValue("id"), func(p *gatehouse.Policy) error {
				before = p.Clone()
				if err := in.apply(p, d, false); err != nil {
					return err
				}
				if unchanged(toGraphCAPolicy(before), toGraphCAPolicy(p)) {
					return errUnchanged
				}
				return checkPolicyReferences(ctx, tx, t.ID, p)
			})
			if err != nil {
				return err
			}
			overrode, err := s.guardLockout(r, tx, confirmed)
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Update conditional access policy", operation: "Update",
				targetType: "Policy", targetID: after.ID, name: after.DisplayName, before: toGraphCAPolicy(before), after: toGraphCAPolicy(after), reason: overrode})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleCAPolicyDelete deletes a policy. Removing a policy only ever
// lets more sign-ins through, so the lockout guard has nothing to say.
func (s *server) handleCAPolicyDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			p, err := tx.Policy(ctx, t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := tx.DeletePolicy(ctx, t.ID, p.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Delete conditional access policy", operation: "Delete",
				targetType: "Policy", targetID: p.ID, name: p.DisplayName, before: toGraphCAPolicy(p)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// geoIPWarningHeader carries geoIPWarning on every response that writes or
// returns a country named location while no GeoIP database is
// configured; the @gatehouse.warning annotation carries it in bodies.
const (
	geoIPWarningHeader = "Gatehouse-Warning"
	geoIPWarning       = "No GeoIP database is configured (--geoip-db), so Gatehouse cannot tell the country of a sign-in: " +
		"every sign-in's country is unknown, and a country named location matches only when it includes unknown countries and regions."
)

// graphLocationOut is a named location as the API returns it: Graph's
// shape, and for a country location that cannot be evaluated, the
// warning annotation.
type graphLocationOut struct {
	Warning string `json:"@gatehouse.warning,omitempty"`
	graphNamedLocation
}

// locationOut returns l as the API returns it, and sets the warning
// header when l is a country location and no GeoIP database is
// configured.
func (s *server) locationOut(w http.ResponseWriter, l *gatehouse.NamedLocation) graphLocationOut {
	out := graphLocationOut{graphNamedLocation: toGraphNamedLocation(l)}
	if l.Kind == gatehouse.LocationCountry && s.GeoIP == nil {
		out.Warning = geoIPWarning
		w.Header().Set(geoIPWarningHeader, geoIPWarning)
	}
	return out
}

func (s *server) handleNamedLocationList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "displayName")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		ls, next, err := s.Store.ListNamedLocations(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphLocationOut, 0, len(ls))
		for _, l := range ls {
			out = append(out, s.locationOut(w, l))
		}
		s.writeCollection(w, r, caLocationsSet, out, next)
	})
}

func (s *server) handleNamedLocationGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := s.Store.NamedLocation(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, caLocationsSet, s.locationOut(w, l))
	})
}

func (s *server) handleNamedLocationCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in namedLocationInput
		d, err := decode(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		l := &gatehouse.NamedLocation{TenantID: t.ID}
		if err := in.apply(l, d, true); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			c := l.Clone()
			if err := tx.CreateNamedLocation(ctx, c); err != nil {
				return err
			}
			l = c
			return s.audit(r, tx, change{category: "Policy", activity: "Add named location", operation: "Add",
				targetType: "NamedLocation", targetID: c.ID, name: c.DisplayName, after: toGraphNamedLocation(c)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/"+caLocationsSet+"/"+l.ID)
		encode(w, http.StatusCreated, s.locationOut(w, l))
	})
}

// handleNamedLocationUpdate changes a location. A location's ranges or
// countries decide which sign-ins the policies that name it apply to, so
// the lockout guard checks the change too.
func (s *server) handleNamedLocationUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		confirmed, err := lockoutConfirmed(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var in namedLocationInput
		d, err := decode(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var after *gatehouse.NamedLocation
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before *gatehouse.NamedLocation
			var err error
			after, err = tx.UpdateNamedLocation(ctx, t.ID, r.PathValue("id"), func(l *gatehouse.NamedLocation) error {
				before = l.Clone()
				if err := in.apply(l, d, false); err != nil {
					return err
				}
				if unchanged(toGraphNamedLocation(before), toGraphNamedLocation(l)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return err
			}
			overrode, err := s.guardLockout(r, tx, confirmed)
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Update named location", operation: "Update",
				targetType: "NamedLocation", targetID: after.ID, name: after.DisplayName, before: toGraphNamedLocation(before), after: toGraphNamedLocation(after), reason: overrode})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if after != nil {
			s.locationOut(w, after) // the warning header
		} else if l, err := s.Store.NamedLocation(ctx, t.ID, r.PathValue("id")); err == nil {
			s.locationOut(w, l)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleNamedLocationDelete deletes a location that no policy names; the
// store's ECONFLICT names the policies that do.
func (s *server) handleNamedLocationDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			l, err := tx.NamedLocation(ctx, t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := tx.DeleteNamedLocation(ctx, t.ID, l.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Delete named location", operation: "Delete",
				targetType: "NamedLocation", targetID: l.ID, name: l.DisplayName, before: toGraphNamedLocation(l)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// excludingPolicies returns the display names of the policies that
// exclude the group, sorted.
func excludingPolicies(ctx context.Context, rd gatehouse.Reader, tenantID, groupID string) ([]string, error) {
	ps, err := rd.PolicySet(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range ps.Policies {
		if slices.Contains(p.Conditions.Users.ExcludeGroups, strings.ToLower(groupID)) {
			names = append(names, p.DisplayName)
		}
	}
	slices.Sort(names)
	return names, nil
}
