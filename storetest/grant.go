package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// newGrant creates a grant of the user to the client from the session
// ("" for none), expiring in a day.
func newGrant(t *testing.T, s gatehouse.Store, u *gatehouse.User, clientID, sessionID string) *gatehouse.Grant {
	t.Helper()
	g := &gatehouse.Grant{TenantID: u.TenantID, UserID: u.ID, ClientID: clientID, SessionID: sessionID, Scope: "openid",
		ExpiresAt: time.Now().Add(24 * time.Hour)}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateGrant(t.Context(), g) })
	return g
}

// newRefreshToken creates a refresh token of the grant that expires at the
// time.
func newRefreshToken(t *testing.T, s gatehouse.Store, g *gatehouse.Grant, id string, expires time.Time) *gatehouse.RefreshToken {
	t.Helper()
	rt := &gatehouse.RefreshToken{ID: id, TenantID: g.TenantID, GrantID: g.ID, ExpiresAt: expires}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateRefreshToken(t.Context(), rt) })
	return rt
}

// useRefreshToken calls UseRefreshToken at now in its own transaction.
func useRefreshToken(t *testing.T, s gatehouse.Store, tenantID, id string, now time.Time) (*gatehouse.RefreshToken, error) {
	var rt *gatehouse.RefreshToken
	err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		var err error
		rt, err = tx.UseRefreshToken(t.Context(), tenantID, id, now)
		return err
	})
	return rt, err
}

// revokedAt returns when the tenant's grant was revoked (zero if not).
func revokedAt(t *testing.T, s gatehouse.Store, tenantID, id string) time.Time {
	t.Helper()
	g, err := s.Grant(t.Context(), tenantID, id)
	if err != nil {
		t.Fatalf("Grant: %v", err)
	}
	return g.RevokedAt
}

func testGrants(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	theirs := newUser(t, s, other.ID, "ada@example.com")
	newApplication(t, s, tn.ID, "app-1")
	newApplication(t, s, other.ID, "app-1")
	newApplication(t, s, other.ID, "theirs-only")

	c := startClock()
	g := &gatehouse.Grant{
		TenantID:  tn.ID,
		UserID:    ada.ID,
		ClientID:  "app-1",
		SessionID: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Scope:     "openid profile email offline_access",
		Nonce:     `n-0S6_WzA2Mj'"?`,
		AuthTime:  oddTime(1),
		AMR:       []string{"pwd", "otp"},
		Methods:   []gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: oddTime(1)}, {Method: gatehouse.MethodSMS, MethodID: "phone-1", At: oddTime(2)}},
		Claims:    `{"userinfo":{"email":null}}`,
		ACR:       "urn:gatehouse:acr:mfa",
		ExpiresAt: oddTime(20),
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateGrant(ctx, g) })
	if g.ID == "" {
		t.Fatal("CreateGrant left ID empty")
	}
	c.check(t, "CreatedAt", g.CreatedAt)
	want := *g
	want.AuthTime, want.ExpiresAt = micro(g.AuthTime), micro(g.ExpiresAt)

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Grant(ctx, tn.ID, g.ID)
		if err != nil {
			t.Fatalf("Grant: %v", err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("Grant mismatch (-want +got):\n%s", diff)
		}
		if got.Revoked() {
			t.Error("a new grant is revoked")
		}
		checkStoredTime(t, "AuthTime", got.AuthTime)
	})

	t.Run("ZeroValues", func(t *testing.T) {
		z := &gatehouse.Grant{TenantID: tn.ID, UserID: bob.ID, ClientID: "app-1", AMR: []string{}}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateGrant(ctx, z) })
		got, err := s.Grant(ctx, tn.ID, z.ID)
		if err != nil {
			t.Fatalf("Grant: %v", err)
		}
		w := *z
		w.AMR = nil
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("Grant mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Grant(ctx, tn.ID, "no-such-grant")
		wantCode(t, "Grant", err, gatehouse.ENOTFOUND, "no-such-grant")
		_, err = s.Grant(ctx, other.ID, g.ID)
		wantCode(t, "Grant(other tenant)", err, gatehouse.ENOTFOUND, g.ID)
		for _, tc := range []struct{ name, tenant, user, client string }{
			{"MissingUser", tn.ID, "no-such-user", "app-1"},
			{"OtherTenantsUser", tn.ID, theirs.ID, "app-1"},
			{"MissingClient", tn.ID, ada.ID, "no-such-app"},
			{"OtherTenantsClient", tn.ID, ada.ID, "theirs-only"},
			{"MissingTenant", "no-such-tenant", ada.ID, "app-1"},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateGrant(ctx, &gatehouse.Grant{TenantID: tc.tenant, UserID: tc.user, ClientID: tc.client})
			})
			wantCode(t, "CreateGrant "+tc.name, err, gatehouse.ENOTFOUND)
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateGrant(ctx, &gatehouse.Grant{ID: g.ID, TenantID: tn.ID, UserID: bob.ID, ClientID: "app-1"})
		})
		wantCode(t, "CreateGrant with a taken ID", err, gatehouse.ECONFLICT, g.ID)
	})

	t.Run("RevokeGrant", func(t *testing.T) {
		first, later := oddTime(5), oddTime(6)
		err := updateErr(t, s, func(tx gatehouse.Tx) error { return tx.RevokeGrant(ctx, other.ID, g.ID, first) })
		wantCode(t, "RevokeGrant(other tenant)", err, gatehouse.ENOTFOUND, g.ID)
		if got := revokedAt(t, s, tn.ID, g.ID); !got.IsZero() {
			t.Errorf("RevokedAt = %v after a revocation through another tenant, want zero", got)
		}
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.RevokeGrant(ctx, tn.ID, "no-such-grant", first) })
		wantCode(t, "RevokeGrant(missing)", err, gatehouse.ENOTFOUND, "no-such-grant")

		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeGrant(ctx, tn.ID, g.ID, first) })
		got, err := s.Grant(ctx, tn.ID, g.ID)
		if err != nil {
			t.Fatalf("Grant: %v", err)
		}
		w := want
		w.RevokedAt = micro(first)
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("Grant after RevokeGrant (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "RevokedAt", got.RevokedAt)
		// Revoking again keeps the first time.
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeGrant(ctx, tn.ID, g.ID, later) })
		if got := revokedAt(t, s, tn.ID, g.ID); !got.Equal(micro(first)) {
			t.Errorf("RevokedAt after a second RevokeGrant = %v, want the first %v", got, micro(first))
		}
	})

	t.Run("RevokeUserGrants", func(t *testing.T) {
		u := newUser(t, s, tn.ID, "carol@example.com")
		revoked := newGrant(t, s, u, "app-1", "")
		live1 := newGrant(t, s, u, "app-1", "s-1")
		live2 := newGrant(t, s, u, "app-1", "")
		bobs := newGrant(t, s, bob, "app-1", "")
		first, now := oddTime(7), oddTime(8)
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeGrant(ctx, tn.ID, revoked.ID, first) })
		// Through another tenant nothing happens.
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeUserGrants(ctx, other.ID, u.ID, now) })
		if got := revokedAt(t, s, tn.ID, live1.ID); !got.IsZero() {
			t.Errorf("RevokedAt = %v after RevokeUserGrants through another tenant, want zero", got)
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeUserGrants(ctx, tn.ID, u.ID, now) })
		for _, tc := range []struct {
			name string
			id   string
			want time.Time
		}{
			{"already revoked", revoked.ID, micro(first)},
			{"live 1", live1.ID, micro(now)},
			{"live 2", live2.ID, micro(now)},
			{"another user's", bobs.ID, time.Time{}},
		} {
			if got := revokedAt(t, s, tn.ID, tc.id); !got.Equal(tc.want) {
				t.Errorf("RevokedAt of the %s grant = %v, want %v", tc.name, got, tc.want)
			}
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeUserGrants(ctx, tn.ID, "no-such-user", now) })
	})

	t.Run("RevokeSessionGrants", func(t *testing.T) {
		u := newUser(t, s, tn.ID, "dave@example.com")
		fromS1 := newGrant(t, s, u, "app-1", "s-1")
		fromS1b := newGrant(t, s, bob, "app-1", "s-1")
		fromS2 := newGrant(t, s, u, "app-1", "s-2")
		noSession := newGrant(t, s, u, "app-1", "")
		now := oddTime(9)
		// The empty session ID names no session.
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeSessionGrants(ctx, tn.ID, "", now) })
		if got := revokedAt(t, s, tn.ID, noSession.ID); !got.IsZero() {
			t.Errorf("RevokeSessionGrants(\"\") revoked a grant without a session at %v", got)
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeSessionGrants(ctx, other.ID, "s-2", now) })
		if got := revokedAt(t, s, tn.ID, fromS2.ID); !got.IsZero() {
			t.Errorf("RevokedAt = %v after RevokeSessionGrants through another tenant, want zero", got)
		}
		update(t, s, func(tx gatehouse.Tx) error { return tx.RevokeSessionGrants(ctx, tn.ID, "s-1", now) })
		for _, tc := range []struct {
			name string
			id   string
			want time.Time
		}{
			{"s-1", fromS1.ID, micro(now)},
			{"s-1 of bob", fromS1b.ID, micro(now)},
			{"s-2", fromS2.ID, time.Time{}},
			{"sessionless", noSession.ID, time.Time{}},
		} {
			if got := revokedAt(t, s, tn.ID, tc.id); !got.Equal(tc.want) {
				t.Errorf("RevokedAt of the %s grant = %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

func testRefreshTokens(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	theirs := newUser(t, s, other.ID, "ada@example.com")
	newApplication(t, s, tn.ID, "app-1")
	newApplication(t, s, other.ID, "app-1")
	g := newGrant(t, s, ada, "app-1", "")
	theirGrant := newGrant(t, s, theirs, "app-1", "")
	now := time.Now()

	t.Run("Use", func(t *testing.T) {
		c := startClock()
		rt := &gatehouse.RefreshToken{ID: "hash-1", TenantID: tn.ID, GrantID: g.ID, ExpiresAt: now.Add(time.Hour)}
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
		c.check(t, "CreatedAt", rt.CreatedAt)
		// Another tenant's token with the same ID is another token.
		newRefreshToken(t, s, theirGrant, "hash-1", now.Add(time.Hour))

		usedAt := now.Add(time.Second)
		got, err := useRefreshToken(t, s, tn.ID, "hash-1", usedAt)
		if err != nil {
			t.Fatalf("UseRefreshToken: %v", err)
		}
		want := *rt
		want.ExpiresAt, want.UsedAt = micro(rt.ExpiresAt), micro(usedAt)
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UseRefreshToken returned (-want +got):\n%s", diff)
		}
		checkStoredTime(t, "UsedAt", got.UsedAt)
		// Every later use is a conflict that still shows the token, even
		// after it expired.
		for _, at := range []time.Time{usedAt, now.Add(time.Minute), now.Add(2 * time.Hour)} {
			got, err := useRefreshToken(t, s, tn.ID, "hash-1", at)
			wantCode(t, "UseRefreshToken again", err, gatehouse.ECONFLICT)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("UseRefreshToken again at %v returned (-want +got):\n%s", at, diff)
			}
		}
		if _, err := useRefreshToken(t, s, other.ID, "hash-1", usedAt); err != nil {
			t.Errorf("UseRefreshToken(another tenant, same ID): %v", err)
		}
	})

	t.Run("ZeroNow", func(t *testing.T) {
		// Without a time the store's clock marks the token used: it does
		// not stay usable.
		newRefreshToken(t, s, g, "hash-zero", now.Add(time.Hour))
		c := startClock()
		got, err := useRefreshToken(t, s, tn.ID, "hash-zero", time.Time{})
		if err != nil {
			t.Fatalf("UseRefreshToken: %v", err)
		}
		c.check(t, "UsedAt", got.UsedAt)
		_, err = useRefreshToken(t, s, tn.ID, "hash-zero", time.Time{})
		wantCode(t, "UseRefreshToken again", err, gatehouse.ECONFLICT)
	})

	t.Run("Expired", func(t *testing.T) {
		newRefreshToken(t, s, g, "hash-expired", now.Add(time.Minute))
		for _, at := range []time.Time{now.Add(time.Minute), now.Add(time.Hour)} { // at ExpiresAt and after
			got, err := useRefreshToken(t, s, tn.ID, "hash-expired", at)
			wantCode(t, "UseRefreshToken(expired)", err, gatehouse.ENOTFOUND)
			if got != nil {
				t.Errorf("UseRefreshToken(expired) returned %+v, want nil", got)
			}
		}
		if _, err := useRefreshToken(t, s, tn.ID, "hash-expired", now); err != nil {
			t.Errorf("UseRefreshToken before expiry: %v", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		newRefreshToken(t, s, g, "hash-2", now.Add(time.Hour))
		for _, tc := range []struct{ name, tenant, id string }{
			{"Missing", tn.ID, "no-such-hash"},
			{"OtherTenant", other.ID, "hash-2"},
		} {
			got, err := useRefreshToken(t, s, tc.tenant, tc.id, now)
			wantCode(t, "UseRefreshToken "+tc.name, err, gatehouse.ENOTFOUND)
			if got != nil {
				t.Errorf("UseRefreshToken %s returned %+v, want nil", tc.name, got)
			}
		}
		if _, err := useRefreshToken(t, s, tn.ID, "hash-2", now); err != nil {
			t.Errorf("UseRefreshToken after failed uses elsewhere: %v", err)
		}
		for _, tc := range []struct{ name, tenant, grant string }{
			{"MissingGrant", tn.ID, "no-such-grant"},
			{"OtherTenantsGrant", tn.ID, theirGrant.ID},
			{"MissingTenant", "no-such-tenant", g.ID},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{TenantID: tc.tenant, GrantID: tc.grant, ExpiresAt: now.Add(time.Hour)})
			})
			wantCode(t, "CreateRefreshToken "+tc.name, err, gatehouse.ENOTFOUND)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		newRefreshToken(t, s, g, "hash-3", now.Add(time.Hour))
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "hash-3", TenantID: tn.ID, GrantID: g.ID, ExpiresAt: now.Add(time.Hour)})
		})
		wantCode(t, "CreateRefreshToken twice", err, gatehouse.ECONFLICT)
		rt := newRefreshToken(t, s, g, "", now.Add(time.Hour))
		if rt.ID == "" {
			t.Error("CreateRefreshToken left ID empty")
		}
	})

	t.Run("RolledBack", func(t *testing.T) {
		newRefreshToken(t, s, g, "hash-4", now.Add(time.Hour))
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			if _, err := tx.UseRefreshToken(ctx, tn.ID, "hash-4", now); err != nil {
				return err
			}
			return errUpdater
		})
		if !errors.Is(err, errUpdater) {
			t.Fatalf("Update: got %v, want fn's error", err)
		}
		if _, err := useRefreshToken(t, s, tn.ID, "hash-4", now); err != nil {
			t.Errorf("UseRefreshToken after a rolled back use: %v", err)
		}
	})
}

// testConcurrentUseRefreshToken checks that of many concurrent uses of one
// refresh token exactly one succeeds, and the others see the token.
func testConcurrentUseRefreshToken(t *testing.T, s gatehouse.Store) {
	tn := newTenant(t, s, "contoso")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	newApplication(t, s, tn.ID, "app-1")
	g := newGrant(t, s, ada, "app-1", "")
	now := time.Now()
	newRefreshToken(t, s, g, "hash", now.Add(time.Hour))
	const n = 20
	type result struct {
		rt  *gatehouse.RefreshToken
		err error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			rt, err := useRefreshToken(t, s, tn.ID, "hash", now)
			results <- result{rt, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var ok, conflicts int
	var winner *gatehouse.RefreshToken
	var losers []*gatehouse.RefreshToken
	for r := range results {
		switch gatehouse.ErrorCode(r.err) {
		case "":
			ok++
			winner = r.rt
		case gatehouse.ECONFLICT:
			conflicts++
			losers = append(losers, r.rt)
		default:
			t.Errorf("UseRefreshToken: %v", r.err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d concurrent uses: %d succeeded and %d conflicted, want 1 and %d", n, ok, conflicts, n-1)
	}
	for _, rt := range losers {
		if diff := cmp.Diff(winner, rt); diff != "" {
			t.Errorf("a conflicting use returned (-winner +got):\n%s", diff)
		}
		if rt.GrantID != g.ID {
			t.Errorf("a conflicting use returned grant %q, want %q", rt.GrantID, g.ID)
		}
	}
}

// testSignInCascades checks that deleting a user ends its sessions and
// grants with their refresh tokens, and that deleting an application ends
// its grants, and nobody else's.
func testSignInCascades(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	newApplication(t, s, tn.ID, "app-1")
	app2 := newApplication(t, s, tn.ID, "app-2")
	now := time.Now()
	adaSession := newSession(t, s, ada, "ada-session")
	bobSession := newSession(t, s, bob, "bob-session")
	adaGrant := newGrant(t, s, ada, "app-1", adaSession.ID)
	bobGrant := newGrant(t, s, bob, "app-1", bobSession.ID)
	bobGrant2 := newGrant(t, s, bob, "app-2", bobSession.ID)
	newRefreshToken(t, s, adaGrant, "ada-token", now.Add(time.Hour))
	newRefreshToken(t, s, bobGrant, "bob-token", now.Add(time.Hour))
	newRefreshToken(t, s, bobGrant2, "bob-token-2", now.Add(time.Hour))

	update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUser(ctx, tn.ID, ada.ID) })
	_, err := s.Session(ctx, tn.ID, adaSession.ID)
	wantCode(t, "Session of a deleted user", err, gatehouse.ENOTFOUND)
	_, err = s.Grant(ctx, tn.ID, adaGrant.ID)
	wantCode(t, "Grant of a deleted user", err, gatehouse.ENOTFOUND)
	_, err = useRefreshToken(t, s, tn.ID, "ada-token", now)
	wantCode(t, "UseRefreshToken of a deleted user", err, gatehouse.ENOTFOUND)

	update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteApplication(ctx, tn.ID, app2.ID) })
	_, err = s.Grant(ctx, tn.ID, bobGrant2.ID)
	wantCode(t, "Grant to a deleted application", err, gatehouse.ENOTFOUND)
	_, err = useRefreshToken(t, s, tn.ID, "bob-token-2", now)
	wantCode(t, "UseRefreshToken of a deleted application", err, gatehouse.ENOTFOUND)

	if _, err := s.Session(ctx, tn.ID, bobSession.ID); err != nil {
		t.Errorf("Session of another user: %v", err)
	}
	if _, err := s.Grant(ctx, tn.ID, bobGrant.ID); err != nil {
		t.Errorf("Grant of another user: %v", err)
	}
	if _, err := useRefreshToken(t, s, tn.ID, "bob-token", now); err != nil {
		t.Errorf("UseRefreshToken of another user: %v", err)
	}

	// A new user with the old ID starts with nothing: the rows are gone,
	// not hidden.
	update(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{ID: ada.ID, TenantID: tn.ID, Mail: "ada@example.com"})
	})
	_, err = s.Session(ctx, tn.ID, adaSession.ID)
	wantCode(t, "Session of a recreated user", err, gatehouse.ENOTFOUND)
	_, err = s.Grant(ctx, tn.ID, adaGrant.ID)
	wantCode(t, "Grant of a recreated user", err, gatehouse.ENOTFOUND)
}
