-- Apps' logos, fetched once from the publisher's logoUrl and served from the platform's own
-- origin (the pages allow images from nowhere else). One row per app: the last logo accepted
-- from source_url (bytes, checked type, hash for the ETag, when), and the last failure (when,
-- why) so a failing URL is not fetched at every page view. A new logoUrl replaces the row.

CREATE TABLE app_logos (
  app_id uuid PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
  source_url text NOT NULL,
  content_type text CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
  bytes bytea CHECK (octet_length(bytes) <= 262144),
  -- Hex SHA-256 of bytes: the ETag.
  sha256 text,
  fetched_at timestamptz,
  failed_at timestamptz,
  error text,
  -- A logo is all of its parts or none.
  CHECK ((bytes IS NULL) = (content_type IS NULL) AND (bytes IS NULL) = (sha256 IS NULL) AND (bytes IS NULL) = (fetched_at IS NULL)),
  CHECK (bytes IS NOT NULL OR failed_at IS NOT NULL)
);
