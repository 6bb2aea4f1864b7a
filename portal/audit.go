package portal

import (
	"net/http"
	"net/url"
	"time"
)

type auditEntry struct {
	Category    string `json:"category"`
	Activity    string `json:"activityDisplayName"`
	Time        string `json:"activityDateTime"`
	Result      string `json:"result"`
	InitiatedBy struct {
		User *struct {
			DisplayName string `json:"displayName"`
			UPN         string `json:"userPrincipalName"`
			IP          string `json:"ipAddress"`
		} `json:"user"`
		App *struct {
			DisplayName string `json:"displayName"`
			IP          string `json:"ipAddress"`
		} `json:"app"`
	} `json:"initiatedBy"`
	TargetResources []struct {
		DisplayName        string `json:"displayName"`
		Type               string `json:"type"`
		ModifiedProperties []struct {
			DisplayName string `json:"displayName"`
			OldValue    string `json:"oldValue"`
			NewValue    string `json:"newValue"`
		} `json:"modifiedProperties"`
	} `json:"targetResources"`
	AdditionalDetails []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"additionalDetails"`
}

// When is the entry's time for people: date and time, UTC.
func (e auditEntry) When() string {
	t, err := time.Parse(time.RFC3339, e.Time)
	if err != nil {
		return e.Time
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// Actor says who made the change.
func (e auditEntry) Actor() string {
	switch {
	case e.InitiatedBy.User != nil:
		return e.InitiatedBy.User.UPN
	case e.InitiatedBy.App != nil:
		return e.InitiatedBy.App.DisplayName + " (app)"
	}
	for _, d := range e.AdditionalDetails {
		if d.Key == "initiatedBy" {
			return d.Value
		}
	}
	return ""
}

var auditCategories = []string{"UserManagement", "GroupManagement", "ApplicationManagement", "RoleManagement", "Policy", "KeyManagement", "DirectoryManagement"}

func (p *Portal) auditList(w http.ResponseWriter, r *http.Request, s *session) {
	pg := p.newPage(r, s, "Audit logs", "audit")
	cat := r.URL.Query().Get("category")
	rel := "/auditLogs/directoryAudits?$top=25"
	q := url.Values{}
	if cat != "" {
		rel += "&" + filterEq("category", cat)
		q.Set("category", cat)
	}
	if skip := r.URL.Query().Get("next"); skip != "" {
		rel += "&$skiptoken=" + url.QueryEscape(skip)
	}
	var list listOf[auditEntry]
	if err := p.api(r, s).get(rel, &list); err != nil {
		p.renderAPIError(w, r, s, err)
		return
	}
	next := ""
	if n := nextParam(list.NextLink, ""); n != "" {
		u, _ := url.ParseQuery(n[1:])
		q.Set("next", u.Get("next"))
		next = "?" + q.Encode()
	}
	pg.Form = url.Values{"category": {cat}}
	pg.Data = map[string]any{"Entries": list.Value, "Next": next, "Categories": auditCategories}
	p.render(w, r, http.StatusOK, "audit", pg)
}
