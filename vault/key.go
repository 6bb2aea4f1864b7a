package vault

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the size of the root key in bytes.
const KeySize = 32

// ParseKey decodes a root key written in base64, standard or URL alphabet,
// padded or not, with surrounding white space ignored. The key must be
// exactly KeySize bytes. Errors never include the key.
func ParseKey(s string) ([]byte, error) {
	key, err := parseKey(s)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return key, nil
}

func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the key is empty; it must be the base64 encoding of 32 random bytes")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("the key decodes to %d bytes; it must be exactly %d (generate one with: openssl rand -base64 32)", len(key), KeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("the key is not valid base64; it must be the base64 encoding of %d random bytes (generate one with: openssl rand -base64 32)", KeySize)
}

// LoadOrCreateKeyFile reads the root key from the file at path. If the file
// does not exist, it generates a random key and writes it there, base64
// encoded, with mode 0600, creating missing directories with mode 0700;
// concurrent creators agree on one key. It refuses a key file that its
// group or other users may access.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path); err != nil {
		return nil, err
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("vault: key file %s has mode %04o; it must not be accessible to group or others (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("vault: reading key file %s: %w", path, err)
	}
	if len(b) == 1024 {
		return nil, fmt.Errorf("vault: key file %s is too long to hold a key", path)
	}
	key, err := parseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new key to a temporary file and links it to path,
// so that path, once it exists, always holds a complete key and a
// concurrent creator's key is never overwritten.
func createKeyFile(path string) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: creating key directory: %w", err)
	}
	key := make([]byte, KeySize)
	rand.Read(key)
	tmp, err := os.CreateTemp(dir, ".gatehouse-key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("vault: creating key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vault: writing key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("vault: creating key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return nil
}
