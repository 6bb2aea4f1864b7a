package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2/clientcredentials"
)

// cliDatabase is a database the commands under test share.
type cliDatabase struct {
	// env holds the storage settings that select the database.
	env map[string]string
	// open opens the database for inspection; the store is closed when
	// the test ends.
	open func(t *testing.T) *sqlstore.Store
	// exec runs statements on the database outside the store.
	exec func(t *testing.T, stmts ...string)
}

// forEachDatabase runs test with a new SQLite data directory and, when
// GATEHOUSE_TEST_DATABASE_URL is set, a new PostgreSQL schema.
func forEachDatabase(t *testing.T, test func(t *testing.T, db cliDatabase)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, databaseFile)
		test(t, cliDatabase{
			env:  map[string]string{"GATEHOUSE_DATA_DIR": dir},
			open: opener(sqlstore.OpenSQLite, path),
			exec: func(t *testing.T, stmts ...string) { t.Helper(); execSQL(t, "sqlite", path, stmts) },
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		test(t, cliDatabase{
			env:  map[string]string{"GATEHOUSE_DATABASE_URL": url},
			open: opener(sqlstore.OpenPostgres, url),
			exec: func(t *testing.T, stmts ...string) { t.Helper(); execSQL(t, "pgx", url, stmts) },
		})
	})
}

// opener returns a function that opens the store at dsn for a test and
// closes it when the test ends.
func opener(open func(context.Context, string) (*sqlstore.Store, error), dsn string) func(t *testing.T) *sqlstore.Store {
	return func(t *testing.T) *sqlstore.Store {
		t.Helper()
		s, err := open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// execSQL runs statements on a database through the driver sqlstore
// registered.
func execSQL(t *testing.T, driver, dsn string, stmts []string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// with returns env with the key-value pairs kv added.
func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// runRefused runs a command that must fail at start and returns its
// error. A command that starts instead (serve listens) is stopped at once,
// and the test fails.
func runRefused(t *testing.T, env map[string]string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"gatehouse"}, args...), mapenv(env), strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("%v succeeded, want it refused; stderr:\n%s", args, stderr.String())
			}
			return err
		case <-tick.C:
			if strings.Contains(stderr.String(), "msg=listening") {
				cancel()
				<-done
				t.Fatalf("%v started, want it refused; stderr:\n%s", args, stderr.String())
			}
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("%v neither failed nor started within 30 s; stderr:\n%s", args, stderr.String())
		}
	}
}

// wantWrongKey fails the test unless err is the refusal of a wrong key
// that names where the key came from.
func wantWrongKey(t *testing.T, what string, err error, source string, more ...string) {
	t.Helper()
	for _, want := range append([]string{
		"the encryption key does not match the one this database was set up with",
		"every server of one database must use the same key",
		"this one came from " + source,
		"nothing was changed",
	}, more...) {
		if !strings.Contains(errText(err), want) {
			t.Errorf("%s: error %q does not say %q", what, errText(err), want)
		}
	}
}

// dbState is what the tests compare before and after a refused command.
type dbState struct {
	Tenants  []string
	Keys     []*gatehouse.SigningKey
	Audit    []string
	KeyCheck []byte
	HasCheck bool
}

func readState(t *testing.T, db cliDatabase, tenant string) dbState {
	t.Helper()
	ctx := context.Background()
	s := db.open(t)
	var st dbState
	ts, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range ts {
		st.Tenants = append(st.Tenants, tn.Name)
	}
	tn, err := s.TenantByName(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys, err = s.SigningKeys(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	entries, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{Top: gatehouse.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		st.Audit = append(st.Audit, e.ID+" "+e.Activity)
	}
	c, err := s.KeyCheck(ctx)
	switch gatehouse.ErrorCode(err) {
	case "":
		st.KeyCheck, st.HasCheck = c.Value, true
	case gatehouse.ENOTFOUND:
	default:
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkTenantWorks starts serve with env and checks that the tenant's JWKS
// publishes its active keys and that its automation client gets a token.
func checkTenantWorks(t *testing.T, env map[string]string, db cliDatabase, out tenantJSON) {
	t.Helper()
	var active []string
	for _, k := range readState(t, db, out.Tenant).Keys {
		if k.Active() {
			active = append(active, k.ID)
		}
	}
	base, logs, stop := startServe(t, env)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	getJSON(t, base+"/"+out.Tenant+"/discovery/v2.0/keys", &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	for _, kid := range active {
		if !slices.Contains(kids, kid) {
			t.Errorf("JWKS %v lacks the active key %s", kids, kid)
		}
	}
	cc := clientcredentials.Config{
		ClientID: out.AutomationClient.ClientID, ClientSecret: out.AutomationClient.ClientSecret,
		TokenURL: base + "/" + out.Tenant + "/oauth2/v2.0/token",
		Scopes:   []string{base + "/" + out.Tenant + "/graph/v1.0/.default"},
	}
	if tok, err := cc.Token(context.Background()); err != nil || tok.AccessToken == "" {
		t.Errorf("client credentials token: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	if strings.Contains(logs.String(), "cannot be decrypted") {
		t.Errorf("serve with the right key logged unreadable keys:\n%s", logs.String())
	}
}

// TestWrongKeyRefused is the audit's finding: commands given another
// encryption key than the one the database was set up with are refused
// before they write anything, and the tenant keeps working with the right
// key.
func TestWrongKeyRefused(t *testing.T) { forEachDatabase(t, testWrongKeyRefused) }

func testWrongKeyRefused(t *testing.T, db cliDatabase) {
	right := with(db.env, "GATEHOUSE_ENCRYPTION_KEY", testKey())
	r := runCLI(t, right, "tenant", "create", "acme", "--admin-email", "a@example.com", "--json")
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}
	var out tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	before := readState(t, db, "acme")
	if !before.HasCheck {
		t.Fatal("tenant create stored no key check")
	}

	wrong := testKey()
	wrongFile := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrongFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		source string
	}{
		{"rotate-keys, key in the environment", with(db.env, "GATEHOUSE_ENCRYPTION_KEY", wrong),
			[]string{"tenant", "rotate-keys", "acme"}, "environment variable GATEHOUSE_ENCRYPTION_KEY"},
		{"tenant create, key flag", db.env,
			[]string{"tenant", "create", "beta", "--admin-email", "b@example.com", "--encryption-key", wrong}, "--encryption-key"},
		{"serve, key file", db.env,
			[]string{"serve", "--addr", "127.0.0.1:0", "--encryption-key-file", wrongFile}, "the key file " + wrongFile + " (--encryption-key-file)"},
		{"serve, key file in the environment", with(db.env, "GATEHOUSE_ENCRYPTION_KEY_FILE", wrongFile),
			[]string{"serve", "--addr", "127.0.0.1:0"}, "the key file " + wrongFile + " (environment variable GATEHOUSE_ENCRYPTION_KEY_FILE)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runRefused(t, tc.env, tc.args...)
			wantWrongKey(t, tc.name, err, tc.source)
			if diff := cmp.Diff(before, readState(t, db, "acme")); diff != "" {
				t.Errorf("the refused command changed the database (-before +after):\n%s", diff)
			}
		})
	}

	// With the right key the tenant works, after as many restarts, and a
	// rotation works too.
	checkTenantWorks(t, right, db, out)
	if r := runCLI(t, right, "tenant", "rotate-keys", "acme"); r.err != nil {
		t.Fatalf("rotate-keys with the right key: %v", r.err)
	}
	checkTenantWorks(t, right, db, out)
}

// TestUpgradedDatabaseKeyCheck starts from a database of a version
// without key checks, holding a tenant: the first command with a key
// verifies it against a stored signing key before it stores the check.
func TestUpgradedDatabaseKeyCheck(t *testing.T) { forEachDatabase(t, testUpgradedDatabaseKeyCheck) }

func testUpgradedDatabaseKeyCheck(t *testing.T, db cliDatabase) {
	right := with(db.env, "GATEHOUSE_ENCRYPTION_KEY", testKey())
	r := runCLI(t, right, "tenant", "create", "acme", "--admin-email", "a@example.com", "--json")
	if r.err != nil {
		t.Fatalf("tenant create: %v\nstderr: %s", r.err, r.stderr)
	}
	var out tenantJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	// Undo migration 5, as if the database had been made by the previous
	// version, and upgrade it with migrate, which needs no key and so
	// stores no key check.
	db.exec(t, "DROP TABLE key_check", "DELETE FROM schema_migrations WHERE version = 5")
	if r := runCLI(t, db.env, "migrate"); r.err != nil {
		t.Fatalf("migrate: %v", r.err)
	}
	before := readState(t, db, "acme")
	if before.HasCheck {
		t.Fatal("the key check is still there after the downgrade and migrate")
	}
	oldest := before.Keys[len(before.Keys)-1]

	wrong := with(db.env, "GATEHOUSE_ENCRYPTION_KEY", testKey())
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"tenant", "create", "beta", "--admin-email", "b@example.com"},
		{"tenant", "rotate-keys", "acme"},
	} {
		err := runRefused(t, wrong, args...)
		wantWrongKey(t, args[0], err, "environment variable GATEHOUSE_ENCRYPTION_KEY",
			"it cannot decrypt signing key "+oldest.ID+` of tenant "acme"`)
		if diff := cmp.Diff(before, readState(t, db, "acme")); diff != "" {
			t.Errorf("%v: the refused command changed the database (-before +after):\n%s", args, diff)
		}
	}

	// The right key opens the tenant's key; its check is stored, and from
	// then on a wrong key is refused by the check.
	checkTenantWorks(t, right, db, out)
	after := readState(t, db, "acme")
	if !after.HasCheck {
		t.Fatal("serve with the right key stored no key check")
	}
	err := runRefused(t, wrong, "tenant", "rotate-keys", "acme")
	wantWrongKey(t, "rotate-keys after the check was stored", err, "environment variable GATEHOUSE_ENCRYPTION_KEY")
	if strings.Contains(errText(err), "cannot decrypt signing key") {
		t.Errorf("with a key check stored the refusal still opened a signing key: %v", err)
	}
	if diff := cmp.Diff(after, readState(t, db, "acme")); diff != "" {
		t.Errorf("the refused rotation changed the database (-before +after):\n%s", diff)
	}
}

// TestLostKeyFileWithoutTenantsRefused checks that a data directory whose
// database was set up with a key, but has no tenants yet, does not get a
// new key when its key file is lost.
func TestLostKeyFileWithoutTenantsRefused(t *testing.T) {
	dir := t.TempDir()
	_, _, stop := startServe(t, nil, "--data-dir", dir)
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	keyPath := filepath.Join(dir, keyFile)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	err := runRefused(t, nil, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	if !strings.Contains(errText(err), "the database was set up with it; restore the file from a backup") {
		t.Errorf("err = %v, want a refusal to replace the lost key", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a new encryption.key was created over a database set up with the old one")
	}
}
