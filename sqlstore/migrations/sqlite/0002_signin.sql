-- Hosted sign-in and the OpenID Connect authorization code flow: user
-- flows, browser sessions, grants with their refresh tokens, email codes,
-- authorization requests in progress and rate limit counters. Conventions
-- as in 0001_init.sql; constraint names match the PostgreSQL schema.

CREATE TABLE user_flows (
	tenant_id         TEXT NOT NULL,
	id                TEXT NOT NULL,
	display_name      TEXT NOT NULL,
	description       TEXT NOT NULL,
	identity_provider TEXT NOT NULL,
	sign_up_allowed   INTEGER NOT NULL,
	attributes        TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	CONSTRAINT user_flows_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT user_flows_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX user_flows_display_name_idx ON user_flows (tenant_id, display_name, id);

-- user_flow_apps holds the applications (by appId) that use each flow. Its
-- key makes an application use at most one flow; a row goes with its flow
-- and with its application, and follows the application's appId.
CREATE TABLE user_flow_apps (
	tenant_id TEXT NOT NULL,
	app_id    TEXT NOT NULL,
	flow_id   TEXT NOT NULL,
	ordinal   INTEGER NOT NULL,
	CONSTRAINT user_flow_apps_pkey PRIMARY KEY (tenant_id, app_id),
	CONSTRAINT user_flow_apps_flow_fkey FOREIGN KEY (tenant_id, flow_id) REFERENCES user_flows (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT user_flow_apps_app_fkey FOREIGN KEY (tenant_id, app_id) REFERENCES applications (tenant_id, app_id)
		ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;
CREATE INDEX user_flow_apps_flow_idx ON user_flow_apps (tenant_id, flow_id, ordinal);

CREATE TABLE sessions (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	sid          TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	auth_time    INTEGER NOT NULL,
	amr          TEXT NOT NULL,
	acr          TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	CONSTRAINT sessions_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT sessions_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
	CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- A grant goes with its user and with its client application, and follows
-- the application's appId; session_id is not a key, as a grant outlives
-- the browser session it came from.
CREATE TABLE grants (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	client_id  TEXT NOT NULL,
	session_id TEXT NOT NULL,
	scope      TEXT NOT NULL,
	nonce      TEXT NOT NULL,
	auth_time  INTEGER NOT NULL,
	amr        TEXT NOT NULL,
	acr        TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL,
	CONSTRAINT grants_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT grants_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
	CONSTRAINT grants_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT grants_client_fkey FOREIGN KEY (tenant_id, client_id) REFERENCES applications (tenant_id, app_id)
		ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;
CREATE INDEX grants_user_idx ON grants (tenant_id, user_id);
CREATE INDEX grants_client_idx ON grants (tenant_id, client_id);
CREATE INDEX grants_session_idx ON grants (tenant_id, session_id);
CREATE INDEX grants_expires_idx ON grants (expires_at);

CREATE TABLE refresh_tokens (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL,
	CONSTRAINT refresh_tokens_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT refresh_tokens_grant_fkey FOREIGN KEY (tenant_id, grant_id) REFERENCES grants (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (tenant_id, grant_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- At most one code of a purpose and binding is unconsumed at a time
-- (email_codes_active_key), so that a new code always invalidates the
-- earlier ones, even when two are created at once.
CREATE TABLE email_codes (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	binding     TEXT NOT NULL,
	mail        TEXT NOT NULL,
	code_hash   TEXT NOT NULL,
	attempts    INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	consumed_at INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	CONSTRAINT email_codes_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT email_codes_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX email_codes_active_key ON email_codes (tenant_id, purpose, binding) WHERE consumed_at = 0;
CREATE INDEX email_codes_binding_idx ON email_codes (tenant_id, purpose, binding, created_at);
CREATE INDEX email_codes_expires_idx ON email_codes (expires_at);

CREATE TABLE auth_requests (
	tenant_id             TEXT NOT NULL,
	id                    TEXT NOT NULL,
	browser_binding       TEXT NOT NULL,
	client_id             TEXT NOT NULL,
	redirect_uri          TEXT NOT NULL,
	response_mode         TEXT NOT NULL,
	scope                 TEXT NOT NULL,
	state                 TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	prompt                TEXT NOT NULL,
	max_age               INTEGER NOT NULL,
	login_hint            TEXT NOT NULL,
	acr_values            TEXT NOT NULL,
	ui_locales            TEXT NOT NULL,
	step                  TEXT NOT NULL,
	mail                  TEXT NOT NULL,
	verified              INTEGER NOT NULL,
	attribute_values      TEXT NOT NULL,
	user_id               TEXT NOT NULL,
	auth_time             INTEGER NOT NULL,
	amr                   TEXT NOT NULL,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL,
	CONSTRAINT auth_requests_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT auth_requests_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX auth_requests_expires_idx ON auth_requests (expires_at);

-- rate_limits counts events per key in fixed windows of window_size
-- microseconds starting at window_start; window_end is their sum.
CREATE TABLE rate_limits (
	tenant_id    TEXT NOT NULL,
	bucket_key   TEXT NOT NULL,
	window_size  INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	window_end   INTEGER NOT NULL,
	hits         INTEGER NOT NULL,
	CONSTRAINT rate_limits_pkey PRIMARY KEY (tenant_id, bucket_key, window_size, window_start),
	CONSTRAINT rate_limits_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX rate_limits_window_end_idx ON rate_limits (window_end);
