package sqlstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPending checks which migrations a database lacks, gaps included: a
// migration numbered below the newest applied one (made on another branch
// and merged later) is still applied; but a database migrated by a build
// whose migration of a number was another one is refused.
func TestPending(t *testing.T) {
	name := func(v int) string { return fmt.Sprintf("%04d_m%d.sql", v, v) }
	ms := []migration{{version: 1, name: name(1)}, {version: 2, name: name(2)}, {version: 4, name: name(4)}, {version: 5, name: name(5)}}
	applied := func(vs ...int) []appliedMigration {
		var out []appliedMigration
		for _, v := range vs {
			out = append(out, appliedMigration{v, name(v)})
		}
		return out
	}
	for _, c := range []struct {
		name    string
		applied []appliedMigration
		want    []int
		err     string
	}{
		{"fresh", nil, []int{1, 2, 4, 5}, ""},
		{"current", applied(1, 2, 4, 5), nil, ""},
		{"behind", applied(1, 2), []int{4, 5}, ""},
		{"a gap filled later", applied(1, 2, 5), []int{4}, ""},
		{"newer", applied(1, 2, 3, 4, 5), nil, "migration 3 (0003_m3.sql)"},
		{"newest unknown", applied(1, 2, 4, 5, 6), nil, "migration 6 (0006_m6.sql), which this Gatehouse does not know (its newest is 5)"},
		{"another build's migration 4", append(applied(1, 2), appliedMigration{4, "0004_other.sql"}), nil,
			"migration 4 as 0004_other.sql, but this Gatehouse's migration 4 is 0004_m4.sql"},
	} {
		got, err := pending(ms, c.applied)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: pending = %v, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		var versions []int
		for _, m := range got {
			versions = append(versions, m.version)
		}
		if err != nil || !cmp.Equal(c.want, versions) {
			t.Errorf("%s: pending = %v, %v; want %v", c.name, versions, err, c.want)
		}
	}
}

// TestMigrationsLoad checks that both engines' embedded migrations load.
func TestMigrationsLoad(t *testing.T) {
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		if ms, err := d.migrations(); err != nil || len(ms) == 0 {
			t.Errorf("%s migrations: %d, %v", d, len(ms), err)
		}
	}
}
