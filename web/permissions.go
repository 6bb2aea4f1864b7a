package web

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// graphAppRoleAssignment is Graph's appRoleAssignment: one application
// permission of the admin API granted to an application. Gatehouse has no
// separate service principal objects, so principalId is the application's
// object ID, and resourceId is Microsoft Graph's appId, whose permission
// names and IDs the admin API uses.
type graphAppRoleAssignment struct {
	ID                   string `json:"id"`
	AppRoleID            string `json:"appRoleId"`
	AppRoleValue         string `json:"appRoleValue"`
	PrincipalID          string `json:"principalId"`
	PrincipalDisplayName string `json:"principalDisplayName"`
	PrincipalType        string `json:"principalType"`
	ResourceID           string `json:"resourceId"`
	ResourceDisplayName  string `json:"resourceDisplayName"`
	CreatedDateTime      string `json:"createdDateTime"`
}

func toGraphAppRoleAssignment(a *gatehouse.Application, g gatehouse.PermissionGrant) graphAppRoleAssignment {
	p, _ := gatehouse.PermissionByID(g.AppRoleID)
	return graphAppRoleAssignment{ID: g.ID, AppRoleID: g.AppRoleID, AppRoleValue: p.Value,
		PrincipalID: a.ID, PrincipalDisplayName: a.DisplayName, PrincipalType: "ServicePrincipal",
		ResourceID: gatehouse.GraphResourceAppID, ResourceDisplayName: "Gatehouse admin API",
		CreatedDateTime: graphTime(g.CreatedAt)}
}

type appRoleAssignmentInput struct {
	AppRoleID   *string `json:"appRoleId"`
	PrincipalID *string `json:"principalId"`
	ResourceID  *string `json:"resourceId"`
}

func (s *server) handlePermissionGrantList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		a, err := s.Store.Application(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		grants, next, err := page(a.Permissions, func(g gatehouse.PermissionGrant) string { return g.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphAppRoleAssignment, 0, len(grants))
		for _, g := range grants {
			out = append(out, toGraphAppRoleAssignment(a, g))
		}
		s.writeCollection(w, r, "appRoleAssignments", out, next)
	})
}

// handlePermissionGrantAdd grants one application permission. Only a Global
// Administrator (or an app allowed to manage role assignments) may: a grant
// can raise an app's privileges to anything.
func (s *server) handlePermissionGrantAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in appRoleAssignmentInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if in.AppRoleID == nil || *in.AppRoleID == "" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("appRoleId", "appRoleId is required: the ID of a permission such as %s (%s).", gatehouse.PermUserReadWriteAll.ID, gatehouse.PermUserReadWriteAll.Value))
			return
		}
		perm, ok := gatehouse.PermissionByID(*in.AppRoleID)
		if !ok {
			var names []string
			for _, p := range gatehouse.Permissions {
				names = append(names, p.Value+" "+p.ID)
			}
			s.writeAPIError(w, r, gatehouse.FieldErrorf("appRoleId", "appRoleId %q is not a permission of the admin API; use one of: %s.", *in.AppRoleID, strings.Join(names, ", ")))
			return
		}
		if in.ResourceID != nil && !strings.EqualFold(*in.ResourceID, gatehouse.GraphResourceAppID) {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("resourceId", "resourceId %q is not known; the admin API's resourceId is %s.", *in.ResourceID, gatehouse.GraphResourceAppID))
			return
		}
		var (
			app   *gatehouse.Application
			grant = gatehouse.PermissionGrant{ID: newUUID(), AppRoleID: perm.ID, CreatedAt: s.Now().UTC()}
		)
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			var err error
			app, err = tx.UpdateApplication(r.Context(), t.ID, r.PathValue("id"), func(a *gatehouse.Application) error {
				if in.PrincipalID != nil && *in.PrincipalID != a.ID {
					return gatehouse.FieldErrorf("principalId", "principalId %q must be the application's id %q.", *in.PrincipalID, a.ID)
				}
				for _, g := range a.Permissions {
					if g.AppRoleID == perm.ID {
						return gatehouse.Errorf(gatehouse.ECONFLICT, "The application already has the permission %s.", perm.Value)
					}
				}
				a.Permissions = append(a.Permissions, grant)
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Add app role assignment to service principal", operation: "Assign",
				targetType: "Application", targetID: app.ID, name: app.DisplayName,
				after: map[string]string{"appRole.id": perm.ID, "appRole.value": perm.Value}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, toGraphAppRoleAssignment(app, grant))
	})
}

func (s *server) handlePermissionGrantRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			var removed gatehouse.PermissionGrant
			app, err := tx.UpdateApplication(r.Context(), t.ID, r.PathValue("id"), func(a *gatehouse.Application) error {
				for i, g := range a.Permissions {
					if g.ID == r.PathValue("grant") {
						removed = g
						a.Permissions = append(a.Permissions[:i:i], a.Permissions[i+1:]...)
						return nil
					}
				}
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "The application has no app role assignment with id %q.", r.PathValue("grant"))
			})
			if err != nil {
				return err
			}
			p, _ := gatehouse.PermissionByID(removed.AppRoleID)
			return s.audit(r, tx, change{category: "ApplicationManagement", activity: "Remove app role assignment from service principal", operation: "Unassign",
				targetType: "Application", targetID: app.ID, name: app.DisplayName,
				before: map[string]string{"appRole.id": p.ID, "appRole.value": p.Value}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
