package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/password"
)

// loadConfig is the configuration of the load commands. Their options
// store into it rather than into config, one per command: parse still
// reads every flag and environment variable (config.go), the options only
// check and keep the values.
type loadConfig struct {
	issuer, clientID, clientSecret string
	redirectURI, scope, tenantJSON string
	tokenURL                       string
	users                          int
	userPrefix, password           string
	concurrency                    int
	duration, timeout              time.Duration
	singleSource                   bool
}

// Bounds of the load commands' numbers.
const (
	maxLoadUsers       = 100000
	maxLoadConcurrency = 10000
	maxLoadDuration    = 24 * time.Hour
)

// loadOptions returns the options of the load commands, storing into lc,
// by flag name.
func loadOptions(lc *loadConfig) map[string]option {
	str := func(dst *string) func(*config, string) error {
		return func(_ *config, v string) error { *dst = v; return nil }
	}
	num := func(name string, lo, hi int, dst *int) func(*config, string) error {
		return func(_ *config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("--%s %q is not a whole number from %d to %d", name, v, lo, hi)
			}
			*dst = n
			return nil
		}
	}
	dur := func(name string, hi time.Duration, dst *time.Duration) func(*config, string) error {
		return func(_ *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > hi {
				return fmt.Errorf("--%s %q is not a duration such as 30s or 5m, up to %s", name, v, hi)
			}
			*dst = d
			return nil
		}
	}
	opts := []option{
		{name: "issuer", env: "GATEHOUSE_LOAD_ISSUER", arg: "URL",
			usage: "The issuer of the tenant, e.g. http://localhost:8080/acme/v2.0 (required). Every request goes to its scheme, host and port, and nowhere else.",
			set:   str(&lc.issuer)},
		{name: "client-id", env: "GATEHOUSE_LOAD_CLIENT_ID", arg: "ID",
			usage: "The client ID (appId) of the application to sign in to (required).",
			set:   str(&lc.clientID)},
		{name: "client-secret", env: "GATEHOUSE_LOAD_CLIENT_SECRET", arg: "SECRET",
			usage: "The application's client secret (required). Prefer the environment variable: other users of the machine can see command-line arguments.",
			set:   str(&lc.clientSecret)},
		{name: "redirect-uri", arg: "URI", def: load.DefaultRedirectURI,
			usage: "A redirect URI registered for the application. Sign-ins stop at the redirect to it; it is never fetched.",
			set:   str(&lc.redirectURI)},
		{name: "users", arg: "N", def: "16",
			usage: "How many users there are: PREFIX1@example.com to PREFIXN@example.com. With at least as many users as --concurrency, no account is signed in twice at once.",
			set:   num("users", 1, maxLoadUsers, &lc.users)},
		{name: "user-prefix", arg: "PREFIX",
			usage: "The start of the users' addresses, as 'gatehouse load setup' printed it (required).",
			set:   str(&lc.userPrefix)},
		{name: "password", env: "GATEHOUSE_LOAD_PASSWORD", arg: "PASSWORD",
			usage: "The users' password (required). Prefer the environment variable.",
			set:   str(&lc.password)},
		{name: "concurrency", arg: "N", def: "16",
			usage: "How many virtual users run at once, each doing one thing after the other.",
			set:   num("concurrency", 1, maxLoadConcurrency, &lc.concurrency)},
		{name: "duration", arg: "DURATION", def: "60s",
			usage: "How long virtual users start new iterations; the run then waits at most --timeout for those in flight, and stops.",
			set:   dur("duration", maxLoadDuration, &lc.duration)},
		{name: "timeout", arg: "DURATION", def: "30s",
			usage: "The longest one HTTP request may take; a request that takes longer is an error.",
			set:   dur("timeout", time.Hour, &lc.timeout)},
		{name: "single-source",
			usage: "Connect every virtual user from the address the system picks. Without it, when the server is on this machine's IPv4 loopback (Linux), each sign-in comes from its own address in 127.0.0.0/8, as different people's browsers do; from one address the server's limit on sign-in attempts per address (30 in 5 minutes) refuses the rest.",
			set:   func(_ *config, v string) error { lc.singleSource = v == "true"; return nil }},
	}
	m := map[string]option{}
	for _, o := range opts {
		m[o.name] = o
	}
	return m
}

// pick returns the options named, in order.
func pick(m map[string]option, names ...string) []option {
	out := make([]option, len(names))
	for i, n := range names {
		o, ok := m[n]
		if !ok {
			panic("load: no option " + n)
		}
		out[i] = o
	}
	return out
}

func loadSetupCommand() *command {
	lc := &loadConfig{}
	m := loadOptions(lc)
	reword := func(name, usage string) {
		o := m[name]
		o.usage = usage
		m[name] = o
	}
	reword("client-id", "The client ID of a client allowed to create users, applications and user flows: the automation client of 'gatehouse tenant create' (required unless --tenant-json).")
	reword("client-secret", "That client's secret (required unless --tenant-json). Prefer the environment variable.")
	reword("password", "The password the users get; generated when not given. Prefer the environment variable.")
	reword("user-prefix", "The start of the users' addresses; random (load-xxxxxxxx-) when not given, so that setups do not collide.")
	reword("users", "How many users to create.")
	m["tenant-json"] = option{name: "tenant-json", arg: "FILE",
		usage: "The output of 'gatehouse tenant create --json' (- for standard input): the issuer and the automation client. Excludes --issuer, --client-id and --client-secret.",
		set:   func(_ *config, v string) error { lc.tenantJSON = v; return nil }}
	return &command{
		name:    "load setup",
		usage:   "load setup --tenant-json FILE [flags]",
		summary: "Create users, an app and a user flow for load signin.",
		help: `Prepares a tenant for 'gatehouse load signin' through its admin API: --users
users PREFIX1@example.com … PREFIXN@example.com with one password, a
confidential web application with --redirect-uri and a client secret, and a
user flow with email and password (no sign-up) for the application. It
prints the flags of 'gatehouse load signin' for them.

The tenant's automation client does it; give the JSON that
'gatehouse tenant create NAME --admin-email EMAIL --json' printed
(--tenant-json FILE, or - for standard input), or the issuer and the
client's ID and secret. Creating each user costs the server one password
hash. Use a tenant for load tests only: what setup creates stays.`,
		options: append(pick(m, "tenant-json", "issuer", "client-id", "client-secret", "users", "password", "user-prefix", "redirect-uri", "timeout"), optJSON),
		args:    noArgs,
		run:     func(ctx context.Context, e *env, c *config) error { return runLoadSetup(ctx, e, c, lc) },
	}
}

func runLoadSetup(ctx context.Context, e *env, c *config, lc *loadConfig) error {
	if lc.tenantJSON != "" {
		if lc.issuer != "" || lc.clientID != "" || lc.clientSecret != "" {
			return errors.New("--tenant-json excludes --issuer, --client-id and --client-secret")
		}
		if err := lc.readTenantJSON(e.stdin); err != nil {
			return err
		}
	}
	if lc.issuer == "" || lc.clientID == "" || lc.clientSecret == "" {
		return errors.New("the tenant's automation client is required: --tenant-json FILE, or --issuer, --client-id and --client-secret")
	}
	generated := lc.password == ""
	if generated {
		var err error
		if lc.password, err = password.Generate(); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, lc.timeout+time.Duration(lc.users)*lc.timeout/4)
	defer cancel()
	s, err := load.RunSetup(ctx, load.SetupConfig{Issuer: lc.issuer, ClientID: lc.clientID, ClientSecret: lc.clientSecret,
		Users: lc.users, Password: lc.password, UserPrefix: lc.userPrefix, RedirectURI: lc.redirectURI})
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	pwNote := "the password you gave"
	if generated {
		pwNote = "a generated password"
	}
	fmt.Fprintf(e.stdout, `Created in %s:
  %d users, %s to %s, with %s;
  the application "Load test %s" (client ID %s, redirect URI %s);
  the user flow "Load test %s" (email with password) for it.

Run the sign-in load with:

  export GATEHOUSE_LOAD_CLIENT_SECRET=%s
  export GATEHOUSE_LOAD_PASSWORD=%s
  gatehouse load signin --issuer %s --client-id %s --redirect-uri %s --users %d --user-prefix %s --concurrency %d --duration 60s

The client secret and the password are shown only this once.
`, s.Issuer, s.Users, s.FirstUserMail, load.UserMail(s.UserPrefix, s.Users), pwNote,
		s.UserPrefix, s.ClientID, s.RedirectURI, s.UserPrefix,
		shellQuote(s.ClientSecret), shellQuote(s.Password),
		shellQuote(s.Issuer), shellQuote(s.ClientID), shellQuote(s.RedirectURI), s.Users, shellQuote(s.UserPrefix), min(s.Users, 16))
	return nil
}

// readTenantJSON takes the issuer and automation client from the output
// of 'gatehouse tenant create --json' in the file lc.tenantJSON, or stdin
// for "-".
func (lc *loadConfig) readTenantJSON(stdin io.Reader) error {
	var raw []byte
	var err error
	if lc.tenantJSON == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		raw, err = os.ReadFile(lc.tenantJSON)
	}
	if err != nil {
		return fmt.Errorf("--tenant-json: %w", err)
	}
	var t struct {
		Issuer           string `json:"issuer"`
		AutomationClient struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			Scope        string `json:"scope"`
		} `json:"automation_client"`
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.Issuer == "" || t.AutomationClient.ClientID == "" {
		return errors.New("--tenant-json: not the JSON of 'gatehouse tenant create --json' (issuer and automation_client)")
	}
	lc.issuer, lc.clientID, lc.clientSecret = t.Issuer, t.AutomationClient.ClientID, t.AutomationClient.ClientSecret
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const loadRunHelp = `Each virtual user (--concurrency) repeats its iteration until --duration
has passed; then the command waits at most --timeout for iterations in
flight, prints a report and stops. The report gives the completed
iterations and their rate, the failed ones by kind ("password: HTTP 429",
"token: invalid_grant", "authorize: timeout"…) with one message of each,
and the latency percentiles (p50, p90, p99, max) of each step. The command
fails (exit status 1) when any iteration failed. Every request goes to the
issuer's scheme, host and port, and nowhere else: this is for load on your
own server. Results and how to quote them: docs/benchmarks.md.`

// loadSignInCommand measures password sign-ins (LD-1 of SECURITY.md).
func loadSignInCommand() *command {
	lc := &loadConfig{}
	return &command{
		name:    "load signin",
		usage:   "load signin --issuer URL [flags]",
		summary: "Measure complete password sign-ins.",
		help: `Runs complete password sign-ins against a Gatehouse server and reports them.
Each iteration is one sign-in from a new browser (no cookies): the
authorization request with PKCE (S256), state and a nonce; the hosted
sign-in page; the form posted with the user's email and password; the code
from the redirect to the application (never fetched) exchanged at the token
endpoint with golang.org/x/oauth2; and the ID token verified with go-oidc.
Virtual user N signs in users N, N+C, N+2C… in turn (C: --concurrency).
'gatehouse load setup' creates the users, the application and its user flow.

` + loadRunHelp,
		options: append(pick(loadOptions(lc), "issuer", "client-id", "client-secret", "redirect-uri", "users", "user-prefix", "password",
			"concurrency", "duration", "timeout", "single-source"), optJSON),
		args: noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret", "user-prefix", "password"); err != nil {
				return err
			}
			if lc.users < lc.concurrency {
				fmt.Fprintf(e.stderr, "warning: %d users for %d virtual users: some accounts are signed in several times at once, and their throttling counts the attempts in flight\n", lc.users, lc.concurrency)
			}
			return runLoad(ctx, e, c, lc, "signin", func(cl *load.Client) load.Scenario {
				return load.SignIns(cl, lc.accounts(), lc.concurrency)
			})
		},
	}
}

// loadRefreshCommand measures refresh token redemptions (LD-4).
func loadRefreshCommand() *command {
	lc := &loadConfig{}
	return &command{
		name:    "load refresh",
		usage:   "load refresh --issuer URL [flags]",
		summary: "Measure refresh token redemptions.",
		help: `Runs refresh token redemptions against a Gatehouse server and reports them.
Each virtual user signs one user in once, as 'gatehouse load signin' does
(with offline_access), then redeems its refresh token over and over, each
time for the next one (Gatehouse rotates them). After a failed redemption
it signs in again.

` + loadRunHelp,
		options: append(pick(loadOptions(lc), "issuer", "client-id", "client-secret", "redirect-uri", "users", "user-prefix", "password",
			"concurrency", "duration", "timeout", "single-source"), optJSON),
		args: noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret", "user-prefix", "password"); err != nil {
				return err
			}
			if lc.users < lc.concurrency {
				fmt.Fprintf(e.stderr, "warning: %d users for %d virtual users: some accounts are signed in several times at once, and their throttling counts the attempts in flight\n", lc.users, lc.concurrency)
			}
			return runLoad(ctx, e, c, lc, "refresh", func(cl *load.Client) load.Scenario {
				return load.Refreshes(cl, lc.accounts(), lc.concurrency)
			})
		},
	}
}

// loadTokenCommand measures client credentials grants (LD-3).
func loadTokenCommand() *command {
	lc := &loadConfig{}
	m := loadOptions(lc)
	id, secret := m["client-id"], m["client-secret"]
	id.usage = "The client ID of a confidential client, e.g. the automation client of 'gatehouse tenant create' (required)."
	secret.usage = "Its client secret (required). Prefer the environment variable."
	issuer := m["issuer"]
	issuer.usage = "The issuer of a Gatehouse tenant, e.g. http://localhost:8080/acme/v2.0, whose discovery document names the token endpoint. Excludes --token-url."
	scope := option{name: "scope", arg: "SCOPE",
		usage: "The scope to ask for. Default with --issuer: the tenant's admin API, ISSUER without /v2.0 followed by /graph/v1.0/.default (what the automation client may ask for); with --token-url: none.",
		set:   func(_ *config, v string) error { lc.scope = v; return nil }}
	tokenURL := option{name: "token-url", arg: "URL",
		usage: "A token endpoint to load instead of the issuer's: any OAuth 2.0 server's (Dex's is ISSUER/token), for side-by-side figures. Excludes --issuer.",
		set:   func(_ *config, v string) error { lc.tokenURL = v; return nil }}
	return &command{
		name:    "load token",
		usage:   "load token --issuer URL | --token-url URL [flags]",
		summary: "Measure client credentials grants.",
		help: `Runs client credentials grants against a token endpoint and reports them:
each iteration gets an access token for --scope, authenticating the client
with client_secret_basic (client ID and secret form-encoded, RFC 6749
section 2.3.1), and checks that the answer is a 200 with an access_token of
token_type Bearer. The endpoint is the one the discovery document of
--issuer names, or --token-url: any server's, such as Dex's, so that two
servers can be loaded the same way.

The load is lean, so that on the same cores as the server it measures the
server: each virtual user keeps one kept-alive HTTP/1.1 connection of its
own and sends one request prepared once. Requests go only to the token
endpoint's scheme, host and port.

` + loadRunHelp,
		options: []option{issuer, tokenURL, id, secret, scope, m["concurrency"], m["duration"], m["timeout"], optJSON},
		args:    noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if (lc.issuer == "") == (lc.tokenURL == "") {
				return errors.New("give one of --issuer (a Gatehouse tenant) and --token-url (any token endpoint)")
			}
			if err := lc.require("client-id", "client-secret"); err != nil {
				return err
			}
			target := lc.tokenURL
			if lc.issuer != "" {
				cl, err := load.New(ctx, load.Config{Issuer: lc.issuer, Timeout: lc.timeout})
				if err != nil {
					return err
				}
				cl.Close()
				target = cl.TokenURL()
				if lc.scope == "" {
					lc.scope = load.AdminAPIScope(lc.issuer)
				}
			}
			te, err := load.NewTokenEndpoint(target, lc.clientID, lc.clientSecret, lc.scope, lc.timeout)
			if err != nil {
				return err
			}
			scenario, closeConns := load.TokenGrants(te, lc.concurrency)
			defer closeConns()
			return runScenario(ctx, e, c, lc, "token", te.URL(), scenario)
		},
	}
}

// require checks that the options named were given.
func (lc *loadConfig) require(names ...string) error {
	values := map[string]string{"issuer": lc.issuer, "client-id": lc.clientID, "client-secret": lc.clientSecret,
		"user-prefix": lc.userPrefix, "password": lc.password}
	for _, n := range names {
		if values[n] == "" {
			return fmt.Errorf("--%s is required ('gatehouse load setup' prints the flags of a sign-in load)", n)
		}
	}
	return nil
}

func (lc *loadConfig) accounts() load.Accounts {
	return load.Accounts{Prefix: lc.userPrefix, N: lc.users, Password: lc.password}
}

// runLoad runs the load of scenario and prints its report; it fails when
// an iteration failed.
func runLoad(ctx context.Context, e *env, c *config, lc *loadConfig, name string, scenario func(*load.Client) load.Scenario) error {
	cl, err := load.New(ctx, load.Config{Issuer: lc.issuer, ClientID: lc.clientID, ClientSecret: lc.clientSecret,
		RedirectURI: lc.redirectURI, Timeout: lc.timeout, Conns: lc.concurrency, SingleSource: lc.singleSource})
	if err != nil {
		return err
	}
	defer cl.Close()
	return runScenario(ctx, e, c, lc, name, lc.issuer, scenario(cl))
}

// runScenario runs a load against target and prints its report; it fails
// when an iteration failed.
func runScenario(ctx context.Context, e *env, c *config, lc *loadConfig, name, target string, scenario load.Scenario) error {
	fmt.Fprintf(e.stderr, "load %s: %d virtual users for %s against %s\n", name, lc.concurrency, lc.duration, target)
	r := load.Run(ctx, name, load.Options{
		Concurrency: lc.concurrency,
		Duration:    lc.duration,
		Grace:       lc.timeout,
		Progress: func(elapsed time.Duration, completed, failed int64) {
			fmt.Fprintf(e.stderr, "  %s: %d completed, %d failed\n", elapsed.Round(time.Second), completed, failed)
		},
	}, scenario)
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if err := r.WriteText(e.stdout); err != nil {
		return err
	}
	if r.Failed > 0 {
		return fmt.Errorf("%d of %d iterations failed", r.Failed, r.Failed+r.Completed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}
