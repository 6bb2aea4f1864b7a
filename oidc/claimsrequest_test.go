package oidc_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/google/go-cmp/cmp"
)

func TestParseClaimsRequest(t *testing.T) {
	two := "2"
	for _, tt := range []struct {
		name, raw string
		want      *oidc.ClaimsRequest
		canon     string
		err       string // part of the error message; "" for success
	}{
		{
			name: "the example of OpenID Connect Core 5.5",
			raw:  `{"userinfo":{"given_name":{"essential":true},"nickname":null,"email":{"essential":true},"email_verified":{"essential":true},"picture":null},"id_token":{"auth_time":{"essential":true},"acr":{"values":["urn:mace:incommon:iap:silver"]}}}`,
			want: &oidc.ClaimsRequest{
				UserInfo: map[string]*oidc.ClaimRequest{"given_name": {Essential: true}, "nickname": {}, "email": {Essential: true}, "email_verified": {Essential: true}, "picture": {}},
				IDToken:  map[string]*oidc.ClaimRequest{"auth_time": {Essential: true}, "acr": {Values: []string{"urn:mace:incommon:iap:silver"}}},
			},
			canon: `{"userinfo":{"email":{"essential":true},"email_verified":{"essential":true},"given_name":{"essential":true},"nickname":{},"picture":{}},"id_token":{"acr":{"values":["urn:mace:incommon:iap:silver"]},"auth_time":{"essential":true}}}`,
		},
		{
			name:  "an essential acr with one value",
			raw:   `{"id_token":{"acr":{"essential":true,"value":"2"}},"other":{"ignored":1}}`,
			want:  &oidc.ClaimsRequest{IDToken: map[string]*oidc.ClaimRequest{"acr": {Essential: true, Value: &two}}},
			canon: `{"id_token":{"acr":{"essential":true,"value":"2"}}}`,
		},
		{name: "empty object", raw: `{}`, want: &oidc.ClaimsRequest{}, canon: `{}`},
		{name: "not JSON", raw: `{"id_token":`, err: "must be a JSON object"},
		{name: "an array", raw: `[]`, err: "must be a JSON object"},
		{name: "null", raw: `null`, err: "must be a JSON object"},
		{name: "id_token not an object", raw: `{"id_token":["acr"]}`, err: "id_token must be an object"},
		{name: "a claim that is a string", raw: `{"userinfo":{"email":"yes"}}`, err: "userinfo.email must be null or an object"},
		{name: "essential not a boolean", raw: `{"id_token":{"acr":{"essential":"true"}}}`, err: "id_token.acr has an essential"},
		{name: "values not strings", raw: `{"id_token":{"acr":{"values":[2]}}}`, err: "id_token.acr has values"},
		{name: "value not a string", raw: `{"id_token":{"acr":{"value":2}}}`, err: "id_token.acr has a value"},
		{name: "an empty claim name", raw: `{"userinfo":{"":null}}`, err: "claim names are 1 to 128"},
		{name: "too long", raw: `{"userinfo":{"a":"` + strings.Repeat("x", oidc.MaxClaimsRequest) + `"}}`, err: "longer than 4096"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, canon, err := oidc.ParseClaimsRequest(tt.raw)
			if tt.err != "" {
				if gatehouse.ErrorCode(err) != gatehouse.EINVALID || !strings.Contains(gatehouse.ErrorMessage(err), tt.err) {
					t.Fatalf("ParseClaimsRequest error = %v, want EINVALID mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClaimsRequest: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if canon != tt.canon {
				t.Errorf("canonical JSON = %s, want %s", canon, tt.canon)
			}
			if diff := cmp.Diff(got, oidc.LoadClaimsRequest(canon)); diff != "" {
				t.Errorf("LoadClaimsRequest does not give back the request (-parsed +loaded):\n%s", diff)
			}
		})
	}
}

func TestClaimsRequestACR(t *testing.T) {
	c, _, err := oidc.ParseClaimsRequest(`{"id_token":{"acr":{"essential":true,"values":["3","2"],"value":"1"},"email":null},"userinfo":{"name":null}}`)
	if err != nil {
		t.Fatal(err)
	}
	essential, values, ok := c.ACR()
	if !essential || !ok || !cmp.Equal(values, []string{"3", "2", "1"}) {
		t.Errorf("ACR() = %v, %v, %v; want true, [3 2 1], true", essential, values, ok)
	}
	if got := c.Requested("id_token"); !cmp.Equal(got, []string{"acr", "email"}) {
		t.Errorf("Requested(id_token) = %v", got)
	}
	if got := c.Requested("userinfo"); !cmp.Equal(got, []string{"name"}) {
		t.Errorf("Requested(userinfo) = %v", got)
	}
	var none *oidc.ClaimsRequest
	if _, _, ok := none.ACR(); ok || none.Requested("id_token") != nil {
		t.Error("a nil request asks for something")
	}
}
