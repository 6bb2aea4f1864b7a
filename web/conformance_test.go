package web_test

// Gatehouse's conformance suite: one test per module of the OpenID
// Foundation conformance suite's Basic OP plan
// (oidcc-basic-certification-test-plan, static client, response_type=code,
// client_secret_basic) and Config OP plan
// (oidcc-config-certification-test-plan), named after the module
// (TestOIDCC_ScopeAddress is oidcc-scope-address), and a few modules of
// its other OP plans (conformance_more_test.go). Each test runs on every
// engine and drives Gatehouse as the module does: a relying party built
// from golang.org/x/oauth2 (authorization code, token requests) and
// go-oidc (discovery, ID token and at_hash verification, userinfo), with
// raw checks of headers and claims by go-jose, applying the conditions the
// module applies. The hosted sign-in page is filled in over plain HTTP.
// Where a module needs a person (a screenshot of an error page), the test
// checks the server's side of it: the page, and that nothing was
// redirected. docs/conformance.md lists every module and its result.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const (
	opMail     = "ada@example.com"
	opPassword = "correct horse battery"
)

// opUser is the user every module signs in as, with every attribute
// Gatehouse releases as a claim.
var opUser = map[string]any{
	"mail": opMail, "displayName": "Ada Lovelace", "givenName": "Ada", "surname": "Lovelace",
	"streetAddress": "12 St James's Square", "city": "London", "state": "Greater London", "postalCode": "SW1Y 4JH", "country": "United Kingdom",
	"passwordProfile": map[string]any{"password": opPassword},
}

// op is one module's setup, made as the suite's configure step makes it:
// a tenant whose app (a confidential web app with a secret, in a user
// flow with email and password) the test client is, the user, and the
// discovery document and JWK set, fetched and checked.
type op struct {
	*hostedEnv
	t       *testing.T
	sub     string // the user's subject
	meta    map[string]any
	jwks    jose.JSONWebKeySet
	headers *headerLog
	ctx     context.Context // carries the client that records headers, for x/oauth2
}

func newOP(t *testing.T, eng storetest.Engine) *op {
	t.Helper()
	h := newHostedEnv(t, eng, hostedOptions{})
	o := &op{hostedEnv: h, t: t, headers: &headerLog{last: map[string]response{}}}
	o.sub = h.must(201, "POST", h.tenant.AdminAPI+"/users", h.tok, opUser).str("id")
	o.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: o.headers})
	o.meta = o.getJSON(h.tenant.Issuer + "/.well-known/openid-configuration")
	o.jwks = o.fetchJWKS()
	return o
}

// headerLog is the relying party's HTTP transport: it keeps the status and
// headers of the last response from each path.
type headerLog struct {
	mu   sync.Mutex
	last map[string]response
}

func (l *headerLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		l.mu.Lock()
		l.last[req.URL.Path] = response{status: resp.StatusCode, header: resp.Header.Clone()}
		l.mu.Unlock()
	}
	return resp, err
}

func (l *headerLog) of(u string) response {
	p, _ := url.Parse(u)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[p.Path]
}

// getJSON fetches a JSON document that must be served with 200 and a JSON
// content type (OpenID Connect Discovery 4.2, RFC 7517).
func (o *op) getJSON(u string) map[string]any {
	o.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !isJSON(resp.Header) {
		o.t.Fatalf("GET %s: status %d, Content-Type %q; want 200 and JSON", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		o.t.Fatalf("GET %s: %v", u, err)
	}
	return m
}

func isJSON(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "application/json"
}

// fetchJWKS fetches jwks_uri and checks it as the suite's configure step
// does: valid public keys (CheckServerKeysIsValid, ValidateJwksSequence),
// each with a kid (CheckForKeyIdInServerJWKs, OIDC Core 10.1), no kid
// twice (CheckDistinctKeyIdValueInServerJWKs, RFC 7517 4.5).
func (o *op) fetchJWKS() jose.JSONWebKeySet {
	o.t.Helper()
	uri, _ := o.meta["jwks_uri"].(string)
	raw, err := json.Marshal(o.getJSON(uri))
	if err != nil {
		o.t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		o.t.Fatalf("the JWK set does not parse: %v", err)
	}
	if len(set.Keys) == 0 {
		o.t.Fatalf("the JWK set has no keys")
	}
	seen := map[string]bool{}
	for _, k := range set.Keys {
		switch {
		case k.KeyID == "":
			o.t.Errorf("a JWK has no kid: %+v", k)
		case seen[k.KeyID]:
			o.t.Errorf("kid %s appears twice in the JWK set", k.KeyID)
		case !k.Valid() || !k.IsPublic():
			o.t.Errorf("JWK %s is not a valid public key", k.KeyID)
		case k.Use != "sig" || (k.Algorithm != "RS256" && k.Algorithm != "ES256"):
			o.t.Errorf("JWK %s: use %q alg %q, want a signing key for RS256 or ES256", k.KeyID, k.Use, k.Algorithm)
		}
		seen[k.KeyID] = true
	}
	return set
}

// authz is one authorization request, built as the suite builds it
// (CreateAuthorizationEndpointRequestFromClientInformation and the
// conditions after it): client_id, redirect_uri, response_type=code,
// scope, a random state and nonce, then the module's changes.
type authz struct {
	scope   string            // "openid" unless set
	set     map[string]string // parameters added or replaced
	drop    []string          // parameters left out
	state   int               // the state's length, 32 unless set
	post    bool              // sent as a form POST, not a GET
	reverse bool              // parameters in reverse order (oidcc-alternate-happy-flow)
	client  *rp               // the app; Shop unless set
}

// sent is an authorization request as sent, and what came of it.
type sent struct {
	client   *rp
	params   url.Values
	callback url.Values // the query the browser came back to the app with; nil if it did not
	login    bool       // the sign-in page was shown and filled in
	last     page       // the last page, when the browser did not come back
}

var stateChars = regexp.MustCompile(`[^A-Za-z0-9]`)

// authorize sends the browser b with the request a, signs in on the
// hosted page if it is shown, and returns what reached the redirect URI.
func (o *op) authorize(b *browser, a authz) sent {
	o.t.Helper()
	c := a.client
	if c == nil {
		c = o.app
	}
	if a.scope == "" {
		a.scope = "openid"
	}
	if a.state == 0 {
		a.state = 32
	}
	state := ""
	for len(state) < a.state {
		state += stateChars.ReplaceAllString(randomText(), "")
	}
	p := url.Values{"client_id": {c.cfg.ClientID}, "redirect_uri": {c.cfg.RedirectURL}, "response_type": {"code"},
		"scope": {a.scope}, "state": {state[:a.state]}, "nonce": {stateChars.ReplaceAllString(randomText(), "")}}
	for k, v := range a.set {
		p.Set(k, v)
	}
	for _, k := range a.drop {
		p.Del(k)
	}
	query := p.Encode()
	if a.reverse {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range p {
				if !yield(k) {
					return
				}
			}
		})
		slices.Reverse(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(p.Get(k)))
		}
		query = strings.Join(parts, "&")
	}
	endpoint, _ := o.meta["authorization_endpoint"].(string)
	var pg page
	if a.post {
		req, _ := http.NewRequest("POST", endpoint, strings.NewReader(query))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		pg = b.do(req)
	} else {
		pg = b.get(endpoint + "?" + query)
	}
	s := sent{client: c, params: p}
	if pg.location == "" && pg.status == http.StatusOK && strings.HasSuffix(pg.url.Path, "/login") && strings.Contains(pg.body, `type="password"`) {
		s.login = true
		pg = b.submit(pg, map[string]string{"email": opMail, "password": opPassword})
	}
	if back, err := url.Parse(pg.location); err == nil && pg.location != "" {
		back.RawQuery = ""
		if back.String() != c.cfg.RedirectURL {
			o.t.Fatalf("redirected to %s, which is not the redirect URI %s", pg.location, c.cfg.RedirectURL)
		}
		u, _ := url.Parse(pg.location)
		s.callback = u.Query()
	} else {
		s.last = pg
	}
	return s
}

// randomText returns 32 random URL-safe characters.
func randomText() string { return oauth2.GenerateVerifier()[:32] }

// errorDescriptionRE is the character set of error_description (RFC 6749
// 4.1.2.1, 5.2), which the suite also allows tab, CR and LF in.
var errorDescriptionRE = regexp.MustCompile(`^[\t\n\r\x20-\x21\x23-\x5b\x5d-\x7e]*$`)

// expectCode checks a successful authorization response
// (CheckMatchingCallbackParameters, ValidateIssIfPresentInAuthorizationResponse,
// CheckIfAuthorizationEndpointError, CheckStateInAuthorizationResponse,
// EnsureMinimumAuthorizationCodeLength/Entropy) and returns the code.
func (o *op) expectCode(s sent) string {
	o.t.Helper()
	q := s.callback
	switch {
	case q == nil:
		o.t.Fatalf("the browser did not come back to the app: status %d at %s: %.300s", s.last.status, s.last.url, text(s.last.body))
	case q.Has("error"):
		o.t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != s.params.Get("state"):
		o.t.Fatalf("state %q came back as %q", s.params.Get("state"), q.Get("state"))
	case q.Get("iss") != o.tenant.Issuer:
		o.t.Fatalf("iss %q in the authorization response, want %s", q.Get("iss"), o.tenant.Issuer)
	}
	code := q.Get("code")
	if len(code) < 22 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		o.t.Fatalf("code %q: want at least 128 random bits (22 base64url characters)", code)
	}
	return code
}

// expectError checks an error response of the authorization endpoint as
// performGenericAuthorizationEndpointErrorResponseValidation does, and
// that its error is one of codes.
func (o *op) expectError(s sent, codes ...string) {
	o.t.Helper()
	q := s.callback
	if q == nil {
		o.t.Fatalf("the browser did not come back to the app with an error: status %d at %s: %.300s", s.last.status, s.last.url, text(s.last.body))
	}
	if !slices.Contains(codes, q.Get("error")) {
		o.t.Errorf("error %q (%s), want one of %v", q.Get("error"), q.Get("error_description"), codes)
	}
	if q.Has("code") {
		o.t.Errorf("an error response carries a code")
	}
	if s.params.Has("state") && q.Get("state") != s.params.Get("state") {
		o.t.Errorf("state %q came back as %q", s.params.Get("state"), q.Get("state"))
	}
	if q.Get("iss") != o.tenant.Issuer {
		o.t.Errorf("iss %q in the error response, want %s", q.Get("iss"), o.tenant.Issuer)
	}
	if d := q.Get("error_description"); !errorDescriptionRE.MatchString(d) {
		o.t.Errorf("error_description %q has characters RFC 6749 does not allow", d)
	}
	for k := range q {
		if !slices.Contains([]string{"error", "error_description", "error_uri", "state", "iss"}, k) {
			o.t.Errorf("unexpected parameter %s in the error response", k)
		}
	}
}

// expectErrorPage checks that the browser was shown an error page and not
// sent anywhere: neither to the redirect URI nor to any other.
func (o *op) expectErrorPage(s sent, about string) {
	o.t.Helper()
	if s.callback != nil {
		o.t.Fatalf("the browser was redirected to the app with %v; want an error page", s.callback)
	}
	if s.last.status != http.StatusBadRequest || s.last.location != "" || !strings.Contains(text(s.last.body), about) {
		o.t.Errorf("status %d, location %q, page %.300q; want a 400 page saying %q", s.last.status, s.last.location, text(s.last.body), about)
	}
}

// exchange redeems a code with the client's secret by style (basic or
// post) and checks the token response as the suite does
// (CheckTokenEndpointHttpStatus200, CheckTokenEndpointReturnedJsonContentType,
// CheckTokenEndpointCacheHeaders, CheckForAccessTokenValue, token_type,
// ValidateExpiresIn).
func (o *op) exchange(s sent, code string, style oauth2.AuthStyle, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	o.t.Helper()
	cfg := s.client.cfg
	cfg.Endpoint.AuthStyle = style
	tok, err := cfg.Exchange(o.ctx, code, opts...)
	if err != nil {
		o.t.Fatalf("code exchange: %v", err)
	}
	o.checkTokenResponse(tok)
	return tok
}

func (o *op) checkTokenResponse(tok *oauth2.Token) {
	o.t.Helper()
	r := o.headers.of(o.app.cfg.Endpoint.TokenURL)
	if r.status != http.StatusOK || !isJSON(r.header) || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		o.t.Errorf("token response: status %d, Content-Type %q, Cache-Control %q, Pragma %q; want 200, JSON, no-store, no-cache",
			r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		o.t.Errorf("token response: access token %q of type %q, want a Bearer token", tok.AccessToken, tok.TokenType)
	}
	if n, _ := tok.Extra("expires_in").(float64); n <= 0 {
		o.t.Errorf("token response: expires_in %v, want a positive number (RFC 6749 5.1 recommends it)", tok.Extra("expires_in"))
	}
}

// idToken verifies the ID token of a token response as
// PerformStandardIdTokenChecks does, with go-oidc (signature against the
// JWK set, iss, aud, exp) and by hand: the kid of a key in the JWK set
// and the expected algorithm (EnsureIdTokenContainsKid), iat, auth_time
// and nbf not in the future, acr not empty, nonce as sent, azp, and
// at_hash checked by go-oidc (ValidateAtHash). It returns the claims.
func (o *op) idToken(s sent, tok *oauth2.Token, alg string) map[string]any {
	o.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		o.t.Fatalf("the token response has no id_token")
	}
	idt, err := s.client.provider.Verifier(&gooidc.Config{ClientID: s.client.cfg.ClientID, SupportedSigningAlgs: []string{alg}}).Verify(o.ctx, raw)
	if err != nil {
		o.t.Fatalf("go-oidc ID token verification: %v", err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		o.t.Fatalf("the ID token is not a compact JWS with one signature: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.KeyID == "" || len(o.jwks.Key(h.KeyID)) != 1 || h.Algorithm != alg {
		o.t.Errorf("ID token header kid %q alg %q; want the kid of a key in the JWK set and %s", h.KeyID, h.Algorithm, alg)
	}
	if idt.AccessTokenHash == "" {
		o.t.Errorf("the ID token has no at_hash")
	} else if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		o.t.Errorf("at_hash: %v", err)
	}
	var c map[string]any
	if err := idt.Claims(&c); err != nil {
		o.t.Fatal(err)
	}
	now, skew := o.clk.Now(), time.Minute
	for _, name := range []string{"iat", "auth_time", "nbf"} {
		if v, ok := c[name].(float64); ok && time.Unix(int64(v), 0).After(now.Add(skew)) {
			o.t.Errorf("%s %v is in the future", name, time.Unix(int64(v), 0))
		}
	}
	if at, ok := c["auth_time"].(float64); ok && time.Unix(int64(at), 0).Before(now.AddDate(-1, 0, 0)) {
		o.t.Errorf("auth_time %v is more than a year ago", time.Unix(int64(at), 0))
	}
	if acr, ok := c["acr"]; ok && acr == "" {
		o.t.Errorf("acr is empty")
	}
	if aud, ok := c["aud"].(string); !ok || aud != s.client.cfg.ClientID {
		o.t.Errorf("aud %v, want the client ID %s as a single value", c["aud"], s.client.cfg.ClientID)
	}
	if azp, ok := c["azp"]; ok && azp != s.client.cfg.ClientID {
		o.t.Errorf("azp %v, want the client ID", azp)
	}
	if c["sub"] != o.sub {
		o.t.Errorf("sub %v, want the user's %s", c["sub"], o.sub)
	}
	if want := s.params.Get("nonce"); c["nonce"] != nil && c["nonce"] != want || want != "" && c["nonce"] != want {
		o.t.Errorf("nonce %v, want %q", c["nonce"], want)
	}
	checkClaimTypes(o.t, "ID token", c)
	return c
}

// signIn runs a complete flow, as AbstractOIDCCServerTest does: the
// authorization request, the code, the token request with
// client_secret_basic, the ID token.
func (o *op) signIn(b *browser, a authz) (sent, *oauth2.Token, map[string]any) {
	o.t.Helper()
	s := o.authorize(b, a)
	tok := o.exchange(s, o.expectCode(s), oauth2.AuthStyleInHeader)
	return s, tok, o.idToken(s, tok, "RS256")
}

// userinfo calls the userinfo endpoint with the access token: by GET with
// the Authorization header (through go-oidc), by POST with the header, or
// by POST with the token in a form body. It checks the response as the
// suite does (EnsureHttpStatusCodeIs200, EnsureContentTypeJson,
// ValidateUserInfoStandardClaims, EnsureUserInfoContainsSub,
// VerifyUserInfoAndIdTokenInTokenEndpointSameSub) and returns its claims.
func (o *op) userinfo(tok *oauth2.Token, how string) map[string]any {
	o.t.Helper()
	endpoint, _ := o.meta["userinfo_endpoint"].(string)
	var c map[string]any
	switch how {
	case "get":
		ui, err := o.app.provider.UserInfo(o.ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			o.t.Fatalf("go-oidc userinfo: %v", err)
		}
		if err := ui.Claims(&c); err != nil {
			o.t.Fatal(err)
		}
		if r := o.headers.of(endpoint); r.status != http.StatusOK || !isJSON(r.header) {
			o.t.Errorf("userinfo by GET: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
		}
	case "post-header", "post-body":
		var req *http.Request
		if how == "post-header" {
			req, _ = http.NewRequest("POST", endpoint, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		} else {
			req, _ = http.NewRequest("POST", endpoint, strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			o.t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !isJSON(resp.Header) {
			o.t.Fatalf("userinfo by %s: status %d, Content-Type %q: %s", how, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			o.t.Fatal(err)
		}
	default:
		o.t.Fatalf("userinfo by %q?", how)
	}
	if c["sub"] != o.sub {
		o.t.Errorf("userinfo sub %v, want the ID token's %s", c["sub"], o.sub)
	}
	checkClaimTypes(o.t, "userinfo", c)
	return c
}

// claimKinds are the JSON types of the standard claims (OIDC Core 5.1),
// as ValidateUserInfoStandardClaims and ValidateIdTokenStandardClaims
// check them.
var claimKinds = map[string]string{
	"name": "string", "given_name": "string", "family_name": "string", "middle_name": "string", "nickname": "string",
	"preferred_username": "string", "profile": "string", "picture": "string", "website": "string", "email": "string",
	"email_verified": "bool", "gender": "string", "birthdate": "string", "zoneinfo": "string", "locale": "string",
	"phone_number": "string", "phone_number_verified": "bool", "address": "object", "updated_at": "number", "sub": "string",
}

func checkClaimTypes(t *testing.T, where string, c map[string]any) {
	t.Helper()
	for name, kind := range claimKinds {
		v, ok := c[name]
		if !ok {
			continue
		}
		var good bool
		switch kind {
		case "string":
			_, good = v.(string)
		case "bool":
			_, good = v.(bool)
		case "number":
			_, good = v.(float64)
		case "object":
			m, isObj := v.(map[string]any)
			good = isObj
			for k, mv := range m {
				_, isStr := mv.(string)
				good = good && isStr && slices.Contains([]string{"formatted", "street_address", "locality", "region", "postal_code", "country"}, k)
			}
		}
		if !good {
			t.Errorf("%s claim %s = %#v, want a JSON %s of the standard's shape", where, name, v, kind)
		}
	}
}

// scopeClaims are the claims each scope releases for opUser.
var scopeClaims = map[string]map[string]any{
	"email":   {"email": opMail, "email_verified": true},
	"profile": {"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "preferred_username": opMail},
	"address": {"address": map[string]any{
		"formatted": "12 St James's Square\nLondon, Greater London SW1Y 4JH\nUnited Kingdom", "street_address": "12 St James's Square",
		"locality": "London", "region": "Greater London", "postal_code": "SW1Y 4JH", "country": "United Kingdom"}},
}

// userClaimsOf returns the claims about the user in c: those of
// scopeClaims' scopes and the phone claims.
func userClaimsOf(c map[string]any) map[string]any {
	out := map[string]any{}
	for name, v := range c {
		for _, claims := range scopeClaims {
			if _, ok := claims[name]; ok {
				out[name] = v
			}
		}
		if strings.HasPrefix(name, "phone_number") {
			out[name] = v
		}
	}
	return out
}

// checkScopeClaims checks that the ID token and userinfo release exactly
// the claims of the scopes (VerifyScopesReturnedInUserInfoClaims, for what
// Gatehouse keeps), and that the token response grants exactly granted.
func (o *op) checkScopeClaims(tok *oauth2.Token, id map[string]any, granted string) {
	o.t.Helper()
	if got, _ := tok.Extra("scope").(string); got != granted {
		o.t.Errorf("token response scope %q, want %q", got, granted)
	}
	want := map[string]any{}
	for _, sc := range strings.Fields(granted) {
		for k, v := range scopeClaims[sc] {
			want[k] = v
		}
	}
	if diff := cmp.Diff(want, userClaimsOf(id)); diff != "" {
		o.t.Errorf("claims about the user in the ID token for scope %q (-want +got):\n%s", granted, diff)
	}
	if diff := cmp.Diff(want, userClaimsOf(o.userinfo(tok, "get"))); diff != "" {
		o.t.Errorf("claims about the user from userinfo for scope %q (-want +got):\n%s", granted, diff)
	}
}

// idTokenClaimsAllowed are the claims an ID token may carry without being
// asked for (EnsureIdTokenDoesNotContainNonRequestedClaims).
var idTokenClaimsAllowed = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "nbf", "jti", "sid", "s_hash"}

// The Basic OP plan, in its order.

func TestOIDCC_Server(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		_, tok, id := o.signIn(newBrowser(t, rpRedirect), authz{})
		// EnsureIdTokenDoesNotContainNonRequestedClaims (a warning in the
		// suite): Gatehouse adds only tid, Entra's tenant ID claim.
		var extra []string
		for name := range id {
			if !slices.Contains(idTokenClaimsAllowed, name) {
				extra = append(extra, name)
			}
		}
		if diff := cmp.Diff([]string{"tid"}, extra); diff != "" {
			t.Errorf("claims beyond the ID token's own for scope openid (-want +got):\n%s", diff)
		}
		if id["tid"] != o.tenant.TenantID {
			t.Errorf("tid %v, want the tenant ID %s", id["tid"], o.tenant.TenantID)
		}
		// requestProtectedResource: the access token serves userinfo.
		if ui := o.userinfo(tok, "get"); len(ui) != 1 {
			t.Errorf("userinfo for scope openid = %v, want only sub", ui)
		}
	})
}

func TestOIDCC_ResponseTypeMissing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		s := o.authorize(newBrowser(t, rpRedirect), authz{drop: []string{"response_type"}})
		o.expectError(s, "invalid_request", "unsupported_response_type")
	})
}

// TestOIDCC_IDTokenSignature: the suite runs oidcc-idtoken-signature with
// dynamically registered clients only; its checks hold for a static
// client that asks for no algorithm: RS256, with the kid of a published
// key (checked by idToken).
func TestOIDCC_IDTokenSignature(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		o.signIn(newBrowser(t, rpRedirect), authz{})
		if got := o.must(200, "GET", o.tenant.AdminAPI+"/applications/"+o.app.appObjID, o.tok, nil).body["gatehouse"].(map[string]any)["idTokenSigningAlg"]; got != "RS256" {
			t.Errorf("the app's ID token algorithm without a choice = %v, want RS256", got)
		}
	})
}

// TestOIDCC_IDTokenUnsigned: oidcc-idtoken-unsigned asks a dynamically
// registered client for alg none, and is skipped when discovery does not
// list none, which Gatehouse never does (OP-6). The server's side: none is
// not advertised, cannot be chosen for an app, and an unsigned token is
// refused where Gatehouse takes ID tokens (id_token_hint).
func TestOIDCC_IDTokenUnsigned(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if algs := o.meta["id_token_signing_alg_values_supported"].([]any); slices.Contains(algs, any("none")) {
			t.Errorf("id_token_signing_alg_values_supported %v lists none", algs)
		}
		r := o.call("PATCH", o.tenant.AdminAPI+"/applications/"+o.app.appObjID, o.tok, map[string]any{"gatehouse": map[string]any{"idTokenSigningAlg": "none"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.errMessage(), "idTokenSigningAlg") {
			t.Errorf("idTokenSigningAlg none: status %d %q, want 400 naming the field", r.status, r.errMessage())
		}
		b := newBrowser(t, rpRedirect)
		_, tok, _ := o.signIn(b, authz{})
		raw, _ := tok.Extra("id_token").(string)
		parts := strings.Split(raw, ".")
		unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		s := o.authorize(b, authz{set: map[string]string{"prompt": "none", "id_token_hint": unsigned}})
		o.expectError(s, "invalid_request")
	})
}

// userinfoModule runs an oidcc-userinfo-* module: a sign-in with the
// email scope, then userinfo by how (userinfo checks the response).
func userinfoModule(t *testing.T, eng storetest.Engine, how string) {
	o := newOP(t, eng)
	_, tok, _ := o.signIn(newBrowser(t, rpRedirect), authz{scope: "openid email"})
	if ui := o.userinfo(tok, how); ui["email"] != opMail {
		t.Errorf("userinfo by %s = %v, want the user's email", how, ui)
	}
}

func TestOIDCC_UserInfoGet(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { userinfoModule(t, eng, "get") })
}

func TestOIDCC_UserInfoPostHeader(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { userinfoModule(t, eng, "post-header") })
}

// TestOIDCC_UserInfoPostBody: the token as access_token in a form body
// (RFC 6750 2.2); TestRFC6750TokenMethods has the refused ways.
func TestOIDCC_UserInfoPostBody(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { userinfoModule(t, eng, "post-body") })
}

func TestOIDCC_EnsureRequestWithoutNonceSucceedsForCodeFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		s := o.authorize(newBrowser(t, rpRedirect), authz{drop: []string{"nonce"}})
		// The module ends at the code; the ID token has no nonce.
		tok := o.exchange(s, o.expectCode(s), oauth2.AuthStyleInHeader)
		if id := o.idToken(s, tok, "RS256"); id["nonce"] != nil {
			t.Errorf("nonce %v without a nonce in the request", id["nonce"])
		}
	})
}

// scopeModule runs an oidcc-scope-* module: a sign-in with the scope, the
// claims of what was granted in the ID token and from userinfo, nothing
// else about the user, and the scopes advertised as the suite expects
// them before it runs the module (OIDCCCheckScopesSupportedContainScopeTest:
// a scope missing from scopes_supported skips the module).
func scopeModule(t *testing.T, eng storetest.Engine, scope, granted string, advertised bool) {
	o := newOP(t, eng)
	_, tok, id := o.signIn(newBrowser(t, rpRedirect), authz{scope: scope})
	o.checkScopeClaims(tok, id, granted)
	supported := o.meta["scopes_supported"].([]any)
	all := true
	for _, sc := range strings.Fields(scope) {
		all = all && slices.Contains(supported, any(sc))
	}
	if all != advertised {
		t.Errorf("scopes_supported %v covers %q: %v, want %v", supported, scope, all, advertised)
	}
}

func TestOIDCC_ScopeProfile(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		scopeModule(t, eng, "openid profile", "openid profile", true)
	})
}

func TestOIDCC_ScopeEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { scopeModule(t, eng, "openid email", "openid email", true) })
}

func TestOIDCC_ScopeAddress(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		scopeModule(t, eng, "openid address", "openid address", true)
	})
}

// TestOIDCC_ScopePhone: Gatehouse keeps no profile phone number, so phone
// is not granted (the token response's scope says so), no phone claim is
// released, and scopes_supported does not list it, which makes the suite
// skip the module.
func TestOIDCC_ScopePhone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { scopeModule(t, eng, "openid phone", "openid", false) })
}

func TestOIDCC_ScopeAll(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		scopeModule(t, eng, "openid email phone address profile", "openid email address profile", false)
	})
}

// TestOIDCC_ClaimsEssential: the claims parameter asks for name as an
// essential userinfo claim with the scope openid alone; userinfo returns
// it (the suite warns when it is missing), and the ID token, which was
// not asked for it, does not carry it. An essential acr in the ID token is
// met: its value is one of those asked for.
func TestOIDCC_ClaimsEssential(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if o.meta["claims_parameter_supported"] != true {
			t.Errorf("claims_parameter_supported = %v, want true", o.meta["claims_parameter_supported"])
		}
		_, tok, id := o.signIn(newBrowser(t, rpRedirect), authz{set: map[string]string{
			"claims": `{"userinfo":{"name":{"essential":true}},"id_token":{"acr":{"essential":true,"values":["1","2"]}}}`}})
		ui := o.userinfo(tok, "get")
		if ui["name"] != "Ada Lovelace" {
			t.Errorf("userinfo name = %v, want the essential claim Ada Lovelace (claims %v)", ui["name"], ui)
		}
		if _, ok := ui["email"]; ok {
			t.Errorf("userinfo released email, which neither the scope nor the claims parameter asked for: %v", ui)
		}
		if _, ok := id["name"]; ok {
			t.Errorf("the ID token carries name, which was asked of userinfo only: %v", id)
		}
		if id["acr"] != "1" {
			t.Errorf("ID token acr = %v, want 1 (a password sign-in, and 1 is among the values asked for)", id["acr"])
		}
	})
}

// TestOIDCC_AlternateHappyFlow: oidcc-scope-email with the scope values
// and the request's parameters in reverse order (RFC 6749 3.3).
func TestOIDCC_AlternateHappyFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		_, tok, id := o.signIn(newBrowser(t, rpRedirect), authz{scope: "email openid", reverse: true})
		o.checkScopeClaims(tok, id, "email openid")
	})
}

// displayModule: a display value must not cause an error; the sign-in
// page is shown (the same responsive page for every display).
func displayModule(t *testing.T, eng storetest.Engine, display string) {
	o := newOP(t, eng)
	s, _, _ := o.signIn(newBrowser(t, rpRedirect), authz{set: map[string]string{"display": display}})
	if !s.login {
		t.Errorf("display=%s without a session showed no sign-in page", display)
	}
}

func TestOIDCC_DisplayPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { displayModule(t, eng, "page") })
}

func TestOIDCC_DisplayPopup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { displayModule(t, eng, "popup") })
}

// TestOIDCC_PromptLogin: the second authorization, a second later, with
// prompt=login shows the sign-in page again, and auth_time moves
// (CheckSecondIdTokenAuthTimeIsLaterIfPresent).
func TestOIDCC_PromptLogin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b := newBrowser(t, rpRedirect)
		_, _, first := o.signIn(b, authz{})
		o.clk.Advance(time.Second)
		s, _, second := o.signIn(b, authz{set: map[string]string{"prompt": "login"}})
		if !s.login {
			t.Errorf("prompt=login with a session showed no sign-in page")
		}
		if second["auth_time"].(float64) <= first["auth_time"].(float64) {
			t.Errorf("auth_time %v after prompt=login, want later than %v", second["auth_time"], first["auth_time"])
		}
	})
}

// TestOIDCC_PromptNoneNotLoggedIn: without a session, prompt=none comes
// back with an error that asks for a user interface
// (CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface),
// and a 128-character state unchanged.
func TestOIDCC_PromptNoneNotLoggedIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		s := o.authorize(newBrowser(t, rpRedirect), authz{state: 128, set: map[string]string{"prompt": "none"}})
		o.expectError(s, "login_required", "interaction_required", "consent_required", "account_selection_required")
	})
}

// sameAuthTwice runs an AbstractOIDCCSameAuthTwiceServerTest module: two
// authorizations in one browser, the second without a sign-in page, with
// the same sub and auth_time (CheckIdTokenAuthTimeClaimsSameIfPresent,
// CheckIdTokenSubConsistentForSecondAuthorization).
func sameAuthTwice(t *testing.T, o *op, first authz, second func(firstTok *oauth2.Token) authz) (map[string]any, map[string]any) {
	b := newBrowser(t, rpRedirect)
	_, tok, id1 := o.signIn(b, first)
	o.clk.Advance(time.Second)
	s, _, id2 := o.signIn(b, second(tok))
	if s.login {
		t.Errorf("the second authorization showed the sign-in page")
	}
	if id1["sub"] != id2["sub"] || id1["auth_time"] != id2["auth_time"] {
		t.Errorf("second ID token sub %v auth_time %v, want the first's %v and %v", id2["sub"], id2["auth_time"], id1["sub"], id1["auth_time"])
	}
	return id1, id2
}

func TestOIDCC_PromptNoneLoggedIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		sameAuthTwice(t, newOP(t, eng), authz{}, func(*oauth2.Token) authz { return authz{set: map[string]string{"prompt": "none"}} })
	})
}

// TestOIDCC_MaxAge1: two seconds after a sign-in, max_age=1 shows the
// sign-in page again; the new ID token has an auth_time
// (CheckIdTokenAuthTimeClaimPresentDueToMaxAge), later than the first
// and recent.
func TestOIDCC_MaxAge1(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b := newBrowser(t, rpRedirect)
		_, _, first := o.signIn(b, authz{})
		o.clk.Advance(2 * time.Second)
		s, _, second := o.signIn(b, authz{set: map[string]string{"max_age": "1"}})
		if !s.login {
			t.Errorf("max_age=1, two seconds after the sign-in, showed no sign-in page")
		}
		at, ok := second["auth_time"].(float64)
		if !ok || at <= first["auth_time"].(float64) || o.clk.Now().Sub(time.Unix(int64(at), 0)) > time.Minute {
			t.Errorf("auth_time %v after max_age=1, want present, later than %v and recent", second["auth_time"], first["auth_time"])
		}
	})
}

func TestOIDCC_MaxAge10000(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		id1, id2 := sameAuthTwice(t, newOP(t, eng), authz{set: map[string]string{"max_age": "15000"}},
			func(*oauth2.Token) authz { return authz{set: map[string]string{"max_age": "10000"}} })
		if id1["auth_time"] == nil || id2["auth_time"] == nil {
			t.Errorf("auth_time %v and %v with max_age, want both present", id1["auth_time"], id2["auth_time"])
		}
	})
}

func TestOIDCC_EnsureRequestWithUnknownParameterSucceeds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		newOP(t, eng).signIn(newBrowser(t, rpRedirect), authz{set: map[string]string{"extra": "foobar"}})
	})
}

// TestOIDCC_IDTokenHint: prompt=none with the first ID token as
// id_token_hint gets a code at once.
func TestOIDCC_IDTokenHint(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		sameAuthTwice(t, newOP(t, eng), authz{}, func(first *oauth2.Token) authz {
			hint, _ := first.Extra("id_token").(string)
			return authz{set: map[string]string{"prompt": "none", "id_token_hint": hint}}
		})
	})
}

// TestOIDCC_LoginHint: the hint is no error, and the sign-in page offers
// it.
func TestOIDCC_LoginHint(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b := newBrowser(t, rpRedirect)
		pg := b.get(o.meta["authorization_endpoint"].(string) + "?" + url.Values{"client_id": {o.app.cfg.ClientID}, "redirect_uri": {rpRedirect},
			"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "login_hint": {opMail}}.Encode())
		if pg.status != http.StatusOK || input(t, pg, "email")["value"] != opMail {
			t.Errorf("login_hint: status %d, email field %q; want the sign-in page offering %s", pg.status, input(t, pg, "email")["value"], opMail)
		}
		if s, _, _ := o.signIn(b, authz{set: map[string]string{"login_hint": opMail}}); !s.login {
			t.Errorf("login_hint without a session showed no sign-in page")
		}
	})
}

// TestOIDCC_UILocales: ui_locales=se is no error; the page is in English,
// the one language ui_locales_supported lists.
func TestOIDCC_UILocales(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if diff := cmp.Diff([]any{"en"}, o.meta["ui_locales_supported"]); diff != "" {
			t.Errorf("ui_locales_supported (-want +got):\n%s", diff)
		}
		if s, _, _ := o.signIn(newBrowser(t, rpRedirect), authz{set: map[string]string{"ui_locales": "se"}}); !s.login {
			t.Errorf("ui_locales=se without a session showed no sign-in page")
		}
	})
}

func TestOIDCC_ClaimsLocales(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		newOP(t, eng).signIn(newBrowser(t, rpRedirect), authz{scope: "openid profile", set: map[string]string{"claims_locales": "se"}})
	})
}

// TestOIDCC_EnsureRequestWithAcrValuesSucceeds: acr_values with every
// advertised value succeeds, and the ID token's acr is one of them
// (ValidateIdTokenACRClaimAgainstAcrValuesRequest).
func TestOIDCC_EnsureRequestWithAcrValuesSucceeds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		var values []string
		for _, v := range o.meta["acr_values_supported"].([]any) {
			values = append(values, v.(string))
		}
		_, _, id := o.signIn(newBrowser(t, rpRedirect), authz{set: map[string]string{"acr_values": strings.Join(values, " ")}})
		if acr, _ := id["acr"].(string); !slices.Contains(values, acr) {
			t.Errorf("acr %v, want one of the requested %v", id["acr"], values)
		}
	})
}

// codeReuse redeems a code a second time after wait and checks the answer
// (CheckTokenEndpointHttpStatus400, CheckTokenEndpointReturnedJsonContentType,
// CheckErrorFromTokenEndpointResponseErrorInvalidGrant,
// ValidateErrorDescriptionFromTokenEndpointResponseError). It returns the
// tokens of the first redemption.
func codeReuse(t *testing.T, o *op, wait time.Duration) *oauth2.Token {
	s := o.authorize(newBrowser(t, rpRedirect), authz{})
	code := o.expectCode(s)
	tok := o.exchange(s, code, oauth2.AuthStyleInHeader)
	o.clk.Advance(wait)
	status, body, h := postForm(t, o.app.cfg.Endpoint.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}},
		o.app.cfg.ClientID, o.app.cfg.ClientSecret)
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || !isJSON(h) || body["error"] != "invalid_grant" || !errorDescriptionRE.MatchString(desc) {
		t.Errorf("a code redeemed again after %v: status %d, Content-Type %q, %v; want 400 JSON invalid_grant", wait, status, h.Get("Content-Type"), body)
	}
	return tok
}

func TestOIDCC_CodeReuse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) { codeReuse(t, newOP(t, eng), 0) })
}

// TestOIDCC_CodeReuse30Seconds: 30 seconds on the reuse fails too, and the
// access token of the first redemption no longer works (RFC 6749 4.1.2;
// a warning in the suite, AS-5 in Gatehouse).
func TestOIDCC_CodeReuse30Seconds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		tok := codeReuse(t, o, 30*time.Second)
		req, _ := http.NewRequest("GET", o.meta["userinfo_endpoint"].(string), nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 || !strings.Contains(string(raw), "revoked") {
			t.Errorf("userinfo with the access token of a reused code: status %d %s, want 4xx because it was revoked", resp.StatusCode, raw)
		}
	})
}

// TestOIDCC_EnsureRegisteredRedirectUri: a redirect URI that is the
// registered one with a random tail gets an error page, and the browser
// goes nowhere (AS-1).
func TestOIDCC_EnsureRegisteredRedirectUri(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		b := newBrowser(t)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		s := o.authorize(b, authz{set: map[string]string{"redirect_uri": rpRedirect + "/" + stateChars.ReplaceAllString(randomText(), "")}})
		o.expectErrorPage(s, "has not registered")
	})
}

func TestOIDCC_EnsurePostRequestSucceeds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		newOP(t, eng).signIn(newBrowser(t, rpRedirect), authz{post: true})
	})
}

func TestOIDCC_ServerClientSecretPost(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		s := o.authorize(newBrowser(t, rpRedirect), authz{})
		tok := o.exchange(s, o.expectCode(s), oauth2.AuthStyleInParams)
		o.idToken(s, tok, "RS256")
	})
}

// unsignedRequestObject returns the parameters of s as an unsigned
// request object (alg none), as SerializeRequestObjectWithNullAlgorithm
// does.
func unsignedRequestObject(t *testing.T, p url.Values) string {
	claims := map[string]any{}
	for k := range p {
		claims[k] = p.Get(k)
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(raw) + "."
}

// requestObject sends the request as the request object modules build it
// (BuildRequestObjectBy*RedirectToAuthorizationEndpoint): the object (by
// value, or a request_uri) with response_type, client_id, scope and
// redirect_uri beside it, state and nonce only inside. outside replaces
// parameters beside the object.
func (o *op) requestObject(b *browser, param, value string, outside map[string]string) sent {
	o.t.Helper()
	p := url.Values{"client_id": {o.app.cfg.ClientID}, "redirect_uri": {rpRedirect}, "response_type": {"code"}, "scope": {"openid"}, param: {value}}
	for k, v := range outside {
		p.Set(k, v)
	}
	pg := b.get(o.meta["authorization_endpoint"].(string) + "?" + p.Encode())
	s := sent{client: o.app, params: p, last: pg}
	if strings.HasPrefix(pg.location, rpRedirect+"?") {
		u, _ := url.Parse(pg.location)
		s.callback = u.Query()
	}
	return s
}

// TestOIDCC_RequestURIUnsignedSupportedCorrectlyOrRejectedAsUnsupported:
// the suite runs this module with dynamically registered clients only; for
// Gatehouse's clients a request_uri is rejected as unsupported, as
// request_uri_parameter_supported says.
func TestOIDCC_RequestURIUnsignedSupportedCorrectlyOrRejectedAsUnsupported(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if o.meta["request_uri_parameter_supported"] != false {
			t.Errorf("request_uri_parameter_supported = %v, want false (its default is true)", o.meta["request_uri_parameter_supported"])
		}
		s := o.requestObject(newBrowser(t, rpRedirect), "request_uri", "https://rp.example/request.jwt#"+randomText(), nil)
		o.expectError(s, "request_uri_not_supported")
	})
}

// TestOIDCC_UnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported:
// an unsigned request object is rejected with request_not_supported (the
// suite then skips the module: rejecting is allowed), as
// request_parameter_supported says, and never ignored.
func TestOIDCC_UnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if o.meta["request_parameter_supported"] != false {
			t.Errorf("request_parameter_supported = %v, want false", o.meta["request_parameter_supported"])
		}
		inside := url.Values{"client_id": {o.app.cfg.ClientID}, "redirect_uri": {rpRedirect}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"st"}, "nonce": {"n"}}
		s := o.requestObject(newBrowser(t, rpRedirect), "request", unsignedRequestObject(t, inside), nil)
		o.expectError(s, "request_not_supported")
	})
}

// TestOIDCC_EnsureRequestObjectWithRedirectUri: the request object holds
// the registered redirect URI and the parameter beside it an invalid one.
// Gatehouse does not read request objects, so it judges the parameter and
// shows the invalid redirect_uri error page, one of the two outcomes the
// module allows; it redirects nowhere (EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri).
func TestOIDCC_EnsureRequestObjectWithRedirectUri(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		inside := url.Values{"client_id": {o.app.cfg.ClientID}, "redirect_uri": {rpRedirect}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"st"}, "nonce": {"n"}}
		b := newBrowser(t)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		s := o.requestObject(b, "request", unsignedRequestObject(t, inside), map[string]string{"redirect_uri": "https://invalid.example/callback"})
		o.expectErrorPage(s, "has not registered")
	})
}

// TestOIDCC_RefreshToken: with offline_access (which discovery lists) and
// prompt=consent, as the module asks, the code brings a refresh token of
// allowed characters; refreshing with the scope gets new tokens whose ID
// token keeps iss, sub, aud, azp and auth_time with a later iat
// (CompareIdTokenClaims) and whose access token works; a second client's
// refresh token is refused to the first with invalid_grant
// (RefreshTokenRequestExpectingErrorSteps) and still works for its own.
func TestOIDCC_RefreshToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		if !slices.Contains(o.meta["scopes_supported"].([]any), any("offline_access")) {
			t.Fatalf("scopes_supported lacks offline_access")
		}
		const scope = "openid offline_access"
		b := newBrowser(t, rpRedirect)
		s, tok, first := o.signIn(b, authz{scope: scope, set: map[string]string{"prompt": "consent"}})
		if tok.RefreshToken == "" || strings.Trim(tok.RefreshToken, "\x20!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != "" {
			t.Fatalf("refresh token %q: want one, of VSCHAR characters (RFC 6749 A.17)", tok.RefreshToken)
		}
		o.clk.Advance(time.Second)
		refreshed := o.refresh(s.client, tok.RefreshToken, scope)
		second := o.idToken(withoutNonce(s), refreshed, "RS256")
		for _, name := range []string{"iss", "sub", "aud", "azp", "auth_time"} {
			if first[name] != second[name] {
				t.Errorf("refreshed ID token %s %v, want the first's %v", name, second[name], first[name])
			}
		}
		if second["iat"].(float64) <= first["iat"].(float64) {
			t.Errorf("refreshed ID token iat %v, want later than %v", second["iat"], first["iat"])
		}
		if refreshed.AccessToken == tok.AccessToken {
			t.Errorf("the refresh returned the same access token")
		}
		o.userinfo(refreshed, "get")

		// A second client, with a 43-character nonce.
		other := o.addApp("Blog")
		s2, tok2, _ := o.signIn(b, authz{client: other, scope: scope, set: map[string]string{"prompt": "consent", "nonce": strings.Repeat("n", 43)}})
		status, body, _ := postForm(t, o.app.cfg.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken}},
			o.app.cfg.ClientID, o.app.cfg.ClientSecret)
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("client 2's refresh token used by client 1: status %d %v, want 400 invalid_grant", status, body)
		}
		o.idToken(withoutNonce(s2), o.refresh(other, tok2.RefreshToken, scope), "RS256")
	})
}

// withoutNonce is s for an ID token of a refresh, which carries no nonce.
func withoutNonce(s sent) sent {
	s.params = maps.Clone(s.params)
	s.params.Del("nonce")
	return s
}

// refresh uses a refresh token with the scope, as RefreshTokenRequestSteps
// does (AddScopeToTokenEndpointRequest), and checks the response.
func (o *op) refresh(c *rp, refreshToken, scope string) *oauth2.Token {
	o.t.Helper()
	status, body, h := postForm(o.t, c.cfg.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "scope": {scope}},
		c.cfg.ClientID, c.cfg.ClientSecret)
	if status != http.StatusOK || !isJSON(h) || h.Get("Cache-Control") != "no-store" {
		o.t.Fatalf("refresh: status %d, Content-Type %q, Cache-Control %q: %v", status, h.Get("Content-Type"), h.Get("Cache-Control"), body)
	}
	access, _ := body["access_token"].(string)
	tok := (&oauth2.Token{AccessToken: access, TokenType: body["token_type"].(string)}).WithExtra(body)
	if n, _ := body["expires_in"].(float64); n <= 0 || !strings.EqualFold(tok.TokenType, "Bearer") {
		o.t.Errorf("refresh response: token_type %q, expires_in %v", tok.TokenType, body["expires_in"])
	}
	return tok
}

// addApp registers another confidential web app in the flow.
func (o *op) addApp(name string) *rp {
	o.t.Helper()
	c := o.newRP("acme", o.tok, name, nil)
	ctx := context.Background()
	err := o.store.Update(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.UpdateUserFlow(ctx, o.tenant.TenantID, o.flow.ID, func(f *gatehouse.UserFlow) error {
			f.AppIDs = append(f.AppIDs, c.cfg.ClientID)
			return nil
		})
		return err
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return c
}

// TestOIDCC_EnsureRequestWithValidPkceSucceeds: S256 PKCE, verifier at the
// token endpoint.
func TestOIDCC_EnsureRequestWithValidPkceSucceeds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		verifier := oauth2.GenerateVerifier()
		sum := oauth2.S256ChallengeFromVerifier(verifier)
		s := o.authorize(newBrowser(t, rpRedirect), authz{set: map[string]string{"code_challenge": sum, "code_challenge_method": "S256"}})
		tok := o.exchange(s, o.expectCode(s), oauth2.AuthStyleInHeader, oauth2.VerifierOption(verifier))
		o.idToken(s, tok, "RS256")
	})
}

// The Config OP plan: oidcc-discovery-endpoint-verification.

// discoveryFields are the types of the metadata Gatehouse sends, as
// ValidateServerMetadataAgainstSchema checks them (RFC 8414 2, OpenID
// Connect Discovery 3); every name but tenant_admin_api is registered
// metadata (CheckForUnexpectedParametersInServerMetadata warns of others).
var discoveryFields = map[string]string{
	"issuer": "url", "authorization_endpoint": "url", "token_endpoint": "url", "userinfo_endpoint": "url", "end_session_endpoint": "url",
	"revocation_endpoint": "url", "introspection_endpoint": "url", "jwks_uri": "url",
	"response_types_supported": "array", "response_modes_supported": "array", "grant_types_supported": "array",
	"code_challenge_methods_supported": "array", "token_endpoint_auth_methods_supported": "array",
	"revocation_endpoint_auth_methods_supported": "array", "introspection_endpoint_auth_methods_supported": "array",
	"subject_types_supported": "array", "id_token_signing_alg_values_supported": "array", "scopes_supported": "array",
	"claims_supported": "array", "prompt_values_supported": "array", "ui_locales_supported": "array", "acr_values_supported": "array",
	"authorization_response_iss_parameter_supported": "bool", "request_parameter_supported": "bool",
	"request_uri_parameter_supported": "bool", "claims_parameter_supported": "bool",
	"tenant_admin_api": "url",
}

// scopeTokenRE is a scope value (RFC 6749 3.3).
var scopeTokenRE = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]+$`)

// TestOIDCC_DiscoveryEndpointVerification checks the discovery document
// as the module does, on a server whose public URL is https (so that
// CheckDiscEndpointAllEndpointsAreHttps applies) and on the test server.
func TestOIDCC_DiscoveryEndpointVerification(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		o := newOP(t, eng)
		checkDiscovery(t, o.meta, o.tenant.Issuer, "http://")
		// The same tenant behind https://id.example.com.
		h, err := webServer(o.testEnv, "https://id.example.com")
		if err != nil {
			t.Fatal(err)
		}
		rec := serve(h, "GET", "/acme/v2.0/.well-known/openid-configuration")
		var meta map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &meta) != nil {
			t.Fatalf("discovery behind https: status %d %s", rec.Code, rec.Body)
		}
		checkDiscovery(t, meta, "https://id.example.com/acme/v2.0", "https://")
	})
}

func checkDiscovery(t *testing.T, meta map[string]any, issuer, scheme string) {
	t.Helper()
	// CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl,
	// CheckDiscEndpointDiscoveryUrl.
	if meta["issuer"] != issuer || strings.ContainsAny(issuer, "?#") {
		t.Errorf("issuer %v, want %s", meta["issuer"], issuer)
	}
	for name, v := range meta {
		kind, known := discoveryFields[name]
		if !known {
			t.Errorf("unexpected metadata %s = %v", name, v)
			continue
		}
		switch kind {
		case "url":
			// CheckDiscEndpointAllEndpointsAreHttps and every endpoint an
			// absolute URL of this server.
			s, _ := v.(string)
			u, err := url.Parse(s)
			if err != nil || !strings.HasPrefix(s, scheme) || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("%s = %v, want an absolute %s URL without query or fragment", name, v, scheme)
			}
		case "array":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				t.Errorf("%s = %v, want a non-empty array", name, v)
			}
			for _, e := range list {
				if s, ok := e.(string); !ok || s == "" {
					t.Errorf("%s holds %v, want strings", name, e)
				}
			}
		case "bool":
			if _, ok := v.(bool); !ok {
				t.Errorf("%s = %v, want a boolean", name, v)
			}
		}
	}
	has := func(name, value string) bool {
		list, _ := meta[name].([]any)
		return slices.Contains(list, any(value))
	}
	for _, c := range []struct {
		ok   bool
		what string
	}{
		{has("response_types_supported", "code"), "response_types_supported contains code (OIDCCCheckDiscEndpointResponseTypesSupported)"},
		{has("subject_types_supported", "public"), "subject_types_supported contains public (CheckDiscEndpointSubjectTypesSupported)"},
		{has("id_token_signing_alg_values_supported", "RS256") && !has("id_token_signing_alg_values_supported", "none"),
			"id_token_signing_alg_values_supported contains RS256 and not none (OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported)"},
		{has("grant_types_supported", "authorization_code"), "grant_types_supported contains authorization_code (OIDCCCheckDiscEndpointGrantTypesSupported)"},
		{has("scopes_supported", "openid"), "scopes_supported contains openid (CheckDiscEndpointScopesSupportedContainsOpenId)"},
		{has("claims_supported", "sub"), "claims_supported is present, with sub (OIDCCCheckDiscEndpointClaimsSupported)"},
		{meta["userinfo_endpoint"] != nil && meta["jwks_uri"] != nil, "userinfo_endpoint and jwks_uri are present (CheckDiscEndpointUserinfoEndpoint, CheckJwksUri)"},
		{meta["request_parameter_supported"] == false && meta["request_uri_parameter_supported"] == false, "request objects are not offered, and both flags say so"},
	} {
		if !c.ok {
			t.Errorf("want %s", c.what)
		}
	}
	// CheckDiscEndpointScopesSupportedSyntax, CheckDiscEndpointLocalesSyntax.
	for _, sc := range meta["scopes_supported"].([]any) {
		if !scopeTokenRE.MatchString(sc.(string)) {
			t.Errorf("scope %q is not a scope-token (RFC 6749 3.3)", sc)
		}
	}
	for _, l := range meta["ui_locales_supported"].([]any) {
		if !regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`).MatchString(l.(string)) {
			t.Errorf("ui locale %q is not a canonically cased BCP 47 tag", l)
		}
	}
}
