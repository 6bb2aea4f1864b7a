package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
)

// balancer is a reverse proxy in front of two nodes that sends each
// request where route says, and remembers who served what.
type balancer struct {
	srv   *httptest.Server
	nodes [2]*url.URL
	route atomic.Pointer[func(*http.Request) int]

	mu     sync.Mutex
	served []string // "node: METHOD path"
}

func startBalancer(t *testing.T) *balancer {
	b := &balancer{}
	all := func(*http.Request) int { return 0 }
	b.route.Store(&all)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := (*b.route.Load())(r.In)
		r.SetURL(b.nodes[i])
		r.SetXForwarded()
		r.Out.Host = r.In.Host // the nodes build nothing from Host; keep it as the browser sent it
		b.mu.Lock()
		b.served = append(b.served, fmt.Sprintf("%c: %s %s", 'A'+i, r.In.Method, r.In.URL.Path))
		b.mu.Unlock()
	}}
	b.srv = httptest.NewServer(proxy)
	t.Cleanup(b.srv.Close)
	return b
}

// routeBy sends each request to the node route returns (0 for A, 1 for
// B), and forgets what was served.
func (b *balancer) routeBy(route func(*http.Request) int) {
	b.route.Store(&route)
	b.mu.Lock()
	b.served = nil
	b.mu.Unlock()
}

func (b *balancer) log() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.served...)
}

// TestFT6TwoNodesOnePostgres: two `gatehouse serve` processes share one
// PostgreSQL database (and one encryption key) behind a load balancer. A
// sign-in started on one (authorization request, sign-in page) finishes on
// the other (the form posted to it), its code redeemed at the first; and
// single use holds across nodes: of a code redeemed at both at once, or a
// refresh token, exactly one redemption wins, and the loser revokes what
// the winner got (AS-5, AS-6).
func TestFT6TwoNodesOnePostgres(t *testing.T) {
	st := postgresStorage(t)
	lb := startBalancer(t)
	public := lb.srv.URL
	tn := createTenant(t, public, st)
	var nodes [2]*node
	for i, name := range []string{"node A", "node B"} {
		addr := freeAddr(t)
		nodes[i] = startNode(t, name, addr, public, st, "--trusted-proxies", "127.0.0.1")
		lb.nodes[i], _ = url.Parse("http://" + addr)
	}
	setup, app := setUp(t, tn, 4)
	user := func(i int) string { return load.UserMail(setup.UserPrefix, i) }

	t.Run("a sign-in crosses nodes", func(t *testing.T) {
		for _, form := range []int{1, 0} { // the form to B, the rest at A; then the other way round
			lb.routeBy(func(r *http.Request) int {
				if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/login") {
					return form
				}
				return 1 - form
			})
			if _, err := app.SignIn(t.Context(), user(1), userPassword, nil); err != nil {
				t.Fatalf("sign-in with the form posted to node %c: %v", 'A'+form, err)
			}
			log := strings.Join(lb.log(), "\n")
			other := 'A' + rune(1-form)
			for _, want := range []string{
				fmt.Sprintf("%c: GET /acme/oauth2/v2.0/authorize", other),
				fmt.Sprintf("%c: GET /acme/login", other),
				fmt.Sprintf("%c: POST /acme/login", 'A'+rune(form)),
				fmt.Sprintf("%c: POST /acme/oauth2/v2.0/token", other),
			} {
				if !strings.Contains(log, want) {
					t.Errorf("the balancer served no %q:\n%s", want, log)
				}
			}
		}
	})
	lb.routeBy(func(*http.Request) int { return 0 })

	// redeemAtBoth posts form to the token endpoint of both nodes at once
	// and returns the two answers: status and body.
	redeemAtBoth := func(t *testing.T, form url.Values) [2]tokenAnswer {
		var answers [2]tokenAnswer
		var ready, wg sync.WaitGroup
		start := make(chan struct{})
		for i := range nodes {
			ready.Add(1)
			wg.Go(func() {
				req, _ := http.NewRequest("POST", lb.nodes[i].String()+"/acme/oauth2/v2.0/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(setup.ClientID), url.QueryEscape(setup.ClientSecret))
				ready.Done()
				<-start
				answers[i] = postToken(req)
			})
		}
		ready.Wait()
		close(start)
		wg.Wait()
		return answers
	}
	const rounds = 10

	t.Run("a code redeemed at both nodes at once", func(t *testing.T) {
		for round := range rounds {
			a, err := app.Authorize(t.Context(), user(2), userPassword, load.SignInOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := redeemAtBoth(t, url.Values{"grant_type": {"authorization_code"}, "code": {a.Code},
				"redirect_uri": {setup.RedirectURI}, "code_verifier": {a.Verifier}})
			winner := checkOneWins(t, fmt.Sprintf("round %d: the code", round), got)
			if winner < 0 {
				continue
			}
			// The second redemption revoked the grant, so the access token
			// the first got no longer works, at either node.
			for i := range nodes {
				if code := userinfo(t, lb.nodes[i].String(), got[winner].AccessToken); code != http.StatusUnauthorized {
					t.Errorf("round %d: userinfo at node %c with the winner's access token = %d, want 401 (revoked)", round, 'A'+i, code)
				}
			}
		}
	})

	t.Run("a refresh token used at both nodes at once", func(t *testing.T) {
		for round := range rounds {
			tok, err := app.SignIn(t.Context(), user(3), userPassword, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := redeemAtBoth(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			winner := checkOneWins(t, fmt.Sprintf("round %d: the refresh token", round), got)
			if winner < 0 {
				continue
			}
			// The reuse revoked the family: the winner's new refresh token
			// is refused at the other node.
			req, _ := http.NewRequest("POST", lb.nodes[1-winner].String()+"/acme/oauth2/v2.0/token",
				strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got[winner].RefreshToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(setup.ClientID), url.QueryEscape(setup.ClientSecret))
			if a := postToken(req); a.Status != http.StatusBadRequest || a.Error != "invalid_grant" {
				t.Errorf("round %d: the winner's new refresh token after the reuse: %d %s, want 400 invalid_grant", round, a.Status, a.Error)
			}
		}
	})
}

// tokenAnswer is a token endpoint's answer.
type tokenAnswer struct {
	Status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

func postToken(req *http.Request) tokenAnswer {
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return tokenAnswer{Error: err.Error()}
	}
	defer resp.Body.Close()
	var a tokenAnswer
	json.NewDecoder(resp.Body).Decode(&a)
	a.Status = resp.StatusCode
	return a
}

// checkOneWins checks that exactly one of two answers is tokens and the
// other invalid_grant, and returns the winner's index (-1 if not).
func checkOneWins(t *testing.T, what string, got [2]tokenAnswer) int {
	t.Helper()
	winner := -1
	for i, a := range got {
		switch {
		case a.Status == http.StatusOK && a.AccessToken != "":
			if winner >= 0 {
				t.Errorf("%s redeemed at both nodes", what)
				return -1
			}
			winner = i
		case a.Status == http.StatusBadRequest && a.Error == "invalid_grant":
		default:
			t.Errorf("%s at node %c: %d %q, want tokens or invalid_grant", what, 'A'+i, a.Status, a.Error)
			return -1
		}
	}
	if winner < 0 {
		t.Errorf("%s redeemed at neither node: %+v", what, got)
	}
	return winner
}

// userinfo returns the status of the userinfo endpoint of the node at
// base for an access token.
func userinfo(t *testing.T, base, accessToken string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/acme/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
