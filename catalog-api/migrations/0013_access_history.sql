-- The access history: every read, search and write an app makes through the FHIR API, for the
-- patient to see. Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE), and each patient's
-- entries form a hash chain (hash = SHA-256 of the previous hash and the entry), so that an
-- entry changed or removed behind the server's back is detected by verification. The chain's
-- last position and hash per patient are kept in access_history_heads, whose row lock also
-- serializes concurrent entries of one patient (and only of that patient).
--
-- Partitioned by month of occurred_at (a national deployment writes billions of rows a year);
-- the server creates the partitions of the current and next two months at start and at every
-- sweep round, and a default partition catches anything else. Old months are dropped as whole
-- partitions by the operators' retention policy, never row by row.

CREATE TABLE access_history (
  patient_id text NOT NULL,
  seq bigint NOT NULL,
  occurred_at timestamptz NOT NULL,
  app_id uuid NOT NULL,
  client_id text NOT NULL,
  grant_id uuid NOT NULL,
  -- Who acted through the app: the patient, or a guardian for a child.
  actor_id text NOT NULL,
  resource_type text NOT NULL,
  interaction text NOT NULL CHECK (interaction IN ('read', 'search', 'create')),
  resource_count integer NOT NULL CHECK (resource_count >= 0),
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (patient_id, seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE access_history_default PARTITION OF access_history DEFAULT;
CREATE INDEX access_history_patient_time ON access_history (patient_id, occurred_at);

CREATE TABLE access_history_heads (
  patient_id text PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL
);

CREATE FUNCTION access_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_history is append-only';
END
$$;
CREATE TRIGGER access_history_no_change BEFORE UPDATE OR DELETE ON access_history
  FOR EACH ROW EXECUTE FUNCTION access_history_append_only();
CREATE TRIGGER access_history_no_truncate BEFORE TRUNCATE ON access_history
  FOR EACH STATEMENT EXECUTE FUNCTION access_history_append_only();
