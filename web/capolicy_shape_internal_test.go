package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The request bodies of Microsoft Graph's documentation, "Create
// conditionalAccessPolicy", examples 1 to 4 (v1.0), as published.
const (
	graphExample1 = `{
    "displayName": "Access to EXO requires MFA",
    "state": "enabled",
    "conditions": {
        "clientAppTypes": [
            "mobileAppsAndDesktopClients",
            "browser"
        ],
        "applications": {
            "includeApplications": [
                "00000002-0000-0ff1-ce00-000000000000"
            ]
        },
        "users": {
            "includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"]
        },
        "locations": {
            "includeLocations": [
                "All"
            ],
            "excludeLocations": [
                "AllTrusted"
            ]
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "mfa"
        ]
    }
}`
	graphExample2 = `{
    "displayName": "Block access to EXO non-trusted regions.",
    "state": "enabled",
    "conditions": {
        "clientAppTypes": [
            "all"
        ],
        "applications": {
            "includeApplications": [
                "00000002-0000-0ff1-ce00-000000000000"
            ]
        },
        "users": {
            "includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"]
        },
        "locations": {
            "includeLocations": [
                "198ad66e-87b3-4157-85a3-8a7b51794ee9"
            ]
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "block"
        ]
    }
}`
	graphExample3 = `{
    "displayName": "Demo app for documentation",
    "state": "disabled",
    "conditions": {
        "signInRiskLevels": [
            "high",
            "medium"
        ],
        "clientAppTypes": [
            "mobileAppsAndDesktopClients",
            "exchangeActiveSync",
            "other"
        ],
        "applications": {
            "includeApplications": [
                "All"
            ],
            "excludeApplications": [
                "499b84ac-1321-427f-aa17-267ca6975798",
                "00000007-0000-0000-c000-000000000000",
                "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
                "00000012-0000-0000-c000-000000000000",
                "797f4846-ba00-4fd7-ba43-dac1f8f63013",
                "05a65629-4c1b-48c1-a78b-804c4abdd4af",
                "7df0a125-d3be-4c96-aa54-591f83ff541c"
            ],
            "includeUserActions": []
        },
        "users": {
            "includeUsers": [
                "a702a13d-a437-4a07-8a7e-8c052de62dfd"
            ],
            "excludeUsers": [
                "124c5b6a-ffa5-483a-9b88-04c3fce5574a",
                "GuestsOrExternalUsers"
            ],
            "includeGroups": [],
            "excludeGroups": [],
            "includeRoles": [
                "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
                "cf1c38e5-3621-4004-a7cb-879624dced7c",
                "c4e39bd9-1100-46d3-8c65-fb160da0071f"
            ],
            "excludeRoles": [
                "b0f54661-2d74-4c50-afa3-1ec803f12efe"
            ]
        },
        "platforms": {
            "includePlatforms": [
                "all"
            ],
            "excludePlatforms": [
                "iOS",
                "windowsPhone"
            ]
        },
        "locations": {
            "includeLocations": [
                "AllTrusted"
            ],
            "excludeLocations": [
                "00000000-0000-0000-0000-000000000000",
                "d2136c9c-b049-47ae-b9cf-316e04ef7198"
            ]
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "mfa",
            "compliantDevice",
            "domainJoinedDevice",
            "approvedApplication",
            "compliantApplication"
        ],
        "customAuthenticationFactors": [],
        "termsOfUse": [
            "ce580154-086a-40fd-91df-8a60abac81a0",
            "7f29d675-caff-43e1-8a53-1b8516ed2075"
        ]
    },
    "sessionControls": {
        "applicationEnforcedRestrictions": null,
        "persistentBrowser": null,
        "cloudAppSecurity": {
            "cloudAppSecurityType": "blockDownloads",
            "isEnabled": true
        },
        "signInFrequency": {
            "value": 4,
            "type": "hours",
            "isEnabled": true
        }
    }
}`
	graphExample4 = `{
    "displayName": "Require MFA to EXO from non-compliant devices.",
    "state": "enabled",
    "conditions": {
        "applications": {
            "includeApplications": [
                "00000002-0000-0ff1-ce00-000000000000"
            ]
        },
        "users": {
            "includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"]
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "mfa"
        ]
    }
}`
	// The response of example 4, as GET returns the policy: what an
	// export from Entra holds.
	graphExample4Response = `{
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#conditionalAccess/policies/$entity",
     "id": "b3f1298e-8e93-49af-bdbf-94cf7d453ca3",
    "displayName": "Require MFA to EXO from non-compliant devices.",
    "createdDateTime": "2020-04-01T00:55:12.9571747Z",
    "modifiedDateTime": null,
    "state": "enabled",
    "sessionControls": null,
    "conditions": {
        "userRiskLevels": [],
        "signInRiskLevels": [],
        "clientAppTypes": [
            "all"
        ],
        "platforms": null,
        "locations": null,
        "times": null,
        "applications": {
            "includeApplications": [
                "00000002-0000-0ff1-ce00-000000000000"
            ],
            "excludeApplications": [],
            "includeUserActions": [],
            "includeProtectionLevels": []
        },
        "users": {
            "includeUsers": [],
            "excludeUsers": [],
            "includeGroups": [
                "ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"
            ],
            "excludeGroups": [],
            "includeRoles": [],
            "excludeRoles": []
        }
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [
            "mfa"
        ],
        "customAuthenticationFactors": [],
        "termsOfUse": []
    }
}`
)

// Policies as Entra exports them (GET of a policy built in the admin
// center): the seed's policy, phishing-resistant MFA for administrators
// with the authentication strength object GET returns, sign-in frequency
// every time for risky sign-ins, and Entra's "Block legacy
// authentication" template.
const (
	entraSeedPolicy = `{
    "id": "6e3f2d6b-3b5f-4a53-9a0b-0c6f7c1c2d3e",
    "templateId": null,
    "displayName": "Require MFA for all users",
    "createdDateTime": "2024-05-01T10:00:00.1234567Z",
    "modifiedDateTime": "2024-05-02T10:00:00Z",
    "state": "enabled",
    "conditions": {
        "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"], "servicePrincipalRiskLevels": [],
        "insiderRiskLevels": null, "platforms": null, "locations": null, "devices": null, "clientApplications": null, "authenticationFlows": null,
        "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
        "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": ["5c4e7b0e-9c8d-4b0a-8f1e-2d3c4b5a6978"], "includeRoles": [], "excludeRoles": [],
            "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('6e3f2d6b-3b5f-4a53-9a0b-0c6f7c1c2d3e')/grantControls/authenticationStrength/$entity", "authenticationStrength": null},
    "sessionControls": null
}`
	entraPhishingResistant = `{
    "id": "72976d8e-b0d4-40c1-a649-cea4eb19f4fc",
    "templateId": null,
    "displayName": "Phishing-resistant MFA for administrators",
    "createdDateTime": "2023-01-10T09:00:00Z",
    "modifiedDateTime": null,
    "state": "enabledForReportingButNotEnforced",
    "conditions": {
        "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"], "servicePrincipalRiskLevels": [], "platforms": null, "locations": null,
        "applications": {"includeApplications": ["MicrosoftAdminPortals"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": []},
        "users": {"includeUsers": [], "excludeUsers": ["124c5b6a-ffa5-483a-9b88-04c3fce5574a"], "includeGroups": [], "excludeGroups": [],
            "includeRoles": ["62e90394-69f5-4237-9190-012177145e10", "194ae4cb-b126-40b2-bd5b-6091b380977d", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"], "excludeRoles": []}
    },
    "grantControls": {
        "operator": "OR", "builtInControls": [], "customAuthenticationFactors": [], "termsOfUse": [],
        "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/conditionalAccessPolicies('72976d8e-b0d4-40c1-a649-cea4eb19f4fc')/grantControls/authenticationStrength/$entity",
        "authenticationStrength": {
            "id": "00000000-0000-0000-0000-000000000004",
            "createdDateTime": "2021-12-01T08:00:00Z", "modifiedDateTime": "2021-12-01T08:00:00Z",
            "displayName": "Phishing-resistant MFA", "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
            "policyType": "builtIn", "requirementsSatisfied": "mfa",
            "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
            "combinationConfigurations@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/conditionalAccessPolicies('72976d8e-b0d4-40c1-a649-cea4eb19f4fc')/grantControls/authenticationStrength/combinationConfigurations",
            "combinationConfigurations": []
        }
    },
    "sessionControls": {"disableResilienceDefaults": null, "applicationEnforcedRestrictions": null, "cloudAppSecurity": null, "persistentBrowser": null,
        "continuousAccessEvaluation": null, "secureSignInSession": null, "signInFrequency": null}
}`
	entraEveryTime = `{
    "displayName": "Sign-in risk requires MFA every time",
    "state": "enabled",
    "conditions": {
        "signInRiskLevels": ["high", "medium"], "clientAppTypes": ["all"],
        "applications": {"includeApplications": ["All"]},
        "users": {"includeUsers": ["All"], "excludeUsers": ["124c5b6a-ffa5-483a-9b88-04c3fce5574a"]}
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    "sessionControls": {"signInFrequency": {"value": null, "type": null, "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime", "isEnabled": true},
        "cloudAppSecurity": {"cloudAppSecurityType": "mcasConfigured", "isEnabled": false}, "disableResilienceDefaults": false}
}`
	entraBlockLegacy = `{
    "displayName": "Block legacy authentication",
    "state": "enabled",
    "conditions": {
        "clientAppTypes": ["exchangeActiveSync", "other"],
        "applications": {"includeApplications": ["All"]},
        "users": {"includeUsers": ["All"]}
    },
    "grantControls": {"operator": "OR", "builtInControls": ["block"]}
}`
)

// applyPolicy decodes body as a handler would and applies it to base (a
// new policy when nil).
func applyPolicy(t *testing.T, body string, base *gatehouse.Policy) (*gatehouse.Policy, error) {
	t.Helper()
	var in caPolicyInput
	d, err := decodeBytes([]byte(body), &in)
	if err != nil {
		return nil, err
	}
	create := base == nil
	p := base
	if create {
		p = newCAPolicy("tenant-1")
	} else {
		p = base.Clone()
	}
	if err := in.apply(p, d, create); err != nil {
		return nil, err
	}
	return p, nil
}

// fieldOf returns the field an EINVALID error names, failing the test for
// another error.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) || e.Code != gatehouse.EINVALID {
		t.Fatalf("got %v, want an EINVALID error", err)
	}
	return e.Field
}

// TestGraphExamplesImport checks that Microsoft Graph's documented
// example policies, and policies as Entra exports them, import with the
// meaning they have in Entra.
func TestGraphExamplesImport(t *testing.T) {
	const exo, group = "00000002-0000-0ff1-ce00-000000000000", "ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"
	mfa := &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlMFA}}
	for _, tc := range []struct {
		name string
		body string
		want gatehouse.Policy
	}{
		{"Example1MFAOutsideTrusted", graphExample1, gatehouse.Policy{DisplayName: "Access to EXO requires MFA", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeGroups: []string{group}},
				Applications: gatehouse.ApplicationConditions{Include: []string{exo}}, ClientAppTypes: []string{gatehouse.ClientMobileDesktop, gatehouse.ClientBrowser},
				Locations: &gatehouse.IncludeExclude{Include: []string{gatehouse.ConditionAll}, Exclude: []string{gatehouse.ConditionAllTrusted}}},
			Grant: mfa}},
		{"Example2BlockRegions", graphExample2, gatehouse.Policy{DisplayName: "Block access to EXO non-trusted regions.", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeGroups: []string{group}},
				Applications: gatehouse.ApplicationConditions{Include: []string{exo}}, ClientAppTypes: []string{gatehouse.ClientAll},
				Locations: &gatehouse.IncludeExclude{Include: []string{"198ad66e-87b3-4157-85a3-8a7b51794ee9"}}},
			Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlBlock}}}},
		{"Example4MFAForGroup", graphExample4, gatehouse.Policy{DisplayName: "Require MFA to EXO from non-compliant devices.", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeGroups: []string{group}},
				Applications: gatehouse.ApplicationConditions{Include: []string{exo}}, ClientAppTypes: []string{gatehouse.ClientAll}},
			Grant: mfa}},
		{"Example4AsExported", graphExample4Response, gatehouse.Policy{DisplayName: "Require MFA to EXO from non-compliant devices.", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeGroups: []string{group}},
				Applications: gatehouse.ApplicationConditions{Include: []string{exo}}, ClientAppTypes: []string{gatehouse.ClientAll}},
			Grant: mfa}},
		{"SeedPolicyAsExported", entraSeedPolicy, gatehouse.Policy{DisplayName: "Require MFA for all users", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeGroups: []string{"5c4e7b0e-9c8d-4b0a-8f1e-2d3c4b5a6978"}},
				Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}}, ClientAppTypes: []string{gatehouse.ClientAll}},
			Grant: mfa}},
		{"PhishingResistantAsExported", entraPhishingResistant, gatehouse.Policy{DisplayName: "Phishing-resistant MFA for administrators", State: gatehouse.PolicyReportOnly,
			Conditions: gatehouse.PolicyConditions{
				Users: gatehouse.UserConditions{ExcludeUsers: []string{"124c5b6a-ffa5-483a-9b88-04c3fce5574a"},
					IncludeRoles: []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleSecurityAdministrator, gatehouse.RoleConditionalAccessAdministrator}},
				Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAdminPortals}}, ClientAppTypes: []string{gatehouse.ClientAll}},
			Grant: &gatehouse.GrantControls{Operator: "OR", Strength: gatehouse.StrengthPhishingResistant}}},
		{"EveryTimeForRiskySignIns", entraEveryTime, gatehouse.Policy{DisplayName: "Sign-in risk requires MFA every time", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}, ExcludeUsers: []string{"124c5b6a-ffa5-483a-9b88-04c3fce5574a"}},
				Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}}, ClientAppTypes: []string{gatehouse.ClientAll},
				SignInRisk: []gatehouse.RiskLevel{gatehouse.RiskHigh, gatehouse.RiskMedium}},
			Grant: mfa, Session: &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{EveryTime: true}}}},
		{"BlockLegacyAuthentication", entraBlockLegacy, gatehouse.Policy{DisplayName: "Block legacy authentication", State: gatehouse.PolicyEnabled,
			Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
				Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}}, ClientAppTypes: []string{gatehouse.ClientExchangeActiveSync, gatehouse.ClientOther}},
			Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{gatehouse.ControlBlock}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyPolicy(t, tc.body, nil)
			if err != nil {
				t.Fatalf("import refused: %v", err)
			}
			tc.want.TenantID = "tenant-1"
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("imported policy (-want +got):\n%s", diff)
			}
			// What GET returns imports back to the same policy.
			again, err := applyPolicy(t, graphJSON(t, toGraphCAPolicy(got)), nil)
			if err != nil {
				t.Fatalf("Gatehouse's own export refused: %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("export and import again (-first +second):\n%s", diff)
			}
		})
	}
}

// graphJSON marshals v as the API encodes it.
func graphJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGraphExample3IsRefusedByName peels Graph's example 3, which uses
// everything Entra has, property by property: each refusal names what
// Gatehouse cannot honour, and once those are gone the rest imports.
func TestGraphExample3IsRefusedByName(t *testing.T) {
	var body map[string]any
	if err := json.Unmarshal([]byte(graphExample3), &body); err != nil {
		t.Fatal(err)
	}
	obj := func(path ...string) map[string]any {
		m := body
		for _, k := range path {
			m = m[k].(map[string]any)
		}
		return m
	}
	for _, step := range []struct {
		field string
		fix   func()
	}{
		{"grantControls.termsOfUse", func() { delete(obj("grantControls"), "termsOfUse") }},
		{"sessionControls.cloudAppSecurity", func() { delete(obj("sessionControls"), "cloudAppSecurity") }},
		{"conditions.users.excludeUsers[1]", func() { obj("conditions", "users")["excludeUsers"] = []string{"124c5b6a-ffa5-483a-9b88-04c3fce5574a"} }},
		// cf1c38e5 is Entra's Application Developer, which Gatehouse has not.
		{"conditions.users.includeRoles[1]", func() {
			obj("conditions", "users")["includeRoles"] = []string{gatehouse.RoleApplicationAdministrator, gatehouse.RoleAuthenticationAdministrator}
		}},
		{"conditions.users.excludeRoles[0]", func() { delete(obj("conditions", "users"), "excludeRoles") }},
		{"conditions.locations.excludeLocations[0]", func() {
			obj("conditions", "locations")["excludeLocations"] = []string{"d2136c9c-b049-47ae-b9cf-316e04ef7198"}
		}},
		{"grantControls.builtInControls[1]", func() { obj("grantControls")["builtInControls"] = []string{"mfa"} }},
	} {
		_, err := applyPolicy(t, graphJSON(t, body), nil)
		if err == nil {
			t.Fatalf("example 3 imported while it still had %s", step.field)
		}
		if got := fieldOf(t, err); got != step.field {
			t.Fatalf("refusal names %q (%v), want %q", got, err, step.field)
		}
		step.fix()
	}
	p, err := applyPolicy(t, graphJSON(t, body), nil)
	if err != nil {
		t.Fatalf("example 3 without what Gatehouse lacks was refused: %v", err)
	}
	if p.Session == nil || p.Session.SignInFrequency.Duration() != 4*time.Hour || p.Conditions.Platforms == nil ||
		!cmp.Equal(p.Conditions.Platforms.Exclude, []string{gatehouse.PlatformIOS, gatehouse.PlatformWindowsPhone}) {
		t.Errorf("imported %+v", p)
	}
}

// TestCAPolicyRefusals checks that what Gatehouse cannot honour is
// refused naming the property, and what Entra returns empty for it is
// accepted.
func TestCAPolicyRefusals(t *testing.T) {
	with := func(conditions, rest string) string {
		if conditions == "" {
			conditions = `"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}`
		}
		if rest == "" {
			rest = `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}`
		}
		return `{"displayName": "P", "state": "enabled", "conditions": {` + conditions + `}, ` + rest + `}`
	}
	base := `"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}, `
	for _, tc := range []struct {
		name, body, field string // field "" for accepted
	}{
		{"DeviceFilter", with(base+`"devices": {"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}}`, ""), "conditions.devices"},
		{"EmptyDevices", with(base+`"devices": {"includeDevices": [], "excludeDevices": [], "deviceFilter": null}`, ""), ""},
		{"Guests", with(`"users": {"includeUsers": ["GuestsOrExternalUsers"]}, "applications": {"includeApplications": ["All"]}`, ""), "conditions.users.includeUsers[0]"},
		{"GuestTypes", with(`"users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest"}, "includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}`, ""),
			"conditions.users.includeGuestsOrExternalUsers"},
		{"UserActions", with(`"users": {"includeUsers": ["All"]}, "applications": {"includeUserActions": ["urn:user:registersecurityinfo"]}`, ""), "conditions.applications.includeUserActions"},
		{"AuthenticationContexts", with(`"users": {"includeUsers": ["All"]}, "applications": {"includeAuthenticationContextClassReferences": ["c1"]}`, ""),
			"conditions.applications.includeAuthenticationContextClassReferences"},
		{"ApplicationFilter", with(`"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"], "applicationFilter": {"mode": "include", "rule": "x"}}`, ""),
			"conditions.applications.applicationFilter"},
		{"Office365", with(`"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["Office365"]}`, ""), "conditions.applications.includeApplications[0]"},
		{"InsiderRisk", with(base+`"insiderRiskLevels": "minor"`, ""), "conditions.insiderRiskLevels"},
		{"AuthenticationFlows", with(base+`"authenticationFlows": {"transferMethods": "deviceCodeFlow"}`, ""), "conditions.authenticationFlows"},
		{"ClientApplications", with(base+`"clientApplications": {"includeServicePrincipals": ["ServicePrincipalsInMyTenant"]}`, ""), "conditions.clientApplications"},
		{"ServicePrincipalRisk", with(base+`"servicePrincipalRiskLevels": ["high"]`, ""), "conditions.servicePrincipalRiskLevels"},
		{"HiddenRisk", with(base+`"signInRiskLevels": ["hidden"]`, ""), "conditions.signInRiskLevels[0]"},
		{"UnknownPlatform", with(base+`"platforms": {"includePlatforms": ["tizen"]}`, ""), "conditions.platforms.includePlatforms[0]"},
		{"MFATrustedIPs", with(base+`"locations": {"includeLocations": ["00000000-0000-0000-0000-000000000000"]}`, ""), "conditions.locations.includeLocations[0]"},
		{"EmptyClientAppTypes", with(base+`"clientAppTypes": []`, ""), "conditions.clientAppTypes"},
		{"NoUsers", with(`"users": {}, "applications": {"includeApplications": ["All"]}`, ""), "conditions.users.includeUsers"},
		{"NoApplications", with(`"users": {"includeUsers": ["All"]}, "applications": {}`, ""), "conditions.applications.includeApplications"},
		{"UsersMissing", `{"displayName": "P", "state": "enabled", "conditions": {"applications": {"includeApplications": ["All"]}}, "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}`, "conditions.users"},
		{"CompliantDevice", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}`), "grantControls.builtInControls[1]"},
		{"ApprovedApplication", with("", `"grantControls": {"operator": "OR", "builtInControls": ["approvedApplication"]}`), "grantControls.builtInControls[0]"},
		{"TermsOfUse", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"], "termsOfUse": ["ce580154-086a-40fd-91df-8a60abac81a0"]}`), "grantControls.termsOfUse"},
		{"CustomControls", with("", `"grantControls": {"operator": "OR", "customAuthenticationFactors": ["Duo"]}`), "grantControls.customAuthenticationFactors"},
		{"CustomStrength", with("", `"grantControls": {"operator": "OR", "authenticationStrength": {"id": "11111111-2222-3333-4444-555555555555"}}`), "grantControls.authenticationStrength.id"},
		{"MFAWithStrength", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"], "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}}`), "grantControls.authenticationStrength"},
		{"BlockWithMFA", with("", `"grantControls": {"operator": "OR", "builtInControls": ["block", "mfa"]}`), "grantControls.builtInControls"},
		{"PasswordChangeAlone", with(base+`"userRiskLevels": ["high"]`, `"grantControls": {"operator": "OR", "builtInControls": ["passwordChange"]}`), "grantControls.builtInControls"},
		{"PasswordChangeWithoutUserRisk", with("", `"grantControls": {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}`), "conditions.userRiskLevels"},
		{"PasswordChange", with(base+`"userRiskLevels": ["high"]`, `"grantControls": {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}`), ""},
		{"NoOperator", with("", `"grantControls": {"builtInControls": ["mfa"]}`), "grantControls.operator"},
		{"NoControls", with("", `"grantControls": null`), "grantControls"},
		{"EmptyGrant", with("", `"grantControls": {"operator": "OR", "builtInControls": []}`), "grantControls.builtInControls"},
		{"AppEnforced", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"applicationEnforcedRestrictions": {"isEnabled": true}}`), "sessionControls.applicationEnforcedRestrictions"},
		{"AppEnforcedOff", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"applicationEnforcedRestrictions": {"isEnabled": false}}`), ""},
		{"ContinuousAccessEvaluation", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"continuousAccessEvaluation": {"mode": "strictEnforcement"}}`), "sessionControls.continuousAccessEvaluation"},
		{"DisableResilienceDefaults", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"disableResilienceDefaults": true}`), "sessionControls.disableResilienceDefaults"},
		{"SecureSignInSession", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"secureSignInSession": {"isEnabled": true}}`), "sessionControls.secureSignInSession"},
		{"SecondaryAuthenticationOnly", with("", `"sessionControls": {"signInFrequency": {"value": 1, "type": "hours", "authenticationType": "secondaryAuthentication", "isEnabled": true}}`), "sessionControls.signInFrequency.authenticationType"},
		{"FrequencyTooLong", with("", `"sessionControls": {"signInFrequency": {"value": 24, "type": "hours", "isEnabled": true}}`), "sessionControls.signInFrequency.value"},
		{"FrequencyDays", with("", `"sessionControls": {"signInFrequency": {"value": 30, "type": "days", "isEnabled": true}}`), ""},
		{"FrequencyOff", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "sessionControls": {"signInFrequency": {"value": 30, "type": "days", "isEnabled": false}}`), ""},
		{"EveryTimeWithValue", with("", `"sessionControls": {"signInFrequency": {"value": 1, "type": "hours", "frequencyInterval": "everyTime", "isEnabled": true}}`), "sessionControls.signInFrequency.value"},
		{"FrequencyWithoutValue", with("", `"sessionControls": {"signInFrequency": {"isEnabled": true}}`), "sessionControls.signInFrequency.value"},
		{"PersistentBrowserForOneApp", with(`"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]}`,
			`"sessionControls": {"persistentBrowser": {"mode": "never", "isEnabled": true}}`), "sessionControls.persistentBrowser"},
		{"PersistentBrowserNever", with("", `"sessionControls": {"persistentBrowser": {"mode": "never", "isEnabled": true}}`), ""},
		{"PersistentBrowserSometimes", with("", `"sessionControls": {"persistentBrowser": {"mode": "sometimes", "isEnabled": true}}`), "sessionControls.persistentBrowser.mode"},
		{"UnknownProperty", with("", `"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}, "favouriteColour": "green"`), "favouriteColour"},
		{"UnknownNestedProperty", with(base+`"riskLevels": []`, ""), "conditions.riskLevels"},
		{"BadState", `{"displayName": "P", "state": "on", "conditions": {` + base + `"clientAppTypes": ["all"]}, "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}`, "state"},
		{"NoDisplayName", `{"state": "enabled", "conditions": {` + base + `"clientAppTypes": ["all"]}, "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}`, "displayName"},
		{"NullDisplayName", `{"displayName": null, "state": "enabled", "conditions": {` + base + `"clientAppTypes": ["all"]}}`, "displayName"},
		{"NullConditions", `{"displayName": "P", "state": "enabled", "conditions": null}`, "conditions"},
		{"NotAGUID", with(`"users": {"includeUsers": ["ada@example.com"]}, "applications": {"includeApplications": ["All"]}`, ""), "conditions.users.includeUsers[0]"},
		{"AllWithOthers", with(`"users": {"includeUsers": ["All", "124c5b6a-ffa5-483a-9b88-04c3fce5574a"]}, "applications": {"includeApplications": ["All"]}`, ""), "conditions.users.includeUsers[0]"},
		{"KeywordsAnyCase", with(`"users": {"includeUsers": ["all"]}, "applications": {"includeApplications": ["microsoftadminportals"]}, "platforms": {"includePlatforms": ["IOS"]}`, ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyPolicy(t, tc.body, nil)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && err == nil:
				t.Fatalf("accepted, want a refusal naming %s", tc.field)
			case tc.field != "":
				if got := fieldOf(t, err); got != tc.field {
					t.Errorf("refusal names %q (%v), want %q", got, err, tc.field)
				}
				if msg := gatehouse.ErrorMessage(err); !strings.Contains(msg, strings.SplitN(tc.field, "[", 2)[0]) && !strings.Contains(msg, "Property") {
					t.Errorf("message %q does not name %s", msg, tc.field)
				}
			}
		})
	}
}

// TestCAPolicyPatch checks PATCH: what the body leaves out stays, at
// every depth; null clears what may be cleared; read-only properties.
func TestCAPolicyPatch(t *testing.T) {
	stored, err := applyPolicy(t, graphExample1, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored.ID = "7359d0e0-d8a9-4afa-8a93-e23e099d7be8"
	stored.Session = &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 4, Type: "hours"}}
	for _, tc := range []struct {
		name   string
		body   string
		change func(p *gatehouse.Policy)
		field  string
	}{
		// Graph's documented update example (without its stray comma).
		{"GraphExample", `{"conditions": {"signInRiskLevels": ["high", "medium", "low"]}}`, func(p *gatehouse.Policy) {
			p.Conditions.SignInRisk = []gatehouse.RiskLevel{gatehouse.RiskHigh, gatehouse.RiskMedium, gatehouse.RiskLow}
		}, ""},
		{"State", `{"state": "enabledForReportingButNotEnforced"}`, func(p *gatehouse.Policy) { p.State = gatehouse.PolicyReportOnly }, ""},
		{"OneUserList", `{"conditions": {"users": {"excludeUsers": ["124c5b6a-ffa5-483a-9b88-04c3fce5574a"]}}}`, func(p *gatehouse.Policy) {
			p.Conditions.Users.ExcludeUsers = []string{"124c5b6a-ffa5-483a-9b88-04c3fce5574a"}
		}, ""},
		{"ClearAList", `{"conditions": {"locations": {"excludeLocations": null}}}`, func(p *gatehouse.Policy) { p.Conditions.Locations.Exclude = nil }, ""},
		{"ClearLocations", `{"conditions": {"locations": null}}`, func(p *gatehouse.Policy) { p.Conditions.Locations = nil }, ""},
		{"AddPlatforms", `{"conditions": {"platforms": {"includePlatforms": ["android"]}}}`, func(p *gatehouse.Policy) {
			p.Conditions.Platforms = &gatehouse.IncludeExclude{Include: []string{gatehouse.PlatformAndroid}}
		}, ""},
		{"ClearSession", `{"sessionControls": null}`, func(p *gatehouse.Policy) { p.Session = nil }, ""},
		{"FrequencyValueOnly", `{"sessionControls": {"signInFrequency": {"value": 8}}}`, func(p *gatehouse.Policy) { p.Session.SignInFrequency.Value = 8 }, ""},
		{"FrequencyEveryTime", `{"sessionControls": {"signInFrequency": {"frequencyInterval": "everyTime", "value": null, "type": null}}}`, func(p *gatehouse.Policy) {
			p.Session.SignInFrequency = &gatehouse.SignInFrequency{EveryTime: true}
		}, ""},
		{"SessionOffLeavesNoSession", `{"sessionControls": {"signInFrequency": {"isEnabled": false}}}`, func(p *gatehouse.Policy) { p.Session = nil }, ""},
		{"ToStrength", `{"grantControls": {"builtInControls": [], "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000003"}}}`, func(p *gatehouse.Policy) {
			p.Grant = &gatehouse.GrantControls{Operator: "OR", Strength: gatehouse.StrengthPasswordless}
		}, ""},
		{"SameID", `{"id": "7359D0E0-D8A9-4AFA-8A93-E23E099D7BE8", "displayName": "Renamed"}`, func(p *gatehouse.Policy) { p.DisplayName = "Renamed" }, ""},
		{"OtherID", `{"id": "00000000-0000-4000-8000-000000000000"}`, nil, "id"},
		{"ClearGrantLeavesSession", `{"grantControls": null}`, func(p *gatehouse.Policy) { p.Grant = nil }, ""},
		{"ClearBoth", `{"grantControls": null, "sessionControls": null}`, nil, "grantControls"},
		{"NullUsers", `{"conditions": {"users": null}}`, nil, "conditions.users"},
		{"NullState", `{"state": null}`, nil, "state"},
		{"EmptyIncludeApplications", `{"conditions": {"applications": {"includeApplications": []}}}`, nil, "conditions.applications.includeApplications"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyPolicy(t, tc.body, stored)
			if tc.field != "" {
				if err == nil {
					t.Fatalf("accepted, want a refusal naming %s", tc.field)
				}
				if f := fieldOf(t, err); f != tc.field {
					t.Errorf("refusal names %q (%v), want %q", f, err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want := stored.Clone()
			tc.change(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("patched (-want +got):\n%s", diff)
			}
		})
	}
	if stored.Conditions.Locations == nil || stored.Session == nil {
		t.Error("a PATCH changed the stored policy it was applied to")
	}
}

// TestToGraphCAPolicy checks the Graph shape of a stored policy: Graph's
// property names, empty lists rather than null, null for what is not
// configured, the built-in strength as an object, times in UTC.
func TestToGraphCAPolicy(t *testing.T) {
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := &gatehouse.Policy{ID: "p1", DisplayName: "Strong", State: gatehouse.PolicyEnabled, CreatedAt: created,
		Conditions: gatehouse.PolicyConditions{Users: gatehouse.UserConditions{IncludeUsers: []string{gatehouse.ConditionAll}},
			Applications: gatehouse.ApplicationConditions{Include: []string{gatehouse.ConditionAll}}, ClientAppTypes: []string{gatehouse.ClientAll},
			Platforms: &gatehouse.IncludeExclude{Include: []string{gatehouse.PlatformAll}}},
		Grant:   &gatehouse.GrantControls{Operator: "OR", Strength: gatehouse.StrengthPhishingResistant},
		Session: &gatehouse.SessionControls{SignInFrequency: &gatehouse.SignInFrequency{Value: 2, Type: "days"}, PersistentBrowser: gatehouse.PersistentNever}}
	var got map[string]any
	if err := json.Unmarshal([]byte(graphJSON(t, toGraphCAPolicy(p))), &got); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"id": "p1", "createdDateTime": "2026-03-01T12:00:00Z", "modifiedDateTime": nil, "templateId": nil,
		"conditions.locations": nil, "conditions.devices": nil, "conditions.signInRiskLevels": []any{},
		"conditions.platforms.includePlatforms": []any{"all"}, "conditions.platforms.excludePlatforms": []any{},
		"conditions.users.excludeGroups": []any{}, "conditions.applications.includeUserActions": []any{},
		"grantControls.builtInControls": []any{}, "grantControls.termsOfUse": []any{},
		"grantControls.authenticationStrength.id":         gatehouse.StrengthPhishingResistant,
		"grantControls.authenticationStrength.policyType": "builtIn",
		"sessionControls.signInFrequency.value":           float64(2), "sessionControls.signInFrequency.type": "days",
		"sessionControls.signInFrequency.frequencyInterval": "timeBased", "sessionControls.signInFrequency.isEnabled": true,
		"sessionControls.persistentBrowser.mode": "never", "sessionControls.cloudAppSecurity": nil,
	} {
		var v any = got
		for _, k := range strings.Split(path, ".") {
			v = v.(map[string]any)[k]
		}
		if diff := cmp.Diff(want, v, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}

// The requests of Graph's documentation, "Create namedLocation",
// examples 1 and 2.
const (
	graphIPLocation = `{
    "@odata.type": "#microsoft.graph.ipNamedLocation",
    "displayName": "Untrusted IP named location",
    "isTrusted": false,
    "ipRanges": [
        {
            "@odata.type": "#microsoft.graph.iPv4CidrRange",
            "cidrAddress": "12.34.221.11/22"
        },
        {
            "@odata.type": "#microsoft.graph.iPv6CidrRange",
            "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"
        }
    ]
}`
	graphCountryLocation = `{
    "@odata.type": "#microsoft.graph.countryNamedLocation",
    "displayName": "Named location with unknown countries and regions",
    "countriesAndRegions": [
        "US",
        "GB"
    ],
    "includeUnknownCountriesAndRegions": true
}`
)

func applyLocation(t *testing.T, body string, base *gatehouse.NamedLocation) (*gatehouse.NamedLocation, error) {
	t.Helper()
	var in namedLocationInput
	d, err := decodeBytes([]byte(body), &in)
	if err != nil {
		return nil, err
	}
	l := &gatehouse.NamedLocation{TenantID: "tenant-1"}
	if base != nil {
		l = base.Clone()
	}
	if err := in.apply(l, d, base == nil); err != nil {
		return nil, err
	}
	return l, nil
}

// TestNamedLocationShape checks Graph's named location examples import,
// come back as Graph shows them, and what is wrong is refused by name.
func TestNamedLocationShape(t *testing.T) {
	ip, err := applyLocation(t, graphIPLocation, nil)
	if err != nil {
		t.Fatalf("ipNamedLocation refused: %v", err)
	}
	want := &gatehouse.NamedLocation{TenantID: "tenant-1", DisplayName: "Untrusted IP named location", Kind: gatehouse.LocationIP,
		IPRanges: []string{"12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63"}}
	if diff := cmp.Diff(want, ip); diff != "" {
		t.Errorf("ipNamedLocation (-want +got):\n%s", diff)
	}
	country, err := applyLocation(t, graphCountryLocation, nil)
	if err != nil {
		t.Fatalf("countryNamedLocation refused: %v", err)
	}
	if !country.IncludeUnknown || !cmp.Equal(country.Countries, []string{"US", "GB"}) || country.Kind != gatehouse.LocationCountry {
		t.Errorf("countryNamedLocation = %+v", country)
	}
	// Graph's response bodies of the examples, but for id and times.
	for _, tc := range []struct {
		l    *gatehouse.NamedLocation
		body string
	}{{ip, graphIPLocation}, {country, graphCountryLocation}} {
		var got, wantShape map[string]any
		json.Unmarshal([]byte(graphJSON(t, toGraphNamedLocation(tc.l))), &got)
		json.Unmarshal([]byte(tc.body), &wantShape)
		for _, k := range []string{"id", "createdDateTime", "modifiedDateTime", "countryLookupMethod"} {
			delete(got, k)
		}
		if diff := cmp.Diff(wantShape, got); diff != "" {
			t.Errorf("Graph shape (-request +returned):\n%s", diff)
		}
		if _, err := applyLocation(t, graphJSON(t, toGraphNamedLocation(tc.l)), tc.l); err != nil {
			t.Errorf("GET body PATCHed back: %v", err)
		}
	}

	for _, tc := range []struct{ name, body, field string }{
		{"NoType", `{"displayName": "x", "countriesAndRegions": ["US"]}`, "@odata.type"},
		{"UnknownType", `{"@odata.type": "#microsoft.graph.compliantNetworkNamedLocation", "displayName": "x"}`, "@odata.type"},
		{"GPS", `{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": ["US"], "countryLookupMethod": "authenticatorAppGps"}`, "countryLookupMethod"},
		{"NotACountry", `{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": ["US", "XX"]}`, "countriesAndRegions[1]"},
		{"NoCountries", `{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x"}`, "countriesAndRegions"},
		{"TrustedCountry", `{"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x", "countriesAndRegions": ["US"], "isTrusted": true}`, "isTrusted"},
		{"CountriesOfAnIPLocation", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"cidrAddress": "10.0.0.0/8"}], "countriesAndRegions": ["US"]}`, "countriesAndRegions"},
		{"RangeTooLarge", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"cidrAddress": "0.0.0.0/0"}]}`, "ipRanges[0].cidrAddress"},
		{"NotARange", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"cidrAddress": "10.0.0.1"}]}`, "ipRanges[0].cidrAddress"},
		{"WrongRangeType", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "2001:db8::/48"}]}`, "ipRanges[0].@odata.type"},
		{"SameRangeTwice", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": [{"cidrAddress": "10.0.0.0/8"}, {"cidrAddress": "10.1.0.0/8"}]}`, "ipRanges[1].cidrAddress"},
		{"NoRanges", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "ipRanges": []}`, "ipRanges"},
		{"NoName", `{"@odata.type": "#microsoft.graph.ipNamedLocation", "ipRanges": [{"cidrAddress": "10.0.0.0/8"}]}`, "displayName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyLocation(t, tc.body, nil)
			if err == nil {
				t.Fatalf("accepted, want a refusal naming %s", tc.field)
			}
			if f := fieldOf(t, err); f != tc.field {
				t.Errorf("refusal names %q (%v), want %q", f, err, tc.field)
			}
		})
	}
	// A PATCH keeps the type and changes only what it sends.
	if _, err := applyLocation(t, `{"@odata.type": "#microsoft.graph.countryNamedLocation"}`, ip); fieldOf(t, err) != "@odata.type" {
		t.Errorf("changing the type: %v", err)
	}
	got, err := applyLocation(t, `{"isTrusted": true}`, ip)
	if err != nil || !got.Trusted || !cmp.Equal(got.IPRanges, ip.IPRanges) {
		t.Errorf("PATCH isTrusted = %+v, %v", got, err)
	}
	if _, err := applyLocation(t, `{"countriesAndRegions": ["FR"]}`, ip); fieldOf(t, err) != "countriesAndRegions" {
		t.Errorf("countries on an IP location: %v", err)
	}
}
