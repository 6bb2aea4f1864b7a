package gatehouse

import "time"

// Group is a named set of users of one tenant, used for Conditional Access
// and authentication method targeting.
type Group struct {
	ID          string
	TenantID    string
	DisplayName string
	Description string
	CreatedAt   time.Time
}

// Validate returns an EINVALID error naming the first bad field.
func (g *Group) Validate() error {
	if g.DisplayName == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", g.DisplayName, 256); err != nil {
		return err
	}
	return ValidateText("description", g.Description, 1024)
}
