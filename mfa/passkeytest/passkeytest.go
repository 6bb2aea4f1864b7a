// Package passkeytest is a software WebAuthn authenticator and client for
// tests: it answers the options Gatehouse gives the browser with the JSON
// a browser posts back (PublicKeyCredential.toJSON()), built with
// crypto/ecdsa, crypto/ed25519 or crypto/rsa and CBOR as CTAP2 does. Its
// fields let a test play a faulty or malicious client or authenticator:
// another origin or RP ID, a wrong ceremony type or challenge, no user
// presence or verification, a forbidden algorithm, a counter that goes
// backwards, a broken signature.
package passkeytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// COSE algorithm identifiers.
const (
	ES256 = -7
	EdDSA = -8
	ES384 = -35
	RS256 = -257
)

// Authenticator is a software authenticator together with the browser that
// talks to it. The zero value is not usable; call New.
type Authenticator struct {
	// Origin is the origin the client reports in its client data.
	Origin string
	// RPID, when set, is the RP ID whose hash the authenticator data
	// carries instead of the one the options name.
	RPID string
	// Type, when set, replaces the client data's ceremony type.
	Type string
	// Challenge, when set, replaces the challenge the client signs.
	Challenge []byte
	// Alg is the COSE algorithm of new credentials (ES256 by default),
	// used whether or not the options offer it.
	Alg int
	// AAGUID names the authenticator's model.
	AAGUID [16]byte
	// NoPresence clears the user presence flag; UserVerification sets the
	// user verification flag (the authenticator checked a PIN or a
	// biometric).
	NoPresence       bool
	UserVerification bool
	// BackupEligible and BackupState set those flags (a synced passkey).
	BackupEligible, BackupState bool
	// CounterStep is added to a credential's counter at each assertion; 0
	// keeps it at 0, as synced passkeys do.
	CounterStep uint32
	// BadSignature corrupts assertion signatures.
	BadSignature bool
	// CredentialID, when set, is the ID of the next credential created
	// (one another user has, say).
	CredentialID []byte

	// Credentials are the credentials created so far, oldest first.
	Credentials []*Credential
}

// Credential is one credential the authenticator holds.
type Credential struct {
	ID         []byte
	UserHandle []byte
	RPID       string
	Counter    uint32
	alg        int
	key        crypto.Signer
}

// New returns an authenticator whose client reports origin, that verifies
// its user, with counters that count.
func New(origin string) *Authenticator {
	a := &Authenticator{Origin: origin, Alg: ES256, UserVerification: true, CounterStep: 1}
	_, _ = rand.Read(a.AAGUID[:])
	return a
}

// b64 is the base64url encoding without padding of WebAuthn's JSON.
var b64 = base64.RawURLEncoding

// Bytes is binary data in WebAuthn's JSON: a base64url string.
type Bytes []byte

func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(b64.EncodeToString(b)) }

func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := b64.DecodeString(s)
	*b = v
	return err
}

type descriptor struct {
	Type string `json:"type"`
	ID   Bytes  `json:"id"`
}

// creationOptions is what Create reads of PublicKeyCredentialCreationOptions.
type creationOptions struct {
	RP struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID Bytes `json:"id"`
	} `json:"user"`
	Challenge Bytes `json:"challenge"`
	Params    []struct {
		Alg int `json:"alg"`
	} `json:"pubKeyCredParams"`
	Exclude []descriptor `json:"excludeCredentials"`
}

// requestOptions is what Get reads of PublicKeyCredentialRequestOptions.
type requestOptions struct {
	Challenge Bytes        `json:"challenge"`
	RPID      string       `json:"rpId"`
	Allow     []descriptor `json:"allowCredentials"`
}

// ErrExcluded is Create's answer to options that exclude one of its
// credentials for the RP (the browser's InvalidStateError).
var ErrExcluded = errors.New("passkeytest: a credential of this authenticator is excluded")

// ErrNoCredential is Get's answer when it holds no credential the options
// allow (the browser's NotAllowedError).
var ErrNoCredential = errors.New("passkeytest: no credential for these options")

// Create answers creation options (the JSON of
// PublicKeyCredentialCreationOptions) with a new discoverable credential,
// returning the PublicKeyCredential's JSON with a "none" attestation.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("passkeytest: creation options: %w", err)
	}
	for _, ex := range o.Exclude {
		if a.find(o.RP.ID, ex.ID) != nil {
			return nil, ErrExcluded
		}
	}
	c := &Credential{ID: make([]byte, 32), UserHandle: o.User.ID, RPID: o.RP.ID, alg: a.Alg}
	_, _ = rand.Read(c.ID)
	if a.CredentialID != nil {
		c.ID, a.CredentialID = a.CredentialID, nil
	}
	key, cose, err := newKey(a.Alg)
	if err != nil {
		return nil, err
	}
	c.key = key
	clientData, err := a.clientData("webauthn.create", o.Challenge)
	if err != nil {
		return nil, err
	}
	auth := a.authData(o.RP.ID, 0x40, 0)
	auth = append(auth, a.AAGUID[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, err
	}
	a.Credentials = append(a.Credentials, c)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": Bytes(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": Bytes(clientData), "attestationObject": Bytes(att), "transports": []string{"internal"}},
	})
}

// Get answers request options (the JSON of
// PublicKeyCredentialRequestOptions) with an assertion of the first
// credential the options allow, or, when they allow any (a discoverable
// sign-in), of the newest credential for the RP.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("passkeytest: request options: %w", err)
	}
	var c *Credential
	for _, d := range o.Allow {
		if c = a.find(o.RPID, d.ID); c != nil {
			break
		}
	}
	if len(o.Allow) == 0 {
		for _, cand := range a.Credentials {
			if cand.RPID == o.RPID {
				c = cand
			}
		}
	}
	if c == nil {
		return nil, ErrNoCredential
	}
	return a.Assert(c, o.RPID, o.Challenge)
}

// Assert signs an assertion of credential c for the RP ID and challenge.
func (a *Authenticator) Assert(c *Credential, rpID string, challenge []byte) ([]byte, error) {
	clientData, err := a.clientData("webauthn.get", challenge)
	if err != nil {
		return nil, err
	}
	c.Counter += a.CounterStep
	auth := a.authData(rpID, 0, c.Counter)
	sum := sha256.Sum256(clientData)
	sig, err := sign(c.key, c.alg, append(append([]byte{}, auth...), sum[:]...))
	if err != nil {
		return nil, err
	}
	if a.BadSignature {
		sig[len(sig)-1] ^= 0xff
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": Bytes(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": Bytes(clientData), "authenticatorData": Bytes(auth),
			"signature": Bytes(sig), "userHandle": Bytes(c.UserHandle)},
	})
}

func (a *Authenticator) find(rpID string, id []byte) *Credential {
	for _, c := range a.Credentials {
		if c.RPID == rpID && string(c.ID) == string(id) {
			return c
		}
	}
	return nil
}

// clientData returns the client data JSON of a ceremony.
func (a *Authenticator) clientData(typ string, challenge []byte) ([]byte, error) {
	if a.Type != "" {
		typ = a.Type
	}
	if a.Challenge != nil {
		challenge = a.Challenge
	}
	return json.Marshal(map[string]any{"type": typ, "challenge": b64.EncodeToString(challenge), "origin": a.Origin, "crossOrigin": false})
}

// authData returns the authenticator data's fixed part: the RP ID hash,
// the flags (with extra, such as AT), the counter.
func (a *Authenticator) authData(rpID string, extra byte, counter uint32) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := extra
	if !a.NoPresence {
		flags |= 0x01
	}
	if a.UserVerification {
		flags |= 0x04
	}
	if a.BackupEligible {
		flags |= 0x08
	}
	if a.BackupState {
		flags |= 0x10
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

// newKey returns a new key of the COSE algorithm and its COSE_Key.
func newKey(alg int) (crypto.Signer, []byte, error) {
	switch alg {
	case ES256, ES384:
		curve, crv, size := elliptic.P256(), 1, 32
		if alg == ES384 {
			curve, crv, size = elliptic.P384(), 2, 48
		}
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: alg, -1: crv, -2: k.X.FillBytes(make([]byte, size)), -3: k.Y.FillBytes(make([]byte, size))})
		return k, cose, err
	case EdDSA:
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		cose, err := webauthncbor.Marshal(map[int]any{1: 1, 3: alg, -1: 6, -2: []byte(pub)})
		return k, cose, err
	case RS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, err
		}
		cose, err := webauthncbor.Marshal(map[int]any{1: 3, 3: alg, -1: k.N.Bytes(), -2: big.NewInt(int64(k.E)).Bytes()})
		return k, cose, err
	}
	return nil, nil, fmt.Errorf("passkeytest: algorithm %d is not supported", alg)
}

// sign signs data as a WebAuthn assertion with the algorithm.
func sign(k crypto.Signer, alg int, data []byte) ([]byte, error) {
	switch alg {
	case ES256:
		h := sha256.Sum256(data)
		return k.Sign(rand.Reader, h[:], crypto.SHA256)
	case ES384:
		h := sha512.Sum384(data)
		return k.Sign(rand.Reader, h[:], crypto.SHA384)
	case EdDSA:
		return k.Sign(rand.Reader, data, crypto.Hash(0))
	case RS256:
		h := sha256.Sum256(data)
		return k.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	return nil, fmt.Errorf("passkeytest: algorithm %d is not supported", alg)
}
