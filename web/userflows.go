package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// User flows are Graph's externalUsersSelfServiceSignUpEventsFlow under
// /identity/authenticationEventsFlows, as far as Gatehouse's UserFlow goes.
// What Gatehouse does not support is refused with a 400 naming the field;
// properties Graph returns empty (null handlers, empty option lists) are
// accepted empty so that a flow exported from Entra imports once its
// unsupported parts are removed. What GET returns can be PATCHed back
// unchanged.

// OData types of a user flow and its parts.
const (
	odataUserFlow        = "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow"
	odataAuthFlowStart   = "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp"
	odataMethodLoadStart = "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp"
	odataAttrCollection  = "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp"
	odataUserCreateStart = "#microsoft.graph.onUserCreateStartExternalUsersSelfServiceSignUp"
	odataConditionApp    = "#microsoft.graph.authenticationConditionApplication"
)

// Field paths of a user flow, as error targets.
const (
	flowAppsField   = "conditions.applications.includeApplications"
	flowIdPsField   = "onAuthenticationMethodLoadStart.identityProviders"
	flowAttrsField  = "onAttributeCollection.attributes"
	flowViewsField  = "onAttributeCollection.attributeCollectionPage.views"
	flowInputsField = "onAttributeCollection.attributeCollectionPage.views.inputs"
)

// flowPriority is the priority every flow reports and the only one
// accepted: an application uses exactly one user flow, so flows never
// compete and a priority would mean nothing.
const flowPriority = 500

// The email address is collected and verified before anything else, so it
// is implicit in every flow: shown among the attributes with a fixed,
// hidden input, accepted in that form and never stored as an attribute.
const (
	emailAttribute = "email"
	emailLabel     = "Email Address"
)

// extensionAttributeRE matches Entra's name for a custom attribute,
// extension_<b2c-extensions-app appId without dashes>_<name>.
var extensionAttributeRE = regexp.MustCompile(`^extension_[0-9A-Fa-f]{32}_(.+)$`)

// graphUserFlow is the representation of a user flow.
type graphUserFlow struct {
	ODataType                       string                  `json:"@odata.type"`
	ID                              string                  `json:"id"`
	DisplayName                     string                  `json:"displayName"`
	Description                     string                  `json:"description"`
	Priority                        int                     `json:"priority"`
	Conditions                      graphFlowConditions     `json:"conditions"`
	OnInteractiveAuthFlowStart      graphFlowAuthStart      `json:"onInteractiveAuthFlowStart"`
	OnAuthenticationMethodLoadStart graphFlowMethodLoad     `json:"onAuthenticationMethodLoadStart"`
	OnAttributeCollection           graphFlowAttrCollection `json:"onAttributeCollection"`
	OnUserCreateStart               graphFlowUserCreate     `json:"onUserCreateStart"`
	// Gatehouse holds the flow's settings that Graph has no counterpart
	// for.
	Gatehouse graphFlowSettings `json:"gatehouse"`
}

// graphFlowSettings are a flow's Gatehouse extensions. PasskeySignIn offers
// "Sign in with a passkey" on the sign-in page, to users the methods
// policy offers passkeys (fido2) to.
type graphFlowSettings struct {
	PasskeySignIn bool `json:"passkeySignIn"`
}

type graphFlowConditions struct {
	Applications graphFlowConditionApps `json:"applications"`
}

type graphFlowConditionApps struct {
	IncludeApplications []graphFlowApp `json:"includeApplications"`
}

// graphFlowApp is Graph's authenticationConditionApplication.
type graphFlowApp struct {
	AppID string `json:"appId"`
}

type graphFlowAuthStart struct {
	ODataType       string `json:"@odata.type"`
	IsSignUpAllowed bool   `json:"isSignUpAllowed"`
}

type graphFlowMethodLoad struct {
	ODataType         string         `json:"@odata.type"`
	IdentityProviders []graphFlowIdP `json:"identityProviders"`
}

type graphFlowIdP struct {
	ID string `json:"id"`
}

type graphFlowAttrCollection struct {
	ODataType               string          `json:"@odata.type"`
	Attributes              []graphFlowAttr `json:"attributes"`
	AttributeCollectionPage graphFlowPage   `json:"attributeCollectionPage"`
}

// graphFlowAttr is Graph's identityUserFlowAttribute, as a flow lists it.
type graphFlowAttr struct {
	ID                    string `json:"id"`
	DisplayName           string `json:"displayName"`
	UserFlowAttributeType string `json:"userFlowAttributeType"`
	DataType              string `json:"dataType"`
}

type graphFlowPage struct {
	Views []graphFlowView `json:"views"`
}

type graphFlowView struct {
	Inputs []graphFlowInput `json:"inputs"`
}

// graphFlowInput is Graph's authenticationAttributeCollectionInputConfiguration.
type graphFlowInput struct {
	Attribute        string `json:"attribute"`
	Label            string `json:"label"`
	InputType        string `json:"inputType"`
	Hidden           bool   `json:"hidden"`
	Editable         bool   `json:"editable"`
	WriteToDirectory bool   `json:"writeToDirectory"`
	Required         bool   `json:"required"`
}

type graphFlowUserCreate struct {
	ODataType        string `json:"@odata.type"`
	UserTypeToCreate string `json:"userTypeToCreate"`
}

// flowInputType is the input the sign-up page shows for a data type.
func flowInputType(dataType string) string {
	if dataType == "boolean" {
		return "boolean"
	}
	return "text"
}

func toGraphUserFlow(f *gatehouse.UserFlow) graphUserFlow {
	out := graphUserFlow{
		ODataType: odataUserFlow, ID: f.ID, DisplayName: f.DisplayName, Description: f.Description,
		Priority:                        flowPriority,
		Conditions:                      graphFlowConditions{Applications: graphFlowConditionApps{IncludeApplications: []graphFlowApp{}}},
		OnInteractiveAuthFlowStart:      graphFlowAuthStart{ODataType: odataAuthFlowStart, IsSignUpAllowed: f.SignUpAllowed},
		OnAuthenticationMethodLoadStart: graphFlowMethodLoad{ODataType: odataMethodLoadStart, IdentityProviders: []graphFlowIdP{}},
		OnAttributeCollection: graphFlowAttrCollection{
			ODataType: odataAttrCollection,
			Attributes: []graphFlowAttr{{ID: emailAttribute, DisplayName: emailLabel,
				UserFlowAttributeType: "builtIn", DataType: "string"}},
		},
		OnUserCreateStart: graphFlowUserCreate{ODataType: odataUserCreateStart, UserTypeToCreate: "member"},
		Gatehouse:         graphFlowSettings{PasskeySignIn: f.PasskeySignIn},
	}
	for _, id := range f.AppIDs {
		out.Conditions.Applications.IncludeApplications = append(out.Conditions.Applications.IncludeApplications, graphFlowApp{id})
	}
	if f.IdentityProvider != "" {
		out.OnAuthenticationMethodLoadStart.IdentityProviders = append(out.OnAuthenticationMethodLoadStart.IdentityProviders, graphFlowIdP{f.IdentityProvider})
	}
	inputs := []graphFlowInput{{Attribute: emailAttribute, Label: emailLabel, InputType: "text",
		Hidden: true, Editable: false, WriteToDirectory: true, Required: true}}
	for _, a := range f.Attributes {
		typ := "builtIn"
		if a.Custom {
			typ = "custom"
		}
		out.OnAttributeCollection.Attributes = append(out.OnAttributeCollection.Attributes,
			graphFlowAttr{ID: a.Name, DisplayName: a.Label, UserFlowAttributeType: typ, DataType: a.DataType})
		inputs = append(inputs, graphFlowInput{Attribute: a.Name, Label: a.Label, InputType: flowInputType(a.DataType),
			Editable: true, WriteToDirectory: true, Required: a.Required})
	}
	out.OnAttributeCollection.AttributeCollectionPage = graphFlowPage{Views: []graphFlowView{{Inputs: inputs}}}
	return out
}

// userFlowInput is what POST and PATCH accept. On PATCH, a property that is
// sent replaces the flow's; onAttributeCollection.attributes, when sent,
// lists every attribute the flow keeps, as in Graph. conditions and
// onAttributeCollection sent as null clear the flow's applications and
// attributes; null lists are empty lists; the flow's other objects, its
// booleans and its displayName cannot be null.
type userFlowInput struct {
	ID                              *string                  `json:"id"`
	DisplayName                     *string                  `json:"displayName" null:"refuse"`
	Description                     *string                  `json:"description"`
	Priority                        *int                     `json:"priority"`
	Conditions                      *flowConditionsInput     `json:"conditions" null:"keep"`
	OnInteractiveAuthFlowStart      *flowAuthStartInput      `json:"onInteractiveAuthFlowStart"`
	OnAuthenticationMethodLoadStart *flowMethodLoadInput     `json:"onAuthenticationMethodLoadStart"`
	OnAttributeCollection           *flowAttrCollectionInput `json:"onAttributeCollection" null:"keep"`
	OnUserCreateStart               *flowUserCreateInput     `json:"onUserCreateStart"`
	Gatehouse                       *flowSettingsInput       `json:"gatehouse"`
	// Custom authentication extensions, which Gatehouse does not call:
	// accepted only as null.
	OnAttributeCollectionStart  json.RawMessage `json:"onAttributeCollectionStart"`
	OnAttributeCollectionSubmit json.RawMessage `json:"onAttributeCollectionSubmit"`
}

type flowConditionsInput struct {
	Applications *flowConditionAppsInput `json:"applications"`
}

type flowConditionAppsInput struct {
	IncludeApplications    []flowAppRefInput `json:"includeApplications"`
	IncludeAllApplications *bool             `json:"includeAllApplications"`
}

type flowAppRefInput struct {
	ODataType *string `json:"@odata.type"`
	AppID     *string `json:"appId"`
}

type flowAuthStartInput struct {
	ODataType       *string `json:"@odata.type"`
	IsSignUpAllowed *bool   `json:"isSignUpAllowed"`
}

type flowMethodLoadInput struct {
	ODataType         *string        `json:"@odata.type"`
	IdentityProviders []flowIdPInput `json:"identityProviders"`
}

type flowIdPInput struct {
	ID *string `json:"id"`
}

type flowAttrCollectionInput struct {
	ODataType               *string         `json:"@odata.type"`
	Attributes              []flowAttrInput `json:"attributes"`
	AttributeCollectionPage *flowPageInput  `json:"attributeCollectionPage"`
	AccessPackages          json.RawMessage `json:"accessPackages"`
}

type flowAttrInput struct {
	ID                    *string `json:"id"`
	DisplayName           *string `json:"displayName"`
	UserFlowAttributeType *string `json:"userFlowAttributeType"`
	DataType              *string `json:"dataType"`
}

type flowPageInput struct {
	Views               []flowViewInput `json:"views"`
	CustomStringsFileID json.RawMessage `json:"customStringsFileId"`
}

type flowViewInput struct {
	Inputs      []flowInputInput `json:"inputs"`
	Title       json.RawMessage  `json:"title"`
	Description json.RawMessage  `json:"description"`
}

type flowInputInput struct {
	Attribute        *string         `json:"attribute"`
	Label            *string         `json:"label"`
	InputType        *string         `json:"inputType"`
	Hidden           *bool           `json:"hidden"`
	Editable         *bool           `json:"editable"`
	WriteToDirectory *bool           `json:"writeToDirectory"`
	Required         *bool           `json:"required"`
	DefaultValue     json.RawMessage `json:"defaultValue"`
	ValidationRegEx  json.RawMessage `json:"validationRegEx"`
	Options          json.RawMessage `json:"options"`
}

type flowSettingsInput struct {
	PasskeySignIn *bool `json:"passkeySignIn"`
}

type flowUserCreateInput struct {
	ODataType        *string `json:"@odata.type"`
	UserTypeToCreate *string `json:"userTypeToCreate"`
}

// jsonIsNull reports whether raw is absent or null.
func jsonIsNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// jsonIsEmpty reports whether raw is absent, null, "" or [].
func jsonIsEmpty(raw json.RawMessage) bool {
	if jsonIsNull(raw) {
		return true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == ""
	}
	var a []json.RawMessage
	return json.Unmarshal(raw, &a) == nil && len(a) == 0
}

// checkODataType returns an EINVALID error naming field unless got is
// absent or names want (case-insensitively, with or without the "#").
func checkODataType(field string, got *string, want string) error {
	if got == nil || strings.EqualFold(strings.TrimPrefix(*got, "#"), strings.TrimPrefix(want, "#")) {
		return nil
	}
	return gatehouse.FieldErrorf(field, "%s %q is not supported here; Gatehouse expects %s.", field, *got, want)
}

// bodyODataType returns the top-level "@odata.type" of a JSON object body,
// which decode skips as an annotation.
func bodyODataType(body []byte) *string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	var s string
	if raw, ok := top["@odata.type"]; !ok || json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return &s
}

// apply checks in and applies it to f: the flow as it is (PATCH) or a new
// flow with its defaults (POST). It returns an EINVALID error naming the
// first unsupported field. Checks that need the store are checkFlowApps'.
func (in *userFlowInput) apply(d *decoded, f *gatehouse.UserFlow, create bool) error {
	if in.ID != nil && (create || *in.ID != f.ID) {
		return gatehouse.FieldErrorf("id", "Property 'id' is read-only: Gatehouse assigns a user flow's id.")
	}
	if in.Priority != nil && *in.Priority != flowPriority {
		return gatehouse.FieldErrorf("priority", "priority %d is not supported: in Gatehouse an application uses exactly one user flow, so flows have no priority; send %d (the default) or leave it out.", *in.Priority, flowPriority)
	}
	for _, h := range []struct {
		name string
		raw  json.RawMessage
	}{{"onAttributeCollectionStart", in.OnAttributeCollectionStart}, {"onAttributeCollectionSubmit", in.OnAttributeCollectionSubmit}} {
		if !jsonIsNull(h.raw) {
			return gatehouse.FieldErrorf(h.name, "%s is not supported: Gatehouse does not call custom authentication extensions; send null or leave it out.", h.name)
		}
	}
	if in.DisplayName != nil {
		f.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if c := in.Conditions; c != nil {
		ids, set, err := c.appIDs()
		if err != nil {
			return err
		}
		if set {
			f.AppIDs = ids
		}
	} else if d.null["conditions"] {
		f.AppIDs = nil
	}
	if s := in.OnInteractiveAuthFlowStart; s != nil {
		if err := checkODataType("onInteractiveAuthFlowStart.@odata.type", s.ODataType, odataAuthFlowStart); err != nil {
			return err
		}
		if s.IsSignUpAllowed != nil {
			f.SignUpAllowed = *s.IsSignUpAllowed
		}
	}
	if m := in.OnAuthenticationMethodLoadStart; m != nil {
		if err := checkODataType("onAuthenticationMethodLoadStart.@odata.type", m.ODataType, odataMethodLoadStart); err != nil {
			return err
		}
		if m.IdentityProviders != nil {
			idp, err := flowIdentityProvider(m.IdentityProviders)
			if err != nil {
				return err
			}
			f.IdentityProvider = idp
		}
	}
	if create && f.IdentityProvider == "" {
		return gatehouse.FieldErrorf(flowIdPsField, "%s is required: send [{\"id\": %q}] (email with password) or [{\"id\": %q}] (email one-time passcode).", flowIdPsField, gatehouse.IdentityProviderEmailPassword, gatehouse.IdentityProviderEmailOTP)
	}
	if a := in.OnAttributeCollection; a != nil {
		attrs, err := a.attributes(f.Attributes)
		if err != nil {
			return err
		}
		f.Attributes = attrs
	} else if d.null["onAttributeCollection"] {
		f.Attributes = nil // the flow collects no attributes beyond email
	}
	if u := in.OnUserCreateStart; u != nil {
		if err := checkODataType("onUserCreateStart.@odata.type", u.ODataType, odataUserCreateStart); err != nil {
			return err
		}
		if u.UserTypeToCreate != nil && *u.UserTypeToCreate != "member" {
			return gatehouse.FieldErrorf("onUserCreateStart.userTypeToCreate", "userTypeToCreate %q is not supported: Gatehouse creates every user who signs up as a member.", *u.UserTypeToCreate)
		}
	}
	if g := in.Gatehouse; g != nil && g.PasskeySignIn != nil {
		f.PasskeySignIn = *g.PasskeySignIn
	}
	return nil
}

// appIDs returns the includeApplications list, and whether it was sent.
func (c *flowConditionsInput) appIDs() ([]string, bool, error) {
	a := c.Applications
	if a == nil {
		return nil, false, nil
	}
	if a.IncludeAllApplications != nil && *a.IncludeAllApplications {
		return nil, false, gatehouse.FieldErrorf("conditions.applications.includeAllApplications", "includeAllApplications is not supported: an application uses exactly one user flow, so list the applications in %s.", flowAppsField)
	}
	if a.IncludeApplications == nil {
		return nil, false, nil
	}
	var ids []string
	for _, ref := range a.IncludeApplications {
		if err := checkODataType(flowAppsField+".@odata.type", ref.ODataType, odataConditionApp); err != nil {
			return nil, false, err
		}
		if ref.AppID == nil || *ref.AppID == "" {
			return nil, false, gatehouse.FieldErrorf(flowAppsField+".appId", "Each entry of %s needs an appId (the application's client ID).", flowAppsField)
		}
		if slices.Contains(ids, *ref.AppID) {
			return nil, false, gatehouse.FieldErrorf(flowAppsField, "%s lists appId %q twice.", flowAppsField, *ref.AppID)
		}
		ids = append(ids, *ref.AppID)
	}
	return ids, true, nil
}

// flowIdentityProvider returns the flow's one identity provider.
func flowIdentityProvider(list []flowIdPInput) (string, error) {
	supported := fmt.Sprintf("%s (email with password) or %s (email one-time passcode)", gatehouse.IdentityProviderEmailPassword, gatehouse.IdentityProviderEmailOTP)
	if len(list) == 0 {
		return "", gatehouse.FieldErrorf(flowIdPsField, "A user flow needs exactly one identity provider: %s.", supported)
	}
	var ids []string
	for _, p := range list {
		if p.ID == nil || *p.ID == "" {
			return "", gatehouse.FieldErrorf(flowIdPsField+".id", "Each identity provider needs an id: %s.", supported)
		}
		switch *p.ID {
		case gatehouse.IdentityProviderEmailPassword, gatehouse.IdentityProviderEmailOTP:
		default:
			return "", gatehouse.FieldErrorf(flowIdPsField, "Identity provider %q is not supported; Gatehouse signs users in with %s.", *p.ID, supported)
		}
		ids = append(ids, *p.ID)
	}
	if len(ids) > 1 {
		return "", gatehouse.FieldErrorf(flowIdPsField, "Gatehouse supports one identity provider per user flow, and %d were sent (%s); keep either %s or %s.", len(ids), strings.Join(ids, ", "), gatehouse.IdentityProviderEmailPassword, gatehouse.IdentityProviderEmailOTP)
	}
	return ids[0], nil
}

// flowAttributeName returns the name Gatehouse keeps for an attribute id sent
// by a client, and whether the id was an Entra extension attribute name.
func flowAttributeName(id string) (string, bool) {
	if m := extensionAttributeRE.FindStringSubmatch(id); m != nil {
		return m[1], true
	}
	return id, false
}

// flowDefaultLabel is the label of an attribute nobody gave one.
func flowDefaultLabel(a gatehouse.FlowAttribute) string {
	if b, ok := gatehouse.BuiltInAttribute(a.Name); ok && !a.Custom {
		return b.Label
	}
	return a.Name
}

// attributes returns the attributes the flow collects after the change,
// given those it collects now (cur). Labels and required flags not sent
// are kept from cur, or default for a new attribute; the order is that of
// the inputs, then that of the attributes without an input.
func (in *flowAttrCollectionInput) attributes(cur []gatehouse.FlowAttribute) ([]gatehouse.FlowAttribute, error) {
	if err := checkODataType("onAttributeCollection.@odata.type", in.ODataType, odataAttrCollection); err != nil {
		return nil, err
	}
	if !jsonIsEmpty(in.AccessPackages) {
		return nil, gatehouse.FieldErrorf("onAttributeCollection.accessPackages", "accessPackages is not supported: Gatehouse assigns no access packages at sign-up; send [] or leave it out.")
	}
	defs := slices.Clone(cur)
	sentLabels := map[string]string{} // attributes[].displayName by name
	if in.Attributes != nil {
		prev := map[string]gatehouse.FlowAttribute{}
		for _, a := range cur {
			prev[a.Name] = a
		}
		defs = nil
		seen := map[string]bool{}
		for _, a := range in.Attributes {
			fa, label, err := a.parse()
			if err != nil {
				return nil, err
			}
			if fa.Name == emailAttribute {
				continue
			}
			if seen[fa.Name] {
				return nil, gatehouse.FieldErrorf(flowAttrsField, "Attribute %q is listed twice.", fa.Name)
			}
			seen[fa.Name] = true
			if p, ok := prev[fa.Name]; ok && p.Custom == fa.Custom {
				fa.Label, fa.Required = p.Label, p.Required
			} else {
				fa.Label = flowDefaultLabel(fa)
			}
			if label != "" {
				fa.Label, sentLabels[fa.Name] = label, label
			}
			defs = append(defs, fa)
		}
	}
	page := in.AttributeCollectionPage
	if page == nil {
		return defs, nil
	}
	if !jsonIsNull(page.CustomStringsFileID) {
		return nil, gatehouse.FieldErrorf("onAttributeCollection.attributeCollectionPage.customStringsFileId", "customStringsFileId is not supported: Gatehouse has no custom string files; send null or leave it out.")
	}
	if len(page.Views) > 1 {
		return nil, gatehouse.FieldErrorf(flowViewsField, "Gatehouse collects attributes on one page; send one view, not %d.", len(page.Views))
	}
	var out []gatehouse.FlowAttribute
	placed := map[string]bool{}
	emailSeen := false
	for _, v := range page.Views {
		if !jsonIsEmpty(v.Title) || !jsonIsEmpty(v.Description) {
			return nil, gatehouse.FieldErrorf(flowViewsField, "A view's title and description are not supported: Gatehouse's sign-up page has its own; send null or leave them out.")
		}
		for _, inp := range v.Inputs {
			if inp.Attribute == nil || *inp.Attribute == "" {
				return nil, gatehouse.FieldErrorf(flowInputsField+".attribute", "Each input needs the attribute it collects.")
			}
			name, _ := flowAttributeName(*inp.Attribute)
			if name == emailAttribute {
				if emailSeen {
					return nil, gatehouse.FieldErrorf(flowInputsField, "Attribute %q has two inputs.", name)
				}
				emailSeen = true
				if err := inp.checkEmail(); err != nil {
					return nil, err
				}
				continue
			}
			i := slices.IndexFunc(defs, func(a gatehouse.FlowAttribute) bool { return a.Name == name })
			if i < 0 {
				return nil, gatehouse.FieldErrorf(flowInputsField+".attribute", "The input for %q has no attribute in %s; list the attribute there too.", *inp.Attribute, flowAttrsField)
			}
			if placed[name] {
				return nil, gatehouse.FieldErrorf(flowInputsField, "Attribute %q has two inputs.", name)
			}
			placed[name] = true
			a := defs[i]
			if err := inp.applyTo(&a, sentLabels[name]); err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	for _, a := range defs {
		if !placed[a.Name] {
			out = append(out, a)
		}
	}
	return out, nil
}

// parse returns the attribute an entry of onAttributeCollection.attributes
// names, with its dataType and custom flag, and the label it was sent with.
func (a flowAttrInput) parse() (gatehouse.FlowAttribute, string, error) {
	if a.ID == nil || *a.ID == "" {
		return gatehouse.FlowAttribute{}, "", gatehouse.FieldErrorf(flowAttrsField+".id", "Each attribute needs an id: a built-in attribute's name (such as displayName) or a custom attribute's.")
	}
	name, extension := flowAttributeName(*a.ID)
	fa := gatehouse.FlowAttribute{Name: name, DataType: "string"}
	typ := ""
	if a.UserFlowAttributeType != nil {
		typ = *a.UserFlowAttributeType
	}
	_, builtIn := gatehouse.BuiltInAttribute(name)
	builtIn = builtIn || name == emailAttribute
	switch {
	case typ != "" && typ != "builtIn" && typ != "custom":
		return fa, "", gatehouse.FieldErrorf(flowAttrsField+".userFlowAttributeType", "userFlowAttributeType %q of attribute %q is not supported; use builtIn or custom.", typ, *a.ID)
	case typ == "builtIn" && (extension || !builtIn):
		return fa, "", gatehouse.FieldErrorf(flowAttrsField+".userFlowAttributeType", "Attribute %q is not a built-in attribute (those are email, displayName, givenName, surname, city, country, postalCode, state, streetAddress and jobTitle); set userFlowAttributeType to custom for a custom attribute.", *a.ID)
	case name == emailAttribute && (typ == "custom" || extension):
		return fa, "", gatehouse.FieldErrorf(flowAttrsField+".userFlowAttributeType", "Attribute %q is the built-in email address; it cannot be custom.", *a.ID)
	case typ == "custom" || extension:
		fa.Custom = true
	default:
		fa.Custom = !builtIn
	}
	if a.DataType != nil && *a.DataType != "" {
		if !fa.Custom && *a.DataType != "string" {
			return fa, "", gatehouse.FieldErrorf(flowAttrsField+".dataType", "Built-in attribute %q is a string; dataType %q is not supported for it.", name, *a.DataType)
		}
		fa.DataType = *a.DataType
	}
	label := ""
	if a.DisplayName != nil {
		label = *a.DisplayName
	}
	if name == emailAttribute && label != "" && !strings.EqualFold(label, emailLabel) {
		return fa, "", gatehouse.FieldErrorf(flowAttrsField+".displayName", "The email address's label is fixed (%q) in Gatehouse; %q is not supported.", emailLabel, label)
	}
	return fa, label, nil
}

// applyTo applies an input to the attribute it collects; attrLabel is the
// label sent with the attribute in onAttributeCollection.attributes.
func (in flowInputInput) applyTo(a *gatehouse.FlowAttribute, attrLabel string) error {
	if in.Label != nil && *in.Label != "" {
		if attrLabel != "" && attrLabel != *in.Label {
			return gatehouse.FieldErrorf(flowInputsField+".label", "Gatehouse keeps one label per attribute, and attribute %q was sent two: %q in %s and %q in its input; send the same text in both or leave one out.", a.Name, attrLabel, flowAttrsField, *in.Label)
		}
		a.Label = *in.Label
	}
	if in.InputType != nil && *in.InputType != "" {
		t := *in.InputType
		ok := strings.EqualFold(t, "text") && a.DataType != "boolean" ||
			a.DataType == "boolean" && (strings.EqualFold(t, "boolean") || strings.EqualFold(t, "checkboxSingleSelect"))
		if !ok {
			return gatehouse.FieldErrorf(flowInputsField+".inputType", "inputType %q is not supported for attribute %q (dataType %s); Gatehouse shows it as %s.", t, a.Name, a.DataType, flowInputType(a.DataType))
		}
	}
	switch {
	case in.Hidden != nil && *in.Hidden:
		return gatehouse.FieldErrorf(flowInputsField+".hidden", "Attribute %q cannot be hidden: Gatehouse shows every attribute it collects (only the email address, collected first, is hidden).", a.Name)
	case in.Editable != nil && !*in.Editable:
		return gatehouse.FieldErrorf(flowInputsField+".editable", "Attribute %q must be editable: Gatehouse has no default values to show read-only.", a.Name)
	case in.WriteToDirectory != nil && !*in.WriteToDirectory:
		return gatehouse.FieldErrorf(flowInputsField+".writeToDirectory", "Attribute %q must have writeToDirectory true: Gatehouse stores every attribute it collects on the user.", a.Name)
	}
	if err := in.checkUnsupported(); err != nil {
		return err
	}
	if in.Required != nil {
		a.Required = *in.Required
	}
	return nil
}

// checkUnsupported refuses the input settings Gatehouse does not have.
func (in flowInputInput) checkUnsupported() error {
	switch {
	case !jsonIsEmpty(in.DefaultValue):
		return gatehouse.FieldErrorf(flowInputsField+".defaultValue", "defaultValue is not supported: Gatehouse does not prefill attributes; send null or leave it out.")
	case !jsonIsEmpty(in.ValidationRegEx):
		return gatehouse.FieldErrorf(flowInputsField+".validationRegEx", "validationRegEx is not supported: Gatehouse applies no custom validation patterns; send null or leave it out.")
	case !jsonIsEmpty(in.Options):
		return gatehouse.FieldErrorf(flowInputsField+".options", "options is not supported: Gatehouse's inputs are text boxes and checkboxes; send [] or leave it out.")
	}
	return nil
}

// checkEmail accepts the email address's input only as Gatehouse has it.
func (in flowInputInput) checkEmail() error {
	fixed := func(field string) error {
		return gatehouse.FieldErrorf(flowInputsField+"."+field, "The email address is collected and verified before the other attributes, so its input is fixed: label %q, inputType text, hidden true, editable false, writeToDirectory true, required true; %s cannot be changed.", emailLabel, field)
	}
	switch {
	case in.Label != nil && *in.Label != "" && !strings.EqualFold(*in.Label, emailLabel):
		return fixed("label")
	case in.InputType != nil && *in.InputType != "" && !strings.EqualFold(*in.InputType, "text"):
		return fixed("inputType")
	case in.Hidden != nil && !*in.Hidden:
		return fixed("hidden")
	case in.Editable != nil && *in.Editable:
		return fixed("editable")
	case in.WriteToDirectory != nil && !*in.WriteToDirectory:
		return fixed("writeToDirectory")
	case in.Required != nil && !*in.Required:
		return fixed("required")
	}
	return in.checkUnsupported()
}

// checkFlowApps returns, naming field, an EINVALID error if one of f's
// applications does not exist in the tenant and an ECONFLICT error if one
// uses another flow. It reads through rd, the transaction that writes f.
func checkFlowApps(ctx context.Context, rd gatehouse.Reader, f *gatehouse.UserFlow, field string) error {
	for _, appID := range f.AppIDs {
		app, err := rd.ApplicationByAppID(ctx, f.TenantID, appID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.FieldErrorf(field, "No application with appId %q exists in this tenant.", appID)
		} else if err != nil {
			return err
		}
		other, err := rd.UserFlowByAppID(ctx, f.TenantID, appID)
		switch {
		case err == nil && other.ID != f.ID:
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: field, Message: fmt.Sprintf(
				"Application %q (appId %s) already uses the user flow %q (id %s); an application uses exactly one user flow, so remove it from that flow first.",
				app.DisplayName, appID, other.DisplayName, other.ID)}
		case err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND:
			return err
		}
	}
	return nil
}

// flowStoreError turns the store's ENOTFOUND about one of a flow's
// applications (deleted since checkFlowApps) into the caller's EINVALID.
func flowStoreError(err error) error {
	var e *gatehouse.Error
	if errors.As(err, &e) && e.Code == gatehouse.ENOTFOUND && e.Field != "" {
		return &gatehouse.Error{Code: gatehouse.EINVALID, Field: e.Field, Message: e.Message}
	}
	return err
}

// decodeUserFlowInput reads a user flow body, checking its @odata.type.
func decodeUserFlowInput(w http.ResponseWriter, r *http.Request, in *userFlowInput) (*decoded, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	d, err := decodeBytes(body, in)
	if err != nil {
		return nil, err
	}
	if err := checkODataType("@odata.type", bodyODataType(body), odataUserFlow); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *server) handleUserFlowList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r, "displayName")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		flows, next, err := s.Store.ListUserFlows(r.Context(), tenantFrom(r.Context()).ID, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphUserFlow, 0, len(flows))
		for _, f := range flows {
			out = append(out, toGraphUserFlow(f))
		}
		s.writeCollection(w, r, "identity/authenticationEventsFlows", out, next)
	})
}

func (s *server) handleUserFlowGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := s.Store.UserFlow(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.writeEntity(w, r, "identity/authenticationEventsFlows", toGraphUserFlow(f))
	})
}

func (s *server) handleUserFlowCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in userFlowInput
		d, err := decodeUserFlowInput(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		// A new flow lets users sign up unless it says otherwise, as in Entra.
		f := &gatehouse.UserFlow{TenantID: t.ID, SignUpAllowed: true}
		if err := in.apply(d, f, true); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if err := f.Validate(); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			if err := checkFlowApps(ctx, tx, f, flowAppsField); err != nil {
				return err
			}
			if err := tx.CreateUserFlow(ctx, f); err != nil {
				return flowStoreError(err)
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Add user flow", operation: "Add",
				targetType: "Policy", targetID: f.ID, name: f.DisplayName, after: toGraphUserFlow(f)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.Header().Set("Location", gatehouse.AdminAPIURL(s.PublicURL, t.Name)+"/identity/authenticationEventsFlows/"+f.ID)
		encode(w, http.StatusCreated, toGraphUserFlow(f))
	})
}

func (s *server) handleUserFlowUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in userFlowInput
		d, err := decodeUserFlowInput(w, r, &in)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			var before *gatehouse.UserFlow // the row the updater locked
			after, err := tx.UpdateUserFlow(ctx, t.ID, r.PathValue("id"), func(f *gatehouse.UserFlow) error {
				before = f.Clone()
				if err := in.apply(d, f, false); err != nil {
					return err
				}
				if err := f.Validate(); err != nil {
					return err
				}
				if err := checkFlowApps(ctx, tx, f, flowAppsField); err != nil {
					return err
				}
				if unchanged(toGraphUserFlow(before), toGraphUserFlow(f)) {
					return errUnchanged
				}
				return nil
			})
			if err != nil {
				return flowStoreError(err)
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Update user flow", operation: "Update",
				targetType: "Policy", targetID: after.ID, name: after.DisplayName,
				before: toGraphUserFlow(before), after: toGraphUserFlow(after)})
		})
		if err := noChange(err); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleUserFlowDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			f, err := tx.UserFlow(ctx, t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if err := tx.DeleteUserFlow(ctx, t.ID, f.ID); err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Delete user flow", operation: "Delete",
				targetType: "Policy", targetID: f.ID, name: f.DisplayName, before: toGraphUserFlow(f)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// flowAppsEntitySet is the @odata.context entity set of a flow's
// includeApplications.
func flowAppsEntitySet(flowID string) string {
	return "identity/authenticationEventsFlows('" + flowID + "')/conditions/applications/includeApplications"
}

func (s *server) handleUserFlowAppList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		f, err := s.Store.UserFlow(r.Context(), tenantFrom(r.Context()).ID, r.PathValue("id"))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		ids, next, err := page(f.AppIDs, func(id string) string { return id }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]graphFlowApp, 0, len(ids))
		for _, id := range ids {
			out = append(out, graphFlowApp{id})
		}
		s.writeCollection(w, r, flowAppsEntitySet(f.ID), out, next)
	})
}

// flowAppsChange is how the audit log shows a change of a flow's
// applications.
func flowAppsChange(f *gatehouse.UserFlow) map[string][]string {
	return map[string][]string{"includeApplications": nonNil(f.AppIDs)}
}

// handleUserFlowAppAdd makes the application with the appId of the body
// use the flow.
func (s *server) handleUserFlowAppAdd() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		var in struct {
			AppID *string `json:"appId"`
		}
		body, err := readBody(w, r)
		if err == nil {
			_, err = decodeBytes(body, &in)
		}
		if err == nil {
			err = checkODataType("@odata.type", bodyODataType(body), odataConditionApp)
		}
		if err == nil && (in.AppID == nil || *in.AppID == "") {
			err = gatehouse.FieldErrorf("appId", "appId is required: send {\"@odata.type\": %q, \"appId\": \"{the application's client ID}\"}.", odataConditionApp)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		appID := *in.AppID
		err = s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			before, err := tx.UserFlow(ctx, t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if slices.Contains(before.AppIDs, appID) {
				return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "appId", Message: fmt.Sprintf("The application with appId %s already uses the user flow %q.", appID, before.DisplayName)}
			}
			after, err := tx.UpdateUserFlow(ctx, t.ID, before.ID, func(f *gatehouse.UserFlow) error {
				f.AppIDs = append(f.AppIDs, appID)
				return checkFlowApps(ctx, tx, f, "appId")
			})
			if err != nil {
				return flowStoreError(err)
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Add application to user flow", operation: "Assign",
				targetType: "Policy", targetID: after.ID, name: after.DisplayName,
				before: flowAppsChange(before), after: flowAppsChange(after)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, struct {
			Context string `json:"@odata.context"`
			graphFlowApp
		}{gatehouse.AdminAPIURL(s.PublicURL, t.Name) + "/$metadata#" + flowAppsEntitySet(r.PathValue("id")) + "/$entity", graphFlowApp{appID}})
	})
}

func (s *server) handleUserFlowAppRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, t := r.Context(), tenantFrom(r.Context())
		appID := r.PathValue("appId")
		err := s.Store.Update(ctx, func(tx gatehouse.Tx) error {
			before, err := tx.UserFlow(ctx, t.ID, r.PathValue("id"))
			if err != nil {
				return err
			}
			if !slices.Contains(before.AppIDs, appID) {
				return gatehouse.Errorf(gatehouse.ENOTFOUND, "The application with appId %q does not use the user flow %q.", appID, before.DisplayName)
			}
			after, err := tx.UpdateUserFlow(ctx, t.ID, before.ID, func(f *gatehouse.UserFlow) error {
				f.AppIDs = slices.DeleteFunc(f.AppIDs, func(id string) bool { return id == appID })
				return nil
			})
			if err != nil {
				return err
			}
			return s.audit(r, tx, change{category: "Policy", activity: "Remove application from user flow", operation: "Unassign",
				targetType: "Policy", targetID: after.ID, name: after.DisplayName,
				before: flowAppsChange(before), after: flowAppsChange(after)})
		})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
