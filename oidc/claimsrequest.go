package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/gatehouse/gatehouse"
)

// MaxClaimsRequest bounds the claims parameter of an authorization
// request, in bytes.
const MaxClaimsRequest = 4096

// ClaimsRequest is the claims request parameter (OpenID Connect Core
// 5.5): individual claims asked for in the ID token and from userinfo.
type ClaimsRequest struct {
	UserInfo map[string]*ClaimRequest `json:"userinfo,omitempty"`
	IDToken  map[string]*ClaimRequest `json:"id_token,omitempty"`
}

// ClaimRequest is what is asked of one claim: nothing more than the claim
// (a JSON null), or whether it is essential and which value or values
// are wanted.
type ClaimRequest struct {
	Essential bool     `json:"essential,omitempty"`
	Value     *string  `json:"value,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// ParseClaimsRequest validates a claims parameter and returns it with its
// canonical JSON, which is what Gatehouse keeps of it. Members other than
// userinfo and id_token are ignored, as OpenID Connect Core 5.5 says. The
// error is EINVALID and says what is wrong.
func ParseClaimsRequest(raw string) (*ClaimsRequest, string, error) {
	bad := func(format string, args ...any) (*ClaimsRequest, string, error) {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "The claims parameter is not valid: "+format, args...)
	}
	if len(raw) > MaxClaimsRequest {
		return bad("it is longer than %d bytes.", MaxClaimsRequest)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return bad("it must be a JSON object with the members userinfo and id_token.")
	}
	c := &ClaimsRequest{}
	for _, member := range []struct {
		name string
		dst  *map[string]*ClaimRequest
	}{{"userinfo", &c.UserInfo}, {"id_token", &c.IDToken}} {
		v, ok := top[member.name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(v, &claims); err != nil || claims == nil {
			return bad("%s must be an object of claim names.", member.name)
		}
		out := map[string]*ClaimRequest{}
		for name, spec := range claims {
			if name == "" || len(name) > 128 {
				return bad("%s names a claim %q; claim names are 1 to 128 characters.", member.name, name)
			}
			cr, err := parseClaimRequest(spec)
			if err != nil {
				return bad("%s.%s %s", member.name, name, err.Error())
			}
			out[name] = cr
		}
		*member.dst = out
	}
	canon, err := json.Marshal(c)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: encode claims request: %w", err)
	}
	return c, string(canon), nil
}

// parseClaimRequest reads one claim's request: null, or an object whose
// essential is a boolean and whose value and values are strings (every
// claim Gatehouse serves is a string or an object of strings).
func parseClaimRequest(spec json.RawMessage) (*ClaimRequest, error) {
	if bytes.Equal(bytes.TrimSpace(spec), []byte("null")) {
		return &ClaimRequest{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(spec, &fields); err != nil || fields == nil {
		return nil, errors.New("must be null or an object with essential, value or values.")
	}
	cr := &ClaimRequest{}
	if v, ok := fields["essential"]; ok {
		if err := json.Unmarshal(v, &cr.Essential); err != nil {
			return nil, errors.New("has an essential that is not true or false.")
		}
	}
	if v, ok := fields["value"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, errors.New("has a value that is not a string.")
		}
		cr.Value = &s
	}
	if v, ok := fields["values"]; ok {
		if err := json.Unmarshal(v, &cr.Values); err != nil || cr.Values == nil {
			return nil, errors.New("has values that are not an array of strings.")
		}
	}
	return cr, nil
}

// Requested returns the names of the claims asked for in the target
// ("id_token" or "userinfo"), sorted.
func (c *ClaimsRequest) Requested(target string) []string {
	if c == nil {
		return nil
	}
	m := c.IDToken
	if target == "userinfo" {
		m = c.UserInfo
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ACR returns what the ID token's acr claim is asked to be: whether it
// is essential and the acceptable values (empty: any); ok is false when
// acr is not asked for.
func (c *ClaimsRequest) ACR() (essential bool, values []string, ok bool) {
	if c == nil || c.IDToken == nil {
		return false, nil, false
	}
	cr, ok := c.IDToken["acr"]
	if !ok {
		return false, nil, false
	}
	values = slices.Clone(cr.Values)
	if cr.Value != nil {
		values = append(values, *cr.Value)
	}
	return cr.Essential, values, true
}

// LoadClaimsRequest decodes the canonical JSON ParseClaimsRequest
// returned; "" is no request.
func LoadClaimsRequest(canon string) *ClaimsRequest {
	if canon == "" {
		return nil
	}
	var c ClaimsRequest
	if err := json.Unmarshal([]byte(canon), &c); err != nil {
		return nil
	}
	return &c
}
