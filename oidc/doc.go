// Package oidc holds the protocol rules of Gatehouse's OpenID provider that
// do not depend on HTTP: the tenants' token signing keys (creation,
// rotation, the published JWK set and an in-memory cache that every node
// keeps in step with the store), signing and verifying access tokens, and
// client secrets.
//
// Private keys are sealed with the server's vault at rest and decrypted
// once per node, never per request. Tokens presented to Gatehouse are
// verified against an algorithm allowlist (RS256, ES256, EdDSA) with keys looked up
// only by kid among the tenant's own keys (TK-1), and an access token must
// carry typ at+jwt so an ID token is never taken for one (TK-2). The web
// package serves the endpoints and calls into this package; it holds no
// key material itself.
package oidc
