// Package vault holds the server's secret key and everything done with it
// directly: sealing data at rest (signing keys, TOTP secrets) with
// AES-256-GCM and computing keyed hashes (client secrets, one-time codes)
// with HMAC-SHA256, among them the key check, which identifies the key
// without revealing it.
//
// The 32-byte root key is never used as is: New derives one subkey for
// sealing and one per MAC purpose with HKDF-SHA256, so no key serves two
// purposes. cmd/gatehouse loads the root key with ParseKey (from the
// environment) or LoadOrCreateKeyFile and passes the Vault to the packages
// that need it. Losing the key makes every sealed value unreadable; leaking
// it exposes them.
package vault
