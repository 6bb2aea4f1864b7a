package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadReport is the part of a load's JSON report the tests read.
type loadReport struct {
	Scenario  string           `json:"scenario"`
	Completed int64            `json:"completed"`
	Failed    int64            `json:"failed"`
	Errors    map[string]int64 `json:"errors"`
	Steps     []struct {
		Step  string  `json:"step"`
		Count int64   `json:"count"`
		P99   float64 `json:"p99_ms"`
	} `json:"steps"`
	Mail *struct {
		Messages     int            `json:"messages"`
		WithoutCode  int            `json:"without_code"`
		PerRecipient map[string]int `json:"per_recipient"`
	} `json:"mail"`
	Server *struct {
		Samples int     `json:"samples"`
		Hashed  float64 `json:"hashed"`
		Peak    struct {
			ResidentBytes float64 `json:"resident_bytes"`
			HashesRunning float64 `json:"hashes_running"`
			HashesWaiting float64 `json:"hashes_waiting"`
		} `json:"peak"`
	} `json:"server"`
}

// loadTenant creates the tenant acme of the server at base on the data
// directory dir, and returns the file its JSON was written to and the
// JSON itself.
func loadTenant(t *testing.T, dir, base string) (string, tenantJSON) {
	t.Helper()
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir, "--public-url", base, "--json")
	if r.err != nil {
		t.Fatalf("tenant create: %v\n%s", r.err, r.stderr)
	}
	tenantFile := filepath.Join(t.TempDir(), "acme.json")
	if err := os.WriteFile(tenantFile, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	var acme tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &acme); err != nil {
		t.Fatal(err)
	}
	return tenantFile, acme
}

// setupJSON is the part of load setup --json the tests read.
type setupJSON struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	UserPrefix   string `json:"user_prefix"`
	EmailMFA     bool   `json:"email_mfa"`
}

// count returns the count of the step named step.
func (r *loadReport) count(step string) int64 {
	for _, s := range r.Steps {
		if s.Step == step {
			return s.Count
		}
	}
	return 0
}

// runLoadJSON runs a load command with --json and returns its report,
// failing the test unless it succeeded without errors.
func runLoadJSON(t *testing.T, env map[string]string, args ...string) *loadReport {
	t.Helper()
	r := runCLI(t, env, append(args, "--json")...)
	var rep loadReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.err != nil || rep.Failed != 0 || rep.Completed == 0 {
		t.Fatalf("gatehouse %s: %v, report %s (%v); stderr:\n%s", strings.Join(args[:2], " "), r.err, r.stdout, err, r.stderr)
	}
	return &rep
}

// freePort returns a loopback address whose port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestLoadFlowCommands runs the loads that need mail or watch the server
// against gatehouse serve: sign-ins with an email second factor (LD-2),
// the code send flood (LD-8) and credential stuffing (LD-7), and checks
// that each report's numbers agree with each other and with the limits.
func TestLoadFlowCommands(t *testing.T) {
	dir := t.TempDir()
	sink := freePort(t)
	base, _, _ := startServe(t, nil, "--data-dir", dir, "--smtp-url", "smtp://"+sink+"?starttls=off", "--mail-from", "no-reply@acme.example")
	tenantFile, _ := loadTenant(t, dir, base)
	r := runCLI(t, nil, "load", "setup", "--tenant-json", tenantFile, "--users", "4", "--password", "correct horse battery", "--mfa", "email", "--json")
	if r.err != nil {
		t.Fatalf("load setup --mfa email: %v", r.err)
	}
	var s setupJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || !s.EmailMFA {
		t.Fatalf("load setup --mfa email printed %s (%v)", r.stdout, err)
	}
	env := map[string]string{"GATEHOUSE_LOAD_CLIENT_SECRET": s.ClientSecret, "GATEHOUSE_LOAD_PASSWORD": "correct horse battery"}
	app := []string{"--issuer", s.Issuer, "--client-id", s.ClientID}

	t.Run("signin --mfa email", func(t *testing.T) {
		rep := runLoadJSON(t, env, append([]string{"load", "signin", "--mfa", "email", "--smtp-sink", sink, "--users", "4", "--user-prefix", s.UserPrefix,
			"--concurrency", "2", "--duration", "2s", "--rate", "4"}, app...)...) // 10 codes an hour per user: at most 8 of 40
		if got := rep.count("second factor"); got != rep.Completed || rep.Mail == nil || int64(rep.Mail.Messages) != got {
			t.Errorf("%d sign-ins completed with %d second factors, mail %+v: want one code mailed for each", rep.Completed, got, rep.Mail)
		}
	})
	t.Run("otp-flood", func(t *testing.T) {
		const users, sources = 2, 1
		rep := runLoadJSON(t, env, append([]string{"load", "otp-flood", "--smtp-sink", sink, "--users", "2", "--sources", "1",
			"--concurrency", "3", "--duration", "2s"}, app...)...)
		sent := rep.count("code sent")
		if rep.Mail == nil || int64(rep.Mail.Messages) != sent {
			t.Fatalf("%d codes sent, mail %+v: want each one received", sent, rep.Mail)
		}
		if sent > 10*users || sent > 30*sources || len(rep.Mail.PerRecipient) > users {
			t.Errorf("%d codes sent to %d addresses from %d client address: past the limits", sent, len(rep.Mail.PerRecipient), sources)
		}
		for to, n := range rep.Mail.PerRecipient {
			if n > 10 {
				t.Errorf("%s received %d codes, past 10 an hour", to, n)
			}
		}
		refused := rep.count("refused: per address") + rep.count("refused: per client address") + rep.count("refused: authorizations")
		if cool := rep.count("refused: cool-down"); cool != sent || sent+refused != rep.Completed {
			t.Errorf("%d iterations: %d sent (each followed by %d refused by the cool-down), %d refused by the limits", rep.Completed, sent, cool, refused)
		}
	})
	t.Run("stuff", func(t *testing.T) {
		rep := runLoadJSON(t, env, append([]string{"load", "stuff", "--users", "50", "--concurrency", "8", "--duration", "2s", "--baseline", "300ms"}, app...)...)
		wrong := rep.count("guess: wrong (400)")
		if got := wrong + rep.count("guess: throttled (429)") + rep.count("guess: busy (503)"); got != rep.Completed {
			t.Errorf("%d answers counted for %d guesses", got, rep.Completed)
		}
		if rep.Server == nil || rep.Server.Samples == 0 || rep.Server.Hashed < float64(wrong) || rep.Server.Peak.ResidentBytes <= 0 {
			t.Errorf("server figures %+v for %d wrong answers", rep.Server, wrong)
		}
		if rep.Server != nil && rep.Server.Peak.HashesWaiting > hashQueue {
			t.Errorf("%.0f hashes waited, past the queue of %d", rep.Server.Peak.HashesWaiting, hashQueue)
		}
		for _, step := range []string{"token (idle)", "jwks (idle)", "token (under load)", "jwks (under load)"} {
			if rep.count(step) == 0 {
				t.Errorf("no %s timed", step)
			}
		}
	})
}

func TestLoadCommands(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, nil, "--data-dir", dir)
	tenantFile, acme := loadTenant(t, dir, base)

	// Setup, in words and then as JSON.
	r := runCLI(t, nil, "load", "setup", "--tenant-json", tenantFile, "--users", "2")
	if r.err != nil {
		t.Fatalf("load setup: %v", r.err)
	}
	for _, want := range []string{"2 users, load-", "export GATEHOUSE_LOAD_CLIENT_SECRET=", "gatehouse load signin --issuer " + acme.Issuer} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("load setup printed no %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, nil, "load", "setup", "--tenant-json", tenantFile, "--users", "4", "--password", "correct horse battery", "--json")
	if r.err != nil {
		t.Fatalf("load setup --json: %v", r.err)
	}
	var s setupJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.ClientSecret == "" || s.UserPrefix == "" {
		t.Fatalf("load setup --json printed %s (%v)", r.stdout, err)
	}
	env := map[string]string{"GATEHOUSE_LOAD_CLIENT_SECRET": s.ClientSecret, "GATEHOUSE_LOAD_PASSWORD": "correct horse battery"}
	signin := []string{"--issuer", s.Issuer, "--client-id", s.ClientID, "--users", "4", "--user-prefix", s.UserPrefix, "--concurrency", "4", "--json"}

	for _, tc := range []struct {
		args  []string
		env   map[string]string
		steps []string
	}{
		{append([]string{"load", "signin", "--duration", "2s"}, signin...), env, []string{"authorize", "login page", "password", "token", "id token", "sign-in"}},
		{append([]string{"load", "refresh", "--duration", "1s"}, signin...), env, []string{"sign-in", "refresh"}},
		{[]string{"load", "token", "--duration", "1s", "--issuer", acme.Issuer, "--client-id", acme.AutomationClient.ClientID, "--concurrency", "2", "--json"},
			map[string]string{"GATEHOUSE_LOAD_CLIENT_SECRET": acme.AutomationClient.ClientSecret}, []string{"client credentials"}},
		{[]string{"load", "token", "--duration", "1s", "--token-url", base + "/acme/oauth2/v2.0/token", "--scope", acme.AutomationClient.Scope,
			"--client-id", acme.AutomationClient.ClientID, "--concurrency", "2", "--json"},
			map[string]string{"GATEHOUSE_LOAD_CLIENT_SECRET": acme.AutomationClient.ClientSecret}, []string{"client credentials"}},
	} {
		r := runCLI(t, tc.env, tc.args...)
		var rep loadReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.err != nil || rep.Failed != 0 || rep.Completed == 0 {
			t.Errorf("gatehouse %s: %v, report %s (%v); stderr:\n%s", strings.Join(tc.args[:2], " "), r.err, r.stdout, err, r.stderr)
			continue
		}
		seen := map[string]bool{}
		for _, st := range rep.Steps {
			seen[st.Step] = st.Count > 0 && st.P99 > 0
		}
		for _, step := range tc.steps {
			if !seen[step] {
				t.Errorf("gatehouse %s: step %q not timed: %+v", strings.Join(tc.args[:2], " "), step, rep.Steps)
			}
		}
	}

	// Failures are reported by kind, and make the command fail.
	bad := map[string]string{"GATEHOUSE_LOAD_CLIENT_SECRET": s.ClientSecret, "GATEHOUSE_LOAD_PASSWORD": "not the password"}
	r = runCLI(t, bad, "load", "signin", "--duration", "300ms", "--issuer", s.Issuer, "--client-id", s.ClientID, "--users", "4", "--user-prefix", s.UserPrefix, "--concurrency", "2")
	if r.err == nil || !strings.Contains(r.err.Error(), "iterations failed") || !strings.Contains(r.stdout, "password: HTTP 400") {
		t.Errorf("load signin with a wrong password: err %v, report:\n%s", r.err, r.stdout)
	}
}

func TestLoadUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "signin", "--issuer", "http://127.0.0.1:1/acme/v2.0"}, "--client-id is required"},
		{[]string{"load", "signin", "--concurrency", "0"}, "--concurrency \"0\" is not a whole number from 1"},
		{[]string{"load", "signin", "--duration", "forever"}, "--duration \"forever\" is not a duration"},
		{[]string{"load", "token", "--issuer", "http://127.0.0.1:1/acme/v2.0", "--client-id", "x", "--client-secret", "y", "--duration", "1s"}, "connection refused"},
		{[]string{"load", "token", "--client-id", "x", "--client-secret", "y"}, "give one of --issuer"},
		{[]string{"load", "token", "--issuer", "http://127.0.0.1:1/acme/v2.0", "--token-url", "http://127.0.0.1:1/token", "--client-id", "x", "--client-secret", "y"}, "give one of --issuer"},
		{[]string{"load", "token", "--token-url", "ftp://127.0.0.1:1/token", "--client-id", "x", "--client-secret", "y"}, "not an http or https URL"},
		{[]string{"load", "token", "--token-url", "http://127.0.0.1:1/token", "--client-secret", "y"}, "--client-id is required"},
		{[]string{"load", "token", "--token-url", "http://127.0.0.1:1/token", "--client-id", "x", "--client-secret", "y", "--duration", "300ms"}, "iterations failed"},
		{[]string{"load", "setup", "--tenant-json", "/nonexistent/acme.json"}, "--tenant-json"},
		{[]string{"load", "setup", "--tenant-json", "-", "--issuer", "http://x"}, "--tenant-json excludes"},
		{[]string{"load", "setup"}, "the tenant's automation client is required"},
		{[]string{"load", "signin", "--mfa", "totp"}, "--mfa \"totp\" is not a second factor"},
		{[]string{"load", "signin", "--issuer", "http://127.0.0.1:1/acme/v2.0", "--client-id", "x", "--client-secret", "y", "--user-prefix", "p", "--password", "pw", "--mfa", "email"}, "--mfa email needs --smtp-sink"},
		{[]string{"load", "signin", "--issuer", "http://127.0.0.1:1/acme/v2.0", "--client-id", "x", "--client-secret", "y", "--user-prefix", "p", "--password", "pw", "--smtp-sink", "127.0.0.1:2525"}, "--smtp-sink is for --mfa email"},
		{[]string{"load", "otp-flood", "--issuer", "http://127.0.0.1:1/acme/v2.0", "--client-id", "x", "--client-secret", "y"}, "--smtp-sink HOST:PORT is required"},
		{[]string{"load", "stuff", "--rate", "0"}, "--rate \"0\" is not a number"},
		{[]string{"load", "otp-flood", "--sources", "0"}, "--sources \"0\""},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("gatehouse %s: %v, want an error with %q", strings.Join(tc.args, " "), r.err, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"abc-1_2.3":                   "abc-1_2.3",
		"http://127.0.0.1:9/callback": "http://127.0.0.1:9/callback",
		"a b":                         "'a b'",
		"it's":                        `'it'\''s'`,
		"":                            "''",
		"$HOME":                       "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
