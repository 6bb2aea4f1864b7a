package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const allUsers = "all_users"

type target struct {
	TargetType string `json:"targetType"`
	ID         string `json:"id"`
}

type methodConfig struct {
	ID             string   `json:"id"`
	State          string   `json:"state"`
	IncludeTargets []target `json:"includeTargets"`
	ExcludeTargets []target `json:"excludeTargets"`
}

// methodInfo names each method of the policy and says what it is.
var methodInfo = map[string]struct{ Name, About string }{
	"Email":        {"Email one-time passcode", "An 8-digit code sent to the user's verified sign-in address. It counts as a second factor, except for users whose first factor was an email code."},
	"Sms":          {"Text message (SMS)", "A code sent by text message to a phone number the user registers. Needs an SMS gateway."},
	"SoftwareOath": {"Authenticator app", "Time-based codes (TOTP) from an app such as Google Authenticator or 1Password."},
	"Fido2":        {"Passkeys (FIDO2)", "WebAuthn passkeys and security keys; phishing-resistant with user verification."},
	"RecoveryCode": {"Recovery codes", "Single-use codes users keep for when their other methods are lost."},
}

// Name and About describe the configuration.
func (m methodConfig) Name() string  { return methodInfo[m.ID].Name }
func (m methodConfig) About() string { return methodInfo[m.ID].About }

// AllUsers reports whether the method targets every user.
func (m methodConfig) AllUsers() bool {
	return slices.ContainsFunc(m.IncludeTargets, func(t target) bool { return t.ID == allUsers })
}

// Targets says in words to whom the method applies.
func (m methodConfig) Targets() string {
	if m.State != "enabled" {
		return "Nobody"
	}
	in := "All users"
	if !m.AllUsers() {
		in = plural(len(m.IncludeTargets), "group")
	}
	if len(m.ExcludeTargets) > 0 {
		in += ", except " + plural(len(m.ExcludeTargets), "group")
	}
	return in
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return itoa(n) + " " + what + "s"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

const methodsPath = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations"

func (p *Portal) methodList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Authentication methods", "methods")
	var list listOf[methodConfig]
	if err := p.api(r, s).get(methodsPath, &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Methods": list.Value}
	p.render(w, r, http.StatusOK, "methods", pg)
}

func (p *Portal) methodShow(w http.ResponseWriter, r *http.Request, s *session) {
	p.showMethod(w, r, s, http.StatusOK, nil)
}

// showMethod is one method's page, as Entra's: Enable, and whom it
// includes and excludes (all users or groups). The groups to choose from
// come from the API when the administrator may list groups; otherwise
// groups are named by object ID.
func (p *Portal) showMethod(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	c := p.api(r, s)
	var m methodConfig
	if err := c.get(methodsPath+"/"+escape(r.PathValue("method")), &m); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var groups listOf[group]
	canList, err := c.getOK("/groups?$top=200&$select=id,displayName", &groups)
	if err != nil && apiStatus(err) != 0 && !canList && apiStatus(err) != http.StatusForbidden {
		p.renderAPIError(w, r, s, err)
		return
	}
	if pg == nil {
		pg = p.newPage(r, s, "", "methods")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = m.Name()
	if _, sent := pg.Form["target"]; !sent {
		form := url.Values{"target": {"groups"}}
		if m.State == "enabled" {
			form.Set("enabled", "on")
		}
		if m.AllUsers() || len(m.IncludeTargets) == 0 {
			form.Set("target", "all")
		}
		var include, exclude []string
		for _, t := range m.IncludeTargets {
			if t.ID != allUsers {
				include = append(include, t.ID)
			}
		}
		for _, t := range m.ExcludeTargets {
			exclude = append(exclude, t.ID)
		}
		form["include"], form["exclude"] = include, exclude
		form.Set("includeIds", strings.Join(include, "\n"))
		form.Set("excludeIds", strings.Join(exclude, "\n"))
		pg.Form = form
	}
	pg.Data = map[string]any{"Method": m, "Groups": groups.Value, "CanListGroups": canList}
	p.render(w, r, status, "method", pg)
}

func (p *Portal) methodSave(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	include, exclude := f["include"], f["exclude"]
	if f.Has("includeIds") || f.Has("excludeIds") {
		include, exclude = lines(f.Get("includeIds")), lines(f.Get("excludeIds"))
	}
	targets := func(ids []string) []any {
		out := []any{}
		for _, id := range ids {
			out = append(out, map[string]any{"targetType": "group", "id": id})
		}
		return out
	}
	state := "disabled"
	if f.Get("enabled") == "on" {
		state = "enabled"
	}
	in := targets(include)
	if f.Get("target") != "groups" {
		in = targets([]string{allUsers})
	}
	body := map[string]any{"state": state, "includeTargets": in, "excludeTargets": targets(exclude)}
	err := p.api(r, s).patch(methodsPath+"/"+escape(r.PathValue("method")), body)
	if err == nil {
		seeOther(w, r, "methods/"+escape(r.PathValue("method"))+"?notice=saved")
		return
	}
	pg := p.newPage(r, s, "", "methods")
	pg.fieldError(err, map[string]string{"state": "enabled", "includeTargets": "include", "excludeTargets": "exclude"})
	p.showMethod(w, r, s, statusOf(err), pg)
}
