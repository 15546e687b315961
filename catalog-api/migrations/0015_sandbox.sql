-- The sandbox's developer controls and evidence: failures injected into a client's next
-- requests, a per-client mark that expires its access tokens, apps suspended from the sandbox
-- (with the status to reinstate), and the recording of each client's traffic that the report
-- (and certification) reads. Patients' oppositions to access by apps belong to consent.

CREATE TABLE sandbox_faults (
  id uuid PRIMARY KEY,
  client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  kind text NOT NULL,
  target text NOT NULL CHECK (target IN ('token', 'fhir', 'any')),
  remaining integer NOT NULL CHECK (remaining >= 0),
  retry_after_seconds integer,
  latency_ms integer,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sandbox_faults_client ON sandbox_faults (client_id, created_at) WHERE remaining > 0;

-- Access tokens of the client issued before this instant are treated as expired.
CREATE TABLE client_token_cutoffs (
  client_id text PRIMARY KEY REFERENCES oauth_clients (id) ON DELETE CASCADE,
  not_before timestamptz NOT NULL
);

CREATE TABLE sandbox_suspensions (
  app_id uuid PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
  previous_status text NOT NULL
);

CREATE TABLE sandbox_traffic (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  operation text NOT NULL,
  status integer NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX sandbox_traffic_client ON sandbox_traffic (client_id, id);

CREATE TABLE patient_oppositions (
  patient_id text PRIMARY KEY,
  opposed_at timestamptz NOT NULL DEFAULT now()
);
