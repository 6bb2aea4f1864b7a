package gatehouse_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// TestBuiltInRoleIDs pins the built-in roles to Entra's role template IDs,
// written out here rather than through the constants, so that a policy or
// script written for Entra names the same roles in Gatehouse.
func TestBuiltInRoleIDs(t *testing.T) {
	want := map[string]string{
		"Global Administrator":                    "62e90394-69f5-4237-9190-012177145e10",
		"Security Administrator":                  "194ae4cb-b126-40b2-bd5b-6091b380977d",
		"Conditional Access Administrator":        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
		"Authentication Policy Administrator":     "0526716b-113d-4c15-b2c8-68e3c22b9f80",
		"User Administrator":                      "fe930be7-5e62-47db-91af-98c3a49a38b1",
		"Application Administrator":               "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
		"Authentication Administrator":            "c4e39bd9-1100-46d3-8c65-fb160da0071f",
		"Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
		"Global Reader":                           "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
		"Security Reader":                         "5d6b6bb7-de71-4623-b4af-96380a352509",
		"Reports Reader":                          "4a5d8f65-41da-4de4-8968-e035b65339cf",
	}
	got := map[string]string{}
	for _, r := range gatehouse.Roles {
		got[r.DisplayName] = r.ID
		if byID, ok := gatehouse.RoleByID(r.ID); !ok || byID != r {
			t.Errorf("RoleByID(%s) = %v, %v; want %v", r.ID, byID, ok, r)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("built-in roles (-Entra +Gatehouse):\n%s", diff)
	}
	if _, ok := gatehouse.RoleByID("00000000-0000-0000-0000-000000000000"); ok {
		t.Errorf("RoleByID found a role for an unknown ID")
	}
}

// TestPermissionIDs pins a few admin API permissions to Graph's IDs.
func TestPermissionIDs(t *testing.T) {
	for value, id := range map[string]string{
		"User.ReadWrite.All":                     "741f803b-c850-494e-b5df-cde7c675a1ca",
		"Group.ReadWrite.All":                    "62a82d76-70ea-41e2-9197-370581804d09",
		"Application.ReadWrite.All":              "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
		"RoleManagement.ReadWrite.Directory":     "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
		"AuditLog.Read.All":                      "b0afded3-3588-46d8-8b3d-9842eff778da",
		"Policy.Read.All":                        "246dd0d5-5bd0-4def-940b-0421030a5b68",
		"Policy.Read.ConditionalAccess":          "37730810-e9ba-4e46-b07e-8ca78d182097",
		"Policy.ReadWrite.ConditionalAccess":     "01c0a623-fc9b-48e9-b794-0756f8e8f067",
		"Policy.ReadWrite.AuthenticationMethod":  "29c18626-4985-4dcd-85c0-193eef327366",
		"UserAuthenticationMethod.Read.All":      "38d9df27-64da-44fd-b7c5-a6fbac20248f",
		"UserAuthenticationMethod.ReadWrite.All": "50483e42-d915-4231-9639-7fdb7fd190e5",
	} {
		p, ok := gatehouse.PermissionByValue(value)
		if !ok || p.ID != id {
			t.Errorf("PermissionByValue(%s) = %v, %v; want ID %s", value, p, ok, id)
		}
		if byID, ok := gatehouse.PermissionByID(id); !ok || byID.Value != value {
			t.Errorf("PermissionByID(%s) = %v, %v; want %s", id, byID, ok, value)
		}
	}
	if gatehouse.DirectoryAccessAsUser.ID != "0e263e50-5827-48a4-b97c-d940288653c7" {
		t.Errorf("Directory.AccessAsUser.All has ID %s", gatehouse.DirectoryAccessAsUser.ID)
	}
}
