package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
)

func signInID(s *gatehouse.SignIn) string { return s.ID }

// logSignIn appends e to the sign-in log.
func logSignIn(t *testing.T, s gatehouse.Store, e *gatehouse.SignIn) *gatehouse.SignIn {
	t.Helper()
	update(t, s, func(tx gatehouse.Tx) error { return tx.CreateSignIn(t.Context(), e) })
	return e
}

func testSignIns(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	tn := newTenant(t, s, "contoso")
	other := newTenant(t, s, "fabrikam")
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	full := &gatehouse.SignIn{
		TenantID: tn.ID, CreatedAt: oddTime(3),
		UserID: "user-1", UserPrincipalName: "Ada@Example.com", UserDisplayName: "Ada ✓", AppID: "app-1", AppDisplayName: "Shop",
		IPAddress: "2001:db8:1:2::7", ClientAppUsed: gatehouse.ClientAppUsedBrowser, UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		Status:                  gatehouse.SignInStatus{ErrorCode: gatehouse.SignInBlockedByPolicy, FailureReason: "Access has been blocked by Conditional Access policies."},
		Location:                gatehouse.SignInLocation{City: "Redmond", State: "Washington", CountryOrRegion: "US", Coordinates: &gatehouse.GeoCoordinates{Latitude: 47.68, Longitude: -122.12}},
		ConditionalAccessStatus: gatehouse.CAStatusFailure,
		AppliedPolicies: []gatehouse.AppliedPolicy{
			{ID: "p-1", DisplayName: "Block", Result: gatehouse.ResultFailure, EnforcedGrantControls: []string{"Block"}, EnforcedSessionControls: []string{}},
			{ID: "p-2", DisplayName: "Off", Result: gatehouse.ResultNotEnabled, EnforcedGrantControls: []string{}, EnforcedSessionControls: []string{}},
		},
		AuthenticationRequirement: gatehouse.AuthMultiFactor,
		AuthenticationDetails: []gatehouse.AuthenticationDetail{
			{Method: "Password", At: base, Requirement: "Primary authentication", ResultDetail: "Correct password", Succeeded: true},
		},
		RiskLevelDuringSignIn: gatehouse.RiskMedium, RiskEventTypes: []string{"unfamiliarFeatures"},
		IsInteractive: true, CorrelationID: "c0ffee00-0000-4000-8000-000000000000",
	}
	logSignIn(t, s, full)
	if full.ID == "" {
		t.Fatal("CreateSignIn left ID empty")
	}
	checkStoredTime(t, "CreatedAt", full.CreatedAt)

	t.Run("ReadBack", func(t *testing.T) {
		got, err := s.SignIn(ctx, tn.ID, full.ID)
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		want := *full
		want.CreatedAt = micro(oddTime(3))
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("SignIn (-want +got):\n%s", diff)
		}
		_, err = s.SignIn(ctx, other.ID, full.ID)
		wantCode(t, "SignIn of another tenant", err, gatehouse.ENOTFOUND)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSignIn(ctx, &gatehouse.SignIn{ID: full.ID, TenantID: tn.ID})
		})
		wantCode(t, "CreateSignIn with a taken ID", err, gatehouse.ECONFLICT, full.ID)
		err = updateErr(t, s, func(tx gatehouse.Tx) error {
			return tx.CreateSignIn(ctx, &gatehouse.SignIn{TenantID: "no-such-tenant"})
		})
		wantCode(t, "CreateSignIn in a missing tenant", err, gatehouse.ENOTFOUND)
		c := startClock()
		stamped := logSignIn(t, s, &gatehouse.SignIn{TenantID: other.ID, UserID: "theirs"})
		c.check(t, "CreatedAt of an entry without one", stamped.CreatedAt)
	})

	t.Run("ListAndFilter", func(t *testing.T) {
		tn := newTenant(t, s, "many")
		ok, denied := 0, gatehouse.SignInInvalidCredentials
		var made []*gatehouse.SignIn
		for i, e := range []struct {
			user, app string
			code      int
		}{
			{"u1", "a1", ok}, {"u1", "a2", denied}, {"u2", "a1", ok}, {"u2", "a1", denied}, {"u1", "a1", ok}, {"u3", "a2", ok},
		} {
			made = append(made, logSignIn(t, s, &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: base.Add(time.Duration(i) * time.Minute),
				UserID: e.user, AppID: e.app, Status: gatehouse.SignInStatus{ErrorCode: e.code}}))
		}
		newest := func(is ...int) []string {
			out := make([]string, len(is))
			for j, i := range is {
				out[len(is)-1-j] = made[i].ID
			}
			return out
		}
		all, sizes := allPages(t, 4, func(opt gatehouse.ListOptions) ([]*gatehouse.SignIn, string, error) {
			return s.ListSignIns(ctx, tn.ID, gatehouse.SignInFilter{}, opt)
		})
		if diff := cmp.Diff(newest(0, 1, 2, 3, 4, 5), ids(all, signInID)); diff != "" {
			t.Errorf("ListSignIns, newest first (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{4, 2}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		zero, failed := 0, denied
		for _, tc := range []struct {
			name string
			f    gatehouse.SignInFilter
			want []string
		}{
			{"User", gatehouse.SignInFilter{UserID: "u1"}, newest(0, 1, 4)},
			{"App", gatehouse.SignInFilter{AppID: "a1"}, newest(0, 2, 3, 4)},
			{"UserAndApp", gatehouse.SignInFilter{UserID: "u2", AppID: "a1"}, newest(2, 3)},
			{"Succeeded", gatehouse.SignInFilter{ErrorCode: &zero}, newest(0, 2, 4, 5)},
			{"Failed", gatehouse.SignInFilter{ErrorCode: &failed}, newest(1, 3)},
			{"From", gatehouse.SignInFilter{From: base.Add(4 * time.Minute)}, newest(4, 5)},
			{"To", gatehouse.SignInFilter{To: base.Add(time.Minute)}, newest(0, 1)},
			{"Between", gatehouse.SignInFilter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute), AppID: "a1"}, newest(2, 3)},
			{"NoMatch", gatehouse.SignInFilter{UserID: "nobody"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, _ := allPages(t, 1, func(opt gatehouse.ListOptions) ([]*gatehouse.SignIn, string, error) {
					return s.ListSignIns(ctx, tn.ID, tc.f, opt)
				})
				if diff := cmp.Diff(tc.want, ids(got, signInID), cmpEmpty); diff != "" {
					t.Errorf("ListSignIns(%+v) (-want +got):\n%s", tc.f, diff)
				}
			})
		}
		theirs, _, err := s.ListSignIns(ctx, other.ID, gatehouse.SignInFilter{UserID: "u1"}, gatehouse.ListOptions{})
		if err != nil || len(theirs) != 0 {
			t.Errorf("ListSignIns of another tenant = %v, %v; want none", ids(theirs, signInID), err)
		}
	})

	t.Run("History", func(t *testing.T) {
		tn := newTenant(t, s, "history")
		now := base.Add(24 * time.Hour)
		at := func(ago time.Duration) time.Time { return now.Add(-ago) }
		fail := func(upn, ip string, ago time.Duration) {
			logSignIn(t, s, &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: at(ago), UserPrincipalName: upn, IPAddress: ip,
				Status: gatehouse.SignInStatus{ErrorCode: gatehouse.SignInInvalidCredentials}})
		}
		fail("a@example.com", "198.51.100.7", time.Minute)
		fail("A@EXAMPLE.COM", "198.51.100.7", 2*time.Minute) // the same account
		fail("b@example.com", "198.51.100.7", 3*time.Minute)
		fail("c@example.com", "198.51.100.8", 3*time.Minute)  // another address
		fail("d@example.com", "198.51.100.7", 2*time.Hour)    // before the window
		fail("e@example.com", "2001:db8:5:6::1", time.Minute) // one IPv6 /64 …
		fail("f@example.com", "2001:db8:5:6::2", time.Minute) // … counts as one address
		fail("g@example.com", "2001:db8:5:7::1", time.Minute) // another /64
		logSignIn(t, s, &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: at(time.Minute), UserPrincipalName: "h@example.com",
			IPAddress: "198.51.100.7", Status: gatehouse.SignInStatus{ErrorCode: gatehouse.SignInInterrupted}}) // not a failed credential
		for _, tc := range []struct {
			addr string
			want int
		}{{"198.51.100.7", 2}, {"198.51.100.8", 1}, {"2001:db8:5:6::99", 2}, {"203.0.113.1", 0}, {"", 0}} {
			h, err := s.SignInHistory(ctx, tn.ID, gatehouse.SignInHistoryQuery{Address: tc.addr, FailuresSince: at(time.Hour)})
			if err != nil {
				t.Fatalf("SignInHistory: %v", err)
			}
			if h.FailedAccounts != tc.want {
				t.Errorf("FailedAccounts from %q = %d, want %d", tc.addr, h.FailedAccounts, tc.want)
			}
		}

		ok := func(user, ip string, ago time.Duration, risk gatehouse.RiskLevel, where *gatehouse.GeoCoordinates) *gatehouse.SignIn {
			return logSignIn(t, s, &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: at(ago), UserID: user, IPAddress: ip,
				RiskLevelDuringSignIn: risk, Location: gatehouse.SignInLocation{Coordinates: where}})
		}
		paris := &gatehouse.GeoCoordinates{Latitude: 48.86, Longitude: 2.35}
		ok("ada", "192.0.2.10", 48*time.Hour, gatehouse.RiskHigh, nil)
		located := ok("ada", "192.0.2.11", 30*time.Hour, gatehouse.RiskNone, paris)
		ok("ada", "2001:db8:aa:bb::1", 20*time.Hour, gatehouse.RiskMedium, nil)
		ok("ada", "192.0.2.12", 10*time.Hour, gatehouse.RiskLow, nil)
		logSignIn(t, s, &gatehouse.SignIn{TenantID: tn.ID, CreatedAt: at(time.Hour), UserID: "ada", IPAddress: "203.0.113.9",
			RiskLevelDuringSignIn: gatehouse.RiskHigh, Location: gatehouse.SignInLocation{Coordinates: &gatehouse.GeoCoordinates{Latitude: 1, Longitude: 1}},
			Status: gatehouse.SignInStatus{ErrorCode: gatehouse.SignInBlockedByPolicy}}) // failed: neither seen nor located
		for _, tc := range []struct {
			name, user, addr string
			seen, before     bool
			risky            int
			last             string
		}{
			{"SameIPv4Network", "ada", "192.0.2.200", true, true, 2, located.ID},
			{"SameIPv6Network", "ada", "2001:db8:aa:ff::9", true, true, 2, located.ID},
			{"NewNetwork", "ada", "192.0.3.1", false, true, 2, located.ID},
			{"FailedSignInsDoNotCount", "ada", "203.0.113.9", false, true, 2, located.ID},
			{"NewUser", "bob", "192.0.2.200", false, false, 0, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, err := s.SignInHistory(ctx, tn.ID, gatehouse.SignInHistoryQuery{UserID: tc.user, Address: tc.addr,
					FailuresSince: at(time.Hour), RiskySince: at(36 * time.Hour)})
				if err != nil {
					t.Fatalf("SignInHistory: %v", err)
				}
				if h.NetworkSeen != tc.seen || h.SignedInBefore != tc.before || h.RiskySignIns != tc.risky {
					t.Errorf("NetworkSeen %v, SignedInBefore %v, RiskySignIns %d; want %v, %v, %d",
						h.NetworkSeen, h.SignedInBefore, h.RiskySignIns, tc.seen, tc.before, tc.risky)
				}
				switch {
				case tc.last == "" && h.LastLocated != nil:
					t.Errorf("LastLocated = %s, want none", h.LastLocated.ID)
				case tc.last != "" && (h.LastLocated == nil || h.LastLocated.ID != tc.last):
					t.Errorf("LastLocated = %v, want %s", h.LastLocated, tc.last)
				case tc.last != "" && cmp.Diff(paris, h.LastLocated.Location.Coordinates) != "":
					t.Errorf("LastLocated coordinates = %v, want %v", h.LastLocated.Location.Coordinates, paris)
				}
			})
		}
		h, err := s.SignInHistory(ctx, other.ID, gatehouse.SignInHistoryQuery{UserID: "ada", Address: "192.0.2.200"})
		if err != nil || h.SignedInBefore || h.RiskySignIns != 0 || h.LastLocated != nil {
			t.Errorf("SignInHistory of ada in another tenant = %+v, %v; want nothing", h, err)
		}
	})
}
