package geoip_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/geoip"
	"github.com/gatehouse/gatehouse/geoip/geoiptest"
	"github.com/google/go-cmp/cmp"
)

// writeDB builds the test database.
func writeDB(t *testing.T) string {
	return geoiptest.Write(t,
		geoiptest.Network{CIDR: "81.2.69.0/24", Country: "GB", City: "London", State: "England", Located: true, Latitude: 51.5142, Longitude: -0.0931},
		geoiptest.Network{CIDR: "2a02:ec80::/29", Country: "FR", Located: true, Latitude: 48.8582, Longitude: 2.3387},
		geoiptest.Network{CIDR: "1.0.0.0/24", RegisteredCountry: "AU"},
		geoiptest.Network{CIDR: "5.6.7.0/24", Country: "NL", Anonymous: true},
		geoiptest.Network{CIDR: "9.9.9.0/24", Country: "XX"},
	)
}

// TestLocate checks what the database tells of addresses it knows and
// does not know.
func TestLocate(t *testing.T) {
	db, err := geoip.Open(writeDB(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if got := db.Type(); got != "GeoLite2-City" {
		t.Errorf("Type = %q", got)
	}
	london := gatehouse.GeoPlace{Location: gatehouse.SignInLocation{City: "London", State: "England", CountryOrRegion: "GB",
		Coordinates: &gatehouse.GeoCoordinates{Latitude: 51.5142, Longitude: -0.0931}}}
	for _, tc := range []struct {
		name string
		ip   string
		want gatehouse.GeoPlace
		ok   bool
	}{
		{"City", "81.2.69.142", london, true},
		{"MappedIPv4", "::ffff:81.2.69.142", london, true},
		{"IPv6", "2a02:ec80:300::1", gatehouse.GeoPlace{Location: gatehouse.SignInLocation{CountryOrRegion: "FR",
			Coordinates: &gatehouse.GeoCoordinates{Latitude: 48.8582, Longitude: 2.3387}}}, true},
		{"RegisteredCountryOnly", "1.0.0.1", gatehouse.GeoPlace{Location: gatehouse.SignInLocation{CountryOrRegion: "AU"}}, true},
		{"AnonymousProxy", "5.6.7.8", gatehouse.GeoPlace{Location: gatehouse.SignInLocation{CountryOrRegion: "NL"}, Anonymous: true}, true},
		{"NotACountryCode", "9.9.9.9", gatehouse.GeoPlace{}, true},
		{"Unknown", "8.8.8.8", gatehouse.GeoPlace{}, false},
		{"Private", "10.1.2.3", gatehouse.GeoPlace{}, false},
		{"NoAddress", "", gatehouse.GeoPlace{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			got, ok := db.Locate(ip)
			if ok != tc.ok {
				t.Errorf("found %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Locate (-want +got):\n%s", diff)
			}
			country, known := db.Country(ip)
			if country != tc.want.Location.CountryOrRegion || known != (country != "") {
				t.Errorf("Country = %q, %v; want %q", country, known, tc.want.Location.CountryOrRegion)
			}
		})
	}
}

// TestWithoutDatabase checks that no database knows nothing, and that a
// missing or damaged file is an error at Open.
func TestWithoutDatabase(t *testing.T) {
	var none *geoip.DB
	if p, ok := none.Locate(netip.MustParseAddr("81.2.69.142")); ok || p != (gatehouse.GeoPlace{}) {
		t.Errorf("Locate without a database = %+v, %v; want nothing", p, ok)
	}
	if c, ok := none.Country(netip.MustParseAddr("81.2.69.142")); ok || c != "" {
		t.Errorf("Country without a database = %q, %v", c, ok)
	}
	if err := none.Close(); err != nil {
		t.Errorf("Close of no database: %v", err)
	}
	if _, err := geoip.Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a MaxMind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := geoip.Open(bad); err == nil {
		t.Error("Open of a damaged file succeeded")
	}
}
