-- Device authorization grant (RFC 8628): the sign-in of the platform's own command line.

CREATE TABLE device_authorizations (
  device_code_hash text PRIMARY KEY,
  user_code text NOT NULL UNIQUE,
  client_id text NOT NULL,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  interval_seconds integer NOT NULL,
  last_polled_at timestamptz,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  -- Who approved: `publisher:<id>`.
  subject text
);
CREATE INDEX device_authorizations_expiry ON device_authorizations (expires_at);
