-- admin_api_delegated marks an application granted the admin API's
-- delegated permission Directory.AccessAsUser.All (0 or 1), and
-- admin_api_delegated_since when it was last granted (0 while it is not).
ALTER TABLE applications ADD COLUMN admin_api_delegated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN admin_api_delegated_since INTEGER NOT NULL DEFAULT 0;
