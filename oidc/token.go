package oidc

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Access token constants.
const (
	// AccessTokenType is the JWS typ of access tokens (RFC 9068).
	AccessTokenType = "at+jwt"
	// IDTokenType is the JWS typ of ID tokens.
	IDTokenType = "JWT"
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	Leeway = time.Minute
	// maxTokenBytes bounds the size of a token that is parsed at all.
	maxTokenBytes = 16 << 10
)

// AccessTokenClaims are the claims of a Gatehouse access token: those of
// RFC 9068 and the Entra ID claims Gatehouse supports.
type AccessTokenClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	ClientID  string           `json:"client_id"`
	TenantID  string           `json:"tid"`
	// Roles are the application permissions granted to the client (client
	// credentials grant).
	Roles []string `json:"roles,omitempty"`
	// Scope and WIDs are delegated permissions and directory role template
	// IDs (authorization code grant).
	Scope string   `json:"scope,omitempty"`
	WIDs  []string `json:"wids,omitempty"`
	// AuthTime, ACR and AMR describe the user's authentication.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	ACR      string           `json:"acr,omitempty"`
	AMR      []string         `json:"amr,omitempty"`
	// IDType is "app" for a token issued to an application itself and
	// "user" for a token issued on behalf of a user.
	IDType string `json:"idtyp,omitempty"`
	// GrantID names the grant a delegated token was issued under; when the
	// grant is revoked, userinfo and introspection refuse the token.
	GrantID string `json:"gid,omitempty"`
}

// NewAccessToken returns the claims of an access token issued at now and
// valid for AccessTokenLifetime, with a random jti. The caller adds roles,
// scope and the like.
func NewAccessToken(issuer, audience, subject, clientID, tenantID string, now time.Time) *AccessTokenClaims {
	return &AccessTokenClaims{
		Issuer:    issuer,
		Subject:   subject,
		Audience:  jwt.Audience{audience},
		Expiry:    jwt.NewNumericDate(now.Add(AccessTokenLifetime)),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        randomID(),
		ClientID:  clientID,
		TenantID:  tenantID,
	}
}

// VerifyAccessToken checks an access token presented to Gatehouse and
// returns its claims. The token must be a compact JWS signed with RS256,
// ES256 or EdDSA (so alg none and HMAC are refused) by one of the tenant's
// published keys, found only by the kid header (jku, jwk and x5c headers
// are ignored); its typ must be at+jwt (so an ID token is refused); iss
// must equal issuer, aud must contain audience and tid must equal tenantID;
// sub, client_id, jti, exp and iat must be present, and exp, nbf and iat
// must hold at now with Leeway. Each failure is an EUNAUTHORIZED error
// whose message says what was wrong; a failure to read the keys is
// internal.
func (k *Keys) VerifyAccessToken(ctx context.Context, tenantID, issuer, audience, token string) (*AccessTokenClaims, error) {
	if len(token) > maxTokenBytes {
		return nil, unauthorized("The access token is too long.")
	}
	tok, err := jwt.ParseSigned(token, joseAlgorithms)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, unauthorized("The access token's signing algorithm is not allowed.")
		}
		return nil, unauthorized("The access token is not a well-formed signed JWT.")
	}
	if len(tok.Headers) != 1 {
		return nil, unauthorized("The access token is not a well-formed signed JWT.")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return nil, unauthorized("The token is not an access token (its typ is not at+jwt).")
	}
	if h.KeyID == "" {
		return nil, unauthorized("The access token has no key ID (kid).")
	}
	key, err := k.verifier(ctx, tenantID, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, unauthorized("The access token was not signed by a key of this tenant.")
	}
	if h.Algorithm != key.alg {
		return nil, unauthorized("The access token's signing algorithm is not allowed.")
	}
	if err := tok.Claims(key.public.Key); err != nil {
		return nil, unauthorized("The access token's signature is not valid.")
	}
	var c AccessTokenClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil { // verified above
		return nil, unauthorized("The access token's claims are malformed.")
	}
	switch {
	case c.Issuer != issuer:
		return nil, unauthorized("The access token was not issued by this tenant.")
	case !c.Audience.Contains(audience):
		return nil, unauthorized("The access token was not issued for this API.")
	case c.TenantID != tenantID:
		return nil, unauthorized("The access token was issued for another tenant.")
	case c.Subject == "" || c.ClientID == "" || c.ID == "" || c.Expiry == nil || c.IssuedAt == nil:
		return nil, unauthorized("The access token lacks a required claim (sub, client_id, jti, exp or iat).")
	}
	now := k.now()
	switch {
	case now.After(c.Expiry.Time().Add(Leeway)):
		return nil, unauthorized("The access token has expired.")
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time()):
		return nil, unauthorized("The access token is not valid yet.")
	case now.Add(Leeway).Before(c.IssuedAt.Time()):
		return nil, unauthorized("The access token was issued in the future.")
	}
	return &c, nil
}

// isAccessTokenType reports whether a typ header names an access token:
// "at+jwt" or its full media type, compared without regard to case (RFC
// 8725 section 3.11, RFC 9068 section 2.1).
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, AccessTokenType) || strings.EqualFold(typ, "application/"+AccessTokenType)
}

func unauthorized(msg string) error {
	return &gatehouse.Error{Code: gatehouse.EUNAUTHORIZED, Message: msg}
}
