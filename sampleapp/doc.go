// Package sampleapp is the sample customer app: a small server-rendered web
// app that signs in with a Gatehouse tenant the way any relying party would,
// with github.com/coreos/go-oidc and golang.org/x/oauth2, and nothing of
// Gatehouse's own code. It is the "test the sign-in" step of the seed: it
// shows who is signed in, the ID token's claims with the authentication
// methods (amr) at the top, and the userinfo response, and it signs out
// through the provider's end-session endpoint.
//
// It uses the authorization code flow with PKCE (S256), a random state and
// nonce kept on the server under a random HttpOnly cookie, and checks the
// iss parameter of the authorization response (RFC 9207). Its sessions live
// in the process's memory: it is a sample, not a template for an app that
// runs on more than one machine.
//
// cmd/gatehouse runs it as "gatehouse sample-app" and inside "gatehouse demo".
package sampleapp
