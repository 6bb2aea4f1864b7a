package main

import (
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/geoip/geoiptest"
)

// TestTrustedProxies checks how --trusted-proxies and its variable are
// read: addresses become ranges of one, IPv4-mapped IPv6 becomes IPv4,
// space around entries is allowed, and an empty list trusts nobody.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		cmd  *command
		args []string
		env  map[string]string
		want string // the ranges, comma-separated
		warn string
	}{
		{serveCommand(), nil, nil, "", ""},
		{serveCommand(), []string{"--trusted-proxies", ""}, nil, "", ""},
		{serveCommand(), []string{"--trusted-proxies", "10.0.0.0/8,127.0.0.1"}, nil, "10.0.0.0/8,127.0.0.1/32", ""},
		{serveCommand(), nil, map[string]string{"GATEHOUSE_TRUSTED_PROXIES": " 10.0.0.0/8 , 2001:db8::/32, ::1 "}, "10.0.0.0/8,2001:db8::/32,::1/128", ""},
		{serveCommand(), []string{"--trusted-proxies", "192.0.2.1"}, map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8"}, "192.0.2.1/32", ""},
		{serveCommand(), []string{"--trusted-proxies", "::ffff:192.0.2.1,::ffff:10.0.0.0/104"}, nil, "192.0.2.1/32,10.0.0.0/8", ""},
		{serveCommand(), []string{"--trusted-proxies", "0.0.0.0/0"}, nil, "0.0.0.0/0", "trusts every address"},
		{serveCommand(), []string{"--trusted-proxies", "::/0"}, nil, "::/0", "trusts every address"},
		{demoCommand(), []string{"--trusted-proxies", "172.16.0.0/12"}, nil, "172.16.0.0/12", ""},
		// The demo takes flags only: a real server's environment does not
		// reach it.
		{demoCommand(), nil, map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8"}, "", ""},
	} {
		c, err := parse(tc.cmd, tc.args, mapenv(tc.env), io.Discard)
		if err != nil {
			t.Errorf("%s %q %v: %v", tc.cmd.name, tc.args, tc.env, err)
			continue
		}
		var got []string
		for _, p := range c.TrustedProxies {
			got = append(got, p.String())
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s %q %v: trusted proxies %q, want %q", tc.cmd.name, tc.args, tc.env, got, tc.want)
		}
		warnings := strings.Join(c.warnings, "\n")
		if (tc.warn == "") != (warnings == "") || !strings.Contains(warnings, tc.warn) {
			t.Errorf("%s %q %v: warnings %q, want %q", tc.cmd.name, tc.args, tc.env, warnings, tc.warn)
		}
	}
}

// TestTrustedProxiesErrors checks that a bad entry is refused with an
// error that names it, from the flag and from the variable.
func TestTrustedProxiesErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,10.0.0.300"}, nil, []string{"--trusted-proxies", `"10.0.0.300" is not an IP address or CIDR range`}},
		{[]string{"serve", "--trusted-proxies", "proxy.example.com"}, nil, []string{`"proxy.example.com" is not an IP address`}},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/33"}, nil, []string{`"10.0.0.0/33" is not a CIDR range`}},
		{[]string{"serve", "--trusted-proxies", "10.0.0.1/8"}, nil, []string{`"10.0.0.1/8" has bits set past its prefix length`, "10.0.0.0/8", "10.0.0.1"}},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,,127.0.0.1"}, nil, []string{"empty entry"}},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,"}, nil, []string{"empty entry"}},
		{[]string{"serve", "--trusted-proxies", "fe80::1%eth0"}, nil, []string{`"fe80::1%eth0" has an IPv6 zone`}},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8 127.0.0.1"}, nil, []string{`"10.0.0.0/8 127.0.0.1" is not a CIDR range`, "separated by commas"}},
		{[]string{"serve"}, map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8;127.0.0.1"}, []string{"environment variable GATEHOUSE_TRUSTED_PROXIES", `"10.0.0.0/8;127.0.0.1"`}},
		{[]string{"demo", "--trusted-proxies", "localhost"}, nil, []string{"demo: --trusted-proxies", `"localhost" is not an IP address`}},
	} {
		r := runCLI(t, tc.env, tc.args...)
		for _, want := range tc.want {
			if r.err == nil || !strings.Contains(r.err.Error(), want) {
				t.Errorf("%q %v: err = %v, want it to contain %q", tc.args, tc.env, r.err, want)
			}
		}
	}
}

// TestServeTrustedProxies checks that serve hands the trusted proxies to
// the server: a request from one is logged with the forwarded client
// address and the proxy as its peer.
func TestServeTrustedProxies(t *testing.T) {
	base, logs, stop := startServe(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir(), "GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1"})
	req, err := http.NewRequest("GET", base+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", "203.0.113.66, 198.51.100.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, want := range []string{`"trusted_proxies":"127.0.0.1/32"`, `"remote":"198.51.100.7","peer":"127.0.0.1"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "203.0.113.66") {
		t.Errorf("the logs show the spoofed left-most address:\n%s", logs.String())
	}
}

// TestServeGeoIP checks that serve opens the database of --geoip-db (or
// GATEHOUSE_GEOIP_DB) and says so, says when there is none, and refuses
// a file that is not one, naming the flag.
func TestServeGeoIP(t *testing.T) {
	db := geoiptest.Write(t, geoiptest.Network{CIDR: "81.2.69.0/24", Country: "GB"})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"Flag", nil, []string{"--geoip-db", db}, `"msg":"GeoIP database opened","path":"` + db + `","type":"GeoLite2-City"`},
		{"Environment", map[string]string{"GATEHOUSE_GEOIP_DB": db}, nil, `"msg":"GeoIP database opened"`},
		{"None", nil, nil, `no --geoip-db: the country of sign-ins is unknown`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()}
			maps.Copy(env, tc.env)
			_, logs, stop := startServe(t, env, tc.args...)
			if err := stop(); err != nil {
				t.Fatalf("serve: %v", err)
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("logs lack %s:\n%s", tc.want, logs.String())
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()}, "serve", "--addr", "127.0.0.1:0", "--geoip-db", bad)
	if r.err == nil || !strings.Contains(r.err.Error(), "--geoip-db") {
		t.Errorf("serve with a damaged GeoIP database: err = %v, want an error naming --geoip-db", r.err)
	}
}
