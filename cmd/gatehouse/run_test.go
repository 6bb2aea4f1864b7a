package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
)

// result is one run of the command line.
type result struct {
	err            error
	stdout, stderr string
}

// runCLI runs gatehouse with args and the environment env (and nothing of
// the real environment).
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"gatehouse"}, args...), mapenv(env), strings.NewReader(""), &stdout, &stderr)
	return result{err, stdout.String(), stderr.String()}
}

func mapenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// tenantJSON is the output of tenant create --json.
type tenantJSON struct {
	Tenant   string `json:"tenant"`
	Issuer   string `json:"issuer"`
	AdminAPI string `json:"admin_api"`
	Portal   string `json:"portal"`
	Admin    struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"admin"`
	AutomationClient struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Scope        string `json:"scope"`
	} `json:"automation_client"`
}

func TestTenantCreateJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "admin@example.com", "--json", "--data-dir", dir)
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}

	// Every field of the PRODUCT.md contract, and nothing else.
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"tenant", "issuer", "admin_api", "portal", "admin", "automation_client"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("output lacks %q: %s", k, r.stdout)
		}
	}
	if len(raw) != 6 {
		t.Errorf("output has %d keys, want 6: %s", len(raw), r.stdout)
	}
	var out tenantJSON
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	for name, got := range map[string]string{
		"admin.password":                  out.Admin.Password,
		"automation_client.client_id":     out.AutomationClient.ClientID,
		"automation_client.client_secret": out.AutomationClient.ClientSecret,
	} {
		if got == "" {
			t.Errorf("%s is empty", name)
		}
	}
	for name, c := range map[string]struct{ got, want string }{
		"tenant":                  {out.Tenant, "acme"},
		"issuer":                  {out.Issuer, "http://localhost:8080/acme/v2.0"},
		"admin_api":               {out.AdminAPI, "http://localhost:8080/acme/graph/v1.0"},
		"portal":                  {out.Portal, "http://localhost:8080/acme/portal/"},
		"admin.email":             {out.Admin.Email, "admin@example.com"},
		"automation_client.scope": {out.AutomationClient.Scope, "http://localhost:8080/acme/graph/v1.0/.default"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", name, c.got, c.want)
		}
	}

	// The data directory and key file are private.
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "encryption.key"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %04o, want %04o", path, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("no SQLite database in the data directory: %v", err)
	}

	// A second tenant of the same name is refused, clearly.
	r = runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "admin@example.com", "--data-dir", dir)
	if r.err == nil || !strings.Contains(r.err.Error(), `Tenant "acme" already exists.`) {
		t.Errorf("duplicate tenant create: err = %v, want it to say the tenant exists", r.err)
	}
}

func TestTenantCreateHuman(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_PUBLIC_URL": "https://id.example.com/"},
		"tenant", "create", "--admin-email", "admin@example.com", "acme")
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}
	for _, want := range []string{
		"Created tenant acme.",
		"https://id.example.com/acme/v2.0",
		"https://id.example.com/acme/graph/v1.0/.default",
		"https://id.example.com/acme/oauth2/v2.0/token",
		"admin@example.com",
		"shown only this once",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("GATEHOUSE_DATA_DIR was not used: %v", err)
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_PUBLIC_URL": "https://env.example.com"}
	r := runCLI(t, env, "tenant", "create", "acme", "--admin-email", "a@example.com", "--json", "--public-url", "https://flag.example.com")
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}
	var out tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.Issuer, "https://flag.example.com/acme/v2.0"; got != want {
		t.Errorf("issuer = %q, want %q (the flag wins)", got, want)
	}
}

func TestTenantCreateErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad name", []string{"tenant", "create", "Acme!", "--admin-email", "a@example.com"}, nil, `Tenant name "Acme!" is not valid`},
		{"reserved name", []string{"tenant", "create", "metrics", "--admin-email", "a@example.com"}, nil, `"metrics" is reserved`},
		{"no name", []string{"tenant", "create", "--admin-email", "a@example.com"}, nil, "NAME is required"},
		{"two names", []string{"tenant", "create", "acme", "beta", "--admin-email", "a@example.com"}, nil, `unexpected argument "beta"`},
		{"no email", []string{"tenant", "create", "acme"}, nil, "--admin-email is required"},
		{"bad email", []string{"tenant", "create", "acme", "--admin-email", "nobody"}, nil, "not a valid email address"},
		{"bad public URL", []string{"tenant", "create", "acme", "--admin-email", "a@example.com", "--public-url", "id.example.com"}, nil, "not an absolute URL"},
		{"public URL with path", []string{"tenant", "create", "acme", "--admin-email", "a@example.com", "--public-url", "https://example.com/id"}, nil, "has a path"},
		{"public URL with query", []string{"tenant", "create", "acme", "--admin-email", "a@example.com", "--public-url", "https://example.com?x=1"}, nil, "query"},
		{"public URL scheme", []string{"tenant", "create", "acme", "--admin-email", "a@example.com", "--public-url", "ftp://example.com"}, nil, "must use https"},
		{"bad env value", []string{"tenant", "create", "acme", "--admin-email", "a@example.com"}, map[string]string{"GATEHOUSE_LOG_LEVEL": "loud"}, "environment variable GATEHOUSE_LOG_LEVEL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"GATEHOUSE_DATA_DIR": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, env, tc.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", r.err, tc.want)
			}
		})
	}
	// None of the failures created a tenant.
	store, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ts, err := store.ListTenants(context.Background()); err != nil || len(ts) != 0 {
		t.Errorf("tenants after failures: %v, %v; want none", ts, err)
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			args := append(strings.Fields(cmd.name), "-h")
			r := runCLI(t, nil, args...)
			if r.err != nil {
				t.Fatalf("%s -h: %v", cmd.name, r.err)
			}
			h := runCLI(t, nil, append([]string{"help"}, strings.Fields(cmd.name)...)...)
			if h.err != nil {
				t.Fatalf("help %s: %v", cmd.name, h.err)
			}
			if h.stdout != r.stderr {
				t.Errorf("'help %s' and '%s -h' differ:\n%s\n---\n%s", cmd.name, cmd.name, h.stdout, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "Usage: gatehouse "+cmd.name) {
				t.Errorf("help does not start with the usage line:\n%s", r.stderr)
			}
			for _, o := range cmd.options {
				if !strings.Contains(r.stderr, "--"+o.name) {
					t.Errorf("help does not mention --%s", o.name)
				}
				if o.env != "" && !strings.Contains(r.stderr, o.env) {
					t.Errorf("help does not mention %s", o.env)
				}
			}
		})
	}
	r := runCLI(t, nil, "serve", "--help")
	for _, want := range []string{"GATEHOUSE_ADDR", "GATEHOUSE_PUBLIC_URL", "GATEHOUSE_DATA_DIR", "GATEHOUSE_DATABASE_URL", "GATEHOUSE_SMTP_URL", "GATEHOUSE_MAIL_FROM", "GATEHOUSE_DEV_MAILBOX", "GATEHOUSE_TRUSTED_PROXIES", "GATEHOUSE_PASSWORD_MIN_LENGTH", "/dev/mailbox"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}

	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := runCLI(t, nil, args...)
		if r.err != nil {
			t.Errorf("%v: %v", args, r.err)
		}
		for _, want := range []string{"serve", "tenant create NAME", "tenant rotate-keys NAME", "migrate", "version", "help"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v does not list %q:\n%s", args, want, r.stdout)
			}
		}
	}
	for _, args := range [][]string{{"help", "-h"}, {"help", "help"}} {
		if r := runCLI(t, nil, args...); r.err != nil || !strings.Contains(r.stdout, "Usage: gatehouse help [COMMAND]") {
			t.Errorf("%v: err %v, output %q; want help's own usage", args, r.err, r.stdout)
		}
	}
	for _, args := range [][]string{{"tenant", "-h"}, {"help", "tenant"}} {
		r := runCLI(t, nil, args...)
		if r.err != nil || !strings.Contains(r.stdout+r.stderr, "rotate-keys") {
			t.Errorf("%v: err %v, output %q; want the tenant subcommands", args, r.err, r.stdout+r.stderr)
		}
	}
}

// TestHelpNamesNoRequirementCodes checks that no help text shows the
// internal requirement codes of SECURITY.md ("LD-1", "PW-12"), which users
// do not know; code comments and docs keep them.
func TestHelpNamesNoRequirementCodes(t *testing.T) {
	code := regexp.MustCompile(`\b(PW|RL|EO|TOTP|RC|WA|LC|SE|AS|OP|TK|FE|LOG|LD|FT)-[0-9]+\b`)
	invocations := [][]string{{"help"}, {"tenant", "-h"}}
	for _, cmd := range commands() {
		invocations = append(invocations, append(strings.Fields(cmd.name), "-h"))
	}
	for _, args := range invocations {
		r := runCLI(t, nil, args...)
		if m := code.FindAllString(r.stdout+r.stderr, -1); len(m) > 0 {
			t.Errorf("gatehouse %s shows the requirement codes %q", strings.Join(args, " "), m)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"no command given", "serve"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "serve", "tenant create", "migrate"}},
		{[]string{"tenant"}, []string{"subcommand is required", "create", "rotate-keys"}},
		{[]string{"tenant", "delete", "acme"}, []string{`unknown subcommand "delete"`}},
		{[]string{"serve", "--bogus"}, []string{"flag provided but not defined", "bogus", "gatehouse serve -h"}},
		{[]string{"serve", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"migrate", "--addr", ":1"}, []string{"flag provided but not defined", "addr"}},
		{[]string{"serve", "--addr", "8080"}, []string{"not HOST:PORT"}},
		{[]string{"serve", "--log-format", "xml"}, []string{"--log-format"}},
		{[]string{"serve", "--hash-workers", "0"}, []string{"--hash-workers", "from 1 to 1024"}},
		{[]string{"serve", "--hash-workers", "many"}, []string{"--hash-workers"}},
		{[]string{"serve", "--hash-processes=maybe"}, []string{"hash-processes", `"maybe"`}},
		{[]string{"serve", "--hash-nice", "20"}, []string{"--hash-nice", `"20"`, "from 0 to 19"}},
		{[]string{"serve", "--hash-nice", "-1"}, []string{"--hash-nice", "from 0 to 19"}},
		{[]string{"serve", "--password-min-length", "7"}, []string{"--password-min-length", `"7"`, "from 8 to 64"}},
		{[]string{"serve", "--password-min-length", "65"}, []string{"--password-min-length", "from 8 to 64"}},
		{[]string{"serve", "--smtp-url", "http://mail.example.com"}, []string{"smtp://"}},
		{[]string{"serve", "--smtp-url", "smtp://u:hunter2@mail.example.com:587"}, []string{"--mail-from is required"}},
		{[]string{"help", "frobnicate"}, []string{"unknown command"}},
		{[]string{"version", "now"}, []string{"unexpected argument"}},
	} {
		r := runCLI(t, nil, tc.args...)
		for _, want := range tc.want {
			if r.err == nil || !strings.Contains(r.err.Error(), want) {
				t.Errorf("%v: err = %v, want it to contain %q", tc.args, r.err, want)
			}
		}
		if r.err != nil && strings.Contains(r.err.Error(), "hunter2") {
			t.Errorf("%v: the error shows the SMTP password: %v", tc.args, r.err)
		}
	}
}

func TestDatabaseURLNeedsKey(t *testing.T) {
	const want = "--encryption-key or --encryption-key-file is required with --database-url"
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"serve", "--database-url", "postgres://u:secret@db.invalid/x"}, nil},
		{[]string{"tenant", "create", "acme", "--admin-email", "a@example.com"}, map[string]string{"GATEHOUSE_DATABASE_URL": "postgres://u:secret@db.invalid/x"}},
		{[]string{"tenant", "rotate-keys", "acme", "--database-url", "postgresql://db.invalid/x"}, nil},
	} {
		r := runCLI(t, tc.env, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), want) || !strings.Contains(r.err.Error(), "openssl rand -base64 32") {
			t.Errorf("%v: err = %v, want %q", tc.args, r.err, want)
		}
		if r.err != nil && strings.Contains(r.err.Error(), "secret") {
			t.Errorf("%v: the error shows the database password: %v", tc.args, r.err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--database-url", "mysql://db/x", "--encryption-key", testKey()}, "postgres://"},
		{[]string{"serve", "--database-url", "postgres://db/x", "--encryption-key", testKey(), "--data-dir", "d"}, "exclude each other"},
		{[]string{"serve", "--encryption-key", testKey(), "--encryption-key-file", "k"}, "exclude each other"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to contain %q", tc.args, r.err, tc.want)
		}
	}
}

func testKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

func TestEncryptionKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key")

	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir, "--encryption-key-file", keyPath)
	if r.err == nil || !strings.Contains(r.err.Error(), "does not exist") {
		t.Errorf("missing key file: err = %v, want it to say the file does not exist", r.err)
	}

	if err := os.WriteFile(keyPath, []byte(testKey()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir, "--encryption-key-file", keyPath)
	if r.err == nil || !strings.Contains(r.err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: err = %v, want it refused", r.err)
	}

	os.Chmod(keyPath, 0o600)
	r = runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir, "--encryption-key-file", keyPath)
	if r.err != nil {
		t.Fatalf("tenant create with a key file: %v", r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "encryption.key")); err == nil {
		t.Error("encryption.key was created although a key file was given")
	}
	r = runCLI(t, nil, "tenant", "rotate-keys", "acme", "--data-dir", dir, "--encryption-key", "bm90IGEga2V5")
	if r.err == nil || !strings.Contains(r.err.Error(), "32") {
		t.Errorf("short --encryption-key: err = %v, want it refused", r.err)
	}
}

func TestLostKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir); r.err != nil {
		t.Fatal(r.err)
	}
	if err := os.Remove(filepath.Join(dir, "encryption.key")); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "tenant", "create", "beta", "--admin-email", "a@example.com", "--data-dir", dir)
	if r.err == nil || !strings.Contains(r.err.Error(), "restore the file from a backup") {
		t.Errorf("err = %v, want a refusal to replace the lost key", r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "encryption.key")); err == nil {
		t.Error("a new encryption.key was created over a database that needs the old one")
	}
}

func TestMigrateTwice(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		r := runCLI(t, nil, "migrate", "--data-dir", dir)
		if r.err != nil {
			t.Fatalf("migrate #%d: %v\nstderr: %s", i+1, r.err, r.stderr)
		}
		if !strings.Contains(r.stdout, "up to date") {
			t.Errorf("migrate #%d printed %q", i+1, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "encryption.key")); err == nil {
		t.Error("migrate created an encryption key; it needs none")
	}
}

func TestRotateKeys(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir); r.err != nil {
		t.Fatal(r.err)
	}
	before := signingKeys(t, dir, "acme")
	r := runCLI(t, nil, "tenant", "rotate-keys", "acme", "--data-dir", dir)
	if r.err != nil {
		t.Fatalf("rotate-keys: %v\nstderr: %s", r.err, r.stderr)
	}
	after := signingKeys(t, dir, "acme")
	active := map[string]string{}
	for _, k := range after {
		if k.Active() {
			active[k.Algorithm] = k.ID
		}
	}
	for _, k := range before {
		if active[k.Algorithm] == k.ID {
			t.Errorf("%s key %s is still the active one after rotation", k.Algorithm, k.ID)
		}
	}
	if len(active) != len(gatehouse.SigningAlgorithms) || len(after) != 2*len(before) {
		t.Errorf("after rotation: %d keys, active %v; before: %d keys", len(after), active, len(before))
	}

	if got := auditActivities(t, dir, "acme")["Rotate signing keys"]; got != 1 {
		t.Errorf("%d audit entries for the rotation, want 1", got)
	}

	r = runCLI(t, nil, "tenant", "rotate-keys", "nosuch", "--data-dir", dir)
	if r.err == nil || !strings.Contains(r.err.Error(), `tenant "nosuch" does not exist`) {
		t.Errorf("rotate-keys of an unknown tenant: err = %v", r.err)
	}
}

func auditActivities(t *testing.T, dir, tenant string) map[string]int {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tn, err := store.TenantByName(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := store.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Top: gatehouse.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		out[e.Activity]++
	}
	return out
}

func signingKeys(t *testing.T, dir, tenant string) []*gatehouse.SigningKey {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tn, err := store.TenantByName(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.SigningKeys(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, nil, args...)
		if r.err != nil || !strings.HasPrefix(r.stdout, "gatehouse ") {
			t.Errorf("%v: err %v, output %q", args, r.err, r.stdout)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs gatehouse serve on a free port until the test ends and
// returns its base URL once /healthz answers.
func startServe(t *testing.T, env map[string]string, args ...string) (baseURL string, logs *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	done := make(chan error, 1)
	args = append([]string{"gatehouse", "serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	go func() { done <- run(ctx, args, mapenv(env), strings.NewReader(""), io.Discard, logs) }()
	var (
		once    sync.Once
		stopErr error
	)
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = errors.New("serve did not return within 20 s of cancellation")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })

	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for baseURL == "" {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log its address within 30 s; logs:\n%s", logs.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned early: %v; logs:\n%s", err, logs.String())
		case <-tick.C:
		}
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				baseURL = "http://" + rec.Addr
			}
		}
	}
	for {
		res, err := http.Get(baseURL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return baseURL, logs, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 within 30 s (last: %v); logs:\n%s", err, logs.String())
		}
		<-tick.C
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	base, logs, stop := startServe(t, map[string]string{"GATEHOUSE_DATA_DIR": dir})

	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"go_goroutines", "process_", "gatehouse_http_requests_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	res, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", res.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, want := range []string{"email delivery is not configured", `"msg":"listening"`, `"msg":"stopped"`, `"public_url":"` + base + `"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestServeTenantDiscovery(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", dir, "--public-url", "https://id.example.com", "--json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	base, _, _ := startServe(t, nil, "--data-dir", dir, "--public-url", "https://id.example.com")
	res, err := http.Get(base + "/acme/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("discovery (status %d): %v", res.StatusCode, err)
	}
	if got, want := doc.Issuer, "https://id.example.com/acme/v2.0"; got != want {
		t.Errorf("issuer = %q, want %q (from --public-url, not the Host header)", got, want)
	}
}

func TestServeAddressInUse(t *testing.T) {
	dir := t.TempDir()
	base, _, _ := startServe(t, nil, "--data-dir", dir)
	addr := strings.TrimPrefix(base, "http://")
	r := runCLI(t, nil, "serve", "--addr", addr, "--data-dir", t.TempDir())
	if r.err == nil || !strings.Contains(r.err.Error(), "listen") {
		t.Errorf("serve on a busy address: err = %v, want a listen error", r.err)
	}
}

// TestPostgreSQL runs the storage commands and the server against
// PostgreSQL when GATEHOUSE_TEST_DATABASE_URL names a database.
func TestPostgreSQL(t *testing.T) {
	dbURL := storetest.PostgresURL(t) // a fresh schema, dropped at the end
	env := map[string]string{"GATEHOUSE_DATABASE_URL": dbURL, "GATEHOUSE_ENCRYPTION_KEY": testKey()}
	// migrate decrypts nothing, so it needs no key.
	for i := range 2 {
		if r := runCLI(t, map[string]string{"GATEHOUSE_DATABASE_URL": dbURL}, "migrate"); r.err != nil {
			t.Fatalf("migrate #%d: %v", i+1, r.err)
		}
	}
	r := runCLI(t, env, "tenant", "create", "acme", "--admin-email", "a@example.com", "--json")
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}
	var out tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Tenant != "acme" || out.AutomationClient.ClientSecret == "" {
		t.Errorf("output = %+v", out)
	}
	if r := runCLI(t, env, "tenant", "create", "acme", "--admin-email", "a@example.com"); r.err == nil || !strings.Contains(r.err.Error(), "already exists") {
		t.Errorf("duplicate: err = %v", r.err)
	}
	if r := runCLI(t, env, "tenant", "rotate-keys", "acme"); r.err != nil {
		t.Errorf("rotate-keys: %v", r.err)
	}
	base, _, stop := startServe(t, env)
	res, err := http.Get(base + "/acme/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("discovery = %d, want 200", res.StatusCode)
	}
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		warn     bool
		err      string
	}{
		{in: "https://id.example.com", want: "https://id.example.com"},
		{in: "https://id.example.com/", want: "https://id.example.com"},
		{in: "https://id.example.com:8443", want: "https://id.example.com:8443"},
		{in: "http://localhost:8080", want: "http://localhost:8080"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{in: "http://id.example.com", want: "http://id.example.com", warn: true},
		{in: "id.example.com", err: "not an absolute URL"},
		{in: "/acme", err: "not an absolute URL"},
		{in: "ftp://id.example.com", err: "must use https"},
		{in: "https://id.example.com/gatehouse", err: "has a path"},
		{in: "https://id.example.com?x", err: "query"},
		{in: "https://id.example.com#x", err: "fragment"},
		{in: "https://user:pw@id.example.com", err: "user info"},
		{in: "https://id.example.com:99999", err: "invalid port"},
	} {
		got, warn, err := parsePublicURL(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parsePublicURL(%q) error = %v, want it to contain %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("parsePublicURL(%q): %v", tc.in, err)
		case got != tc.want || (warn != "") != tc.warn:
			t.Errorf("parsePublicURL(%q) = %q, warning %q; want %q, warning %v", tc.in, got, warn, tc.want, tc.warn)
		}
	}
}

func TestDerivePublicURL(t *testing.T) {
	for addr, want := range map[string]string{
		"localhost:8080":  "http://localhost:8080",
		":8080":           "http://localhost:8080",
		"0.0.0.0:9000":    "http://localhost:9000",
		"[::]:9000":       "http://localhost:9000",
		"127.0.0.1:41234": "http://127.0.0.1:41234",
		"[::1]:8080":      "http://[::1]:8080",
		"10.1.2.3:80":     "http://10.1.2.3:80",
	} {
		if got := derivePublicURL(addr); got != want {
			t.Errorf("derivePublicURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestPublicURLWarning(t *testing.T) {
	r := runCLI(t, nil, "tenant", "create", "acme", "--admin-email", "a@example.com", "--data-dir", t.TempDir(), "--public-url", "http://id.example.com")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stderr, "plain http") {
		t.Errorf("no warning about plain http on a public host; stderr:\n%s", r.stderr)
	}
}

func TestHashWorkers(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	for _, tc := range []struct{ set, want int }{
		{0, max(1, cores-1)},
		{1, 1},
		{7, 7},
	} {
		if got := hashWorkers(tc.set); got != tc.want {
			t.Errorf("hashWorkers(%d) = %d, want %d (with %d cores)", tc.set, got, tc.want, cores)
		}
	}
}
