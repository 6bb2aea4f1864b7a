package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

// newSession creates a session of the user that expires in an hour.
func newSession(t *testing.T, s gatehouse.Store, u *gatehouse.User, id string) *gatehouse.Session {
	t.Helper()
	now := time.Now()
	se := &gatehouse.Session{ID: id, TenantID: u.TenantID, UserID: u.ID, AuthTime: now, AMR: []string{"pwd"}, ExpiresAt: now.Add(time.Hour)}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSession(t.Context(), se) })
	return se
}

// storedSession returns se with its times as the store returns them.
func storedSession(se *gatehouse.Session) *gatehouse.Session {
	out := *se
	out.AuthTime, out.LastSeenAt, out.ExpiresAt = micro(se.AuthTime), micro(se.LastSeenAt), micro(se.ExpiresAt)
	return &out
}

func testSessions(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	ada := newUser(t, s, tn.ID, "ada@example.com")
	bob := newUser(t, s, tn.ID, "bob@example.com")
	theirs := newUser(t, s, other.ID, "ada@example.com")

	const id = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	c := startClock()
	se := &gatehouse.Session{
		ID:         id,
		TenantID:   tn.ID,
		SID:        "3b1f0e6a-1c55-4e53-9d0c-2f1f8e7d6a10",
		UserID:     ada.ID,
		AuthTime:   oddTime(1),
		Methods:    []gatehouse.MethodUse{{Method: gatehouse.MethodPassword, At: oddTime(1)}, {Method: gatehouse.MethodEmail, At: oddTime(2)}},
		AMR:        []string{"pwd", "otp", "mfa"},
		ACR:        "urn:gatehouse:acr:mfa",
		LastSeenAt: oddTime(2),
		ExpiresAt:  oddTime(3),
	}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, se) })
	c.check(t, "CreatedAt", se.CreatedAt)
	want := storedSession(se)

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.Session(ctx, tn.ID, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Session mismatch (-want +got):\n%s", diff)
		}
		for what, tm := range map[string]time.Time{"AuthTime": got.AuthTime, "LastSeenAt": got.LastSeenAt, "ExpiresAt": got.ExpiresAt} {
			checkStoredTime(t, what, tm)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		// No ID, no LastSeenAt, no AMR: the store fills in an ID and
		// LastSeenAt, and the AMR read back as nil.
		bare := &gatehouse.Session{TenantID: tn.ID, UserID: bob.ID, AMR: []string{}}
		c := startClock()
		update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, bare) })
		if bare.ID == "" {
			t.Fatal("CreateSession left ID empty")
		}
		c.check(t, "LastSeenAt", bare.LastSeenAt)
		if !bare.LastSeenAt.Equal(bare.CreatedAt) {
			t.Errorf("LastSeenAt = %v, want CreatedAt %v", bare.LastSeenAt, bare.CreatedAt)
		}
		got, err := s.Session(ctx, tn.ID, bare.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		w := *bare
		w.AMR = nil
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("Session mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Session(ctx, tn.ID, "no-such-session")
		wantCode(t, "Session", err, gatehouse.ENOTFOUND)
		_, err = s.Session(ctx, other.ID, id)
		wantCode(t, "Session(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateSession(ctx, other.ID, id, func(se *gatehouse.Session) error {
				se.ACR = "hijacked"
				return nil
			})
			return err
		})
		wantCode(t, "UpdateSession(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, other.ID, id) })
		wantCode(t, "DeleteSession(other tenant)", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, tn.ID, "no-such-session") })
		wantCode(t, "DeleteSession", err, gatehouse.ENOTFOUND)
		for _, tc := range []struct{ name, tenant, user string }{
			{"MissingUser", tn.ID, "no-such-user"},
			{"OtherTenantsUser", tn.ID, theirs.ID},
			{"MissingTenant", "no-such-tenant", ada.ID},
		} {
			err := updateErr(t, s, func(tx gatehouse.Tx) error {
				return tx.CreateSession(ctx, &gatehouse.Session{TenantID: tc.tenant, UserID: tc.user})
			})
			wantCode(t, "CreateSession "+tc.name, err, gatehouse.ENOTFOUND)
		}
		got, err := s.Session(ctx, tn.ID, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("session changed through another tenant (-want +got):\n%s", diff)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		err := updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSession(ctx, &gatehouse.Session{ID: id, TenantID: tn.ID, UserID: bob.ID})
		})
		wantCode(t, "CreateSession with a taken ID", err, gatehouse.ECONFLICT)
		// Another tenant may have a session with the same ID.
		update(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSession(ctx, &gatehouse.Session{ID: id, TenantID: other.ID, UserID: theirs.ID})
		})
	})

	t.Run("Update", func(t *testing.T) {
		var got *gatehouse.Session
		update(t, s, func(tx gatehouse.Tx) error {
			var err error
			got, err = tx.UpdateSession(ctx, tn.ID, id, func(se *gatehouse.Session) error {
				se.AuthTime = oddTime(10)
				se.AMR = append(se.AMR, "hwk")
				se.Methods = append(se.Methods, gatehouse.MethodUse{Method: gatehouse.MethodFido2, MethodID: "pk", At: oddTime(10), UserVerified: true})
				se.ACR = "urn:gatehouse:acr:phr"
				se.LastSeenAt = oddTime(11)
				se.ExpiresAt = oddTime(12)
				// None of these can change.
				se.ID, se.TenantID, se.UserID, se.CreatedAt = "x", other.ID, bob.ID, oddTime(13)
				return nil
			})
			return err
		})
		w := *want
		w.AuthTime, w.LastSeenAt, w.ExpiresAt = micro(oddTime(10)), micro(oddTime(11)), micro(oddTime(12))
		w.AMR = []string{"pwd", "otp", "mfa", "hwk"}
		w.Methods = append(slices.Clone(w.Methods), gatehouse.MethodUse{Method: gatehouse.MethodFido2, MethodID: "pk", At: oddTime(10), UserVerified: true})
		w.ACR = "urn:gatehouse:acr:phr"
		if diff := cmp.Diff(&w, got); diff != "" {
			t.Errorf("UpdateSession returned (-want +got):\n%s", diff)
		}
		read, err := s.Session(ctx, tn.ID, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(&w, read); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
		want = read
	})

	t.Run("UpdaterErrorAborts", func(t *testing.T) {
		update(t, s, func(tx gatehouse.Tx) error {
			_, err := tx.UpdateSession(ctx, tn.ID, id, func(se *gatehouse.Session) error {
				se.LastSeenAt = time.Now()
				se.AMR[0] = "changed"
				se.Methods[0].Method = "changed"
				return errUpdater
			})
			if !errors.Is(err, errUpdater) {
				t.Errorf("UpdateSession returned %v, want the updater's error", err)
			}
			return nil
		})
		got, err := s.Session(ctx, tn.ID, id)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updater error still wrote (-want +got):\n%s", diff)
		}
	})

	t.Run("DeleteUserSessions", func(t *testing.T) {
		a2 := newSession(t, s, ada, "")
		b1 := newSession(t, s, bob, "")
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteUserSessions(ctx, tn.ID, ada.ID) })
		for _, sid := range []string{id, a2.ID} {
			_, err := s.Session(ctx, tn.ID, sid)
			wantCode(t, "Session of ada after DeleteUserSessions", err, gatehouse.ENOTFOUND)
		}
		if _, err := s.Session(ctx, tn.ID, b1.ID); err != nil {
			t.Errorf("Session of bob after DeleteUserSessions(ada): %v", err)
		}
		if _, err := s.Session(ctx, other.ID, id); err != nil {
			t.Errorf("Session of the other tenant after DeleteUserSessions(ada): %v", err)
		}
		// Nothing left, or no such user: not an error.
		update(t, s, func(tx gatehouse.Tx) error {
			if err := tx.DeleteUserSessions(ctx, tn.ID, ada.ID); err != nil {
				return err
			}
			return tx.DeleteUserSessions(ctx, tn.ID, "no-such-user")
		})
	})

	t.Run("Delete", func(t *testing.T) {
		se := newSession(t, s, bob, "to-delete")
		update(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, tn.ID, se.ID) })
		_, err := s.Session(ctx, tn.ID, se.ID)
		wantCode(t, "Session after delete", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, tn.ID, se.ID) })
		wantCode(t, "DeleteSession again", err, gatehouse.ENOTFOUND)
	})
}
