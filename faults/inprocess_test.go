package faults

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/gatehouse/gatehouse/web"
)

// cluster is what the in-process nodes of a test share: the database and
// the encryption key.
type cluster struct {
	store gatehouse.Store
	vault *vault.Vault
}

func newCluster(t *testing.T, store gatehouse.Store) *cluster {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{store: store, vault: v}
}

// inNode is a Gatehouse server in the test's process, with keys and a
// hash pool of its own, as another process on the same database has: for
// the tests that count goroutines or change timings no flag reaches.
type inNode struct {
	url  string // where it listens
	srv  *httptest.Server
	keys *oidc.Keys
}

// startInNode starts a node of c whose public URL is public, or its own
// URL when public is "". configure, when not nil, changes its options.
func (c *cluster) startInNode(t *testing.T, public string, configure func(*web.Options)) *inNode {
	t.Helper()
	n := &inNode{keys: oidc.NewKeys(c.store, c.vault, time.Now)}
	var h http.Handler
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	n.url = "http://" + n.srv.Listener.Addr().String()
	if public == "" {
		public = n.url
	}
	opts := web.Options{Store: c.store, Keys: n.keys, Vault: c.vault, Passwords: password.NewHasher(password.DefaultParams, 0, 64),
		PublicURL: public, Version: "test"}
	if configure != nil {
		configure(&opts)
	}
	var err error
	if h, err = web.NewServer(opts); err != nil {
		t.Fatal(err)
	}
	n.srv.Start()
	t.Cleanup(n.srv.Close)
	return n
}

// createTenant creates the tenant acme through node n, as `gatehouse
// tenant create` does.
func (c *cluster) createTenant(t *testing.T, n *inNode, public string) *provision.Result {
	t.Helper()
	acme, err := provision.CreateTenant(t.Context(), provision.Deps{Store: c.store, Keys: n.keys, Vault: c.vault,
		Passwords: password.NewHasher(password.DefaultParams, 0, 4), PublicURL: public}, "acme", "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	return acme
}
