package portal

import (
	"net/http"
	"net/url"
)

type organization struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type branding struct {
	Gatehouse struct {
		LogoURL     string `json:"logoUrl"`
		AccentColor string `json:"accentColor"`
	} `json:"gatehouse"`
}

// brandingShow shows the tenant's name, logo and accent colour (two calls).
func (p *Portal) brandingShow(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Company branding", "branding")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	p.showBranding(w, r, s, http.StatusOK, pg)
}

func (p *Portal) organization(c *client) (*organization, error) {
	var orgs listOf[organization]
	if err := c.get("/organization", &orgs); err != nil {
		return nil, err
	}
	if len(orgs.Value) == 0 {
		return nil, &apiError{Status: http.StatusNotFound, Message: "The tenant's organization was not found."}
	}
	return &orgs.Value[0], nil
}

func (p *Portal) showBranding(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page) {
	c := p.api(r, s)
	org, err := p.organization(c)
	if err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	var b branding
	if err := c.get("/organization/"+escape(org.ID)+"/branding", &b); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	if _, sent := pg.Form["displayName"]; !sent {
		pg.Form = url.Values{"displayName": {org.DisplayName}, "logoUrl": {b.Gatehouse.LogoURL}, "accentColor": {b.Gatehouse.AccentColor}}
	}
	pg.Data = map[string]any{"Org": org, "Branding": b}
	p.render(w, r, status, "branding", pg)
}

func (p *Portal) brandingSave(w http.ResponseWriter, r *http.Request, s *session) {
	c := p.api(r, s)
	f := r.PostForm
	pg := p.newPage(r, s, "Company branding", "branding")
	org, err := p.organization(c)
	if err == nil {
		err = c.patch("/organization/"+escape(org.ID), map[string]any{"displayName": f.Get("displayName")})
	}
	if err == nil {
		err = c.patch("/organization/"+escape(org.ID)+"/branding", map[string]any{"gatehouse": map[string]any{"logoUrl": f.Get("logoUrl"), "accentColor": f.Get("accentColor")}})
	}
	if err != nil {
		pg.fieldError(err, map[string]string{"displayName": "displayName", "gatehouse.logoUrl": "logoUrl", "gatehouse.accentColor": "accentColor"})
		p.showBranding(w, r, s, statusOf(err), pg)
		return
	}
	seeOther(w, r, "branding?notice=saved")
}
