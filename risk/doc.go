// Package risk scores how risky a sign-in and a user are, from signals
// the caller gathers (the sign-in log's history of the user and the
// address, GeoIP's answer for the address, the password check): a
// documented sum of points per detection, turned into the risk levels
// Conditional Access policies test (signInRiskLevels, userRiskLevels).
// The package is pure: no I/O, no clock; the caller passes the time.
// docs/conditional-access.md lists the rules.
package risk
