package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"

	"github.com/gatehouse/gatehouse"
)

// change describes one audited administrative change.
type change struct {
	category, activity, operation string
	targetType, targetID, name    string
	before, after                 any // Graph representations; nil when absent
	// reason, when set, is the entry's resultReason: what the change
	// overrode (a confirmed lockout).
	reason string
}

// audit writes the entry for c inside tx, with the principal as actor and
// the properties that differ between before and after. Representations
// never hold secrets, so neither does the log.
func (s *server) audit(r *http.Request, tx gatehouse.Tx, c change) error {
	p := principalFrom(r.Context())
	e := &gatehouse.AuditEntry{
		TenantID:      tenantFrom(r.Context()).ID,
		Time:          s.Now(),
		Category:      c.category,
		Activity:      c.activity,
		OperationType: c.operation,
		Result:        "success",
		ResultReason:  c.reason,
		CorrelationID: correlationID(r.Context()),
		Actor:         p.actor(),
		Targets: []gatehouse.AuditTarget{{
			ID: c.targetID, Type: c.targetType, DisplayName: c.name,
			ModifiedProperties: modifiedProperties(c.before, c.after),
		}},
	}
	return tx.CreateAuditEntry(r.Context(), e)
}

// errUnchanged ends the transaction of an update that would change
// nothing: it writes nothing, not even an audit entry, and the handler
// answers as if it had succeeded (see noChange).
var errUnchanged = errors.New("unchanged")

// unchanged reports whether two representations of an object have the
// same properties.
func unchanged(before, after any) bool { return len(modifiedProperties(before, after)) == 0 }

// noChange turns errUnchanged into success.
func noChange(err error) error {
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// modifiedProperties compares two representations property by property.
func modifiedProperties(before, after any) []gatehouse.ModifiedProperty {
	b, a := asMap(before), asMap(after)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		if k == "@odata.context" || k == "createdDateTime" {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var out []gatehouse.ModifiedProperty
	for _, k := range names {
		ov, nv := b[k], a[k]
		if reflect.DeepEqual(ov, nv) {
			continue
		}
		out = append(out, gatehouse.ModifiedProperty{DisplayName: k, OldValue: jsonText(ov), NewValue: jsonText(nv)})
	}
	return out
}

func asMap(v any) map[string]any {
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return nil
	}
	raw, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// directoryAudit is Graph's directoryAudit resource.
type directoryAudit struct {
	ID                  string           `json:"id"`
	Category            string           `json:"category"`
	CorrelationID       string           `json:"correlationId"`
	Result              string           `json:"result"`
	ResultReason        string           `json:"resultReason"`
	ActivityDisplayName string           `json:"activityDisplayName"`
	ActivityDateTime    string           `json:"activityDateTime"`
	LoggedByService     string           `json:"loggedByService"`
	OperationType       string           `json:"operationType"`
	InitiatedBy         auditInitiatedBy `json:"initiatedBy"`
	TargetResources     []auditTarget    `json:"targetResources"`
	AdditionalDetails   []keyValue       `json:"additionalDetails"`
}

type auditInitiatedBy struct {
	User *auditUser `json:"user"`
	App  *auditApp  `json:"app"`
}

type auditUser struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	IPAddress         string `json:"ipAddress"`
}

type auditApp struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
	IPAddress   string `json:"ipAddress"`
}

type auditTarget struct {
	ID                 string                       `json:"id"`
	DisplayName        string                       `json:"displayName"`
	Type               string                       `json:"type"`
	ModifiedProperties []gatehouse.ModifiedProperty `json:"modifiedProperties"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func toDirectoryAudit(e *gatehouse.AuditEntry) directoryAudit {
	d := directoryAudit{
		ID: e.ID, Category: e.Category, CorrelationID: e.CorrelationID, Result: e.Result,
		ResultReason: e.ResultReason, ActivityDisplayName: e.Activity, ActivityDateTime: graphTime(e.Time),
		LoggedByService: "Core Directory", OperationType: e.OperationType,
		TargetResources: []auditTarget{}, AdditionalDetails: []keyValue{},
	}
	if e.Actor.UserID != "" {
		d.InitiatedBy.User = &auditUser{ID: e.Actor.UserID, DisplayName: e.Actor.DisplayName, UserPrincipalName: e.Actor.UserMail, IPAddress: e.Actor.IPAddress}
	} else if e.Actor.AppID != "" {
		d.InitiatedBy.App = &auditApp{AppID: e.Actor.AppID, DisplayName: e.Actor.DisplayName, IPAddress: e.Actor.IPAddress}
	} else {
		d.AdditionalDetails = append(d.AdditionalDetails, keyValue{"initiatedBy", e.Actor.DisplayName})
	}
	for _, t := range e.Targets {
		mp := t.ModifiedProperties
		if mp == nil {
			mp = []gatehouse.ModifiedProperty{}
		}
		d.TargetResources = append(d.TargetResources, auditTarget{ID: t.ID, DisplayName: t.DisplayName, Type: t.Type, ModifiedProperties: mp})
	}
	return d
}

func (s *server) handleDirectoryAuditList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "category", "activityDisplayName", "targetId")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		entries, next, err := s.Store.ListAuditEntries(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]directoryAudit, 0, len(entries))
		for _, e := range entries {
			out = append(out, toDirectoryAudit(e))
		}
		s.writeCollection(w, r, "auditLogs/directoryAudits", out, next)
	})
}
