// Package policy evaluates Conditional Access policies: which of a
// tenant's policies apply to a sign-in, why the others do not, what the
// sign-in must therefore satisfy (as signin.Requirements, which the
// sign-in dispatcher enforces on every path that yields tokens), how its
// session behaves, and, once the sign-in ended, each policy's result for
// the sign-in log. What If asks the same functions with the sign-in an
// administrator describes, so its answer is the live answer.
//
// The package is pure: no I/O, no clock, no context. Compile turns a
// tenant's policies and named locations into a Set once (a node caches
// it while the tenant's policies version stands); Evaluate then costs
// microseconds for a thousand policies. Lockouts tells, for the lockout
// guard, which Global Administrators a policy set would keep out of the
// admin portal. The semantics are Entra's; docs/conditional-access.md
// describes them.
package policy
