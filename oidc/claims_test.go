package oidc

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func TestReleasedClaims(t *testing.T) {
	yes := true
	ada := &gatehouse.User{Mail: "ada@example.com", DisplayName: "Ada Lovelace", GivenName: "Ada", Surname: "Lovelace",
		StreetAddress: "12 St James's Square", City: "London", State: "Greater London", PostalCode: "SW1Y 4JH", Country: "United Kingdom"}
	addr := &Address{Formatted: "12 St James's Square\nLondon, Greater London SW1Y 4JH\nUnited Kingdom", StreetAddress: "12 St James's Square",
		Locality: "London", Region: "Greater London", PostalCode: "SW1Y 4JH", Country: "United Kingdom"}
	for _, c := range []struct {
		scope     string
		requested []string
		user      *gatehouse.User
		want      UserClaims
	}{
		{"openid", nil, ada, UserClaims{}},
		{"openid phone", nil, ada, UserClaims{}},
		{"openid email", nil, ada, UserClaims{Email: "ada@example.com", EmailVerified: &yes}},
		{"openid profile", nil, ada, UserClaims{Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace", PreferredName: "ada@example.com"}},
		{"openid address", nil, ada, UserClaims{Address: addr}},
		{"address", nil, &gatehouse.User{City: "London"}, UserClaims{Address: &Address{Formatted: "London", Locality: "London"}}},
		{"address", nil, &gatehouse.User{Country: "Sweden"}, UserClaims{Address: &Address{Formatted: "Sweden", Country: "Sweden"}}},
		{"address", nil, &gatehouse.User{PostalCode: "10115", City: "Berlin"}, UserClaims{Address: &Address{Formatted: "Berlin, 10115", Locality: "Berlin", PostalCode: "10115"}}},
		{"address", nil, &gatehouse.User{StreetAddress: "1 Main St", State: "VA"}, UserClaims{Address: &Address{Formatted: "1 Main St\nVA", StreetAddress: "1 Main St", Region: "VA"}}},
		{"openid address", nil, &gatehouse.User{Mail: "bob@example.com"}, UserClaims{}},
		// The claims parameter asks for claims one by one (OIDC Core 5.5).
		{"openid", []string{"email"}, ada, UserClaims{Email: "ada@example.com"}},
		{"openid", []string{"name", "address", "phone_number"}, ada, UserClaims{Name: "Ada Lovelace", Address: addr}},
		{"openid email", []string{"given_name"}, ada, UserClaims{Email: "ada@example.com", EmailVerified: &yes, GivenName: "Ada"}},
		{"openid email profile address phone", nil, ada, UserClaims{Email: "ada@example.com", EmailVerified: &yes,
			Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace", PreferredName: "ada@example.com", Address: addr}},
	} {
		if diff := cmp.Diff(c.want, ReleasedClaims(c.scope, c.requested, c.user)); diff != "" {
			t.Errorf("ReleasedClaims(%q, %q, %+v) (-want +got):\n%s", c.scope, c.requested, c.user, diff)
		}
	}
}

// TestIDTokenClaimsJSON: the released claims sit at the top level of an ID
// token, with OpenID Connect's names, and absent ones are left out.
func TestIDTokenClaimsJSON(t *testing.T) {
	c := IDTokenClaims{Issuer: "https://id.example/acme/v2.0", Subject: "s", AccessTokenHash: "h",
		UserClaims: ReleasedClaims("openid address", nil, &gatehouse.User{City: "London"})}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"iss": "https://id.example/acme/v2.0", "sub": "s", "aud": nil, "exp": nil, "iat": nil, "at_hash": "h",
		"address": map[string]any{"formatted": "London", "locality": "London"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ID token JSON (-want +got):\n%s", diff)
	}
}

// TestAccessTokenHash: the left half of the hash the signing algorithm
// uses, base64url without padding; nothing for an unknown algorithm. (The
// web tests check RS256 and ES256 ID tokens with go-oidc's at_hash check.)
func TestAccessTokenHash(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
	for alg, n := range map[string]int{RS256: 22, ES256: 22, "RS384": 32, "EdDSA": 43} {
		got := AccessTokenHash(alg, token)
		if len(got) != n {
			t.Errorf("AccessTokenHash(%s) = %q, %d characters, want %d", alg, got, len(got), n)
		}
		if AccessTokenHash(alg, token+"x") == got {
			t.Errorf("AccessTokenHash(%s) is the same for another token", alg)
		}
	}
	sum := sha512.Sum512([]byte(token))
	if got, want := AccessTokenHash("EdDSA", token), base64.RawURLEncoding.EncodeToString(sum[:32]); got != want {
		t.Errorf("AccessTokenHash(EdDSA) = %q, want the left half of SHA-512 %q", got, want)
	}
	if AccessTokenHash(RS256, token) != AccessTokenHash(ES256, token) {
		t.Errorf("RS256 and ES256 use different hashes; both use SHA-256")
	}
	for _, alg := range []string{"", "none", "HS256"} {
		if got := AccessTokenHash(alg, token); got != "" {
			t.Errorf("AccessTokenHash(%q) = %q, want none", alg, got)
		}
	}
}
