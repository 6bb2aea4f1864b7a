package mfa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// Passkeys (WebAuthn) with github.com/go-webauthn/webauthn, which does the
// checks of the specification (WA-2, WA-3): the client data's type,
// challenge and origin, the RP ID hash, the user presence and, where
// required, user verification flags, the credential's algorithm against
// the allowlist, the attestation statement's format and signature, the
// assertion's signature, the backup flags' consistency, and that an
// assertion's credential belongs to the user. What is Gatehouse's own:
// the ceremony state (kind, owner, expiry), the key restrictions of the
// methods policy, the sign counter check under the credential's row lock
// (PasskeyUse.Apply), and the mapping to the domain's PasskeyCredential.
//
// A ceremony's state is opaque bytes that the caller keeps in the
// authorization request (AuthRequest.Progress.WebAuthn) and must clear in
// the transaction that reads it back, before the response is verified:
// each challenge is then answered at most once (WA-1).

// PasskeyCeremonyLifetime is how long the browser may take to answer a
// challenge (WA-1): the timeout the browser is given, and the expiry of
// the ceremony's state, well inside the 30 minutes of the authorization
// request that holds it.
const PasskeyCeremonyLifetime = 5 * time.Minute

// PasskeyAlgorithms are the COSE algorithms a passkey may use, in order of
// preference: ES256, EdDSA, RS256. A registration with any other
// algorithm is refused (WA-2).
var PasskeyAlgorithms = []webauthncose.COSEAlgorithmIdentifier{webauthncose.AlgES256, webauthncose.AlgEdDSA, webauthncose.AlgRS256}

// Kinds of passkey ceremonies.
const (
	// CeremonyRegister registers a new passkey for a known user.
	CeremonyRegister = "register"
	// CeremonyVerify asks a known user for one of their passkeys: a
	// second factor, with user verification preferred.
	CeremonyVerify = "verify"
	// CeremonySignIn asks for any passkey of the site (a discoverable
	// credential) with user verification required: a first factor that
	// is both factors in one (WA-5).
	CeremonySignIn = "signin"
)

// Errors of the passkey ceremonies. Each is wrapped with details for the
// log; callers tell them apart with errors.Is.
var (
	// ErrPasskeysUnavailable: the public URL cannot be a relying party.
	ErrPasskeysUnavailable = errors.New("passkeys are unavailable")
	// ErrCeremonyExpired: there is no live ceremony of the kind for the
	// user (it expired, was already answered, or was never started).
	ErrCeremonyExpired = errors.New("the passkey request expired or was already used")
	// ErrPasskeyRejected: the browser's response failed a check.
	ErrPasskeyRejected = errors.New("the passkey's response failed verification")
	// ErrPasskeyUnknown: the assertion's credential is not one of the
	// user's registered passkeys.
	ErrPasskeyUnknown = errors.New("the passkey is not registered to the user")
	// ErrPasskeyRestricted: the authenticator's model (AAGUID) is not
	// allowed by the methods policy's key restrictions.
	ErrPasskeyRestricted = errors.New("the authenticator model is not allowed by the key restrictions")
	// ErrPasskeyNotVerified: a sign-in's authenticator did not verify the
	// user, which a passkey alone needs (WA-5).
	ErrPasskeyNotVerified = errors.New("the authenticator did not verify the user")
)

// Passkeys is the WebAuthn relying party of a Gatehouse server: its RP ID
// is the host of the public URL and its one origin the public URL's
// origin, for every tenant.
type Passkeys struct {
	wa     *webauthn.WebAuthn
	rpID   string
	origin string
	now    func() time.Time
}

// NewPasskeys returns the relying party of the public URL. A host that is
// an IP address cannot be an RP ID (browsers refuse it): that is
// ErrPasskeysUnavailable, and so is a URL without an http(s) scheme and a
// host.
func NewPasskeys(publicURL string, now func() time.Time) (*Passkeys, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: the public URL %q is not an http or https URL with a host", ErrPasskeysUnavailable, publicURL)
	}
	host := strings.ToLower(u.Hostname())
	if _, err := netip.ParseAddr(host); err == nil {
		return nil, fmt.Errorf("%w: the public URL's host %s is an IP address, which browsers refuse as a WebAuthn relying party ID; use a host name (http://localhost:PORT on a development machine)", ErrPasskeysUnavailable, host)
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	timeouts := webauthn.TimeoutConfig{Timeout: PasskeyCeremonyLifetime, TimeoutUVD: PasskeyCeremonyLifetime}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: host, RPDisplayName: "Gatehouse", RPOrigins: []string{origin},
		Timeouts: webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeysUnavailable, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Passkeys{wa: wa, rpID: host, origin: origin, now: now}, nil
}

// RPID returns the relying party ID: the public URL's host.
func (p *Passkeys) RPID() string { return p.rpID }

// Origin returns the one origin responses may come from.
func (p *Passkeys) Origin() string { return p.origin }

// PasskeyUser is the user of a ceremony.
type PasskeyUser struct {
	// ID is the user's ID, which is also the WebAuthn user handle: random,
	// stable, and unique across tenants.
	ID string
	// Name is what the browser shows for the account (the sign-in
	// address); DisplayName the person's name, or Name when empty.
	Name, DisplayName string
	// Passkeys are the user's registered passkeys (methods of kind
	// MethodFido2); others are ignored.
	Passkeys []*gatehouse.UserMethod
}

// waUser is a PasskeyUser as the library sees it.
type waUser struct{ u PasskeyUser }

func (w waUser) WebAuthnID() []byte   { return []byte(w.u.ID) }
func (w waUser) WebAuthnName() string { return w.u.Name }

func (w waUser) WebAuthnDisplayName() string {
	if w.u.DisplayName != "" {
		return w.u.DisplayName
	}
	return w.u.Name
}

func (w waUser) WebAuthnCredentials() []webauthn.Credential {
	var out []webauthn.Credential
	for _, m := range w.u.Passkeys {
		if m.Passkey != nil {
			out = append(out, credentialOf(m.Passkey))
		}
	}
	return out
}

// credentialOf returns the library's view of a stored passkey.
func credentialOf(c *gatehouse.PasskeyCredential) webauthn.Credential {
	var transports []protocol.AuthenticatorTransport
	for _, t := range c.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: c.CredentialID, PublicKey: c.PublicKey, AttestationType: c.AttestationType, Transport: transports,
		Flags:         webauthn.CredentialFlags{UserPresent: true, BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount, CloneWarning: c.CloneWarning},
	}
}

// ceremony is the state of a ceremony in progress: what the browser was
// given (Options, the PublicKeyCredentialCreationOptions or
// PublicKeyCredentialRequestOptions as JSON) and what checking its answer
// needs.
type ceremony struct {
	Kind    string               `json:"kind"`
	UserID  string               `json:"userId,omitempty"`
	Options json.RawMessage      `json:"options"`
	Session webauthn.SessionData `json:"session"`
	Expires time.Time            `json:"expires"`
}

func (p *Passkeys) encode(kind, userID string, options any, sd *webauthn.SessionData) ([]byte, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ceremony{Kind: kind, UserID: userID, Options: opts, Session: *sd, Expires: p.now().Add(PasskeyCeremonyLifetime)})
}

// open returns the live ceremony of the kind in state, for the user ("" for
// a sign-in), or ErrCeremonyExpired.
func (p *Passkeys) open(state []byte, kind, userID string) (*ceremony, error) {
	if len(state) == 0 {
		return nil, ErrCeremonyExpired
	}
	var c ceremony
	if err := json.Unmarshal(state, &c); err != nil {
		return nil, fmt.Errorf("%w: unreadable ceremony state: %v", ErrCeremonyExpired, err)
	}
	switch {
	case c.Kind != kind:
		return nil, fmt.Errorf("%w: a %s ceremony was started, not a %s one", ErrCeremonyExpired, c.Kind, kind)
	case c.UserID != userID:
		return nil, fmt.Errorf("%w: the ceremony was started for another user", ErrCeremonyExpired)
	case !p.now().Before(c.Expires):
		return nil, fmt.Errorf("%w: it expired at %s", ErrCeremonyExpired, c.Expires.Format(time.RFC3339))
	}
	return &c, nil
}

// Pending returns the kind of the ceremony in state and the options its
// browser page passes to the WebAuthn API, while it is live.
func (p *Passkeys) Pending(state []byte) (kind string, options []byte, ok bool) {
	var c ceremony
	if len(state) == 0 || json.Unmarshal(state, &c) != nil || !p.now().Before(c.Expires) {
		return "", nil, false
	}
	return c.Kind, c.Options, true
}

// credentialParameters are the PasskeyAlgorithms as the options list them.
func credentialParameters() []protocol.CredentialParameter {
	out := make([]protocol.CredentialParameter, len(PasskeyAlgorithms))
	for i, a := range PasskeyAlgorithms {
		out[i] = protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: a}
	}
	return out
}

// BeginRegistration starts the registration of a passkey for u and returns
// the ceremony's state. The browser is asked for a discoverable credential
// (a passkey that can also sign in alone) with one of PasskeyAlgorithms,
// user verification preferred, and not one of u's passkeys again. rpName
// is the name the browser shows for the site (the tenant's). Under
// enforced key restrictions the browser is asked for the authenticator's
// attestation (direct), so that it passes on the model's AAGUID.
func (p *Passkeys) BeginRegistration(u PasskeyUser, rpName string, kr *gatehouse.KeyRestrictions) ([]byte, error) {
	if rpName == "" {
		rpName = "Gatehouse"
	}
	conveyance := protocol.PreferNoAttestation
	if kr != nil && kr.Enforced {
		conveyance = protocol.PreferDirectAttestation
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range (waUser{u}).WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	resident := true
	creation, sd, err := p.wa.BeginRegistration(waUser{u},
		webauthn.WithRegistrationRelyingPartyName(rpName),
		webauthn.WithCredentialParameters(credentialParameters()),
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{RequireResidentKey: &resident,
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationPreferred}),
		webauthn.WithConveyancePreference(conveyance))
	if err != nil {
		return nil, fmt.Errorf("mfa: begin passkey registration: %w", err)
	}
	return p.encode(CeremonyRegister, u.ID, creation.Response, sd)
}

// PasskeyRegistration is a passkey that FinishRegistration accepted.
type PasskeyRegistration struct {
	Credential gatehouse.PasskeyCredential
	// UserVerified: the authenticator verified the user (PIN, biometric)
	// while creating the passkey.
	UserVerified bool
	// AAGUID names the authenticator's model (lowercase, hyphenated; all
	// zeros when the authenticator or browser does not say).
	AAGUID string
}

// FinishRegistration checks the browser's answer (the
// PublicKeyCredential's JSON) to the registration ceremony in state, and
// the authenticator's model against the key restrictions (kr, nil for
// none). It returns ErrCeremonyExpired, ErrPasskeyRejected or
// ErrPasskeyRestricted, wrapped.
func (p *Passkeys) FinishRegistration(u PasskeyUser, state, response []byte, kr *gatehouse.KeyRestrictions) (*PasskeyRegistration, error) {
	c, err := p.open(state, CeremonyRegister, u.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, rejected(err)
	}
	cred, err := p.wa.CreateCredential(waUser{u}, c.Session, parsed)
	if err != nil {
		return nil, rejected(err)
	}
	aaguid, err := uuid.FromBytes(cred.Authenticator.AAGUID)
	if err != nil {
		return nil, fmt.Errorf("%w: the AAGUID is not 16 bytes", ErrPasskeyRejected)
	}
	if !kr.Permits(aaguid.String()) {
		return nil, fmt.Errorf("%w: AAGUID %s", ErrPasskeyRestricted, aaguid)
	}
	var transports []string
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	flags := parsed.Response.AttestationObject.AuthData.Flags
	return &PasskeyRegistration{
		Credential: gatehouse.PasskeyCredential{
			CredentialID: cred.ID, PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
			AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, Transports: transports,
			BackupEligible: flags.HasBackupEligible(), BackupState: flags.HasBackupState(),
		},
		UserVerified: flags.HasUserVerified(),
		AAGUID:       aaguid.String(),
	}, nil
}

// BeginVerify starts an assertion with one of u's passkeys (a second
// factor), user verification preferred, and returns its state.
func (p *Passkeys) BeginVerify(u PasskeyUser) ([]byte, error) {
	assertion, sd, err := p.wa.BeginLogin(waUser{u}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("mfa: begin passkey assertion: %w", err)
	}
	return p.encode(CeremonyVerify, u.ID, assertion.Response, sd)
}

// BeginSignIn starts an assertion with any of the site's passkeys the
// browser has (a discoverable credential), user verification required (a
// first factor, WA-5), and returns its state.
func (p *Passkeys) BeginSignIn() ([]byte, error) {
	assertion, sd, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("mfa: begin passkey sign-in: %w", err)
	}
	return p.encode(CeremonySignIn, "", assertion.Response, sd)
}

// PasskeyAssertion is a browser's answer to an assertion, parsed: the
// caller looks its credential up before FinishAssertion checks it.
type PasskeyAssertion struct {
	parsed *protocol.ParsedCredentialAssertionData
}

// ParseAssertion parses the PublicKeyCredential's JSON of an assertion;
// malformed JSON is ErrPasskeyRejected, wrapped.
func ParseAssertion(response []byte) (*PasskeyAssertion, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, rejected(err)
	}
	return &PasskeyAssertion{parsed: parsed}, nil
}

// CredentialID returns the ID of the credential that answered.
func (a *PasskeyAssertion) CredentialID() []byte { return a.parsed.RawID }

// UserHandle returns the user handle the authenticator returned (that of
// a discoverable credential; it may be empty otherwise).
func (a *PasskeyAssertion) UserHandle() []byte { return a.parsed.Response.UserHandle }

// PasskeyUse is an assertion FinishAssertion accepted.
type PasskeyUse struct {
	// MethodID is the ID of the user's method whose passkey answered.
	MethodID string
	// SignCount is the authenticator's signature counter.
	SignCount uint32
	// UserVerified: the authenticator verified the user (WA-5).
	UserVerified bool
	// BackupEligible marks a passkey that may be synced (amr swk);
	// BackupState one that is.
	BackupEligible, BackupState bool
}

// FinishAssertion checks an assertion against the ceremony in state: of
// kind CeremonyVerify for u, or CeremonySignIn (any user; the credential
// must then be one of u's and its user handle u's ID). It returns
// ErrCeremonyExpired, ErrPasskeyUnknown, ErrPasskeyNotVerified (a sign-in
// without user verification) or ErrPasskeyRejected, wrapped.
// The sign counter is checked by PasskeyUse.Apply, under the lock of the
// stored credential.
func (p *Passkeys) FinishAssertion(u PasskeyUser, state []byte, kind string, a *PasskeyAssertion) (*PasskeyUse, error) {
	owner := u.ID
	if kind == CeremonySignIn {
		owner = ""
	}
	c, err := p.open(state, kind, owner)
	if err != nil {
		return nil, err
	}
	var method *gatehouse.UserMethod
	for _, m := range u.Passkeys {
		if m.Passkey != nil && bytes.Equal(m.Passkey.CredentialID, a.parsed.RawID) {
			method = m
		}
	}
	if method == nil {
		return nil, ErrPasskeyUnknown
	}
	flags := a.parsed.Response.AuthenticatorData.Flags
	if kind == CeremonySignIn && !flags.HasUserVerified() {
		return nil, ErrPasskeyNotVerified
	}
	wu := waUser{u}
	switch kind {
	case CeremonyVerify:
		_, err = p.wa.ValidateLogin(wu, c.Session, a.parsed)
	case CeremonySignIn:
		_, _, err = p.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, wu.WebAuthnID()) {
				return nil, errors.New("the user handle is not the passkey owner's")
			}
			return wu, nil
		}, c.Session, a.parsed)
	default:
		return nil, fmt.Errorf("mfa: %q is not an assertion ceremony", kind)
	}
	if err != nil {
		return nil, rejected(err)
	}
	return &PasskeyUse{MethodID: method.ID, SignCount: a.parsed.Response.AuthenticatorData.Counter,
		UserVerified: flags.HasUserVerified(), BackupEligible: flags.HasBackupEligible(), BackupState: flags.HasBackupState()}, nil
}

// CounterRegressed reports whether an assertion's signature counter got
// is no greater than the stored one, which signals a cloned authenticator
// (WebAuthn §7.2). Authenticators that keep no counter (most
// synced passkeys) always send 0, and are never flagged while the stored
// counter is 0 too.
func CounterRegressed(stored, got uint32) bool {
	return (got != 0 || stored != 0) && got <= stored
}

// Apply records the use on the stored credential c, which the caller has
// locked: the new counter and backup state, or, when the counter
// regressed, CloneWarning (and nothing else). It reports whether the
// counter regressed; Gatehouse then refuses the assertion.
func (use *PasskeyUse) Apply(c *gatehouse.PasskeyCredential) (regressed bool) {
	if CounterRegressed(c.SignCount, use.SignCount) {
		c.CloneWarning = true
		return true
	}
	c.SignCount, c.BackupState = use.SignCount, use.BackupState
	return false
}

// rejected wraps a library error as ErrPasskeyRejected with what the
// library says about it, for the log.
func rejected(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		detail := pe.Details
		if pe.DevInfo != "" {
			detail += " (" + pe.DevInfo + ")"
		}
		return fmt.Errorf("%w: %s", ErrPasskeyRejected, detail)
	}
	return fmt.Errorf("%w: %v", ErrPasskeyRejected, err)
}
