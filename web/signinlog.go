package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The sign-in log at /auditLogs/signIns, in Graph's signIn shape (the
// subset gatehouse.SignIn records), newest first, paged, filtered with
// Graph's $filter on userId, appId, createdDateTime (ge, le) and
// status/errorCode (eq), joined with and.

const signInsSet = "auditLogs/signIns"

// graphSignIn is Graph's signIn. Every property is written, empty ones as
// null or [], as Graph does, so that $select knows them all.
type graphSignIn struct {
	ID                                string                           `json:"id"`
	CreatedDateTime                   string                           `json:"createdDateTime"`
	UserID                            *string                          `json:"userId"`
	UserPrincipalName                 *string                          `json:"userPrincipalName"`
	UserDisplayName                   *string                          `json:"userDisplayName"`
	AppID                             *string                          `json:"appId"`
	AppDisplayName                    *string                          `json:"appDisplayName"`
	IPAddress                         *string                          `json:"ipAddress"`
	ClientAppUsed                     *string                          `json:"clientAppUsed"`
	UserAgent                         *string                          `json:"userAgent"`
	CorrelationID                     *string                          `json:"correlationId"`
	IsInteractive                     bool                             `json:"isInteractive"`
	Status                            gatehouse.SignInStatus           `json:"status"`
	Location                          graphSignInLocation              `json:"location"`
	ConditionalAccessStatus           string                           `json:"conditionalAccessStatus"`
	AppliedConditionalAccessPolicies  []gatehouse.AppliedPolicy        `json:"appliedConditionalAccessPolicies"`
	AuthenticationRequirement         *string                          `json:"authenticationRequirement"`
	AuthenticationDetails             []gatehouse.AuthenticationDetail `json:"authenticationDetails"`
	RiskLevelDuringSignIn             string                           `json:"riskLevelDuringSignIn"`
	RiskEventTypes                    []string                         `json:"riskEventTypes_v2"`
	RiskDetail                        string                           `json:"riskDetail"`
	RiskState                         string                           `json:"riskState"`
	ResourceDisplayName               *string                          `json:"resourceDisplayName"`
	ClientCredentialType              *string                          `json:"clientCredentialType"`
	AuthenticationMethodsUsed         []string                         `json:"authenticationMethodsUsed"`
	ConditionalAccessAudiences        []string                         `json:"conditionalAccessAudiences"`
	AuthenticationProcessingDetails   []keyValue                       `json:"authenticationProcessingDetails"`
	AuthenticationRequirementPolicies []struct{}                       `json:"authenticationRequirementPolicies"`
}

type graphSignInLocation struct {
	City            *string                   `json:"city"`
	State           *string                   `json:"state"`
	CountryOrRegion *string                   `json:"countryOrRegion"`
	GeoCoordinates  *gatehouse.GeoCoordinates `json:"geoCoordinates"`
}

// nullable returns nil for "", else s.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toGraphSignIn(e *gatehouse.SignIn) graphSignIn {
	out := graphSignIn{
		ID: e.ID, CreatedDateTime: graphTime(e.CreatedAt),
		UserID: nullable(e.UserID), UserPrincipalName: nullable(e.UserPrincipalName), UserDisplayName: nullable(e.UserDisplayName),
		AppID: nullable(e.AppID), AppDisplayName: nullable(e.AppDisplayName), IPAddress: nullable(e.IPAddress),
		ClientAppUsed: nullable(e.ClientAppUsed), UserAgent: nullable(e.UserAgent), CorrelationID: nullable(e.CorrelationID),
		IsInteractive: e.IsInteractive, Status: e.Status,
		Location: graphSignInLocation{City: nullable(e.Location.City), State: nullable(e.Location.State),
			CountryOrRegion: nullable(e.Location.CountryOrRegion), GeoCoordinates: e.Location.Coordinates},
		ConditionalAccessStatus:   e.ConditionalAccessStatus,
		AuthenticationRequirement: nullable(e.AuthenticationRequirement),
		RiskLevelDuringSignIn:     string(e.RiskLevelDuringSignIn),
		RiskEventTypes:            orEmpty(e.RiskEventTypes),
		RiskDetail:                "none", RiskState: "none",
		ResourceDisplayName:       nullable(e.AppDisplayName),
		AuthenticationMethodsUsed: []string{}, ConditionalAccessAudiences: []string{},
		AuthenticationProcessingDetails: []keyValue{}, AuthenticationRequirementPolicies: []struct{}{},
		AppliedConditionalAccessPolicies: []gatehouse.AppliedPolicy{}, AuthenticationDetails: orEmpty(e.AuthenticationDetails),
	}
	if out.ConditionalAccessStatus == "" {
		out.ConditionalAccessStatus = gatehouse.CAStatusNotApplied
	}
	if out.RiskLevelDuringSignIn == "" {
		out.RiskLevelDuringSignIn = string(gatehouse.RiskNone)
	}
	if e.RiskLevelDuringSignIn.Rank() > 0 {
		out.RiskState = "atRisk"
	}
	for _, p := range e.AppliedPolicies {
		p.EnforcedGrantControls, p.EnforcedSessionControls = orEmpty(p.EnforcedGrantControls), orEmpty(p.EnforcedSessionControls)
		out.AppliedConditionalAccessPolicies = append(out.AppliedConditionalAccessPolicies, p)
	}
	for _, d := range e.AuthenticationDetails {
		if d.Succeeded && d.Method != "Previously satisfied" && !containsString(out.AuthenticationMethodsUsed, d.Method) {
			out.AuthenticationMethodsUsed = append(out.AuthenticationMethodsUsed, d.Method)
		}
	}
	return out
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// The clauses of a sign-in log $filter.
var (
	signInStringRE = regexp.MustCompile(`^(?i:(userId|appId))\s+eq\s+'((?:[^']|'')*)'`)
	signInCodeRE   = regexp.MustCompile(`^(?i:status/errorCode)\s+eq\s+(-?\d+)`)
	signInTimeRE   = regexp.MustCompile(`^(?i:createdDateTime)\s+(\w+)\s+(\S+)`)
	signInAndRE    = regexp.MustCompile(`^\s+(?i:and)\s+`)
)

// signInFilterSyntax says what parseSignInFilter understands.
const signInFilterSyntax = "userId eq '…', appId eq '…', status/errorCode eq N and createdDateTime ge|le 2024-01-31T00:00:00Z, joined with and"

// parseSignInFilter parses a sign-in log $filter into a SignInFilter,
// or returns an EINVALID error naming $filter and what is wrong.
func parseSignInFilter(filter string) (gatehouse.SignInFilter, error) {
	var f gatehouse.SignInFilter
	rest := strings.TrimSpace(filter)
	bad := func(format string, args ...any) error {
		return gatehouse.FieldErrorf("$filter", "Invalid $filter %q: %s Gatehouse supports %s.", filter, fmt.Sprintf(format, args...), signInFilterSyntax)
	}
	if rest == "" {
		return f, bad("it is empty.")
	}
	seen := map[string]bool{}
	once := func(name string) error {
		if seen[name] {
			return bad("%s is given twice.", name)
		}
		seen[name] = true
		return nil
	}
	for {
		switch m := signInStringRE.FindStringSubmatch(rest); {
		case m != nil:
			name, value := strings.ToLower(m[1]), strings.ReplaceAll(m[2], "''", "'")
			if err := once(name); err != nil {
				return f, err
			}
			if name == "userid" {
				f.UserID = strings.ToLower(value)
			} else {
				f.AppID = strings.ToLower(value)
			}
			rest = rest[len(m[0]):]
		case signInCodeRE.MatchString(rest):
			m := signInCodeRE.FindStringSubmatch(rest)
			if err := once("status/errorCode"); err != nil {
				return f, err
			}
			n, err := strconv.Atoi(m[1])
			if err != nil || n < 0 {
				return f, bad("status/errorCode %s is not an error code (0 or more).", m[1])
			}
			f.ErrorCode = &n
			rest = rest[len(m[0]):]
		case signInTimeRE.MatchString(rest):
			m := signInTimeRE.FindStringSubmatch(rest)
			op := strings.ToLower(m[1])
			if op != "ge" && op != "le" {
				return f, bad("createdDateTime takes ge or le, not %s.", m[1])
			}
			if err := once("createdDateTime " + op); err != nil {
				return f, err
			}
			at, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return f, bad("%s is not a date and time such as 2024-01-31T00:00:00Z.", m[2])
			}
			if op == "ge" {
				f.From = at
			} else {
				f.To = at
			}
			rest = rest[len(m[0]):]
		default:
			return f, bad("%q is not a clause Gatehouse understands.", rest)
		}
		if rest == "" {
			return f, nil
		}
		m := signInAndRE.FindString(rest)
		if m == "" {
			return f, bad("expected and before %q.", strings.TrimSpace(rest))
		}
		rest = rest[len(m):]
	}
}

func (s *server) handleSignInList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The store's paging and $top; $filter is the sign-in log's own.
		q := r.URL.Query()
		var f gatehouse.SignInFilter
		if v, ok := q["$filter"]; ok {
			var err error
			if f, err = parseSignInFilter(v[0]); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
			q.Del("$filter")
		}
		stripped := r.Clone(r.Context())
		stripped.URL.RawQuery = q.Encode()
		opt, err := s.listQuery(stripped)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("$filter", "Invalid $filter: createdDateTime le %s is before createdDateTime ge %s.", graphTime(f.To), graphTime(f.From)))
			return
		}
		entries, next, err := s.Store.ListSignIns(r.Context(), tenantFrom(r.Context()).ID, f, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphSignIn, 0, len(entries))
		for _, e := range entries {
			out = append(out, toGraphSignIn(e))
		}
		s.writeCollection(w, r, signInsSet, out, next)
	})
}

func (s *server) handleSignInGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := s.Store.SignIn(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, signInsSet, toGraphSignIn(e))
	})
}
