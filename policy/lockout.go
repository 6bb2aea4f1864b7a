package policy

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Admin is a Global Administrator as the lockout guard sees them.
type Admin struct {
	UserID string
	// Name is how sentences name them (their display name or mail).
	Name     string
	GroupIDs []string
	RoleIDs  []string
	// Level is the strongest level their methods can reach in a sign-in
	// (registering one just in time included), Passkey whether they have
	// a passkey, and Password whether they sign in with a password (a
	// passwordChange control needs one).
	Level    gatehouse.Level
	Passkey  bool
	Password bool
}

// Lockout is an administrator the policies would keep out of the admin
// portal, and why.
type Lockout struct {
	UserID string
	Name   string
	// Reasons are sentences, one per policy that keeps them out.
	Reasons []string
}

// Sentence says the lockout in one sentence for people.
func (l Lockout) Sentence() string {
	return l.Name + " could not sign in to the admin portal: " + strings.Join(l.Reasons, " ")
}

// Lockouts returns the administrators who could not sign in to the admin
// portal under the set's enabled policies, whatever the sign-in: from
// any place (inside and outside each named location the policies use;
// with geoIP false, Gatehouse has no GeoIP database and every country is
// unknown), on any device platform, with no risk. An administrator is
// locked out when in none of those sign-ins they escape every block and
// can meet every requirement with their methods. Report-only and
// disabled policies never lock anyone out. The reasons are those of a
// sign-in from no named location on Windows.
func (s *Set) Lockouts(admins []Admin, geoIP bool) []Lockout {
	contexts := s.contexts(geoIP)
	var out []Lockout
	for _, a := range admins {
		var first Decision
		locked := true
		for i, c := range contexts {
			in := Input{UserID: a.UserID, GroupIDs: a.GroupIDs, RoleIDs: a.RoleIDs, AppID: gatehouse.AdminPortalAppID,
				ClientAppType: gatehouse.ClientBrowser, Platform: c.platform, IP: c.ip, Country: c.country}
			d := s.Evaluate(in)
			if i == 0 {
				first = d
			}
			if len(keepsOut(d, a)) == 0 {
				locked = false
				break
			}
		}
		if locked {
			reasons := keepsOut(first, a)
			if len(contexts) > 1 {
				reasons = append(reasons, "The policies keep them out from every location and device platform the policies name, too.")
			}
			out = append(out, Lockout{UserID: a.UserID, Name: a.Name, Reasons: reasons})
		}
	}
	return out
}

// keepsOut returns, as sentences, why the decision keeps the
// administrator out: its blocks and the requirements their methods
// cannot meet.
func keepsOut(d Decision, a Admin) []string {
	var out []string
	for i := range d.Len() {
		r := d.Result(i)
		if !r.Enforced() {
			continue
		}
		req, name := r.c.req, `The policy "`+r.Policy.DisplayName+`"`
		switch {
		case req.Block:
			out = append(out, name+" blocks them.")
		case req.Level > a.Level && req.Level >= gatehouse.LevelPhishingResistant && !a.Passkey:
			out = append(out, name+" requires "+req.Level.String()+", which needs a passkey, and they have none.")
		case req.Level > a.Level:
			out = append(out, name+" requires "+req.Level.String()+", and their methods reach at most "+a.Level.String()+".")
		case req.PasswordChange && !a.Password:
			out = append(out, name+" requires a password change, and they have no password.")
		}
	}
	return out
}

// signInContext is one place and device a sign-in may come from.
type signInContext struct {
	ip       netip.Addr
	country  string
	platform string
}

// contexts returns the sign-ins worth trying: the first from no named
// location (no address, country unknown) on Windows; then the first
// address of each range of the IP locations and the one just after it,
// each country of the country locations and one of none (with GeoIP), on
// each platform when a policy has a platform condition. Addresses that
// fall in the same locations are tried once.
func (s *Set) contexts(geoIP bool) []signInContext {
	ips := []netip.Addr{{}}
	seen := map[string]bool{s.membership(netip.Addr{}): true}
	countries := []string{""}
	for _, l := range s.locations {
		if !l.ip {
			for _, c := range l.countries {
				if geoIP && !slices.Contains(countries, c) {
					countries = append(countries, c)
				}
			}
			continue
		}
		for _, p := range l.prefixes {
			// Every stretch of addresses in the same locations starts at
			// the first address of a range or just after the last one.
			for _, a := range []netip.Addr{p.Addr(), lastAddr(p).Next()} {
				if !a.IsValid() {
					continue
				}
				if key := s.membership(a); !seen[key] {
					seen[key] = true
					ips = append(ips, a)
				}
			}
		}
	}
	if geoIP {
		countries = append(countries, unlistedCountry(countries))
	}
	platforms := []string{gatehouse.PlatformWindows}
	for i := range s.policies {
		if c := &s.policies[i]; c.platforms && c.enforce {
			platforms = append(platforms, slices.DeleteFunc(slices.Clone(platformBits), func(p string) bool { return p == gatehouse.PlatformWindows })...)
			break
		}
	}
	var out []signInContext
	for _, p := range platforms {
		for _, c := range countries {
			for _, ip := range ips {
				out = append(out, signInContext{ip: ip, country: c, platform: p})
			}
		}
	}
	return out
}

// membership returns a key of the IP locations the address is in.
func (s *Set) membership(a netip.Addr) string {
	var b strings.Builder
	for j := range s.locations {
		l := &s.locations[j]
		in := false
		if l.ip && a.IsValid() {
			for _, p := range l.prefixes {
				if p.Contains(a) {
					in = true
					break
				}
			}
		}
		if in {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// lastAddr returns the last address of a (masked) prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - uint(i)%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// unlistedCountry returns a country code none of the listed is.
func unlistedCountry(listed []string) string {
	for a := byte('A'); a <= 'Z'; a++ {
		for b := byte('A'); b <= 'Z'; b++ {
			if c := string([]byte{a, b}); gatehouse.IsCountryCode(c) && !slices.Contains(listed, c) {
				return c
			}
		}
	}
	return ""
}
