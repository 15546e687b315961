-- Refresh tokens (only with offline_access; DPoP-bound; rotated for public clients) and the
-- revocation list of access tokens revoked before they expire.

CREATE TABLE oauth_refresh_tokens (
  token_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  jkt text NOT NULL,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when a public client's token is exchanged for its successor; a later use is a reuse.
  rotated_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE oauth_revoked_access_tokens (
  jti text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_revoked_access_tokens_expiry ON oauth_revoked_access_tokens (expires_at);
