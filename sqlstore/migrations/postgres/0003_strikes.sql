-- strikes holds failure records (RL-1, RL-2): per key, such as a sign-in
-- address, the number of consecutive failures since the record was last
-- cleared and the time of the last one. Conventions as in 0001_init.sql;
-- constraint names match the SQLite schema.

CREATE TABLE strikes (
	tenant_id  TEXT NOT NULL,
	strike_key TEXT NOT NULL,
	strikes    BIGINT NOT NULL,
	last_at    BIGINT NOT NULL,
	CONSTRAINT strikes_pkey PRIMARY KEY (tenant_id, strike_key),
	CONSTRAINT strikes_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX strikes_last_at_idx ON strikes (last_at);
