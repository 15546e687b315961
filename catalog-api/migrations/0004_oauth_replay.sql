-- One-time identifiers already seen (DPoP proof jti, client assertion jti), per namespace, kept
-- until they could no longer be accepted anyway; shared by every instance through the store.

CREATE TABLE oauth_replay (
  namespace text NOT NULL,
  jti text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (namespace, jti)
);
CREATE INDEX oauth_replay_expiry ON oauth_replay (expires_at);

-- Server-side secrets that are not keys of any one client (e.g. the DPoP nonce secret).
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
