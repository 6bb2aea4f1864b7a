package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const roleAssignmentColumns = "tenant_id, id, role_definition_id, principal_id, directory_scope_id, created_at"

func scanRoleAssignment(row scanner) (*gatehouse.RoleAssignment, error) {
	var a gatehouse.RoleAssignment
	var created int64
	if err := row.Scan(&a.TenantID, &a.ID, &a.RoleDefinitionID, &a.PrincipalID, &a.DirectoryScopeID, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// RoleAssignment returns the tenant's role assignment with the ID, or
// ENOTFOUND.
func (r *reader) RoleAssignment(ctx context.Context, tenantID, id string) (*gatehouse.RoleAssignment, error) {
	a, err := scanRoleAssignment(r.queryRow(ctx, "SELECT "+roleAssignmentColumns+" FROM role_assignments WHERE tenant_id = ? AND id = ?",
		tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Role assignment", id), "read role assignment")
	}
	return a, nil
}

// ListRoleAssignments returns a page of the tenant's role assignments in ID
// order. It filters on "principalId" and "roleDefinitionId"; another filter
// is EINVALID.
func (r *reader) ListRoleAssignments(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.RoleAssignment, string, error) {
	return list(ctx, r, listing[*gatehouse.RoleAssignment]{
		query: "SELECT " + roleAssignmentColumns + " FROM role_assignments WHERE tenant_id = ?",
		args:  []any{tenantID},
		filters: map[string]filter{
			"principalId":      eq("principal_id"),
			"roleDefinitionId": eq("role_definition_id"),
		},
		scan: scanRoleAssignment,
		id:   func(a *gatehouse.RoleAssignment) string { return a.ID },
		what: "list role assignments",
	}, opt)
}

// CreateRoleAssignment stores a, filling in its ID (when empty), its
// DirectoryScopeID (when empty, "/") and CreatedAt. It returns ENOTFOUND if
// the principal is not a user of the tenant, and ECONFLICT if the principal
// already holds the role or the ID is taken.
func (t *tx) CreateRoleAssignment(ctx context.Context, a *gatehouse.RoleAssignment) error {
	if err := t.userExists(ctx, a.TenantID, a.PrincipalID); err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = uuid.NewString()
	}
	if a.DirectoryScopeID == "" {
		a.DirectoryScopeID = "/"
	}
	a.CreatedAt = t.s.now()
	conflictErr := func(c string) *gatehouse.Error { return roleAssignmentConflict(c, a) }
	ok, err := t.insert(ctx, "INSERT INTO role_assignments ("+roleAssignmentColumns+") VALUES (?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", a.TenantID, a.ID, a.RoleDefinitionID, a.PrincipalID, a.DirectoryScopeID, micros(a.CreatedAt))
	if err != nil {
		// Only a user deleted meanwhile explains a foreign key violation.
		return t.writeError(err, "create role assignment", conflictErr, notFound("User", a.PrincipalID))
	}
	if !ok {
		return t.insertConflict(ctx, "create role assignment", conflictErr, "role_assignments_pkey",
			"role_assignments_role_principal_key",
			"SELECT 1 FROM role_assignments WHERE tenant_id = ? AND id = ?", a.TenantID, a.ID)
	}
	return nil
}

// DeleteRoleAssignment removes the tenant's role assignment with the ID. It
// returns ENOTFOUND if there is no such assignment.
func (t *tx) DeleteRoleAssignment(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM role_assignments WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete role assignment", err)
	}
	if n == 0 {
		return notFound("Role assignment", id)
	}
	return nil
}

// roleAssignmentConflict returns the ECONFLICT error for the violated
// constraint.
func roleAssignmentConflict(constraint string, a *gatehouse.RoleAssignment) *gatehouse.Error {
	if constraint == "role_assignments_pkey" {
		return conflict("", "A role assignment with ID %q already exists.", a.ID)
	}
	role := a.RoleDefinitionID
	if r, ok := gatehouse.RoleByID(role); ok {
		role = r.DisplayName
	}
	return conflict("", "User %q already holds the role %q.", a.PrincipalID, role)
}
