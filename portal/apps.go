package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

type redirects struct {
	RedirectURIs []string `json:"redirectUris"`
}

type application struct {
	ID                     string      `json:"id"`
	AppID                  string      `json:"appId"`
	DisplayName            string      `json:"displayName"`
	IsFallbackPublicClient bool        `json:"isFallbackPublicClient"`
	Web                    redirects   `json:"web"`
	SPA                    redirects   `json:"spa"`
	PublicClient           redirects   `json:"publicClient"`
	PasswordCredentials    []secret    `json:"passwordCredentials"`
	RequiredResourceAccess []yesAccess `json:"requiredResourceAccess"`
	Gatehouse              struct {
		PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	} `json:"gatehouse"`
	Created string `json:"createdDateTime"`
}

type yesAccess struct {
	ResourceAppID string `json:"resourceAppId"`
}

type secret struct {
	KeyID       string `json:"keyId"`
	DisplayName string `json:"displayName"`
	Hint        string `json:"hint"`
	SecretText  string `json:"secretText"`
	Start       string `json:"startDateTime"`
	End         string `json:"endDateTime"`
}

// BuiltIn reports whether the app is the admin portal itself.
func (a application) BuiltIn() bool { return a.AppID == gatehouse.AdminPortalAppID }

var appFields = map[string]string{
	"displayName": "displayName", "web": "web", "spa": "spa", "publicClient": "publicClient",
	"gatehouse.postLogoutRedirectUris": "logout", "gatehouse": "logout", "isFallbackPublicClient": "isFallbackPublicClient",
}

func (p *Portal) appList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "App registrations", "apps")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	rel := "/applications?$top=100&$select=id,appId,displayName,isFallbackPublicClient,createdDateTime"
	if skip := r.URL.Query().Get("next"); skip != "" {
		rel += "&$skiptoken=" + url.QueryEscape(skip)
	}
	var list listOf[application]
	if err := p.api(r, s).get(rel, &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Apps": list.Value, "Next": nextParam(list.NextLink, "")}
	p.render(w, r, http.StatusOK, "apps", pg)
}

// lines splits a textarea into its non-empty lines.
func lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (p *Portal) appNew(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "New app registration", "apps")
	if r.Method == http.MethodPost {
		f := r.PostForm
		body := map[string]any{"displayName": f.Get("displayName")}
		uris := lines(f.Get("redirectUri"))
		switch f.Get("platform") {
		case "spa":
			body["spa"] = map[string]any{"redirectUris": uris}
			body["isFallbackPublicClient"] = true
		case "publicClient":
			body["publicClient"] = map[string]any{"redirectUris": uris}
			body["isFallbackPublicClient"] = true
		default:
			body["web"] = map[string]any{"redirectUris": uris}
		}
		var a application
		err := p.api(r, s).post("/applications", body, &a)
		if err == nil {
			seeOther(w, r, "apps/"+escape(a.ID)+"?notice=created")
			return
		}
		pg.fieldError(err, map[string]string{"displayName": "displayName", "web": "redirectUri", "spa": "redirectUri", "publicClient": "redirectUri"})
		p.render(w, r, http.StatusBadRequest, "appnew", pg)
		return
	}
	p.render(w, r, http.StatusOK, "appnew", pg)
}

func (p *Portal) appShow(w http.ResponseWriter, r *http.Request, s *session) {
	p.showApp(w, r, s, http.StatusOK, nil, nil)
}

// showApp is an app's page: its settings, secrets and a quick start, in
// two calls (the app and its granted permissions).
func (p *Portal) showApp(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page, added *secret) {
	id := r.PathValue("id")
	c := p.api(r, s)
	var a application
	if err := c.get("/applications/"+escape(id), &a); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var perms listOf[struct {
		ID string `json:"id"`
	}]
	if err := c.get("/applications/"+escape(id)+"/appRoleAssignments?$top=1", &perms); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	if pg == nil {
		pg = p.newPage(r, s, "", "apps")
		pg.Notice = notices[r.URL.Query().Get("notice")]
	}
	pg.Title = a.DisplayName
	form := url.Values{"displayName": {a.DisplayName}, "web": {strings.Join(a.Web.RedirectURIs, "\n")},
		"spa": {strings.Join(a.SPA.RedirectURIs, "\n")}, "publicClient": {strings.Join(a.PublicClient.RedirectURIs, "\n")},
		"logout": {strings.Join(a.Gatehouse.PostLogoutRedirectURIs, "\n")}}
	if a.IsFallbackPublicClient {
		form.Set("isFallbackPublicClient", "on")
	}
	if _, sent := pg.Form["displayName"]; sent {
		form = pg.Form
	}
	pg.Form = form
	tenant := r.PathValue("tenant")
	redirect := ""
	for _, l := range [][]string{a.Web.RedirectURIs, a.SPA.RedirectURIs, a.PublicClient.RedirectURIs} {
		if len(l) > 0 {
			redirect = l[0]
			break
		}
	}
	data := map[string]any{"App": a, "Added": added, "Issuer": gatehouse.IssuerURL(p.opt.PublicURL, tenant),
		"Discovery": gatehouse.IssuerURL(p.opt.PublicURL, tenant) + "/.well-known/openid-configuration", "Redirect": redirect}
	// An app holding admin API permissions is privileged
	// (web/applications.go): how it gets tokens is for those who may grant
	// permissions.
	privileged := len(perms.Value) > 0 || len(a.RequiredResourceAccess) > 0
	if a.BuiltIn() {
		data["ReadOnly"] = "The admin portal is built into every tenant: its redirect URIs follow the server's public URL, it has no secrets and it cannot be deleted."
	} else if privileged && !anyRole(s.Roles, rolesGlobal) {
		data["ReadOnly"] = "This app holds admin API permissions, so only a Global Administrator can change its redirect URIs, secrets and public client setting, or delete it."
	}
	pg.Data = data
	p.render(w, r, status, "app", pg)
}

func (p *Portal) appEdit(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	body := map[string]any{"displayName": f.Get("displayName")}
	if f.Get("settings") == "on" {
		body["web"] = map[string]any{"redirectUris": lines(f.Get("web"))}
		body["spa"] = map[string]any{"redirectUris": lines(f.Get("spa"))}
		body["publicClient"] = map[string]any{"redirectUris": lines(f.Get("publicClient"))}
		body["gatehouse"] = map[string]any{"postLogoutRedirectUris": lines(f.Get("logout"))}
		body["isFallbackPublicClient"] = f.Get("isFallbackPublicClient") == "on"
	}
	err := p.api(r, s).patch("/applications/"+escape(r.PathValue("id")), body)
	if err == nil {
		seeOther(w, r, "apps/"+escape(r.PathValue("id"))+"?notice=saved")
		return
	}
	pg := p.newPage(r, s, "", "apps")
	pg.fieldError(err, appFields)
	p.showApp(w, r, s, statusOf(err), pg, nil)
}

// appSecretAdd creates a client secret and shows it once, on the page the
// POST answers (never in a URL, never again).
func (p *Portal) appSecretAdd(w http.ResponseWriter, r *http.Request, s *session) {
	var sec secret
	err := p.api(r, s).post("/applications/"+escape(r.PathValue("id"))+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": r.PostForm.Get("description")}}, &sec)
	pg := p.newPage(r, s, "", "apps")
	pg.Form = url.Values{}
	if err != nil {
		pg.fieldError(err, map[string]string{"passwordCredential.displayName": "description"})
		p.showApp(w, r, s, statusOf(err), pg, nil)
		return
	}
	pg.Notice = "Copy the secret now: it is shown only this once."
	p.showApp(w, r, s, http.StatusOK, pg, &sec)
}

func (p *Portal) appSecretConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	p.renderConfirm(w, r, s, "apps", confirm{Question: "Remove this client secret?",
		Detail: "The app can no longer get tokens with it, at once. Make sure nothing still uses it.",
		Action: base(r) + "apps/" + escape(id) + "/secrets/" + escape(r.PathValue("key")) + "/remove", Button: "Remove secret", Cancel: base(r) + "apps/" + escape(id)})
}

func (p *Portal) appSecretRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if err := p.api(r, s).post("/applications/"+escape(id)+"/removePassword", map[string]any{"keyId": r.PathValue("key")}, nil); err != nil {
		pg := p.newPage(r, s, "", "apps")
		pg.Alert = sentence(err)
		pg.Form = url.Values{}
		p.showApp(w, r, s, statusOf(err), pg, nil)
		return
	}
	seeOther(w, r, "apps/"+escape(id)+"?notice=removed")
}

func (p *Portal) appDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var a application
	if err := p.api(r, s).get("/applications/"+escape(id)+"?$select=displayName,appId", &a); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "apps", confirm{Question: "Delete " + a.DisplayName + "?",
		Detail: "Client ID " + a.AppID + ". Its users can no longer sign in to it, and its tokens stop working. This cannot be undone.",
		Action: base(r) + "apps/" + escape(id) + "/delete", Button: "Delete app", Cancel: base(r) + "apps/" + escape(id)})
}

func (p *Portal) appDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete("/applications/" + escape(r.PathValue("id"))); err != nil {
		pg := p.newPage(r, s, "", "apps")
		pg.Alert = sentence(err)
		pg.Form = url.Values{}
		p.showApp(w, r, s, statusOf(err), pg, nil)
		return
	}
	seeOther(w, r, "apps?notice=deleted")
}
