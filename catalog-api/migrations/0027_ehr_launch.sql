-- SMART EHR launch from the patient's space: an app may register the URL the platform opens
-- when a patient starts it ("Ouvrir l'application"), with `iss` and an opaque `launch`; the
-- launch is single-use, short-lived, and names the patient (or the child a guardian acts for).
ALTER TABLE apps ADD COLUMN launch_url text;

CREATE TABLE patient_launches (
  id_hash text PRIMARY KEY,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  patient_id text NOT NULL,
  actor_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX patient_launches_expiry ON patient_launches (expires_at);

-- A request waiting for the patient that came from a launch: who it is for is already decided.
ALTER TABLE authorization_interactions ADD COLUMN launch_context jsonb;
