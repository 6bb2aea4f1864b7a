package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

var groupFields = map[string]string{"displayName": "displayName", "description": "description", "mailNickname": "displayName"}

func (p *Portal) groupList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Groups", "groups")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	rel := "/groups?$top=100"
	if skip := r.URL.Query().Get("next"); skip != "" {
		rel += "&$skiptoken=" + url.QueryEscape(skip)
	}
	var list listOf[group]
	if err := p.api(r, s).get(rel, &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Groups": list.Value, "Next": nextParam(list.NextLink, "")}
	p.render(w, r, http.StatusOK, "groups", pg)
}

func (p *Portal) groupNew(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "New group", "groups")
	pg.Data = map[string]any{"CanAssignRoles": anyRole(s.Roles, rolesGlobal)}
	if r.Method == http.MethodPost {
		f := r.PostForm
		body := map[string]any{"displayName": f.Get("displayName"), "description": f.Get("description"),
			"securityEnabled": true, "mailEnabled": false}
		if f.Get("isAssignableToRole") == "on" {
			body["isAssignableToRole"] = true
		}
		var g group
		err := p.api(r, s).post("/groups", body, &g)
		if err == nil {
			seeOther(w, r, "groups/"+escape(g.ID)+"?notice=created")
			return
		}
		pg.fieldError(err, groupFields)
		p.render(w, r, http.StatusBadRequest, "groupnew", pg)
		return
	}
	p.render(w, r, http.StatusOK, "groupnew", pg)
}

func (p *Portal) groupShow(w http.ResponseWriter, r *http.Request, s *session) {
	p.showGroup(w, r, s, http.StatusOK, nil)
}

// showGroup is a group's page: its properties and members, in two calls.
func (p *Portal) showGroup(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	id := r.PathValue("id")
	c := p.api(r, s)
	var g group
	if err := c.get("/groups/"+escape(id), &g); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var members listOf[user]
	if err := c.get("/groups/"+escape(id)+"/members?$top=100", &members); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	if pg == nil {
		pg = p.newPage(r, s, "", "groups")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = g.DisplayName
	form := url.Values{"displayName": {g.DisplayName}, "description": {g.Description}}
	for k := range form {
		if _, sent := pg.Form[k]; sent {
			form[k] = pg.Form[k]
		}
	}
	if v, sent := pg.Form["member"]; sent {
		form["member"] = v
	}
	pg.Form = form
	data := map[string]any{"Group": g, "Members": members.Value, "More": members.NextLink != ""}
	// A role-assignable group is protected (web/groups.go): only those
	// who manage roles change it or its members.
	if g.IsAssignableToRole && !anyRole(s.Roles, rolesGlobal) {
		data["ReadOnly"] = "This group can be assigned to directory roles, so only a Global Administrator can change it or its members."
	}
	pg.Data = data
	p.render(w, r, status, "group", pg)
}

func (p *Portal) groupEdit(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	err := p.api(r, s).patch("/groups/"+escape(r.PathValue("id")), map[string]any{"displayName": f.Get("displayName"), "description": f.Get("description")})
	if err == nil {
		seeOther(w, r, "groups/"+escape(r.PathValue("id"))+"?notice=saved")
		return
	}
	pg := p.newPage(r, s, "", "groups")
	pg.fieldError(err, groupFields)
	p.showGroup(w, r, s, statusOf(err), pg)
}

// statusOf is the status a page shows an API refusal with.
func statusOf(err error) int {
	if st := apiStatus(err); st != 0 {
		return st
	}
	return http.StatusInternalServerError
}

// groupMemberAdd adds a user, named by email address or object ID.
func (p *Portal) groupMemberAdd(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	c := p.api(r, s)
	pg := p.newPage(r, s, "", "groups")
	who := strings.TrimSpace(r.PostForm.Get("member"))
	userID, err := p.findUser(c, who)
	if err == nil && userID == "" {
		pg.Errors["member"] = "No user has the email address " + who + "."
		p.showGroup(w, r, s, http.StatusBadRequest, pg)
		return
	}
	if err == nil {
		err = c.post("/groups/"+escape(id)+"/members/$ref", map[string]any{"@odata.id": gatehouse.AdminAPIURL(p.opt.PublicURL, r.PathValue("tenant")) + "/directoryObjects/" + userID}, nil)
	}
	if err != nil {
		pg.fieldError(err, map[string]string{"@odata.id": "member", "mail": "member"})
		p.showGroup(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "groups/"+escape(id)+"?notice=added")
}

// findUser returns the object ID of the user with the email address (or
// the ID itself), "" when there is none.
func (p *Portal) findUser(c *client, who string) (string, error) {
	if !strings.Contains(who, "@") {
		return who, nil
	}
	var list listOf[user]
	if err := c.get("/users?$top=1&$select=id&"+filterEq("mail", who), &list); err != nil {
		return "", err
	}
	if len(list.Value) == 0 {
		return "", nil
	}
	return list.Value[0].ID, nil
}

func (p *Portal) groupMemberConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id, member := r.PathValue("id"), r.PathValue("member")
	var u user
	if err := p.api(r, s).get("/users/"+escape(member)+"?$select=displayName,mail", &u); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "groups", confirm{Question: "Remove " + u.DisplayName + " from the group?",
		Detail: u.Mail + " loses what the group gives: policies and methods that target it, for example.",
		Action: base(r) + "groups/" + escape(id) + "/members/" + escape(member) + "/remove", Button: "Remove member", Cancel: base(r) + "groups/" + escape(id)})
}

func (p *Portal) groupMemberRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if err := p.api(r, s).delete("/groups/" + escape(id) + "/members/" + escape(r.PathValue("member")) + "/$ref"); err != nil {
		pg := p.newPage(r, s, "", "groups")
		pg.Alert = sentence(err)
		p.showGroup(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "groups/"+escape(id)+"?notice=removed")
}

func (p *Portal) groupDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var g group
	if err := p.api(r, s).get("/groups/"+escape(id), &g); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "groups", confirm{Question: "Delete the group " + g.DisplayName + "?",
		Detail: "Its members stay; policies and methods that target the group no longer find it. This cannot be undone.",
		Action: base(r) + "groups/" + escape(id) + "/delete", Button: "Delete group", Cancel: base(r) + "groups/" + escape(id)})
}

func (p *Portal) groupDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete("/groups/" + escape(r.PathValue("id"))); err != nil {
		pg := p.newPage(r, s, "", "groups")
		pg.Alert = sentence(err)
		p.showGroup(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "groups?notice=deleted")
}

// Roles and admins.

type roleAssignment struct {
	ID               string `json:"id"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
}

// assignmentRow is one row of the roles page.
type assignmentRow struct {
	ID, Role, User, Mail, UserID string
}

func (p *Portal) roleList(w http.ResponseWriter, r *http.Request, s *session) {
	p.showRoles(w, r, s, http.StatusOK, nil)
}

// showRoles lists every assignment with its user's name: two calls, the
// users read in one page of up to 999.
func (p *Portal) showRoles(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	c := p.api(r, s)
	var as listOf[roleAssignment]
	if err := c.get("/roleManagement/directory/roleAssignments?$top=999", &as); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var users listOf[user]
	if err := c.get("/users?$top=999&$select=id,displayName,mail", &users); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	byID := map[string]user{}
	for _, u := range users.Value {
		byID[u.ID] = u
	}
	var rows []assignmentRow
	for _, role := range gatehouse.Roles {
		for _, a := range as.Value {
			if a.RoleDefinitionID == role.ID {
				u := byID[a.PrincipalID]
				rows = append(rows, assignmentRow{ID: a.ID, Role: role.DisplayName, User: u.DisplayName, Mail: u.Mail, UserID: a.PrincipalID})
			}
		}
	}
	if pg == nil {
		pg = p.newPage(r, s, "Roles and admins", "roles")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = "Roles and admins"
	pg.Data = map[string]any{"Rows": rows, "Roles": gatehouse.Roles}
	p.render(w, r, status, "roles", pg)
}

func (p *Portal) roleAssign(w http.ResponseWriter, r *http.Request, s *session) {
	c := p.api(r, s)
	pg := p.newPage(r, s, "", "roles")
	who := strings.TrimSpace(r.PostForm.Get("user"))
	userID, err := p.findUser(c, who)
	if err == nil && userID == "" {
		pg.Errors["user"] = "No user has the email address " + who + "."
		p.showRoles(w, r, s, http.StatusBadRequest, pg)
		return
	}
	if err == nil {
		err = c.post("/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": r.PostForm.Get("role"), "principalId": userID, "directoryScopeId": "/"}, nil)
	}
	if err != nil {
		pg.fieldError(err, map[string]string{"principalId": "user", "roleDefinitionId": "role"})
		p.showRoles(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "roles?notice=added")
}

func (p *Portal) roleRemoveConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	c := p.api(r, s)
	var a roleAssignment
	if err := c.get("/roleManagement/directory/roleAssignments/"+escape(r.PathValue("id")), &a); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var u user
	if err := c.get("/users/"+escape(a.PrincipalID)+"?$select=displayName,mail", &u); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	role, _ := gatehouse.RoleByID(a.RoleDefinitionID)
	p.renderConfirm(w, r, s, "roles", confirm{Question: "Remove " + role.DisplayName + " from " + u.DisplayName + "?",
		Detail: u.Mail + " loses what the role allows at once, in the portal and the admin API.",
		Action: base(r) + "roles/" + escape(r.PathValue("id")) + "/remove", Button: "Remove assignment", Cancel: base(r) + "roles"})
}

func (p *Portal) roleRemove(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete("/roleManagement/directory/roleAssignments/" + escape(r.PathValue("id"))); err != nil {
		pg := p.newPage(r, s, "", "roles")
		pg.Alert = sentence(err)
		p.showRoles(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "roles?notice=removed")
}
