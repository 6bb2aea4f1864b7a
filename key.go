package gatehouse

import "time"

// SigningKey is one of a tenant's token signing keys. The private key is
// stored encrypted; adapters decrypt it once when they load it.
type SigningKey struct {
	ID        string // the JWS kid
	TenantID  string
	Algorithm string // RS256, ES256 or EdDSA
	// PrivateKey is the PKCS #8 DER private key sealed with the server's
	// encryption key (AES-256-GCM, nonce prefixed).
	PrivateKey []byte
	CreatedAt  time.Time
	// RetiredAt is when the key stopped signing (zero while active); it is
	// still published until tokens it signed have expired.
	RetiredAt time.Time
}

// Active reports whether the key still signs new tokens.
func (k *SigningKey) Active() bool { return k.RetiredAt.IsZero() }

// KeyCheck identifies the encryption key a database was set up with: a
// value derived from the key (vault.Vault.KeyCheck), never the key itself.
// A database holds at most one. Every process that opens the database with
// a key compares its own key's value with it before it seals or opens
// anything, so that a server or command given another key refuses to start
// instead of sealing data no other server can open.
type KeyCheck struct {
	Value     []byte
	CreatedAt time.Time
}
