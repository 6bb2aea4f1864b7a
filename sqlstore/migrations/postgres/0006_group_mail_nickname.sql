-- mail_nickname is a group's Graph mailNickname ('' when it has none).
ALTER TABLE groups ADD COLUMN mail_nickname TEXT NOT NULL DEFAULT '';
