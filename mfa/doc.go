// Package mfa holds the protocol logic of the authentication methods a
// sign-in can use besides a password, one file per method, without HTTP:
// the web package's pages call it and keep its state in the authorization
// request. It speaks the domain's types (gatehouse.UserMethod and its
// parts) and wraps the libraries that implement each protocol.
package mfa
