-- Patient sign-in at the upstream identity provider (OpenID Connect, authorization code + PKCE).
-- A sign-in attempt is what the platform must remember between sending the browser to the
-- provider and its return: the state, the nonce and the PKCE verifier (sealed under
-- KEY_ENCRYPTION_KEY), and the page to go back to. The browser holds a random value in a short
-- cookie; only its SHA-256 is kept. An attempt lasts 10 minutes and is used once.

CREATE TABLE patient_sign_in_attempts (
  id_hash text PRIMARY KEY,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier_sealed text NOT NULL,
  return_to text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX patient_sign_in_attempts_expiry ON patient_sign_in_attempts (expires_at);

-- The ID token a session was opened with, sealed, sent back to the provider as id_token_hint
-- when the patient signs out (RP-initiated logout). Null for sandbox sessions.
ALTER TABLE patient_sessions ADD COLUMN id_token_sealed text;

-- Sign-in by INS (PATIENT_OIDC_INS_CLAIM) finds the Patient whose identifiers hold it: a
-- containment search on the Patient rows' identifiers.
CREATE INDEX fhir_patients_by_identifier ON fhir_resources USING gin ((content -> 'identifier') jsonb_path_ops) WHERE resource_type = 'Patient';
