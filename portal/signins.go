package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// signInEntry is Graph's signInEntry, as the sign-in log pages read it.
type signInEntry struct {
	ID            string `json:"id"`
	Created       string `json:"createdDateTime"`
	UserID        string `json:"userId"`
	UPN           string `json:"userPrincipalName"`
	UserName      string `json:"userDisplayName"`
	AppID         string `json:"appId"`
	AppName       string `json:"appDisplayName"`
	IP            string `json:"ipAddress"`
	ClientApp     string `json:"clientAppUsed"`
	UserAgent     string `json:"userAgent"`
	CorrelationID string `json:"correlationId"`
	Interactive   bool   `json:"isInteractive"`
	Status        struct {
		ErrorCode         int    `json:"errorCode"`
		FailureReason     string `json:"failureReason"`
		AdditionalDetails string `json:"additionalDetails"`
	} `json:"status"`
	Location struct {
		City    string `json:"city"`
		Country string `json:"countryOrRegion"`
	} `json:"location"`
	CAStatus        string `json:"conditionalAccessStatus"`
	AppliedPolicies []struct {
		ID               string   `json:"id"`
		DisplayName      string   `json:"displayName"`
		Result           string   `json:"result"`
		EnforcedGrant    []string `json:"enforcedGrantControls"`
		EnforcedSessions []string `json:"enforcedSessionControls"`
	} `json:"appliedConditionalAccessPolicies"`
	AuthRequirement string `json:"authenticationRequirement"`
	AuthDetails     []struct {
		Method       string `json:"authenticationMethod"`
		MethodDetail string `json:"authenticationMethodDetail"`
		At           string `json:"authenticationStepDateTime"`
		Requirement  string `json:"authenticationStepRequirement"`
		ResultDetail string `json:"authenticationStepResultDetail"`
		Succeeded    bool   `json:"succeeded"`
	} `json:"authenticationDetails"`
	Risk        string   `json:"riskLevelDuringSignIn"`
	RiskEvents  []string `json:"riskEventTypes_v2"`
	RiskDetail  string   `json:"riskDetail"`
	RiskState   string   `json:"riskState"`
	MethodsUsed []string `json:"authenticationMethodsUsed"`
}

// When is the entry's time, UTC.
func (e signInEntry) When() string { return when(e.Created) }

func when(v string) string {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return v
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// Succeeded reports whether the sign-in succeeded.
func (e signInEntry) Succeeded() bool { return e.Status.ErrorCode == gatehouse.SignInSucceeded }

// ResultText names a policy's result as Entra's sign-in log shows it.
func ResultText(r string) string {
	if t, ok := resultNames[r]; ok {
		return t
	}
	return r
}

var resultNames = map[string]string{
	"success": "Success", "failure": "Failure", "notApplied": "Not applied", "notEnabled": "Disabled",
	"reportOnlySuccess": "Report-only: Success", "reportOnlyFailure": "Report-only: Failure",
	"reportOnlyNotApplied": "Report-only: Not applied", "reportOnlyInterrupted": "Report-only: User action required",
}

// statusOptions are the outcomes the log can be filtered by: the API
// selects one error code at a time (status/errorCode eq N).
var statusOptions = []option{
	{"", "Any"}, {"0", "Success"},
	{strconv.Itoa(gatehouse.SignInInvalidCredentials), "Failure: invalid credentials (50126)"},
	{strconv.Itoa(gatehouse.SignInBlockedByPolicy), "Failure: blocked by Conditional Access (53003)"},
	{strconv.Itoa(gatehouse.SignInUnmetRequirement), "Failure: requirement not met (50079)"},
	{strconv.Itoa(gatehouse.SignInSecondFactorFailed), "Failure: second factor failed (500121)"},
	{strconv.Itoa(gatehouse.SignInAccountDisabled), "Failure: account disabled (50057)"},
	{strconv.Itoa(gatehouse.SignInThrottled), "Failure: throttled (50053)"},
	{strconv.Itoa(gatehouse.SignInInterrupted), "Interrupted: second factor needed (50074)"},
	{strconv.Itoa(gatehouse.SignInFreshAuthRequired), "Interrupted: fresh sign-in needed (50076)"},
	{strconv.Itoa(gatehouse.SignInAccessDenied), "Failure: access denied (50105)"},
}

var signInFilterFields = map[string]string{"$filter": "filter"}

// signInFilter is the API's $filter for the form's user, app, status and
// dates (YYYY-MM-DD, UTC, both days included), or a field's error.
func signInFilter(q url.Values) (filter, field, msg string) {
	var clauses []string
	quote := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
	if v := strings.TrimSpace(q.Get("user")); v != "" {
		clauses = append(clauses, "userId eq "+quote(v))
	}
	if v := strings.TrimSpace(q.Get("app")); v != "" {
		clauses = append(clauses, "appId eq "+quote(v))
	}
	if v := q.Get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", "status", "“" + v + "” is not an outcome of the list."
		}
		clauses = append(clauses, "status/errorCode eq "+v)
	}
	for _, d := range []struct{ name, op, clock string }{{"from", "ge", "T00:00:00Z"}, {"to", "le", "T23:59:59Z"}} {
		v := strings.TrimSpace(q.Get(d.name))
		if v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", d.name, "“" + v + "” is not a date such as 2026-11-30."
		}
		clauses = append(clauses, "createdDateTime "+d.op+" "+v+d.clock)
	}
	return strings.Join(clauses, " and "), "", ""
}

func (p *Portal) signInList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Sign-in logs", "signins")
	q := r.URL.Query()
	keep := url.Values{}
	for _, k := range []string{"user", "app", "status", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	pg.Form = keep
	pg.Data = map[string]any{"Statuses": statusOptions}
	filterQ := q
	if u := strings.TrimSpace(q.Get("user")); strings.Contains(u, "@") {
		// An email address: the user's object ID, when the roles may read
		// users (one more call).
		var found listOf[user]
		ok, err := p.api(r, s).getOK("/users?$top=1&$select=id&"+filterEq("mail", u), &found)
		switch {
		case err != nil && apiStatus(err) != http.StatusForbidden:
			p.renderAPIError(w, r, s, err)
			return
		case !ok:
			pg.Errors["user"] = "Your roles don't allow looking users up by email address; enter the user's object ID."
		case len(found.Value) == 0:
			pg.Errors["user"] = "No user has the email address " + u + "."
		default:
			filterQ = url.Values{}
			for k, v := range q {
				filterQ[k] = v
			}
			filterQ.Set("user", found.Value[0].ID)
		}
		if pg.Errors["user"] != "" {
			pg.Alert = "Check the field marked below."
			p.render(w, r, http.StatusBadRequest, "signins", pg)
			return
		}
	}
	filter, field, msg := signInFilter(filterQ)
	if field != "" {
		pg.Errors[field] = msg
		pg.Alert = "Check the field marked below."
		p.render(w, r, http.StatusBadRequest, "signins", pg)
		return
	}
	rel := "/auditLogs/signIns?$top=25"
	if filter != "" {
		rel += "&$filter=" + url.QueryEscape(filter)
	}
	if skip := q.Get("next"); skip != "" {
		rel += "&$skiptoken=" + url.QueryEscape(skip)
	}
	var list listOf[signInEntry]
	if err := p.api(r, s).get(rel, &list); err != nil {
		if apiStatus(err) != http.StatusBadRequest {
			p.renderAPIError(w, r, s, err)
			return
		}
		pg.targetError(err, signInFilterFields)
		p.render(w, r, http.StatusBadRequest, "signins", pg)
		return
	}
	next := ""
	if n := nextParam(list.NextLink, ""); n != "" {
		u, _ := url.ParseQuery(n[1:])
		nq := url.Values{}
		for k, v := range keep {
			nq[k] = v
		}
		nq.Set("next", u.Get("next"))
		next = "?" + nq.Encode()
	}
	pg.Data = map[string]any{"Statuses": statusOptions, "Entries": list.Value, "Next": next, "Filtered": filter != ""}
	p.render(w, r, http.StatusOK, "signins", pg)
}

func (p *Portal) signInShow(w http.ResponseWriter, r *http.Request, s *session) {
	var e signInEntry
	if err := p.api(r, s).get("/auditLogs/signIns/"+escape(r.PathValue("id")), &e); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	pg := p.newPage(r, s, "Sign-in "+e.When(), "signins")
	pg.Data = map[string]any{"E": e}
	p.render(w, r, http.StatusOK, "signin", pg)
}
