package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	tenantA   = "7f8c9d2e-0000-4000-8000-00000000000a"
	tenantB   = "7f8c9d2e-0000-4000-8000-00000000000b"
	publicURL = "https://id.example.com"
)

var (
	issuerA   = gatehouse.IssuerURL(publicURL, "contoso")
	audienceA = gatehouse.AdminAPIURL(publicURL, "contoso")
)

type fixture struct {
	clock *clock
	store gatehouse.Store
	vault *vault.Vault
	keys  *Keys
}

// newFixture returns Keys over a SQLite store in which tenants A and B
// have keys.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.Engines(t)[0])
}

// newFixtureOn is newFixture on the engine's store.
func newFixtureOn(t *testing.T, e storetest.Engine) *fixture {
	t.Helper()
	c := newClock()
	f := &fixture{clock: c, store: newTestStore(t, e, c.Now, tenantA, tenantB), vault: newVault(t)}
	f.keys = NewKeys(f.store, f.vault, c.Now)
	err := f.store.Update(t.Context(), func(tx gatehouse.Tx) error {
		if err := f.keys.Create(t.Context(), tx, tenantA); err != nil {
			return err
		}
		return f.keys.Create(t.Context(), tx, tenantB)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	key := make([]byte, vault.KeySize)
	rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// claims returns typical claims of an access token for tenant A's admin
// API issued now.
func (f *fixture) claims() *AccessTokenClaims {
	c := NewAccessToken(issuerA, audienceA, "0c1d2e3f-sp", "4a5b6c7d-app", tenantA, f.clock.Now())
	c.Roles = []string{"User.Read.All"}
	c.IDType = "app"
	return c
}

func (f *fixture) sign(t *testing.T, k *Keys, tenantID, alg, typ string, claims any) string {
	t.Helper()
	tok, err := k.Sign(t.Context(), tenantID, alg, typ, claims)
	if err != nil {
		t.Fatalf("Sign(%s, %q, %q): %v", tenantID, alg, typ, err)
	}
	return tok
}

func (f *fixture) verify(k *Keys, token string) (*AccessTokenClaims, error) {
	return k.VerifyAccessToken(context.Background(), tenantA, issuerA, audienceA, token)
}

// header returns the protected header of a compact JWS.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	kid, _ := header(t, token)["kid"].(string)
	return kid
}

func jwksKIDs(t *testing.T, k *Keys, tenantID string) []string {
	t.Helper()
	set, err := k.JWKS(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var kids []string
	for _, key := range set.Keys {
		kids = append(kids, key.KeyID)
	}
	return kids
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	for _, alg := range []string{"", RS256, ES256, EdDSA} {
		t.Run("alg="+alg, func(t *testing.T) {
			want := f.claims()
			want.Scope = "openid profile"
			want.AMR = []string{"pwd", "mfa"}
			want.AuthTime = jwt.NewNumericDate(f.clock.Now().Add(-time.Minute))
			token := f.sign(t, f.keys, tenantA, alg, AccessTokenType, want)

			h := header(t, token)
			wantAlg := alg
			if alg == "" {
				wantAlg = RS256
			}
			if h["alg"] != wantAlg || h["typ"] != AccessTokenType || h["kid"] == "" || h["kid"] == nil {
				t.Errorf("header = %v, want alg %s, typ %s and a kid", h, wantAlg, AccessTokenType)
			}
			if len(h) != 3 {
				t.Errorf("header = %v, want only alg, kid and typ", h)
			}
			if h := header(t, f.sign(t, f.keys, tenantA, alg, "", want)); len(h) != 2 || h["alg"] != wantAlg || h["kid"] == nil {
				t.Errorf("header without typ = %v, want only alg and kid", h)
			}
			got, err := f.verify(f.keys, token)
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims differ (-sent +verified):\n%s", diff)
			}
			// A second Keys over the same store verifies it too.
			other := NewKeys(f.store, f.vault, f.clock.Now)
			if _, err := f.verify(other, token); err != nil {
				t.Errorf("VerifyAccessToken on another node: %v", err)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	f := newFixture(t)
	for _, alg := range []string{"none", "HS256", "PS256", "RS512", "rs256"} {
		_, err := f.keys.Sign(t.Context(), tenantA, alg, AccessTokenType, f.claims())
		if code := gatehouse.ErrorCode(err); code != gatehouse.EINVALID {
			t.Errorf("Sign(alg %q) error = %v, want code %s", alg, err, gatehouse.EINVALID)
		}
	}
	_, err := f.keys.Sign(t.Context(), "no-such-tenant", RS256, AccessTokenType, f.claims())
	if code := gatehouse.ErrorCode(err); code != gatehouse.EINTERNAL {
		t.Errorf("Sign for a tenant without keys: error = %v, want an internal error", err)
	}
}

func TestNewAccessToken(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewAccessToken("iss", "aud", "sub", "client", "tid", now)
	want := &AccessTokenClaims{
		Issuer: "iss", Subject: "sub", Audience: jwt.Audience{"aud"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now),
		IssuedAt: jwt.NewNumericDate(now), ID: c.ID, ClientID: "client", TenantID: "tid",
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("NewAccessToken (-want +got):\n%s", diff)
	}
	if b, err := base64.RawURLEncoding.DecodeString(c.ID); err != nil || len(b) != 16 {
		t.Errorf("jti %q is not 16 random bytes in base64url", c.ID)
	}
	if d := NewAccessToken("iss", "aud", "sub", "client", "tid", now); d.ID == c.ID {
		t.Errorf("two tokens share the jti %q", c.ID)
	}
}

// forge signs claims with key and alg, adding headers.
func forge(t testing.TB, alg jose.SignatureAlgorithm, key any, claims any, headers map[jose.HeaderKey]any, embedJWK bool) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: embedJWK}
	for k, v := range headers {
		opts = opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// unsigned returns a compact JWS with the header, the claims and no
// signature.
func unsigned(t testing.TB, h map[string]any, claims any) string {
	t.Helper()
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "."
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	good := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	rsaKID := kidOf(t, good)
	ecKID := kidOf(t, f.sign(t, f.keys, tenantA, ES256, AccessTokenType, f.claims()))
	edKID := kidOf(t, f.sign(t, f.keys, tenantA, EdDSA, AccessTokenType, f.claims()))

	// The tenant's real RSA public key, as an attacker can fetch it from
	// the JWK set.
	set, err := f.keys.JWKS(t.Context(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	var rsaPub *rsa.PublicKey
	for _, k := range set.Keys {
		if k.KeyID == rsaKID {
			rsaPub = k.Key.(*rsa.PublicKey)
		}
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaPub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaPub, KeyID: rsaKID, Algorithm: RS256, Use: "sig"})

	attackerRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	attackerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, attackerEd, _ := ed25519.GenerateKey(rand.Reader)
	var edPub ed25519.PublicKey
	for _, k := range set.Keys {
		if k.KeyID == edKID {
			edPub = k.Key.(ed25519.PublicKey)
		}
	}
	hdr := func(kid string) map[jose.HeaderKey]any {
		return map[jose.HeaderKey]any{"kid": kid, jose.HeaderType: AccessTokenType}
	}
	with := func(mod func(c *AccessTokenClaims)) *AccessTokenClaims {
		c := f.claims()
		mod(c)
		return c
	}
	sign := func(c any) string { return f.sign(t, f.keys, tenantA, RS256, AccessTokenType, c) }
	now := f.clock.Now()
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(strings.Replace(string(mustDecode(t, parts[1])), `"User.Read.All"`, `"User.ReadWrite.All"`, 1))) + "." + parts[2]

	for _, tc := range []struct {
		name  string
		token string
		want  string // part of the error message
	}{
		{"alg none", unsigned(t, map[string]any{"alg": "none", "typ": AccessTokenType, "kid": rsaKID}, f.claims()), "signing algorithm is not allowed"},
		{"alg None", unsigned(t, map[string]any{"alg": "None", "typ": AccessTokenType, "kid": rsaKID}, f.claims()), "signing algorithm is not allowed"},
		{"HS256 with the public key PEM", forge(t, jose.HS256, pubPEM, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"HS256 with the public key DER", forge(t, jose.HS256, pubDER, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"HS256 with the public JWK", forge(t, jose.HS256, pubJWK, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"RS512", forge(t, jose.RS512, attackerRSA, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"PS256", forge(t, jose.PS256, attackerRSA, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"foreign jku, unknown kid", forge(t, jose.RS256, attackerRSA, f.claims(),
			map[jose.HeaderKey]any{"kid": "attacker", "jku": "https://evil.example/jwks.json", jose.HeaderType: AccessTokenType}, false),
			"not signed by a key of this tenant"},
		{"foreign jku, our kid", forge(t, jose.RS256, attackerRSA, f.claims(),
			map[jose.HeaderKey]any{"kid": rsaKID, "jku": "https://evil.example/jwks.json", jose.HeaderType: AccessTokenType}, false),
			"signature is not valid"},
		{"embedded jwk, our kid", forge(t, jose.RS256, attackerRSA, f.claims(), hdr(rsaKID), true), "signature is not valid"},
		{"embedded jwk, no kid", forge(t, jose.RS256, attackerRSA, f.claims(), map[jose.HeaderKey]any{jose.HeaderType: AccessTokenType}, true), "no key ID"},
		{"embedded EC jwk, our EC kid", forge(t, jose.ES256, attackerEC, f.claims(), hdr(ecKID), true), "signature is not valid"},
		{"x5u header", forge(t, jose.RS256, attackerRSA, f.claims(),
			map[jose.HeaderKey]any{"kid": rsaKID, "x5u": "https://evil.example/cert.pem", jose.HeaderType: AccessTokenType}, false),
			"signature is not valid"},
		{"ES256 header on the RSA kid", forge(t, jose.ES256, attackerEC, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		// TK-1 for EdDSA: the key is found by kid only, and its algorithm
		// must be the header's.
		{"EdDSA alg none", unsigned(t, map[string]any{"alg": "none", "typ": AccessTokenType, "kid": edKID}, f.claims()), "signing algorithm is not allowed"},
		{"HS256 with the Ed25519 public key", forge(t, jose.HS256, []byte(edPub), f.claims(), hdr(edKID), false), "signing algorithm is not allowed"},
		{"EdDSA by a foreign key, our EdDSA kid", forge(t, jose.EdDSA, attackerEd, f.claims(), hdr(edKID), false), "signature is not valid"},
		{"EdDSA, foreign jku, unknown kid", forge(t, jose.EdDSA, attackerEd, f.claims(),
			map[jose.HeaderKey]any{"kid": "attacker", "jku": "https://evil.example/jwks.json", jose.HeaderType: AccessTokenType}, false),
			"not signed by a key of this tenant"},
		{"EdDSA, foreign jku, our kid", forge(t, jose.EdDSA, attackerEd, f.claims(),
			map[jose.HeaderKey]any{"kid": edKID, "jku": "https://evil.example/jwks.json", jose.HeaderType: AccessTokenType}, false),
			"signature is not valid"},
		{"embedded OKP jwk, our EdDSA kid", forge(t, jose.EdDSA, attackerEd, f.claims(), hdr(edKID), true), "signature is not valid"},
		{"EdDSA header on the RSA kid", forge(t, jose.EdDSA, attackerEd, f.claims(), hdr(rsaKID), false), "signing algorithm is not allowed"},
		{"EdDSA header on the EC kid", forge(t, jose.EdDSA, attackerEd, f.claims(), hdr(ecKID), false), "signing algorithm is not allowed"},
		{"ES256 header on the EdDSA kid", forge(t, jose.ES256, attackerEC, f.claims(), hdr(edKID), false), "signing algorithm is not allowed"},
		{"RS256 header on the EdDSA kid", forge(t, jose.RS256, attackerRSA, f.claims(), hdr(edKID), false), "signing algorithm is not allowed"},
		{"EdDSA ID token", f.sign(t, f.keys, tenantA, EdDSA, IDTokenType, f.claims()), "not an access token"},
		{"other tenant's EdDSA key", f.sign(t, f.keys, tenantB, EdDSA, AccessTokenType, f.claims()), "not signed by a key of this tenant"},
		{"ID token (typ JWT)", f.sign(t, f.keys, tenantA, RS256, IDTokenType, f.claims()), "not an access token"},
		{"no typ", f.sign(t, f.keys, tenantA, RS256, "", f.claims()), "not an access token"},
		{"typ id_token+jwt", f.sign(t, f.keys, tenantA, RS256, "id_token+jwt", f.claims()), "not an access token"},
		{"other tenant's key", f.sign(t, f.keys, tenantB, RS256, AccessTokenType, f.claims()), "not signed by a key of this tenant"},
		{"tampered claims", tampered, "signature is not valid"},
		{"wrong audience", sign(with(func(c *AccessTokenClaims) { c.Audience = jwt.Audience{"https://graph.microsoft.com"} })), "not issued for this API"},
		{"no audience", sign(with(func(c *AccessTokenClaims) { c.Audience = jwt.Audience{} })), "not issued for this API"},
		{"null audience", sign(with(func(c *AccessTokenClaims) { c.Audience = nil })), "claims are malformed"},
		{"numeric audience", sign(map[string]any{"iss": issuerA, "aud": 42, "sub": "s", "client_id": "c", "jti": "j",
			"tid": tenantA, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}), "claims are malformed"},
		{"wrong issuer", sign(with(func(c *AccessTokenClaims) { c.Issuer = gatehouse.IssuerURL(publicURL, "fabrikam") })), "not issued by this tenant"},
		{"wrong tid", sign(with(func(c *AccessTokenClaims) { c.TenantID = tenantB })), "another tenant"},
		{"expired", sign(with(func(c *AccessTokenClaims) { c.Expiry = jwt.NewNumericDate(now.Add(-Leeway - time.Second)) })), "has expired"},
		{"not yet valid", sign(with(func(c *AccessTokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(Leeway + time.Second)) })), "not valid yet"},
		{"issued in the future", sign(with(func(c *AccessTokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(Leeway + time.Second)) })), "issued in the future"},
		{"no exp", sign(with(func(c *AccessTokenClaims) { c.Expiry = nil })), "lacks a required claim"},
		{"no iat", sign(with(func(c *AccessTokenClaims) { c.IssuedAt = nil })), "lacks a required claim"},
		{"no sub", sign(with(func(c *AccessTokenClaims) { c.Subject = "" })), "lacks a required claim"},
		{"no client_id", sign(with(func(c *AccessTokenClaims) { c.ClientID = "" })), "lacks a required claim"},
		{"empty", "", "not a well-formed"},
		{"garbage", "not.a.jwt", "not a well-formed"},
		{"two parts", parts[0] + "." + parts[1], "not a well-formed"},
		{"JWE-like", good + ".x.y", "not a well-formed"},
		{"too long", good + strings.Repeat("A", maxTokenBytes), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.verify(f.keys, tc.token)
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.EUNAUTHORIZED {
				t.Fatalf("VerifyAccessToken = %+v, %v; want an %s error", c, err, gatehouse.EUNAUTHORIZED)
			}
			if !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q does not contain %q", e.Message, tc.want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyAccepts(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	with := func(mod func(c *AccessTokenClaims)) *AccessTokenClaims {
		c := f.claims()
		mod(c)
		return c
	}
	for _, tc := range []struct {
		name   string
		typ    string
		claims *AccessTokenClaims
	}{
		{"typical", AccessTokenType, f.claims()},
		{"media type typ", "application/at+jwt", f.claims()},
		{"upper-case typ", "AT+JWT", f.claims()},
		{"expired within leeway", AccessTokenType, with(func(c *AccessTokenClaims) { c.Expiry = jwt.NewNumericDate(now.Add(-Leeway + time.Second)) })},
		{"nbf within leeway", AccessTokenType, with(func(c *AccessTokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(Leeway - time.Second)) })},
		{"iat within leeway", AccessTokenType, with(func(c *AccessTokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(Leeway - time.Second)) })},
		{"no nbf", AccessTokenType, with(func(c *AccessTokenClaims) { c.NotBefore = nil })},
		{"several audiences", AccessTokenType, with(func(c *AccessTokenClaims) { c.Audience = jwt.Audience{"https://other.example", audienceA} })},
	} {
		for _, alg := range []string{ES256, EdDSA} {
			t.Run(tc.name+"/"+alg, func(t *testing.T) {
				token := f.sign(t, f.keys, tenantA, alg, tc.typ, tc.claims)
				if _, err := f.verify(f.keys, token); err != nil {
					t.Errorf("VerifyAccessToken: %v", err)
				}
			})
		}
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t)
	set, err := f.keys.JWKS(t.Context(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3", len(set.Keys))
	}
	algs := map[string]bool{}
	for _, k := range set.Keys {
		algs[k.Algorithm] = true
		if k.KeyID == "" || k.Use != "sig" || !k.IsPublic() || !k.Valid() {
			t.Errorf("key %+v: want a valid public key with kid and use sig", k)
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if k.Algorithm != RS256 || pub.N.BitLen() != 2048 {
				t.Errorf("RSA key %s: alg %s, %d bits; want RS256, 2048", k.KeyID, k.Algorithm, pub.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if k.Algorithm != ES256 || pub.Curve != elliptic.P256() {
				t.Errorf("EC key %s: alg %s, curve %s; want ES256, P-256", k.KeyID, k.Algorithm, pub.Curve.Params().Name)
			}
		case ed25519.PublicKey:
			if k.Algorithm != EdDSA || len(pub) != ed25519.PublicKeySize {
				t.Errorf("OKP key %s: alg %s, %d bytes; want EdDSA, Ed25519", k.KeyID, k.Algorithm, len(pub))
			}
		default:
			t.Errorf("key %s is a %T", k.KeyID, pub)
		}
	}
	if !algs[RS256] || !algs[ES256] || !algs[EdDSA] {
		t.Errorf("JWKS algorithms = %v, want RS256, ES256 and EdDSA", algs)
	}
	if !strings.Contains(string(mustJSON(t, set)), `"crv":"Ed25519"`) || !strings.Contains(string(mustJSON(t, set)), `"kty":"OKP"`) {
		t.Errorf("JWKS JSON has no OKP Ed25519 key (RFC 8037): %s", mustJSON(t, set))
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
		if strings.Contains(string(b), private) {
			t.Errorf("JWKS JSON contains private member %s: %s", private, b)
		}
	}
	// Tenants do not share keys.
	for _, a := range jwksKIDs(t, f.keys, tenantA) {
		for _, b := range jwksKIDs(t, f.keys, tenantB) {
			if a == b {
				t.Errorf("tenants A and B share kid %s", a)
			}
		}
	}
}

func TestSealedKeys(t *testing.T) { forEachEngine(t, testSealedKeys) }

func testSealedKeys(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	rows, err := f.store.SigningKeys(t.Context(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("tenant A has %d stored keys, want 3", len(rows))
	}
	for _, row := range rows {
		if _, err := x509.ParsePKCS8PrivateKey(row.PrivateKey); err == nil {
			t.Errorf("key %s is stored as plain PKCS #8", row.ID)
		}
		if b, err := base64.RawURLEncoding.DecodeString(row.ID); err != nil || len(b) != 16 {
			t.Errorf("kid %q is not 16 random bytes in base64url", row.ID)
		}
		der, err := f.vault.Open(row.PrivateKey, []byte(tenantA+"/"+row.ID))
		if err != nil {
			t.Fatalf("Open with the right ad: %v", err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
			t.Errorf("unsealed key %s is not PKCS #8: %v", row.ID, err)
		}
		for _, ad := range []string{tenantB + "/" + row.ID, tenantA + "/other", tenantA, row.ID, ""} {
			if _, err := f.vault.Open(row.PrivateKey, []byte(ad)); err == nil {
				t.Errorf("key %s opens with ad %q", row.ID, ad)
			}
		}
		if _, err := newVault(t).Open(row.PrivateKey, []byte(tenantA+"/"+row.ID)); err == nil {
			t.Errorf("key %s opens with another vault key", row.ID)
		}
	}

	// A key copied to another tenant (or another kid) does not load: the
	// sealing binds it to where it was created. The tenant's own keys
	// still do.
	ownB := jwksKIDs(t, f.keys, tenantB)
	err = f.store.Update(t.Context(), func(tx gatehouse.Tx) error {
		for _, row := range rows {
			if err := tx.CreateSigningKey(t.Context(), &gatehouse.SigningKey{
				ID: row.ID, TenantID: tenantB, Algorithm: row.Algorithm, PrivateKey: row.PrivateKey,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, NewKeys(f.store, f.vault, f.clock.Now), tenantB); !cmp.Equal(got, ownB) {
		t.Errorf("JWKS of tenant B holding copies of tenant A's sealed keys = %v, want only its own %v", got, ownB)
	}
}

func TestRotation(t *testing.T) { forEachEngine(t, testRotation) }

func testRotation(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	delay := f.keys.publishDelay()
	before := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	oldKID := kidOf(t, before)
	oldKIDs := jwksKIDs(t, f.keys, tenantA)

	f.clock.Add(10 * time.Minute)
	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	rotatedAt := f.clock.Now()
	afterKIDs := jwksKIDs(t, f.keys, tenantA)
	if len(afterKIDs) != 6 {
		t.Fatalf("JWKS after rotation has %v, want 6 keys (3 new, 3 retired)", afterKIDs)
	}
	newKIDs := afterKIDs[:3] // newest first
	if diff := cmp.Diff(oldKIDs, afterKIDs[3:], cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("retired keys in JWKS (-before +after):\n%s", diff)
	}
	rows, _ := f.store.SigningKeys(ctx, tenantA)
	for _, row := range rows {
		if retired := !row.RetiredAt.IsZero(); retired != slices.Contains(oldKIDs, row.ID) {
			t.Errorf("key %s: retired %v at %v", row.ID, retired, row.RetiredAt)
		} else if retired && !row.RetiredAt.Equal(rotatedAt) {
			t.Errorf("key %s retired at %v, want %v", row.ID, row.RetiredAt, rotatedAt)
		}
	}

	// The old key signs on for the publish delay, then the new one does.
	during := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	if kid := kidOf(t, during); kid != oldKID {
		t.Errorf("right after rotation Sign used %s, want the old key %s until every node knows the new one", kid, oldKID)
	}
	f.clock.Add(delay - time.Second)
	lastOld := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	if kid := kidOf(t, lastOld); kid != oldKID {
		t.Errorf("1s before the publish delay ends Sign used %s, want %s", kid, oldKID)
	}
	f.clock.Add(time.Second)
	after := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())
	if kid := kidOf(t, after); kid == oldKID || !slices.Contains(newKIDs, kid) {
		t.Errorf("after the publish delay Sign used %s, want a new key of %v", kid, newKIDs)
	}
	for _, tok := range []string{before, during, lastOld, after} {
		if _, err := f.verify(f.keys, tok); err != nil {
			t.Errorf("VerifyAccessToken(kid %s) after rotation: %v", kidOf(t, tok), err)
		}
	}

	// The last token the old key signed verifies until it expires…
	f.clock.Add(AccessTokenLifetime + Leeway - time.Second)
	if _, err := f.verify(f.keys, lastOld); err != nil {
		t.Errorf("VerifyAccessToken of the old key's last token just before it expires: %v", err)
	}
	// …which is before the retired key leaves the JWK set (OP-7).
	set := func() map[string]bool {
		m := map[string]bool{}
		for _, kid := range jwksKIDs(t, f.keys, tenantA) {
			m[kid] = true
		}
		return m
	}
	if now, until := f.clock.Now(), rotatedAt.Add(RetainRetired); !now.Before(until) {
		t.Fatalf("the old key's last token outlives its key: now %v, key retained until %v", now, until)
	}
	f.clock.Set(rotatedAt.Add(RetainRetired - time.Second))
	if got := set(); !got[oldKIDs[0]] || !got[oldKIDs[1]] || !got[oldKIDs[2]] || len(got) != 6 {
		t.Errorf("JWKS 1s before RetainRetired = %v, want old and new keys", got)
	}
	f.clock.Set(rotatedAt.Add(RetainRetired))
	if got := set(); got[oldKIDs[0]] || got[oldKIDs[1]] || got[oldKIDs[2]] || len(got) != 3 {
		t.Errorf("JWKS at RetainRetired = %v, want only the new keys", got)
	}
	// Past retention a retired key verifies nothing, not even a token it
	// signed with a far expiry.
	forged := f.claims()
	forged.Expiry = jwt.NewNumericDate(f.clock.Now().Add(time.Hour))
	var token string
	for _, k := range f.keys.tenantSet(tenantA).keys {
		if k.id == oldKID {
			token = forge(t, jose.RS256, jose.JSONWebKey{Key: k.private, KeyID: k.id}, forged,
				map[jose.HeaderKey]any{jose.HeaderType: AccessTokenType}, false)
		}
	}
	if token == "" {
		t.Fatalf("old key %s not in the cache", oldKID)
	}
	if _, err := f.verify(f.keys, token); gatehouse.ErrorMessage(err) != "The access token was not signed by a key of this tenant." {
		t.Errorf("VerifyAccessToken with a key retired past RetainRetired: %v, want an unknown key", err)
	}
}

func TestRotationOfANewTenant(t *testing.T) { forEachEngine(t, testRotationOfANewTenant) }

// testRotationOfANewTenant: a tenant's first key signs at once, so a
// rotation before it has been published for the publish delay (found by
// FT-5) must keep it signing for the delay like any other, not hand over
// at once to the new key, which nobody knows yet. Two rotations in a row
// leave the first key signing, not the unknown key in between.
func testRotationOfANewTenant(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	delay := f.keys.publishDelay()
	first := kidOf(t, f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims()))
	f.clock.Add(time.Second)
	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	set, err := f.keys.JWKS(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	var newest string
	for _, k := range set.Keys { // newest first
		if k.Algorithm == RS256 && newest == "" {
			newest = k.KeyID
		}
	}
	for _, at := range []time.Duration{0, delay - 2*time.Second} {
		f.clock.Set(f.clock.Now().Add(at))
		if kid := kidOf(t, f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())); kid != first {
			t.Errorf("%v after two rotations of a new tenant Sign used %s, want its first key %s", at, kid, first)
		}
	}
	f.clock.Add(2 * time.Second)
	if kid := kidOf(t, f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())); kid != newest {
		t.Errorf("the publish delay after the second rotation Sign used %s, want the newest key %s", kid, newest)
	}
}

func TestRotationSeenByOtherNode(t *testing.T) { forEachEngine(t, testRotationSeenByOtherNode) }

func testRotationSeenByOtherNode(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	counted := &countingStore{KeyStore: f.store}
	node2 := NewKeys(counted, f.vault, f.clock.Now)
	before := jwksKIDs(t, node2, tenantA) // node 2 caches the keys
	oldKID := kidOf(t, f.sign(t, node2, tenantA, RS256, AccessTokenType, f.claims()))
	if got := counted.reads.Load(); got != 1 {
		t.Errorf("store reads = %d, want 1", got)
	}

	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, node2, tenantA); !cmp.Equal(got, before) {
		t.Errorf("node 2 JWKS within the refresh interval = %v, want its cached %v", got, before)
	}
	f.clock.Add(DefaultRefreshInterval)
	after := jwksKIDs(t, node2, tenantA)
	if len(after) != 6 {
		t.Errorf("node 2 JWKS after the refresh interval = %v, want 6 keys", after)
	}
	if got := counted.reads.Load(); got != 2 {
		t.Errorf("store reads = %d, want 2", got)
	}

	// Both nodes switch to the new key together, once node 2 has had the
	// publish delay to learn it.
	f.clock.Add(f.keys.publishDelay() - DefaultRefreshInterval)
	kid1 := kidOf(t, f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims()))
	kid2 := kidOf(t, f.sign(t, node2, tenantA, RS256, AccessTokenType, f.claims()))
	if kid1 != kid2 || kid1 == oldKID {
		t.Errorf("after the publish delay node 1 signs with %s and node 2 with %s, want the same new key (old %s)", kid1, kid2, oldKID)
	}

	// Keys already parsed are reused, not decrypted again.
	s1 := node2.tenantSet(tenantA)
	f.clock.Add(DefaultRefreshInterval)
	jwksKIDs(t, node2, tenantA)
	s2 := node2.tenantSet(tenantA)
	if s1 == s2 {
		t.Fatalf("node 2 did not refresh")
	}
	for _, k := range s2.keys {
		if o := s1.find(k.id); o == nil || o != k {
			t.Errorf("key %s was parsed again on refresh", k.id)
		}
	}
}

func TestUnknownKIDRefresh(t *testing.T) { forEachEngine(t, testUnknownKIDRefresh) }

func testUnknownKIDRefresh(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	ctx := t.Context()
	counted := &countingStore{KeyStore: f.store}
	node2 := NewKeys(counted, f.vault, f.clock.Now)
	jwksKIDs(t, node2, tenantA)

	// Node 1 rotates and signs with the new key at once (no publish delay).
	f.keys.SetRefreshInterval(0)
	if err := f.keys.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	token := f.sign(t, f.keys, tenantA, RS256, AccessTokenType, f.claims())

	// Unknown kids re-read the store at most once a second.
	garbage := forge(t, jose.RS256, mustRSA(t), f.claims(), map[jose.HeaderKey]any{"kid": "nope", jose.HeaderType: AccessTokenType}, false)
	for range 5 {
		if _, err := f.verify(node2, garbage); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if got := counted.reads.Load(); got != 1 {
		t.Errorf("store reads within the first second = %d, want 1", got)
	}
	f.clock.Add(time.Second)
	if _, err := f.verify(node2, token); err != nil {
		t.Errorf("VerifyAccessToken with a key new to node 2, 1s later: %v", err)
	}
	if _, err := f.verify(node2, garbage); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Errorf("unknown kid: %v", err)
	}
	if got := counted.reads.Load(); got != 2 {
		t.Errorf("store reads = %d, want 2", got)
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStoreDown(t *testing.T) {
	f := newFixture(t)
	counted := &countingStore{KeyStore: f.store}
	k := NewKeys(counted, f.vault, f.clock.Now)

	counted.fail.Store(true)
	if _, err := k.JWKS(t.Context(), tenantA); !errors.Is(err, errStoreDown) {
		t.Errorf("JWKS with the store down and nothing cached: %v, want %v", err, errStoreDown)
	}
	counted.fail.Store(false)
	token := f.sign(t, k, tenantA, RS256, AccessTokenType, f.claims())

	// With keys cached, an outage does not stop signing or verification,
	// and the store is tried once per refresh interval.
	counted.fail.Store(true)
	reads := counted.reads.Load()
	for range 3 {
		f.clock.Add(DefaultRefreshInterval)
		if _, err := k.Sign(t.Context(), tenantA, RS256, AccessTokenType, f.claims()); err != nil {
			t.Errorf("Sign with the store down: %v", err)
		}
		if _, err := f.verify(k, token); err != nil {
			t.Errorf("VerifyAccessToken with the store down: %v", err)
		}
	}
	if got := counted.reads.Load() - reads; got != 3 {
		t.Errorf("store reads during the outage = %d, want 3", got)
	}
}

func TestConcurrentUse(t *testing.T) { forEachEngine(t, testConcurrentUse) }

func testConcurrentUse(t *testing.T, e storetest.Engine) {
	f := newFixtureOn(t, e)
	f.keys.SetRefreshInterval(0) // every call reads the store
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			alg := []string{RS256, ES256}[i%2]
			for range 5 {
				token, err := f.keys.Sign(t.Context(), tenantA, alg, AccessTokenType, f.claims())
				if err != nil {
					t.Errorf("Sign: %v", err)
					return
				}
				if _, err := f.verify(f.keys, token); err != nil {
					t.Errorf("VerifyAccessToken: %v", err)
				}
				if _, err := f.keys.JWKS(t.Context(), tenantA); err != nil {
					t.Errorf("JWKS: %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		if err := f.keys.Rotate(t.Context(), tenantA); err != nil {
			t.Errorf("Rotate: %v", err)
		}
	})
	wg.Wait()
}

// BenchmarkSignAccessToken measures signing a typical client credentials
// access token with RS256 (keys cached).
func BenchmarkSignAccessToken(b *testing.B) {
	for _, alg := range []string{RS256, ES256} {
		b.Run(alg, func(b *testing.B) {
			f := newBenchFixture(b)
			c := f.claims()
			for b.Loop() {
				if _, err := f.keys.Sign(context.Background(), tenantA, alg, AccessTokenType, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyAccessToken(b *testing.B) {
	f := newBenchFixture(b)
	token, err := f.keys.Sign(context.Background(), tenantA, RS256, AccessTokenType, f.claims())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.verify(f.keys, token); err != nil {
			b.Fatal(err)
		}
	}
}

func newBenchFixture(b *testing.B) *fixture {
	ctx := context.Background()
	c := newClock()
	s, err := sqlstore.OpenSQLite(ctx, filepath.Join(b.TempDir(), "gatehouse.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	f := &fixture{clock: c, store: s, vault: newVault(b)}
	f.keys = NewKeys(s, f.vault, c.Now)
	err = s.Update(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateTenant(ctx, &gatehouse.Tenant{ID: tenantA, Name: "contoso"}); err != nil {
			return err
		}
		return f.keys.Create(ctx, tx, tenantA)
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func TestEnsure(t *testing.T) { forEachEngine(t, testEnsure) }

// testEnsure checks that a tenant created before EdDSA (an RS256 and an
// ES256 key) gets an EdDSA key from Ensure, in the caller's transaction,
// that signs at once on every node, and that Ensure adds nothing to a
// tenant that has a key for the algorithm.
func testEnsure(t *testing.T, e storetest.Engine) {
	c := newClock()
	store := newTestStore(t, e, c.Now, tenantA)
	v := newVault(t)
	keys := NewKeys(store, v, c.Now)
	old, err := keys.generate(tenantA, RS256, ES256) // as Create did before EdDSA
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(t.Context(), func(tx gatehouse.Tx) error {
		for _, sk := range old {
			if err := tx.CreateSigningKey(t.Context(), sk); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: c, store: store, vault: v, keys: keys}
	node2 := NewKeys(store, v, c.Now)
	if _, err := node2.Sign(t.Context(), tenantA, EdDSA, AccessTokenType, f.claims()); err == nil || !strings.Contains(err.Error(), "no active EdDSA signing key") {
		t.Fatalf("Sign(EdDSA) for a tenant without an EdDSA key: %v, want that it has none", err)
	}

	// A rolled-back Ensure leaves nothing.
	errRollback := errors.New("rollback")
	if err := store.Update(t.Context(), func(tx gatehouse.Tx) error {
		if _, err := keys.Ensure(t.Context(), tx, tenantA, EdDSA); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if rows, _ := store.SigningKeys(t.Context(), tenantA); len(rows) != 2 {
		t.Fatalf("a rolled-back Ensure left %d keys, want 2", len(rows))
	}

	for i := range 2 { // the second time adds nothing
		var added []string
		if err := store.Update(t.Context(), func(tx gatehouse.Tx) error {
			added = nil
			for _, alg := range gatehouse.SigningAlgorithms {
				sk, err := keys.Ensure(t.Context(), tx, tenantA, alg)
				if err != nil {
					return err
				}
				if sk != nil {
					added = append(added, sk.Algorithm)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := [][]string{{EdDSA}, nil}[i]; !slices.Equal(added, want) {
			t.Errorf("Ensure round %d added %v, want %v", i+1, added, want)
		}
		rows, _ := store.SigningKeys(t.Context(), tenantA)
		var algs []string
		for _, r := range rows {
			algs = append(algs, r.Algorithm)
		}
		slices.Sort(algs)
		if diff := cmp.Diff([]string{ES256, EdDSA, RS256}, algs); diff != "" {
			t.Fatalf("stored key algorithms after Ensure (-want +got):\n%s", diff)
		}
	}
	// Node 2 read the keys a moment ago, within its refresh interval and
	// the unknown-kid interval: it reads again because it lacks a key to
	// sign with. (A token with the new kid presented to it within a second
	// of that read would wait for the unknown-kid interval.)
	for _, k := range []*Keys{node2, keys} {
		token := f.sign(t, k, tenantA, EdDSA, AccessTokenType, f.claims())
		if h := header(t, token); h["alg"] != EdDSA {
			t.Errorf("header %v, want alg EdDSA", h)
		}
		for _, verifier := range []*Keys{keys, node2} {
			if _, err := f.verify(verifier, token); err != nil {
				t.Errorf("VerifyAccessToken of an EdDSA token: %v", err)
			}
		}
	}
	if got := jwksKIDs(t, node2, tenantA); len(got) != 3 {
		t.Errorf("JWKS after Ensure = %v, want 3 keys", got)
	}
	err = store.Update(t.Context(), func(tx gatehouse.Tx) error {
		_, err := keys.Ensure(t.Context(), tx, tenantA, "HS256")
		return err
	})
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("Ensure(HS256): %v, want %s", err, gatehouse.EINVALID)
	}
}

// TestVerifyIDTokenHint checks the id_token_hint verification for every
// algorithm, and that it, too, takes only the tenant's keys by kid with
// their own algorithm (TK-1).
func TestVerifyIDTokenHint(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	claims := &IDTokenClaims{Issuer: issuerA, Subject: "user-1", Audience: jwt.Audience{"app-1"},
		Expiry: jwt.NewNumericDate(now.Add(-time.Hour)), IssuedAt: jwt.NewNumericDate(now.Add(-2 * time.Hour))}
	kids := map[string]string{}
	for _, alg := range gatehouse.SigningAlgorithms {
		token := f.sign(t, f.keys, tenantA, alg, IDTokenType, claims)
		kids[alg] = kidOf(t, token)
		got, err := f.keys.VerifyIDTokenHint(t.Context(), tenantA, issuerA, token)
		if err != nil {
			t.Errorf("%s: VerifyIDTokenHint of an expired hint: %v", alg, err)
		} else if got.Subject != "user-1" {
			t.Errorf("%s: subject %q", alg, got.Subject)
		}
	}
	_, attackerEd, _ := ed25519.GenerateKey(rand.Reader)
	attackerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, token := range map[string]string{
		"EdDSA by a foreign key, our kid": forge(t, jose.EdDSA, attackerEd, claims, map[jose.HeaderKey]any{"kid": kids[EdDSA]}, false),
		"EdDSA header on the EC kid":      forge(t, jose.EdDSA, attackerEd, claims, map[jose.HeaderKey]any{"kid": kids[ES256]}, false),
		"ES256 header on the EdDSA kid":   forge(t, jose.ES256, attackerEC, claims, map[jose.HeaderKey]any{"kid": kids[EdDSA]}, false),
		"alg none":                        unsigned(t, map[string]any{"alg": "none", "kid": kids[EdDSA]}, claims),
		"other tenant's EdDSA key":        f.sign(t, f.keys, tenantB, EdDSA, IDTokenType, claims),
		"an access token":                 f.sign(t, f.keys, tenantA, EdDSA, AccessTokenType, claims),
	} {
		if _, err := f.keys.VerifyIDTokenHint(t.Context(), tenantA, issuerA, token); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
			t.Errorf("%s: VerifyIDTokenHint = %v, want %s", name, err, gatehouse.EUNAUTHORIZED)
		}
	}
}
