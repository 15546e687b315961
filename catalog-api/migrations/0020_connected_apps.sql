-- "My connected apps": the last access under each grant, found from the access history by
-- grant, and the notices a patient has read (an app they authorized was suspended or revoked).

CREATE INDEX access_history_grant_time ON access_history (grant_id, occurred_at);

CREATE TABLE patient_notice_dismissals (
  patient_id text NOT NULL,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  -- The certification change the patient has read about: a later change shows a new notice.
  seen_change_at timestamptz NOT NULL,
  dismissed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, app_id)
);
