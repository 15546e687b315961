// The limit server's SQL: one prepared statement per request in the common case. Written against
// the platform's tables (catalog-api/migrations), with the same semantics as the platform's
// queries: the same replay-cache insert, the same grant state, the same search and order, and the
// same hash-chained access history append (so the platform's chain verification passes over the
// entries the limit writes).

/** Which certification statuses let an app's tokens work, per mode (the platform's appMayUseTokens). */
export const productionCertification = `certification_status = 'certified'`;
export const sandboxCertification = `certification_status NOT IN ('suspended', 'revoked')`;

/** Records a one-time identifier, or finds it already recorded and unexpired (the platform's replay cache). */
const replayInsert = (namespace, jti, until) =>
  `INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ('${namespace}', ${jti}, ${until})
   ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE oauth_replay.expires_at < now()
   RETURNING 1`;

export const recordJti = { name: 'limit_record_jti', text: `INSERT INTO oauth_replay (namespace, jti, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE oauth_replay.expires_at < now()` };

/**
 * A FHIR read or search of Observations, whole: the proof's jti recorded; the grant, its app, its
 * client, the token's revocation and the client's token cut-off read; the query run only when all
 * of them allow it; the access history entry appended (chain head moved under its row lock, the
 * entry's hash computed from the previous one exactly as the platform's recordAccess does).
 *
 * $1 proof jti, $2 remember until, $3 grant id, $4 token jti, $5 patient, $6 token iat (s),
 * $7 occurred at (ISO, ms), $8 genesis hash, $9 token client_id, $10 scope filters (jsonb or null),
 * search: $11 tokens (text[] or null), $12 limit (count + 1), $13 count; read: $11 id.
 */
function fhirStatement(interaction, certified) {
  const search = interaction === 'search';
  const filters = `($10::jsonb IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements($10::jsonb) x WHERE f.tokens @> ARRAY(SELECT jsonb_array_elements_text(x))))`;
  const page = search
    ? `SELECT f.id, f.version_id, f.last_updated, f.resource_date, f.content FROM fhir_resources f
       WHERE f.patient_id = $5::text AND f.resource_type = 'Observation' AND EXISTS (SELECT 1 FROM ok)
         AND ($11::text[] IS NULL OR f.tokens && $11::text[]) AND ${filters}
       ORDER BY f.resource_date DESC, f.id DESC LIMIT $12`
    : `SELECT f.id, f.version_id, f.last_updated, f.resource_date, f.content FROM fhir_resources f
       WHERE f.patient_id = $5::text AND f.resource_type = 'Observation' AND f.id = $11::text AND EXISTS (SELECT 1 FROM ok) AND ${filters}`;
  const count = search ? `(SELECT LEAST(count(*), $13) FROM page)` : `(SELECT count(*) FROM page)`;
  const hash = (prev, seq) =>
    `encode(sha256(convert_to(concat_ws(E'\\n', ${prev}, $5::text, ${seq}, $7::text, (SELECT app_id::text FROM ok), $9::text, $3::text,
       (SELECT actor_id FROM ok), 'Observation', '${interaction}', ${count}::text), 'UTF8')), 'hex')`;
  return {
    name: `limit_fhir_${interaction}_${certified.includes('NOT IN') ? 'sandbox' : 'production'}`,
    text: `WITH proof AS (${replayInsert('dpop', '$1', '$2')}),
state AS (
  SELECT g.patient_id, g.actor_id, g.app_id, g.revoked_at IS NOT NULL AS revoked, g.revoked_reason,
         (g.expires_at IS NOT NULL AND g.expires_at <= now()) AS expired, a.certification_status,
         EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = g.client_id) AS client_exists,
         (SELECT t.not_before FROM client_token_cutoffs t WHERE t.client_id = g.client_id) AS not_before,
         EXISTS (SELECT 1 FROM oauth_revoked_access_tokens r WHERE r.jti = $4::text) AS token_revoked,
         (g.actor_id = g.patient_id OR EXISTS (SELECT 1 FROM patient_guardians p WHERE p.guardian_id = g.actor_id AND p.child_id = g.patient_id
            AND (p.valid_until IS NULL OR p.valid_until > current_date))) AS may_act
  FROM grants g JOIN apps a ON a.id = g.app_id
  WHERE g.id = $3::uuid AND EXISTS (SELECT 1 FROM proof)
),
ok AS (
  SELECT patient_id, actor_id, app_id FROM state
  WHERE client_exists AND NOT revoked AND NOT expired AND ${certified} AND patient_id = $5::text AND NOT token_revoked
    AND (not_before IS NULL OR date_trunc('milliseconds', not_before) <= to_timestamp($6::float8)) AND may_act
),
page AS (${page}),
head AS (
  INSERT INTO access_history_heads AS h (patient_id, seq, prev_hash, hash)
  SELECT $5::text, 1, $8::text, ${hash('$8::text', "'1'")} FROM ok
  ON CONFLICT (patient_id) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash, hash = ${hash('h.hash', '(h.seq + 1)::text')}
  RETURNING seq, prev_hash, hash
),
entry AS (
  INSERT INTO access_history (patient_id, seq, occurred_at, app_id, client_id, grant_id, actor_id, resource_type, interaction, resource_count, prev_hash, hash)
  SELECT $5::text, head.seq, $7::timestamptz, ok.app_id, $9::text, $3::uuid, ok.actor_id, 'Observation', '${interaction}', ${count}, head.prev_hash, head.hash
  FROM head, ok
  RETURNING seq
)
SELECT EXISTS (SELECT 1 FROM proof) AS fresh, s.patient_id IS NOT NULL AS grant_exists, s.patient_id AS g_patient, s.revoked, s.revoked_reason,
       s.expired, s.certification_status, s.client_exists, s.not_before, s.token_revoked, s.may_act,
       p.id, p.version_id, p.last_updated, p.resource_date, p.content
FROM (SELECT 1) one LEFT JOIN state s ON true LEFT JOIN page p ON true
ORDER BY p.resource_date DESC, p.id DESC`,
  };
}

export const fhirSearch = (certified) => fhirStatement('search', certified);
export const fhirRead = (certified) => fhirStatement('read', certified);

/**
 * The refresh_token grant, whole: the proof's jti recorded (when `withProof`), the client and its
 * app read, the client assertion's jti recorded only if the client's registered keys are still the
 * ones its signature was verified with ($4 null: not verified yet), and the refresh token with its
 * grant's state read and locked (FOR UPDATE, as the platform's exchange does) once the client is
 * authenticated.
 *
 * ($1 proof jti, $2 remember until,) then: client_id, assertion jti (`<client_id>:<jti>`) or null,
 * assertion expiry, the keys' text as verified, the refresh token's hash, whether the client is
 * public (no assertion).
 */
export function tokenRefresh({ withProof }) {
  const n = (i) => `$${withProof ? i + 2 : i}`;
  return {
    name: withProof ? 'limit_token_refresh' : 'limit_token_refresh_keys_changed',
    text: `WITH dpop AS (${withProof ? replayInsert('dpop', '$1', '$2') : 'SELECT 1'}),
client AS (
  SELECT c.type, c.jwks::text AS jwks, a.certification_status, a.name AS app_name
  FROM oauth_clients c JOIN apps a ON a.id = c.app_id
  WHERE c.id = ${n(1)}::text AND EXISTS (SELECT 1 FROM dpop)
),
assertion AS (
  INSERT INTO oauth_replay (namespace, jti, expires_at)
  SELECT 'client_assertion', ${n(2)}::text, ${n(3)}::timestamptz FROM client
  WHERE ${n(2)}::text IS NOT NULL AND client.type = 'confidential' AND client.jwks = ${n(4)}::text
  ON CONFLICT (namespace, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE oauth_replay.expires_at < now()
  RETURNING 1
),
token AS (
  SELECT r.grant_id, r.client_id AS token_client_id, r.jkt, r.scope, r.rotated_at IS NOT NULL AS rotated, r.revoked_at IS NOT NULL AS token_revoked,
         g.patient_id, g.actor_id, true AS grant_exists, g.revoked_at IS NOT NULL AS revoked, g.revoked_reason,
         (g.expires_at IS NOT NULL AND g.expires_at <= now()) AS expired, a.certification_status AS grant_certification_status,
         EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = g.client_id) AS client_exists
  FROM oauth_refresh_tokens r JOIN grants g ON g.id = r.grant_id JOIN apps a ON a.id = g.app_id
  WHERE r.token_hash = ${n(5)}::text
    AND (EXISTS (SELECT 1 FROM assertion) OR (${n(6)}::boolean AND EXISTS (SELECT 1 FROM client WHERE client.type = 'public')))
  FOR UPDATE OF r
)
SELECT EXISTS (SELECT 1 FROM dpop) AS dpop_fresh, client.type AS client_type, client.jwks, client.certification_status, client.app_name,
       EXISTS (SELECT 1 FROM assertion) AS assertion_fresh, token.*
FROM (SELECT 1) one LEFT JOIN client ON true LEFT JOIN token ON true`,
  };
}

export const revokeGrant = { name: 'limit_revoke_grant', text: `UPDATE grants SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL` };

export const rotateRefreshToken = {
  name: 'limit_rotate_refresh_token',
  text: `WITH rotated AS (UPDATE oauth_refresh_tokens SET rotated_at = now() WHERE token_hash = $1)
  INSERT INTO oauth_refresh_tokens (token_hash, grant_id, client_id, jkt, scope) VALUES ($2, $3, $4, $5, $6)`,
};

export const publishedKeys = {
  name: 'limit_published_keys',
  text: `SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
  ORDER BY retired_at IS NOT NULL, created_at DESC, alg`,
};

export const activeSigningKey = { name: 'limit_signing_key', text: 'SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL AND alg = $1' };

/** The public catalogue's first page: certified apps by sort key and id, with the publisher's name (the public fields only). */
export const catalogList = {
  name: 'limit_catalog_list',
  text: `SELECT a.id, a.publisher_id, a.name, a.short_description, a.long_description, a.category, a.website_url, a.logo_url, a.scopes,
       a.privacy_policy_url, a.terms_url, a.support_contact, a.certified_at, a.certificate_reference, a.sort_key, a.updated_at,
       (SELECT p.name FROM publishers p WHERE p.id = a.publisher_id) AS publisher_name
FROM apps a WHERE a.certification_status = 'certified' ORDER BY a.sort_key, a.id LIMIT $1`,
};
