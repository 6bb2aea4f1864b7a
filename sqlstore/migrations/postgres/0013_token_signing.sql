-- A tenant's default signing algorithms for access tokens and ID tokens,
-- and an application's own for access tokens ('' means the default: the
-- tenant's, and for a tenant RS256, as before this migration).
ALTER TABLE tenants ADD COLUMN access_token_signing_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN id_token_signing_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN access_token_signing_alg TEXT NOT NULL DEFAULT '';
