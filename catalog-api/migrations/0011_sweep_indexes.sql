-- The periodic sweep finds rotated refresh tokens by rotation time.

CREATE INDEX oauth_refresh_tokens_rotated ON oauth_refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
CREATE INDEX platform_refresh_tokens_rotated ON platform_refresh_tokens (rotated_at) WHERE rotated_at IS NOT NULL;
