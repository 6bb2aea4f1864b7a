package storetest

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func testTenants(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	c := startClock()
	contoso := &gatehouse.Tenant{
		Name:         "contoso",
		DisplayName:  "Contoso Ltd. — Ünïcødé",
		Branding:     gatehouse.Branding{LogoURL: "https://cdn.example.com/logo.png", AccentColor: "#0078d4"},
		TokenSigning: gatehouse.TokenSigning{AccessTokenAlg: "ES256", IDTokenAlg: "EdDSA"},
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateTenant(ctx, contoso) })
	if contoso.ID == "" {
		t.Fatal("CreateTenant left ID empty")
	}
	c.check(t, "CreatedAt", contoso.CreatedAt)
	fabrikam := newTenant(t, s, "fabrikam")

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Tenant(ctx, contoso.ID)
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		if diff := cmp.Diff(contoso, got); diff != "" {
			t.Errorf("Tenant mismatch (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "CreatedAt", got.CreatedAt)
		got, err = s.TenantByName(ctx, "contoso")
		if err != nil {
			t.Fatalf("TenantByName: %v", err)
		}
		if diff := cmp.Diff(contoso, got); diff != "" {
			t.Errorf("TenantByName mismatch (-want +got):\n%s", diff)
		}
		all, err := s.ListTenants(ctx)
		if err != nil {
			t.Fatalf("ListTenants: %v", err)
		}
		if diff := cmp.Diff([]*gatehouse.Tenant{contoso, fabrikam}, all); diff != "" {
			t.Errorf("ListTenants mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Tenant(ctx, "no-such-id")
		wantCode(t, "Tenant", err, gatehouse.ENOTFOUND, "no-such-id")
		_, err = s.TenantByName(ctx, "nosuch")
		wantCode(t, "TenantByName", err, gatehouse.ENOTFOUND, "nosuch")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateTenant(ctx, "no-such-id", func(*gatehouse.Tenant) error { return nil })
			return err
		})
		wantCode(t, "UpdateTenant", err, gatehouse.ENOTFOUND, "no-such-id")
	})

	t.Run("Conflict", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateTenant(ctx, &gatehouse.Tenant{Name: "contoso", DisplayName: "Another"})
		})
		wantCode(t, "CreateTenant with a taken name", err, gatehouse.ECONFLICT, `"contoso"`)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateTenant(ctx, &gatehouse.Tenant{ID: contoso.ID, Name: "contoso-two"})
		})
		wantCode(t, "CreateTenant with a taken ID", err, gatehouse.ECONFLICT, contoso.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateTenant(ctx, fabrikam.ID, func(tn *gatehouse.Tenant) error {
				tn.Name = "contoso"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateTenant to a taken name", err, gatehouse.ECONFLICT, `"contoso"`)
		got, err := s.Tenant(ctx, fabrikam.ID)
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		if diff := cmp.Diff(fabrikam, got); diff != "" {
			t.Errorf("tenant changed by a failed update (-want +got):\n%s", diff)
		}
		all, err := s.ListTenants(ctx)
		if err != nil {
			t.Fatalf("ListTenants: %v", err)
		}
		if len(all) != 2 {
			t.Errorf("ListTenants returned %d tenants, want 2", len(all))
		}
	})

	t.Run("Update", func(t *testing.T) {
		var got *gatehouse.Tenant
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateTenant(ctx, fabrikam.ID, func(tn *gatehouse.Tenant) error {
				tn.Name = "fabrikam-eu"
				tn.DisplayName = "Fabrikam Europe"
				tn.Branding.AccentColor = "#ff0000"
				tn.TokenSigning = gatehouse.TokenSigning{AccessTokenAlg: "EdDSA", IDTokenAlg: "ES256"}
				// Neither can change.
				tn.ID = "another-id"
				tn.CreatedAt = oddTime(1)
				return nil
			})
			return err
		})
		want := *fabrikam
		want.Name, want.DisplayName, want.Branding.AccentColor = "fabrikam-eu", "Fabrikam Europe", "#ff0000"
		want.TokenSigning = gatehouse.TokenSigning{AccessTokenAlg: "EdDSA", IDTokenAlg: "ES256"}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateTenant returned (-want +got):\n%s", diff)
		}
		read, err := s.TenantByName(ctx, "fabrikam-eu")
		if err != nil {
			t.Fatalf("TenantByName: %v", err)
		}
		if diff := cmp.Diff(&want, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		_, err = s.TenantByName(ctx, "fabrikam")
		wantCode(t, "TenantByName(old name)", err, gatehouse.ENOTFOUND)
		fabrikam = read
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateTenant(ctx, contoso.ID, func(tn *gatehouse.Tenant) error {
				tn.DisplayName = "changed"
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateTenant returned %v, want the updater's error", err)
			}
			return nil // commit whatever happened
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		got, err := s.Tenant(ctx, contoso.ID)
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		if diff := cmp.Diff(contoso, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})
}
