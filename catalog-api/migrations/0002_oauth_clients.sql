-- OAuth clients of apps: confidential (private_key_jwt with registered keys) or public (none).

CREATE TABLE oauth_clients (
  id text PRIMARY KEY,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('confidential', 'public')),
  jwks jsonb,
  jwks_uri text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (type = 'public' AND jwks IS NULL AND jwks_uri IS NULL)
    OR (type = 'confidential' AND ((jwks IS NULL) <> (jwks_uri IS NULL)))
  )
);
CREATE INDEX oauth_clients_app ON oauth_clients (app_id, created_at);
