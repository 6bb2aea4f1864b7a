package load_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/gatehouse/gatehouse/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// gatehouse starts a real Gatehouse over SQLite in the test's process,
// creates the tenant "acme" and prepares it for the sign-in load with
// users users.
func gatehouse(t *testing.T, users int) (*provision.Result, *load.Setup) {
	return startGatehouse(t, users, nil)
}

// startGatehouse is gatehouse with the server's options and the setup
// changed by configure, when it is not nil.
func startGatehouse(t *testing.T, users int, configure func(*web.Options, *load.SetupConfig)) (*provision.Result, *load.Setup) {
	t.Helper()
	store := storetest.SQLite(t)
	key := make([]byte, 32)
	rand.Read(key)
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := oidc.NewKeys(store, v, time.Now)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	url := "http://" + srv.Listener.Addr().String()
	opts := web.Options{Store: store, Keys: keys, Vault: v, Passwords: password.NewHasher(password.DefaultParams, 0, 64),
		PublicURL: url, Version: "test", Registry: reg,
		// A low per-address limit, so that TestSourceAddresses reaches it soon.
		SignInsPerIP: 30}
	cfg := load.SetupConfig{Users: users, Password: "correct horse battery"}
	if configure != nil {
		configure(&opts, &cfg)
	}
	if h, err = web.NewServer(opts); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	acme, err := provision.CreateTenant(t.Context(), provision.Deps{Store: store, Keys: keys, Vault: v, Passwords: password.NewHasher(password.DefaultParams, 0, 64), PublicURL: url}, "acme", "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = acme.Issuer, acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret
	setup, err := load.RunSetup(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunSetup: %v", err)
	}
	return acme, setup
}

func newClient(t *testing.T, s *load.Setup, single bool) *load.Client {
	t.Helper()
	c, err := load.New(t.Context(), load.Config{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURI: s.RedirectURI, SingleSource: single})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func accounts(s *load.Setup) load.Accounts {
	return load.Accounts{Prefix: s.UserPrefix, N: s.Users, Password: s.Password}
}

// checkRun fails the test unless the run completed iterations without
// errors and timed each of steps.
func checkRun(t *testing.T, r *load.Report, steps ...string) {
	t.Helper()
	var b strings.Builder
	r.WriteText(&b)
	t.Logf("\n%s", b.String())
	if r.Failed != 0 || r.Completed == 0 {
		t.Fatalf("load %s: %d completed, %d failed, want some and none:\n%s", r.Scenario, r.Completed, r.Failed, b.String())
	}
	for _, step := range steps {
		s, ok := r.Step(step)
		if !ok || s.Count == 0 || s.P50 <= 0 || s.P50 > s.P99 || s.P99 > s.Max {
			t.Errorf("load %s: step %q: %+v (seen %v), want a count and ordered percentiles", r.Scenario, step, s, ok)
		}
	}
}

func TestLoadAgainstGatehouse(t *testing.T) {
	acme, setup := gatehouse(t, 8)
	c := newClient(t, setup, false)
	if runtime.GOOS == "linux" && !c.SpreadsSources() {
		t.Errorf("a client of a server on 127.0.0.1 does not spread its browsers over loopback addresses")
	}

	t.Run("signin", func(t *testing.T) {
		const workers = 4
		r := load.Run(t.Context(), "signin", load.Options{Concurrency: workers, Duration: 2 * time.Second}, load.SignIns(c, accounts(setup), workers))
		checkRun(t, r, load.StepAuthorize, load.StepLoginPage, load.StepPassword, load.StepToken, load.StepIDToken, load.StepSignIn)
		if s, _ := r.Step(load.StepSignIn); s.Count != r.Completed {
			t.Errorf("%d complete sign-ins timed, %d completed", s.Count, r.Completed)
		}
	})
	t.Run("token", func(t *testing.T) {
		te, err := load.NewTokenEndpoint(c.TokenURL(), acme.AutomationClient.ClientID, acme.AutomationClient.ClientSecret, load.AdminAPIScope(acme.Issuer), 0)
		if err != nil {
			t.Fatal(err)
		}
		scenario, closeConns := load.TokenGrants(te, 4)
		defer closeConns()
		r := load.Run(t.Context(), "token", load.Options{Concurrency: 4, Duration: time.Second}, scenario)
		checkRun(t, r, load.StepClientCredentials)
		// A wrong secret is reported by its OAuth error code.
		bad, _ := load.NewTokenEndpoint(c.TokenURL(), acme.AutomationClient.ClientID, "wrong", load.AdminAPIScope(acme.Issuer), 0)
		var conn load.TokenConn
		defer conn.Close()
		var se *load.StepError
		if err := bad.Grant(t.Context(), &conn, nil); !errors.As(err, &se) || se.Kind != "invalid_client" {
			t.Errorf("Grant with a wrong secret: %v, want an invalid_client step error", err)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		const workers = 4
		r := load.Run(t.Context(), "refresh", load.Options{Concurrency: workers, Duration: time.Second}, load.Refreshes(c, accounts(setup), workers))
		checkRun(t, r, load.StepRefresh, load.StepSignIn)
		if s, _ := r.Step(load.StepSignIn); s.Count != workers {
			t.Errorf("%d sign-ins for %d workers, want one each", s.Count, workers)
		}
	})
	t.Run("guesser", func(t *testing.T) {
		g, err := c.NewGuesser(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		for _, tc := range []struct {
			mail, password string
			want           int
		}{
			{"nobody@example.com", "guess one", http.StatusBadRequest},
			{"else@example.com", "guess two", http.StatusBadRequest},
			{load.UserMail(setup.UserPrefix, 1), setup.Password, http.StatusSeeOther},
		} {
			if got, err := g.Try(t.Context(), tc.mail, tc.password); got != tc.want || err != nil {
				t.Errorf("Try(%s, %s) = %d, %v; want %d", tc.mail, tc.password, got, err, tc.want)
			}
		}
	})
	t.Run("errors by kind", func(t *testing.T) {
		bad := accounts(setup)
		bad.Password = "not the password"
		r := load.Run(t.Context(), "signin", load.Options{Concurrency: 2, Duration: 300 * time.Millisecond}, load.SignIns(c, bad, 2))
		if r.Completed != 0 || r.Failed == 0 || r.Errors["password: HTTP 400"] != r.Failed {
			t.Fatalf("sign-ins with a wrong password: completed %d, errors %v; want only password: HTTP 400", r.Completed, r.Errors)
		}
		if ex := r.ErrorExamples["password: HTTP 400"]; !strings.Contains(ex, "The email address or password is incorrect.") {
			t.Errorf("error example %q lacks the page's message", ex)
		}
		_, err := c.SignIn(t.Context(), "nobody@example.com", "", nil)
		var se *load.StepError
		if !errors.As(err, &se) || se.Step != load.StepPassword || se.Kind != "HTTP 400" {
			t.Errorf("sign-in without a password: %v, want a password step error with HTTP 400", err)
		}
	})
}

// TestSourceAddresses shows why browsers need addresses of their own: from
// one address, the server refuses sign-ins after its limit per address.
func TestSourceAddresses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux answers on all of 127.0.0.0/8")
	}
	_, setup := gatehouse(t, 1)
	spread, single := newClient(t, setup, false), newClient(t, setup, true)
	mail := load.UserMail(setup.UserPrefix, 1)
	var err error
	for i := 0; err == nil && i < 100; i++ {
		_, err = single.SignIn(t.Context(), mail, setup.Password, nil)
	}
	var se *load.StepError
	if !errors.As(err, &se) || se.Kind != "HTTP 429" {
		t.Fatalf("100 sign-ins from one address: %v, want HTTP 429 before the end", err)
	}
	for range 3 {
		if _, err := spread.SignIn(t.Context(), mail, setup.Password, nil); err != nil {
			t.Fatalf("sign-in from an address of its own after the limit of another: %v", err)
		}
	}
}

func TestOnlyTheIssuersOrigin(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the load client reached another server: %s %s", r.Method, r.URL)
	}))
	defer other.Close()
	// issuer is a server that is not Gatehouse: its discovery document
	// names endpoint (on other, for the token endpoint with badToken);
	// its authorization endpoint redirects to where (a path of its own or
	// a URL), and its sign-in form posts to action.
	var (
		issuer, where, action string
		badToken              bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/acme/v2.0/.well-known/openid-configuration":
			token := issuer + "/token"
			if badToken {
				token = other.URL + "/token"
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + issuer + `","authorization_endpoint":"` + issuer + `/authorize",` +
				`"token_endpoint":"` + token + `","jwks_uri":"` + issuer + `/keys",` +
				`"id_token_signing_alg_values_supported":["RS256"]}`))
		case "/acme/v2.0/authorize":
			http.Redirect(w, r, where, http.StatusSeeOther)
		case "/login":
			w.Write([]byte(`<form method="post" action="` + action + `"><input type="email" name="email"><input type="password" name="password"></form>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	issuer = srv.URL + "/acme/v2.0"
	cfg := load.Config{Issuer: issuer, ClientID: "app", RedirectURI: load.DefaultRedirectURI}

	badToken = true
	if _, err := load.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), other.URL) {
		t.Errorf("New with a token endpoint on another server: %v, want an error naming it", err)
	}
	badToken = false
	c, err := load.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		where, action string
		step, kind    string
	}{
		{other.URL + "/login", "/post", load.StepAuthorize, "foreign redirect"},
		{"/login", other.URL + "/post", load.StepLoginPage, "foreign form"},
		{load.DefaultRedirectURI + "?error=access_denied", "", load.StepAuthorize, "access_denied"},
	} {
		where, action = tc.where, tc.action
		_, err := c.SignIn(t.Context(), "ada@example.com", "pw", nil)
		var se *load.StepError
		if !errors.As(err, &se) || se.Step != tc.step || se.Kind != tc.kind {
			t.Errorf("authorize redirecting to %s, form posting to %s: %v, want %s: %s", tc.where, tc.action, err, tc.step, tc.kind)
		}
	}
}

// TestTokenEndpoint checks the lean client credentials client against a
// server that is not Gatehouse: what it sends (client_secret_basic with
// form-encoded credentials, the grant and scope in the body), that it
// keeps its connection or dials again when the server closes it, and how
// it names bad answers.
func TestTokenEndpoint(t *testing.T) {
	var answer atomic.Value // func(http.ResponseWriter)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || r.Method != "POST" || r.URL.Path != "/dex/token" || !ok ||
			id != "my%3Aclient" || secret != "s%C3%A9cret%2Bx" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "openid profile" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("request %s %s, basic %q %q %v, form %v, header %v", r.Method, r.URL, id, secret, ok, r.PostForm, r.Header)
		}
		answer.Load().(func(http.ResponseWriter))(w)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	te, err := load.NewTokenEndpoint(srv.URL+"/dex/token", "my:client", "sécret+x", "openid profile", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var conn load.TokenConn
	defer conn.Close()
	ok := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token" : "eyJ.x.y", "token_type": "bearer", "expires_in":86400}`))
	}
	answer.Store(ok)
	for range 3 {
		if err := te.Grant(t.Context(), &conn, nil); err != nil {
			t.Fatalf("Grant: %v", err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 grants used %d connections, want 1 kept alive", n)
	}
	answer.Store(func(w http.ResponseWriter) { w.Header().Set("Connection", "close"); ok(w) })
	for range 2 {
		if err := te.Grant(t.Context(), &conn, nil); err != nil {
			t.Fatalf("Grant with Connection: close: %v", err)
		}
	}
	if n := conns.Load(); n != 2 { // the kept one, closed after the first; one more for the second
		t.Errorf("after two answers with Connection: close, %d connections, want 2", n)
	}
	for _, c := range []struct {
		answer func(http.ResponseWriter)
		kind   string
	}{
		{func(w http.ResponseWriter) {
			w.WriteHeader(401)
			w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid client credentials."}`))
		}, "invalid_client"},
		{func(w http.ResponseWriter) { w.WriteHeader(503); w.Write([]byte("busy")) }, "HTTP 503"},
		{func(w http.ResponseWriter) { w.Write([]byte(`{"token_type":"bearer"}`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(`{"access_token":"x","token_type":"mac"}`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(`<html>`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(`{"access_token":"","token_type":"Bearer"}`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(`{"access_token":42,"token_type":"Bearer"}`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(`{"access_token":"x"}`)) }, "bad response"},
		{func(w http.ResponseWriter) { w.Write([]byte(strings.Repeat("x", 2<<20))) }, "error"},
	} {
		answer.Store(c.answer)
		var se *load.StepError
		if err := te.Grant(t.Context(), &conn, nil); !errors.As(err, &se) || se.Kind != c.kind || se.Step != load.StepClientCredentials {
			t.Errorf("Grant: %v, want a %q step error", err, c.kind)
		}
	}
	answer.Store(ok)
	if err := te.Grant(t.Context(), &conn, nil); err != nil {
		t.Errorf("Grant after errors: %v", err)
	}
	for _, bad := range []string{"ftp://x/token", "http://user:pw@x/token", "/token", "http://x/token#f"} {
		if _, err := load.NewTokenEndpoint(bad, "a", "b", "", 0); err == nil {
			t.Errorf("NewTokenEndpoint(%q) accepted it", bad)
		}
	}
}

// TestTokenEndpointContextEnds: a grant whose context ends while the
// server has not answered fails with the context's error and leaves the
// connection for a new one; the end of the context and the failed read,
// which happen at once when both come from the context's deadline, do not
// race on the connection.
func TestTokenEndpointContextEnds(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	te, err := load.NewTokenEndpoint(srv.URL+"/token", "a", "b", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		var conn load.TokenConn
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Microsecond)
		err := te.Grant(ctx, &conn, nil)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmt.Sprint(err), "timeout") {
			t.Fatalf("Grant with an ended context: %v, want the context's deadline", err)
		}
		conn.Close()
	}
}
