package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
	"github.com/google/uuid"
)

const groupColumns = "tenant_id, id, display_name, description, mail_nickname, is_assignable_to_role, created_at"

func scanGroup(row scanner) (*gatehouse.Group, error) {
	var g gatehouse.Group
	var created int64
	if err := row.Scan(&g.TenantID, &g.ID, &g.DisplayName, &g.Description, &g.MailNickname, &g.IsAssignableToRole, &created); err != nil {
		return nil, err
	}
	g.CreatedAt = fromMicros(created)
	return &g, nil
}

// Group returns the tenant's group with the ID, or ENOTFOUND.
func (r *reader) Group(ctx context.Context, tenantID, id string) (*gatehouse.Group, error) {
	return r.group(ctx, tenantID, id, false)
}

func (r *reader) group(ctx context.Context, tenantID, id string, forUpdate bool) (*gatehouse.Group, error) {
	g, err := scanGroup(r.queryRow(ctx, "SELECT "+groupColumns+" FROM groups WHERE tenant_id = ? AND id = ?"+r.lock(forUpdate),
		tenantID, id))
	if err != nil {
		return nil, noRows(err, notFound("Group", id), "read group")
	}
	return g, nil
}

// ListGroups returns a page of the tenant's groups in ID order. It filters
// on "displayName"; another filter is EINVALID.
func (r *reader) ListGroups(ctx context.Context, tenantID string, opt gatehouse.ListOptions) ([]*gatehouse.Group, string, error) {
	return list(ctx, r, listing[*gatehouse.Group]{
		query:   "SELECT " + groupColumns + " FROM groups WHERE tenant_id = ?",
		args:    []any{tenantID},
		filters: map[string]filter{"displayName": eq("display_name")},
		scan:    scanGroup,
		id:      func(g *gatehouse.Group) string { return g.ID },
		what:    "list groups",
	}, opt)
}

// ListGroupMembers returns a page of the users who are direct members of
// the tenant's group, in user ID order. It filters as ListUsers does. It
// returns ENOTFOUND if there is no such group.
func (r *reader) ListGroupMembers(ctx context.Context, tenantID, groupID string, opt gatehouse.ListOptions) ([]*gatehouse.User, string, error) {
	if err := r.groupExists(ctx, tenantID, groupID); err != nil {
		return nil, "", err
	}
	return list(ctx, r, listing[*gatehouse.User]{
		query: "SELECT " + userColumns + " FROM users WHERE tenant_id = ? AND id IN " +
			"(SELECT user_id FROM group_members WHERE tenant_id = ? AND group_id = ?)",
		args:    []any{tenantID, tenantID, groupID},
		filters: userFilters,
		scan:    scanUser,
		id:      func(u *gatehouse.User) string { return u.ID },
		what:    "list group members",
	}, opt)
}

// UserGroupIDs returns the IDs of the groups the tenant's user is a direct
// member of, in ID order. It returns ENOTFOUND if there is no such user.
func (r *reader) UserGroupIDs(ctx context.Context, tenantID, userID string) ([]string, error) {
	if err := r.userExists(ctx, tenantID, userID); err != nil {
		return nil, err
	}
	rows, err := r.query(ctx, "SELECT group_id FROM group_members WHERE tenant_id = ? AND user_id = ? ORDER BY group_id",
		tenantID, userID)
	if err != nil {
		return nil, internal("list user's groups", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal("list user's groups", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list user's groups", err)
	}
	return ids, nil
}

// groupExists returns nil if the tenant has the group and ENOTFOUND if not.
func (r *reader) groupExists(ctx context.Context, tenantID, id string) error {
	ok, err := r.exists(ctx, "SELECT 1 FROM groups WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("read group", err)
	}
	if !ok {
		return notFound("Group", id)
	}
	return nil
}

// userExists returns nil if the tenant has the user and ENOTFOUND if not.
func (r *reader) userExists(ctx context.Context, tenantID, id string) error {
	ok, err := r.exists(ctx, "SELECT 1 FROM users WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("read user", err)
	}
	if !ok {
		return notFound("User", id)
	}
	return nil
}

// CreateGroup stores g, filling in its ID (when empty) and CreatedAt. It
// returns ECONFLICT if the tenant has a group with the ID and ENOTFOUND if
// there is no such tenant.
func (t *tx) CreateGroup(ctx context.Context, g *gatehouse.Group) error {
	if g.ID == "" {
		g.ID = uuid.NewString()
	}
	g.CreatedAt = t.s.now()
	conflictErr := func(string) *gatehouse.Error {
		return conflict("", "A group with ID %q already exists.", g.ID)
	}
	ok, err := t.insert(ctx, "INSERT INTO groups ("+groupColumns+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		g.TenantID, g.ID, g.DisplayName, g.Description, g.MailNickname, g.IsAssignableToRole, micros(g.CreatedAt))
	if err != nil {
		return t.writeError(err, "create group", conflictErr, notFound("Tenant", g.TenantID))
	}
	if !ok {
		return conflictErr("groups_pkey")
	}
	return nil
}

// UpdateGroup reads the tenant's group with the ID, calls fn with it and
// stores what fn left there (its ID, TenantID, IsAssignableToRole and
// CreatedAt cannot change), returning the stored group. It returns ENOTFOUND if there is no such group
// and fn's error unchanged.
func (t *tx) UpdateGroup(ctx context.Context, tenantID, id string, fn func(*gatehouse.Group) error) (*gatehouse.Group, error) {
	old, err := t.group(ctx, tenantID, id, true)
	if err != nil {
		return nil, err
	}
	g := *old
	if err := fn(&g); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, "UPDATE groups SET display_name = ?, description = ?, mail_nickname = ? WHERE tenant_id = ? AND id = ?",
		g.DisplayName, g.Description, g.MailNickname, tenantID, id); err != nil {
		return nil, internal("update group", err)
	}
	return t.group(ctx, tenantID, id, false)
}

// DeleteGroup removes the tenant's group with the ID and its memberships.
// It returns ENOTFOUND if there is no such group.
func (t *tx) DeleteGroup(ctx context.Context, tenantID, id string) error {
	n, err := t.affected(ctx, "DELETE FROM groups WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return internal("delete group", err)
	}
	if n == 0 {
		return notFound("Group", id)
	}
	return nil
}

// AddGroupMember makes the tenant's user a member of its group. It returns
// ENOTFOUND if the group or the user does not exist in the tenant and
// ECONFLICT if the user is already a member.
func (t *tx) AddGroupMember(ctx context.Context, tenantID, groupID, userID string) error {
	if err := t.groupExists(ctx, tenantID, groupID); err != nil {
		return err
	}
	if err := t.userExists(ctx, tenantID, userID); err != nil {
		return err
	}
	ok, err := t.insert(ctx, "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) VALUES (?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", tenantID, groupID, userID, micros(t.s.now()))
	if err != nil {
		// Only a group or user deleted meanwhile explains a failure.
		return t.writeError(err, "add group member", nil,
			gatehouse.Errorf(gatehouse.ENOTFOUND, "Group %q or user %q was not found.", groupID, userID))
	}
	if !ok {
		return conflict("", "User %q is already a member of group %q.", userID, groupID)
	}
	return nil
}

// RemoveGroupMember ends the user's membership of the tenant's group. It
// returns ENOTFOUND if the user is not a member of the group.
func (t *tx) RemoveGroupMember(ctx context.Context, tenantID, groupID, userID string) error {
	n, err := t.affected(ctx, "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND user_id = ?",
		tenantID, groupID, userID)
	if err != nil {
		return internal("remove group member", err)
	}
	if n == 0 {
		if err := t.groupExists(ctx, tenantID, groupID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "User %q is not a member of group %q.", userID, groupID)
	}
	return nil
}
