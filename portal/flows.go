package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const odataFlow = "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow"

type flowAttr struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Type        string `json:"userFlowAttributeType"`
	DataType    string `json:"dataType"`
}

type userFlow struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	Conditions  struct {
		Applications struct {
			IncludeApplications []struct {
				AppID string `json:"appId"`
			} `json:"includeApplications"`
		} `json:"applications"`
	} `json:"conditions"`
	OnInteractiveAuthFlowStart struct {
		IsSignUpAllowed bool `json:"isSignUpAllowed"`
	} `json:"onInteractiveAuthFlowStart"`
	OnAuthenticationMethodLoadStart struct {
		IdentityProviders []struct {
			ID string `json:"id"`
		} `json:"identityProviders"`
	} `json:"onAuthenticationMethodLoadStart"`
	OnAttributeCollection struct {
		Attributes []flowAttr `json:"attributes"`
	} `json:"onAttributeCollection"`
}

// Provider names the flow's identity provider for people.
func (f userFlow) Provider() string {
	for _, p := range f.OnAuthenticationMethodLoadStart.IdentityProviders {
		if p.ID == gatehouse.IdentityProviderEmailOTP {
			return "Email one-time passcode"
		}
		return "Email with password"
	}
	return ""
}

// Has reports whether the flow collects the attribute.
func (f userFlow) Has(name string) bool {
	return slices.ContainsFunc(f.OnAttributeCollection.Attributes, func(a flowAttr) bool { return a.ID == name })
}

// builtInAttributes are the attributes a flow can collect at sign-up
// besides the email address, with their labels.
var builtInAttributes = []struct{ Name, Label string }{
	{"displayName", "Display name"}, {"givenName", "Given name"}, {"surname", "Surname"}, {"jobTitle", "Job title"},
	{"streetAddress", "Street address"}, {"city", "City"}, {"state", "State or province"}, {"postalCode", "Postal code"}, {"country", "Country or region"},
}

var flowFields = map[string]string{"displayName": "displayName", "description": "description",
	"onAuthenticationMethodLoadStart": "provider", "onAttributeCollection": "attributes", "appId": "app"}

func (p *Portal) flowList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "User flows", "flows")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	var list listOf[userFlow]
	if err := p.api(r, s).get("/identity/authenticationEventsFlows?$top=100", &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Flows": list.Value}
	p.render(w, r, http.StatusOK, "flows", pg)
}

// flowBody is the POST or PATCH body of the flow form: name, identity
// provider, sign-up and the attributes ticked, in the order offered.
func flowBody(f url.Values, create bool) map[string]any {
	attrs := []any{map[string]any{"id": "email", "userFlowAttributeType": "builtIn", "dataType": "string"}}
	for _, a := range builtInAttributes {
		if slices.Contains(f["attr"], a.Name) {
			attrs = append(attrs, map[string]any{"id": a.Name, "displayName": a.Label, "userFlowAttributeType": "builtIn", "dataType": "string"})
		}
	}
	body := map[string]any{
		"@odata.type": odataFlow, "displayName": f.Get("displayName"), "description": f.Get("description"),
		"onInteractiveAuthFlowStart": map[string]any{"@odata.type": "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
			"isSignUpAllowed": f.Get("signUp") == "on"},
		"onAttributeCollection": map[string]any{"@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp", "attributes": attrs},
	}
	if create {
		body["onAuthenticationMethodLoadStart"] = map[string]any{"@odata.type": "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
			"identityProviders": []any{map[string]any{"id": f.Get("provider")}}}
	}
	return body
}

func (p *Portal) flowNew(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "New user flow", "flows")
	pg.Data = map[string]any{"Attributes": builtInAttributes}
	if r.Method == http.MethodPost {
		var f userFlow
		err := p.api(r, s).post("/identity/authenticationEventsFlows", flowBody(r.PostForm, true), &f)
		if err == nil {
			seeOther(w, r, "flows/"+escape(f.ID)+"?notice=created")
			return
		}
		pg.fieldError(err, flowFields)
		p.render(w, r, http.StatusBadRequest, "flownew", pg)
		return
	}
	pg.Form = url.Values{"provider": {gatehouse.IdentityProviderEmailPassword}, "signUp": {"on"}, "attr": {"displayName"}}
	p.render(w, r, http.StatusOK, "flownew", pg)
}

func (p *Portal) flowShow(w http.ResponseWriter, r *http.Request, s *session) {
	p.showFlow(w, r, s, http.StatusOK, nil)
}

// showFlow is a flow's page: its settings and apps, and the apps that
// could be added (two calls).
func (p *Portal) showFlow(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	c := p.api(r, s)
	var f userFlow
	if err := c.get("/identity/authenticationEventsFlows/"+escape(r.PathValue("id")), &f); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var apps listOf[application]
	if err := c.get("/applications?$top=999&$select=appId,displayName", &apps); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	names := map[string]string{}
	for _, a := range apps.Value {
		names[a.AppID] = a.DisplayName
	}
	type flowApp struct{ AppID, Name string }
	var in []flowApp
	for _, a := range f.Conditions.Applications.IncludeApplications {
		in = append(in, flowApp{a.AppID, names[a.AppID]})
	}
	if pg == nil {
		pg = p.newPage(r, s, "", "flows")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = f.DisplayName
	if _, sent := pg.Form["displayName"]; !sent {
		form := url.Values{"displayName": {f.DisplayName}, "description": {f.Description}}
		if f.OnInteractiveAuthFlowStart.IsSignUpAllowed {
			form.Set("signUp", "on")
		}
		for _, a := range builtInAttributes {
			if f.Has(a.Name) {
				form.Add("attr", a.Name)
			}
		}
		if v, ok := pg.Form["app"]; ok {
			form["app"] = v
		}
		pg.Form = form
	}
	pg.Data = map[string]any{"Flow": f, "Apps": in, "AllApps": apps.Value, "Attributes": builtInAttributes}
	p.render(w, r, status, "flow", pg)
}

func (p *Portal) flowEdit(w http.ResponseWriter, r *http.Request, s *session) {
	err := p.api(r, s).patch("/identity/authenticationEventsFlows/"+escape(r.PathValue("id")), flowBody(r.PostForm, false))
	if err == nil {
		seeOther(w, r, "flows/"+escape(r.PathValue("id"))+"?notice=saved")
		return
	}
	pg := p.newPage(r, s, "", "flows")
	pg.fieldError(err, flowFields)
	p.showFlow(w, r, s, statusOf(err), pg)
}

func (p *Portal) flowAppAdd(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	err := p.api(r, s).post("/identity/authenticationEventsFlows/"+escape(id)+"/conditions/applications/includeApplications",
		map[string]any{"appId": strings.TrimSpace(r.PostForm.Get("app"))}, nil)
	if err == nil {
		seeOther(w, r, "flows/"+escape(id)+"?notice=added")
		return
	}
	pg := p.newPage(r, s, "", "flows")
	pg.Form = url.Values{"app": {r.PostForm.Get("app")}}
	pg.fieldError(err, map[string]string{"appId": "app"})
	if len(pg.Errors) == 0 {
		pg.Errors["app"], pg.Alert = pg.Alert, "Check the field marked below."
	}
	p.showFlow(w, r, s, statusOf(err), pg)
}

func (p *Portal) flowAppRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	err := p.api(r, s).delete("/identity/authenticationEventsFlows/" + escape(id) + "/conditions/applications/includeApplications/" + escape(r.PathValue("app")) + "/$ref")
	if err != nil {
		pg := p.newPage(r, s, "", "flows")
		pg.Form = url.Values{}
		pg.Alert = sentence(err)
		p.showFlow(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "flows/"+escape(id)+"?notice=removed")
}

func (p *Portal) flowDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var f userFlow
	if err := p.api(r, s).get("/identity/authenticationEventsFlows/"+escape(id), &f); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "flows", confirm{Question: "Delete the user flow " + f.DisplayName + "?",
		Detail: "Its apps can no longer sign anyone in until they are added to another flow. Accounts stay. This cannot be undone.",
		Action: base(r) + "flows/" + escape(id) + "/delete", Button: "Delete user flow", Cancel: base(r) + "flows/" + escape(id)})
}

func (p *Portal) flowDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete("/identity/authenticationEventsFlows/" + escape(r.PathValue("id"))); err != nil {
		pg := p.newPage(r, s, "", "flows")
		pg.Form = url.Values{}
		pg.Alert = sentence(err)
		p.showFlow(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "flows?notice=deleted")
}
