package risk

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	now      = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	paris    = gatehouse.GeoCoordinates{Latitude: 48.8566, Longitude: 2.3522}
	london   = gatehouse.GeoCoordinates{Latitude: 51.5074, Longitude: -0.1278}
	sydney   = gatehouse.GeoCoordinates{Latitude: -33.8688, Longitude: 151.2093}
	publicIP = netip.MustParseAddr("192.0.2.10") // TEST-NET-1, public for the rules
)

// familiar is a sign-in of a user from a network they know, with GeoIP
// locating it in Paris, where they signed in an hour ago.
func familiar() SignInSignals {
	return SignInSignals{Now: now, IP: publicIP, SignedInBefore: true, NetworkSeen: true, GeoIP: true,
		Here: gatehouse.SignInLocation{CountryOrRegion: "FR", Coordinates: &paris},
		Last: &gatehouse.SignIn{CreatedAt: now.Add(-time.Hour), Location: gatehouse.SignInLocation{CountryOrRegion: "FR", Coordinates: &paris}}}
}

// TestSignIn checks each sign-in risk rule, alone and summed.
func TestSignIn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		change     func(*SignInSignals)
		level      gatehouse.RiskLevel
		detections []string
	}{
		{"Familiar", func(*SignInSignals) {}, gatehouse.RiskNone, nil},
		{"FewFailuresFromTheAddress", func(s *SignInSignals) { s.FailedAccounts = SprayMedium - 1 }, gatehouse.RiskNone, nil},
		{"SprayMedium", func(s *SignInSignals) { s.FailedAccounts = SprayMedium }, gatehouse.RiskMedium, []string{PasswordSpray}},
		{"SprayHigh", func(s *SignInSignals) { s.FailedAccounts = SprayHigh }, gatehouse.RiskHigh, []string{PasswordSpray}},
		{"NewNetwork", func(s *SignInSignals) { s.NetworkSeen = false }, gatehouse.RiskLow, []string{UnfamiliarFeatures}},
		{"FirstSignInEverIsNotUnfamiliar", func(s *SignInSignals) { s.SignedInBefore, s.NetworkSeen, s.Last = false, false, nil }, gatehouse.RiskNone, nil},
		{"LondonAnHourAfterParis", func(s *SignInSignals) { s.Here.Coordinates = &london }, gatehouse.RiskNone, nil},
		{"SydneyAnHourAfterParis", func(s *SignInSignals) { s.Here.Coordinates = &sydney }, gatehouse.RiskMedium, []string{UnlikelyTravel}},
		{"SydneyADayAfterParis", func(s *SignInSignals) {
			s.Here.Coordinates, s.Last.CreatedAt = &sydney, now.Add(-24*time.Hour)
		}, gatehouse.RiskNone, nil},
		{"SydneyAtTheSameInstant", func(s *SignInSignals) { s.Here.Coordinates, s.Last.CreatedAt = &sydney, now }, gatehouse.RiskMedium, []string{UnlikelyTravel}},
		{"NoTravelWithoutGeoIP", func(s *SignInSignals) { s.Here.Coordinates, s.GeoIP = &sydney, false }, gatehouse.RiskNone, nil},
		{"NoTravelWithoutCoordinatesHere", func(s *SignInSignals) { s.Here.Coordinates = nil }, gatehouse.RiskNone, nil},
		{"NoTravelWithoutAPreviousPlace", func(s *SignInSignals) { s.Here.Coordinates, s.Last = &sydney, nil }, gatehouse.RiskNone, nil},
		{"Anonymous", func(s *SignInSignals) { s.Anonymous = true }, gatehouse.RiskMedium, []string{AnonymizedIPAddress}},
		{"UnknownCountry", func(s *SignInSignals) { s.Here = gatehouse.SignInLocation{} }, gatehouse.RiskLow, []string{UnknownLocation}},
		{"UnknownCountryOfAPrivateAddress", func(s *SignInSignals) {
			s.Here, s.IP = gatehouse.SignInLocation{}, netip.MustParseAddr("10.1.2.3")
		}, gatehouse.RiskNone, nil},
		{"UnknownCountryWithoutGeoIP", func(s *SignInSignals) { s.Here, s.GeoIP = gatehouse.SignInLocation{}, false }, gatehouse.RiskNone, nil},
		{"NewNetworkAndTravel", func(s *SignInSignals) { s.NetworkSeen, s.Here.Coordinates = false, &sydney }, gatehouse.RiskHigh, []string{UnfamiliarFeatures, UnlikelyTravel}},
		{"Everything", func(s *SignInSignals) {
			s.FailedAccounts, s.NetworkSeen, s.Here, s.Anonymous = SprayHigh, false, gatehouse.SignInLocation{}, true
		}, gatehouse.RiskHigh, []string{PasswordSpray, UnfamiliarFeatures, AnonymizedIPAddress, UnknownLocation}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := familiar()
			tc.change(&s)
			a := SignIn(s)
			if a.Level != tc.level {
				t.Errorf("level %q (score %d), want %q", a.Level, a.Score, tc.level)
			}
			if diff := cmp.Diff(tc.detections, a.Detections, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("detections (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUser checks the user risk rules.
func TestUser(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     UserSignals
		level gatehouse.RiskLevel
	}{
		{"Clean", UserSignals{}, gatehouse.RiskNone},
		{"Breached", UserSignals{BreachedPassword: true}, gatehouse.RiskHigh},
		{"OneRiskySignIn", UserSignals{RiskySignIns: 1}, gatehouse.RiskLow},
		{"TwoRiskySignIns", UserSignals{RiskySignIns: 2}, gatehouse.RiskLow},
		{"ThreeRiskySignIns", UserSignals{RiskySignIns: 3}, gatehouse.RiskMedium},
		{"FiveRiskySignIns", UserSignals{RiskySignIns: 5}, gatehouse.RiskHigh},
		{"BreachedAndRisky", UserSignals{BreachedPassword: true, RiskySignIns: 1}, gatehouse.RiskHigh},
	} {
		if got := User(tc.u).Level; got != tc.level {
			t.Errorf("%s: level %q, want %q", tc.name, got, tc.level)
		}
	}
	if got := User(UserSignals{BreachedPassword: true, RiskySignIns: 3}).Detections; !cmp.Equal(got, []string{LeakedCredentials, RepeatedRiskySignIns}) {
		t.Errorf("detections %q", got)
	}
}

// TestDistance checks the great-circle distance against known figures.
func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b gatehouse.GeoCoordinates
		km   float64
	}{{paris, london, 344}, {paris, sydney, 16960}, {paris, paris, 0}} {
		if got := Distance(tc.a, tc.b); math.Abs(got-tc.km) > tc.km*0.01+1 {
			t.Errorf("Distance(%v, %v) = %.0f km, want about %.0f", tc.a, tc.b, got, tc.km)
		}
	}
}

// TestQuery checks the windows the history query asks for, and that a
// password change starts the count of risky sign-ins afresh.
func TestQuery(t *testing.T) {
	q := Query("ada", "192.0.2.1", now, time.Time{})
	want := gatehouse.SignInHistoryQuery{UserID: "ada", Address: "192.0.2.1", FailuresSince: now.Add(-FailureWindow), RiskySince: now.Add(-RiskyWindow)}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("Query (-want +got):\n%s", diff)
	}
	changed := now.Add(-48 * time.Hour)
	if q := Query("ada", "192.0.2.1", now, changed); !q.RiskySince.Equal(changed) {
		t.Errorf("RiskySince after a password change = %v, want %v", q.RiskySince, changed)
	}
	h := &gatehouse.SignInHistory{FailedAccounts: 7, SignedInBefore: true, LastLocated: &gatehouse.SignIn{ID: "last"}}
	s := Signals(h, now, publicIP, true, gatehouse.SignInLocation{CountryOrRegion: "FR"}, true)
	if s.FailedAccounts != 7 || !s.SignedInBefore || s.NetworkSeen || s.Last.ID != "last" || !s.Anonymous || !s.GeoIP || s.Here.CountryOrRegion != "FR" || s.IP != publicIP {
		t.Errorf("Signals = %+v", s)
	}
}
