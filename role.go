package gatehouse

import "time"

// Built-in directory role template IDs, the same as Entra's so that a policy
// written for Entra means the same here.
const (
	RoleGlobalAdministrator               = "62e90394-69f5-4237-9190-012177145e10"
	RoleSecurityAdministrator             = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleConditionalAccessAdministrator    = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleAuthenticationPolicyAdministrator = "0526716b-113d-4c15-b2c8-68e3c22b9f80"
	RoleUserAdministrator                 = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleApplicationAdministrator          = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	// The two roles that manage users' registered authentication methods:
	// the Authentication Administrator those of users without directory
	// roles, the Privileged Authentication Administrator everyone's.
	RoleAuthenticationAdministrator           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	// The reader roles: the Global Reader reads what a Global
	// Administrator can (users' registered methods and secrets aside),
	// the Security Reader Conditional Access and the sign-in and audit
	// logs, the Reports Reader the logs.
	RoleGlobalReader   = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	RoleSecurityReader = "5d6b6bb7-de71-4623-b4af-96380a352509"
	RoleReportsReader  = "4a5d8f65-41da-4de4-8968-e035b65339cf"
)

// Role is a built-in directory role.
type Role struct {
	ID          string // template ID
	DisplayName string
	Description string
}

// Roles lists the built-in directory roles.
var Roles = []Role{
	{RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of the tenant."},
	{RoleSecurityAdministrator, "Security Administrator", "Can manage Conditional Access, the authentication methods policy, and read sign-in and audit logs."},
	{RoleConditionalAccessAdministrator, "Conditional Access Administrator", "Can manage Conditional Access policies and named locations."},
	{RoleAuthenticationPolicyAdministrator, "Authentication Policy Administrator", "Can manage the authentication methods policy."},
	{RoleUserAdministrator, "User Administrator", "Can manage users and groups."},
	{RoleApplicationAdministrator, "Application Administrator", "Can manage app registrations."},
	{RoleAuthenticationAdministrator, "Authentication Administrator", "Can see and remove the authentication methods of users who hold no directory role."},
	{RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator", "Can see and remove the authentication methods of all users."},
	{RoleGlobalReader, "Global Reader", "Can read everything a Global Administrator can, but not change it (users' authentication methods aside)."},
	{RoleSecurityReader, "Security Reader", "Can read Conditional Access policies, named locations, the authentication methods policy, and sign-in and audit logs."},
	{RoleReportsReader, "Reports Reader", "Can read sign-in and audit logs."},
}

// RoleByID returns the built-in role with the template ID, or false.
func RoleByID(id string) (Role, bool) {
	for _, r := range Roles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// RoleAssignment grants a directory role to a user, tenant-wide (directory
// scope "/").
type RoleAssignment struct {
	ID               string
	TenantID         string
	RoleDefinitionID string
	PrincipalID      string // a user's ID
	DirectoryScopeID string // always "/"
	CreatedAt        time.Time
}
