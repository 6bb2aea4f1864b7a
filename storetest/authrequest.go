package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// fullAuthRequest returns an authorization request of the tenant with
// every field set.
func fullAuthRequest(tenantID string) *gatehouse.AuthRequest {
	return &gatehouse.AuthRequest{
		TenantID:            tenantID,
		BrowserBinding:      "b1946ac92492d2347c6235b4d2611184",
		ClientID:            "11111111-1111-1111-1111-111111111111",
		RedirectURI:         "https://app.example.com/callback?x='1'",
		ResponseMode:        "form_post",
		Scope:               "openid profile offline_access",
		State:               `af0ifjsldkj"?`,
		Nonce:               "n-0S6_WzA2Mj",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              "login consent",
		MaxAge:              -1,
		LoginHint:           "ada@example.com",
		ACRValues:           "urn:gatehouse:acr:mfa",
		UILocales:           "fr-CA fr en",
		Step:                "signup-details",
		Mail:                "ada@example.com",
		Verified:            true,
		Values:              map[string]string{"givenName": "Ada", "city": "Zürich ✓", "loyaltyNumber": "42"},
		UserID:              "user-1",
		Methods:             []gatehouse.MethodUse{{Method: gatehouse.MethodEmail, At: oddTime(1)}},
		Claims:              `{"id_token":{"acr":{"essential":true,"values":["2"]}}}`,
		Purpose:             gatehouse.PurposeAccount,
		ReturnTo:            "/contoso/account/security",
		Register:            gatehouse.MethodSoftwareOath,
		SessionID:           "5e55104",
		Progress: gatehouse.SignInProgress{
			Pending:  &gatehouse.UserMethod{Method: gatehouse.MethodSoftwareOath, TOTP: &gatehouse.TOTPSecret{Sealed: []byte{1, 2, 3}}},
			WebAuthn: []byte(`{"challenge":"abc"}`),
			Phone:    "+41446681800",
		},
		ExpiresAt: oddTime(2),
	}
}

func testAuthRequests(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")

	c := startClock()
	r := fullAuthRequest(tn.ID)
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateAuthRequest(ctx, r) })
	if r.ID == "" {
		t.Fatal("CreateAuthRequest left ID empty")
	}
	c.check(t, "CreatedAt", r.CreatedAt)
	want := *r
	want.ExpiresAt = micro(r.ExpiresAt)

	t.Run("ReadBack", func(t *testing.T) {
		// Expired requests are still read: the caller checks ExpiresAt.
		got, err := s.AuthRequest(ctx, tn.ID, r.ID)
		if err != nil {
			t.Fatalf("AuthRequest: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("AuthRequest mismatch (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "ExpiresAt", got.ExpiresAt)
	})

	t.Run("ZeroValues", func(t *testing.T) {
		z := &gatehouse.AuthRequest{TenantID: tn.ID, ClientID: "app", Values: map[string]string{}, Methods: []gatehouse.MethodUse{}}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateAuthRequest(ctx, z) })
		got, err := s.AuthRequest(ctx, tn.ID, z.ID)
		if err != nil {
			t.Fatalf("AuthRequest: %v", err)
		}
		w := *z
		w.Values, w.Methods = nil, nil
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("AuthRequest mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.AuthRequest(ctx, tn.ID, "no-such-request")
		wantCode(t, "AuthRequest", err, gatehouse.ENOTFOUND, "no-such-request")
		_, err = s.AuthRequest(ctx, other.ID, r.ID)
		wantCode(t, "AuthRequest(other tenant)", err, gatehouse.ENOTFOUND, r.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateAuthRequest(ctx, other.ID, r.ID, func(r *gatehouse.AuthRequest) error {
				r.UserID = "hijacked"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateAuthRequest(other tenant)", err, gatehouse.ENOTFOUND, r.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAuthRequest(ctx, other.ID, r.ID) })
		wantCode(t, "DeleteAuthRequest(other tenant)", err, gatehouse.ENOTFOUND, r.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAuthRequest(ctx, tn.ID, "no-such-request") })
		wantCode(t, "DeleteAuthRequest", err, gatehouse.ENOTFOUND, "no-such-request")
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{TenantID: "no-such-tenant"})
		})
		wantCode(t, "CreateAuthRequest in a missing tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: r.ID, TenantID: tn.ID})
		})
		wantCode(t, "CreateAuthRequest with a taken ID", err, gatehouse.ECONFLICT, r.ID)
		got, err := s.AuthRequest(ctx, tn.ID, r.ID)
		if err != nil {
			t.Fatalf("AuthRequest: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("request changed through another tenant (-want +got):\n%s", diff)
		}
	})

	t.Run("Update", func(t *testing.T) {
		var got *gatehouse.AuthRequest
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateAuthRequest(ctx, tn.ID, r.ID, func(r *gatehouse.AuthRequest) error {
				r.Step = "done"
				r.Values["surname"] = "Lovelace"
				delete(r.Values, "city")
				r.UserID = "user-2"
				r.Methods = append(r.Methods, gatehouse.MethodUse{Method: gatehouse.MethodSoftwareOath, MethodID: "m1", At: oddTime(5)})
				r.Progress = gatehouse.SignInProgress{}
				r.Claims, r.SessionID = "", ""
				r.Verified = false
				r.MaxAge = 3600
				r.ExpiresAt = oddTime(6)
				r.ID, r.TenantID, r.CreatedAt = "x", other.ID, oddTime(7) // cannot change
				return nil
			})
			return err
		})
		w := want
		w.Step, w.UserID, w.Verified, w.MaxAge = "done", "user-2", false, 3600
		w.Values = map[string]string{"givenName": "Ada", "loyaltyNumber": "42", "surname": "Lovelace"}
		w.ExpiresAt = micro(oddTime(6))
		w.Methods = []gatehouse.MethodUse{{Method: gatehouse.MethodEmail, At: oddTime(1)}, {Method: gatehouse.MethodSoftwareOath, MethodID: "m1", At: oddTime(5)}}
		w.Progress, w.Claims, w.SessionID = gatehouse.SignInProgress{}, "", ""
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("UpdateAuthRequest returned (-want +got):\n%s", diff)
		}
		read, err := s.AuthRequest(ctx, tn.ID, r.ID)
		if err != nil {
			t.Fatalf("AuthRequest: %v", err)
		}
		if diff := cmp.Diff(&w, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		want = w
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateAuthRequest(ctx, tn.ID, r.ID, func(r *gatehouse.AuthRequest) error {
				r.Step = "changed"
				r.Values["givenName"] = "changed"
				r.Methods[0].Method = "changed"
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateAuthRequest returned %v, want the updater's error", err)
			}
			return nil
		})
		got, err := s.AuthRequest(ctx, tn.ID, r.ID)
		if err != nil {
			t.Fatalf("AuthRequest: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAuthRequest(ctx, tn.ID, r.ID) })
		_, err := s.AuthRequest(ctx, tn.ID, r.ID)
		wantCode(t, "AuthRequest after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAuthRequest(ctx, tn.ID, r.ID) })
		wantCode(t, "DeleteAuthRequest again", err, gatehouse.ENOTFOUND)
	})
}

// testSignInRollsBack checks that nothing the sign-in methods wrote stays
// when the transaction fails.
func testSignInRollsBack(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	newApplication(t, s, tn.ID, "app-1")
	now := time.Now()
	window := time.Hour
	update(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.Hit(ctx, tn.ID, "k", window, now)
		return err
	})
	err := updateErr(t, s, func(tx gatehouse.Tx) error {
		for _, f := range []func() error{
			func() error {
				return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{ID: "flow", TenantID: tn.ID, DisplayName: "F", AppIDs: []string{"app-1"}})
			},
			func() error {
				return tx.CreateSession(ctx, &gatehouse.Session{ID: "session", TenantID: tn.ID, UserID: ada.ID})
			},
			func() error {
				return tx.CreateGrant(ctx, &gatehouse.Grant{ID: "grant", TenantID: tn.ID, UserID: ada.ID, ClientID: "app-1"})
			},
			func() error {
				return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{TenantID: tn.ID, Purpose: gatehouse.CodeSignIn, Binding: "b"})
			},
			func() error { return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: "request", TenantID: tn.ID}) },
			func() error { _, err := tx.Hit(ctx, tn.ID, "k", window, now); return err },
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return errUpdater
	})
	if !errors.Is(err, errUpdater) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	for what, err := range map[string]error{
		"UserFlow":    func() error { _, err := s.UserFlow(ctx, tn.ID, "flow"); return err }(),
		"UserFlowApp": func() error { _, err := s.UserFlowByAppID(ctx, tn.ID, "app-1"); return err }(),
		"Session":     func() error { _, err := s.Session(ctx, tn.ID, "session"); return err }(),
		"Grant":       func() error { _, err := s.Grant(ctx, tn.ID, "grant"); return err }(),
		"EmailCode": func() error {
			_, err := s.ActiveEmailCode(ctx, tn.ID, gatehouse.CodeSignIn, "b")
			return err
		}(),
		"AuthRequest": func() error { _, err := s.AuthRequest(ctx, tn.ID, "request"); return err }(),
	} {
		wantCode(t, what+" created in a rolled back Update", err, gatehouse.ENOTFOUND)
	}
	var n int
	update(t, s, func(tx gatehouse.Tx) error {
		var err error
		n, err = tx.Hit(ctx, tn.ID, "k", window, now)
		return err
	})
	if n != 2 {
		t.Errorf("Hit after a rolled back Hit = %d, want 2", n)
	}
}
