-- key_check holds the database's key check: a value derived from the
-- encryption key the database was set up with (a vault MAC of a fixed
-- string, never the key), compared with every process's key at start. One
-- row at most, with id 1. Conventions as in 0001_init.sql; constraint
-- names match the PostgreSQL schema.

CREATE TABLE key_check (
	id         INTEGER NOT NULL,
	value      BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	CONSTRAINT key_check_pkey PRIMARY KEY (id),
	CONSTRAINT key_check_one_row CHECK (id = 1)
) STRICT;
