package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, KeySize)
	rand.Read(key)
	return key
}

func testVault(t testing.TB) *Vault {
	t.Helper()
	v, err := New(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseKey(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(0xf0 + i) // produces + and / in std base64, - and _ in URL base64
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"std padded", base64.StdEncoding.EncodeToString(key), true},
		{"std raw", base64.RawStdEncoding.EncodeToString(key), true},
		{"url padded", base64.URLEncoding.EncodeToString(key), true},
		{"url raw", base64.RawURLEncoding.EncodeToString(key), true},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(key) + "\n", true},
		{"empty", "", false},
		{"blank", " \n", false},
		{"31 bytes", base64.StdEncoding.EncodeToString(key[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(key, 0)), false},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"not base64", "this is not a key at all, sorry!!!!!!!!!!!!", false},
		{"hex", strings.Repeat("ab", 32), false}, // 64 hex chars decode as base64 to 48 bytes
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKey(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if !bytes.Equal(got, key) {
					t.Errorf("ParseKey = %x, want %x", got, key)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKey(%q) = %x, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), "32") {
				t.Errorf("error %q does not say the key must be 32 bytes", err)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets", "gatehouse")
	path := filepath.Join(dir, "key")

	key, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(key) != KeySize {
		t.Fatalf("len(key) = %d, want %d", len(key), KeySize)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("mode of %s = %04o, want %04o", c.path, got, c.want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseKey(string(b)); err != nil || !bytes.Equal(got, key) {
		t.Errorf("file holds %q (%v), want the base64 of the returned key", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key file", len(entries))
	}

	again, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !bytes.Equal(again, key) {
		t.Errorf("second load = %x, want the created key %x", again, key)
	}

	other, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, key) {
		t.Errorf("two created keys are equal")
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKeyFile(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("creator %d got key %x, creator 0 got %x; want one key", i, keys[i], keys[0])
		}
	}
}

func TestLoadOrCreateKeyFileRefuses(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(testKey(t)) + "\n"
	for _, tc := range []struct {
		name     string
		contents string
		mode     os.FileMode
		want     string
	}{
		{"group readable", good, 0o640, "chmod 600"},
		{"world readable", good, 0o604, "chmod 600"},
		{"group writable", good, 0o620, "chmod 600"},
		{"empty", "", 0o600, "empty"},
		{"short key", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "16 bytes"},
		{"garbage", "not base64 at all", 0o600, "not valid base64"},
		{"too long", strings.Repeat("A", 4096), 0o600, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tc.contents), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // umask aside
				t.Fatal(err)
			}
			key, err := LoadOrCreateKeyFile(path)
			if err == nil {
				t.Fatalf("LoadOrCreateKeyFile = %x, want an error", key)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.contents {
				t.Errorf("the refused key file was changed to %q", b)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		if _, err := LoadOrCreateKeyFile(t.TempDir()); err == nil {
			t.Errorf("LoadOrCreateKeyFile(a directory) succeeded, want an error")
		}
	})
}

func TestNew(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New(%d bytes) succeeded, want an error", n)
		}
	}
	// New copies the key: changing the caller's slice changes nothing.
	key := testKey(t)
	v, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	mac := v.MAC("p", []byte("x"))
	sealed, _ := v.Seal([]byte("x"), nil)
	clear(key)
	if got := v.MAC("q", nil); bytes.Equal(got, mustVault(t, key).MAC("q", nil)) {
		t.Errorf("MAC after clearing the caller's key matches a zero-key vault")
	}
	if got := v.MAC("p", []byte("x")); !bytes.Equal(got, mac) {
		t.Errorf("MAC changed after the caller's key was cleared")
	}
	if _, err := v.Open(sealed, nil); err != nil {
		t.Errorf("Open after the caller's key was cleared: %v", err)
	}
}

func mustVault(t *testing.T, key []byte) *Vault {
	t.Helper()
	v, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSealOpen(t *testing.T) {
	v := testVault(t)
	plaintext := []byte("-----PKCS #8 private key-----")
	ad := []byte("tenant-1/kid-1")
	sealed, err := v.Seal(plaintext, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plaintext) {
		t.Fatalf("sealed data contains the plaintext")
	}
	if got, want := len(sealed), 12+len(plaintext)+16; got != want {
		t.Errorf("len(sealed) = %d, want %d (nonce + ciphertext + tag)", got, want)
	}
	got, err := v.Open(sealed, ad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(got, plaintext) {
		t.Errorf("Open = %q, want %q", got, plaintext)
	}

	again, _ := v.Seal(plaintext, ad)
	if bytes.Equal(again, sealed) || bytes.Equal(again[:12], sealed[:12]) {
		t.Errorf("two seals of one plaintext share a nonce or are equal")
	}

	flipped := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name   string
		v      *Vault
		sealed []byte
		ad     []byte
	}{
		{"other ad", v, sealed, []byte("tenant-2/kid-1")},
		{"no ad", v, sealed, nil},
		{"other key", testVault(t), sealed, ad},
		{"flipped nonce bit", v, flipped(0), ad},
		{"flipped ciphertext bit", v, flipped(14), ad},
		{"flipped tag bit", v, flipped(len(sealed) - 1), ad},
		{"truncated", v, sealed[:len(sealed)-1], ad},
		{"shorter than nonce and tag", v, sealed[:27], ad},
		{"empty", v, nil, ad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.v.Open(tc.sealed, tc.ad)
			if err != ErrOpen {
				t.Errorf("Open = %q, %v; want ErrOpen", got, err)
			}
		})
	}
}

func TestSealDoesNotUseRootKeyDirectly(t *testing.T) {
	// Sealing must use a derived subkey: data sealed by a vault is not
	// AES-GCM under the root key itself.
	key := testKey(t)
	v := mustVault(t, key)
	sealed, _ := v.Seal([]byte("secret"), nil)
	if _, err := openWithRawKey(key, sealed); err == nil {
		t.Errorf("sealed data opens with the root key itself; want a derived subkey")
	}
}

func TestMAC(t *testing.T) {
	key := testKey(t)
	v := mustVault(t, key)
	a := v.MAC("client-secret", []byte("s3cret"))
	if len(a) != 32 {
		t.Fatalf("len(MAC) = %d, want 32", len(a))
	}
	for _, tc := range []struct {
		name string
		got  []byte
		same bool
	}{
		{"same purpose and data", v.MAC("client-secret", []byte("s3cret")), true},
		{"same key, new vault", mustVault(t, key).MAC("client-secret", []byte("s3cret")), true},
		{"other data", v.MAC("client-secret", []byte("s3cret!")), false},
		{"other purpose", v.MAC("email-otp", []byte("s3cret")), false},
		{"purpose prefix", v.MAC("client-secre", []byte("ts3cret")), false},
		{"other key", testVault(t).MAC("client-secret", []byte("s3cret")), false},
		{"root key as HMAC key", rawHMAC(key, []byte("s3cret")), false},
	} {
		if got := bytes.Equal(tc.got, a); got != tc.same {
			t.Errorf("%s: MAC equal = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestKeyCheck(t *testing.T) {
	key := testKey(t)
	v := mustVault(t, key)
	check := v.KeyCheck()
	if len(check) != 32 {
		t.Fatalf("len(KeyCheck) = %d, want 32", len(check))
	}
	if !bytes.Equal(mustVault(t, key).KeyCheck(), check) {
		t.Errorf("two vaults of one key have different key checks")
	}
	if bytes.Equal(testVault(t).KeyCheck(), check) {
		t.Errorf("a vault of another key has the same key check")
	}
	// It is a MAC under the key-check subkey, not anything the root key or
	// another purpose's subkey would give.
	if want := v.MAC(keyCheckPurpose, []byte(keyCheckData)); !bytes.Equal(check, want) {
		t.Errorf("KeyCheck = %x, want the key-check MAC %x", check, want)
	}
	for name, other := range map[string][]byte{
		"root key as HMAC key":     rawHMAC(key, []byte(keyCheckData)),
		"root key itself":          key,
		"client-secret purpose":    v.MAC("client-secret", []byte(keyCheckData)),
		"empty data, same purpose": v.MAC(keyCheckPurpose, nil),
	} {
		if bytes.Equal(check, other) {
			t.Errorf("KeyCheck equals the %s", name)
		}
	}

	for _, tc := range []struct {
		name  string
		check []byte
		want  bool
	}{
		{"own check", bytes.Clone(check), true},
		{"other key's check", testVault(t).KeyCheck(), false},
		{"flipped bit", func() []byte { b := bytes.Clone(check); b[31] ^= 1; return b }(), false},
		{"truncated", check[:31], false},
		{"extended", append(bytes.Clone(check), 0), false},
		{"empty", nil, false},
	} {
		if got := v.MatchesKeyCheck(tc.check); got != tc.want {
			t.Errorf("MatchesKeyCheck(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	v := testVault(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			p := []byte{byte(i)}
			s, _ := v.Seal(p, p)
			if got, err := v.Open(s, p); err != nil || !bytes.Equal(got, p) {
				t.Errorf("Open = %x, %v; want %x", got, err, p)
			}
			v.MAC(string(rune('a'+i%4)), p)
		})
	}
	wg.Wait()
}

func BenchmarkMAC(b *testing.B) {
	v := testVault(b)
	data := []byte("0123456789012345678901234567890123456789abc")
	for b.Loop() {
		v.MAC("client-secret", data)
	}
}
