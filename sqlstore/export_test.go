package sqlstore

import "context"

// ExecRaw runs one statement on the store's write pool, outside the
// store's methods, to provoke database errors in tests.
func (s *Store) ExecRaw(ctx context.Context, query string, args ...any) error {
	_, err := s.writer.ExecContext(ctx, s.d.rebind(query), args...)
	return err
}

// Violation returns "unique" or "foreignKey" for an error that violates
// such a constraint, and the name of a violated uniqueness constraint.
func (s *Store) Violation(err error) (kind, constraint string) {
	switch v, c := s.d.constraint(err); v {
	case uniqueViolation:
		return "unique", c
	case foreignKeyViolation:
		return "foreignKey", ""
	}
	return "", ""
}
