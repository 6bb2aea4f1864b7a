-- is_assignable_to_role is a group's Graph isAssignableToRole, set when
-- the group is created and never changed: such a group is protected (its
-- members and properties are changed only by those who manage roles).
ALTER TABLE groups ADD COLUMN is_assignable_to_role BOOLEAN NOT NULL DEFAULT FALSE;
