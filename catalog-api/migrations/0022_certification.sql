-- Certification: reviewer accounts, submissions of app versions, their automated check runs and
-- reviews, the certificates issued (JWS signed with the platform key) and the public decision
-- log, hash-chained. The app row stays the publisher's working copy of the next version; what a
-- certificate covers is copied onto the app (certified_*) so the authorization server's ceiling
-- is the certified version while a newer one is being reviewed.

ALTER TABLE apps ADD COLUMN compliance jsonb;
ALTER TABLE apps ADD COLUMN certified_redirect_uris text[];
ALTER TABLE apps ADD COLUMN certified_scopes jsonb;

CREATE TABLE reviewers (
  id uuid PRIMARY KEY,
  login text NOT NULL UNIQUE,
  name text NOT NULL,
  email text NOT NULL,
  -- Publishers the reviewer is linked to: they may not review those publishers' apps.
  publisher_ids uuid[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is kept, as for publishers' keys.
CREATE TABLE reviewer_api_keys (
  id uuid PRIMARY KEY,
  reviewer_id uuid NOT NULL REFERENCES reviewers (id) ON DELETE CASCADE,
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

-- A command-line sign-in approved with a reviewer's key ends when that key is revoked.
ALTER TABLE device_authorizations ADD COLUMN reviewer_key_id uuid REFERENCES reviewer_api_keys (id) ON DELETE CASCADE;
ALTER TABLE platform_sessions ADD COLUMN reviewer_key_id uuid REFERENCES reviewer_api_keys (id) ON DELETE CASCADE;

CREATE TABLE submissions (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  publisher_id uuid NOT NULL,
  version text NOT NULL,
  state text NOT NULL CHECK (state IN ('submitted', 'in_review', 'changes_requested', 'approved', 'rejected',
    'certified', 'suspended', 'revoked', 'expired', 'superseded')),
  criteria_version text NOT NULL,
  sandbox_client_id text,
  snapshot jsonb NOT NULL,
  note text,
  -- Bumped by each resubmission: approvals count only in the current round.
  round integer NOT NULL DEFAULT 1,
  certificate_id uuid,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (app_id, version)
);
-- One submission of an app waits for reviewers at a time.
CREATE UNIQUE INDEX submissions_one_open ON submissions (app_id) WHERE state IN ('submitted', 'in_review', 'changes_requested');
CREATE INDEX submissions_queue ON submissions (state, seq);
CREATE INDEX submissions_app ON submissions (app_id, seq DESC);

CREATE TABLE check_runs (
  id uuid PRIMARY KEY,
  submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
  ran_at timestamptz NOT NULL DEFAULT now(),
  ran_by jsonb NOT NULL,
  sandbox_client_id text,
  results jsonb NOT NULL,
  pass_count integer NOT NULL,
  fail_count integer NOT NULL,
  warn_count integer NOT NULL
);
CREATE INDEX check_runs_submission ON check_runs (submission_id, ran_at DESC);

CREATE TABLE reviews (
  id uuid PRIMARY KEY,
  submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
  round integer NOT NULL,
  reviewer_id uuid NOT NULL REFERENCES reviewers (id),
  decision text NOT NULL CHECK (decision IN ('approve', 'reject', 'request_changes')),
  criteria_version text NOT NULL,
  verdicts jsonb NOT NULL,
  note text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_submission ON reviews (submission_id, at);
-- A reviewer approves a round once: the second approval must come from someone else.
CREATE UNIQUE INDEX reviews_one_approval ON reviews (submission_id, round, reviewer_id) WHERE decision = 'approve';

-- Certificates outlive the app row (a revoked app may be deleted): they copy what they cover.
CREATE TABLE certificates (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  reference text NOT NULL,
  app_id uuid NOT NULL,
  app_name text NOT NULL,
  publisher_id uuid NOT NULL,
  submission_id uuid NOT NULL,
  version text NOT NULL,
  state text NOT NULL CHECK (state IN ('certified', 'suspended', 'revoked', 'expired', 'superseded')),
  scopes jsonb NOT NULL,
  redirect_uris text[] NOT NULL,
  criteria_version text NOT NULL,
  issued_at timestamptz NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  state_changed_at timestamptz NOT NULL,
  state_reason text,
  decisions uuid[] NOT NULL,
  kid text NOT NULL,
  jws text NOT NULL
);
CREATE UNIQUE INDEX certificates_one_live ON certificates (app_id) WHERE state IN ('certified', 'suspended');
CREATE INDEX certificates_expiry ON certificates (valid_until) WHERE state IN ('certified', 'suspended');
CREATE INDEX certificates_app ON certificates (app_id, seq DESC);

-- The public decision log: each entry as published (with its hash), in order. The head row's
-- lock serializes appends, so two decisions never claim the same position.
CREATE TABLE certification_decisions (
  seq bigint PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  app_id uuid NOT NULL,
  entry jsonb NOT NULL,
  hash text NOT NULL
);
CREATE INDEX certification_decisions_app ON certification_decisions (app_id, seq);

CREATE TABLE certification_log_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO certification_log_head (seq, hash) VALUES (0, repeat('0', 64));
