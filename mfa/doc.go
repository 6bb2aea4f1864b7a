// Package mfa holds the rules of the authentication methods a sign-in can
// use besides a password, one file per method, without HTTP and without
// storage: passkeys (WebAuthn, wrapping go-webauthn), authenticator apps
// (TOTP, RFC 6238): their secrets, codes, enrolment URI and QR code, and
// the secret sealed at rest; and recovery codes, made and kept only as
// keyed hashes.
//
// web calls it from the hosted sign-in pages, inside the store's updater
// of the user's registered method, so that the single-use rules (a TOTP
// step accepted once, a recovery code used once, a passkey's counter)
// hold across concurrent requests and every node. It speaks the domain's
// types (gatehouse.UserMethod and its parts); the vault seals TOTP
// secrets and keys the hashes of recovery codes; the clock comes from the
// caller.
package mfa
