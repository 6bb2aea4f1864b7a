package sqlstore_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
)

// TestMigrationGivesTenantsTheAdminPortal: migration 0018 registers the
// built-in admin portal in every tenant that lacks it, once, as a public
// client holding the admin API's delegated permission.
func TestMigrationGivesTenantsTheAdminPortal(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			s := eng.Open(t)
			// A tenant created before the portal existed: none of its apps
			// is the portal.
			tn := &gatehouse.Tenant{Name: "old", DisplayName: "old"}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateTenant(ctx, tn) }); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplicationByAppID(ctx, tn.ID, gatehouse.AdminPortalAppID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Fatalf("before the migration: %v, want ENOTFOUND", err)
			}
			for range 2 { // applied again, it adds nothing
				if err := s.ExecRaw(ctx, "DELETE FROM schema_migrations WHERE version = 18"); err != nil {
					t.Fatal(err)
				}
				if err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			app, err := s.ApplicationByAppID(ctx, tn.ID, gatehouse.AdminPortalAppID)
			if err != nil {
				t.Fatalf("after the migration: %v", err)
			}
			if !app.IsFallbackPublicClient || !app.AdminAPIDelegated || app.AdminAPIDelegatedSince.IsZero() || app.ID == "" || len(app.WebRedirectURIs) != 0 {
				t.Errorf("migrated portal = %+v", app)
			}
			apps, _, err := s.ListApplications(ctx, tn.ID, gatehouse.ListOptions{})
			if err != nil || len(apps) != 1 {
				t.Errorf("%d apps (%v), want the one portal", len(apps), err)
			}
		})
	}
}
