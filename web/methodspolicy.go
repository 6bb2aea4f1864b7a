package web

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The authentication methods policy in Graph's shape:
// /policies/authenticationMethodsPolicy and its
// authenticationMethodConfigurations, one per method. Gatehouse's
// recovery codes are an extension with an ID of their own.

// methodsPolicyID is the one policy's id, as Graph has it.
const methodsPolicyID = "authenticationMethodsPolicy"

// graphMethodIDs are the configuration IDs Graph uses, by method.
var graphMethodIDs = map[string]string{
	gatehouse.MethodEmail:        "Email",
	gatehouse.MethodSMS:          "Sms",
	gatehouse.MethodSoftwareOath: "SoftwareOath",
	gatehouse.MethodFido2:        "Fido2",
	gatehouse.MethodRecoveryCode: "RecoveryCode",
}

var graphMethodTypes = map[string]string{
	gatehouse.MethodEmail:        "#microsoft.graph.emailAuthenticationMethodConfiguration",
	gatehouse.MethodSMS:          "#microsoft.graph.smsAuthenticationMethodConfiguration",
	gatehouse.MethodSoftwareOath: "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
	gatehouse.MethodFido2:        "#microsoft.graph.fido2AuthenticationMethodConfiguration",
	gatehouse.MethodRecoveryCode: "#gatehouse.recoveryCodeAuthenticationMethodConfiguration",
}

// methodByGraphID returns the method a configuration ID names, matched
// case-insensitively as Graph does ("fido2", "Fido2").
func methodByGraphID(id string) (string, bool) {
	for m, gid := range graphMethodIDs {
		if strings.EqualFold(gid, id) {
			return m, true
		}
	}
	return "", false
}

// graphMethodsPolicy is Graph's authenticationMethodsPolicy.
type graphMethodsPolicy struct {
	ID                                 string              `json:"id"`
	DisplayName                        string              `json:"displayName"`
	Description                        string              `json:"description"`
	LastModifiedDateTime               *string             `json:"lastModifiedDateTime"`
	PolicyVersion                      string              `json:"policyVersion"`
	PolicyMigrationState               string              `json:"policyMigrationState"`
	RegistrationEnforcement            graphRegistration   `json:"registrationEnforcement"`
	AuthenticationMethodConfigurations []graphMethodConfig `json:"authenticationMethodConfigurations"`
}

// graphRegistration is Graph's registrationEnforcement. Gatehouse runs no
// registration campaign (users register just in time, when a sign-in
// needs a second factor), so its state is always "disabled".
type graphRegistration struct {
	Campaign graphCampaign `json:"authenticationMethodsRegistrationCampaign"`
}

type graphCampaign struct {
	State          string        `json:"state"`
	IncludeTargets []graphTarget `json:"includeTargets"`
	ExcludeTargets []graphTarget `json:"excludeTargets"`
}

// graphMethodConfig is one authenticationMethodConfiguration; the
// properties of one method only are pointers, set for that method.
type graphMethodConfig struct {
	ODataType      string        `json:"@odata.type"`
	ID             string        `json:"id"`
	State          string        `json:"state"`
	IncludeTargets []graphTarget `json:"includeTargets"`
	ExcludeTargets []graphTarget `json:"excludeTargets"`
	// Email.
	AllowExternalIDToUseEmailOtp *string `json:"allowExternalIdToUseEmailOtp,omitempty"`
	// Fido2.
	IsSelfServiceRegistrationAllowed *bool                 `json:"isSelfServiceRegistrationAllowed,omitempty"`
	IsAttestationEnforced            *bool                 `json:"isAttestationEnforced,omitempty"`
	KeyRestrictions                  *graphKeyRestrictions `json:"keyRestrictions,omitempty"`
}

// graphTarget is an includeTarget or excludeTarget. isRegistrationRequired
// is shown on include targets only, isUsableForSignIn on SMS's only.
type graphTarget struct {
	TargetType             string `json:"targetType"`
	ID                     string `json:"id"`
	IsRegistrationRequired *bool  `json:"isRegistrationRequired,omitempty"`
	IsUsableForSignIn      *bool  `json:"isUsableForSignIn,omitempty"`
}

type graphKeyRestrictions struct {
	IsEnforced      bool     `json:"isEnforced"`
	EnforcementType string   `json:"enforcementType"`
	AAGUIDs         []string `json:"aaGuids"`
}

func toGraphMethodsPolicy(p *gatehouse.MethodsPolicy) graphMethodsPolicy {
	out := graphMethodsPolicy{
		ID: methodsPolicyID, DisplayName: "Authentication Methods Policy",
		Description:          "The tenant-wide policy that controls which authentication methods users may register and use as a second factor.",
		PolicyVersion:        "1.5",
		PolicyMigrationState: "migrationComplete",
		RegistrationEnforcement: graphRegistration{Campaign: graphCampaign{State: "disabled",
			IncludeTargets: []graphTarget{}, ExcludeTargets: []graphTarget{}}},
	}
	if !p.UpdatedAt.IsZero() {
		t := graphTime(p.UpdatedAt)
		out.LastModifiedDateTime = &t
	}
	for _, m := range gatehouse.PolicyMethods {
		out.AuthenticationMethodConfigurations = append(out.AuthenticationMethodConfigurations, toGraphMethodConfig(p.Config(m)))
	}
	return out
}

func toGraphMethodConfig(c gatehouse.MethodConfig) graphMethodConfig {
	no := false
	out := graphMethodConfig{ODataType: graphMethodTypes[c.Method], ID: graphMethodIDs[c.Method], State: "disabled",
		IncludeTargets: []graphTarget{}, ExcludeTargets: []graphTarget{}}
	if c.Enabled {
		out.State = "enabled"
	}
	for _, id := range c.Include {
		t := graphTarget{TargetType: "group", ID: id, IsRegistrationRequired: &no}
		if c.Method == gatehouse.MethodSMS {
			t.IsUsableForSignIn = &no
		}
		out.IncludeTargets = append(out.IncludeTargets, t)
	}
	for _, id := range c.Exclude {
		out.ExcludeTargets = append(out.ExcludeTargets, graphTarget{TargetType: "group", ID: id})
	}
	switch c.Method {
	case gatehouse.MethodEmail:
		v := "enabled"
		out.AllowExternalIDToUseEmailOtp = &v
	case gatehouse.MethodFido2:
		self := c.SelfServiceRegistration
		out.IsSelfServiceRegistrationAllowed, out.IsAttestationEnforced = &self, &no
		kr := graphKeyRestrictions{EnforcementType: "block", AAGUIDs: []string{}}
		if k := c.KeyRestrictions; k != nil {
			kr.IsEnforced, kr.AAGUIDs = k.Enforced, slices.Clone(k.AAGUIDs)
			if k.Allow {
				kr.EnforcementType = "allow"
			}
		}
		out.KeyRestrictions = &kr
	}
	return out
}

// methodsPolicyInput is what PATCH /policies/authenticationMethodsPolicy
// accepts: the read-only properties as GET returns them, and the two
// settings Gatehouse has only one value of.
type methodsPolicyInput struct {
	ID                      *string            `json:"id"`
	DisplayName             *string            `json:"displayName"`
	Description             *string            `json:"description"`
	LastModifiedDateTime    *string            `json:"lastModifiedDateTime"`
	PolicyVersion           *string            `json:"policyVersion"`
	PolicyMigrationState    *string            `json:"policyMigrationState"`
	RegistrationEnforcement *registrationInput `json:"registrationEnforcement"`
	// authenticationMethodConfigurations are changed one by one.
	AuthenticationMethodConfigurations []methodConfigInput `json:"authenticationMethodConfigurations"`
}

type registrationInput struct {
	Campaign *campaignInput `json:"authenticationMethodsRegistrationCampaign"`
}

type campaignInput struct {
	State                                  *string       `json:"state"`
	SnoozeDurationInDays                   *int          `json:"snoozeDurationInDays"`
	EnforceRegistrationAfterAllowedSnoozes *bool         `json:"enforceRegistrationAfterAllowedSnoozes"`
	IncludeTargets                         []targetInput `json:"includeTargets"`
	ExcludeTargets                         []targetInput `json:"excludeTargets"`
}

// methodConfigInput is what PATCH of one configuration accepts. decode
// refuses what no method has; check refuses what this method lacks.
type methodConfigInput struct {
	ID             *string       `json:"id"`
	State          *string       `json:"state"`
	IncludeTargets []targetInput `json:"includeTargets" null:"keep"`
	ExcludeTargets []targetInput `json:"excludeTargets"`

	AllowExternalIDToUseEmailOtp     *string               `json:"allowExternalIdToUseEmailOtp"`
	IsSelfServiceRegistrationAllowed *bool                 `json:"isSelfServiceRegistrationAllowed"`
	IsAttestationEnforced            *bool                 `json:"isAttestationEnforced"`
	KeyRestrictions                  *keyRestrictionsInput `json:"keyRestrictions"`
	// Properties of other kinds of Graph configurations that Gatehouse
	// does not have, accepted only to be refused by name.
	DefaultLength            *int `json:"defaultLength"`
	DefaultLifetimeInMinutes *int `json:"defaultLifetimeInMinutes"`
}

type targetInput struct {
	ID                     *string `json:"id"`
	TargetType             *string `json:"targetType"`
	IsRegistrationRequired *bool   `json:"isRegistrationRequired"`
	IsUsableForSignIn      *bool   `json:"isUsableForSignIn"`
}

type keyRestrictionsInput struct {
	IsEnforced      *bool    `json:"isEnforced"`
	EnforcementType *string  `json:"enforcementType"`
	AAGUIDs         []string `json:"aaGuids"`
}

var aaguidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// apply sets the configuration c of its method from in, checking every
// property (prefix names them, e.g. "includeTargets[0].id"); groups
// reports whether a group ID exists.
func (in *methodConfigInput) apply(c *gatehouse.MethodConfig, prefix string, groupExists func(id string) (bool, error)) error {
	field := func(name string) string { return prefix + name }
	graphID := graphMethodIDs[c.Method]
	if in.ID != nil && !strings.EqualFold(*in.ID, graphID) {
		return gatehouse.FieldErrorf(field("id"), "Property 'id' is read-only: this configuration's id is %q.", graphID)
	}
	only := func(name, method string, set bool) error {
		if set && c.Method != method {
			return gatehouse.FieldErrorf(field(name), "%s is a property of the %s configuration, not of %s.", name, graphMethodIDs[method], graphID)
		}
		return nil
	}
	for _, chk := range []error{
		only("allowExternalIdToUseEmailOtp", gatehouse.MethodEmail, in.AllowExternalIDToUseEmailOtp != nil),
		only("isSelfServiceRegistrationAllowed", gatehouse.MethodFido2, in.IsSelfServiceRegistrationAllowed != nil),
		only("isAttestationEnforced", gatehouse.MethodFido2, in.IsAttestationEnforced != nil),
		only("keyRestrictions", gatehouse.MethodFido2, in.KeyRestrictions != nil),
	} {
		if chk != nil {
			return chk
		}
	}
	if in.DefaultLength != nil || in.DefaultLifetimeInMinutes != nil {
		name := "defaultLength"
		if in.DefaultLifetimeInMinutes != nil {
			name = "defaultLifetimeInMinutes"
		}
		return gatehouse.FieldErrorf(field(name), "%s belongs to Temporary Access Pass configurations, which Gatehouse does not have.", name)
	}
	if in.State != nil {
		switch *in.State {
		case "enabled":
			c.Enabled = true
		case "disabled":
			c.Enabled = false
		default:
			return gatehouse.FieldErrorf(field("state"), "state %q is not valid; use enabled or disabled.", *in.State)
		}
	}
	if in.AllowExternalIDToUseEmailOtp != nil {
		switch *in.AllowExternalIDToUseEmailOtp {
		case "enabled", "default":
		default:
			// Every Gatehouse user is an external (customer) account: email
			// codes are off only when the configuration's state is.
			return gatehouse.FieldErrorf(field("allowExternalIdToUseEmailOtp"), "allowExternalIdToUseEmailOtp %q is not supported: every Gatehouse user is an external user, so it is always enabled; set state to disabled to turn email codes off.", *in.AllowExternalIDToUseEmailOtp)
		}
	}
	if in.IsSelfServiceRegistrationAllowed != nil {
		c.SelfServiceRegistration = *in.IsSelfServiceRegistrationAllowed
	}
	if in.IsAttestationEnforced != nil && *in.IsAttestationEnforced {
		return gatehouse.FieldErrorf(field("isAttestationEnforced"), "isAttestationEnforced true is not supported: Gatehouse does not verify authenticator attestation; restrict authenticator models with keyRestrictions instead.")
	}
	if k := in.KeyRestrictions; k != nil {
		kr := gatehouse.KeyRestrictions{AAGUIDs: []string{}}
		if c.KeyRestrictions != nil {
			kr = *c.KeyRestrictions
			kr.AAGUIDs = slices.Clone(kr.AAGUIDs)
		}
		if k.IsEnforced != nil {
			kr.Enforced = *k.IsEnforced
		}
		if k.EnforcementType != nil {
			switch *k.EnforcementType {
			case "allow":
				kr.Allow = true
			case "block":
				kr.Allow = false
			default:
				return gatehouse.FieldErrorf(field("keyRestrictions.enforcementType"), "keyRestrictions.enforcementType %q is not valid; use allow or block.", *k.EnforcementType)
			}
		}
		if k.AAGUIDs != nil {
			kr.AAGUIDs = []string{}
			for i, a := range k.AAGUIDs {
				if !aaguidRE.MatchString(a) {
					return gatehouse.FieldErrorf(field("keyRestrictions.aaGuids["+strconv.Itoa(i)+"]"), "keyRestrictions.aaGuids[%d] %q is not an AAGUID (a GUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8).", i, a)
				}
				if !slices.Contains(kr.AAGUIDs, strings.ToLower(a)) {
					kr.AAGUIDs = append(kr.AAGUIDs, strings.ToLower(a))
				}
			}
		}
		if kr.Enforced && kr.Allow && len(kr.AAGUIDs) == 0 {
			return gatehouse.FieldErrorf(field("keyRestrictions.aaGuids"), "keyRestrictions.aaGuids is empty, and keyRestrictions allows only the listed authenticators: nobody could register a passkey. List at least one AAGUID, or turn isEnforced off.")
		}
		c.KeyRestrictions = &kr
	}
	if in.IncludeTargets != nil {
		ids, err := checkTargets(field("includeTargets"), in.IncludeTargets, c.Method, true, groupExists)
		if err != nil {
			return err
		}
		c.Include = ids
	}
	if in.ExcludeTargets != nil {
		ids, err := checkTargets(field("excludeTargets"), in.ExcludeTargets, c.Method, false, groupExists)
		if err != nil {
			return err
		}
		c.Exclude = ids
	}
	return nil
}

// checkTargets validates include or exclude targets and returns their IDs.
func checkTargets(field string, ts []targetInput, method string, include bool, groupExists func(string) (bool, error)) ([]string, error) {
	ids := []string{}
	for i, t := range ts {
		f := field + "[" + strconv.Itoa(i) + "]"
		if t.TargetType != nil && *t.TargetType != "group" {
			return nil, gatehouse.FieldErrorf(f+".targetType", "%s.targetType %q is not supported; targets are groups (targetType group), or all_users.", f, *t.TargetType)
		}
		if t.IsRegistrationRequired != nil && *t.IsRegistrationRequired {
			return nil, gatehouse.FieldErrorf(f+".isRegistrationRequired", "%s.isRegistrationRequired true is not supported: Gatehouse asks users to register a method just in time, when a sign-in needs a second factor; require one with a Conditional Access policy.", f)
		}
		if t.IsRegistrationRequired != nil && !include {
			return nil, gatehouse.FieldErrorf(f+".isRegistrationRequired", "%s.isRegistrationRequired belongs to include targets only.", f)
		}
		if t.IsUsableForSignIn != nil && (method != gatehouse.MethodSMS || !include) {
			return nil, gatehouse.FieldErrorf(f+".isUsableForSignIn", "%s.isUsableForSignIn belongs to the include targets of the Sms configuration only.", f)
		}
		if t.IsUsableForSignIn != nil && *t.IsUsableForSignIn {
			return nil, gatehouse.FieldErrorf(f+".isUsableForSignIn", "%s.isUsableForSignIn true is not supported: a text message is a second factor in Gatehouse, never a sign-in of its own.", f)
		}
		if t.ID == nil || *t.ID == "" {
			return nil, gatehouse.FieldErrorf(f+".id", "%s.id is required: all_users or a group's id.", f)
		}
		id := *t.ID
		switch {
		case id == gatehouse.AllUsers && !include:
			return nil, gatehouse.FieldErrorf(f+".id", "%s.id all_users cannot be excluded; set state to disabled to turn the method off for everyone.", f)
		case id == gatehouse.AllUsers:
		default:
			ok, err := groupExists(id)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, gatehouse.FieldErrorf(f+".id", "%s.id %q is not a group of this tenant (nor all_users).", f, id)
			}
		}
		if slices.Contains(ids, id) {
			return nil, gatehouse.FieldErrorf(f+".id", "%s lists %q twice.", field, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// groupChecker returns a function that reports whether a group of the
// tenant has the ID, as checkTargets needs.
func groupChecker(r *http.Request, rd gatehouse.Reader) func(string) (bool, error) {
	t := tenantFrom(r.Context())
	return func(id string) (bool, error) {
		_, err := rd.Group(r.Context(), t.ID, id)
		switch gatehouse.ErrorCode(err) {
		case "":
			return true, nil
		case gatehouse.ENOTFOUND:
			return false, nil
		}
		return false, err
	}
}

func (s *server) handleMethodsPolicyGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Store.MethodsPolicy(r.Context(), tenantFrom(r.Context()).ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "policies/authenticationMethodsPolicy", toGraphMethodsPolicy(p))
	})
}

// handleMethodsPolicyUpdate takes back what GET returned: the read-only
// properties unchanged, the migration state and registration campaign at
// their only values. Configurations are changed at their own paths.
func (s *server) handleMethodsPolicyUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in methodsPolicyInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		p, err := s.Store.MethodsPolicy(ctx, t.ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		cur := toGraphMethodsPolicy(p)
		for _, ro := range []struct {
			name      string
			got, want *string
		}{
			{"id", in.ID, &cur.ID}, {"displayName", in.DisplayName, &cur.DisplayName}, {"description", in.Description, &cur.Description},
			{"policyVersion", in.PolicyVersion, &cur.PolicyVersion},
		} {
			if ro.got != nil && *ro.got != *ro.want {
				s.writeAPIError(w, r, gatehouse.FieldErrorf(ro.name, "Property '%s' is read-only.", ro.name))
				return
			}
		}
		if in.PolicyMigrationState != nil && *in.PolicyMigrationState != "migrationComplete" {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("policyMigrationState", "policyMigrationState %q is not supported: Gatehouse has no legacy MFA or SSPR policies, so its migration is always complete.", *in.PolicyMigrationState))
			return
		}
		if re := in.RegistrationEnforcement; re != nil && re.Campaign != nil {
			c := re.Campaign
			if c.State != nil && *c.State != "disabled" && *c.State != "default" || len(c.IncludeTargets) > 0 || len(c.ExcludeTargets) > 0 ||
				c.SnoozeDurationInDays != nil || c.EnforceRegistrationAfterAllowedSnoozes != nil {
				s.writeAPIError(w, r, gatehouse.FieldErrorf("registrationEnforcement.authenticationMethodsRegistrationCampaign",
					"Registration campaigns are not supported: Gatehouse asks users to register a method just in time, when a sign-in needs a second factor; only the state disabled is accepted."))
				return
			}
		}
		if len(in.AuthenticationMethodConfigurations) > 0 {
			s.writeAPIError(w, r, gatehouse.FieldErrorf("authenticationMethodConfigurations",
				"Change each configuration with PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id} (Email, Sms, SoftwareOath, Fido2, RecoveryCode)."))
			return
		}
		// Nothing Gatehouse keeps can change here.
		w.WriteHeader(http.StatusNoContent)
	})
}

// methodFromPath returns the method of the {method} path segment.
func methodFromPath(r *http.Request) (string, error) {
	id := r.PathValue("method")
	m, ok := methodByGraphID(id)
	if !ok {
		return "", gatehouse.Errorf(gatehouse.ENOTFOUND, "Authentication method configuration %q was not found; Gatehouse has Email, Sms, SoftwareOath, Fido2 and RecoveryCode.", id)
	}
	return m, nil
}

func (s *server) handleMethodConfigList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		p, err := s.Store.MethodsPolicy(r.Context(), tenantFrom(r.Context()).ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out, next, err := page(toGraphMethodsPolicy(p).AuthenticationMethodConfigurations, func(c graphMethodConfig) string { return c.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeCollection(w, r, "policies/authenticationMethodsPolicy/authenticationMethodConfigurations", out, next)
	})
}

func (s *server) handleMethodConfigGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := methodFromPath(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		p, err := s.Store.MethodsPolicy(r.Context(), tenantFrom(r.Context()).ID)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "policies/authenticationMethodsPolicy/authenticationMethodConfigurations", toGraphMethodConfig(p.Config(m)))
	})
}

// handleMethodConfigUpdate changes one method's configuration (audited
// with before and after); a change that changes nothing writes nothing.
func (s *server) handleMethodConfigUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		m, err := methodFromPath(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var in methodConfigInput
		if _, err := decode(w, r, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := s.checkSMSEnable(m, &in); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before, after graphMethodConfig
			_, err := tx.UpdateMethodsPolicy(ctx, t.ID, func(p *gatehouse.MethodsPolicy) error {
				c := p.Config(m)
				before = toGraphMethodConfig(c)
				if err := in.apply(&c, "", groupChecker(r, tx)); err != nil {
					return err
				}
				after = toGraphMethodConfig(c)
				if unchanged(before, after) {
					return errUnchanged
				}
				p.SetConfig(c)
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Authentication Methods Policy Update", operation: "Update",
				targetType: "Policy", targetID: graphMethodIDs[m], name: graphMethodIDs[m] + " authentication method configuration",
				before: before, after: after})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
