-- ID tokens are signed RS256 by default (OpenID Connect), ES256 on request; access tokens and
-- certificates stay ES256. One active key per algorithm, each rotated with the others.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_alg_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_alg_check CHECK (alg IN ('ES256', 'RS256'));
DROP INDEX signing_keys_one_active;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;
