-- The admin portal is a built-in application of every tenant (appId
-- 0e0c3a58-7a9d-4d7c-9b1e-676174656801, gatehouse.AdminPortalAppID): a
-- public client holding the admin API's delegated permission. New tenants
-- get it from provision.CreateTenant; this gives it to the tenants that
-- exist. Its redirect URIs are built from the public URL, not stored.
INSERT INTO applications (tenant_id, id, app_id, display_name, web_redirect_uris, spa_redirect_uris,
	public_client_redirect_uris, post_logout_redirect_uris, is_fallback_public_client, require_pkce,
	id_token_signing_alg, password_credentials, permissions, admin_api_delegated, admin_api_delegated_since,
	created_at, updated_at, access_token_signing_alg)
SELECT t.id,
	lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' ||
		substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
	'0e0c3a58-7a9d-4d7c-9b1e-676174656801', 'Gatehouse admin portal', '', '', '', '', 1, 1, '', '', '', 1,
	CAST(strftime('%s', 'now') AS INTEGER) * 1000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000,
	CAST(strftime('%s', 'now') AS INTEGER) * 1000000, ''
FROM tenants t
WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.tenant_id = t.id AND a.app_id = '0e0c3a58-7a9d-4d7c-9b1e-676174656801');
