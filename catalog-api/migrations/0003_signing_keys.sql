-- The authorization server's signing keys, shared by every instance through the store.
-- The private key is kept encrypted (AES-256-GCM) when KEY_ENCRYPTION_KEY is configured.

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('ES256')),
  public_jwk jsonb NOT NULL,
  private_jwk text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when a newer key takes over; the key stays published for a while after, so that tokens
  -- it signed can still be verified until they expire.
  retired_at timestamptz
);
-- At most one active key.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL;
