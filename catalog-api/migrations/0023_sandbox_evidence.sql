-- Signed sandbox evidence: a submission may carry the traffic report a trusted sandbox signed
-- (a JWS), kept to check it again during the review; each check run says where its sandbox
-- evidence came from.
ALTER TABLE submissions ADD COLUMN sandbox_evidence text;
ALTER TABLE check_runs ADD COLUMN evidence_source jsonb NOT NULL DEFAULT '{"kind":"recorded","issuer":null,"issuedAt":null}';
