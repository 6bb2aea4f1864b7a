package sqlstore

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPending checks which migrations a database lacks, gaps included: a
// migration numbered below the newest applied one (made on another branch
// and merged later) is still applied.
func TestPending(t *testing.T) {
	ms := []migration{{version: 1}, {version: 2}, {version: 4}, {version: 5}}
	for _, c := range []struct {
		name    string
		applied []int
		want    []int
		err     string
	}{
		{"fresh", nil, []int{1, 2, 4, 5}, ""},
		{"current", []int{1, 2, 4, 5}, nil, ""},
		{"behind", []int{1, 2}, []int{4, 5}, ""},
		{"a gap filled later", []int{1, 2, 5}, []int{4}, ""},
		{"newer", []int{1, 2, 3, 4, 5}, nil, "migration 3"},
		{"newest unknown", []int{1, 2, 4, 5, 6}, nil, "migration 6, which this Gatehouse does not know (its newest is 5)"},
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
