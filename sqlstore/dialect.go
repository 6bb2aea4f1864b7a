package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the SQL engines. Queries are written once,
// in the SQL both engines share, with ? placeholders.
type dialect int

const (
	sqliteDialect dialect = iota + 1
	postgresDialect
)

func (d dialect) String() string {
	switch d {
	case sqliteDialect:
		return "sqlite"
	case postgresDialect:
		return "postgres"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// rebind returns query with its ? placeholders written as the engine wants
// them: unchanged for SQLite, $1, $2, … for PostgreSQL. Question marks inside
// quoted strings and quoted identifiers are left alone.
func (d dialect) rebind(query string) string {
	if d != postgresDialect || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote character of the literal we are in, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			// A doubled quote closes and reopens the literal, which
			// comes out the same.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// forUpdate returns the clause that makes a SELECT lock the rows it reads
// until the transaction ends. SQLite needs none: a write transaction there
// holds the lock of the whole database from BEGIN IMMEDIATE.
func (d dialect) forUpdate() string {
	if d == postgresDialect {
		return " FOR UPDATE"
	}
	return ""
}

// jsonArrayAgg returns the aggregate expression that collects expr of
// the rows a query reads, ordered by order, into a JSON array as text: ""
// when there are no rows on PostgreSQL, "[]" on SQLite.
func (d dialect) jsonArrayAgg(expr, order string) string {
	if d == postgresDialect {
		return "COALESCE(json_agg(" + expr + " ORDER BY " + order + ")::text, '')"
	}
	return "json_group_array(" + expr + " ORDER BY " + order + ")"
}

// violation is the kind of constraint a database error reports.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// constraint classifies err. For a uniqueness violation it also returns the
// name of the constraint, as the PostgreSQL schema names it (on SQLite it is
// looked up from the columns the error lists).
func (d dialect) constraint(err error) (violation, string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return uniqueViolation, pe.ConstraintName
		case "23503": // foreign_key_violation
			return foreignKeyViolation, pe.ConstraintName
		}
		return noViolation, ""
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation, sqliteConstraintName(se.Error())
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation, ""
		}
	}
	return noViolation, ""
}

// sqliteUniqueConstraints maps the column lists SQLite reports for a
// uniqueness violation to the constraint names both schemas use.
var sqliteUniqueConstraints = map[string]string{
	"tenants.id":   "tenants_pkey",
	"tenants.name": "tenants_name_key",

	"users.tenant_id, users.id":       "users_pkey",
	"users.tenant_id, users.mail_key": "users_mail_key",

	"groups.tenant_id, groups.id": "groups_pkey",

	"group_members.tenant_id, group_members.group_id, group_members.user_id": "group_members_pkey",

	"applications.tenant_id, applications.id":     "applications_pkey",
	"applications.tenant_id, applications.app_id": "applications_app_id_key",

	"role_assignments.tenant_id, role_assignments.id":                                                "role_assignments_pkey",
	"role_assignments.tenant_id, role_assignments.role_definition_id, role_assignments.principal_id": "role_assignments_role_principal_key",

	"signing_keys.tenant_id, signing_keys.id": "signing_keys_pkey",

	"audit_entries.tenant_id, audit_entries.id": "audit_entries_pkey",

	"audit_targets.tenant_id, audit_targets.target_id, audit_targets.entry_id": "audit_targets_pkey",

	"one_times.tenant_id, one_times.kind, one_times.item_key": "one_times_pkey",

	"user_flows.tenant_id, user_flows.id":             "user_flows_pkey",
	"user_flow_apps.tenant_id, user_flow_apps.app_id": "user_flow_apps_pkey",

	"sessions.tenant_id, sessions.id": "sessions_pkey",

	"grants.tenant_id, grants.id": "grants_pkey",

	"refresh_tokens.tenant_id, refresh_tokens.id": "refresh_tokens_pkey",

	"email_codes.tenant_id, email_codes.id":                           "email_codes_pkey",
	"email_codes.tenant_id, email_codes.purpose, email_codes.binding": "email_codes_active_key",

	"auth_requests.tenant_id, auth_requests.id": "auth_requests_pkey",

	"rate_limits.tenant_id, rate_limits.bucket_key, rate_limits.window_size, rate_limits.window_start": "rate_limits_pkey",
}

// sqliteConstraintName returns the constraint name of a SQLite uniqueness
// error message such as
// "constraint failed: UNIQUE constraint failed: users.tenant_id, users.mail_key (2067)",
// or "" when the columns are not a known constraint.
func sqliteConstraintName(msg string) string {
	const marker = "UNIQUE constraint failed: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	cols := msg[i+len(marker):]
	if j := strings.Index(cols, " ("); j >= 0 {
		cols = cols[:j]
	}
	return sqliteUniqueConstraints[strings.TrimSpace(cols)]
}

// retryable reports whether err is a PostgreSQL serialization failure or
// deadlock, after which a transaction may succeed when run again.
func (d dialect) retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}
