-- Browser sessions of patients on the platform's own pages (my connected apps, and later the
-- consent screen and the access history). The cookie holds a random value; only its SHA-256 is
-- kept. Each session has its own CSRF token, which every form of the pages sends back.

CREATE TABLE patient_sessions (
  id_hash text PRIMARY KEY,
  patient_id text NOT NULL,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz
);
CREATE INDEX patient_sessions_expiry ON patient_sessions (expires_at);

-- "My connected apps" lists the grants a person gave as a guardian too.
CREATE INDEX grants_actor ON grants (actor_id, created_at);
