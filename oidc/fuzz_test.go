package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Fuzz targets of token verification. `go test` runs their seeds (f.Add
// and testdata/fuzz/FuzzXxx); fuzzing for longer is described in
// docs/architecture.md ("Fuzz targets").

// fuzzKeys returns Keys over a SQLite store in which tenants A and B have
// keys, on a clock that stands still, and seeds for f: tokens the keys
// signed (access and ID tokens of each algorithm, one of tenant B), and
// the forgeries TK-1 names (alg none, HS256 keyed with the public key, a
// foreign jku, an embedded jwk).
func fuzzKeys(f *testing.F) *Keys {
	f.Helper()
	c := newClock()
	s := storetest.SQLite(f)
	s.Now = c.Now
	err := s.Update(f.Context(), func(tx gatehouse.Tx) error {
		for i, id := range []string{tenantA, tenantB} {
			if err := tx.CreateTenant(f.Context(), &gatehouse.Tenant{ID: id, Name: []string{"contoso", "fabrikam"}[i], DisplayName: "T"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	k := NewKeys(s, newVault(f), c.Now)
	if err := s.Update(f.Context(), func(tx gatehouse.Tx) error {
		if err := k.Create(f.Context(), tx, tenantA); err != nil {
			return err
		}
		return k.Create(f.Context(), tx, tenantB)
	}); err != nil {
		f.Fatal(err)
	}
	sign := func(tenant, alg, typ string, claims any) string {
		tok, err := k.Sign(f.Context(), tenant, alg, typ, claims)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	at := NewAccessToken(issuerA, audienceA, "0c1d2e3f-sp", "4a5b6c7d-app", tenantA, c.Now())
	at.IDType, at.Roles = "app", []string{"User.Read.All"}
	id := &IDTokenClaims{Issuer: issuerA, Subject: "user-1", Audience: jwt.Audience{"4a5b6c7d-app"},
		Expiry: jwt.NewNumericDate(c.Now().Add(IDTokenLifetime)), IssuedAt: jwt.NewNumericDate(c.Now()), Nonce: "n"}
	rs, idTok := sign(tenantA, RS256, AccessTokenType, at), sign(tenantA, RS256, IDTokenType, id)
	// The targets' invariants on accepted tokens must have tokens to hold.
	if _, err := k.VerifyAccessToken(f.Context(), tenantA, issuerA, audienceA, rs); err != nil {
		f.Fatalf("the seed access token is refused: %v", err)
	}
	if _, err := k.VerifyIDTokenHint(f.Context(), tenantA, issuerA, idTok); err != nil {
		f.Fatalf("the seed ID token is refused: %v", err)
	}
	kid := headerKID(f, rs)
	set, err := k.JWKS(f.Context(), tenantA)
	if err != nil {
		f.Fatal(err)
	}
	var pubPEM []byte
	for _, key := range set.Keys {
		if pub, ok := key.Key.(*rsa.PublicKey); ok {
			der, _ := x509.MarshalPKIXPublicKey(pub)
			pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}
	}
	hdr := map[jose.HeaderKey]any{"kid": kid, jose.HeaderType: AccessTokenType}
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	for _, tok := range []string{
		rs,
		sign(tenantA, ES256, AccessTokenType, at),
		idTok,
		sign(tenantA, ES256, IDTokenType, id),
		sign(tenantB, RS256, AccessTokenType, at),
		unsigned(f, map[string]any{"alg": "none", "typ": AccessTokenType, "kid": kid}, at),
		forge(f, jose.HS256, pubPEM, at, hdr, false),
		forge(f, jose.RS256, attacker, at, map[jose.HeaderKey]any{"kid": kid, jose.HeaderType: AccessTokenType, "jku": "https://evil.example/jwks"}, false),
		forge(f, jose.RS256, attacker, at, map[jose.HeaderKey]any{jose.HeaderType: AccessTokenType}, true),
		strings.Replace(rs, ".", "..", 1),
		rs + ".",
		"",
	} {
		f.Add(tok)
	}
	return k
}

func headerKID(f *testing.F, tok string) string {
	f.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		f.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(raw, &h); err != nil {
		f.Fatal(err)
	}
	return h.Kid
}

// unauthorizedOnly fails t unless err is an EUNAUTHORIZED *gatehouse.Error
// with a message: with the store up, no input may cause anything else.
func unauthorizedOnly(t *testing.T, what, token string, err error) {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) || e.Code != gatehouse.EUNAUTHORIZED || e.Message == "" {
		t.Fatalf("%s(%q) = %#v; want an EUNAUTHORIZED error", what, token, err)
	}
}

// FuzzVerifyAccessToken: VerifyAccessToken does not panic on any input,
// refuses only with EUNAUTHORIZED, answers the same twice, and accepts
// only a token whose claims are tenant A's (issuer, audience, tid, the
// required claims, the times), which tenant B refuses, and which is never
// also an ID token hint (TK-2).
func FuzzVerifyAccessToken(f *testing.F) {
	k := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := k.VerifyAccessToken(t.Context(), tenantA, issuerA, audienceA, token)
		_, again := k.VerifyAccessToken(t.Context(), tenantA, issuerA, audienceA, token)
		if (err == nil) != (again == nil) {
			t.Fatalf("VerifyAccessToken(%q) = %v, then %v", token, err, again)
		}
		if err != nil {
			unauthorizedOnly(t, "VerifyAccessToken", token, err)
			return
		}
		now := k.now()
		switch {
		case c.Issuer != issuerA || !c.Audience.Contains(audienceA) || c.TenantID != tenantA:
			t.Fatalf("accepted %q with iss %q aud %v tid %q", token, c.Issuer, c.Audience, c.TenantID)
		case c.Subject == "" || c.ClientID == "" || c.ID == "" || c.Expiry == nil || c.IssuedAt == nil:
			t.Fatalf("accepted %q without a required claim: %+v", token, c)
		case now.After(c.Expiry.Time().Add(Leeway)):
			t.Fatalf("accepted %q, expired at %v", token, c.Expiry.Time())
		}
		if _, err := k.VerifyAccessToken(t.Context(), tenantB, gatehouse.IssuerURL(publicURL, "fabrikam"), gatehouse.AdminAPIURL(publicURL, "fabrikam"), token); err == nil {
			t.Fatalf("tenant B accepted tenant A's access token %q", token)
		}
		if _, err := k.VerifyIDTokenHint(t.Context(), tenantA, issuerA, token); err == nil {
			t.Fatalf("%q is accepted both as an access token and as an ID token", token)
		}
	})
}

// FuzzVerifyIDTokenHint: VerifyIDTokenHint does not panic on any input,
// refuses only with EUNAUTHORIZED, answers the same twice, and accepts
// only a token of tenant A's issuer with a subject and an audience, which
// tenant B refuses.
func FuzzVerifyIDTokenHint(f *testing.F) {
	k := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := k.VerifyIDTokenHint(t.Context(), tenantA, issuerA, token)
		_, again := k.VerifyIDTokenHint(t.Context(), tenantA, issuerA, token)
		if (err == nil) != (again == nil) {
			t.Fatalf("VerifyIDTokenHint(%q) = %v, then %v", token, err, again)
		}
		if err != nil {
			unauthorizedOnly(t, "VerifyIDTokenHint", token, err)
			return
		}
		if c.Issuer != issuerA || c.Subject == "" || len(c.Audience) == 0 {
			t.Fatalf("accepted %q with iss %q sub %q aud %v", token, c.Issuer, c.Subject, c.Audience)
		}
		if _, err := k.VerifyIDTokenHint(t.Context(), tenantB, gatehouse.IssuerURL(publicURL, "fabrikam"), token); err == nil {
			t.Fatalf("tenant B accepted tenant A's ID token %q", token)
		}
	})
}
