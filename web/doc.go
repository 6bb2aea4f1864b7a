// Package web is all of Gatehouse's HTTP: the per-tenant OpenID provider
// endpoints (discovery, JWKS, token), the Graph-shaped admin API, health and
// readiness probes, and Prometheus metrics. routes.go lists every route.
package web
