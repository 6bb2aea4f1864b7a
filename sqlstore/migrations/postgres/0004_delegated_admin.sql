-- admin_api_delegated marks an application granted the admin API's
-- delegated permission Directory.AccessAsUser.All.
ALTER TABLE applications ADD COLUMN admin_api_delegated BOOLEAN NOT NULL DEFAULT FALSE;
