-- Client metadata of OpenID Connect and RFC 9449: how the client's ID tokens are signed, and
-- whether its access tokens are DPoP-bound (false: Bearer tokens, for existing SMART apps, where
-- the operator allows them). A Bearer client's refresh tokens are bound to no key.
ALTER TABLE oauth_clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'RS256' CHECK (id_token_signed_response_alg IN ('RS256', 'ES256'));
ALTER TABLE oauth_clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT true;
ALTER TABLE oauth_refresh_tokens ALTER COLUMN jkt DROP NOT NULL;
