package faults

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
)

// TestFT1KillUnderLoad: `gatehouse serve` is killed with SIGKILL while
// clients create users through the admin API, sign in (up to the code)
// and rotate refresh tokens; restarted on the same data, every write it
// acknowledged is there, the database is consistent, and refresh tokens
// and codes are still single use.
func TestFT1KillUnderLoad(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { testKillUnderLoad(t, e.open(t)) })
	}
}

// killLoad is what the load of FT-1 had acknowledged when the server was
// killed. Requests in flight then may or may not have been carried out;
// a request refused at connect time never reached the server.
type killLoad struct {
	killed atomic.Bool

	mu        sync.Mutex
	users     map[string]string // ID -> mail, each acknowledged with 201
	unsure    int               // user creations in flight at the kill
	codes     []*load.Authorization
	refreshes []*refresher
}

// refresher is one client rotating its refresh token.
type refresher struct {
	latest string   // the last token the server returned
	used   []string // tokens the server accepted, and so used up
	unsure bool     // a redemption of latest was in flight at the kill
}

// inFlight reports whether err, of a request made after the kill, may
// have reached the server before it died.
func inFlight(err error) bool { return !errors.Is(err, syscall.ECONNREFUSED) }

func testKillUnderLoad(t *testing.T, st storage) {
	addr := freeAddr(t)
	public := "http://" + addr
	tn := createTenant(t, public, st)
	n := startNode(t, "gatehouse", addr, public, st)
	setup, app := setUp(t, tn, 4)
	api := newAdmin(t, tn)
	ctx := t.Context()

	l := &killLoad{users: map[string]string{}}
	var wg sync.WaitGroup
	fail := func(format string, args ...any) { t.Errorf("before the kill: "+format, args...) }
	for w := range 2 { // admin API: users created
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for k := 0; ; k++ {
				mail := fmt.Sprintf("ft1-%d-%d@example.com", w, k)
				code, body, err := api.call(ctx, "POST", "/users", map[string]any{"displayName": "FT-1", "mail": mail})
				var u struct{ ID string }
				switch {
				case err == nil && code == http.StatusCreated && json.Unmarshal(body, &u) == nil:
					l.mu.Lock()
					l.users[u.ID] = mail
					l.mu.Unlock()
				case l.killed.Load():
					if err == nil || inFlight(err) {
						l.mu.Lock()
						l.unsure++
						l.mu.Unlock()
					}
					return
				default:
					fail("POST /users: %d %s %v", code, body, err)
					return
				}
				<-tick.C
			}
		})
	}
	for w := range 2 { // sign-ins up to their codes
		wg.Go(func() {
			for k := 0; ; k++ {
				a, err := app.Authorize(ctx, load.UserMail(setup.UserPrefix, 1+w+2*(k%2)), userPassword, load.SignInOptions{}, nil)
				switch {
				case err == nil:
					l.mu.Lock()
					l.codes = append(l.codes, a)
					l.mu.Unlock()
				case l.killed.Load():
					return
				default:
					fail("sign-in: %v", err)
					return
				}
			}
		})
	}
	for w := range 2 { // refresh token rotation
		r := &refresher{}
		l.refreshes = append(l.refreshes, r)
		wg.Go(func() {
			tok, err := app.SignIn(ctx, load.UserMail(setup.UserPrefix, 3+w), userPassword, nil)
			if err != nil {
				fail("sign-in for a refresh token: %v", err)
				return
			}
			l.mu.Lock()
			r.latest = tok.RefreshToken
			l.mu.Unlock()
			for {
				l.mu.Lock()
				presented := r.latest
				l.mu.Unlock()
				tok, err := app.Refresh(ctx, presented, nil)
				l.mu.Lock()
				switch {
				case err == nil:
					r.used = append(r.used, presented)
					r.latest = tok.RefreshToken
				case l.killed.Load():
					r.unsure = inFlight(err)
				default:
					fail("refresh: %v", err)
				}
				l.mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	waitFor(t, 60*time.Second, "acknowledged writes of every kind", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		ok := len(l.users) >= 30 && len(l.codes) >= 4
		for _, r := range l.refreshes {
			ok = ok && len(r.used) >= 5
		}
		return ok || t.Failed()
	})
	l.killed.Store(true)
	n.kill()
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("killed with %d users, %d codes and %d+%d refreshes acknowledged, %d user creations in flight",
		len(l.users), len(l.codes), len(l.refreshes[0].used), len(l.refreshes[1].used), l.unsure)

	if st.sqlitePath != "" {
		checkSQLite(t, st.sqlitePath)
	}
	startNode(t, "gatehouse (restarted)", addr, public, st)

	// Codes first: they live a minute. Each acknowledged code is
	// redeemed once, and only once.
	for i, a := range l.codes {
		if _, err := app.Redeem(ctx, a, nil); err != nil {
			t.Errorf("code %d of %d, acknowledged before the kill: %v", i+1, len(l.codes), err)
			continue
		}
		if _, err := app.Redeem(ctx, a, nil); !isInvalidGrant(err) {
			t.Errorf("code %d redeemed a second time after the restart: %v, want invalid_grant", i+1, err)
		}
	}
	// Refresh tokens: the last one acknowledged works (unless a
	// redemption of it was in flight), once; the used ones do not.
	for i, r := range l.refreshes {
		_, err := app.Refresh(ctx, r.latest, nil)
		switch {
		case err == nil:
			if _, err := app.Refresh(ctx, r.latest, nil); !isInvalidGrant(err) {
				t.Errorf("refresher %d: the last refresh token redeemed twice after the restart: %v", i, err)
			}
		case r.unsure && isInvalidGrant(err): // the redemption in flight went through
		default:
			t.Errorf("refresher %d: the last acknowledged refresh token after the restart: %v (in flight at the kill: %v)", i, err, r.unsure)
		}
		if _, err := app.Refresh(ctx, r.used[len(r.used)-1], nil); !isInvalidGrant(err) {
			t.Errorf("refresher %d: a used refresh token after the restart: %v, want invalid_grant", i, err)
		}
	}
	// Users: every acknowledged one is readable, with its audit entry
	// (written in the same transaction), and no more were created than
	// were asked for.
	for id, mail := range l.users {
		code, body, err := api.call(ctx, "GET", "/users/"+id+"?$select=mail", nil)
		var u struct{ Mail string }
		if err != nil || code != http.StatusOK || json.Unmarshal(body, &u) != nil || u.Mail != mail {
			t.Errorf("user %s (%s), acknowledged before the kill: %d %s %v", id, mail, code, body, err)
			continue
		}
		filter := url.QueryEscape("targetResources/any(t: t/id eq '" + id + "')")
		code, body, err = api.call(ctx, "GET", "/auditLogs/directoryAudits?$filter="+filter, nil)
		var audits struct {
			Value []struct{ ActivityDisplayName string }
		}
		if err != nil || code != http.StatusOK || json.Unmarshal(body, &audits) != nil || len(audits.Value) != 1 || audits.Value[0].ActivityDisplayName != "Add user" {
			t.Errorf("audit of user %s: %d %s %v, want its one Add user entry", id, code, body, err)
		}
	}
	if got := countUsers(t, api, "ft1-"); got < len(l.users) || got > len(l.users)+l.unsure {
		t.Errorf("%d load users after the restart, want the %d acknowledged and at most %d in flight", got, len(l.users), l.unsure)
	}
}

// checkSQLite checks the database file of a killed server with SQLite's
// own consistency checks.
func checkSQLite(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path) // the driver sqlstore registers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Errorf("PRAGMA integrity_check after kill -9: %q, %v", result, err)
	}
	rows, err := db.QueryContext(t.Context(), "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Errorf("PRAGMA foreign_key_check after kill -9 found rows that break foreign keys")
	}
}

// countUsers counts the tenant's users whose mail starts with prefix.
func countUsers(t *testing.T, api *admin, prefix string) int {
	t.Helper()
	n := 0
	for next := "/users?$select=mail&$top=999"; next != ""; {
		code, body, err := api.call(t.Context(), "GET", next, nil)
		var page struct {
			Value    []struct{ Mail string }
			NextLink string `json:"@odata.nextLink"`
		}
		if err != nil || code != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("list users: %d %s %v", code, body, err)
		}
		for _, u := range page.Value {
			if strings.HasPrefix(u.Mail, prefix) {
				n++
			}
		}
		next = page.NextLink
	}
	return n
}

func isInvalidGrant(err error) bool {
	var se *load.StepError
	return errors.As(err, &se) && se.Kind == "invalid_grant"
}
