package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpEmpty makes nil and empty slices equal, for lists of IDs.
var cmpEmpty = cmpopts.EquateEmpty()

// Run runs the conformance suite against stores open returns. open must
// return a new, empty store on the real clock each time it is called; it
// may skip the test. Run calls it once up front, so an engine that is not
// available skips the suite once, and then once per group of subtests.
func Run(t *testing.T, open func(t *testing.T) gatehouse.Store) {
	if err := open(t).Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	for _, tt := range []struct {
		name string
		test func(t *testing.T, s gatehouse.Store)
	}{
		{"Tenants", testTenants},
		{"Users", testUsers},
		{"UserIsolation", testUserIsolation},
		{"UserPaging", testUserPaging},
		{"UserFilters", testUserFilters},
		{"Groups", testGroups},
		{"GroupMembers", testGroupMembers},
		{"Applications", testApplications},
		{"ApplicationFilters", testApplicationFilters},
		{"RoleAssignments", testRoleAssignments},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"SigningKeys", testSigningKeys},
		{"KeyCheck", testKeyCheck},
		{"ConcurrentKeyCheck", testConcurrentKeyCheck},
		{"AuditEntries", testAuditEntries},
		{"UpdateRollsBack", testUpdateRollsBack},
		{"ConcurrentUpdateUser", testConcurrentUpdateUser},
		{"OneTime", testOneTime},
		{"ConcurrentConsumeOneTime", testConcurrentConsumeOneTime},
		{"UserFlows", testUserFlows},
		{"UserFlowListing", testUserFlowListing},
		{"ConcurrentUserFlowApps", testConcurrentUserFlowApps},
		{"Sessions", testSessions},
		{"Grants", testGrants},
		{"RefreshTokens", testRefreshTokens},
		{"ConcurrentUseRefreshToken", testConcurrentUseRefreshToken},
		{"SignInCascades", testSignInCascades},
		{"EmailCodes", testEmailCodes},
		{"ConcurrentEmailCode", testConcurrentEmailCode},
		{"AuthRequests", testAuthRequests},
		{"SignInRollsBack", testSignInRollsBack},
		{"Hit", testHit},
		{"ConcurrentHit", testConcurrentHit},
		{"Strikes", testStrikes},
		{"ConcurrentStrikes", testConcurrentStrikes},
		{"MethodsPolicy", testMethodsPolicy},
		{"UserMethods", testUserMethods},
		{"ConcurrentUserMethod", testConcurrentUserMethod},
		{"OnePhone", testOnePhone},
		{"Policies", testPolicies},
		{"NamedLocations", testNamedLocations},
		{"ConcurrentPolicyLocation", testConcurrentPolicyLocation},
		{"SignIns", testSignIns},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

// errUpdater is what updater functions in the suite fail with.
var errUpdater = errors.New("updater failed")

// update runs fn in a transaction of s and fails the test if it fails.
func update(t *testing.T, s gatehouse.Store, fn func(tx gatehouse.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// updateErr runs fn in a transaction of s and returns its error.
func updateErr(t *testing.T, s gatehouse.Store, fn func(tx gatehouse.Tx) error) error {
	t.Helper()
	return s.Update(t.Context(), fn)
}

// wantCode fails the test unless err is a *gatehouse.Error with the code and,
// when mentions are given, a message containing each of them.
func wantCode(t *testing.T, what string, err error, code string, mentions ...string) {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: got error %v, want a *gatehouse.Error with code %q", what, err, code)
		return
	}
	if e.Code != code {
		t.Errorf("%s: got code %q (%v), want %q", what, e.Code, err, code)
	}
	for _, m := range mentions {
		if !strings.Contains(e.Message, m) {
			t.Errorf("%s: message %q does not mention %q", what, e.Message, m)
		}
	}
}

// clock brackets the store's timestamps: a time the store sets between
// start and a later call to end must lie between them, at microsecond
// precision, in UTC.
type clock struct{ start time.Time }

func startClock() clock { return clock{time.Now().UTC().Truncate(time.Microsecond)} }

// check fails the test unless got is a time the store set since c started.
func (c clock) check(t *testing.T, what string, got time.Time) {
	t.Helper()
	end := time.Now().UTC()
	if got.Before(c.start) || got.After(end) {
		t.Errorf("%s = %v, want between %v and %v", what, got, c.start, end)
	}
	checkStoredTime(t, what, got)
}

// checkStoredTime fails the test unless tm is as the store returns times:
// in UTC, to the microsecond.
func checkStoredTime(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, tm.Location())
	}
	if tm.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v has nanoseconds, want microsecond precision", what, tm)
	}
}

// micro returns tm as the store gives it back: UTC, truncated to the
// microsecond.
func micro(tm time.Time) time.Time { return tm.UTC().Truncate(time.Microsecond) }

// oddTime is a time in a zone other than UTC with nanoseconds, which the
// store returns in UTC truncated to the microsecond.
func oddTime(day int) time.Time {
	return time.Date(2024, 2, day, 23, 59, 58, 123456789, time.FixedZone("UTC+05:30", 5*3600+1800))
}

// newTenant creates a tenant named name in s.
func newTenant(t *testing.T, s gatehouse.Store, name string) *gatehouse.Tenant {
	t.Helper()
	tn := &gatehouse.Tenant{Name: name, DisplayName: strings.ToUpper(name)}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateTenant(t.Context(), tn) })
	return tn
}

// newUser creates a user with the mail in the tenant.
func newUser(t *testing.T, s gatehouse.Store, tenantID, mail string) *gatehouse.User {
	t.Helper()
	u := &gatehouse.User{TenantID: tenantID, Mail: mail, DisplayName: mail, AccountEnabled: true}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(t.Context(), u) })
	return u
}

// newGroup creates a group with the display name in the tenant.
func newGroup(t *testing.T, s gatehouse.Store, tenantID, name string) *gatehouse.Group {
	t.Helper()
	g := &gatehouse.Group{TenantID: tenantID, DisplayName: name}
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateGroup(t.Context(), g) })
	return g
}

// ids returns the IDs of objects in order.
func ids[T any](objs []T, id func(T) string) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = id(o)
	}
	return out
}

func userID(u *gatehouse.User) string { return u.ID }

// allPages lists every page of a listing with the page size, checking that
// only the last page is short and has no next cursor, and returns the
// items of all pages and the size of each.
func allPages[T any](t *testing.T, top int, list func(opt gatehouse.ListOptions) ([]T, string, error)) (items []T, sizes []int) {
	t.Helper()
	after := ""
	for range 1000 {
		page, next, err := list(gatehouse.ListOptions{Top: top, After: after})
		if err != nil {
			t.Fatalf("list after %q: %v", after, err)
		}
		items = append(items, page...)
		sizes = append(sizes, len(page))
		if next == "" {
			return items, sizes
		}
		if len(page) != top {
			t.Fatalf("page after %q has %d items and a next cursor, want %d", after, len(page), top)
		}
		after = next
	}
	t.Fatal("listing never ended")
	return nil, nil
}
