package portal

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// whatIfResult is Graph's whatIfAnalysisResult: the policy, whether it
// applies, and why not.
type whatIfResult struct {
	caPolicy
	Applies bool   `json:"policyApplies"`
	Reason  string `json:"analysisReasons"`
	Detail  string `json:"analysisReasons@gatehouse.detail"`
}

// ReasonText names the analysis reason as Entra's What If does.
func (r whatIfResult) ReasonText() string {
	if t, ok := reasonNames[r.Reason]; ok {
		return t
	}
	return r.Reason
}

var reasonNames = map[string]string{
	"notSet": "Applies", "users": "Users", "application": "Target resources", "clientApps": "Client apps",
	"devicePlatform": "Device platforms", "location": "Locations", "signInRisk": "Sign-in risk", "userRisk": "User risk",
	"policyNotEnabled": "Policy not enabled",
}

var whatIfFields = map[string]string{
	"signInIdentity": "user", "signInContext": "apps", "signInConditions.clientAppType": "clientAppType",
	"signInConditions.devicePlatform": "devicePlatform", "signInConditions.ipAddress": "ipAddress", "signInConditions.country": "country",
	"signInConditions.signInRiskLevel": "signInRiskLevel", "signInConditions.userRiskLevel": "userRiskLevel",
}

// whatIf asks the admin API's evaluate action about the sign-in the form
// describes (a GET form: the question is a read) and lists each policy,
// whether it applies and why.
func (p *Portal) whatIf(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "What If", "ca")
	q := r.URL.Query()
	pg.Form = q
	c := p.api(r, s)
	var users listOf[user]
	var apps listOf[application]
	canUsers, err := c.getOK("/users?$top=100&$select=id,displayName,mail", &users)
	if err != nil && apiStatus(err) != http.StatusForbidden {
		p.renderAPIError(w, r, s, err)
		return
	}
	canApps, err := c.getOK("/applications?$top=100&$select=id,appId,displayName", &apps)
	if err != nil && apiStatus(err) != http.StatusForbidden {
		p.renderAPIError(w, r, s, err)
		return
	}
	data := map[string]any{"Users": users.Value, "Apps": apps.Value, "CanUsers": canUsers, "CanApps": canApps,
		"Clients":   []option{{"all", "Any (a browser)"}, {gatehouse.ClientBrowser, "Browser"}, {gatehouse.ClientMobileDesktop, "Mobile apps and desktop clients"}},
		"Platforms": append([]option{{"", "Not told (unknown)"}}, platformOptions[1:]...), "Risks": riskOptions,
		"PortalID": gatehouse.AdminPortalAppID, "APIID": gatehouse.AdminAPIAppID}
	pg.Data = data
	status := http.StatusOK
	if q.Has("user") {
		appIDs := idsOf(q, "app")
		cond := map[string]any{"clientAppType": orDefault(q.Get("clientAppType"), "all"), "signInRiskLevel": orDefault(q.Get("signInRiskLevel"), "none"),
			"userRiskLevel": orDefault(q.Get("userRiskLevel"), "none")}
		if v := q.Get("devicePlatform"); v != "" {
			cond["devicePlatform"] = v
		}
		if v := strings.TrimSpace(q.Get("ipAddress")); v != "" {
			cond["ipAddress"] = v
		}
		if v := strings.TrimSpace(q.Get("country")); v != "" {
			cond["country"] = strings.ToUpper(v)
		}
		body := map[string]any{
			"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": strings.TrimSpace(q.Get("user"))},
			"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": orEmpty(appIDs)},
			"signInConditions": cond, "appliedPoliciesOnly": false,
		}
		var res listOf[whatIfResult]
		if err := c.post("/identity/conditionalAccess/evaluate", body, &res); err != nil {
			pg.targetError(err, whatIfFields)
			status = statusOf(err)
		} else {
			data["Results"] = res.Value
			data["Asked"] = true
		}
	}
	p.render(w, r, status, "whatif", pg)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
