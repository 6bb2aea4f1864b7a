// Package geoiptest writes small MaxMind-format databases for tests, in
// the shape of GeoLite2 City, with github.com/maxmind/mmdbwriter.
package geoiptest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of a test database and what the database says
// of it; empty properties are left out of its record.
type Network struct {
	CIDR              string
	Country           string // iso_code of country
	RegisteredCountry string // iso_code of registered_country
	City, State       string // English names of the city and first subdivision
	// Latitude and Longitude are set when Located.
	Located             bool
	Latitude, Longitude float64
	// Anonymous sets traits.is_anonymous_proxy.
	Anonymous bool
}

// Write builds a database of the networks in a temporary directory of
// the test and returns its path.
func Write(t testing.TB, networks ...Network) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24})
	if err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	names := func(en string) mmdbtype.Map { return mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(en)}} }
	for _, n := range networks {
		rec := mmdbtype.Map{}
		if n.Country != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		}
		if n.RegisteredCountry != "" {
			rec["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.RegisteredCountry)}
		}
		if n.City != "" {
			rec["city"] = names(n.City)
		}
		if n.State != "" {
			rec["subdivisions"] = mmdbtype.Slice{names(n.State)}
		}
		if n.Located {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(n.Latitude), "longitude": mmdbtype.Float64(n.Longitude)}
		}
		if n.Anonymous {
			rec["traits"] = mmdbtype.Map{"is_anonymous_proxy": mmdbtype.Bool(true)}
		}
		_, network, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			t.Fatalf("geoiptest: %v", err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatalf("geoiptest: insert %s: %v", n.CIDR, err)
		}
	}
	path := filepath.Join(t.TempDir(), "geoip.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatalf("geoiptest: write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	return path
}
