-- Second factors: the authentication methods policy, the methods users
-- register (authenticator apps, passkeys, phones, recovery codes), and
-- what sessions, grants and authorization requests record of the methods
-- a sign-in used. Conventions as in 0001_init.sql.

-- method_policies holds a tenant's authentication methods policy as JSON;
-- a tenant without a row has the default policy.
CREATE TABLE method_policies (
	tenant_id  TEXT NOT NULL,
	methods    TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	CONSTRAINT method_policies_pkey PRIMARY KEY (tenant_id),
	CONSTRAINT method_policies_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;

-- user_methods are the methods users registered. credential_id is a
-- passkey's credential ID (hex), '' for other methods; a credential
-- belongs to one user of a tenant (WA-3).
CREATE TABLE user_methods (
	tenant_id     TEXT NOT NULL,
	id            TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	method        TEXT NOT NULL,
	display_name  TEXT NOT NULL,
	credential_id TEXT NOT NULL,
	data          TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL,
	CONSTRAINT user_methods_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT user_methods_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX user_methods_user_idx ON user_methods (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX user_methods_credential_key ON user_methods (tenant_id, credential_id) WHERE credential_id <> '';

ALTER TABLE sessions ADD COLUMN methods TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN methods TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN claims TEXT NOT NULL DEFAULT '';

-- Authorization requests record the methods of the sign-in in progress
-- (methods replaces the amr and auth_time that were never written).
ALTER TABLE auth_requests DROP COLUMN amr;
ALTER TABLE auth_requests DROP COLUMN auth_time;
ALTER TABLE auth_requests ADD COLUMN claims TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN return_to TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN methods TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN progress TEXT NOT NULL DEFAULT '';
-- register: the method the user's security info page asked to register.
ALTER TABLE auth_requests ADD COLUMN register TEXT NOT NULL DEFAULT '';

-- passkey_sign_in: the flow offers signing in with a passkey alone.
ALTER TABLE user_flows ADD COLUMN passkey_sign_in INTEGER NOT NULL DEFAULT 0;
