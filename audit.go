package gatehouse

import "time"

// AuditEntry records one administrative change in the shape of Graph's
// directoryAudit: who did what to which object, when, and the values before
// and after. Secrets are never included.
type AuditEntry struct {
	ID            string
	TenantID      string
	Time          time.Time
	Category      string // UserManagement, GroupManagement, ApplicationManagement, RoleManagement, KeyManagement
	Activity      string // e.g. "Add user"
	OperationType string // Add, Update, Delete, Assign, Unassign
	Result        string // success or failure
	ResultReason  string
	CorrelationID string
	Actor         Actor
	Targets       []AuditTarget
}

// Actor is who made a change: a user (delegated) or an application.
type Actor struct {
	UserID      string `json:"userId,omitempty"`
	UserMail    string `json:"userMail,omitempty"`
	AppID       string `json:"appId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	IPAddress   string `json:"ipAddress,omitempty"`
}

// AuditTarget is an object a change touched, with the properties that
// changed.
type AuditTarget struct {
	ID                 string             `json:"id"`
	Type               string             `json:"type"` // User, Group, Application, RoleAssignment, Tenant, Key
	DisplayName        string             `json:"displayName,omitempty"`
	ModifiedProperties []ModifiedProperty `json:"modifiedProperties,omitempty"`
}

// ModifiedProperty is one property's value before and after a change, each
// as JSON text ("" when there was none).
type ModifiedProperty struct {
	DisplayName string `json:"displayName"`
	OldValue    string `json:"oldValue"`
	NewValue    string `json:"newValue"`
}
