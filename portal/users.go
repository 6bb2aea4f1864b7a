package portal

import (
	"net/http"
	"net/url"
	"strings"
)

// Graph shapes the pages read: only the properties they show.
type user struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	GivenName      string `json:"givenName"`
	Surname        string `json:"surname"`
	Mail           string `json:"mail"`
	AccountEnabled bool   `json:"accountEnabled"`
	JobTitle       string `json:"jobTitle"`
	City           string `json:"city"`
	Country        string `json:"country"`
	Created        string `json:"createdDateTime"`
}

type group struct {
	ID                 string `json:"id"`
	DisplayName        string `json:"displayName"`
	Description        string `json:"description"`
	IsAssignableToRole bool   `json:"isAssignableToRole"`
}

// method is one of a user's registered authentication methods.
type method struct {
	Type        string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Email       string `json:"emailAddress"`
	Phone       string `json:"phoneNumber"`
	Created     string `json:"createdDateTime"`
}

// Kind is the method's collection (emailMethods, fido2Methods, …).
func (m method) Kind() string { return methodKinds[m.Type] }

var methodKinds = map[string]string{
	"#microsoft.graph.passwordAuthenticationMethod":     "passwordMethods",
	"#microsoft.graph.emailAuthenticationMethod":        "emailMethods",
	"#microsoft.graph.phoneAuthenticationMethod":        "phoneMethods",
	"#microsoft.graph.softwareOathAuthenticationMethod": "softwareOathMethods",
	"#microsoft.graph.fido2AuthenticationMethod":        "fido2Methods",
	"#gatehouse.recoveryCodeAuthenticationMethod":       "recoveryCodeMethods",
}

// Label names the method for people.
func (m method) Label() string {
	switch m.Kind() {
	case "passwordMethods":
		return "Password"
	case "emailMethods":
		return "Email " + m.Email
	case "phoneMethods":
		return "Phone " + m.Phone
	case "fido2Methods":
		return "Passkey " + m.DisplayName
	case "softwareOathMethods":
		return "Authenticator app"
	case "recoveryCodeMethods":
		return "Recovery codes"
	}
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.Kind()
}

// Removable reports whether an administrator can remove the method: the
// password and the sign-in email are the account itself.
func (m method) Removable() bool {
	return m.Kind() != "passwordMethods" && m.Kind() != "emailMethods"
}

type listOf[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// userFields maps the admin API's error targets to the form's fields.
var userFields = map[string]string{
	"displayName": "displayName", "mail": "mail", "identities": "mail", "givenName": "givenName", "surname": "surname",
	"jobTitle": "jobTitle", "passwordProfile": "password", "password": "password",
}

func (p *Portal) overview(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Overview", "overview")
	var me user
	if err := p.api(r, s).get("/me", &me); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	type card struct{ Text, Href, About string }
	about := map[string]string{
		"users": "Create, edit and disable accounts; reset passwords; end sessions.", "groups": "Groups and their members.",
		"roles": "Who holds which directory role.", "apps": "Client IDs, redirect URIs and secrets.",
		"flows": "Sign-up and sign-in: identity provider, sign-up, attributes, apps.", "methods": "Email codes, authenticator apps, passkeys, text messages.",
		"audit": "Who changed what, before and after.",
		"ca":    "Policies that ask for MFA or block sign-ins; named locations; What If.", "signins": "Every sign-in, its outcome and the policies that applied.", "branding": "Name, logo and colour of the hosted pages.",
	}
	var cards []card
	for _, n := range pg.Nav[1:] {
		cards = append(cards, card{n.Text, n.Href, about[n.Key]})
	}
	pg.Data = map[string]any{"Me": me, "Roles": roleNames(s.Roles), "Cards": cards, "Tenant": r.PathValue("tenant")}
	p.render(w, r, http.StatusOK, "overview", pg)
}

func (p *Portal) userList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Users", "users")
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	rel := "/users?$top=50&$select=id,displayName,mail,accountEnabled"
	if q != "" {
		if strings.Contains(q, "@") {
			rel += "&" + filterEq("mail", q)
		} else {
			rel += "&" + filterEq("displayName", q)
		}
	}
	if skip := r.URL.Query().Get("next"); skip != "" {
		rel += "&$skiptoken=" + url.QueryEscape(skip)
	}
	var list listOf[user]
	if err := p.api(r, s).get(rel, &list); err != nil {
		if apiStatus(err) == http.StatusBadRequest {
			pg.Alert = sentence(err)
		} else {
			p.renderAPIError(w, r, s, err)
			return
		}
	}
	pg.Form = url.Values{"q": {q}}
	pg.Data = map[string]any{"Users": list.Value, "Next": nextParam(list.NextLink, q), "Query": q}
	p.render(w, r, http.StatusOK, "users", pg)
}

// nextParam turns an @odata.nextLink into the portal's own next-page link.
func nextParam(nextLink, q string) string {
	if nextLink == "" {
		return ""
	}
	u, err := url.Parse(nextLink)
	if err != nil {
		return ""
	}
	v := url.Values{"next": {u.Query().Get("$skiptoken")}}
	if q != "" {
		v.Set("q", q)
	}
	return "?" + v.Encode()
}

func (p *Portal) userNew(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "New user", "users")
	if r.Method == http.MethodPost {
		f := r.PostForm
		body := map[string]any{"displayName": f.Get("displayName"), "mail": f.Get("mail"), "accountEnabled": true}
		if pw := f.Get("password"); pw != "" {
			body["passwordProfile"] = map[string]any{"password": pw}
		}
		var created user
		err := p.api(r, s).post("/users", body, &created)
		if err == nil {
			seeOther(w, r, "users/"+escape(created.ID)+"?notice=created")
			return
		}
		pg.fieldError(err, userFields)
		pg.Form.Del("password")
		p.render(w, r, http.StatusBadRequest, "usernew", pg)
		return
	}
	p.render(w, r, http.StatusOK, "usernew", pg)
}

var notices = map[string]string{
	"created": "Created.", "saved": "Saved.", "password": "The password was reset. Tell the user their new password through a channel you trust.",
	"revoked": "Every session and refresh token of this user has ended.", "removed": "Removed.", "added": "Added.",
	"enabled": "Enabled.", "disabled": "The account is disabled and its sessions have ended.", "deleted": "Deleted.",
}

// userShow is a user's page: profile, state, groups, roles and (for those
// who may see them) authentication methods, in at most four calls.
func (p *Portal) userShow(w http.ResponseWriter, r *http.Request, s *session) {
	p.showUser(w, r, s, http.StatusOK, nil)
}

func (p *Portal) showUser(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	id := r.PathValue("id")
	c := p.api(r, s)
	var u user
	if err := c.get("/users/"+escape(id), &u); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	if pg == nil {
		pg = p.newPage(r, s, u.DisplayName, "users")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = u.DisplayName
	if pg.Title == "" {
		pg.Title = u.Mail
	}
	// The edit form shows what was sent after an error, else the user.
	form := url.Values{"displayName": {u.DisplayName}, "givenName": {u.GivenName}, "surname": {u.Surname}, "jobTitle": {u.JobTitle}}
	for k := range form {
		if _, sent := pg.Form[k]; sent {
			form[k] = pg.Form[k]
		}
	}
	pg.Form = form
	var groups listOf[group]
	if err := c.get("/users/"+escape(id)+"/memberOf?$top=50", &groups); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	data := map[string]any{"User": u, "Groups": groups.Value}
	if anyRole(s.Roles, rolesUserMethods) {
		var methods listOf[method]
		ok, err := c.getOK("/users/"+escape(id)+"/authentication/methods", &methods)
		switch {
		case err != nil && !ok && apiStatus(err) != 0:
			data["MethodsReason"] = sentence(err)
		case err != nil:
			p.renderAPIError(w, r, s, err)
			return
		case !ok:
			data["MethodsReason"] = "Your roles don't allow seeing this user's authentication methods."
		default:
			data["Methods"] = methods.Value
		}
	} else {
		data["MethodsReason"] = "Seeing and removing a user's authentication methods needs the " + needs(rolesUserMethods) + " role."
	}
	pg.Data = data
	p.render(w, r, status, "user", pg)
}

func (p *Portal) userEdit(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	body := map[string]any{"displayName": f.Get("displayName"), "givenName": f.Get("givenName"), "surname": f.Get("surname"), "jobTitle": f.Get("jobTitle")}
	err := p.api(r, s).patch("/users/"+escape(r.PathValue("id")), body)
	if err == nil {
		seeOther(w, r, "users/"+escape(r.PathValue("id"))+"?notice=saved")
		return
	}
	pg := p.newPage(r, s, "", "users")
	pg.fieldError(err, userFields)
	p.showUser(w, r, s, http.StatusBadRequest, pg)
}

func (p *Portal) userPassword(w http.ResponseWriter, r *http.Request, s *session) {
	err := p.api(r, s).patch("/users/"+escape(r.PathValue("id")), map[string]any{"passwordProfile": map[string]any{"password": r.PostForm.Get("password")}})
	if err == nil {
		seeOther(w, r, "users/"+escape(r.PathValue("id"))+"?notice=password")
		return
	}
	pg := p.newPage(r, s, "", "users")
	pg.fieldError(err, map[string]string{"passwordProfile": "password"})
	pg.Form = url.Values{}
	p.showUser(w, r, s, http.StatusBadRequest, pg)
}

// userActions are the user page's actions that need a confirmation.
var userActions = map[string]confirm{
	"disable": {Question: "Disable this account?", Detail: "The user can no longer sign in, and every session and refresh token they have ends now.", Button: "Disable account"},
	"enable":  {Question: "Enable this account?", Detail: "The user can sign in again.", Button: "Enable account"},
	"revoke":  {Question: "End every session of this user?", Detail: "The user is signed out everywhere and every refresh token of theirs stops working; they can sign in again.", Button: "End sessions"},
	"delete":  {Question: "Delete this user?", Detail: "The account, its authentication methods, group memberships and role assignments are deleted. This cannot be undone.", Button: "Delete user"},
}

func (p *Portal) userConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	c, ok := userActions[r.PathValue("action")]
	if !ok {
		p.renderMessage(w, r, http.StatusNotFound, "Page not found", "The portal has no page at this address.")
		return
	}
	var u user
	if err := p.api(r, s).get("/users/"+escape(r.PathValue("id"))+"?$select=displayName,mail", &u); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	c.Detail = u.DisplayName + " (" + u.Mail + "). " + c.Detail
	c.Action = base(r) + "users/" + escape(r.PathValue("id")) + "/" + r.PathValue("action")
	c.Cancel = base(r) + "users/" + escape(r.PathValue("id"))
	p.renderConfirm(w, r, s, "users", c)
}

func (p *Portal) userAction(w http.ResponseWriter, r *http.Request, s *session) {
	id, action := r.PathValue("id"), r.PathValue("action")
	c := p.api(r, s)
	var err error
	switch action {
	case "disable", "enable":
		err = c.patch("/users/"+escape(id), map[string]any{"accountEnabled": action == "enable"})
		action += "d"
	case "revoke":
		err = c.post("/users/"+escape(id)+"/revokeSignInSessions", nil, nil)
		action = "revoked"
	case "delete":
		if err = c.delete("/users/" + escape(id)); err == nil {
			seeOther(w, r, "users?notice=deleted")
			return
		}
	default:
		p.renderMessage(w, r, http.StatusNotFound, "Page not found", "The portal has no page at this address.")
		return
	}
	if err != nil {
		pg := p.newPage(r, s, "", "users")
		pg.Alert = sentence(err)
		p.showUser(w, r, s, apiStatus(err), pg)
		return
	}
	seeOther(w, r, "users/"+escape(id)+"?notice="+action)
}

func (p *Portal) userMethodConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var m method
	if err := p.api(r, s).get("/users/"+escape(id)+"/authentication/"+escape(r.PathValue("kind"))+"/"+escape(r.PathValue("method")), &m); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "users", confirm{
		Question: "Remove " + m.Label() + "?",
		Detail:   "The user can no longer sign in with it, and sign-ins that used it end now. They are told by email.",
		Action:   base(r) + "users/" + escape(id) + "/methods/" + escape(r.PathValue("kind")) + "/" + escape(r.PathValue("method")) + "/remove",
		Button:   "Remove method", Cancel: base(r) + "users/" + escape(id),
	})
}

func (p *Portal) userMethodRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if err := p.api(r, s).delete("/users/" + escape(id) + "/authentication/" + escape(r.PathValue("kind")) + "/" + escape(r.PathValue("method"))); err != nil {
		pg := p.newPage(r, s, "", "users")
		pg.Alert = sentence(err)
		p.showUser(w, r, s, apiStatus(err), pg)
		return
	}
	seeOther(w, r, "users/"+escape(id)+"?notice=removed")
}

// renderConfirm shows a confirmation page: the question, what it does, a
// button that posts the action, and a way back.
func (p *Portal) renderConfirm(w http.ResponseWriter, r *http.Request, s *session, active string, c confirm) {
	pg := p.newPage(r, s, c.Question, active)
	pg.Confirm = &c
	p.render(w, r, http.StatusOK, "confirm", pg)
}
