-- A submission's decisions are read with every submission shown: index them by submission
-- rather than searching the entries' JSON.
ALTER TABLE certification_decisions ADD COLUMN submission_id uuid;
UPDATE certification_decisions SET submission_id = (entry->>'submissionId')::uuid WHERE entry->>'submissionId' IS NOT NULL;
CREATE INDEX certification_decisions_submission ON certification_decisions (submission_id, seq);
