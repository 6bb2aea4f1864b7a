package gatehouse_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

var update = flag.Bool("update", false, "rewrite testdata/assurance.golden")

// TestAssuranceGolden pins the amr and acr claims of every sign-in of one
// or two methods to testdata/assurance.golden, the table docs/mfa.md
// documents. Run with -update after a deliberate change, and read the diff.
func TestAssuranceGolden(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	single := []struct {
		name string
		use  gatehouse.MethodUse
	}{
		{"password", gatehouse.MethodUse{Method: gatehouse.MethodPassword}},
		{"email code", gatehouse.MethodUse{Method: gatehouse.MethodEmail}},
		{"passkey (device-bound)", gatehouse.MethodUse{Method: gatehouse.MethodFido2}},
		{"passkey (device-bound, verified)", gatehouse.MethodUse{Method: gatehouse.MethodFido2, UserVerified: true}},
		{"passkey (synced, verified)", gatehouse.MethodUse{Method: gatehouse.MethodFido2, UserVerified: true, Synced: true}},
		{"authenticator app", gatehouse.MethodUse{Method: gatehouse.MethodSoftwareOath}},
		{"text message", gatehouse.MethodUse{Method: gatehouse.MethodSMS}},
		{"recovery code", gatehouse.MethodUse{Method: gatehouse.MethodRecoveryCode}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-70s %-22s %s\n", "# methods", "amr", "acr")
	line := func(names []string, uses []gatehouse.MethodUse) {
		fmt.Fprintf(&b, "%-70s %-22s %s\n", strings.Join(names, " + "), strings.Join(gatehouse.AMR(uses), ","), gatehouse.LevelOf(uses).ACR())
	}
	for _, a := range single {
		if gatehouse.IsFirstFactor(a.use.Method) {
			line([]string{a.name}, []gatehouse.MethodUse{a.use})
		}
	}
	for _, a := range single {
		if !gatehouse.IsFirstFactor(a.use.Method) || a.use.Method == gatehouse.MethodFido2 && a.use.UserVerified {
			continue
		}
		for _, c := range single {
			if c.use.Method == a.use.Method || c.use.Method == gatehouse.MethodPassword {
				continue
			}
			first, second := a.use, c.use
			first.At, second.At = at, at.Add(time.Minute)
			line([]string{a.name, c.name}, []gatehouse.MethodUse{first, second})
		}
	}
	got := b.String()
	const path = "testdata/assurance.golden"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestAssuranceGolden -update . to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the amr/acr table changed; if that is meant, run with -update and update docs/mfa.md.\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestLevelForACR(t *testing.T) {
	for _, tt := range []struct {
		acr  string
		want gatehouse.Level
		ok   bool
	}{
		{"1", gatehouse.LevelSingleFactor, true},
		{"2", gatehouse.LevelMultiFactor, true},
		{"3", gatehouse.LevelPhishingResistant, true},
		{"0", gatehouse.LevelNone, false},
		{"urn:mace:incommon:iap:silver", gatehouse.LevelNone, false},
		{"", gatehouse.LevelNone, false},
	} {
		got, ok := gatehouse.LevelForACR(tt.acr)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LevelForACR(%q) = %v, %v; want %v, %v", tt.acr, got, ok, tt.want, tt.ok)
		}
		if ok && got.ACR() != tt.acr {
			t.Errorf("Level(%v).ACR() = %q, want %q", got, got.ACR(), tt.acr)
		}
	}
}
