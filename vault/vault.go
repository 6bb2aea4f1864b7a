package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
)

// HKDF info strings. Each names one use of the root key; MAC subkeys append
// their purpose to macInfo, which no other info string starts with.
const (
	sealInfo = "gatehouse vault v1 seal"
	macInfo  = "gatehouse vault v1 mac:"
)

// ErrOpen is returned by Open when sealed data is damaged, was sealed under
// another key, or is opened with other additional data.
var ErrOpen = errors.New("vault: cannot open sealed data: wrong key, wrong additional data, or damaged")

// Vault seals data and computes MACs under keys derived from the root key.
// It is safe for concurrent use.
type Vault struct {
	root []byte
	aead cipher.AEAD
	macs sync.Map // purpose -> MAC subkey ([]byte)
}

// New returns a Vault for the KeySize-byte root key.
func New(key []byte) (*Vault, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault: the key is %d bytes; it must be %d", len(key), KeySize)
	}
	root := append([]byte(nil), key...)
	sealKey, err := hkdf.Key(sha256.New, root, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Vault{root: root, aead: aead}, nil
}

// Seal encrypts and authenticates plaintext with AES-256-GCM under the
// sealing subkey and binds it to ad, the additional data naming what the
// plaintext belongs to (for example a tenant ID and key ID): Open succeeds
// only with the same ad. The result is a random 12-byte nonce followed by
// the ciphertext and tag.
func (v *Vault) Seal(plaintext, ad []byte) ([]byte, error) {
	ns := v.aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+v.aead.Overhead())
	rand.Read(out)
	return v.aead.Seal(out, out, plaintext, ad), nil
}

// Open decrypts what Seal returned for the same ad. It returns ErrOpen if
// sealed was altered, sealed under another key or with other ad.
func (v *Vault) Open(sealed, ad []byte) ([]byte, error) {
	ns := v.aead.NonceSize()
	if len(sealed) < ns+v.aead.Overhead() {
		return nil, ErrOpen
	}
	plaintext, err := v.aead.Open(nil, sealed[:ns], sealed[ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// MAC returns the HMAC-SHA256 of data under the subkey for purpose. Each
// purpose (such as "client-secret") has its own subkey, derived from the
// root key with HKDF-SHA256 on first use, so a MAC computed for one purpose
// is worthless for another. Compare MACs with hmac.Equal or
// crypto/subtle.
func (v *Vault) MAC(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, v.macKey(purpose))
	m.Write(data)
	return m.Sum(nil)
}

// Key check: the MAC purpose and the fixed data whose MAC is the key check.
const (
	keyCheckPurpose = "key-check"
	keyCheckData    = "gatehouse vault v1 key check"
)

// KeyCheck returns a value that identifies the root key without revealing
// it: the MAC of a fixed string under the subkey for the purpose
// "key-check". Two vaults have the same key check exactly when they have
// the same root key (up to HMAC-SHA256 collisions). Stored next to sealed
// data, it tells a process at start whether its key is the one the data
// was sealed with, before it opens or seals anything.
func (v *Vault) KeyCheck() []byte {
	return v.MAC(keyCheckPurpose, []byte(keyCheckData))
}

// MatchesKeyCheck reports whether check is the vault's KeyCheck, comparing
// in constant time.
func (v *Vault) MatchesKeyCheck(check []byte) bool {
	return subtle.ConstantTimeCompare(v.KeyCheck(), check) == 1
}

func (v *Vault) macKey(purpose string) []byte {
	if k, ok := v.macs.Load(purpose); ok {
		return k.([]byte)
	}
	k, err := hkdf.Key(sha256.New, v.root, nil, macInfo+purpose, 32)
	if err != nil {
		panic("vault: hkdf: " + err.Error()) // only for an output length SHA-256 cannot produce
	}
	v.macs.Store(purpose, k)
	return k
}
