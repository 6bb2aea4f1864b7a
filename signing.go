package gatehouse

import (
	"slices"
	"strings"
)

// Token signing algorithms (JWS alg values) Gatehouse signs with and
// accepts: RS256 (RSA 2048, PKCS #1 v1.5, SHA-256), ES256 (ECDSA P-256,
// SHA-256) and EdDSA (Ed25519, RFC 8037).
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// SigningAlgorithms lists every signing algorithm, RS256 first: it is the
// default, the one every relying party accepts.
var SigningAlgorithms = []string{RS256, ES256, EdDSA}

// DefaultSigningAlg signs the access tokens and ID tokens of a tenant that
// has chosen nothing (every tenant created before the choice existed).
const DefaultSigningAlg = RS256

// TokenSigning is a tenant's choice of signing algorithms, the defaults of
// its applications. An empty value means DefaultSigningAlg.
type TokenSigning struct {
	AccessTokenAlg string
	IDTokenAlg     string
}

// AccessTokenAlg returns the algorithm that signs the access tokens of app
// (nil for none) in the tenant: the app's own choice, else the tenant's,
// else DefaultSigningAlg.
func (t *Tenant) AccessTokenAlg(app *Application) string {
	if app != nil && app.AccessTokenSigningAlg != "" {
		return app.AccessTokenSigningAlg
	}
	return orDefaultAlg(t.TokenSigning.AccessTokenAlg)
}

// IDTokenAlg returns the algorithm that signs the ID tokens of app in the
// tenant: the app's own choice, else the tenant's, else DefaultSigningAlg.
func (t *Tenant) IDTokenAlg(app *Application) string {
	if app != nil && app.IDTokenSigningAlg != "" {
		return app.IDTokenSigningAlg
	}
	return orDefaultAlg(t.TokenSigning.IDTokenAlg)
}

func orDefaultAlg(alg string) string {
	if alg == "" {
		return DefaultSigningAlg
	}
	return alg
}

// ValidateSigningAlg returns an EINVALID error naming field unless alg is
// one of SigningAlgorithms, or "" when empty is allowed (the default).
func ValidateSigningAlg(field, alg string, emptyOK bool) error {
	if alg == "" && emptyOK || slices.Contains(SigningAlgorithms, alg) {
		return nil
	}
	return FieldErrorf(field, "%s %q is not supported; use %s.", field, alg, strings.Join(SigningAlgorithms, ", "))
}
