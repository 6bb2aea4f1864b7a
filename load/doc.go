// Package load drives a running Gatehouse the way its users do and
// measures it: the repeatable load commands of SECURITY.md (LD-1 password
// and PKCE sign-in, LD-3 client credentials, LD-4 refresh) behind
// `gatehouse load`, and the sign-in client of the benchmarks in web/.
//
// A sign-in is complete: the authorization request with PKCE (S256) and a
// nonce from a browser with an empty cookie jar, the hosted sign-in form
// filled and posted, the code taken from the redirect to the application
// (which is never fetched), the code exchanged with golang.org/x/oauth2 and
// the ID token verified with go-oidc. Every request goes to the origin of
// the issuer and nowhere else: the package is for load on one's own server.
//
// Run repeats a scenario in concurrent workers for a fixed time and returns
// a Report: completed iterations, errors by kind, and latency percentiles
// per step. Setup prepares a tenant for a run through its admin API.
package load
