-- Pushed authorization requests, grants (what a patient authorized an app to do) and the
-- authorization codes that start them.

CREATE TABLE oauth_pushed_requests (
  request_uri text PRIMARY KEY,
  client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  params jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX oauth_pushed_requests_expiry ON oauth_pushed_requests (expires_at);

CREATE TABLE grants (
  id uuid PRIMARY KEY,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  -- The patient whose data the grant opens, and the person who approved it (a guardian may act
  -- for a child): FHIR ids of the patient-data API.
  patient_id text NOT NULL,
  actor_id text NOT NULL,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX grants_patient ON grants (patient_id, created_at);
CREATE INDEX grants_client ON grants (client_id) WHERE revoked_at IS NULL;

-- Only a SHA-256 of each code is kept. A code is single-use: used_at is set on redemption, and a
-- second redemption revokes the grant (everything issued from the code).
CREATE TABLE oauth_codes (
  code_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  dpop_jkt text,
  -- The OpenID Connect nonce of the request, returned in the ID token.
  nonce text,
  scope text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);
