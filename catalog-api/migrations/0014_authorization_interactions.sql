-- Authorization requests waiting for the patient: the authorization endpoint has checked the
-- request and hands the browser over to the sign-in and consent pages, which finish it once.
-- Only a SHA-256 of the interaction id (the value in the page's URL) is kept.

CREATE TABLE authorization_interactions (
  id_hash text PRIMARY KEY,
  client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  -- The validated request and the scopes it may be granted (requested ∩ the app's ceiling).
  request jsonb NOT NULL,
  allowed_scope text NOT NULL,
  issuer text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX authorization_interactions_expiry ON authorization_interactions (expires_at);
