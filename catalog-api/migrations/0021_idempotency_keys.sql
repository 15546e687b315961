-- Idempotency keys (the IETF httpapi Idempotency-Key header) of the write operations: a client
-- that retries a POST whose answer it lost sends the same key, and gets the first answer again
-- instead of a second creation. Keys belong to whoever calls (a publisher, an app's grant), last
-- a day, and are bound to the request they were first used with (its fingerprint).

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  operation_id text NOT NULL,
  -- SHA-256 of the method, path and body of the first request.
  fingerprint text NOT NULL,
  -- Null while the first request runs; then its answer.
  status integer,
  headers jsonb,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
