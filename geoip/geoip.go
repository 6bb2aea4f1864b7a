// Package geoip tells where client addresses are from a MaxMind-format
// database (GeoLite2 or GeoIP2 Country or City, and compatible ones such
// as DB-IP's), read with github.com/oschwald/maxminddb-golang: the
// country of named locations and sign-in risk, the city and coordinates
// of the sign-in log and impossible-travel detection. Without a database
// nothing is known: the country of every sign-in is unknown.
package geoip

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an open GeoIP database. Its methods are safe for concurrent use.
// A nil *DB knows nothing.
type DB struct {
	r *maxminddb.Reader
}

// Open opens the database file at path (memory-mapped, read once: a new
// file needs a restart).
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	return &DB{r: r}, nil
}

// Type returns the database's type from its metadata, such as
// "GeoLite2-City".
func (d *DB) Type() string {
	if d == nil {
		return ""
	}
	return d.r.Metadata.DatabaseType
}

// Close releases the database.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	return d.r.Close()
}

// record is the part of a GeoIP2/GeoLite2 record Gatehouse reads; the
// traits are those of GeoIP2 Enterprise and Insights, is_anonymous that of
// the Anonymous IP database.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Subdivisions []struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Traits struct {
		IsAnonymous      bool `maxminddb:"is_anonymous"`
		IsAnonymousProxy bool `maxminddb:"is_anonymous_proxy"`
	} `maxminddb:"traits"`
	IsAnonymous bool `maxminddb:"is_anonymous"`
}

// Locate returns what the database tells of the address, and false when
// it has no record of it (private and reserved addresses, unassigned
// ones) or no database is open. The country is the one the address is
// in, else the one its network is registered in, as an upper-case ISO
// 3166-1 code; the city and subdivision are named in English.
func (d *DB) Locate(ip netip.Addr) (gatehouse.GeoPlace, bool) {
	if d == nil || !ip.IsValid() {
		return gatehouse.GeoPlace{}, false
	}
	res := d.r.Lookup(ip.Unmap().WithZone(""))
	if !res.Found() {
		return gatehouse.GeoPlace{}, false
	}
	var rec record
	if err := res.Decode(&rec); err != nil {
		// A record of another shape: nothing Gatehouse can use.
		return gatehouse.GeoPlace{}, false
	}
	var p gatehouse.GeoPlace
	country := rec.Country.ISOCode
	if country == "" {
		country = rec.RegisteredCountry.ISOCode
	}
	if c := strings.ToUpper(country); gatehouse.IsCountryCode(c) {
		p.Location.CountryOrRegion = c
	}
	p.Location.City = rec.City.Names["en"]
	if len(rec.Subdivisions) > 0 {
		p.Location.State = rec.Subdivisions[0].Names["en"]
	}
	if lat, lon := rec.Location.Latitude, rec.Location.Longitude; lat != nil && lon != nil {
		p.Location.Coordinates = &gatehouse.GeoCoordinates{Latitude: *lat, Longitude: *lon}
	}
	p.Anonymous = rec.Traits.IsAnonymous || rec.Traits.IsAnonymousProxy || rec.IsAnonymous
	return p, true
}

// Country returns the ISO 3166-1 code of the address's country, and false
// when the database does not know it.
func (d *DB) Country(ip netip.Addr) (string, bool) {
	p, ok := d.Locate(ip)
	return p.Location.CountryOrRegion, ok && p.Location.CountryOrRegion != ""
}
