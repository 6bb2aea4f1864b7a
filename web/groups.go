package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// graphGroup is Graph's group resource, as far as Gatehouse keeps it.
type graphGroup struct {
	ODataType          string   `json:"@odata.type"`
	ID                 string   `json:"id"`
	DisplayName        string   `json:"displayName"`
	Description        string   `json:"description"`
	SecurityEnabled    bool     `json:"securityEnabled"`
	MailEnabled        bool     `json:"mailEnabled"`
	MailNickname       string   `json:"mailNickname"`
	GroupTypes         []string `json:"groupTypes"`
	IsAssignableToRole bool     `json:"isAssignableToRole"`
	CreatedDateTime    string   `json:"createdDateTime"`
}

func toGraphGroup(g *gatehouse.Group) graphGroup {
	return graphGroup{ODataType: "#microsoft.graph.group", ID: g.ID, DisplayName: g.DisplayName,
		Description: g.Description, MailNickname: g.MailNickname, SecurityEnabled: true, GroupTypes: []string{},
		IsAssignableToRole: g.IsAssignableToRole, CreatedDateTime: graphTime(g.CreatedAt)}
}

// groupInput is what POST and PATCH /groups accept. Graph requires
// mailEnabled, mailNickname and securityEnabled on create; Gatehouse groups
// are security groups, so mailEnabled and securityEnabled are accepted when
// they say so, and mailNickname is kept (optional here) and returned.
// isAssignableToRole is set only on create (a PATCH may repeat the
// group's value); Graph's other conditions for it (securityEnabled, not
// dynamic) hold for every Gatehouse group.
type groupInput struct {
	DisplayName        *string  `json:"displayName" null:"refuse"`
	Description        *string  `json:"description"`
	MailEnabled        *bool    `json:"mailEnabled"`
	MailNickname       *string  `json:"mailNickname"`
	SecurityEnabled    *bool    `json:"securityEnabled"`
	GroupTypes         []string `json:"groupTypes"`
	IsAssignableToRole *bool    `json:"isAssignableToRole"`
}

func (in *groupInput) check() error {
	if in.MailEnabled != nil && *in.MailEnabled {
		return gatehouse.FieldErrorf("mailEnabled", "mailEnabled must be false: Gatehouse groups are security groups.")
	}
	if in.SecurityEnabled != nil && !*in.SecurityEnabled {
		return gatehouse.FieldErrorf("securityEnabled", "securityEnabled must be true: Gatehouse groups are security groups.")
	}
	if len(in.GroupTypes) > 0 {
		return gatehouse.FieldErrorf("groupTypes", "groupTypes %q is not supported: Gatehouse groups are security groups with assigned members.", in.GroupTypes)
	}
	return nil
}

// apply copies the sent properties onto g (decode turns a null
// description or mailNickname into "", which clears it).
func (in *groupInput) apply(g *gatehouse.Group) {
	if in.DisplayName != nil {
		g.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		g.Description = *in.Description
	}
	if in.MailNickname != nil {
		g.MailNickname = *in.MailNickname
	}
}

// protectedGroup reports why the group is protected, or "" when it is
// not, and who may change it. A protected group, its members and their
// accounts are changed only by those (guardGroup, guardPrivileged), as
// Entra protects role-assignable groups: otherwise a User Administrator
// could add themselves to the group that Conditional Access policies
// exclude (the break-glass accounts) or take over a member's account. It
// is the one place that decides. A role-assignable group is changed by
// those who may manage directory roles; a group that a Conditional Access
// policy excludes (in any state) also by those who may manage the
// policies, who could change the exclusion itself (the route still asks
// that they may manage groups).
func protectedGroup(ctx context.Context, rd gatehouse.Reader, g *gatehouse.Group) (string, access, error) {
	if g.IsAssignableToRole {
		return "it is role-assignable (isAssignableToRole)", rolesWrite, nil
	}
	names, err := excludingPolicies(ctx, rd, g.TenantID, g.ID)
	if err != nil || len(names) == 0 {
		return "", access{}, err
	}
	return "Conditional Access policies exclude it (" + quotedList(names) + ")", rolesOrCAWrite, nil
}

// rolesOrCAWrite may change a group that Conditional Access excludes.
var rolesOrCAWrite = access{"manage directory roles or Conditional Access policies",
	append(slices.Clone(rolesWrite.roles), gatehouse.RoleSecurityAdministrator, gatehouse.RoleConditionalAccessAdministrator),
	append(slices.Clone(rolesWrite.perms), gatehouse.PermPolicyReadWriteCA)}

// quotedList writes names as "a", "b" and "c".
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return orList(q)
}

// guardGroup refuses a change to a protected group (protectedGroup) or to
// its membership, with a 403 that says why, unless the caller may change
// such a group.
func guardGroup(r *http.Request, rd gatehouse.Reader, g *gatehouse.Group) error {
	if rolesWrite.allows(principalFrom(r.Context())) {
		return nil
	}
	why, may, err := protectedGroup(r.Context(), rd, g)
	if err != nil || why == "" || may.allows(principalFrom(r.Context())) {
		return err
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient privileges to change the group %q or its members: %s, and such a group is changed only by those who may %s. %s",
		g.DisplayName, why, may.what, may.requirement())
}

func (s *server) handleGroupList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "displayName")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		groups, next, err := s.Store.ListGroups(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphGroup, 0, len(groups))
		for _, g := range groups {
			out = append(out, toGraphGroup(g))
		}
		s.writeCollection(w, r, "groups", out, next)
	})
}

func (s *server) handleGroupGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := s.Store.Group(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "groups", toGraphGroup(g))
	})
}

func (s *server) handleGroupCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in groupInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = in.check()
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		g := &gatehouse.Group{TenantID: t.ID}
		in.apply(g)
		if in.IsAssignableToRole != nil {
			g.IsAssignableToRole = *in.IsAssignableToRole
		}
		err = g.Validate()
		if err == nil && g.IsAssignableToRole && !rolesWrite.allows(principalFrom(r.Context())) {
			err = &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Field: "isAssignableToRole", Message: "Insufficient privileges to create a role-assignable group (isAssignableToRole): " +
				"its members and properties can then be changed only by those who may manage directory roles, so only they may create one. " + rolesWrite.requirement()}
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			if err := tx.CreateGroup(r.Context(), g); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "GroupManagement", activity: "Add group", operation: "Add",
				targetType: "Group", targetID: g.ID, name: g.DisplayName, after: toGraphGroup(g)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/groups/"+g.ID)
		encode(w, http.StatusCreated, toGraphGroup(g))
	})
}

func (s *server) handleGroupUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		var in groupInput
		_, err := decode(w, r, &in)
		if err == nil {
			err = in.check()
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			var before *gatehouse.Group // the row the updater locked
			after, err := tx.UpdateGroup(r.Context(), t.ID, r.PathValue("id"), func(g *gatehouse.Group) error {
				before = g.Clone()
				if err := guardGroup(r, tx, g); err != nil {
					return err
				}
				if in.IsAssignableToRole != nil && *in.IsAssignableToRole != g.IsAssignableToRole {
					return gatehouse.FieldErrorf("isAssignableToRole", "isAssignableToRole is set when a group is created and cannot be changed; create a new group instead.")
				}
				in.apply(g)
				if err := g.Validate(); err != nil {
					return err
				}
				if unchanged(toGraphGroup(before), toGraphGroup(g)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "GroupManagement", activity: "Update group", operation: "Update",
				targetType: "Group", targetID: after.ID, name: after.DisplayName, before: toGraphGroup(before), after: toGraphGroup(after)})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleGroupDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			g, err := tx.Group(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := guardGroup(r, tx, g); err != nil {
				return err
			}
			if err := tx.DeleteGroup(r.Context(), t.ID, g.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "GroupManagement", activity: "Delete group", operation: "Delete",
				targetType: "Group", targetID: g.ID, name: g.DisplayName, before: toGraphGroup(g)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleGroupMemberList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if _, err := s.Store.Group(r.Context(), t.ID, r.PathValue("id")); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		users, next, err := s.Store.ListGroupMembers(r.Context(), t.ID, r.PathValue("id"), opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		type member struct {
			ODataType string `json:"@odata.type"`
			graphUser
		}
		out := make([]member, 0, len(users))
		for _, u := range users {
			out = append(out, member{"#microsoft.graph.user", s.toGraphUser(t, u)})
		}
		s.writeCollection(w, r, "directoryObjects", out, next)
	})
}

// memberRef is the body of POST /groups/{id}/members/$ref.
type memberRef struct {
	ODataID string `json:"@odata.id"`
}

// handleGroupMemberAdd adds the user named by "@odata.id" (a URL ending in
// /directoryObjects/{id} or /users/{id}, as Graph clients send) to the group.
func (s *server) handleGroupMemberAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		ref, err := decodeRef(w, r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			g, err := tx.Group(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := guardGroup(r, tx, g); err != nil {
				return err
			}
			u, err := tx.User(r.Context(), t.ID, ref)
			if err != nil {
				if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
					return gatehouse.FieldErrorf("@odata.id", "No user with id %q exists in this tenant.", ref)
				}
				return err
			}
			if err := tx.AddGroupMember(r.Context(), t.ID, g.ID, u.ID); err != nil {
				if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
					return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is already a member of the group %q.", u.Mail, g.DisplayName)
				}
				return err
			}
			return s.audit(r, tx, change{category: "GroupManagement", activity: "Add member to group", operation: "Assign",
				targetType: "Group", targetID: g.ID, name: g.DisplayName,
				after: map[string]string{"member.id": u.ID, "member.mail": u.Mail}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// decodeRef reads a Graph reference body and returns the object ID in it.
func decodeRef(w http.ResponseWriter, r *http.Request) (string, error) {
	body := struct {
		ODataID *string `json:"@odata.id"`
	}{}
	// "@odata.id" is the payload here, not an annotation to skip.
	raw, err := readBody(w, r)
	if err != nil {
		return "", err
	}
	if err := decodeRefBytes(raw, &body.ODataID); err != nil {
		return "", err
	}
	if body.ODataID == nil || *body.ODataID == "" {
		return "", gatehouse.FieldErrorf("@odata.id", "@odata.id is required: send {\"@odata.id\": \".../directoryObjects/{user id}\"}.")
	}
	v := strings.TrimSuffix(*body.ODataID, "/")
	i := strings.LastIndexByte(v, '/')
	if i < 0 {
		return v, nil
	}
	kind := v[:i]
	if !strings.HasSuffix(kind, "/directoryObjects") && !strings.HasSuffix(kind, "/users") {
		return "", gatehouse.FieldErrorf("@odata.id", "@odata.id %q must end in /directoryObjects/{id} or /users/{id}.", *body.ODataID)
	}
	return v[i+1:], nil
}

func (s *server) handleGroupMemberRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		err := s.Store.Update(r.Context(), func(tx gatehouse.Tx) error {
			g, err := tx.Group(r.Context(), t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := guardGroup(r, tx, g); err != nil {
				return err
			}
			u, err := tx.User(r.Context(), t.ID, r.PathValue("member"))
			if err != nil {
				return err
			}
			if err := tx.RemoveGroupMember(r.Context(), t.ID, g.ID, u.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "GroupManagement", activity: "Remove member from group", operation: "Unassign",
				targetType: "Group", targetID: g.ID, name: g.DisplayName,
				before: map[string]string{"member.id": u.ID, "member.mail": u.Mail}})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
