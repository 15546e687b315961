-- Sessions of the platform's own command line (`mes`), opened by the device flow: who signed in,
-- with which credential, for which platform scopes, and until when. Access tokens name their
-- session (`sid`), so ending a session (sign-out, the approving API key revoked, its end
-- reached) makes every token of it fail at the next request. Refresh tokens rotate on every use;
-- presenting a rotated one again ends the session.

ALTER TABLE device_authorizations ADD COLUMN api_key_id uuid REFERENCES publisher_api_keys (id) ON DELETE CASCADE;

CREATE TABLE platform_sessions (
  id uuid PRIMARY KEY,
  client_id text NOT NULL,
  -- `publisher:<id>`.
  subject text NOT NULL,
  -- The API key that approved the sign-in: revoking it ends the session.
  api_key_id uuid REFERENCES publisher_api_keys (id) ON DELETE CASCADE,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX platform_sessions_subject ON platform_sessions (subject) WHERE revoked_at IS NULL;
CREATE INDEX platform_sessions_expiry ON platform_sessions (expires_at);

CREATE TABLE platform_refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES platform_sessions (id) ON DELETE CASCADE,
  jkt text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz
);
CREATE INDEX platform_refresh_tokens_session ON platform_refresh_tokens (session_id);
