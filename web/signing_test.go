package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// jwsAlg returns the alg header of a compact JWS.
func jwsAlg(t testing.TB, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return h.Alg
}

// verifyAgainstJWKS checks a token with go-oidc against the tenant's
// published keys, allowing only alg, with the audience aud.
func verifyAgainstJWKS(t *testing.T, e *testEnv, tenant, aud, alg, token string) {
	t.Helper()
	ctx := context.Background()
	keySet := gooidc.NewRemoteKeySet(ctx, e.url+"/"+tenant+"/discovery/v2.0/keys")
	v := gooidc.NewVerifier(gatehouse.IssuerURL(e.url, tenant), keySet, &gooidc.Config{ClientID: aud, SupportedSigningAlgs: []string{alg}})
	if _, err := v.Verify(ctx, token); err != nil {
		t.Errorf("go-oidc verification of a %s token against the JWKS: %v", alg, err)
	}
}

// verifyWithJOSE checks a token with go-jose alone: the key is the JWKS
// entry with the token's kid, and only its alg is allowed.
func verifyWithJOSE(t *testing.T, e *testEnv, tenant, alg, token string) {
	t.Helper()
	resp, err := http.Get(e.url + "/" + tenant + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("go-jose parse of a %s token: %v", alg, err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 || keys[0].Algorithm != alg {
		t.Fatalf("JWKS has %d keys with kid %s (%+v), want one %s key", len(keys), tok.Headers[0].KeyID, keys, alg)
	}
	var c jwt.Claims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Errorf("go-jose verification of a %s token: %v", alg, err)
	}
}

// TestSigningAlgorithms checks the per-tenant defaults and per-app choices
// of the access token and ID token algorithms, on every engine: what a new
// tenant starts with, that a tenant from before the choice keeps RS256 and
// gets its EdDSA key when it first chooses EdDSA, that the admin API sets
// and refuses values by field and writes nothing when it refuses, and that
// every token verifies with go-oidc and go-jose against the JWKS.
func TestSigningAlgorithms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		ctx := context.Background()
		e := newEnv(t, eng.Open(t), newKey(t))
		acme := e.createTenant("acme")

		// A tenant as Gatehouse created them before the choice: no
		// algorithms stored, and no usable EdDSA key (its EdDSA key
		// retired long ago, so neither published nor signing).
		legacy := e.createTenant("legacy")
		err := e.store.Update(ctx, func(tx gatehouse.Tx) error {
			if _, err := tx.UpdateTenant(ctx, legacy.TenantID, func(tn *gatehouse.Tenant) error {
				tn.TokenSigning = gatehouse.TokenSigning{}
				return nil
			}); err != nil {
				return err
			}
			rows, err := tx.SigningKeys(ctx, legacy.TenantID)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if r.Algorithm == gatehouse.EdDSA {
					if _, err := tx.UpdateSigningKey(ctx, legacy.TenantID, r.ID, func(k *gatehouse.SigningKey) error {
						k.RetiredAt = time.Now().Add(-2 * oidc.RetainRetired)
						return nil
					}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		tokenOf := func(tenant, id, secret string) string {
			return e.token(e.url+"/"+tenant+"/oauth2/v2.0/token", id, secret, gatehouse.AdminAPIScope(e.url, tenant))
		}
		org := func(tenantID, api, tok string) map[string]any {
			t.Helper()
			g, _ := e.must(200, "GET", api+"/organization/"+tenantID, tok, nil).body["gatehouse"].(map[string]any)
			return g
		}

		// Defaults: a new tenant signs access tokens ES256 and ID tokens
		// RS256; a tenant from before signs both RS256, as it did.
		acmeTok := tokenOf("acme", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret)
		legacyTok := tokenOf("legacy", legacy.AutomationClient.ClientID, legacy.AutomationClient.ClientSecret)
		for _, c := range []struct {
			name, tenant, tenantID, api, tok, wantAccess, wantID string
		}{
			{"new tenant", "acme", acme.TenantID, acme.AdminAPI, acmeTok, "ES256", "RS256"},
			{"tenant from before", "legacy", legacy.TenantID, legacy.AdminAPI, legacyTok, "RS256", "RS256"},
		} {
			if got := jwsAlg(t, c.tok); got != c.wantAccess {
				t.Errorf("%s: client credentials token alg %s, want %s", c.name, got, c.wantAccess)
			}
			verifyAgainstJWKS(t, e, c.tenant, c.api, c.wantAccess, c.tok)
			want := map[string]any{"accessTokenSigningAlg": c.wantAccess, "idTokenSigningAlg": c.wantID}
			if diff := cmp.Diff(want, org(c.tenantID, c.api, c.tok)); diff != "" {
				t.Errorf("%s: organization gatehouse settings (-want +got):\n%s", c.name, diff)
			}
		}

		// Discovery lists every algorithm an app may choose.
		var doc struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		resp, err := http.Get(legacy.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if diff := cmp.Diff([]string{"RS256", "ES256", "EdDSA"}, doc.Algs); diff != "" {
			t.Errorf("id_token_signing_alg_values_supported (-want +got):\n%s", diff)
		}

		// Refused values name the field and write nothing.
		audits := e.countAll(legacy.AdminAPI+"/auditLogs/directoryAudits", legacyTok)
		orgURL := legacy.AdminAPI + "/organization/" + legacy.TenantID
		for _, c := range []struct {
			body   string
			target string
		}{
			{`{"gatehouse":{"accessTokenSigningAlg":"HS256"}}`, "gatehouse.accessTokenSigningAlg"},
			{`{"gatehouse":{"accessTokenSigningAlg":"none"}}`, "gatehouse.accessTokenSigningAlg"},
			{`{"gatehouse":{"idTokenSigningAlg":"es256"}}`, "gatehouse.idTokenSigningAlg"},
			{`{"gatehouse":{"idTokenSigningAlg":""}}`, "gatehouse.idTokenSigningAlg"},
			{`{"gatehouse":{"idTokenSigningAlg":null}}`, "gatehouse.idTokenSigningAlg"},
			{`{"gatehouse":{"accessTokenSigningAlg":"EdDSA","idTokenSigningAlg":"PS256"}}`, "gatehouse.idTokenSigningAlg"},
			{`{"gatehouse":{"signingAlg":"EdDSA"}}`, "gatehouse.signingAlg"},
			{`{"gatehouse":null}`, "gatehouse"},
		} {
			r := e.call("PATCH", orgURL, legacyTok, c.body)
			if r.status != http.StatusBadRequest || r.errTarget() != c.target || !strings.Contains(r.errMessage(), c.target) {
				t.Errorf("PATCH organization %s: status %d, target %q, message %q; want 400 naming %s", c.body, r.status, r.errTarget(), r.errMessage(), c.target)
			}
		}
		for _, c := range []struct {
			body   map[string]any
			target string
		}{
			{map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": "HS256"}}, "gatehouse.accessTokenSigningAlg"},
			{map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "Ed25519"}}, "gatehouse.idTokenSigningAlg"},
			{map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": 256}}, "gatehouse.accessTokenSigningAlg"},
		} {
			c.body["displayName"] = "Refused"
			r := e.call("POST", legacy.AdminAPI+"/applications", legacyTok, c.body)
			if r.status != http.StatusBadRequest || r.errTarget() != c.target || !strings.Contains(r.errMessage(), c.target) {
				t.Errorf("POST application %v: status %d, target %q, message %q; want 400 naming %s", c.body, r.status, r.errTarget(), r.errMessage(), c.target)
			}
		}
		if n := e.countAll(legacy.AdminAPI+"/auditLogs/directoryAudits", legacyTok); n != audits {
			t.Errorf("refused requests wrote %d audit entries", n-audits)
		}
		if rows, _ := e.store.SigningKeys(ctx, legacy.TenantID); len(rows) != 3 {
			t.Errorf("refused requests left %d signing keys, want the 3 of before", len(rows))
		}
		if got := e.countAll(legacy.AdminAPI+"/applications", legacyTok); got != 2 {
			t.Errorf("refused requests left %d applications, want 2 (the automation client and the admin portal)", got)
		}

		// The tenant from before chooses EdDSA for access tokens and
		// ES256 for ID tokens: it gets an EdDSA key in that transaction,
		// recorded in the audit log, and its next token is EdDSA.
		e.must(204, "PATCH", orgURL, legacyTok, `{"gatehouse":{"accessTokenSigningAlg":"EdDSA","idTokenSigningAlg":"ES256"}}`)
		if diff := cmp.Diff(map[string]any{"accessTokenSigningAlg": "EdDSA", "idTokenSigningAlg": "ES256"}, org(legacy.TenantID, legacy.AdminAPI, legacyTok)); diff != "" {
			t.Errorf("organization gatehouse settings after PATCH (-want +got):\n%s", diff)
		}
		keyAdds := e.must(200, "GET", legacy.AdminAPI+"/auditLogs/directoryAudits?"+url.Values{"$filter": {"activityDisplayName eq 'Add signing key'"}}.Encode(), legacyTok, nil)
		if vals, _ := keyAdds.body["value"].([]any); len(vals) != len(gatehouse.SigningAlgorithms)+1 { // the tenant's creation, and this PATCH
			t.Errorf("audit log has %d 'Add signing key' entries for the tenant from before, want %d: %v", len(vals), len(gatehouse.SigningAlgorithms)+1, keyAdds.body)
		}
		edTok := tokenOf("legacy", legacy.AutomationClient.ClientID, legacy.AutomationClient.ClientSecret)
		if got := jwsAlg(t, edTok); got != "EdDSA" {
			t.Errorf("after choosing EdDSA the client credentials token alg is %s", got)
		}
		verifyAgainstJWKS(t, e, "legacy", legacy.AdminAPI, "EdDSA", edTok)
		verifyWithJOSE(t, e, "legacy", "EdDSA", edTok)
		// Gatehouse accepts it where it takes access tokens.
		e.must(200, "GET", legacy.AdminAPI+"/users", edTok, nil)
		// A second PATCH adds no key.
		e.must(204, "PATCH", orgURL, legacyTok, `{"gatehouse":{"idTokenSigningAlg":"EdDSA"}}`)
		if rows, _ := e.store.SigningKeys(ctx, legacy.TenantID); len(rows) != 4 {
			t.Errorf("the tenant has %d signing keys, want 4 (3 from its creation, 1 EdDSA key added)", len(rows))
		}
		e.must(204, "PATCH", orgURL, legacyTok, `{"gatehouse":{"idTokenSigningAlg":"ES256"}}`)

		// Per app, in the tenant that now defaults to EdDSA and ES256: an
		// app that follows the defaults, and one with its own choices.
		e.must(201, "POST", legacy.AdminAPI+"/users", legacyTok, map[string]any{"displayName": "Ada", "mail": "ada@example.com", "passwordProfile": map[string]any{"password": "correct horse battery"}})
		plain := e.newRP("legacy", legacyTok, "Plain", nil)
		own := e.newRP("legacy", legacyTok, "Own", map[string]any{"gatehouse": map[string]any{"accessTokenSigningAlg": "RS256", "idTokenSigningAlg": "EdDSA"}})
		e.createFlow(legacy.TenantID, gatehouse.IdentityProviderEmailPassword, true, plain.cfg.ClientID, own.cfg.ClientID)
		got := e.must(200, "GET", legacy.AdminAPI+"/applications/"+own.appObjID, legacyTok, nil).body["gatehouse"].(map[string]any)
		if got["accessTokenSigningAlg"] != "RS256" || got["idTokenSigningAlg"] != "EdDSA" {
			t.Errorf("GET application gatehouse = %v, want its own RS256 and EdDSA", got)
		}
		got = e.must(200, "GET", legacy.AdminAPI+"/applications/"+plain.appObjID, legacyTok, nil).body["gatehouse"].(map[string]any)
		if got["accessTokenSigningAlg"] != nil || got["idTokenSigningAlg"] != nil {
			t.Errorf("GET application gatehouse = %v, want null (the tenant's defaults)", got)
		}
		for _, c := range []struct {
			rp                 *rp
			wantAccess, wantID string
		}{
			{plain, "EdDSA", "ES256"},
			{own, "RS256", "EdDSA"},
		} {
			res, _ := c.rp.authorize(newBrowser(t, rpRedirect), "ada@example.com", "correct horse battery")
			tk, err := c.rp.cfg.Exchange(ctx, res.code)
			if err != nil {
				t.Fatalf("%s: code exchange: %v", c.rp.cfg.ClientID, err)
			}
			idToken, _ := tk.Extra("id_token").(string)
			if a, i := jwsAlg(t, tk.AccessToken), jwsAlg(t, idToken); a != c.wantAccess || i != c.wantID {
				t.Errorf("app %s: access token %s, ID token %s; want %s and %s", c.rp.cfg.ClientID, a, i, c.wantAccess, c.wantID)
			}
			v := c.rp.provider.Verifier(&gooidc.Config{ClientID: c.rp.cfg.ClientID, SupportedSigningAlgs: []string{c.wantID}})
			if _, err := v.Verify(ctx, idToken); err != nil {
				t.Errorf("app %s: go-oidc verification of its %s ID token: %v", c.rp.cfg.ClientID, c.wantID, err)
			}
			verifyWithJOSE(t, e, "legacy", c.wantID, idToken)
			verifyAgainstJWKS(t, e, "legacy", e.url+"/legacy/oidc/userinfo", c.wantAccess, tk.AccessToken)
			// Userinfo takes the access token whatever its algorithm.
			if _, err := c.rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tk)); err != nil {
				t.Errorf("app %s: userinfo with a %s access token: %v", c.rp.cfg.ClientID, c.wantAccess, err)
			}
			// The refreshed tokens use the same algorithms.
			next, err := c.rp.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tk.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			nextID, _ := next.Extra("id_token").(string)
			if a, i := jwsAlg(t, next.AccessToken), jwsAlg(t, nextID); a != c.wantAccess || i != c.wantID {
				t.Errorf("app %s after refresh: access token %s, ID token %s; want %s and %s", c.rp.cfg.ClientID, a, i, c.wantAccess, c.wantID)
			}
		}

		// Null puts an app back on the tenant's defaults.
		e.must(204, "PATCH", legacy.AdminAPI+"/applications/"+own.appObjID, legacyTok, `{"gatehouse":{"accessTokenSigningAlg":null,"idTokenSigningAlg":null}}`)
		got = e.must(200, "GET", legacy.AdminAPI+"/applications/"+own.appObjID, legacyTok, nil).body["gatehouse"].(map[string]any)
		if got["accessTokenSigningAlg"] != nil || got["idTokenSigningAlg"] != nil {
			t.Errorf("GET application gatehouse after null = %v, want null", got)
		}

		// The other tenant is untouched by all of it.
		if tok := tokenOf("acme", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret); jwsAlg(t, tok) != "ES256" {
			t.Errorf("acme's token alg changed to %s", jwsAlg(t, tok))
		}
	})
}
