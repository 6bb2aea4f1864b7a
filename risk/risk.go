package risk

import (
	"math"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Detections, named as Entra's riskEventTypes where Entra has one.
const (
	// PasswordSpray: many accounts failed to sign in from the sign-in's
	// address lately.
	PasswordSpray = "passwordSpray"
	// UnfamiliarFeatures: the user signs in from a network (IPv4 /24,
	// IPv6 /48) they never signed in from successfully.
	UnfamiliarFeatures = "unfamiliarFeatures"
	// UnlikelyTravel: the user could not have travelled from their last
	// sign-in's place to this one in the time between (GeoIP with
	// coordinates).
	UnlikelyTravel = "unlikelyTravel"
	// AnonymizedIPAddress: the address belongs to an anonymizing network
	// (a GeoIP database with anonymous-IP data).
	AnonymizedIPAddress = "anonymizedIPAddress"
	// UnknownLocation: GeoIP knows no country for a public address.
	UnknownLocation = "unknownLocation"
	// LeakedCredentials: the password the user signed in with is on the
	// list of breached and common passwords.
	LeakedCredentials = "leakedCredentials"
	// RepeatedRiskySignIns: the user's recent sign-ins were risky.
	RepeatedRiskySignIns = "repeatedRiskySignIns"
)

// The windows and thresholds of the rules.
const (
	// FailureWindow is how far back failed sign-ins from the address
	// count for PasswordSpray.
	FailureWindow = time.Hour
	// SprayMedium and SprayHigh are how many distinct accounts must have
	// failed from the address for 2 and 3 points.
	SprayMedium = 5
	SprayHigh   = 20
	// TravelSpeed is the fastest a person travels, in km/h (an airliner
	// and more); TravelMinDistance the least distance, in km, that counts,
	// below GeoIP's accuracy.
	TravelSpeed       = 1000.0
	TravelMinDistance = 500.0
	// RiskyWindow is how far back risky sign-ins count for user risk.
	RiskyWindow = 14 * 24 * time.Hour
)

// Assessment is a risk score and what it came from.
type Assessment struct {
	Level gatehouse.RiskLevel
	// Score is the sum of the detections' points: 0 is none, 1 low, 2
	// medium, 3 and more high.
	Score      int
	Detections []string
}

func (a *Assessment) add(points int, detection string) {
	a.Score += points
	a.Detections = append(a.Detections, detection)
}

func (a Assessment) done() Assessment {
	a.Level = gatehouse.RiskLevelOfRank(a.Score)
	return a
}

// SignInSignals are what is known of a sign-in in progress.
type SignInSignals struct {
	Now time.Time
	// IP is the client address.
	IP netip.Addr
	// FailedAccounts is how many distinct accounts failed to sign in with
	// invalid credentials from the address (IPv4, or the IPv6 /64) in the
	// last FailureWindow.
	FailedAccounts int
	// SignedInBefore reports whether the user signed in successfully
	// before, NetworkSeen whether from the address's network.
	SignedInBefore bool
	NetworkSeen    bool
	// GeoIP reports whether a GeoIP database is configured; Here is what
	// it says of the address, Anonymous whether the address is an
	// anonymizing network.
	GeoIP     bool
	Here      gatehouse.SignInLocation
	Anonymous bool
	// Last is the user's last successful sign-in with coordinates, or nil.
	Last *gatehouse.SignIn
}

// SignIn scores a sign-in:
//
//   - PasswordSpray: 2 points when at least SprayMedium accounts failed
//     from the address in the last hour, 3 from SprayHigh;
//   - UnfamiliarFeatures: 1 point for a network the user never signed in
//     from successfully (not for their first sign-in ever);
//   - UnlikelyTravel: 2 points when the user's last located sign-in is
//     more than TravelMinDistance away and reaching here from there took
//     faster than TravelSpeed;
//   - AnonymizedIPAddress: 2 points;
//   - UnknownLocation: 1 point when GeoIP is configured and knows no
//     country for a public address.
func SignIn(s SignInSignals) Assessment {
	var a Assessment
	switch {
	case s.FailedAccounts >= SprayHigh:
		a.add(3, PasswordSpray)
	case s.FailedAccounts >= SprayMedium:
		a.add(2, PasswordSpray)
	}
	if s.SignedInBefore && !s.NetworkSeen {
		a.add(1, UnfamiliarFeatures)
	}
	if s.GeoIP && unlikelyTravel(s) {
		a.add(2, UnlikelyTravel)
	}
	if s.Anonymous {
		a.add(2, AnonymizedIPAddress)
	}
	if s.GeoIP && s.Here.CountryOrRegion == "" && public(s.IP) {
		a.add(1, UnknownLocation)
	}
	return a.done()
}

// unlikelyTravel reports whether the user went from their last located
// sign-in to here faster than anyone travels.
func unlikelyTravel(s SignInSignals) bool {
	here := s.Here.Coordinates
	if here == nil || s.Last == nil || s.Last.Location.Coordinates == nil {
		return false
	}
	km := Distance(*s.Last.Location.Coordinates, *here)
	if km <= TravelMinDistance {
		return false
	}
	hours := s.Now.Sub(s.Last.CreatedAt).Hours()
	return hours <= 0 || km/hours > TravelSpeed
}

// public reports whether an address is a public unicast one, which GeoIP
// databases should know.
func public(ip netip.Addr) bool {
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate()
}

// earthRadius is the Earth's mean radius in km.
const earthRadius = 6371.0

// Distance returns the great-circle distance between two points in km
// (the haversine formula).
func Distance(a, b gatehouse.GeoCoordinates) float64 {
	rad := math.Pi / 180
	dLat, dLon := (b.Latitude-a.Latitude)*rad, (b.Longitude-a.Longitude)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(min(1, h)))
}

// UserSignals are what is known of a user at sign-in.
type UserSignals struct {
	// BreachedPassword reports whether the password they signed in with
	// is on the list of breached and common passwords.
	BreachedPassword bool
	// RiskySignIns is how many of their sign-ins of the last RiskyWindow
	// had a medium or high risk.
	RiskySignIns int
}

// User scores a user:
//
//   - LeakedCredentials: 3 points;
//   - RepeatedRiskySignIns: 1 point for one risky sign-in in the last
//     RiskyWindow, 2 from three, 3 from five.
func User(u UserSignals) Assessment {
	var a Assessment
	if u.BreachedPassword {
		a.add(3, LeakedCredentials)
	}
	switch n := u.RiskySignIns; {
	case n >= 5:
		a.add(3, RepeatedRiskySignIns)
	case n >= 3:
		a.add(2, RepeatedRiskySignIns)
	case n >= 1:
		a.add(1, RepeatedRiskySignIns)
	}
	return a.done()
}

// Query returns the sign-in log query that gathers the signals of a
// sign-in of the user (by ID, "" before one is known) from the address
// at now. riskySince, when later than RiskyWindow before now (the user's
// last password change, which remediates their risk), starts the count
// of risky sign-ins.
func Query(userID, address string, now, riskySince time.Time) gatehouse.SignInHistoryQuery {
	since := now.Add(-RiskyWindow)
	if riskySince.After(since) {
		since = riskySince
	}
	return gatehouse.SignInHistoryQuery{UserID: userID, Address: address, FailuresSince: now.Add(-FailureWindow), RiskySince: since}
}

// Signals returns the signals of a sign-in from the history the sign-in
// log gave for Query, and what GeoIP said of the address (geoIP false
// when no database is configured).
func Signals(h *gatehouse.SignInHistory, now time.Time, ip netip.Addr, geoIP bool, here gatehouse.SignInLocation, anonymous bool) SignInSignals {
	return SignInSignals{Now: now, IP: ip, FailedAccounts: h.FailedAccounts, SignedInBefore: h.SignedInBefore, NetworkSeen: h.NetworkSeen,
		GeoIP: geoIP, Here: here, Anonymous: anonymous, Last: h.LastLocated}
}
