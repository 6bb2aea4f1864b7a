package portal

import (
	"net/http"
	"net/url"
	"strings"
)

const (
	odataIPLocation      = "#microsoft.graph.ipNamedLocation"
	odataCountryLocation = "#microsoft.graph.countryNamedLocation"
)

// namedLocation is Graph's ipNamedLocation or countryNamedLocation.
type namedLocation struct {
	Type        string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Modified    string `json:"modifiedDateTime"`
	IsTrusted   bool   `json:"isTrusted"`
	IPRanges    []struct {
		CIDR string `json:"cidrAddress"`
	} `json:"ipRanges"`
	Countries      []string `json:"countriesAndRegions"`
	IncludeUnknown bool     `json:"includeUnknownCountriesAndRegions"`
	// Warning is the admin API's annotation on a country location when no
	// GeoIP database is configured.
	Warning string `json:"@gatehouse.warning"`
}

// IsIP reports whether the location is a set of IP ranges.
func (l namedLocation) IsIP() bool { return l.Type == odataIPLocation }

// Summary says in words what the location holds.
func (l namedLocation) Summary() string {
	if l.IsIP() {
		var r []string
		for _, x := range l.IPRanges {
			r = append(r, x.CIDR)
		}
		return strings.Join(r, ", ")
	}
	out := strings.Join(l.Countries, ", ")
	if l.IncludeUnknown {
		if out != "" {
			out += ", "
		}
		out += "unknown countries and regions"
	}
	return out
}

var locationFields = map[string]string{
	"displayName": "displayName", "ipRanges": "ipRanges", "isTrusted": "isTrusted",
	"countriesAndRegions": "countries", "includeUnknownCountriesAndRegions": "includeUnknown", "@odata.type": "displayName",
}

func (p *Portal) locationList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Named locations", "ca")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	var list listOf[namedLocation]
	if err := p.api(r, s).get(locationsPath+"?$top=200", &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg.Data = map[string]any{"Locations": list.Value, "ReadOnly": caReadOnly(s)}
	p.render(w, r, http.StatusOK, "locations", pg)
}

func locationForm(l *namedLocation) url.Values {
	f := url.Values{"displayName": {l.DisplayName}, "kind": {"country"}}
	if l.IsIP() {
		f.Set("kind", "ip")
	}
	if l.IsTrusted {
		f.Set("isTrusted", "on")
	}
	if l.IncludeUnknown {
		f.Set("includeUnknown", "on")
	}
	var ranges []string
	for _, x := range l.IPRanges {
		ranges = append(ranges, x.CIDR)
	}
	f.Set("ipRanges", strings.Join(ranges, "\n"))
	f.Set("countries", strings.Join(l.Countries, "\n"))
	return f
}

// locationBody is the named location the form describes.
func locationBody(f url.Values) map[string]any {
	if f.Get("kind") == "ip" {
		ranges := []any{}
		for _, c := range lines(f.Get("ipRanges")) {
			t := "#microsoft.graph.iPv4CidrRange"
			if strings.Contains(c, ":") {
				t = "#microsoft.graph.iPv6CidrRange"
			}
			ranges = append(ranges, map[string]any{"@odata.type": t, "cidrAddress": c})
		}
		return map[string]any{"@odata.type": odataIPLocation, "displayName": f.Get("displayName"), "isTrusted": f.Get("isTrusted") == "on", "ipRanges": ranges}
	}
	countries := []string{}
	for _, c := range strings.FieldsFunc(f.Get("countries"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		countries = append(countries, strings.ToUpper(c))
	}
	return map[string]any{"@odata.type": odataCountryLocation, "displayName": f.Get("displayName"), "countriesAndRegions": countries,
		"includeUnknownCountriesAndRegions": f.Get("includeUnknown") == "on"}
}

func (p *Portal) locationNew(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "", "ca")
	if r.Method == http.MethodGet {
		kind := r.URL.Query().Get("kind")
		if kind != "country" {
			kind = "ip"
		}
		pg.Form = url.Values{"kind": {kind}}
		p.showLocation(w, r, s, http.StatusOK, pg, nil)
		return
	}
	var created namedLocation
	err := p.api(r, s).post(locationsPath+lockoutQuery(r), locationBody(r.PostForm), &created)
	if err == nil {
		seeOther(w, r, "ca/locations/"+escape(created.ID)+"?notice=created")
		return
	}
	if p.lockoutPage(w, r, s, err, "ca") {
		return
	}
	pg.targetError(err, locationFields)
	p.showLocation(w, r, s, statusOf(err), pg, nil)
}

func lockoutQuery(r *http.Request) string {
	if r.PostForm.Get("confirmLockout") == "true" {
		return "?confirmLockout=true"
	}
	return ""
}

func (p *Portal) locationShow(w http.ResponseWriter, r *http.Request, s *session) {
	var l namedLocation
	if err := p.api(r, s).get(locationsPath+"/"+escape(r.PathValue("id")), &l); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg := p.newPage(r, s, "", "ca")
	pg.Notice = notices[r.URL.Query().Get("notice")]
	pg.Form = locationForm(&l)
	p.showLocation(w, r, s, http.StatusOK, pg, &l)
}

func (p *Portal) locationEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	err := p.api(r, s).patch(locationsPath+"/"+escape(id)+lockoutQuery(r), locationBody(r.PostForm))
	if err == nil {
		seeOther(w, r, "ca/locations/"+escape(id)+"?notice=saved")
		return
	}
	if p.lockoutPage(w, r, s, err, "ca") {
		return
	}
	pg := p.newPage(r, s, "", "ca")
	pg.targetError(err, locationFields)
	p.showLocation(w, r, s, statusOf(err), pg, nil)
}

// showLocation renders a location's form; l, when read, carries the API's
// GeoIP warning.
func (p *Portal) showLocation(w http.ResponseWriter, r *http.Request, s *session, status int, pg *page, l *namedLocation) {
	id := r.PathValue("id")
	kind := pg.Form.Get("kind")
	switch {
	case id == "" && kind == "ip":
		pg.Title = "New IP ranges location"
	case id == "":
		pg.Title = "New countries location"
	default:
		pg.Title = pg.Form.Get("displayName")
	}
	action := pg.Base + "ca/locations/new"
	if id != "" {
		action = pg.Base + "ca/locations/" + escape(id)
	}
	warning := ""
	if l != nil {
		warning = l.Warning
	}
	pg.Data = map[string]any{"ID": id, "Action": action, "Kind": kind, "Warning": warning, "ReadOnly": caReadOnly(s)}
	p.render(w, r, status, "location", pg)
}

func (p *Portal) locationDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var l namedLocation
	if err := p.api(r, s).get(locationsPath+"/"+escape(id), &l); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	p.renderConfirm(w, r, s, "ca", confirm{Question: "Delete the named location “" + l.DisplayName + "”?",
		Detail: "It can be deleted only when no policy names it. This cannot be undone.",
		Action: base(r) + "ca/locations/" + escape(id) + "/delete", Button: "Delete location", Cancel: base(r) + "ca/locations/" + escape(id)})
}

func (p *Portal) locationDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.api(r, s).delete(locationsPath + "/" + escape(r.PathValue("id"))); err != nil {
		title := "The location was not deleted"
		p.renderMessage(w, r, statusOf(err), title, sentence(err))
		return
	}
	seeOther(w, r, "ca/locations?notice=deleted")
}
