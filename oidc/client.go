package oidc

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/vault"
)

// clientSecretPurpose is the vault MAC purpose of client secret hashes.
const clientSecretPurpose = "client-secret"

// NewClientSecret returns a new client secret, 32 random bytes (256 bits)
// in base64url (43 characters), and its hint, the first 3 characters, which
// may be shown later to tell secrets apart.
func NewClientSecret() (secret, hint string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, secret[:3], nil
}

// HashClientSecret returns the hash of secret to keep in
// PasswordCredential.Hash: a hex HMAC-SHA256 under the vault's client
// secret key. Client secrets carry 256 random bits, so a keyed fast hash
// is enough and keeps client authentication to microseconds (AS-7).
func HashClientSecret(v *vault.Vault, secret string) string {
	return hex.EncodeToString(v.MAC(clientSecretPurpose, []byte(secret)))
}

// AuthenticateClient reports whether secret is one of the app's client
// secrets valid at now: Start <= now < End, a zero End meaning no expiry.
// It compares the secret's hash with every credential in constant time and
// takes the same time whichever credential, if any, matches.
func AuthenticateClient(v *vault.Vault, app *gatehouse.Application, secret string, now time.Time) bool {
	if app == nil {
		return false
	}
	h := []byte(HashClientSecret(v, secret))
	match := 0
	for _, c := range app.PasswordCredentials {
		eq := subtle.ConstantTimeCompare([]byte(c.Hash), h)
		valid := 0
		if !now.Before(c.Start) && (c.End.IsZero() || now.Before(c.End)) {
			valid = 1
		}
		match |= eq & valid
	}
	return match == 1
}
