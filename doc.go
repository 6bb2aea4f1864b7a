// Package gatehouse holds the domain of Gatehouse, a self-hosted customer
// identity server: tenants, users, groups, directory roles, applications,
// signing keys and the audit log, the storage contract every backend
// implements, and the one error type whose codes the HTTP layer maps to
// statuses. It imports nothing else of this module; adapters (sqlstore,
// oidc, password, web) depend on it, and cmd/gatehouse wires them together.
package gatehouse
