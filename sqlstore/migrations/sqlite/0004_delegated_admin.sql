-- admin_api_delegated marks an application granted the admin API's
-- delegated permission Directory.AccessAsUser.All (0 or 1).
ALTER TABLE applications ADD COLUMN admin_api_delegated INTEGER NOT NULL DEFAULT 0;
