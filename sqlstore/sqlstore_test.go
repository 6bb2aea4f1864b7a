package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestConformance(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) gatehouse.Store { return e.Open(t) })
		})
	}
}

// migrations returns the names of the migration files of an engine.
func migrations(t *testing.T, engine string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", engine))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestMigrationsMatch checks that both engines have the same migrations.
func TestMigrationsMatch(t *testing.T) {
	sqlite, postgres := migrations(t, "sqlite"), migrations(t, "postgres")
	if len(sqlite) == 0 {
		t.Fatal("no SQLite migrations")
	}
	if diff := cmp.Diff(sqlite, postgres); diff != "" {
		t.Errorf("migration files (-sqlite +postgres):\n%s", diff)
	}
}

// TestRestart checks that what one store wrote is there after a restart.
func TestRestart(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			tn := &gatehouse.Tenant{Name: "contoso", DisplayName: "Contoso", Branding: gatehouse.Branding{AccentColor: "#123456"}}
			u := &gatehouse.User{Mail: "ada@example.com", DisplayName: "Ada", AccountEnabled: true,
				CustomAttributes: map[string]string{"tier": "gold"}}
			g := &gatehouse.Group{DisplayName: "Staff"}
			a := &gatehouse.Application{AppID: "app-1", DisplayName: "Web", WebRedirectURIs: []string{"https://example.com/cb"}}
			k := &gatehouse.SigningKey{Algorithm: "ES256", PrivateKey: []byte{1, 2, 3}}
			ra := &gatehouse.RoleAssignment{RoleDefinitionID: gatehouse.RoleGlobalAdministrator}
			ae := &gatehouse.AuditEntry{Category: "UserManagement", Activity: "Add user", Targets: []gatehouse.AuditTarget{{ID: "x", Type: "User"}}}
			o := &gatehouse.OneTime{Kind: "code", Key: "hash", Payload: []byte("payload"), ExpiresAt: time.Now().Add(time.Hour)}
			kc := &gatehouse.KeyCheck{Value: []byte{0, 1, 2, 0xff}}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				if err := tx.CreateKeyCheck(ctx, kc); err != nil {
					return err
				}
				u.TenantID, g.TenantID, a.TenantID, k.TenantID, ra.TenantID, ae.TenantID, o.TenantID =
					tn.ID, tn.ID, tn.ID, tn.ID, tn.ID, tn.ID, tn.ID
				for _, err := range []func() error{
					func() error { return tx.CreateUser(ctx, u) },
					func() error { return tx.CreateGroup(ctx, g) },
					func() error { return tx.AddGroupMember(ctx, tn.ID, g.ID, u.ID) },
					func() error { return tx.CreateApplication(ctx, a) },
					func() error { return tx.CreateSigningKey(ctx, k) },
					func() error { ra.PrincipalID = u.ID; return tx.CreateRoleAssignment(ctx, ra) },
					func() error { return tx.CreateAuditEntry(ctx, ae) },
					func() error { return tx.CreateOneTime(ctx, o) },
				} {
					if err := err(); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}

			s = e.Reopen(t, s)

			gotTenant, err := s.Tenant(ctx, tn.ID)
			if err != nil {
				t.Fatalf("Tenant: %v", err)
			}
			if diff := cmp.Diff(tn, gotTenant); diff != "" {
				t.Errorf("tenant after restart (-want +got):\n%s", diff)
			}
			gotCheck, err := s.KeyCheck(ctx)
			if err != nil {
				t.Fatalf("KeyCheck: %v", err)
			}
			if diff := cmp.Diff(kc, gotCheck); diff != "" {
				t.Errorf("key check after restart (-want +got):\n%s", diff)
			}
			gotUser, err := s.UserByMail(ctx, tn.ID, "ADA@example.com")
			if err != nil {
				t.Fatalf("UserByMail: %v", err)
			}
			wantUser := *u
			if diff := cmp.Diff(&wantUser, gotUser); diff != "" {
				t.Errorf("user after restart (-want +got):\n%s", diff)
			}
			gids, err := s.UserGroupIDs(ctx, tn.ID, u.ID)
			if err != nil {
				t.Fatalf("UserGroupIDs: %v", err)
			}
			if diff := cmp.Diff([]string{g.ID}, gids); diff != "" {
				t.Errorf("memberships after restart (-want +got):\n%s", diff)
			}
			gotApp, err := s.ApplicationByAppID(ctx, tn.ID, "app-1")
			if err != nil {
				t.Fatalf("ApplicationByAppID: %v", err)
			}
			if diff := cmp.Diff(a, gotApp); diff != "" {
				t.Errorf("application after restart (-want +got):\n%s", diff)
			}
			keys, err := s.SigningKeys(ctx, tn.ID)
			if err != nil {
				t.Fatalf("SigningKeys: %v", err)
			}
			if diff := cmp.Diff([]*gatehouse.SigningKey{k}, keys); diff != "" {
				t.Errorf("signing keys after restart (-want +got):\n%s", diff)
			}
			gotRA, err := s.RoleAssignment(ctx, tn.ID, ra.ID)
			if err != nil {
				t.Fatalf("RoleAssignment: %v", err)
			}
			if diff := cmp.Diff(ra, gotRA); diff != "" {
				t.Errorf("role assignment after restart (-want +got):\n%s", diff)
			}
			entries, _, err := s.ListAuditEntries(ctx, tn.ID, gatehouse.ListOptions{})
			if err != nil {
				t.Fatalf("ListAuditEntries: %v", err)
			}
			if diff := cmp.Diff([]*gatehouse.AuditEntry{ae}, entries); diff != "" {
				t.Errorf("audit entries after restart (-want +got):\n%s", diff)
			}
			var consumed *gatehouse.OneTime
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				var err error
				consumed, err = tx.ConsumeOneTime(ctx, tn.ID, "code", "hash", time.Now())
				return err
			}); err != nil {
				t.Fatalf("ConsumeOneTime after restart: %v", err)
			}
			if string(consumed.Payload) != "payload" {
				t.Errorf("payload after restart = %q, want %q", consumed.Payload, "payload")
			}
		})
	}
}

// TestSQLiteFiles checks that OpenSQLite creates the database's directory
// and files readable by the owner only.
func TestSQLiteFiles(t *testing.T) {
	// A directory that does not exist yet, with characters that mean
	// something in URLs.
	dir := filepath.Join(t.TempDir(), "data dir?#%20", "nested")
	path := filepath.Join(dir, "gatehouse.db")
	s, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
		return tx.CreateTenant(t.Context(), &gatehouse.Tenant{Name: "contoso"})
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{dir, os.ModeDir | 0o700},
		{path, 0o600},
		{path + "-wal", 0o600},
		{path + "-shm", 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if got := fi.Mode(); got != tc.want {
			t.Errorf("mode of %s = %v, want %v", filepath.Base(tc.path), got, tc.want)
		}
	}
}

// TestMigrate checks that Migrate can run again, and concurrently, on one
// database.
func TestMigrate(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) func(t *testing.T) *sqlstore.Store
	}{
		{"sqlite", func(t *testing.T) func(t *testing.T) *sqlstore.Store {
			path := filepath.Join(t.TempDir(), "gatehouse.db")
			return func(t *testing.T) *sqlstore.Store {
				s, err := sqlstore.OpenSQLite(t.Context(), path)
				if err != nil {
					t.Fatalf("OpenSQLite: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
		}},
		{"postgres", func(t *testing.T) func(t *testing.T) *sqlstore.Store {
			url := storetest.PostgresURL(t)
			return func(t *testing.T) *sqlstore.Store {
				s, err := sqlstore.OpenPostgres(t.Context(), url)
				if err != nil {
					t.Fatalf("OpenPostgres: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := tc.open(t)
			names := migrations(t, tc.name)
			want, err := strconv.Atoi(strings.SplitN(names[len(names)-1], "_", 2)[0]) // the newest
			if err != nil {
				t.Fatal(err)
			}
			const n = 6
			stores := make([]*sqlstore.Store, n)
			for i := range stores {
				stores[i] = open(t)
			}
			if v, err := stores[0].SchemaVersion(t.Context()); err != nil || v != 0 {
				t.Fatalf("SchemaVersion before Migrate = %d, %v; want 0", v, err)
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Errorf("concurrent Migrate: %v", err)
				}
			}
			for i := range 2 {
				if err := stores[0].Migrate(t.Context()); err != nil {
					t.Errorf("Migrate again (%d): %v", i, err)
				}
			}
			for _, s := range stores {
				if v, err := s.SchemaVersion(t.Context()); err != nil || v != want {
					t.Errorf("SchemaVersion = %d, %v; want %d", v, err, want)
				}
			}
			// The schema works.
			if err := stores[1].Update(t.Context(), func(tx gatehouse.Tx) error {
				return tx.CreateTenant(t.Context(), &gatehouse.Tenant{Name: "contoso"})
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if _, err := stores[2].TenantByName(t.Context(), "contoso"); err != nil {
				t.Errorf("TenantByName: %v", err)
			}
		})
	}
}

// TestTxUsableAfterConflict checks that a transaction goes on after a
// write a uniqueness rule refused, on every engine.
func TestTxUsableAfterConflict(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			var tn gatehouse.Tenant
			tn.Name = "contoso"
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, &tn); err != nil {
					return err
				}
				ada := &gatehouse.User{TenantID: tn.ID, Mail: "ada@example.com"}
				if err := tx.CreateUser(ctx, ada); err != nil {
					return err
				}
				g := &gatehouse.Group{TenantID: tn.ID, DisplayName: "Staff"}
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
				if err := tx.AddGroupMember(ctx, tn.ID, g.ID, ada.ID); err != nil {
					return err
				}
				for _, f := range []func() error{
					func() error { return tx.CreateUser(ctx, &gatehouse.User{TenantID: tn.ID, Mail: "ADA@example.com"}) },
					func() error { return tx.CreateTenant(ctx, &gatehouse.Tenant{Name: "contoso"}) },
					func() error { return tx.AddGroupMember(ctx, tn.ID, g.ID, ada.ID) },
					func() error {
						_, err := tx.UpdateUser(ctx, tn.ID, ada.ID, func(u *gatehouse.User) error { return nil })
						if err != nil {
							return err
						}
						return tx.CreateUser(ctx, &gatehouse.User{ID: ada.ID, TenantID: tn.ID, Mail: "other@example.com"})
					},
				} {
					if err := f(); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
						return fmt.Errorf("got %v, want ECONFLICT", err)
					}
				}
				return tx.CreateUser(ctx, &gatehouse.User{TenantID: tn.ID, Mail: "bob@example.com"})
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if _, err := s.UserByMail(ctx, tn.ID, "bob@example.com"); err != nil {
				t.Errorf("user created after the conflicts: %v", err)
			}
		})
	}
}

// TestSQLiteConcurrentWriters checks that SQLite takes many concurrent
// writers and readers without an error.
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	s := storetest.SQLite(t)
	tn := &gatehouse.Tenant{Name: "contoso"}
	if err := s.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateTenant(ctx, tn) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	const writers, writes = 16, 20
	var failed atomic.Int32
	var wg sync.WaitGroup
	for w := range writers {
		u := &gatehouse.User{TenantID: tn.ID, Mail: fmt.Sprintf("user%d@example.com", w)}
		if err := s.Update(ctx, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
			t.Fatalf("Update: %v", err)
		}
		wg.Go(func() {
			for i := range writes {
				err := s.Update(ctx, func(tx gatehouse.Tx) error {
					if _, err := tx.UpdateUser(ctx, tn.ID, u.ID, func(u *gatehouse.User) error {
						u.JobTitle = increment(u.JobTitle)
						return nil
					}); err != nil {
						return err
					}
					return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{TenantID: tn.ID, Category: "UserManagement", Activity: fmt.Sprint(i)})
				})
				if err != nil {
					failed.Add(1)
					t.Errorf("Update: %v", err)
				}
				if _, err := s.User(ctx, tn.ID, u.ID); err != nil {
					failed.Add(1)
					t.Errorf("User: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d operations failed", failed.Load())
	}
	users, _, err := s.ListUsers(ctx, tn.ID, gatehouse.ListOptions{})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	for _, u := range users {
		if u.JobTitle != strconv.Itoa(writes) {
			t.Errorf("%s: counter = %q, want %d", u.Mail, u.JobTitle, writes)
		}
	}
}

// TestPostgresRetriesDeadlock makes two transactions deadlock and checks
// that Update runs the one PostgreSQL aborts again, so both succeed.
func TestPostgresRetriesDeadlock(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		if e.Name != "postgres" {
			continue // SQLite transactions never wait on each other's rows
		}
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			tn := &gatehouse.Tenant{Name: "contoso"}
			a := &gatehouse.User{Mail: "a@example.com"}
			b := &gatehouse.User{Mail: "b@example.com"}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				a.TenantID, b.TenantID = tn.ID, tn.ID
				if err := tx.CreateUser(ctx, a); err != nil {
					return err
				}
				return tx.CreateUser(ctx, b)
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			inc := func(tx gatehouse.Tx, u *gatehouse.User) error {
				_, err := tx.UpdateUser(ctx, tn.ID, u.ID, func(u *gatehouse.User) error {
					u.JobTitle = increment(u.JobTitle)
					return nil
				})
				return err
			}
			// On its first attempt each transaction locks its first user and
			// waits until the other has locked its own before going for the
			// second: a deadlock.
			var attempts atomic.Int32
			locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
			run := func(me int, first, second *gatehouse.User) error {
				var tries int
				return s.Update(ctx, func(tx gatehouse.Tx) error {
					tries++
					attempts.Add(1)
					if err := inc(tx, first); err != nil {
						return err
					}
					if tries == 1 {
						close(locked[me])
						select {
						case <-locked[1-me]:
						case <-time.After(10 * time.Second):
							return errors.New("the other transaction never locked its row")
						}
					}
					return inc(tx, second)
				})
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			wg.Go(func() { errs[0] = run(0, a, b) })
			wg.Go(func() { errs[1] = run(1, b, a) })
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			}
			if got := attempts.Load(); got != 3 {
				t.Errorf("fn ran %d times, want 3 (one transaction retried once)", got)
			}
			for _, u := range []*gatehouse.User{a, b} {
				got, err := s.User(ctx, tn.ID, u.ID)
				if err != nil {
					t.Fatalf("User: %v", err)
				}
				if got.JobTitle != "2" {
					t.Errorf("%s: counter = %q, want 2", u.Mail, got.JobTitle)
				}
			}
		})
	}
}

// TestUpdateRetries checks which errors make Update run fn again.
func TestUpdateRetries(t *testing.T) {
	s := storetest.SQLite(t)
	for _, tc := range []struct {
		name      string
		err       error
		failTimes int
		wantRuns  int
		wantErr   bool
	}{
		{"SerializationFailure", &pgconn.PgError{Code: "40001"}, 1, 2, false},
		{"Deadlock", fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01"}), 2, 3, false},
		{"GivesUp", &pgconn.PgError{Code: "40001"}, 100, 5, true},
		{"OtherError", errors.New("boom"), 1, 1, true},
		{"Conflict", gatehouse.Errorf(gatehouse.ECONFLICT, "taken"), 1, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			err := s.Update(t.Context(), func(tx gatehouse.Tx) error {
				runs++
				if runs <= tc.failTimes {
					return tc.err
				}
				return nil
			})
			if runs != tc.wantRuns {
				t.Errorf("fn ran %d times, want %d", runs, tc.wantRuns)
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("Update returned %v, want error: %t", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, tc.err) {
				t.Errorf("Update returned %v, want fn's error %v", err, tc.err)
			}
		})
	}
}

// TestUpdatePanics checks that a panic in fn rolls the transaction back and
// leaves the store usable.
func TestUpdatePanics(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not reach Update's caller")
					}
				}()
				s.Update(ctx, func(tx gatehouse.Tx) error {
					if err := tx.CreateTenant(ctx, &gatehouse.Tenant{Name: "panicked"}); err != nil {
						return err
					}
					panic("fn panics")
				})
			}()
			_, err := s.TenantByName(ctx, "panicked")
			if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("TenantByName after a panic: got %v, want ENOTFOUND", err)
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				return tx.CreateTenant(ctx, &gatehouse.Tenant{Name: "after"})
			}); err != nil {
				t.Errorf("Update after a panic: %v", err)
			}
		})
	}
}

func TestDeleteExpiredOneTimes(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			now := time.Now()
			tn := &gatehouse.Tenant{Name: "contoso"}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				for i, exp := range []time.Duration{-time.Hour, -time.Minute, time.Minute} {
					if err := tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: tn.ID, Kind: "code", Key: fmt.Sprint(i), ExpiresAt: now.Add(exp)}); err != nil {
						return err
					}
				}
				_, err := tx.ConsumeOneTime(ctx, tn.ID, "code", "2", now)
				return err
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			n, err := s.DeleteExpiredOneTimes(ctx, now)
			if err != nil || n != 2 {
				t.Fatalf("DeleteExpiredOneTimes = %d, %v; want 2", n, err)
			}
			// The unexpired item stays, consumed.
			err = s.Update(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.ConsumeOneTime(ctx, tn.ID, "code", "2", now)
				return err
			})
			if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				t.Errorf("ConsumeOneTime of the kept item: got %v, want ECONFLICT", err)
			}
		})
	}
}

// TestDeleteExpired checks that DeleteExpired removes what expired, and
// only that, from every table, in more than one batch.
func TestDeleteExpired(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			now := time.Now()
			past, future := now.Add(-time.Minute), now.Add(time.Hour)
			tn := &gatehouse.Tenant{Name: "contoso"}
			const manyOneTimes = 1234 // more than one batch
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				id := tn.ID
				for i := range manyOneTimes {
					if err := tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: id, Kind: "code", Key: fmt.Sprint("old-", i), ExpiresAt: past}); err != nil {
						return err
					}
				}
				for _, f := range []func() error{
					func() error {
						return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: id, Kind: "code", Key: "live", ExpiresAt: future})
					},
					func() error { return tx.CreateUser(ctx, &gatehouse.User{ID: "u", TenantID: id, Mail: "u@example.com"}) },
					func() error { return tx.CreateApplication(ctx, &gatehouse.Application{TenantID: id, AppID: "app"}) },
					func() error {
						return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{TenantID: id, Purpose: "signin", Binding: "old", ExpiresAt: past})
					},
					func() error {
						return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{TenantID: id, Purpose: "signin", Binding: "live", ExpiresAt: future})
					},
					func() error {
						return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: "old", TenantID: id, ExpiresAt: past})
					},
					func() error {
						return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: "live", TenantID: id, ExpiresAt: future})
					},
					func() error {
						return tx.CreateSession(ctx, &gatehouse.Session{ID: "old", TenantID: id, UserID: "u", ExpiresAt: past})
					},
					func() error {
						return tx.CreateSession(ctx, &gatehouse.Session{ID: "live", TenantID: id, UserID: "u", ExpiresAt: future})
					},
					func() error {
						return tx.CreateGrant(ctx, &gatehouse.Grant{ID: "old", TenantID: id, UserID: "u", ClientID: "app", ExpiresAt: past})
					},
					func() error {
						return tx.CreateGrant(ctx, &gatehouse.Grant{ID: "live", TenantID: id, UserID: "u", ClientID: "app", ExpiresAt: future})
					},
					// A live token of an expired grant goes with its grant.
					func() error {
						return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "of-old-grant", TenantID: id, GrantID: "old", ExpiresAt: future})
					},
					func() error {
						return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "old", TenantID: id, GrantID: "live", ExpiresAt: past})
					},
					func() error {
						return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "live", TenantID: id, GrantID: "live", ExpiresAt: future})
					},
					// Hour windows that ended 25 hours ago and 22 hours ago.
					func() error { _, err := tx.Hit(ctx, id, "k", time.Hour, now.Add(-26*time.Hour)); return err },
					func() error { _, err := tx.Hit(ctx, id, "k", time.Hour, now.Add(-23*time.Hour)); return err },
					// Failure records last struck 25 hours and 23 hours ago.
					func() error { _, err := tx.AddStrike(ctx, id, "old", now.Add(-25*time.Hour)); return err },
					func() error { _, err := tx.AddStrike(ctx, id, "live", now.Add(-26*time.Hour)); return err },
					func() error { _, err := tx.AddStrike(ctx, id, "live", now.Add(-23*time.Hour)); return err },
				} {
					if err := f(); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}

			n, err := s.DeleteExpired(ctx, now)
			// One-time items, and one each of email codes, authorization
			// requests, sessions, refresh tokens, grants, rate limit
			// windows and failure records.
			if want := int64(manyOneTimes + 7); err != nil || n != want {
				t.Fatalf("DeleteExpired = %d, %v; want %d", n, err, want)
			}
			if n, err := s.DeleteExpired(ctx, now); err != nil || n != 0 {
				t.Errorf("DeleteExpired again = %d, %v; want 0", n, err)
			}

			id := tn.ID
			for _, tc := range []struct {
				what string
				err  error
				want string // "" for found
			}{
				{"live email code", func() error { _, err := s.ActiveEmailCode(ctx, id, "signin", "live"); return err }(), ""},
				{"old email code", func() error { _, err := s.ActiveEmailCode(ctx, id, "signin", "old"); return err }(), gatehouse.ENOTFOUND},
				{"live request", func() error { _, err := s.AuthRequest(ctx, id, "live"); return err }(), ""},
				{"old request", func() error { _, err := s.AuthRequest(ctx, id, "old"); return err }(), gatehouse.ENOTFOUND},
				{"live session", func() error { _, err := s.Session(ctx, id, "live"); return err }(), ""},
				{"old session", func() error { _, err := s.Session(ctx, id, "old"); return err }(), gatehouse.ENOTFOUND},
				{"live grant", func() error { _, err := s.Grant(ctx, id, "live"); return err }(), ""},
				{"old grant", func() error { _, err := s.Grant(ctx, id, "old"); return err }(), gatehouse.ENOTFOUND},
			} {
				if got := gatehouse.ErrorCode(tc.err); got != tc.want {
					t.Errorf("%s: got %v, want code %q", tc.what, tc.err, tc.want)
				}
			}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				for _, tc := range []struct {
					what string
					err  func() error
					want string
				}{
					{"live one-time", func() error { _, err := tx.ConsumeOneTime(ctx, id, "code", "live", now); return err }, ""},
					{"live token", func() error { _, err := tx.UseRefreshToken(ctx, id, "live", now); return err }, ""},
					{"old token", func() error { _, err := tx.UseRefreshToken(ctx, id, "old", past.Add(-time.Hour)); return err }, gatehouse.ENOTFOUND},
					{"token of the old grant", func() error { _, err := tx.UseRefreshToken(ctx, id, "of-old-grant", now); return err }, gatehouse.ENOTFOUND},
				} {
					if err := tc.err(); gatehouse.ErrorCode(err) != tc.want {
						t.Errorf("%s: got %v, want code %q", tc.what, err, tc.want)
					}
				}
				// A record struck within the day keeps its count; the older
				// one is gone.
				for _, tc := range []struct {
					key  string
					want int
				}{{"live", 2}, {"old", 0}} {
					got, _, err := tx.Strikes(ctx, id, tc.key)
					if err != nil || got != tc.want {
						t.Errorf("Strikes(%q) after DeleteExpired = %d, %v; want %d", tc.key, got, err, tc.want)
					}
				}
				// The window that ended 22 hours ago keeps its count; the
				// older one starts again.
				for _, tc := range []struct {
					ago  time.Duration
					want int
				}{{23 * time.Hour, 2}, {26 * time.Hour, 1}} {
					got, err := tx.Hit(ctx, id, "k", time.Hour, now.Add(-tc.ago))
					if err != nil || got != tc.want {
						t.Errorf("Hit %v ago = %d, %v; want %d", tc.ago, got, err, tc.want)
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
		})
	}
}

func TestPoolStats(t *testing.T) {
	want := map[string][]string{"sqlite": {"sqlite-reader", "sqlite-writer"}, "postgres": {"postgres"}}
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Open(t)
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			stats := s.PoolStats()
			var names []string
			for name, st := range stats {
				names = append(names, name)
				if st.MaxOpenConnections <= 0 {
					t.Errorf("%s: MaxOpenConnections = %d, want a limit", name, st.MaxOpenConnections)
				}
			}
			slices.Sort(names)
			if diff := cmp.Diff(want[e.Name], names); diff != "" {
				t.Errorf("pool names (-want +got):\n%s", diff)
			}
			if e.Name == "sqlite" && stats["sqlite-writer"].MaxOpenConnections != 1 {
				t.Errorf("SQLite writer pool allows %d connections, want 1", stats["sqlite-writer"].MaxOpenConnections)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close again: %v", err)
			}
			if err := s.Ping(t.Context()); err == nil {
				t.Error("Ping after Close succeeded")
			}
		})
	}
}

// TestConstraintNames provokes every uniqueness rule of the schema with raw
// SQL and checks that the store tells which was violated, on every engine:
// the names the schemas give their constraints (and, on SQLite, the column
// lists its errors report) must match what the store maps to messages.
func TestConstraintNames(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			var tn, t3, t4 gatehouse.Tenant
			tn.Name, t3.Name, t4.Name = "contoso", "three", "four"
			u1 := &gatehouse.User{ID: "u1", Mail: "u1@example.com"}
			u2 := &gatehouse.User{ID: "u2", Mail: "u2@example.com"}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				for _, tn := range []*gatehouse.Tenant{&tn, &t3, &t4} {
					if err := tx.CreateTenant(ctx, tn); err != nil {
						return err
					}
				}
				id := tn.ID
				u1.TenantID, u2.TenantID = id, id
				for _, f := range []func() error{
					func() error { return tx.CreateUser(ctx, u1) },
					func() error { return tx.CreateUser(ctx, u2) },
					func() error { return tx.CreateGroup(ctx, &gatehouse.Group{ID: "g1", TenantID: id}) },
					func() error { return tx.CreateGroup(ctx, &gatehouse.Group{ID: "g2", TenantID: id}) },
					func() error { return tx.AddGroupMember(ctx, id, "g1", "u1") },
					func() error { return tx.AddGroupMember(ctx, id, "g1", "u2") },
					func() error {
						return tx.CreateApplication(ctx, &gatehouse.Application{ID: "a1", TenantID: id, AppID: "app1"})
					},
					func() error {
						return tx.CreateApplication(ctx, &gatehouse.Application{ID: "a2", TenantID: id, AppID: "app2"})
					},
					func() error {
						return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{ID: "r1", TenantID: id, PrincipalID: "u1", RoleDefinitionID: "role"})
					},
					func() error {
						return tx.CreateRoleAssignment(ctx, &gatehouse.RoleAssignment{ID: "r2", TenantID: id, PrincipalID: "u2", RoleDefinitionID: "role"})
					},
					func() error { return tx.CreateSigningKey(ctx, &gatehouse.SigningKey{ID: "k1", TenantID: id}) },
					func() error { return tx.CreateSigningKey(ctx, &gatehouse.SigningKey{ID: "k2", TenantID: id}) },
					func() error { return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{ID: "e1", TenantID: id}) },
					func() error { return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{ID: "e2", TenantID: id}) },
					func() error {
						return tx.CreateAuditEntry(ctx, &gatehouse.AuditEntry{ID: "e3", TenantID: id, Targets: []gatehouse.AuditTarget{{ID: "x"}, {ID: "y"}}})
					},
					func() error { return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: id, Kind: "code", Key: "o1"}) },
					func() error { return tx.CreateOneTime(ctx, &gatehouse.OneTime{TenantID: id, Kind: "code", Key: "o2"}) },
					func() error {
						return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{ID: "f1", TenantID: id, AppIDs: []string{"app1"}})
					},
					func() error {
						return tx.CreateUserFlow(ctx, &gatehouse.UserFlow{ID: "f2", TenantID: id, AppIDs: []string{"app2"}})
					},
					func() error { return tx.CreateSession(ctx, &gatehouse.Session{ID: "s1", TenantID: id, UserID: "u1"}) },
					func() error { return tx.CreateSession(ctx, &gatehouse.Session{ID: "s2", TenantID: id, UserID: "u1"}) },
					func() error {
						return tx.CreateGrant(ctx, &gatehouse.Grant{ID: "gr1", TenantID: id, UserID: "u1", ClientID: "app1"})
					},
					func() error {
						return tx.CreateGrant(ctx, &gatehouse.Grant{ID: "gr2", TenantID: id, UserID: "u1", ClientID: "app1"})
					},
					func() error {
						return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "rt1", TenantID: id, GrantID: "gr1"})
					},
					func() error {
						return tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{ID: "rt2", TenantID: id, GrantID: "gr1"})
					},
					func() error {
						return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{ID: "c1", TenantID: id, Purpose: "signin", Binding: "b1"})
					},
					func() error {
						return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{ID: "c2", TenantID: id, Purpose: "signin", Binding: "b2"})
					},
					func() error { return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: "ar1", TenantID: id}) },
					func() error { return tx.CreateAuthRequest(ctx, &gatehouse.AuthRequest{ID: "ar2", TenantID: id}) },
					func() error { _, err := tx.Hit(ctx, id, "k1", time.Hour, time.Unix(0, 0)); return err },
					func() error { _, err := tx.Hit(ctx, id, "k2", time.Hour, time.Unix(0, 0)); return err },
				} {
					if err := f(); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			for _, tc := range []struct {
				constraint string
				query      string
				args       []any
			}{
				{"tenants_pkey", "UPDATE tenants SET id = ? WHERE id = ?", []any{t3.ID, t4.ID}},
				{"tenants_name_key", "UPDATE tenants SET name = 'three' WHERE id = ?", []any{t4.ID}},
				{"users_pkey", "UPDATE users SET id = 'u1' WHERE id = 'u2'", nil},
				{"users_mail_key", "UPDATE users SET mail_key = 'u1@example.com' WHERE id = 'u2'", nil},
				{"groups_pkey", "UPDATE groups SET id = 'g1' WHERE id = 'g2'", nil},
				{"group_members_pkey", "UPDATE group_members SET user_id = 'u1' WHERE user_id = 'u2'", nil},
				{"applications_pkey", "UPDATE applications SET id = 'a1' WHERE id = 'a2'", nil},
				{"applications_app_id_key", "UPDATE applications SET app_id = 'app1' WHERE id = 'a2'", nil},
				{"role_assignments_pkey", "UPDATE role_assignments SET id = 'r1' WHERE id = 'r2'", nil},
				{"role_assignments_role_principal_key", "UPDATE role_assignments SET principal_id = 'u1' WHERE id = 'r2'", nil},
				{"signing_keys_pkey", "UPDATE signing_keys SET id = 'k1' WHERE id = 'k2'", nil},
				{"audit_entries_pkey", "UPDATE audit_entries SET id = 'e1' WHERE id = 'e2'", nil},
				{"audit_targets_pkey", "UPDATE audit_targets SET target_id = 'x' WHERE target_id = 'y'", nil},
				{"one_times_pkey", "UPDATE one_times SET item_key = 'o1' WHERE item_key = 'o2'", nil},
				{"user_flows_pkey", "UPDATE user_flows SET id = 'f1' WHERE id = 'f2'", nil},
				{"user_flow_apps_pkey", "UPDATE user_flow_apps SET app_id = 'app1' WHERE app_id = 'app2'", nil},
				{"sessions_pkey", "UPDATE sessions SET id = 's1' WHERE id = 's2'", nil},
				{"grants_pkey", "UPDATE grants SET id = 'gr1' WHERE id = 'gr2'", nil},
				{"refresh_tokens_pkey", "UPDATE refresh_tokens SET id = 'rt1' WHERE id = 'rt2'", nil},
				{"email_codes_pkey", "UPDATE email_codes SET id = 'c1' WHERE id = 'c2'", nil},
				{"email_codes_active_key", "UPDATE email_codes SET binding = 'b1' WHERE id = 'c2'", nil},
				{"auth_requests_pkey", "UPDATE auth_requests SET id = 'ar1' WHERE id = 'ar2'", nil},
				{"rate_limits_pkey", "UPDATE rate_limits SET bucket_key = 'k1' WHERE bucket_key = 'k2'", nil},
			} {
				err := s.ExecRaw(ctx, tc.query, tc.args...)
				if kind, c := s.Violation(err); kind != "unique" || c != tc.constraint {
					t.Errorf("%s: got %q violation of %q (%v), want unique violation of %q", tc.query, kind, c, err, tc.constraint)
				}
			}
			for _, tc := range []struct {
				what  string
				query string
			}{
				{"membership of a missing user", "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) VALUES (?, 'g2', 'nobody', 0)"},
				{"flow of a missing application", "INSERT INTO user_flow_apps (tenant_id, app_id, flow_id, ordinal) VALUES (?, 'nosuch', 'f1', 0)"},
				{"grant to a missing application", "UPDATE grants SET client_id = 'nosuch' WHERE tenant_id = ? AND id = 'gr1'"},
				{"refresh token of a missing grant", "UPDATE refresh_tokens SET grant_id = 'nosuch' WHERE tenant_id = ? AND id = 'rt1'"},
				{"session of a missing user", "UPDATE sessions SET user_id = 'nobody' WHERE tenant_id = ? AND id = 's1'"},
			} {
				err := s.ExecRaw(ctx, tc.query, tn.ID)
				if kind, _ := s.Violation(err); kind != "foreignKey" {
					t.Errorf("%s: got %q violation (%v), want foreignKey", tc.what, kind, err)
				}
			}
		})
	}
}

// increment treats s as a decimal counter ("" is 0) and returns it plus
// one: the concurrency tests count their writes in a text field.
func increment(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}

// TestMigrateRefusesNewerSchema checks that Migrate changes nothing in a
// database that holds a migration this Gatehouse does not know.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := e.Open(t)
			if err := s.ExecRaw(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", 9999, "9999_future.sql", 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), "9999") {
				t.Errorf("Migrate with an unknown migration applied: %v; want an error naming 9999", err)
			}
		})
	}
}

// TestDeleteExpiredSignIns checks that DeleteExpired keeps sign-in log
// entries for the store's retention, 30 days unless set, and no longer.
func TestDeleteExpiredSignIns(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			s := e.Open(t)
			now := time.Now()
			tn := &gatehouse.Tenant{Name: "contoso"}
			ages := map[string]time.Duration{"today": time.Hour, "29 days": 29 * 24 * time.Hour, "31 days": 31 * 24 * time.Hour, "8 days": 8 * 24 * time.Hour}
			ids := map[string]string{}
			if err := s.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				for name, age := range ages {
					e := &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: now.Add(-age), UserPrincipalName: name}
					if err := tx.CreateSignIn(ctx, e); err != nil {
						return err
					}
					ids[name] = e.ID
				}
				return nil
			}); err != nil {
				t.Fatalf("Update: %v", err)
			}
			kept := func(want ...string) {
				t.Helper()
				for name, id := range ids {
					_, err := s.SignIn(ctx, tn.ID, id)
					if got, wantKept := err == nil, slices.Contains(want, name); got != wantKept {
						t.Errorf("entry from %s ago kept: %v (%v), want %v", name, got, err, wantKept)
					}
				}
			}
			if n, err := s.DeleteExpired(ctx, now); err != nil || n != 1 {
				t.Errorf("DeleteExpired with the default retention = %d, %v; want 1", n, err)
			}
			kept("today", "29 days", "8 days")
			s.SignInRetention = 7 * 24 * time.Hour
			if n, err := s.DeleteExpired(ctx, now); err != nil || n != 2 {
				t.Errorf("DeleteExpired with 7 days' retention = %d, %v; want 2", n, err)
			}
			kept("today")
		})
	}
}
