package main

import (
	"encoding/json"
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
}

func TestLoadCommands(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, nil, "--data-dir", dir)
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

	// Setup, in words and then as JSON.
	r = runCLI(t, nil, "load", "setup", "--tenant-json", tenantFile, "--users", "2")
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
	var s struct {
		Issuer       string `json:"issuer"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		UserPrefix   string `json:"user_prefix"`
	}
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
