-- Which attempt holds an idempotency key while it runs: a random id per reservation. A request
-- records its answer (or gives its key back on an error) only under its own reservation, so that
-- one taken as lost and run again by a retry cannot write a second answer, nor remove the retry's.

ALTER TABLE idempotency_keys ADD COLUMN reservation uuid;
