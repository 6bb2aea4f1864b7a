package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, sqlite, postgres string }{
		{"SELECT 1", "SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"INSERT INTO t VALUES (?, '?', ?)", "INSERT INTO t VALUES (?, '?', ?)", "INSERT INTO t VALUES ($1, '?', $2)"},
		{"SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || $1"},
		{`SELECT "odd?name" FROM t WHERE x = ?`, `SELECT "odd?name" FROM t WHERE x = ?`, `SELECT "odd?name" FROM t WHERE x = $1`},
		{"?,?,?,?,?,?,?,?,?,?,?", "?,?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
	} {
		if got := sqliteDialect.rebind(tc.in); got != tc.sqlite {
			t.Errorf("sqlite rebind(%q) = %q, want %q", tc.in, got, tc.sqlite)
		}
		if got := postgresDialect.rebind(tc.in); got != tc.postgres {
			t.Errorf("postgres rebind(%q) = %q, want %q", tc.in, got, tc.postgres)
		}
	}
}

func TestSQLiteConstraintName(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"constraint failed: UNIQUE constraint failed: users.tenant_id, users.mail_key (2067)", "users_mail_key"},
		{"constraint failed: UNIQUE constraint failed: tenants.id (1555)", "tenants_pkey"},
		{"UNIQUE constraint failed: tenants.name", "tenants_name_key"},
		{"constraint failed: UNIQUE constraint failed: nosuch.col (2067)", ""},
		{"constraint failed: FOREIGN KEY constraint failed (787)", ""},
	} {
		if got := sqliteConstraintName(tc.msg); got != tc.want {
			t.Errorf("sqliteConstraintName(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
