-- The initial schema. Times are Unix microseconds (0 for none) and JSON
-- values TEXT ('' for an empty list or map). Every object
-- but a tenant belongs to one tenant and goes when its tenant goes.
-- Constraint names match the SQLite schema; the store maps them to
-- messages.

CREATE TABLE tenants (
	id           TEXT NOT NULL,
	name         TEXT NOT NULL,
	display_name TEXT NOT NULL,
	branding     TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	CONSTRAINT tenants_pkey PRIMARY KEY (id),
	CONSTRAINT tenants_name_key UNIQUE (name)
);

CREATE TABLE users (
	tenant_id           TEXT NOT NULL,
	id                  TEXT NOT NULL,
	mail                TEXT NOT NULL,
	mail_key            TEXT NOT NULL,
	display_name        TEXT NOT NULL,
	given_name          TEXT NOT NULL,
	surname             TEXT NOT NULL,
	city                TEXT NOT NULL,
	country             TEXT NOT NULL,
	postal_code         TEXT NOT NULL,
	state               TEXT NOT NULL,
	street_address      TEXT NOT NULL,
	job_title           TEXT NOT NULL,
	account_enabled     BOOLEAN NOT NULL,
	password_hash       TEXT NOT NULL,
	custom_attributes   TEXT NOT NULL,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT users_mail_key UNIQUE (tenant_id, mail_key),
	CONSTRAINT users_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX users_display_name_idx ON users (tenant_id, display_name, id);

CREATE TABLE groups (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	display_name TEXT NOT NULL,
	description  TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	CONSTRAINT groups_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT groups_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX groups_display_name_idx ON groups (tenant_id, display_name, id);

CREATE TABLE group_members (
	tenant_id  TEXT NOT NULL,
	group_id   TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	CONSTRAINT group_members_pkey PRIMARY KEY (tenant_id, group_id, user_id),
	CONSTRAINT group_members_group_fkey FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT group_members_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id);

CREATE TABLE applications (
	tenant_id                   TEXT NOT NULL,
	id                          TEXT NOT NULL,
	app_id                      TEXT NOT NULL,
	display_name                TEXT NOT NULL,
	web_redirect_uris           TEXT NOT NULL,
	spa_redirect_uris           TEXT NOT NULL,
	public_client_redirect_uris TEXT NOT NULL,
	post_logout_redirect_uris   TEXT NOT NULL,
	is_fallback_public_client   BOOLEAN NOT NULL,
	require_pkce                BOOLEAN NOT NULL,
	id_token_signing_alg        TEXT NOT NULL,
	password_credentials        TEXT NOT NULL,
	permissions                 TEXT NOT NULL,
	created_at                  BIGINT NOT NULL,
	updated_at                  BIGINT NOT NULL,
	CONSTRAINT applications_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT applications_app_id_key UNIQUE (tenant_id, app_id),
	CONSTRAINT applications_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX applications_display_name_idx ON applications (tenant_id, display_name, id);

CREATE TABLE role_assignments (
	tenant_id          TEXT NOT NULL,
	id                 TEXT NOT NULL,
	role_definition_id TEXT NOT NULL,
	principal_id       TEXT NOT NULL,
	directory_scope_id TEXT NOT NULL,
	created_at         BIGINT NOT NULL,
	CONSTRAINT role_assignments_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT role_assignments_role_principal_key UNIQUE (tenant_id, role_definition_id, principal_id),
	CONSTRAINT role_assignments_principal_fkey FOREIGN KEY (tenant_id, principal_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX role_assignments_principal_idx ON role_assignments (tenant_id, principal_id, id);

CREATE TABLE signing_keys (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	algorithm   TEXT NOT NULL,
	private_key BYTEA NOT NULL,
	created_at  BIGINT NOT NULL,
	retired_at  BIGINT NOT NULL,
	CONSTRAINT signing_keys_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT signing_keys_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX signing_keys_created_idx ON signing_keys (tenant_id, created_at);

CREATE TABLE audit_entries (
	tenant_id      TEXT NOT NULL,
	id             TEXT NOT NULL,
	activity_at    BIGINT NOT NULL,
	category       TEXT NOT NULL,
	activity       TEXT NOT NULL,
	operation_type TEXT NOT NULL,
	result         TEXT NOT NULL,
	result_reason  TEXT NOT NULL,
	correlation_id TEXT NOT NULL,
	actor          TEXT NOT NULL,
	targets        TEXT NOT NULL,
	CONSTRAINT audit_entries_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT audit_entries_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX audit_entries_category_idx ON audit_entries (tenant_id, category, id);
CREATE INDEX audit_entries_activity_idx ON audit_entries (tenant_id, activity, id);

-- audit_targets makes entries findable by the IDs of the objects they
-- touched.
CREATE TABLE audit_targets (
	tenant_id TEXT NOT NULL,
	target_id TEXT NOT NULL,
	entry_id  TEXT NOT NULL,
	CONSTRAINT audit_targets_pkey PRIMARY KEY (tenant_id, target_id, entry_id),
	CONSTRAINT audit_targets_entry_fkey FOREIGN KEY (tenant_id, entry_id) REFERENCES audit_entries (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX audit_targets_entry_idx ON audit_targets (tenant_id, entry_id);

CREATE TABLE one_times (
	tenant_id   TEXT NOT NULL,
	kind        TEXT NOT NULL,
	item_key    TEXT NOT NULL,
	payload     BYTEA NOT NULL,
	expires_at  BIGINT NOT NULL,
	consumed_at BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	CONSTRAINT one_times_pkey PRIMARY KEY (tenant_id, kind, item_key),
	CONSTRAINT one_times_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX one_times_expires_idx ON one_times (expires_at);
