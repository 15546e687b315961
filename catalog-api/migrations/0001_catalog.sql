-- Publishers, their API keys and their apps: the first slice of the catalogue.

CREATE TABLE publishers (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  registration_number text NOT NULL UNIQUE,
  contact_email text NOT NULL,
  domains text[] NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('pending_verification', 'verified')),
  verified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is kept; the key itself is shown once, at creation.
CREATE TABLE publisher_api_keys (
  id uuid PRIMARY KEY,
  publisher_id uuid NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
  label text NOT NULL,
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX publisher_api_keys_publisher ON publisher_api_keys (publisher_id) WHERE revoked_at IS NULL;

CREATE TABLE apps (
  id uuid PRIMARY KEY,
  -- Creation order, for stable keyset pagination of a publisher's apps.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  publisher_id uuid NOT NULL REFERENCES publishers (id),
  name text NOT NULL,
  short_description jsonb NOT NULL,
  long_description jsonb NOT NULL,
  category text NOT NULL,
  website_url text NOT NULL,
  logo_url text,
  redirect_uris text[] NOT NULL,
  scopes jsonb NOT NULL,
  privacy_policy_url text NOT NULL,
  terms_url text NOT NULL,
  support_contact jsonb NOT NULL,
  certification_status text NOT NULL DEFAULT 'draft' CHECK (certification_status IN (
    'draft', 'submitted', 'in_review', 'changes_requested', 'approved', 'rejected',
    'certified', 'suspended', 'revoked', 'expired')),
  certified_at timestamptz,
  -- Lower-cased, accent-free name and descriptions, maintained by the repository, so search and
  -- sort behave the same on every PostgreSQL whatever its collations and extensions.
  search_text text NOT NULL,
  sort_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_publisher_seq ON apps (publisher_id, seq);
CREATE INDEX apps_catalog_order ON apps (sort_key, id) WHERE certification_status = 'certified';
CREATE INDEX apps_catalog_category ON apps (category, sort_key, id) WHERE certification_status = 'certified';
