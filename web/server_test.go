package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/gatehouse/gatehouse/web"
	"golang.org/x/oauth2/clientcredentials"
)

// testEnv is a running Gatehouse over a real store.
type testEnv struct {
	t      testing.TB
	store  *sqlstore.Store
	vault  *vault.Vault
	keys   *oidc.Keys
	hasher *password.Hasher
	srv    *httptest.Server
	url    string
}

// testHasher is shared by all tests: argon2id with the production
// parameters, so what is tested is what runs.
var testHasher = password.NewHasher(password.DefaultParams, 0, 64)

// newEnv starts a server over store; the vault key is shared through vkey
// so a restarted server can read the keys the first one wrote.
func newEnv(t testing.TB, store *sqlstore.Store, vkey []byte, opts ...func(*web.Options)) *testEnv {
	t.Helper()
	v, err := vault.New(vkey)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: store, vault: v, hasher: testHasher}
	// The keys keep the server's clock, so that the tokens the server
	// signs verify at the server's time.
	now := time.Now
	e.keys = oidc.NewKeys(store, v, func() time.Time { return now() })
	var h http.Handler
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	e.url = "http://" + e.srv.Listener.Addr().String()
	o := web.Options{Store: store, Keys: e.keys, Vault: v, Passwords: e.hasher, PublicURL: e.url, Version: "test", DBStats: store.PoolStats}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Now != nil {
		now = o.Now
	}
	h, err = web.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func newKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func (e *testEnv) createTenant(name string) *provision.Result {
	e.t.Helper()
	res, err := provision.CreateTenant(context.Background(), provision.Deps{Store: e.store, Keys: e.keys, Vault: e.vault, Passwords: e.hasher, PublicURL: e.url}, name, "admin@"+name+".example")
	if err != nil {
		e.t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return res
}

// token gets a client-credentials token with golang.org/x/oauth2.
func (e *testEnv) token(tokenURL, clientID, secret, scope string) string {
	e.t.Helper()
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: tokenURL, Scopes: []string{scope}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatalf("client credentials token for %s: %v", clientID, err)
	}
	return tok.AccessToken
}

// response is a decoded API response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

// errMessage returns the Graph error message of r.
func (r response) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (e *testEnv) call(method, url, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

// must calls and fails the test unless the status is want.
func (e *testEnv) must(want int, method, url, token string, body any) response {
	e.t.Helper()
	r := e.call(method, url, token, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, url, r.status, want, r.raw)
	}
	return r
}

// forEachEngine runs fn against SQLite and, when configured, PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, eng storetest.Engine)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, eng) })
	}
}

func TestHealthAndReadiness(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.Open(t), newKey(t))
		e.must(200, "GET", e.url+"/healthz", "", nil)
		r := e.must(200, "GET", e.url+"/readyz", "", nil)
		if r.str("status") != "ready" {
			t.Errorf("readyz status = %q, want ready", r.str("status"))
		}
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		r = e.call("GET", e.url+"/readyz", "", nil)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("readyz with a closed database: status %d, want 503; body %s", r.status, r.raw)
		}
	})
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), newKey(t))
	acme := e.createTenant("acme")
	e.token(acme.Issuer[:strings.LastIndex(acme.Issuer, "/v2.0")]+"/oauth2/v2.0/token", acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, acme.AutomationClient.Scope)
	req, _ := http.NewRequest("GET", e.url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`gatehouse_tokens_issued_total{grant_type="client_credentials"} 1`,
		`gatehouse_http_requests_total{code="200",method="POST",route="POST /{tenant}/oauth2/v2.0/token"} 1`,
		`gatehouse_http_request_duration_seconds_bucket`,
		`gatehouse_password_hashes_in_progress`,
		`gatehouse_password_hashes_total`,
		`gatehouse_db_open_connections{pool="sqlite-writer"}`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

var _ = gatehouse.EINVALID
