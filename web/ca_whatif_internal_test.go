package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
)

// TestWhatIfMatchesLiveSignIns: for 1,000 randomized cases (a random
// policy set over a small directory, a user, an application, a client
// address, a device, a client app type, with or without the admin API),
// What If's answer (POST /identity/conditionalAccess/evaluate, given the
// facts the live sign-in path saw) is, policy by policy, what the live
// path (evaluateCA, as the pages, single sign-on and refresh call it)
// decides: whether it applies and, when not, why.
func TestWhatIfMatchesLiveSignIns(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			store := eng.Open(t)
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			v, err := vault.New(key)
			if err != nil {
				t.Fatal(err)
			}
			keys := oidc.NewKeys(store, v, time.Now)
			hasher := password.NewHasher(password.DefaultParams, 0, 8)
			var h http.Handler
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
			t.Cleanup(ts.Close)
			s, err := newServer(Options{Store: store, Keys: keys, Vault: v, Passwords: hasher, PublicURL: ts.URL})
			if err != nil {
				t.Fatal(err)
			}
			mux := &router{ServeMux: http.NewServeMux()}
			s.routes(mux)
			h = s.recoverPanics(s.observe(s.checkInput(mux)))
			res, err := provision.CreateTenant(ctx, provision.Deps{Store: store, Keys: keys, Vault: v, Passwords: hasher, PublicURL: ts.URL}, "acme", "admin@acme.example")
			if err != nil {
				t.Fatal(err)
			}
			tn, err := store.Tenant(ctx, res.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			token := clientToken(t, ts.URL, res.AutomationClient)
			d := newWhatIfDirectory(t, store, tn.ID)
			d.adminScope = gatehouse.AdminAPIScope(ts.URL, "acme")

			rng := mrand.New(mrand.NewPCG(3, 5))
			cases := 0
			for round := 0; cases < 1000; round++ {
				d.randomPolicies(t, rng)
				for range 20 {
					cases++
					c := d.randomSignIn(rng)
					r := httptest.NewRequest("GET", "/acme/oauth2/v2.0/authorize", nil)
					r.RemoteAddr = net.JoinHostPort(c.ip, "40000")
					r.Header.Set("User-Agent", c.userAgent)
					live, err := s.evaluateCA(r, s.Store, tn, caRequest{app: c.app, redirectURI: c.redirectURI, scope: c.scope}, c.user)
					if err != nil {
						t.Fatal(err)
					}
					apps := []string{c.app.AppID}
					if len(live.in.Resources) > 0 {
						apps = append(apps, live.in.Resources...)
					}
					conditions := map[string]any{"clientAppType": live.in.ClientAppType, "ipAddress": c.ip,
						"signInRiskLevel": string(orNone(live.in.SignInRisk)), "userRiskLevel": string(orNone(live.in.UserRisk))}
					if live.in.Platform != gatehouse.PlatformUnknown {
						// Graph names no unknown platform: a question without
						// one asks about a device nobody could tell.
						conditions["devicePlatform"] = live.in.Platform
					}
					answer := whatIf(t, ts.URL, token, map[string]any{
						"signInIdentity":   map[string]any{"@odata.type": "#microsoft.graph.userSignIn", "userId": c.user.ID},
						"signInContext":    map[string]any{"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": apps},
						"signInConditions": conditions,
					})
					results := live.decision.Results()
					if len(answer) != len(results) {
						t.Fatalf("round %d: What If judged %d policies, the live path %d", round, len(answer), len(results))
					}
					for _, lr := range results {
						a, ok := answer[lr.Policy.ID]
						if !ok || a.applies != lr.Applies || a.reason != lr.Reason {
							t.Fatalf("round %d, case %+v: policy %q: What If applies=%v reason %q, live applies=%v reason %q\npolicy %+v",
								round, c, lr.Policy.DisplayName, a.applies, a.reason, lr.Applies, lr.Reason, lr.Policy.Conditions)
						}
					}
				}
			}
		})
	}
}

func orNone(l gatehouse.RiskLevel) gatehouse.RiskLevel {
	if l == "" {
		return gatehouse.RiskNone
	}
	return l
}

// clientToken returns an admin API token of the automation client.
func clientToken(t *testing.T, base string, c provision.AutomationClient) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {c.Scope}}
	req, _ := http.NewRequest("POST", base+"/acme/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

type whatIfAnswer struct {
	applies bool
	reason  string
}

// whatIf asks the evaluate action and returns its answer by policy ID.
func whatIf(t *testing.T, base, token string, body any) map[string]whatIfAnswer {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+"/acme/graph/v1.0/identity/conditionalAccess/evaluate", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Value []struct {
			ID              string `json:"id"`
			PolicyApplies   bool   `json:"policyApplies"`
			AnalysisReasons string `json:"analysisReasons"`
		} `json:"value"`
	}
	if resp.StatusCode != 200 {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("What If %s: status %d, %v", raw, resp.StatusCode, e)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	m := map[string]whatIfAnswer{}
	for _, v := range out.Value {
		m[v.ID] = whatIfAnswer{v.PolicyApplies, v.AnalysisReasons}
	}
	return m
}

// whatIfDirectory is a small directory for random sign-ins: users in
// groups with roles, apps (one a mobile app), named locations.
type whatIfDirectory struct {
	store     gatehouse.Store
	tenantID  string
	users     []*gatehouse.User
	groups    []string
	roles     []string
	apps      []*gatehouse.Application
	locations []string
	policies  []string
	// adminScope asks for the admin API.
	adminScope string
}

var whatIfRoles = []string{gatehouse.RoleGlobalAdministrator, gatehouse.RoleUserAdministrator, gatehouse.RoleSecurityAdministrator}

func newWhatIfDirectory(t *testing.T, store gatehouse.Store, tenantID string) *whatIfDirectory {
	ctx := context.Background()
	d := &whatIfDirectory{store: store, tenantID: tenantID}
	err := store.Update(ctx, func(tx gatehouse.Tx) error {
		for i := range 3 {
			g := &gatehouse.Group{TenantID: tenantID, DisplayName: fmt.Sprintf("group %d", i)}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			d.groups = append(d.groups, g.ID)
		}
		for i := range 4 {
			u := &gatehouse.User{TenantID: tenantID, Mail: fmt.Sprintf("user%d@example.com", i), DisplayName: fmt.Sprintf("User %d", i), AccountEnabled: true}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			d.users = append(d.users, u)
			for j, g := range d.groups {
				if (i+j)%2 == 0 {
					if err := tx.AddGroupMember(ctx, tenantID, g, u.ID); err != nil {
						return err
					}
				}
			}
			if i < len(whatIfRoles) {
				if err := tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{TenantID: tenantID, RoleDefinitionID: whatIfRoles[i], PrincipalID: u.ID, DirectoryScopeID: "/"}); err != nil {
					return err
				}
			}
		}
		for i := range 3 {
			a := &gatehouse.Application{TenantID: tenantID, AppID: newUUID(), DisplayName: fmt.Sprintf("app %d", i),
				WebRedirectURIs: []string{"https://app.example/cb"}}
			if i == 2 {
				a.WebRedirectURIs, a.PublicClientRedirectURIs = nil, []string{"http://127.0.0.1/cb"}
			}
			if err := tx.CreateApplication(ctx, a); err != nil {
				return err
			}
			d.apps = append(d.apps, a)
		}
		for i, r := range []string{"203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"} {
			l := &gatehouse.NamedLocation{TenantID: tenantID, DisplayName: fmt.Sprintf("net %d", i), Kind: gatehouse.LocationIP, IPRanges: []string{r}, Trusted: i == 0}
			l.Normalize()
			if err := tx.CreateNamedLocation(ctx, l); err != nil {
				return err
			}
			d.locations = append(d.locations, l.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func some(rng *mrand.Rand, list []string, p float64) []string {
	var out []string
	for _, v := range list {
		if rng.Float64() < p {
			out = append(out, v)
		}
	}
	return out
}

func pick[T any](rng *mrand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// randomPolicies replaces the tenant's policies with 1 to 8 random ones.
func (d *whatIfDirectory) randomPolicies(t *testing.T, rng *mrand.Rand) {
	ctx := context.Background()
	userIDs := make([]string, len(d.users))
	for i, u := range d.users {
		userIDs[i] = u.ID
	}
	appIDs := []string{gatehouse.AdminAPIAppID}
	for _, a := range d.apps {
		appIDs = append(appIDs, a.AppID)
	}
	err := d.store.Update(ctx, func(tx gatehouse.Tx) error {
		for _, id := range d.policies {
			if err := tx.DeletePolicy(ctx, d.tenantID, id); err != nil {
				return err
			}
		}
		d.policies = nil
		for i := range 1 + rng.IntN(8) {
			p := &gatehouse.Policy{TenantID: d.tenantID, DisplayName: fmt.Sprintf("policy %d", i),
				State: pick(rng, []gatehouse.PolicyState{gatehouse.PolicyEnabled, gatehouse.PolicyReportOnly, gatehouse.PolicyDisabled}),
				Grant: &gatehouse.GrantControls{Operator: "OR", BuiltIn: []string{pick(rng, []string{gatehouse.ControlMFA, gatehouse.ControlBlock})}}}
			u := &p.Conditions.Users
			if rng.IntN(2) == 0 {
				u.IncludeUsers = []string{gatehouse.ConditionAll}
			} else {
				u.IncludeUsers, u.IncludeGroups, u.IncludeRoles = some(rng, userIDs, 0.3), some(rng, d.groups, 0.3), some(rng, whatIfRoles, 0.3)
				if len(u.IncludeUsers)+len(u.IncludeGroups)+len(u.IncludeRoles) == 0 {
					u.IncludeUsers = []string{pick(rng, userIDs)}
				}
			}
			u.ExcludeUsers, u.ExcludeGroups, u.ExcludeRoles = some(rng, userIDs, 0.15), some(rng, d.groups, 0.15), some(rng, whatIfRoles, 0.1)
			a := &p.Conditions.Applications
			switch rng.IntN(3) {
			case 0:
				a.Include = []string{gatehouse.ConditionAll}
			case 1:
				a.Include = []string{gatehouse.ConditionAdminPortals}
			default:
				if a.Include = some(rng, appIDs, 0.4); len(a.Include) == 0 {
					a.Include = []string{pick(rng, appIDs)}
				}
			}
			a.Exclude = some(rng, appIDs, 0.15)
			p.Conditions.ClientAppTypes = []string{pick(rng, []string{gatehouse.ClientAll, gatehouse.ClientBrowser, gatehouse.ClientMobileDesktop})}
			if rng.IntN(3) == 0 {
				p.Conditions.Platforms = &gatehouse.IncludeExclude{Include: some(rng, gatehouse.Platforms[1:], 0.4), Exclude: some(rng, gatehouse.Platforms[1:], 0.2)}
				if len(p.Conditions.Platforms.Include) == 0 {
					p.Conditions.Platforms.Include = []string{gatehouse.PlatformAll}
				}
			}
			if rng.IntN(3) == 0 {
				inc := some(rng, append([]string{gatehouse.ConditionAllTrusted}, d.locations...), 0.4)
				if len(inc) == 0 {
					inc = []string{gatehouse.ConditionAll}
				}
				p.Conditions.Locations = &gatehouse.IncludeExclude{Include: inc, Exclude: some(rng, d.locations, 0.2)}
			}
			p.Normalize()
			if err := p.Validate(); err != nil {
				// A combination Entra refuses (a policy the API would not
				// accept): leave it out.
				continue
			}
			if err := tx.CreatePolicy(ctx, p); err != nil {
				return err
			}
			d.policies = append(d.policies, p.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// whatIfCase is one random sign-in.
type whatIfCase struct {
	user        *gatehouse.User
	app         *gatehouse.Application
	redirectURI string
	scope       string
	ip          string
	userAgent   string
}

func (c whatIfCase) String() string {
	return fmt.Sprintf("user %s app %s redirect %s scope %q ip %s ua %q", c.user.Mail, c.app.DisplayName, c.redirectURI, c.scope, c.ip, c.userAgent)
}

var whatIfAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
	"curl/8.5.0",
}

func (d *whatIfDirectory) randomSignIn(rng *mrand.Rand) whatIfCase {
	c := whatIfCase{user: pick(rng, d.users), app: pick(rng, d.apps), userAgent: pick(rng, whatIfAgents),
		ip: pick(rng, []string{"203.0.113.7", "198.51.100.200", "192.0.2.1", "2001:db8::1", "2001:db9::1", "10.1.2.3"}), scope: "openid"}
	if uris := c.app.PublicClientRedirectURIs; len(uris) > 0 {
		c.redirectURI = uris[0]
	} else {
		c.redirectURI = c.app.WebRedirectURIs[0]
	}
	if rng.IntN(4) == 0 {
		c.scope = "openid " + d.adminScope
	}
	return c
}
