-- A user has at most one phone for text messages (Graph's "mobile" phone
-- method): of two registrations racing, one fails.
CREATE UNIQUE INDEX user_methods_one_phone ON user_methods (tenant_id, user_id) WHERE method = 'sms';
