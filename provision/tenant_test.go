package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const publicURL = "https://id.example.com"

func newDeps(t *testing.T, store gatehouse.Store, now time.Time) provision.Deps {
	t.Helper()
	key := make([]byte, vault.KeySize)
	for i := range key {
		key[i] = byte(i + 1)
	}
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	return provision.Deps{
		Store:     store,
		Keys:      oidc.NewKeys(store, v, clock),
		Vault:     v,
		Passwords: password.NewHasher(password.DefaultParams, 2, 4),
		PublicURL: publicURL,
		Now:       clock,
	}
}

func TestCreateTenant(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			store := e.Open(t)
			now := time.Now().UTC().Truncate(time.Second)
			d := newDeps(t, store, now)

			res, err := provision.CreateTenant(ctx, d, "acme", "Admin@Example.com")
			if err != nil {
				t.Fatalf("CreateTenant: %v", err)
			}

			// The result.
			if got, want := res.Tenant, "acme"; got != want {
				t.Errorf("Tenant = %q, want %q", got, want)
			}
			if got, want := res.Issuer, "https://id.example.com/acme/v2.0"; got != want {
				t.Errorf("Issuer = %q, want %q", got, want)
			}
			if got, want := res.AdminAPI, "https://id.example.com/acme/graph/v1.0"; got != want {
				t.Errorf("AdminAPI = %q, want %q", got, want)
			}
			if got, want := res.AutomationClient.Scope, "https://id.example.com/acme/graph/v1.0/.default"; got != want {
				t.Errorf("Scope = %q, want %q", got, want)
			}
			if got, want := res.Admin.Email, "Admin@Example.com"; got != want {
				t.Errorf("Admin.Email = %q, want %q", got, want)
			}
			if err := (password.Policy{}).Check(res.Admin.Password); err != nil {
				t.Errorf("the admin password fails the password policy: %v", err)
			}
			if _, err := uuid.Parse(res.AutomationClient.ClientID); err != nil {
				t.Errorf("ClientID %q is not a UUID: %v", res.AutomationClient.ClientID, err)
			}
			if len(res.AutomationClient.ClientSecret) < 32 {
				t.Errorf("ClientSecret %q is too short", res.AutomationClient.ClientSecret)
			}

			// The tenant.
			tenant, err := store.TenantByName(ctx, "acme")
			if err != nil {
				t.Fatalf("TenantByName: %v", err)
			}
			if tenant.ID != res.TenantID || tenant.DisplayName != "acme" {
				t.Errorf("tenant = %+v, want ID %q and DisplayName acme", tenant, res.TenantID)
			}

			// The administrator and their role.
			admin, err := store.UserByMail(ctx, tenant.ID, "admin@example.com")
			if err != nil {
				t.Fatalf("UserByMail: %v", err)
			}
			if admin.Mail != "Admin@Example.com" || admin.DisplayName != "Administrator" || !admin.AccountEnabled {
				t.Errorf("admin = %+v, want Mail Admin@Example.com, DisplayName Administrator, enabled", admin)
			}
			ok, _, err := d.Passwords.Verify(ctx, admin.PasswordHash, res.Admin.Password)
			if err != nil || !ok {
				t.Errorf("the printed password does not verify against the stored hash: ok=%v err=%v", ok, err)
			}
			if ok, _, _ := d.Passwords.Verify(ctx, admin.PasswordHash, res.Admin.Password+"x"); ok {
				t.Error("a wrong password verifies")
			}
			ras, _, err := store.ListRoleAssignments(ctx, tenant.ID, gatehouse.ListOptions{Filter: map[string]string{"principalId": admin.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ras) != 1 || ras[0].RoleDefinitionID != gatehouse.RoleGlobalAdministrator || ras[0].DirectoryScopeID != "/" {
				t.Errorf("role assignments of the admin = %+v, want one Global Administrator at /", ras)
			}

			// The automation client.
			app, err := store.ApplicationByAppID(ctx, tenant.ID, res.AutomationClient.ClientID)
			if err != nil {
				t.Fatalf("ApplicationByAppID: %v", err)
			}
			if app.DisplayName != "Gatehouse automation" || app.IsFallbackPublicClient ||
				len(app.WebRedirectURIs)+len(app.SPARedirectURIs)+len(app.PublicClientRedirectURIs) != 0 {
				t.Errorf("app = %+v, want a confidential client without redirect URIs", app)
			}
			if len(app.PasswordCredentials) != 1 {
				t.Fatalf("app has %d password credentials, want 1", len(app.PasswordCredentials))
			}
			cred := app.PasswordCredentials[0]
			if got, want := cred.Hash, oidc.HashClientSecret(d.Vault, res.AutomationClient.ClientSecret); got != want {
				t.Errorf("stored secret hash = %q, want the hash of the printed secret %q", got, want)
			}
			if cred.Hash == oidc.HashClientSecret(d.Vault, res.AutomationClient.ClientSecret+"x") {
				t.Error("a wrong secret has the stored hash")
			}
			if _, err := uuid.Parse(cred.KeyID); err != nil {
				t.Errorf("credential KeyID %q is not a UUID", cred.KeyID)
			}
			if cred.DisplayName != "bootstrap" || cred.Hint == "" || !cred.Start.Equal(now) || !cred.End.IsZero() {
				t.Errorf("credential = %+v, want DisplayName bootstrap, a hint, Start %v, no End", cred, now)
			}
			var granted, all []string
			for _, g := range app.Permissions {
				if _, err := uuid.Parse(g.ID); err != nil {
					t.Errorf("grant ID %q is not a UUID", g.ID)
				}
				granted = append(granted, g.AppRoleID)
			}
			for _, p := range gatehouse.Permissions {
				all = append(all, p.ID)
			}
			slices.Sort(granted)
			slices.Sort(all)
			if diff := cmp.Diff(all, granted); diff != "" {
				t.Errorf("granted permissions differ from every permission (-want +got):\n%s", diff)
			}

			// The admin portal: a public client with the delegated
			// permission, and its address in the result.
			portal, err := store.ApplicationByAppID(ctx, tenant.ID, gatehouse.AdminPortalAppID)
			if err != nil {
				t.Fatalf("the admin portal app: %v", err)
			}
			if !portal.IsFallbackPublicClient || !portal.AdminAPIDelegated || portal.AdminAPIDelegatedSince.IsZero() || len(portal.PasswordCredentials) != 0 {
				t.Errorf("admin portal app = %+v, want a public client holding the delegated permission, without secrets", portal)
			}
			if want := gatehouse.PortalURL(d.PublicURL, "acme"); res.Portal != want {
				t.Errorf("Portal = %q, want %q", res.Portal, want)
			}

			// The signing keys.
			keys, err := store.SigningKeys(ctx, tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			algs := map[string]bool{}
			for _, k := range keys {
				if k.Active() {
					algs[k.Algorithm] = true
				}
			}
			if !algs["RS256"] || !algs["ES256"] {
				t.Errorf("active signing key algorithms = %v, want RS256 and ES256", algs)
			}

			// The audit log: every creation, by the CLI, without secrets.
			entries := allAuditEntries(t, store, tenant.ID)
			activities := map[string]int{}
			for _, e := range entries {
				activities[e.Activity]++
				if e.Actor.DisplayName != "gatehouse tenant create" {
					t.Errorf("audit entry %q has actor %+v, want gatehouse tenant create", e.Activity, e.Actor)
				}
				if e.Result != "success" {
					t.Errorf("audit entry %q has result %q", e.Activity, e.Result)
				}
			}
			for activity, n := range map[string]int{
				"Add tenant":         1,
				"Add user":           1,
				"Add member to role": 1,
				"Add application":    2, // the automation client and the admin portal
				"Add client secret":  1,
				"Add app role assignment to service principal": len(gatehouse.Permissions),
				"Add signing key": len(gatehouse.SigningAlgorithms),
			} {
				if activities[activity] != n {
					t.Errorf("audit log has %d %q entries, want %d (all: %v)", activities[activity], activity, n, activities)
				}
			}
			for _, e := range entries {
				for _, tg := range e.Targets {
					for _, mp := range tg.ModifiedProperties {
						switch strings.ToLower(mp.DisplayName) {
						case "hint", "hash", "secret", "secrettext", "password", "passwordhash":
							t.Errorf("audit entry %q records the property %q", e.Activity, mp.DisplayName)
						}
					}
				}
			}
			b, err := json.Marshal(entries)
			if err != nil {
				t.Fatal(err)
			}
			for what, secret := range map[string]string{
				"client secret":  res.AutomationClient.ClientSecret,
				"secret hash":    cred.Hash,
				"admin password": res.Admin.Password,
				"password hash":  admin.PasswordHash,
			} {
				if strings.Contains(string(b), secret) {
					t.Errorf("the audit log contains the %s", what)
				}
			}
		})
	}
}

func allAuditEntries(t *testing.T, store gatehouse.Reader, tenantID string) []*gatehouse.AuditEntry {
	t.Helper()
	var out []*gatehouse.AuditEntry
	opt := gatehouse.ListOptions{Top: gatehouse.MaxPageSize}
	for {
		page, next, err := store.ListAuditEntries(context.Background(), tenantID, opt)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		opt.After = next
	}
}

func TestCreateTenantJSON(t *testing.T) {
	res := &provision.Result{
		Tenant: "acme", Issuer: "i", AdminAPI: "a", Portal: "p",
		Admin:            provision.Admin{Email: "e", Password: "p"},
		AutomationClient: provision.AutomationClient{ClientID: "c", ClientSecret: "s", Scope: "sc"},
		TenantID:         "id",
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tenant":"acme","issuer":"i","admin_api":"a","portal":"p","admin":{"email":"e","password":"p"},"automation_client":{"client_id":"c","client_secret":"s","scope":"sc"}}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

func TestCreateTenantDuplicate(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			store := e.Open(t)
			d := newDeps(t, store, time.Now())
			first, err := provision.CreateTenant(ctx, d, "acme", "admin@example.com")
			if err != nil {
				t.Fatal(err)
			}
			before := allAuditEntries(t, store, first.TenantID)

			_, err = provision.CreateTenant(ctx, d, "acme", "someone@example.com")
			if got, want := gatehouse.ErrorCode(err), gatehouse.ECONFLICT; got != want {
				t.Fatalf("second CreateTenant: code %q (%v), want %q", got, err, want)
			}
			if got, want := gatehouse.ErrorMessage(err), `Tenant "acme" already exists.`; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}

			tenants, err := store.ListTenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(tenants) != 1 {
				t.Errorf("%d tenants after the refused duplicate, want 1", len(tenants))
			}
			if _, err := store.UserByMail(ctx, first.TenantID, "someone@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("the refused duplicate's admin exists (err %v)", err)
			}
			if after := allAuditEntries(t, store, first.TenantID); len(after) != len(before) {
				t.Errorf("audit log has %d entries after the refused duplicate, want %d", len(after), len(before))
			}
			apps, _, err := store.ListApplications(ctx, first.TenantID, gatehouse.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) != 2 {
				t.Errorf("%d applications after the refused duplicate, want 2 (the automation client and the portal)", len(apps))
			}

			// Another name, even with the same admin email, is fine.
			if _, err := provision.CreateTenant(ctx, d, "other", "admin@example.com"); err != nil {
				t.Errorf("CreateTenant(other): %v", err)
			}
		})
	}
}

// failingStore runs transactions whose CreateApplication fails, to show
// that a failure late in CreateTenant leaves nothing behind.
type failingStore struct{ gatehouse.Store }

func (s failingStore) Update(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return s.Store.Update(ctx, func(tx gatehouse.Tx) error { return fn(failingTx{tx}) })
}

type failingTx struct{ gatehouse.Tx }

var errInjected = errors.New("injected failure")

func (failingTx) CreateApplication(context.Context, *gatehouse.Application) error {
	return errInjected
}

func TestCreateTenantAtomic(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			store := e.Open(t)
			d := newDeps(t, failingStore{store}, time.Now())
			if _, err := provision.CreateTenant(ctx, d, "acme", "admin@example.com"); !errors.Is(err, errInjected) {
				t.Fatalf("CreateTenant = %v, want the injected failure", err)
			}
			if _, err := store.TenantByName(ctx, "acme"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("the tenant exists after a failed CreateTenant (err %v)", err)
			}
			tenants, err := store.ListTenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(tenants) != 0 {
				t.Errorf("%d tenants after a failed CreateTenant, want 0", len(tenants))
			}
		})
	}
}

func TestCreateTenantInvalid(t *testing.T) {
	store := storetest.SQLite(t)
	d := newDeps(t, store, time.Now())
	for _, tc := range []struct {
		name, email, field string
	}{
		{"Acme", "admin@example.com", "name"},
		{"a", "admin@example.com", "name"},
		{"healthz", "admin@example.com", "name"},
		{"acme", "", "admin-email"},
		{"acme", "not an address", "admin-email"},
		{"acme", "Admin <admin@example.com>", "admin-email"},
	} {
		_, err := provision.CreateTenant(context.Background(), d, tc.name, tc.email)
		var ge *gatehouse.Error
		if !errors.As(err, &ge) || ge.Code != gatehouse.EINVALID || ge.Field != tc.field {
			t.Errorf("CreateTenant(%q, %q) = %v, want EINVALID about %s", tc.name, tc.email, err, tc.field)
		}
	}
	tenants, err := store.ListTenants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) != 0 {
		t.Errorf("%d tenants after invalid input, want 0", len(tenants))
	}
}

func TestCreateTenantConcurrent(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			store := e.Open(t)
			d := newDeps(t, store, time.Now())
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := provision.CreateTenant(ctx, d, "acme", "admin@example.com")
					errs <- err
				}()
			}
			ok := 0
			for range n {
				err := <-errs
				switch gatehouse.ErrorCode(err) {
				case "":
					ok++
				case gatehouse.ECONFLICT:
				default:
					t.Errorf("concurrent CreateTenant: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent CreateTenant calls succeeded, want 1", ok, n)
			}
		})
	}
}
