-- The reference of an app's certification, shown to patients on the consent screen and in the
-- catalogue ("MES-2026-000042"): given once, the first time the app is certified, and kept
-- through suspension and reinstatement. And when the certification status last changed, so a
-- patient who authorized the app is told of a suspension or revocation at their next visit.

CREATE SEQUENCE certificate_numbers;
ALTER TABLE apps ADD COLUMN certificate_reference text UNIQUE;
ALTER TABLE apps ADD COLUMN certification_changed_at timestamptz;
UPDATE apps SET certification_changed_at = updated_at;
