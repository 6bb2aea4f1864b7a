package portal

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Conditional Access: the policy list, the policy editor (Entra's
// sections: Users, Target resources, Conditions, Grant, Session, Enable
// policy), named locations and What If, all through
// /identity/conditionalAccess of the admin API.

const (
	caPath        = "/identity/conditionalAccess/policies"
	locationsPath = "/identity/conditionalAccess/namedLocations"
	// lockoutReason is the admin API's detail code of the lockout guard's
	// refusal.
	lockoutReason = "conditionalAccessLockout"
)

// caPolicy is Graph's conditionalAccessPolicy, as the pages read it.
type caPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`
	Created     string `json:"createdDateTime"`
	Modified    string `json:"modifiedDateTime"`
	Conditions  struct {
		Users struct {
			IncludeUsers  []string `json:"includeUsers"`
			ExcludeUsers  []string `json:"excludeUsers"`
			IncludeGroups []string `json:"includeGroups"`
			ExcludeGroups []string `json:"excludeGroups"`
			IncludeRoles  []string `json:"includeRoles"`
			ExcludeRoles  []string `json:"excludeRoles"`
		} `json:"users"`
		Applications struct {
			Include []string `json:"includeApplications"`
			Exclude []string `json:"excludeApplications"`
		} `json:"applications"`
		ClientAppTypes []string `json:"clientAppTypes"`
		Platforms      *struct {
			Include []string `json:"includePlatforms"`
			Exclude []string `json:"excludePlatforms"`
		} `json:"platforms"`
		Locations *struct {
			Include []string `json:"includeLocations"`
			Exclude []string `json:"excludeLocations"`
		} `json:"locations"`
		SignInRisk []string `json:"signInRiskLevels"`
		UserRisk   []string `json:"userRiskLevels"`
	} `json:"conditions"`
	Grant *struct {
		Operator string   `json:"operator"`
		BuiltIn  []string `json:"builtInControls"`
		Strength *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"authenticationStrength"`
	} `json:"grantControls"`
	Session *struct {
		PersistentBrowser *struct {
			Mode string `json:"mode"`
		} `json:"persistentBrowser"`
		SignInFrequency *struct {
			Value    *int    `json:"value"`
			Type     *string `json:"type"`
			Interval string  `json:"frequencyInterval"`
		} `json:"signInFrequency"`
	} `json:"sessionControls"`
}

// StateText is the policy's state as Entra shows it.
func (p caPolicy) StateText() string { return stateText(p.State) }

func stateText(state string) string {
	switch state {
	case "enabled":
		return "On"
	case "enabledForReportingButNotEnforced":
		return "Report-only"
	}
	return "Off"
}

// GrantText says in words what the policy's grant controls ask.
func (p caPolicy) GrantText() string {
	g := p.Grant
	if g == nil {
		if p.Session != nil {
			return "Session controls only"
		}
		return "None"
	}
	if slices.Contains(g.BuiltIn, gatehouse.ControlBlock) {
		return "Block access"
	}
	var parts []string
	for _, c := range g.BuiltIn {
		parts = append(parts, controlNames[c])
	}
	if g.Strength != nil {
		parts = append(parts, g.Strength.DisplayName)
	}
	sep := " or "
	if g.Operator == "AND" {
		sep = " and "
	}
	return "Require " + strings.Join(parts, sep)
}

var controlNames = map[string]string{
	gatehouse.ControlMFA: "multifactor authentication", gatehouse.ControlPasswordChange: "password change", gatehouse.ControlBlock: "block",
}

// UsersText says in words whom the policy includes.
func (p caPolicy) UsersText() string {
	u := p.Conditions.Users
	in := "None"
	switch {
	case slices.Contains(u.IncludeUsers, gatehouse.ConditionAll):
		in = "All users"
	case len(u.IncludeUsers)+len(u.IncludeGroups)+len(u.IncludeRoles) > 0 && !slices.Contains(u.IncludeUsers, gatehouse.ConditionNone):
		in = "Selected users, groups and roles"
	}
	if n := len(u.ExcludeUsers) + len(u.ExcludeGroups) + len(u.ExcludeRoles); n > 0 {
		in += ", " + plural(n, "exclusion")
	}
	return in
}

// option is a choice of a form: its value and label.
type option struct{ Value, Label string }

var (
	stateOptions  = []option{{"enabledForReportingButNotEnforced", "Report-only"}, {"enabled", "On"}, {"disabled", "Off"}}
	clientOptions = []option{{gatehouse.ClientBrowser, "Browser"}, {gatehouse.ClientMobileDesktop, "Mobile apps and desktop clients"},
		{gatehouse.ClientExchangeActiveSync, "Exchange ActiveSync clients (legacy)"}, {gatehouse.ClientEASSupported, "Exchange ActiveSync supported (legacy)"},
		{gatehouse.ClientOther, "Other clients (legacy)"}}
	platformOptions = []option{{gatehouse.PlatformAll, "Any device"}, {gatehouse.PlatformAndroid, "Android"}, {gatehouse.PlatformIOS, "iOS"},
		{gatehouse.PlatformWindows, "Windows"}, {gatehouse.PlatformWindowsPhone, "Windows Phone"}, {gatehouse.PlatformMacOS, "macOS"}, {gatehouse.PlatformLinux, "Linux"}}
	riskOptions     = []option{{"high", "High"}, {"medium", "Medium"}, {"low", "Low"}, {"none", "No risk"}}
	strengthOptions = func() []option {
		out := []option{}
		for _, s := range gatehouse.AuthenticationStrengths {
			out = append(out, option{s.ID, s.DisplayName})
		}
		return out
	}()
	roleOptions = func() []option {
		out := []option{}
		for _, r := range gatehouse.Roles {
			out = append(out, option{r.ID, r.DisplayName})
		}
		return out
	}()
)

// caFields maps the admin API's error targets to the editor's fields; the
// longest target that matches wins.
var caFields = map[string]string{
	"displayName": "displayName", "state": "state", "conditions": "users",
	"conditions.users": "users", "conditions.users.includeUsers": "includeUsers", "conditions.users.excludeUsers": "excludeUsers",
	"conditions.users.includeGroups": "includeGroups", "conditions.users.excludeGroups": "excludeGroups",
	"conditions.users.includeRoles": "includeRoles", "conditions.users.excludeRoles": "excludeRoles",
	"conditions.applications": "apps", "conditions.applications.includeApplications": "includeApps", "conditions.applications.excludeApplications": "excludeApps",
	"conditions.clientAppTypes": "clientAppTypes", "conditions.platforms": "includePlatforms",
	"conditions.platforms.includePlatforms": "includePlatforms", "conditions.platforms.excludePlatforms": "excludePlatforms",
	"conditions.locations": "includeLocations", "conditions.locations.includeLocations": "includeLocations",
	"conditions.locations.excludeLocations": "excludeLocations",
	"conditions.signInRiskLevels":           "signInRisk", "conditions.userRiskLevels": "userRisk",
	"grantControls": "grant", "grantControls.builtInControls": "grant", "grantControls.operator": "operator",
	"grantControls.authenticationStrength": "strength",
	"sessionControls":                      "sif", "sessionControls.signInFrequency": "sif", "sessionControls.signInFrequency.value": "sifValue",
	"sessionControls.persistentBrowser": "persistent",
}

// targetError puts an API error that names a property (a 400, or the 404
// of a user, group, app or location the body names) next to the field,
// choosing the most specific mapping; others go at the top of the page.
func (pg *page) targetError(err error, fields map[string]string) {
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusNotFound) && ae.Target != "" {
		best := ""
		for target := range fields {
			if (ae.Target == target || strings.HasPrefix(ae.Target, target+".") || strings.HasPrefix(ae.Target, target+"[")) && len(target) > len(best) {
				best = target
			}
		}
		if best != "" {
			pg.Errors[fields[best]] = ae.Message
			pg.Alert = "Check the field marked below."
			return
		}
	}
	pg.Alert = sentence(err)
}

// caReadOnly says why the administrator may read but not change
// Conditional Access, or "" when they may change it.
func caReadOnly(s *session) string {
	if anyRole(s.Roles, rolesCAWrite) {
		return ""
	}
	return "Read-only: your roles (" + orNone(roleNames(s.Roles)) + ") allow reading Conditional Access, not changing it. Changes need the " + needs(rolesCAWrite) + " role."
}

func (p *Portal) caList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Conditional Access policies", "ca")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	var list listOf[caPolicy]
	if err := p.api(r, s).get(caPath+"?$top=200", &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Policies": list.Value, "ReadOnly": caReadOnly(s), "More": list.NextLink != ""}
	p.render(w, r, http.StatusOK, "capolicies", pg)
}

// pickers are the tenant's users, groups, apps and named locations to
// choose from, each read in one call; a list the roles do not allow
// reading is nil, and the editor then takes object IDs.
type pickers struct {
	Users     []user
	Groups    []group
	Apps      []application
	Locations []namedLocation
	CanUsers  bool
	CanGroups bool
	CanApps   bool
}

func (p *Portal) caPickers(c *client, withDirectory bool) (*pickers, error) {
	pk := &pickers{}
	var locs listOf[namedLocation]
	if err := c.get(locationsPath+"?$top=200", &locs); err != nil {
		return nil, err
	}
	pk.Locations = locs.Value
	if !withDirectory {
		return pk, nil
	}
	var users listOf[user]
	var groups listOf[group]
	var apps listOf[application]
	var err error
	if pk.CanUsers, err = c.getOK("/users?$top=100&$select=id,displayName,mail", &users); err != nil && apiStatus(err) != http.StatusForbidden {
		return nil, err
	}
	if pk.CanGroups, err = c.getOK("/groups?$top=100&$select=id,displayName", &groups); err != nil && apiStatus(err) != http.StatusForbidden {
		return nil, err
	}
	if pk.CanApps, err = c.getOK("/applications?$top=100&$select=id,appId,displayName", &apps); err != nil && apiStatus(err) != http.StatusForbidden {
		return nil, err
	}
	pk.Users, pk.Groups, pk.Apps = users.Value, groups.Value, apps.Value
	return pk, nil
}

// split returns the ids that known holds and the rest.
func split(ids []string, known func(string) bool) (in, rest []string) {
	for _, id := range ids {
		if known(id) {
			in = append(in, id)
		} else {
			rest = append(rest, id)
		}
	}
	return in, rest
}

// policyForm is the editor's form for the policy.
func policyForm(pol *caPolicy, pk *pickers) url.Values {
	f := url.Values{"displayName": {pol.DisplayName}, "state": {pol.State}}
	u := pol.Conditions.Users
	isUser := func(id string) bool {
		return slices.ContainsFunc(pk.Users, func(x user) bool { return x.ID == id })
	}
	isGroup := func(id string) bool {
		return slices.ContainsFunc(pk.Groups, func(x group) bool { return x.ID == id })
	}
	isApp := func(id string) bool {
		return id == gatehouse.ConditionAdminPortals || slices.ContainsFunc(pk.Apps, func(x application) bool { return x.AppID == id })
	}
	ids := func(name string, list []string, known func(string) bool) {
		in, rest := split(list, known)
		f[name] = in
		f.Set(name+"Ids", strings.Join(rest, "\n"))
	}
	switch {
	case slices.Contains(u.IncludeUsers, gatehouse.ConditionAll):
		f.Set("users", "all")
	case len(u.IncludeUsers)+len(u.IncludeGroups)+len(u.IncludeRoles) == 0 || slices.Contains(u.IncludeUsers, gatehouse.ConditionNone):
		f.Set("users", "none")
	default:
		f.Set("users", "select")
		ids("includeUsers", u.IncludeUsers, isUser)
		ids("includeGroups", u.IncludeGroups, isGroup)
		f["includeRoles"] = u.IncludeRoles
	}
	ids("excludeUsers", u.ExcludeUsers, isUser)
	ids("excludeGroups", u.ExcludeGroups, isGroup)
	f["excludeRoles"] = u.ExcludeRoles
	a := pol.Conditions.Applications
	switch {
	case slices.Contains(a.Include, gatehouse.ConditionAll):
		f.Set("apps", "all")
	case len(a.Include) == 0 || slices.Contains(a.Include, gatehouse.ConditionNone):
		f.Set("apps", "none")
	default:
		f.Set("apps", "select")
		ids("includeApps", a.Include, isApp)
	}
	ids("excludeApps", a.Exclude, isApp)
	for _, t := range pol.Conditions.ClientAppTypes {
		if t != gatehouse.ClientAll {
			f.Add("clientAppTypes", t)
		}
	}
	if pl := pol.Conditions.Platforms; pl != nil {
		f["includePlatforms"], f["excludePlatforms"] = pl.Include, pl.Exclude
	}
	if l := pol.Conditions.Locations; l != nil {
		f["includeLocations"], f["excludeLocations"] = l.Include, l.Exclude
	}
	f["signInRisk"], f["userRisk"] = pol.Conditions.SignInRisk, pol.Conditions.UserRisk
	f.Set("grant", "none")
	f.Set("operator", "OR")
	if g := pol.Grant; g != nil {
		f.Set("operator", g.Operator)
		if slices.Contains(g.BuiltIn, gatehouse.ControlBlock) {
			f.Set("grant", "block")
		} else {
			f.Set("grant", "grant")
			for _, c := range g.BuiltIn {
				f.Set(c, "on")
			}
			if g.Strength != nil {
				f.Set("strength", g.Strength.ID)
			}
		}
	}
	f.Set("sifInterval", "timeBased")
	f.Set("sifType", "hours")
	if se := pol.Session; se != nil {
		if sf := se.SignInFrequency; sf != nil {
			f.Set("sif", "on")
			if sf.Interval == "everyTime" {
				f.Set("sifInterval", "everyTime")
			}
			if sf.Value != nil {
				f.Set("sifValue", strconv.Itoa(*sf.Value))
			}
			if sf.Type != nil {
				f.Set("sifType", *sf.Type)
			}
		}
		if pb := se.PersistentBrowser; pb != nil {
			f.Set("persistent", pb.Mode)
		}
	}
	return f
}

// idsOf returns the checked values and the IDs typed in name+"Ids", each
// once.
func idsOf(f url.Values, name string) []string {
	out := []string{}
	for _, id := range append(slices.Clone(f[name]), lines(f.Get(name+"Ids"))...) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// policyBody is the conditionalAccessPolicy the form describes, or the
// field whose value cannot be sent (a frequency that is not a number).
func policyBody(f url.Values, create bool) (map[string]any, string, string) {
	users := map[string]any{"includeUsers": []string{}, "includeGroups": []string{}, "includeRoles": []string{},
		"excludeUsers": idsOf(f, "excludeUsers"), "excludeGroups": idsOf(f, "excludeGroups"), "excludeRoles": orEmpty(f["excludeRoles"])}
	switch f.Get("users") {
	case "all":
		users["includeUsers"] = []string{gatehouse.ConditionAll}
	case "select":
		users["includeUsers"], users["includeGroups"], users["includeRoles"] = idsOf(f, "includeUsers"), idsOf(f, "includeGroups"), orEmpty(f["includeRoles"])
	default:
		users["includeUsers"] = []string{gatehouse.ConditionNone}
	}
	apps := map[string]any{"excludeApplications": idsOf(f, "excludeApps")}
	switch f.Get("apps") {
	case "all":
		apps["includeApplications"] = []string{gatehouse.ConditionAll}
	case "select":
		apps["includeApplications"] = idsOf(f, "includeApps")
	default:
		apps["includeApplications"] = []string{gatehouse.ConditionNone}
	}
	clients := orEmpty(f["clientAppTypes"])
	if len(clients) == 0 {
		clients = []string{gatehouse.ClientAll}
	}
	cond := map[string]any{"users": users, "applications": apps, "clientAppTypes": clients,
		"signInRiskLevels": orEmpty(f["signInRisk"]), "userRiskLevels": orEmpty(f["userRisk"]), "platforms": nil, "locations": nil}
	if len(f["includePlatforms"])+len(f["excludePlatforms"]) > 0 {
		cond["platforms"] = map[string]any{"includePlatforms": orEmpty(f["includePlatforms"]), "excludePlatforms": orEmpty(f["excludePlatforms"])}
	}
	if len(f["includeLocations"])+len(f["excludeLocations"]) > 0 {
		cond["locations"] = map[string]any{"includeLocations": orEmpty(f["includeLocations"]), "excludeLocations": orEmpty(f["excludeLocations"])}
	}
	body := map[string]any{"displayName": f.Get("displayName"), "state": f.Get("state"), "conditions": cond, "grantControls": nil, "sessionControls": nil}
	switch f.Get("grant") {
	case "block":
		body["grantControls"] = map[string]any{"operator": "OR", "builtInControls": []string{gatehouse.ControlBlock}}
	case "grant":
		builtIn := []string{}
		for _, c := range []string{gatehouse.ControlMFA, gatehouse.ControlPasswordChange} {
			if f.Get(c) == "on" {
				builtIn = append(builtIn, c)
			}
		}
		g := map[string]any{"operator": f.Get("operator"), "builtInControls": builtIn}
		if st := f.Get("strength"); st != "" {
			g["authenticationStrength"] = map[string]any{"id": st}
		}
		body["grantControls"] = g
	}
	session := map[string]any{}
	if f.Get("sif") == "on" {
		sf := map[string]any{"isEnabled": true, "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"}
		if f.Get("sifInterval") == "everyTime" {
			sf["frequencyInterval"] = "everyTime"
		} else {
			n, err := strconv.Atoi(strings.TrimSpace(f.Get("sifValue")))
			if err != nil {
				return nil, "sifValue", "The sign-in frequency must be a whole number of hours or days, not “" + f.Get("sifValue") + "”."
			}
			sf["value"], sf["type"] = n, f.Get("sifType")
		}
		session["signInFrequency"] = sf
	}
	if m := f.Get("persistent"); m != "" {
		session["persistentBrowser"] = map[string]any{"isEnabled": true, "mode": m}
	}
	if len(session) > 0 {
		body["sessionControls"] = session
	}
	if create {
		for _, k := range []string{"grantControls", "sessionControls"} {
			if body[k] == nil {
				delete(body, k)
			}
		}
		for _, k := range []string{"platforms", "locations"} {
			if cond[k] == nil {
				delete(cond, k)
			}
		}
	}
	return body, "", ""
}

func (p *Portal) caNew(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method == http.MethodPost {
		p.caSave(w, r, s, "")
		return
	}
	pg := p.newPage(r, s, "New Conditional Access policy", "ca")
	pg.Form = policyForm(&caPolicy{State: "enabledForReportingButNotEnforced"}, &pickers{})
	p.showPolicy(w, r, s, http.StatusOK, pg, nil)
}

func (p *Portal) caShow(w http.ResponseWriter, r *http.Request, s *session) {
	var pol caPolicy
	if err := p.api(r, s).get(caPath+"/"+escape(r.PathValue("id")), &pol); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg := p.newPage(r, s, pol.DisplayName, "ca")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	p.showPolicy(w, r, s, http.StatusOK, pg, &pol)
}

// showPolicy renders the editor. With pol, the form is the policy's
// (unless pg holds what was sent); without, pg.Form is.
func (p *Portal) showPolicy(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page, pol *caPolicy) {
	ro := caReadOnly(s)
	pk, err := p.caPickers(p.api(r, s), ro == "")
	if err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	if pol != nil && r.Method == http.MethodGet {
		pg.Form = policyForm(pol, pk)
	}
	id := r.PathValue("id")
	if pg.Title == "" {
		pg.Title = "New Conditional Access policy"
		if id != "" {
			pg.Title = pg.Form.Get("displayName")
		}
	}
	action := pg.Base + "ca/policies/new"
	if id != "" {
		action = pg.Base + "ca/policies/" + escape(id)
	}
	pg.Data = map[string]any{"ID": id, "Action": action, "Pickers": pk, "ReadOnly": ro,
		"States": stateOptions, "Clients": clientOptions, "Platforms": platformOptions, "Risks": riskOptions,
		"Strengths": strengthOptions, "Roles": roleOptions, "AdminPortals": gatehouse.ConditionAdminPortals}
	p.render(w, r, status, "capolicy", pg)
}

// caSave creates (id "") or updates the policy from the form. A 409 of
// the lockout guard shows its explanation on a page that can resend the
// form with the confirmation.
func (p *Portal) caSave(w http.ResponseWriter, r *http.Request, s *session, id string) {
	f := r.PostForm
	pg := p.newPage(r, s, "", "ca")
	body, field, msg := policyBody(f, id == "")
	if field != "" {
		pg.Errors[field] = msg
		pg.Alert = "Check the field marked below."
		p.showPolicy(w, r, s, http.StatusBadRequest, pg, nil)
		return
	}
	confirm := ""
	if f.Get("confirmLockout") == "true" {
		confirm = "?confirmLockout=true"
	}
	c := p.api(r, s)
	var err error
	if id == "" {
		var created caPolicy
		if err = c.post(caPath+confirm, body, &created); err == nil {
			seeOther(w, r, "ca/policies/"+escape(created.ID)+"?notice=created")
			return
		}
	} else if err = c.patch(caPath+"/"+escape(id)+confirm, body); err == nil {
		seeOther(w, r, "ca/policies/"+escape(id)+"?notice=saved")
		return
	}
	if p.lockoutPage(w, r, s, err, "ca") {
		return
	}
	pg.targetError(err, caFields)
	p.showPolicy(w, r, s, statusOf(err), pg, nil)
}

func (p *Portal) caEdit(w http.ResponseWriter, r *http.Request, s *session) {
	p.caSave(w, r, s, r.PathValue("id"))
}

// lockoutPage shows the lockout guard's refusal when err is one: who would
// be locked out and why, in the API's words, and a "Save anyway" button
// that sends the same form again with the confirmation.
func (p *Portal) lockoutPage(w http.ResponseWriter, r *http.Request, s *session, err error, active string) bool {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Reason != lockoutReason {
		return false
	}
	pg := p.newPage(r, s, "This change would lock out every Global Administrator", active)
	type field struct{ Name, Value string }
	var fields []field
	for name, vals := range r.PostForm {
		if name == "csrf" || name == "confirmLockout" {
			continue
		}
		for _, v := range vals {
			fields = append(fields, field{name, v})
		}
	}
	slices.SortStableFunc(fields, func(a, b field) int { return strings.Compare(a.Name, b.Name) })
	pg.Data = map[string]any{"Message": ae.Message, "Fields": fields, "Action": r.URL.Path, "Cancel": r.URL.Path}
	if strings.HasSuffix(r.URL.Path, "/new") {
		// Back to the list: ca for a policy, ca/locations for a location.
		pg.Data.(map[string]any)["Cancel"] = strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/new"), "/policies")
	}
	p.render(w, r, http.StatusConflict, "lockout", pg)
	return true
}

func (p *Portal) caDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	var pol caPolicy
	id := r.PathValue("id")
	if err := p.api(r, s).get(caPath+"/"+escape(id)+"?$select=id,displayName,state", &pol); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "ca", confirm{Question: "Delete the policy “" + pol.DisplayName + "”?",
		Detail: "The policy (" + pol.StateText() + ") stops applying to sign-ins at once, and this cannot be undone. To stop it for a while, turn it Off instead.",
		Action: base(r) + "ca/policies/" + escape(id) + "/delete", Button: "Delete policy", Cancel: base(r) + "ca/policies/" + escape(id)})
}

func (p *Portal) caDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete(caPath + "/" + escape(r.PathValue("id"))); err != nil {
		p.renderMessage(w, r, statusOf(err), "The policy was not deleted", sentence(err))
		return
	}
	seeOther(w, r, "ca?notice=deleted")
}

// UserOptions, GroupOptions, AppOptions and the location options are the
// pickers' choices.
func (pk *pickers) UserOptions() []option {
	out := []option{}
	for _, u := range pk.Users {
		label := u.DisplayName
		if u.Mail != "" {
			label += " (" + u.Mail + ")"
		}
		out = append(out, option{u.ID, label})
	}
	return out
}

func (pk *pickers) GroupOptions() []option {
	out := []option{}
	for _, g := range pk.Groups {
		out = append(out, option{g.ID, g.DisplayName})
	}
	return out
}

func (pk *pickers) AppOptions() []option {
	out := []option{{gatehouse.ConditionAdminPortals, "Microsoft Admin Portals (the admin portal and the admin API)"}}
	for _, a := range pk.Apps {
		if a.AppID != gatehouse.AdminPortalAppID {
			out = append(out, option{a.AppID, a.DisplayName})
		}
	}
	return out
}

func (pk *pickers) IncludeLocationOptions() []option {
	return append([]option{{gatehouse.ConditionAll, "Any location"}, {gatehouse.ConditionAllTrusted, "All trusted locations"}}, pk.locationOptions()...)
}

func (pk *pickers) ExcludeLocationOptions() []option {
	return append([]option{{gatehouse.ConditionAllTrusted, "All trusted locations"}}, pk.locationOptions()...)
}

func (pk *pickers) locationOptions() []option {
	out := []option{}
	for _, l := range pk.Locations {
		label := l.DisplayName
		if l.IsTrusted {
			label += " (trusted)"
		}
		out = append(out, option{l.ID, label})
	}
	return out
}
