-- Conditional Access: policies, named locations, the tenant's policies
-- version, and the sign-in log. Conventions as in 0001_init.sql.

-- ca_policies holds a policy's conditions and controls as JSON (body).
CREATE TABLE ca_policies (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	display_name TEXT NOT NULL,
	state        TEXT NOT NULL,
	body         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	modified_at  INTEGER NOT NULL,
	CONSTRAINT ca_policies_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT ca_policies_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX ca_policies_display_name_idx ON ca_policies (tenant_id, display_name, id);

-- named_locations holds a location's ranges or countries as JSON (body).
CREATE TABLE named_locations (
	tenant_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	display_name TEXT NOT NULL,
	kind         TEXT NOT NULL,
	body         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	modified_at  INTEGER NOT NULL,
	CONSTRAINT named_locations_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT named_locations_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX named_locations_display_name_idx ON named_locations (tenant_id, display_name, id);

-- ca_policy_locations records which locations each policy names, so that
-- a location in use cannot be deleted (its key restricts the delete).
CREATE TABLE ca_policy_locations (
	tenant_id   TEXT NOT NULL,
	policy_id   TEXT NOT NULL,
	location_id TEXT NOT NULL,
	CONSTRAINT ca_policy_locations_pkey PRIMARY KEY (tenant_id, policy_id, location_id),
	CONSTRAINT ca_policy_locations_policy_fkey FOREIGN KEY (tenant_id, policy_id) REFERENCES ca_policies (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT ca_policy_locations_location_fkey FOREIGN KEY (tenant_id, location_id) REFERENCES named_locations (tenant_id, id)
) STRICT;
CREATE INDEX ca_policy_locations_location_idx ON ca_policy_locations (tenant_id, location_id);

-- ca_versions counts the changes to a tenant's policies and named
-- locations, for the per-node caches of compiled policies.
CREATE TABLE ca_versions (
	tenant_id TEXT NOT NULL,
	version   INTEGER NOT NULL,
	CONSTRAINT ca_versions_pkey PRIMARY KEY (tenant_id),
	CONSTRAINT ca_versions_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;

-- sign_ins is the sign-in log: the entry as JSON (record) and the columns
-- it is filtered and counted by. user_key is the lowercased user principal
-- name; addr_key the client address as the per-address limits count it
-- (IPv4, or the IPv6 /64), network its /24 or /48; risk the rank of
-- riskLevelDuringSignIn (0 none to 3 high). Entries outlive their users.
CREATE TABLE sign_ins (
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	user_id    TEXT NOT NULL,
	user_key   TEXT NOT NULL,
	app_id     TEXT NOT NULL,
	error_code INTEGER NOT NULL,
	addr_key   TEXT NOT NULL,
	network    TEXT NOT NULL,
	risk       INTEGER NOT NULL,
	located    INTEGER NOT NULL,
	record     TEXT NOT NULL,
	CONSTRAINT sign_ins_pkey PRIMARY KEY (tenant_id, id),
	CONSTRAINT sign_ins_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sign_ins_user_idx ON sign_ins (tenant_id, user_id, id);
CREATE INDEX sign_ins_app_idx ON sign_ins (tenant_id, app_id, id);
CREATE INDEX sign_ins_addr_idx ON sign_ins (tenant_id, addr_key, created_at);
CREATE INDEX sign_ins_network_idx ON sign_ins (tenant_id, user_id, network);
CREATE INDEX sign_ins_created_idx ON sign_ins (created_at);
