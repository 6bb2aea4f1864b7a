package web

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/gatehouse/gatehouse"
)

// The tenant is Graph's organization: a collection of one, whose id is the
// tenant ID. Its branding is Graph's organizationalBranding (the default
// one, id "0"). Gatehouse's branding, a logo URL and an accent colour, has
// no counterpart among Graph's branding properties (Graph uploads logo
// images and has no accent colour), so it lives under "gatehouse", as an
// application's Gatehouse-only settings do.

// graphOrganization is Graph's organization, as far as a tenant goes.
type graphOrganization struct {
	ID              string               `json:"id"`
	DisplayName     string               `json:"displayName"`
	CreatedDateTime string               `json:"createdDateTime"`
	Gatehouse       organizationSettings `json:"gatehouse"` // signing.go
}

func toGraphOrganization(t *gatehouse.Tenant) graphOrganization {
	return graphOrganization{ID: t.ID, DisplayName: t.DisplayName, CreatedDateTime: graphTime(t.CreatedAt), Gatehouse: toOrganizationSettings(t)}
}

// organizationInput is what PATCH /organization/{id} accepts.
type organizationInput struct {
	DisplayName *string                    `json:"displayName" null:"refuse"`
	Gatehouse   *organizationSettingsInput `json:"gatehouse"`
}

// brandingID is the id of the default organizationalBranding, the only one
// Gatehouse has (Graph's localizations are not supported).
const brandingID = "0"

// graphBranding is Graph's organizationalBranding with Gatehouse's settings.
type graphBranding struct {
	ID        string           `json:"id"`
	Gatehouse brandingSettings `json:"gatehouse"`
}

type brandingSettings struct {
	LogoURL     string `json:"logoUrl"`
	AccentColor string `json:"accentColor"`
}

func toGraphBranding(b gatehouse.Branding) graphBranding {
	return graphBranding{ID: brandingID, Gatehouse: brandingSettings{LogoURL: b.LogoURL, AccentColor: b.AccentColor}}
}

// brandingInput is what PATCH /organization/{id}/branding accepts. A
// setting sent as "" or null is cleared; one not sent is kept.
type brandingInput struct {
	ID        *string                `json:"id"`
	Gatehouse *brandingSettingsInput `json:"gatehouse"`
}

// brandingSettingsInput is what "gatehouse" of a branding PATCH accepts;
// decode turns a null setting into "", which clears it.
type brandingSettingsInput struct {
	LogoURL     *string `json:"logoUrl"`
	AccentColor *string `json:"accentColor"`
}

var accentColorRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// validateBranding returns an EINVALID error naming the first bad setting.
// The logo URL is an absolute https URL (http on a loopback host, for
// development) of at most 1024 characters; the accent colour is #rrggbb, so
// that the hosted pages can put it in their style sheet as it is.
func validateBranding(b gatehouse.Branding) error {
	if b.LogoURL != "" {
		const field = "gatehouse.logoUrl"
		if err := gatehouse.ValidateText(field, b.LogoURL, 1024); err != nil {
			return err
		}
		u, err := url.Parse(b.LogoURL)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
			return gatehouse.FieldErrorf(field, "%s %q is not an absolute URL.", field, b.LogoURL)
		case u.Scheme == "http" && !gatehouse.IsLoopbackHost(u.Hostname()):
			return gatehouse.FieldErrorf(field, "%s %q uses http; only https is allowed, except on localhost, 127.0.0.1 and [::1].", field, b.LogoURL)
		case u.Scheme != "https" && u.Scheme != "http":
			return gatehouse.FieldErrorf(field, "%s %q has scheme %q; use https.", field, b.LogoURL, u.Scheme)
		case u.User != nil:
			return gatehouse.FieldErrorf(field, "%s %q contains user info; a logo URL must not carry credentials.", field, b.LogoURL)
		}
	}
	if b.AccentColor != "" && !accentColorRE.MatchString(b.AccentColor) {
		return gatehouse.FieldErrorf("gatehouse.accentColor", "gatehouse.accentColor %q is not a colour of the form #rrggbb (such as #0b5cad).", b.AccentColor)
	}
	return nil
}

// checkOrganizationID refuses, as not found, an organization id other than
// the tenant's own.
func checkOrganizationID(r *http.Request) error {
	if id := r.PathValue("id"); id != tenantFrom(r.Context()).ID {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "Organization %q was not found; GET /organization returns this tenant's.", id)
	}
	return nil
}

func (s *server) handleOrganizationList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out, next, err := page([]graphOrganization{toGraphOrganization(tenantFrom(r.Context()))}, func(o graphOrganization) string { return o.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeCollection(w, r, "organization", out, next)
	})
}

func (s *server) handleOrganizationGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkOrganizationID(r); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "organization", toGraphOrganization(tenantFrom(r.Context())))
	})
}

func (s *server) handleOrganizationUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in organizationInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = checkOrganizationID(r)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before *gatehouse.Tenant
			after, err := tx.UpdateTenant(ctx, t.ID, func(tn *gatehouse.Tenant) error {
				b := *tn
				before = &b
				if in.DisplayName != nil {
					tn.DisplayName = *in.DisplayName
				}
				if tn.DisplayName == "" {
					return gatehouse.FieldErrorf("displayName", "displayName is required.")
				}
				if err := gatehouse.ValidateText("displayName", tn.DisplayName, 256); err != nil {
					return err
				}
				if err := in.Gatehouse.apply(tn); err != nil {
					return err
				}
				if unchanged(toGraphOrganization(before), toGraphOrganization(tn)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := s.ensureSigningKeys(r, tx, after.TokenSigning.AccessTokenAlg, after.TokenSigning.IDTokenAlg); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "DirectoryManagement", activity: "Update organization", operation: "Update",
				targetType: "Tenant", targetID: after.ID, name: after.DisplayName,
				before: toGraphOrganization(before), after: toGraphOrganization(after)})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleBrandingGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkOrganizationID(r); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "organization('"+r.PathValue("id")+"')/branding", toGraphBranding(tenantFrom(r.Context()).Branding))
	})
}

func (s *server) handleBrandingUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in brandingInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = checkOrganizationID(r)
		}
		if err == nil && in.ID != nil && *in.ID != brandingID {
			err = gatehouse.FieldErrorf("id", "Property 'id' is read-only: Gatehouse has one branding, id %q.", brandingID)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before gatehouse.Branding
			after, err := tx.UpdateTenant(ctx, t.ID, func(tn *gatehouse.Tenant) error {
				before = tn.Branding
				if g := in.Gatehouse; g != nil {
					if g.LogoURL != nil {
						tn.Branding.LogoURL = *g.LogoURL
					}
					if g.AccentColor != nil {
						tn.Branding.AccentColor = *g.AccentColor
					}
				}
				if err := validateBranding(tn.Branding); err != nil {
					return err
				}
				if unchanged(toGraphBranding(before), toGraphBranding(tn.Branding)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "DirectoryManagement", activity: "Update company branding", operation: "Update",
				targetType: "Tenant", targetID: after.ID, name: after.DisplayName,
				before: toGraphBranding(before), after: toGraphBranding(after.Branding)})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
