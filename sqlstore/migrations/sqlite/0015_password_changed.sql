-- password_changed_at is when a person last set the user's password
-- (Unix microseconds, 0 for never or unknown): Graph's
-- lastPasswordChangeDateTime, and where the user's risk starts counting
-- again after a password change.
ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
