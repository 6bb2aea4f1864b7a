// Package signin decides what a sign-in still needs. A sign-in is a
// sequence of steps: a first factor, then whatever the requirements on it
// still demand (a second factor, the registration of one), then tokens.
// Next is the one place that decides; every path of Gatehouse that yields
// tokens (a fresh sign-in, single sign-on with a browser session,
// prompt=none, the refresh token grant, the user's security info page)
// calls it with what that path knows.
//
// The package is pure: no I/O, no clock, no HTTP. Callers load the user,
// the methods the sign-in used so far, the methods the user can use or
// register, and the requirements of every source (the relying party's
// acr_values, essential acr claim and max_age; Conditional Access), and
// act on the Decision.
package signin
