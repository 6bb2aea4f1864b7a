package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// graphRoleDefinition is Graph's unifiedRoleDefinition for a built-in role.
type graphRoleDefinition struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
	IsEnabled   bool   `json:"isEnabled"`
}

// graphRoleAssignment is Graph's unifiedRoleAssignment.
type graphRoleAssignment struct {
	ID               string `json:"id"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	CreatedDateTime  string `json:"createdDateTime"`
}

func toGraphRoleAssignment(a *gatehouse.RoleAssignment) graphRoleAssignment {
	return graphRoleAssignment{ID: a.ID, RoleDefinitionID: a.RoleDefinitionID, PrincipalID: a.PrincipalID,
		DirectoryScopeID: a.DirectoryScopeID, CreatedDateTime: graphTime(a.CreatedAt)}
}

type roleAssignmentInput struct {
	RoleDefinitionID *string `json:"roleDefinitionId"`
	PrincipalID      *string `json:"principalId"`
	DirectoryScopeID *string `json:"directoryScopeId"`
}

func (s *server) handleRoleDefinitionList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		all := make([]graphRoleDefinition, 0, len(gatehouse.Roles))
		for _, role := range gatehouse.Roles {
			all = append(all, graphRoleDefinition{ID: role.ID, TemplateID: role.ID, DisplayName: role.DisplayName,
				Description: role.Description, IsBuiltIn: true, IsEnabled: true})
		}
		out, next, err := page(all, func(d graphRoleDefinition) string { return d.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeCollection(w, r, "roleManagement/directory/roleDefinitions", out, next)
	})
}

func (s *server) handleRoleAssignmentList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "principalId", "roleDefinitionId")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		as, next, err := s.Store.ListRoleAssignments(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphRoleAssignment, 0, len(as))
		for _, a := range as {
			out = append(out, toGraphRoleAssignment(a))
		}
		s.writeCollection(w, r, "roleManagement/directory/roleAssignments", out, next)
	})
}

func (s *server) handleRoleAssignmentGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Store.RoleAssignment(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "roleManagement/directory/roleAssignments", toGraphRoleAssignment(a))
	})
}

func (s *server) handleRoleAssignmentCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in roleAssignmentInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if in.RoleDefinitionID == nil || *in.RoleDefinitionID == "" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("roleDefinitionId", "roleDefinitionId is required."))
			return
		}
		role, ok := gatehouse.RoleByID(*in.RoleDefinitionID)
		if !ok {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("roleDefinitionId", "roleDefinitionId %q is not a built-in role; list them at /roleManagement/directory/roleDefinitions.", *in.RoleDefinitionID))
			return
		}
		if in.PrincipalID == nil || *in.PrincipalID == "" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("principalId", "principalId is required."))
			return
		}
		if in.DirectoryScopeID != nil && *in.DirectoryScopeID != "/" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("directoryScopeId", "directoryScopeId %q is not supported; roles are assigned tenant-wide with \"/\".", *in.DirectoryScopeID))
			return
		}
		a := &gatehouse.RoleAssignment{TenantID: t.ID, RoleDefinitionID: role.ID, PrincipalID: *in.PrincipalID, DirectoryScopeID: "/"}
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			u, err := tx.User(r.Context(), t.ID, a.PrincipalID)
			if err != nil {
				if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
					if _, gerr := tx.Group(r.Context(), t.ID, a.PrincipalID); gerr == nil {
						return gatehouse.FieldErrorf("principalId", "principalId %q is a group; Gatehouse assigns directory roles to users only (isAssignableToRole protects a group, it does not give its members roles).", a.PrincipalID)
					}
					return gatehouse.FieldErrorf("principalId", "principalId %q is not a user of this tenant.", a.PrincipalID)
				}
				return err
			}
			if err := tx.CreateRoleAssignment(r.Context(), a); err != nil {
				if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
					return gatehouse.Errorf(gatehouse.ECONFLICT, "%s already holds the role %s.", u.Mail, role.DisplayName)
				}
				return err
			}
			return s.audit(r, tx, change{category: "RoleManagement", activity: "Add member to role", operation: "Assign",
				targetType: "User", targetID: u.ID, name: u.Mail,
				after: map[string]string{"role.templateId": role.ID, "role.displayName": role.DisplayName, "roleAssignment.id": a.ID}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/roleManagement/directory/roleAssignments/"+a.ID)
		encode(w, http.StatusCreated, toGraphRoleAssignment(a))
	})
}

func (s *server) handleRoleAssignmentDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			a, err := tx.RoleAssignment(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := s.guardLastGlobalAdmin(r, tx, "", a.ID); err != nil {
				return err
			}
			if err := tx.DeleteRoleAssignment(r.Context(), t.ID, a.ID); err != nil {
				return err
			}
			role, _ := gatehouse.RoleByID(a.RoleDefinitionID)
			return s.audit(r, tx, change{category: "RoleManagement", activity: "Remove member from role", operation: "Unassign",
				targetType: "User", targetID: a.PrincipalID,
				before: map[string]string{"role.templateId": role.ID, "role.displayName": role.DisplayName, "roleAssignment.id": a.ID}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// guardLastGlobalAdmin refuses a change that would leave the tenant without
// an enabled Global Administrator: removing the user userID (deleting or
// disabling it) or deleting the role assignment assignmentID.
func (s *server) guardLastGlobalAdmin(r *http.Request, tx gatehouse.Reader, userID, assignmentID string) error {
	t := tenantFrom(r.Context())
	as, _, err := tx.ListRoleAssignments(r.Context(), t.ID, gatehouse.ListOptions{Top: gatehouse.MaxPageSize,
		Filter: map[string]string{"roleDefinitionId": gatehouse.RoleGlobalAdministrator}})
	if err != nil {
		return err
	}
	affected, remaining := false, 0
	for _, a := range as {
		if a.ID == assignmentID || a.PrincipalID == userID {
			affected = true
			continue
		}
		u, err := tx.User(r.Context(), t.ID, a.PrincipalID)
		if err != nil {
			return err
		}
		if u.AccountEnabled {
			remaining++
		}
	}
	if affected && remaining == 0 {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "This would leave the tenant without an enabled Global Administrator; assign the role to another user first.")
	}
	return nil
}
