package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Lifetimes of what the authorization code flow issues.
const (
	// CodeLifetime is how long an authorization code can be redeemed (AS-5).
	CodeLifetime = time.Minute
	// IDTokenLifetime is how long an ID token is valid.
	IDTokenLifetime = time.Hour
	// RefreshTokenLifetime is how long a refresh token, and so its grant,
	// can be used at most without the user signing in again.
	RefreshTokenLifetime = 30 * 24 * time.Hour
)

// CodeKind is the kind of single-use item an authorization code is stored as.
const CodeKind = "code"

// CodePayload is what an authorization code stands for. The user, scope,
// nonce and authentication facts live in the grant it names.
type CodePayload struct {
	GrantID             string `json:"grantId"`
	ClientID            string `json:"clientId"`
	RedirectURI         string `json:"redirectUri"`
	CodeChallenge       string `json:"codeChallenge,omitempty"`
	CodeChallengeMethod string `json:"codeChallengeMethod,omitempty"`
}

// NewOpaqueToken returns a random token of 256 bits, base64url, for an
// authorization code or a refresh token, and the hash under which it is
// stored.
func NewOpaqueToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a high-entropy token. A fast hash is
// right here: the token has 256 random bits, so the hash cannot be reversed
// by guessing.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// VerifyPKCE checks a code_verifier against the code_challenge sent with
// the authorization request. Only S256 exists here (AS-3); the verifier
// must be 43 to 128 characters of the unreserved set (RFC 7636 4.1).
func VerifyPKCE(challenge, method, verifier string) bool {
	if method != "S256" || len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range verifier {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// IDTokenClaims are the claims of an ID token (OP-1).
type IDTokenClaims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.Audience     `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	// NotBefore is set as Entra does; relying parties may ignore it.
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	AuthTime  *jwt.NumericDate `json:"auth_time,omitempty"`
	Nonce     string           `json:"nonce,omitempty"`
	ACR       string           `json:"acr,omitempty"`
	AMR       []string         `json:"amr,omitempty"`
	AZP       string           `json:"azp,omitempty"`
	SessionID string           `json:"sid,omitempty"`
	TenantID  string           `json:"tid,omitempty"`
	// AccessTokenHash is at_hash: the hash of the access token issued with
	// the ID token (AccessTokenHash).
	AccessTokenHash string `json:"at_hash,omitempty"`
	// UserClaims are the claims about the user the granted scopes release.
	UserClaims
}

// VerifyIDTokenHint checks an ID token this tenant issued, as an
// id_token_hint (at logout or with prompt=none): signature by one of the
// tenant's keys, typ JWT and issuer. Expiry is not checked, as OpenID
// Connect allows an expired hint. It returns EUNAUTHORIZED errors.
func (k *Keys) VerifyIDTokenHint(ctx context.Context, tenantID, issuer, token string) (*IDTokenClaims, error) {
	if len(token) > maxTokenBytes {
		return nil, unauthorized("The ID token is too long.")
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(tok.Headers) != 1 {
		return nil, unauthorized("The id_token_hint is not a well-formed signed JWT.")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "" && typ != IDTokenType {
		return nil, unauthorized("The id_token_hint is not an ID token.")
	}
	key, err := k.verifier(ctx, tenantID, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key == nil || h.Algorithm != key.alg {
		return nil, unauthorized("The id_token_hint was not signed by this tenant.")
	}
	var c IDTokenClaims
	if err := tok.Claims(key.public.Key, &c); err != nil {
		return nil, unauthorized("The id_token_hint's signature is not valid.")
	}
	if c.Issuer != issuer || c.Subject == "" || len(c.Audience) == 0 {
		return nil, unauthorized("The id_token_hint was not issued by this tenant.")
	}
	return &c, nil
}
