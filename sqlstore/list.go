package sqlstore

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// A filter turns the value of one $filter property into a condition on
// the listed table's columns and the condition's arguments.
type filter func(value string) (cond string, args []any)

// eq returns the filter comparing column with the value as given.
func eq(column string) filter {
	return func(v string) (string, []any) { return column + " = ?", []any{v} }
}

// listing describes one paged listing: a SELECT of the object's columns
// with a WHERE clause, the filters it supports, and its order.
type listing[T any] struct {
	// query is "SELECT … FROM … WHERE …"; conditions are appended to it.
	query string
	args  []any
	// filters maps the Graph property names the listing supports to
	// conditions on its columns.
	filters map[string]filter
	// newestFirst lists in descending id order (ascending otherwise).
	newestFirst bool
	scan        func(scanner) (T, error)
	id          func(T) string
	what        string // for error messages, e.g. "list users"
}

// list returns one page of l and the cursor of the next page ("" when there
// is none). Items come in id order; After is the id of the previous page's
// last item.
func list[T any](ctx context.Context, r *reader, l listing[T], opt gatehouse.ListOptions) ([]T, string, error) {
	var b strings.Builder
	b.WriteString(l.query)
	args := slices.Clone(l.args)
	for _, k := range slices.Sorted(maps.Keys(opt.Filter)) {
		f, ok := l.filters[k]
		if !ok {
			if len(l.filters) == 0 {
				return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "Filtering on %q is not supported; this list cannot be filtered.", k)
			}
			return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "Filtering on %q is not supported; filter on %s.",
				k, quoteList(slices.Sorted(maps.Keys(l.filters))))
		}
		cond, a := f(opt.Filter[k])
		b.WriteString(" AND ")
		b.WriteString(cond)
		args = append(args, a...)
	}
	after, order := " AND id > ?", " ORDER BY id ASC LIMIT ?"
	if l.newestFirst {
		after, order = " AND id < ?", " ORDER BY id DESC LIMIT ?"
	}
	if opt.After != "" {
		b.WriteString(after)
		args = append(args, opt.After)
	}
	// One more than a page tells whether there is a next page.
	n := opt.PageSize()
	b.WriteString(order)
	args = append(args, n+1)

	rows, err := r.query(ctx, b.String(), args...)
	if err != nil {
		return nil, "", internal(l.what, err)
	}
	defer rows.Close()
	var items []T
	for rows.Next() {
		item, err := l.scan(rows)
		if err != nil {
			return nil, "", internal(l.what, err)
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal(l.what, err)
	}
	var next string
	if len(items) > n {
		items = items[:n]
		next = l.id(items[n-1])
	}
	return items, next, nil
}
