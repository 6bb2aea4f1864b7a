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
	mfa                            string // "" or "email"
	smtpSink                       string // HOST:PORT of the mail sink
	sources                        int
	rate                           float64
	baseline                       time.Duration
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
			usage: "Connect every virtual user from the address the system picks. Without it, when the server is on this machine's IPv4 loopback (Linux), each sign-in comes from its own address in 127.0.0.0/8, as different people's browsers do; from one address the server's limit on sign-in attempts per address (300 in 5 minutes) refuses the rest.",
			set:   func(_ *config, v string) error { lc.singleSource = v == "true"; return nil }},
		{name: "mfa", arg: "METHOD",
			usage: "A second factor after the password: email (the only one for now), with the codes read from the mail sink of --smtp-sink. The sign-ins ask for multifactor authentication (acr_values=2), so the tenant must have the email method enabled: 'gatehouse load setup --mfa email' does it.",
			set: func(_ *config, v string) error {
				if v != "" && v != "email" {
					return fmt.Errorf("--mfa %q is not a second factor the load knows; use email", v)
				}
				lc.mfa = v
				return nil
			}},
		{name: "smtp-sink", arg: "HOST:PORT",
			usage: "Run a mail server on this loopback address for the length of the load: it accepts every message, counts them and hands their codes to the virtual users. Start the server under test with --smtp-url 'smtp://HOST:PORT?starttls=off' (and --mail-from); it may start before the sink does.",
			set: func(_ *config, v string) error {
				if v != "" {
					if err := checkAddr("smtp-sink", v, &lc.smtpSink); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "sources", arg: "N", def: "2",
			usage: "How many client addresses the virtual users share (in 127.0.0.0/8, when the server is on this machine's IPv4 loopback): each browser takes the next in turn.",
			set:   num("sources", 1, 1000, &lc.sources)},
		{name: "rate", arg: "N",
			usage: "At most N iterations a second over all virtual users, evenly spaced (decimals allowed). Without it each virtual user starts its next iteration as soon as the last one ends.",
			set: func(_ *config, v string) error {
				if v == "" {
					return nil
				}
				r, err := strconv.ParseFloat(v, 64)
				if err != nil || !(r > 0 && r <= 1e6) {
					return fmt.Errorf("--rate %q is not a number of iterations a second, above 0 and up to 1000000", v)
				}
				lc.rate = r
				return nil
			}},
		{name: "baseline", arg: "DURATION", def: "5s",
			usage: "How long the token endpoint and the JWK set are timed on the idle server before the load starts, to compare with their times under load.",
			set:   dur("baseline", time.Hour, &lc.baseline)},
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
	reword("mfa", "Enable a second factor for all users in the tenant's authentication methods policy: email, for 'gatehouse load signin --mfa email'. The server must have mail set up (--smtp-url) for the codes.")
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
user flow with email and password (no sign-up) for the application; with
--mfa email it also enables email one-time passcodes as a second factor for
all users. It prints the flags of 'gatehouse load signin' for them.

The tenant's automation client does it; give the JSON that
'gatehouse tenant create NAME --admin-email EMAIL --json' printed
(--tenant-json FILE, or - for standard input), or the issuer and the
client's ID and secret. Creating each user costs the server one password
hash. Use a tenant for load tests only: what setup creates stays.`,
		options: append(pick(m, "tenant-json", "issuer", "client-id", "client-secret", "users", "password", "user-prefix", "redirect-uri", "mfa", "timeout"), optJSON),
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
		Users: lc.users, Password: lc.password, UserPrefix: lc.userPrefix, RedirectURI: lc.redirectURI, EmailMFA: lc.mfa == "email"})
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
	mfaNote, mfaFlags := "", ""
	if s.EmailMFA {
		mfaNote = ";\n  email one-time passcodes enabled as a second factor for all users"
		mfaFlags = " --mfa email --smtp-sink 127.0.0.1:2525"
	}
	fmt.Fprintf(e.stdout, `Created in %s:
  %d users, %s to %s, with %s;
  the application "Load test %s" (client ID %s, redirect URI %s);
  the user flow "Load test %s" (email with password) for it%s.

Run the sign-in load with:

  export GATEHOUSE_LOAD_CLIENT_SECRET=%s
  export GATEHOUSE_LOAD_PASSWORD=%s
  gatehouse load signin --issuer %s --client-id %s --redirect-uri %s --users %d --user-prefix %s --concurrency %d --duration 60s%s

The client secret and the password are shown only this once.
`, s.Issuer, s.Users, s.FirstUserMail, load.UserMail(s.UserPrefix, s.Users), pwNote,
		s.UserPrefix, s.ClientID, s.RedirectURI, s.UserPrefix, mfaNote,
		shellQuote(s.ClientSecret), shellQuote(s.Password),
		shellQuote(s.Issuer), shellQuote(s.ClientID), shellQuote(s.RedirectURI), s.Users, shellQuote(s.UserPrefix), min(s.Users, 16), mfaFlags)
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

// loadSignInCommand measures password sign-ins (LD-1 of SECURITY.md),
// and with --mfa email sign-ins with an email second factor (LD-2).
func loadSignInCommand() *command {
	lc := &loadConfig{}
	return &command{
		name:    "load signin",
		usage:   "load signin --issuer URL [flags]",
		summary: "Measure complete password sign-ins, with or without a second factor.",
		help: `Runs complete password sign-ins against a Gatehouse server and reports them.
Each iteration is one sign-in from a new browser (no cookies): the
authorization request with PKCE (S256), state and a nonce; the hosted
sign-in page; the form posted with the user's email and password; the code
from the redirect to the application (never fetched) exchanged at the token
endpoint with golang.org/x/oauth2; and the ID token verified with go-oidc.
Virtual user N signs in users N, N+C, N+2C… in turn (C: --concurrency).
'gatehouse load setup' creates the users, the application and its user flow.

With --mfa email the sign-ins ask for multifactor authentication, and after
the password each asks for a code by email and enters it: the command runs
a mail sink on --smtp-sink (start the server with --smtp-url pointing at
it) and takes each user's code from the mail the sink received. The server
sends at most 10 codes an hour to one address, so N sign-ins in an hour
need at least N/10 users ('gatehouse load setup --users N --mfa email'
creates them). The report adds what the sink received.

` + loadRunHelp,
		options: append(pick(loadOptions(lc), "issuer", "client-id", "client-secret", "redirect-uri", "users", "user-prefix", "password",
			"mfa", "smtp-sink", "concurrency", "duration", "rate", "timeout", "single-source"), optJSON),
		args: noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret", "user-prefix", "password"); err != nil {
				return err
			}
			if lc.users < lc.concurrency {
				fmt.Fprintf(e.stderr, "warning: %d users for %d virtual users: some accounts are signed in several times at once, and their throttling counts the attempts in flight\n", lc.users, lc.concurrency)
			}
			if lc.mfa == "" {
				if lc.smtpSink != "" {
					return errors.New("--smtp-sink is for --mfa email: without a second factor no mail is sent")
				}
				return runLoad(ctx, e, c, lc, "signin", nil, func(ctx context.Context, cl *load.Client, o load.Options) (*load.Report, error) {
					return load.Run(ctx, "signin", o, load.SignIns(cl, lc.accounts(), lc.concurrency)), nil
				})
			}
			if lc.smtpSink == "" {
				return errors.New("--mfa email needs --smtp-sink HOST:PORT, the mail server the codes are sent to")
			}
			return runLoad(ctx, e, c, lc, "signin", nil, func(ctx context.Context, cl *load.Client, o load.Options) (*load.Report, error) {
				return withSink(ctx, e, lc, func(sink *load.MailSink) *load.Report {
					opts := load.SignInOptions{ACRValues: "2", EmailCode: sink.Code}
					return load.Run(ctx, "signin", o, load.SignInsWith(cl, lc.accounts(), lc.concurrency, opts))
				})
			})
		},
	}
}

// withSink runs a mail sink on --smtp-sink for the length of run, and
// adds what it received to run's report.
func withSink(ctx context.Context, e *env, lc *loadConfig, run func(*load.MailSink) *load.Report) (*load.Report, error) {
	sink, err := load.StartMailSink(lc.smtpSink)
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	fmt.Fprintf(e.stderr, "mail sink on %s: start the server with --smtp-url '%s'\n", sink.Addr(), sink.URL())
	before := sink.Counts()
	r := run(sink)
	got := sink.Counts().Since(before)
	r.Mail = &got
	return r, nil
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
			"concurrency", "duration", "rate", "timeout", "single-source"), optJSON),
		args: noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret", "user-prefix", "password"); err != nil {
				return err
			}
			if lc.users < lc.concurrency {
				fmt.Fprintf(e.stderr, "warning: %d users for %d virtual users: some accounts are signed in several times at once, and their throttling counts the attempts in flight\n", lc.users, lc.concurrency)
			}
			return runLoad(ctx, e, c, lc, "refresh", nil, func(ctx context.Context, cl *load.Client, o load.Options) (*load.Report, error) {
				return load.Run(ctx, "refresh", o, load.Refreshes(cl, lc.accounts(), lc.concurrency)), nil
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
		options: []option{issuer, tokenURL, id, secret, scope, m["concurrency"], m["duration"], m["rate"], m["timeout"], optJSON},
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

// loadStuffCommand is credential stuffing (LD-7).
func loadStuffCommand() *command {
	lc := &loadConfig{}
	m := loadOptions(lc)
	users, prefix := m["users"], m["user-prefix"]
	users.def, users.usage = "10000", "How many addresses the guesses go to: PREFIX1@example.com to PREFIXN@example.com, in turn."
	prefix.def, prefix.usage = "stuffed-", "The start of the guessed addresses. By default they have no accounts, which the server answers exactly as accounts with a wrong password."
	id, secret := m["client-id"], m["client-secret"]
	id.usage = "The client ID of a confidential application whose sign-in page is attacked (the one 'gatehouse load setup' creates), and whose token requests are timed (required)."
	secret.usage = "Its client secret (required). Prefer the environment variable."
	return &command{
		name:    "load stuff",
		usage:   "load stuff --issuer URL [flags]",
		summary: "Attack the sign-in page with wrong passwords, watching memory and latency.",
		help: `Credential stuffing against a Gatehouse server, to see what its bounded
password hashing holds. Each virtual user opens the sign-in page once and
posts wrong passwords on it, for --users addresses in turn, each post from
a client address of its own (in 127.0.0.0/8 when the server is on this
machine's IPv4 loopback). Every answer is counted: 400 (the password was
hashed and is wrong), 429 (refused unhashed: too many failures for the
address, or attempts from the client address) or 503 (refused unhashed: the
hash workers and their queue are full). Anything else is an error.

Meanwhile the command times a token request (client credentials, with
--client-id) and a JWK set request one after the other, every 50 ms: first
for --baseline on the idle server, then during the attack. And it reads
the server's /metrics every second: resident memory, Go runtime memory,
goroutines, hashes running and waiting, hashes computed. The report gives
all of it before, at the peak of the attack and after, and how many times
more guesses were offered than the server hashed: run it with enough
--concurrency (or --rate) to offer ten times what the server can hash.

` + loadRunHelp,
		options: []option{m["issuer"], id, secret, m["redirect-uri"], users, prefix, m["concurrency"], m["duration"], m["rate"], m["baseline"], m["timeout"], optJSON},
		args:    noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret"); err != nil {
				return err
			}
			return runLoad(ctx, e, c, lc, "stuff", nil, func(ctx context.Context, cl *load.Client, o load.Options) (*load.Report, error) {
				return cl.StuffingRun(ctx, o, load.StuffingConfig{Addresses: load.Accounts{Prefix: lc.userPrefix, N: lc.users}, Baseline: lc.baseline})
			})
		},
	}
}

// loadOTPFloodCommand is the one-time code send flood (LD-8).
func loadOTPFloodCommand() *command {
	lc := &loadConfig{}
	m := loadOptions(lc)
	users, prefix := m["users"], m["user-prefix"]
	users.def, users.usage = "3", "How many addresses the codes are asked for: PREFIX1@example.com to PREFIXN@example.com, in turn."
	prefix.def, prefix.usage = "flood-", "The start of the addresses. They need no accounts: an address without one gets a notice instead of a code, which counts the same."
	return &command{
		name:    "load otp-flood",
		usage:   "load otp-flood --issuer URL --smtp-sink HOST:PORT [flags]",
		summary: "Flood the server with requests for email codes, counting the mail sent.",
		help: `Asks a Gatehouse server for email codes over and over, for a few addresses
(--users) from a few client addresses (--sources), to see that its send
limits hold. Each iteration is a new browser that starts a sign-in, chooses
"Forgot your password?" and asks for a code; when a code is sent, it at
once asks for another. Every answer is counted: code sent, or refused by
the cool-down between two codes of one sign-in, by the hourly limit per
address, by the hourly limit per client address, or (the authorization
request) by the limit on sign-ins started per client address. Anything
else is an error.

The command runs a mail sink on --smtp-sink for the length of the run:
start the server with --smtp-url pointing at it, and the report says how
many messages actually arrived, and the most any one address received.
With Gatehouse's limits (10 codes an hour per address, 30 per client
address, 30 seconds between two codes of one sign-in), a flood sends at
most 10 × --users and 30 × --sources codes an hour, and the second request
of every iteration is refused.

` + loadRunHelp,
		options: []option{m["issuer"], m["client-id"], m["client-secret"], m["redirect-uri"], users, prefix, m["sources"], m["smtp-sink"],
			m["concurrency"], m["duration"], m["rate"], m["timeout"], optJSON},
		args: noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			if err := lc.require("issuer", "client-id", "client-secret"); err != nil {
				return err
			}
			if lc.smtpSink == "" {
				return errors.New("--smtp-sink HOST:PORT is required: the mail server the codes are sent to, whose messages the report counts")
			}
			return runLoad(ctx, e, c, lc, "otp-flood", func(cfg *load.Config) { cfg.Sources = lc.sources },
				func(ctx context.Context, cl *load.Client, o load.Options) (*load.Report, error) {
					if !cl.SpreadsSources() {
						fmt.Fprintf(e.stderr, "warning: the server is not on this machine's IPv4 loopback, so every browser comes from the one address the system picks, not from --sources %d\n", lc.sources)
					}
					return withSink(ctx, e, lc, func(*load.MailSink) *load.Report {
						return load.Run(ctx, "otp-flood", o, load.OTPFlood(cl, load.Accounts{Prefix: lc.userPrefix, N: lc.users}))
					})
				})
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

// runLoad runs a load with the Client of lc and prints its report; it
// fails when an iteration failed. cfg, when not nil, changes the Client's
// configuration.
func runLoad(ctx context.Context, e *env, c *config, lc *loadConfig, name string, cfg func(*load.Config),
	run func(context.Context, *load.Client, load.Options) (*load.Report, error)) error {
	lcfg := load.Config{Issuer: lc.issuer, ClientID: lc.clientID, ClientSecret: lc.clientSecret,
		RedirectURI: lc.redirectURI, Timeout: lc.timeout, Conns: lc.concurrency, SingleSource: lc.singleSource}
	if cfg != nil {
		cfg(&lcfg)
	}
	cl, err := load.New(ctx, lcfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	return report(ctx, e, c, lc, name, lc.issuer, func(o load.Options) (*load.Report, error) { return run(ctx, cl, o) })
}

// runScenario runs a load against target and prints its report; it fails
// when an iteration failed.
func runScenario(ctx context.Context, e *env, c *config, lc *loadConfig, name, target string, scenario load.Scenario) error {
	return report(ctx, e, c, lc, name, target, func(o load.Options) (*load.Report, error) { return load.Run(ctx, name, o, scenario), nil })
}

// report runs a load against target with run and prints its report; it
// fails when an iteration failed.
func report(ctx context.Context, e *env, c *config, lc *loadConfig, name, target string, run func(load.Options) (*load.Report, error)) error {
	fmt.Fprintf(e.stderr, "load %s: %d virtual users for %s against %s\n", name, lc.concurrency, lc.duration, target)
	r, err := run(load.Options{
		Concurrency: lc.concurrency,
		Duration:    lc.duration,
		Grace:       lc.timeout,
		Rate:        lc.rate,
		Progress: func(elapsed time.Duration, completed, failed int64) {
			fmt.Fprintf(e.stderr, "  %s: %d completed, %d failed\n", elapsed.Round(time.Second), completed, failed)
		},
	})
	if err != nil {
		return err
	}
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
