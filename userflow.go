package gatehouse

import (
	"regexp"
	"slices"
	"time"
)

// Identity providers of a user flow, named as Graph names them.
const (
	// IdentityProviderEmailPassword signs users in with email and password;
	// sign-up verifies the address with a one-time code.
	IdentityProviderEmailPassword = "EmailPassword-OAUTH"
	// IdentityProviderEmailOTP signs users in with a one-time code sent to
	// their email address (passwordless).
	IdentityProviderEmailOTP = "EmailOtpSignup-OAUTH"
)

// UserFlow is a sign-up and sign-in user flow: how the users of the apps
// that use it sign in, whether they may sign up, and what is asked of them
// when they do. An application uses at most one user flow.
type UserFlow struct {
	ID               string
	TenantID         string
	DisplayName      string
	Description      string
	IdentityProvider string // IdentityProviderEmailPassword or IdentityProviderEmailOTP
	SignUpAllowed    bool
	// PasskeySignIn offers signing in with a passkey alone (a Gatehouse
	// extension): the passkey, with user verification, is both factors.
	PasskeySignIn bool
	// Attributes are collected at sign-up, in this order.
	Attributes []FlowAttribute
	// AppIDs are the client IDs (appId) of the applications using the flow.
	AppIDs    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clone returns a deep copy of f: changing one leaves the other as it was.
func (f *UserFlow) Clone() *UserFlow {
	c := *f
	c.Attributes = slices.Clone(f.Attributes)
	c.AppIDs = slices.Clone(f.AppIDs)
	return &c
}

// FlowAttribute is a user attribute a flow collects at sign-up.
type FlowAttribute struct {
	Name     string `json:"name"`     // a BuiltInAttributes name, or a custom attribute's name
	Label    string `json:"label"`    // shown on the sign-up page
	DataType string `json:"dataType"` // "string", "boolean" or "int64"
	Required bool   `json:"required"`
	Custom   bool   `json:"custom"`
}

// BuiltInAttributes are the user properties a flow can collect, with the
// labels the sign-up page shows by default.
var BuiltInAttributes = []FlowAttribute{
	{Name: "displayName", Label: "Display name", DataType: "string"},
	{Name: "givenName", Label: "Given name", DataType: "string"},
	{Name: "surname", Label: "Surname", DataType: "string"},
	{Name: "city", Label: "City", DataType: "string"},
	{Name: "country", Label: "Country/Region", DataType: "string"},
	{Name: "postalCode", Label: "Postal code", DataType: "string"},
	{Name: "state", Label: "State/Province", DataType: "string"},
	{Name: "streetAddress", Label: "Street address", DataType: "string"},
	{Name: "jobTitle", Label: "Job title", DataType: "string"},
}

// BuiltInAttribute returns the built-in attribute called name, or false.
func BuiltInAttribute(name string) (FlowAttribute, bool) {
	for _, a := range BuiltInAttributes {
		if a.Name == name {
			return a, true
		}
	}
	return FlowAttribute{}, false
}

var customAttributeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Validate returns an EINVALID error naming the first bad field.
func (f *UserFlow) Validate() error {
	if f.DisplayName == "" {
		return FieldErrorf("displayName", "displayName is required.")
	}
	if err := ValidateText("displayName", f.DisplayName, 256); err != nil {
		return err
	}
	if err := ValidateText("description", f.Description, 1024); err != nil {
		return err
	}
	switch f.IdentityProvider {
	case IdentityProviderEmailPassword, IdentityProviderEmailOTP:
	default:
		return FieldErrorf("onAuthenticationMethodLoadStart.identityProviders", "Identity provider %q is not supported; use %s (email with password) or %s (email one-time passcode).", f.IdentityProvider, IdentityProviderEmailPassword, IdentityProviderEmailOTP)
	}
	seen := map[string]bool{}
	for _, a := range f.Attributes {
		field := "onAttributeCollection.attributes"
		if seen[a.Name] {
			return FieldErrorf(field, "Attribute %q is listed twice.", a.Name)
		}
		seen[a.Name] = true
		if a.Custom {
			if !customAttributeRE.MatchString(a.Name) {
				return FieldErrorf(field, "Custom attribute name %q is not valid: use up to 64 letters, digits and underscores, starting with a letter.", a.Name)
			}
			if _, builtin := BuiltInAttribute(a.Name); builtin {
				return FieldErrorf(field, "Custom attribute %q has the name of a built-in attribute.", a.Name)
			}
		} else if _, ok := BuiltInAttribute(a.Name); !ok {
			return FieldErrorf(field, "Attribute %q is not a built-in attribute; mark it custom or use one of displayName, givenName, surname, city, country, postalCode, state, streetAddress, jobTitle.", a.Name)
		}
		switch a.DataType {
		case "string", "boolean", "int64":
		default:
			return FieldErrorf(field, "Attribute %q has dataType %q; use string, boolean or int64.", a.Name, a.DataType)
		}
		if err := ValidateText(field, a.Label, 128); err != nil {
			return err
		}
	}
	return nil
}
