-- admin_api_delegated marks an application granted the admin API's
-- delegated permission Directory.AccessAsUser.All, and
-- admin_api_delegated_since when it was last granted (0 while it is not).
ALTER TABLE applications ADD COLUMN admin_api_delegated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE applications ADD COLUMN admin_api_delegated_since BIGINT NOT NULL DEFAULT 0;
