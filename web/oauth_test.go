package web_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/storetest"
)

// postForm posts a token request and decodes the JSON answer.
func postForm(t *testing.T, tokenURL string, form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("token response is not JSON: %s", raw)
	}
	return resp.StatusCode, body, resp.Header
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	tokenURL := e.url + "/acme/oauth2/v2.0/token"
	id, secret, scope := acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope
	cc := func(extra url.Values) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	cases := []struct {
		name             string
		form             url.Values
		basicID, basicPW string
		status           int
		errCode          string
	}{
		{"basic", cc(nil), id, secret, 200, ""},
		{"post", cc(url.Values{"client_id": {id}, "client_secret": {secret}}), "", "", 200, ""},
		{"both methods", cc(url.Values{"client_secret": {secret}}), id, secret, 400, "invalid_request"},
		{"wrong secret", cc(nil), id, secret + "x", 401, "invalid_client"},
		{"unknown client", cc(nil), "00000000-0000-0000-0000-000000000000", secret, 401, "invalid_client"},
		{"no authentication", cc(nil), "", "", 401, "invalid_client"},
		{"missing scope", url.Values{"grant_type": {"client_credentials"}}, id, secret, 400, "invalid_scope"},
		{"foreign scope", cc(url.Values{"scope": {"https://graph.microsoft.com/.default"}}), id, secret, 400, "invalid_scope"},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, id, secret, 400, "unsupported_grant_type"},
		{"unknown grant", url.Values{"grant_type": {"urn:example:magic"}}, id, secret, 400, "unsupported_grant_type"},
		{"no grant", url.Values{}, id, secret, 400, "invalid_request"},
		{"grant_type twice", cc(url.Values{"grant_type": {"client_credentials", "client_credentials"}}), id, secret, 400, "invalid_request"},
		{"scope twice", cc(url.Values{"scope": {scope, scope}}), id, secret, 400, "invalid_request"},
		{"client_secret twice", cc(url.Values{"client_id": {id}, "client_secret": {secret, secret}}), "", "", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, h := postForm(t, tokenURL, c.form, c.basicID, c.basicPW)
			if status != c.status {
				t.Fatalf("status %d, want %d; body %v", status, c.status, body)
			}
			if c.errCode != "" {
				if body["error"] != c.errCode {
					t.Errorf("error = %v, want %s (%v)", body["error"], c.errCode, body["error_description"])
				}
				if d, _ := body["error_description"].(string); d == "" {
					t.Errorf("error %s has no description", c.errCode)
				}
				for k, v := range c.form {
					if d, _ := body["error_description"].(string); len(v) > 1 && !strings.Contains(d, "parameter "+k+" is sent 2 times") {
						t.Errorf("repeated %s: description %q does not name it", k, d)
					}
				}
				return
			}
			if body["token_type"] != "Bearer" || body["access_token"] == "" || body["expires_in"] != float64(3600) {
				t.Errorf("token response = %v", body)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		status, body, _ := postForm(t, e.url+"/nobody/oauth2/v2.0/token", cc(nil), id, secret)
		if status != 404 || body["error"] != "invalid_request" {
			t.Errorf("status %d body %v, want 404 invalid_request", status, body)
		}
	})
}

// TestAdminAPITokenChecks covers TK-1 and TK-2 at the API: forged and
// misdirected tokens are refused with 401.
func TestAdminAPITokenChecks(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	tok := e.token(e.url+"/acme/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	parts := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."
	idTyp := b64([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
	tampered := parts[0] + "." + b64([]byte(`{"sub":"someone"}`)) + "." + parts[2]
	for _, c := range []struct{ name, header string }{
		{"no header", ""},
		{"basic scheme", "Basic " + b64([]byte("a:b"))},
		{"alg none", "Bearer " + none},
		{"typ JWT (an ID token)", "Bearer " + idTyp},
		{"tampered payload", "Bearer " + tampered},
		{"garbage", "Bearer not.a.token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", acme.AdminAPI+"/users", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	e.must(200, "GET", acme.AdminAPI+"/users", tok, nil)
	r := e.must(404, "GET", acme.AdminAPI+"/nonsense", tok, nil)
	if !strings.Contains(r.errMessage(), "nonsense") {
		t.Errorf("404 message %q does not name the segment", r.errMessage())
	}
	r = e.must(400, "GET", acme.AdminAPI+"/users?$expand=memberOf", tok, nil)
	if !strings.Contains(r.errMessage(), "$expand") {
		t.Errorf("unsupported query option message %q", r.errMessage())
	}
	r = e.must(400, "GET", acme.AdminAPI+"/users?$filter=city%20eq%20'x'", tok, nil)
	if !strings.Contains(r.errMessage(), "city") {
		t.Errorf("unsupported filter message %q", r.errMessage())
	}
}

// TestCORS: single-page apps may call the token, userinfo, JWKS and
// discovery endpoints from their own origin; the admin API and the pages
// are not opened to other origins.
func TestCORS(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	e.createTenant("acme")
	for _, c := range []struct {
		method, path string
		want         string
	}{
		{"OPTIONS", "/acme/oauth2/v2.0/token", "*"},
		{"OPTIONS", "/acme/oidc/userinfo", "*"},
		{"GET", "/acme/discovery/v2.0/keys", "*"},
		{"GET", "/acme/v2.0/.well-known/openid-configuration", "*"},
		{"GET", "/acme/graph/v1.0/users", ""},
	} {
		req, _ := http.NewRequest(c.method, e.url+c.path, nil)
		req.Header.Set("Origin", "https://spa.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != c.want {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %q", c.method, c.path, got, c.want)
		}
		if c.method == "OPTIONS" && (resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")) {
			t.Errorf("preflight %s: status %d headers %v", c.path, resp.StatusCode, resp.Header)
		}
	}
}
