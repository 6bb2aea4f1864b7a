package sqlstore

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// keyCheckID is the id of the key_check table's one row.
const keyCheckID = 1

// KeyCheck returns the database's key check, or ENOTFOUND if none was
// stored yet.
func (r *reader) KeyCheck(ctx context.Context) (*gatehouse.KeyCheck, error) {
	var c gatehouse.KeyCheck
	var created int64
	err := r.queryRow(ctx, "SELECT value, created_at FROM key_check WHERE id = ?", keyCheckID).Scan(&c.Value, &created)
	if err != nil {
		return nil, noRows(err, gatehouse.Errorf(gatehouse.ENOTFOUND, "The database has no key check yet."), "read key check")
	}
	c.Value = nilIfEmpty(c.Value)
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// CreateKeyCheck stores c, filling in its CreatedAt, unless the database
// has a key check already: then it returns ECONFLICT and leaves the stored
// one as it is. It is one INSERT … ON CONFLICT DO NOTHING, so of concurrent
// calls exactly one writes (on PostgreSQL the others wait for it to commit)
// and the transaction stays usable.
func (t *tx) CreateKeyCheck(ctx context.Context, c *gatehouse.KeyCheck) error {
	created := t.s.now()
	ok, err := t.insert(ctx, "INSERT INTO key_check (id, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		keyCheckID, nonNil(c.Value), micros(created))
	if err != nil {
		return internal("create key check", err)
	}
	if !ok {
		return conflict("", "The database has a key check already.")
	}
	c.CreatedAt = created
	return nil
}
