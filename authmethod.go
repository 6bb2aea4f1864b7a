package gatehouse

import (
	"slices"
	"strings"
	"time"
)

// Authentication methods. The second factors are the methods of the
// authentication methods policy, named after the IDs of Graph's
// authenticationMethodConfiguration (lowercased); recovery codes are a
// Gatehouse extension. A password is a first factor only.
const (
	MethodPassword     = "password"
	MethodEmail        = "email"        // a one-time code sent to the user's email address
	MethodSMS          = "sms"          // a one-time code sent by text message
	MethodSoftwareOath = "softwareOath" // a TOTP authenticator app (RFC 6238)
	MethodFido2        = "fido2"        // a passkey (WebAuthn)
	MethodRecoveryCode = "recoveryCode" // one of ten single-use recovery codes
)

// PolicyMethods are the methods of the authentication methods policy, in
// the order the policy lists them.
var PolicyMethods = []string{MethodEmail, MethodSMS, MethodSoftwareOath, MethodFido2, MethodRecoveryCode}

// AllUsers is the target of a method policy that includes every user, as
// Graph names it.
const AllUsers = "all_users"

// MethodsPolicy is the tenant's authentication methods policy: which
// second factors are enabled, and for whom. A method is offered to a user
// only when it is enabled, one of its include targets holds the user, and
// none of its exclude targets does.
type MethodsPolicy struct {
	TenantID  string
	Methods   []MethodConfig // one per PolicyMethods entry, in that order
	UpdatedAt time.Time      // zero until the policy is first changed
}

// MethodConfig is one method's part of the methods policy.
type MethodConfig struct {
	Method  string   `json:"method"`
	Enabled bool     `json:"enabled"`
	Include []string `json:"include"` // AllUsers or group IDs
	Exclude []string `json:"exclude"` // group IDs
	// SelfServiceRegistration lets users register passkeys themselves
	// (fido2 only; Graph's isSelfServiceRegistrationAllowed).
	SelfServiceRegistration bool `json:"selfServiceRegistration,omitempty"`
	// KeyRestrictions limits the passkeys that may be registered by their
	// authenticator model (fido2 only).
	KeyRestrictions *KeyRestrictions `json:"keyRestrictions,omitempty"`
}

// KeyRestrictions is Graph's fido2KeyRestrictions: when Enforced, only
// authenticators whose AAGUID is listed (Allow) or not listed (block) may
// be registered.
type KeyRestrictions struct {
	Enforced bool     `json:"enforced"`
	Allow    bool     `json:"allow"` // true: enforcementType "allow"; false: "block"
	AAGUIDs  []string `json:"aaguids"`
}

// Permits reports whether an authenticator with the AAGUID (lowercase,
// hyphenated) may be registered under the restrictions.
func (k *KeyRestrictions) Permits(aaguid string) bool {
	if k == nil || !k.Enforced {
		return true
	}
	listed := slices.ContainsFunc(k.AAGUIDs, func(a string) bool { return strings.EqualFold(a, aaguid) })
	return listed == k.Allow
}

// DefaultMethodsPolicy is the policy of a tenant that has never changed
// it: every method disabled and targeted at all users, passkeys
// registrable by their users once enabled (as Graph's defaults are).
func DefaultMethodsPolicy(tenantID string) *MethodsPolicy {
	p := &MethodsPolicy{TenantID: tenantID}
	for _, m := range PolicyMethods {
		c := MethodConfig{Method: m, Include: []string{AllUsers}, Exclude: []string{}}
		if m == MethodFido2 {
			c.SelfServiceRegistration = true
		}
		p.Methods = append(p.Methods, c)
	}
	return p
}

// Clone returns a deep copy of p.
func (p *MethodsPolicy) Clone() *MethodsPolicy {
	c := *p
	c.Methods = make([]MethodConfig, len(p.Methods))
	for i, m := range p.Methods {
		m.Include = slices.Clone(m.Include)
		m.Exclude = slices.Clone(m.Exclude)
		if m.KeyRestrictions != nil {
			k := *m.KeyRestrictions
			k.AAGUIDs = slices.Clone(k.AAGUIDs)
			m.KeyRestrictions = &k
		}
		c.Methods[i] = m
	}
	return &c
}

// Config returns the configuration of the method; a method the stored
// policy lacks (one added by a later version) has its default one.
func (p *MethodsPolicy) Config(method string) MethodConfig {
	for _, c := range p.Methods {
		if c.Method == method {
			return c
		}
	}
	for _, c := range DefaultMethodsPolicy(p.TenantID).Methods {
		if c.Method == method {
			return c
		}
	}
	return MethodConfig{Method: method}
}

// SetConfig replaces the configuration of c's method.
func (p *MethodsPolicy) SetConfig(c MethodConfig) {
	for i := range p.Methods {
		if p.Methods[i].Method == c.Method {
			p.Methods[i] = c
			return
		}
	}
	p.Methods = append(p.Methods, c)
}

// Offers reports whether the method is enabled for a user who is a member
// of the groups.
func (p *MethodsPolicy) Offers(method string, groupIDs []string) bool {
	c := p.Config(method)
	if !c.Enabled {
		return false
	}
	for _, g := range c.Exclude {
		if slices.Contains(groupIDs, g) {
			return false
		}
	}
	for _, t := range c.Include {
		if t == AllUsers || slices.Contains(groupIDs, t) {
			return true
		}
	}
	return false
}

// Groups returns the IDs of the groups the policy targets, each once.
func (p *MethodsPolicy) Groups() []string {
	var out []string
	for _, c := range p.Methods {
		for _, id := range slices.Concat(c.Include, c.Exclude) {
			if id != AllUsers && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// UserMethod is an authentication method a user has registered: an
// authenticator app, a passkey, a phone for text messages, or a set of
// recovery codes. (The email method needs no registration: it is the
// user's verified sign-in address.)
type UserMethod struct {
	ID          string
	TenantID    string
	UserID      string
	Method      string // MethodSoftwareOath, MethodFido2, MethodSMS or MethodRecoveryCode
	DisplayName string
	CreatedAt   time.Time
	LastUsedAt  time.Time

	// TOTP holds an authenticator app's secret (MethodSoftwareOath).
	TOTP *TOTPSecret `json:"totp,omitempty"`
	// Phone is the E.164 number text messages go to (MethodSMS).
	Phone string `json:"phone,omitempty"`
	// Passkey is a WebAuthn credential (MethodFido2).
	Passkey *PasskeyCredential `json:"passkey,omitempty"`
	// RecoveryCodes are the hashes of a set of recovery codes
	// (MethodRecoveryCode).
	RecoveryCodes []RecoveryCode `json:"recoveryCodes,omitempty"`
}

// Clone returns a deep copy of m.
func (m *UserMethod) Clone() *UserMethod {
	c := *m
	if m.TOTP != nil {
		t := *m.TOTP
		t.Sealed = slices.Clone(m.TOTP.Sealed)
		c.TOTP = &t
	}
	if m.Passkey != nil {
		p := *m.Passkey
		p.CredentialID = slices.Clone(p.CredentialID)
		p.PublicKey = slices.Clone(p.PublicKey)
		p.AAGUID = slices.Clone(p.AAGUID)
		p.Transports = slices.Clone(p.Transports)
		c.Passkey = &p
	}
	c.RecoveryCodes = slices.Clone(m.RecoveryCodes)
	return &c
}

// TOTPSecret is an authenticator app's shared secret, sealed with the
// server's key (TOTP-1), and the last time step accepted, which is never
// accepted again (TOTP-3).
type TOTPSecret struct {
	Sealed   []byte `json:"sealed"`
	LastStep int64  `json:"lastStep"`
}

// PasskeyCredential is a registered WebAuthn credential.
type PasskeyCredential struct {
	CredentialID    []byte   `json:"credentialId"`
	PublicKey       []byte   `json:"publicKey"` // COSE
	AttestationType string   `json:"attestationType"`
	AAGUID          []byte   `json:"aaguid"`
	SignCount       uint32   `json:"signCount"`
	Transports      []string `json:"transports,omitempty"`
	// BackupEligible marks a passkey that may be synced between devices
	// (amr swk rather than hwk).
	BackupEligible bool `json:"backupEligible"`
	BackupState    bool `json:"backupState"`
	// CloneWarning is set once an assertion's signature counter went
	// backwards (WA-3): the authenticator may have been cloned.
	CloneWarning bool `json:"cloneWarning,omitempty"`
}

// RecoveryCode is one recovery code, stored as a keyed hash.
type RecoveryCode struct {
	Hash   string    `json:"hash"`
	UsedAt time.Time `json:"usedAt,omitzero"`
}

// RemainingRecoveryCodes returns how many of the set's codes are unused.
func (m *UserMethod) RemainingRecoveryCodes() int {
	n := 0
	for _, c := range m.RecoveryCodes {
		if c.UsedAt.IsZero() {
			n++
		}
	}
	return n
}

// MethodUse is one authentication a sign-in went through: which method,
// which of the user's registered methods (for those that are registered),
// and when.
type MethodUse struct {
	Method   string    `json:"method"`
	MethodID string    `json:"id,omitempty"`
	At       time.Time `json:"at"`
	// UserVerified marks a passkey assertion with user verification (a
	// PIN or biometric): such a passkey is two factors in one (WA-5).
	UserVerified bool `json:"uv,omitempty"`
	// Synced marks a passkey that may be synced between devices.
	Synced bool `json:"synced,omitempty"`
	// Carried marks, in an authorization request, an authentication
	// carried over from the browser's session rather than done in this
	// request (prompt=login counts only the others).
	Carried bool `json:"carried,omitempty"`
}

// CarriedOver returns uses marked as carried over into a new request.
func CarriedOver(uses []MethodUse) []MethodUse {
	out := make([]MethodUse, len(uses))
	for i, u := range uses {
		u.Carried = true
		out[i] = u
	}
	return out
}

// Settled returns uses without the carried-over marks, as a session
// records them.
func Settled(uses []MethodUse) []MethodUse {
	out := make([]MethodUse, len(uses))
	for i, u := range uses {
		u.Carried = false
		out[i] = u
	}
	return out
}

// IsFirstFactor reports whether a method can be a sign-in's first factor.
func IsFirstFactor(method string) bool {
	return method == MethodPassword || method == MethodEmail || method == MethodFido2
}
