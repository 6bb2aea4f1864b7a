// Package provision creates tenants: the tenant itself, its signing keys, a
// first administrator with a generated password, and an automation client
// whose client-credentials token may call the tenant's whole admin API. It
// is the one place that knows what a new tenant consists of; cmd/gatehouse
// calls it for "gatehouse tenant create".
package provision
