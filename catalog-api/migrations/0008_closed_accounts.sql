-- Patient accounts closed in the national record: their grants end, and no new authorization
-- is given for them.

CREATE TABLE closed_patient_accounts (
  patient_id text PRIMARY KEY,
  closed_at timestamptz NOT NULL DEFAULT now()
);
