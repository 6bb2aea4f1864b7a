package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func applicationID(a *gatehouse.Application) string { return a.ID }

// fullApplication returns an application of the tenant with every field
// set.
func fullApplication(tenantID, appID string) *gatehouse.Application {
	return &gatehouse.Application{
		TenantID:                 tenantID,
		AppID:                    appID,
		DisplayName:              "Contoso Web",
		WebRedirectURIs:          []string{"https://app.example.com/callback", "https://app.example.com/cb?x='1'"},
		SPARedirectURIs:          []string{"https://spa.example.com/"},
		PublicClientRedirectURIs: []string{"http://127.0.0.1/callback", "http://localhost:8400/"},
		PostLogoutRedirectURIs:   []string{"https://app.example.com/bye"},
		IsFallbackPublicClient:   true,
		RequirePKCE:              true,
		IDTokenSigningAlg:        "ES256",
		AccessTokenSigningAlg:    "EdDSA",
		PasswordCredentials: []gatehouse.PasswordCredential{
			{KeyID: "k1", DisplayName: "CI", Hint: "abc", Hash: "hmac-sha256:0011", Start: oddTime(1), End: oddTime(28)},
			{KeyID: "k2", Hint: "xyz", Hash: "hmac-sha256:2233", Start: oddTime(2)},
		},
		Permissions: []gatehouse.PermissionGrant{
			{ID: "g1", AppRoleID: gatehouse.PermUserReadAll.ID, CreatedAt: oddTime(3)},
		},
		AdminAPIDelegated:      true,
		AdminAPIDelegatedSince: oddTime(4),
	}
}

// storedApplication returns a as the store returns it: every time in UTC,
// to the microsecond.
func storedApplication(a *gatehouse.Application) *gatehouse.Application {
	b := *a
	b.PasswordCredentials = slices.Clone(a.PasswordCredentials)
	for i := range b.PasswordCredentials {
		c := &b.PasswordCredentials[i]
		c.Start, c.End = micro(c.Start), micro(c.End)
	}
	b.Permissions = slices.Clone(a.Permissions)
	for i := range b.Permissions {
		b.Permissions[i].CreatedAt = micro(b.Permissions[i].CreatedAt)
	}
	b.AdminAPIDelegatedSince = micro(a.AdminAPIDelegatedSince)
	return &b
}

func testApplications(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	c := startClock()
	web := fullApplication(tn.ID, "11111111-1111-1111-1111-111111111111")
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateApplication(ctx, web) })
	if web.ID == "" {
		t.Fatal("CreateApplication left ID empty")
	}
	c.check(t, "CreatedAt", web.CreatedAt)
	c.check(t, "UpdatedAt", web.UpdatedAt)
	want := storedApplication(web)

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Application(ctx, tn.ID, web.ID)
		if err != nil {
			t.Fatalf("Application: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Application mismatch (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "PasswordCredentials[0].Start", got.PasswordCredentials[0].Start)
		checkStoredTime(t, "Permissions[0].CreatedAt", got.Permissions[0].CreatedAt)
		got, err = s.ApplicationByAppID(ctx, tn.ID, web.AppID)
		if err != nil {
			t.Fatalf("ApplicationByAppID: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ApplicationByAppID mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ZeroValues", func(t *testing.T) {
		a := &gatehouse.Application{TenantID: tn.ID, AppID: "bare", DisplayName: "Bare"}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateApplication(ctx, a) })
		got, err := s.Application(ctx, tn.ID, a.ID)
		if err != nil {
			t.Fatalf("Application: %v", err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Application mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("DuplicateAppID", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateApplication(ctx, &gatehouse.Application{TenantID: tn.ID, AppID: web.AppID, DisplayName: "Copy"})
		})
		wantCode(t, "CreateApplication with a taken appId", err, gatehouse.ECONFLICT, web.AppID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateApplication(ctx, &gatehouse.Application{ID: web.ID, TenantID: tn.ID, AppID: "fresh", DisplayName: "Copy"})
		})
		wantCode(t, "CreateApplication with a taken ID", err, gatehouse.ECONFLICT, web.ID)
		// Another tenant may use the same appId.
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateApplication(ctx, &gatehouse.Application{TenantID: other.ID, AppID: web.AppID, DisplayName: "Theirs"})
		})
		apps, _, err := s.ListApplications(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"appId": web.AppID}})
		if err != nil {
			t.Fatalf("ListApplications: %v", err)
		}
		if diff := cmp.Diff([]*gatehouse.Application{want}, apps); diff != "" {
			t.Errorf("ListApplications(appId) (-want +got):\n%s", diff)
		}
	})

	t.Run("Isolation", func(t *testing.T) {
		_, err := s.Application(ctx, other.ID, web.ID)
		wantCode(t, "Application(other tenant)", err, gatehouse.ENOTFOUND)
		theirs, err := s.ApplicationByAppID(ctx, other.ID, web.AppID)
		if err != nil {
			t.Fatalf("ApplicationByAppID(other tenant): %v", err)
		}
		if theirs.ID == web.ID || theirs.DisplayName != "Theirs" {
			t.Errorf("ApplicationByAppID(other tenant) = %+v, want the other tenant's own application", theirs)
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateApplication(ctx, other.ID, web.ID, func(a *gatehouse.Application) error { return nil })
			return err
		})
		wantCode(t, "UpdateApplication(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteApplication(ctx, other.ID, web.ID) })
		wantCode(t, "DeleteApplication(other tenant)", err, gatehouse.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		c := startClock()
		var got *gatehouse.Application
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateApplication(ctx, tn.ID, web.ID, func(a *gatehouse.Application) error {
				a.AppID = "22222222-2222-2222-2222-222222222222"
				a.WebRedirectURIs = append(a.WebRedirectURIs, "https://app.example.com/new")
				a.SPARedirectURIs = nil
				a.RequirePKCE = false
				a.AdminAPIDelegated, a.AdminAPIDelegatedSince = false, time.Time{}
				a.PasswordCredentials = a.PasswordCredentials[1:]
				a.Permissions = append(a.Permissions, gatehouse.PermissionGrant{ID: "g2", AppRoleID: gatehouse.PermAuditLogReadAll.ID, CreatedAt: oddTime(5)})
				a.ID, a.TenantID, a.CreatedAt = "x", "y", oddTime(6) // cannot change
				return nil
			})
			return err
		})
		c.check(t, "UpdatedAt", got.UpdatedAt)
		w := *want
		w.AppID = "22222222-2222-2222-2222-222222222222"
		w.WebRedirectURIs = append(slices.Clone(want.WebRedirectURIs), "https://app.example.com/new")
		w.SPARedirectURIs = nil
		w.RequirePKCE = false
		w.AdminAPIDelegated, w.AdminAPIDelegatedSince = false, time.Time{}
		w.PasswordCredentials = want.PasswordCredentials[1:]
		w.Permissions = append(slices.Clone(want.Permissions), gatehouse.PermissionGrant{ID: "g2", AppRoleID: gatehouse.PermAuditLogReadAll.ID, CreatedAt: micro(oddTime(5))})
		w.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("UpdateApplication returned (-want +got):\n%s", diff)
		}
		read, err := s.ApplicationByAppID(ctx, tn.ID, w.AppID)
		if err != nil {
			t.Fatalf("ApplicationByAppID(new appId): %v", err)
		}
		if diff := cmp.Diff(&w, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		_, err = s.ApplicationByAppID(ctx, tn.ID, web.AppID)
		wantCode(t, "ApplicationByAppID(old appId)", err, gatehouse.ENOTFOUND, web.AppID)
		want = read
	})

	t.Run("UpdateToTakenAppID", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateApplication(ctx, tn.ID, want.ID, func(a *gatehouse.Application) error {
				a.AppID = "bare"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateApplication to a taken appId", err, gatehouse.ECONFLICT, `"bare"`)
		got, err := s.Application(ctx, tn.ID, want.ID)
		if err != nil {
			t.Fatalf("Application: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("changed by a failed update (-want +got):\n%s", diff)
		}
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateApplication(ctx, tn.ID, want.ID, func(a *gatehouse.Application) error {
				a.DisplayName = "changed"
				a.WebRedirectURIs = nil
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateApplication returned %v, want the updater's error", err)
			}
			return nil
		})
		got, err := s.Application(ctx, tn.ID, want.ID)
		if err != nil {
			t.Fatalf("Application: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Application(ctx, tn.ID, "no-such-app")
		wantCode(t, "Application", err, gatehouse.ENOTFOUND, "no-such-app")
		_, err = s.ApplicationByAppID(ctx, tn.ID, "no-such-app-id")
		wantCode(t, "ApplicationByAppID", err, gatehouse.ENOTFOUND, "no-such-app-id")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateApplication(ctx, &gatehouse.Application{TenantID: "no-such-tenant", AppID: "a", DisplayName: "x"})
		})
		wantCode(t, "CreateApplication in a missing tenant", err, gatehouse.ENOTFOUND)
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteApplication(ctx, tn.ID, want.ID) })
		_, err := s.Application(ctx, tn.ID, want.ID)
		wantCode(t, "Application after delete", err, gatehouse.ENOTFOUND)
		_, err = s.ApplicationByAppID(ctx, tn.ID, want.AppID)
		wantCode(t, "ApplicationByAppID after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteApplication(ctx, tn.ID, want.ID) })
		wantCode(t, "DeleteApplication again", err, gatehouse.ENOTFOUND)
	})
}

func testApplicationFilters(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	mk := func(appID, name string) *gatehouse.Application {
		a := &gatehouse.Application{TenantID: tn.ID, AppID: appID, DisplayName: name}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateApplication(ctx, a) })
		return a
	}
	a1 := mk("app-1", "Portal")
	a2 := mk("app-2", "Portal")
	a3 := mk("app-3", "Backend")
	sorted := func(as ...*gatehouse.Application) []string {
		out := ids(as, applicationID)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		filter map[string]string
		want   []string
	}{
		{"AppID", map[string]string{"appId": "app-2"}, sorted(a2)},
		{"DisplayName", map[string]string{"displayName": "Portal"}, sorted(a1, a2)},
		{"Both", map[string]string{"displayName": "Portal", "appId": "app-1"}, sorted(a1)},
		{"None", nil, sorted(a1, a2, a3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps, next, err := s.ListApplications(ctx, tn.ID, gatehouse.ListOptions{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListApplications: %v", err)
			}
			if diff := cmp.Diff(tc.want, ids(apps, applicationID), cmpEmpty); diff != "" || next != "" {
				t.Errorf("next %q, IDs (-want +got):\n%s", next, diff)
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		apps, sizes := allPages(t, 2, func(opt gatehouse.ListOptions) ([]*gatehouse.Application, string, error) {
			return s.ListApplications(ctx, tn.ID, opt)
		})
		if diff := cmp.Diff(sorted(a1, a2, a3), ids(apps, applicationID)); diff != "" {
			t.Errorf("IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
	})
	t.Run("UnknownField", func(t *testing.T) {
		_, _, err := s.ListApplications(ctx, tn.ID, gatehouse.ListOptions{Filter: map[string]string{"publisherDomain": "x"}})
		wantCode(t, "ListApplications filtered on publisherDomain", err, gatehouse.EINVALID, "publisherDomain")
	})
}
