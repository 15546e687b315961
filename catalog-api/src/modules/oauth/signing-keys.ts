// The authorization server's signing keys: ES256 (access tokens, certificates, sandbox evidence,
// ID tokens on request) and RS256 (ID tokens by default, as OpenID Connect defines them). Created
// at first start and kept in the store so every instance signs with the same keys; rotation
// replaces every algorithm's key at once and keeps the previous public keys published until the
// tokens they signed have expired. Keys are node:crypto KeyObjects; the signer and the verifiers
// keep them by kid, so a key is decrypted and imported once, not at every signature.
import { createPrivateKey, generateKeyPair, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SecretBox } from '../../core/secret-box.js';
import type { Db, Queryable } from '../../core/store/db.js';

/** The algorithm of access tokens and of everything else the platform signs but ID tokens. */
export const SIGNING_ALG = 'ES256';
/** Every algorithm the platform holds a key for. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** Arbitrary constant that identifies the key-rotation lock among the server's advisory locks. */
const KEY_LOCK = 7_340_013;
const RSA_MODULUS_BITS = 2048;

export type PublishedKey = import('@mes/openapi').components['schemas']['PublishedJwk'];

const generate = promisify(generateKeyPair);

async function createKey(tx: Queryable, box: SecretBox, alg: SigningAlgorithm): Promise<string> {
  const { publicKey, privateKey } = alg === 'RS256' ? await generate('rsa', { modulusLength: RSA_MODULUS_BITS }) : await generate('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(12).toString('base64url');
  const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' });
  const publicJwk: PublishedKey = { kty: kty!, ...(kty === 'RSA' ? { n, e } : { crv, x, y }), kid, alg, use: 'sig' };
  const privateJwk = privateKey.export({ format: 'jwk' });
  await tx.query('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk) VALUES ($1, $2, $3, $4)', [kid, alg, JSON.stringify(publicJwk), box.seal(JSON.stringify(privateJwk))]);
  return kid;
}

/** Makes sure each algorithm has an active key; instances starting together create only one each. */
export async function ensureSigningKey(db: Db, box: SecretBox): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const active = new Set((await tx.query<{ alg: string }>('SELECT alg FROM signing_keys WHERE retired_at IS NULL')).map((row) => row.alg));
    for (const alg of SIGNING_ALGORITHMS) if (!active.has(alg)) await createKey(tx, box, alg);
  });
}

export interface RotatedKey {
  alg: SigningAlgorithm;
  activeKid: string;
  retiredKid: string | null;
}

/** Retires every active key and creates its successor; returns what changed, ES256 first. */
export async function rotateSigningKey(db: Db, box: SecretBox): Promise<RotatedKey[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const retired = await tx.query<{ kid: string; alg: string }>('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL RETURNING kid, alg');
    const rotated: RotatedKey[] = [];
    for (const alg of SIGNING_ALGORITHMS) {
      rotated.push({ alg, activeKid: await createKey(tx, box, alg), retiredKid: retired.find((row) => row.alg === alg)?.kid ?? null });
    }
    return rotated;
  });
}

/** The public keys a verifier may meet: the active one and those retired less than `retentionSeconds` ago. */
export async function publishedKeys(db: Queryable, retentionSeconds: number): Promise<PublishedKey[]> {
  const rows = await db.query<{ public_jwk: PublishedKey }>(
    `SELECT public_jwk FROM signing_keys
     WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
     ORDER BY retired_at IS NOT NULL, created_at DESC, alg`,
    [retentionSeconds],
  );
  return rows.map((row) => row.public_jwk);
}

/**
 * The public keys a long-lived signature (a certificate, ES256) may name: the active ES256 key and
 * every key in `kids`, retired or not (a certificate signed three years ago still verifies with its key).
 */
export async function keysForLongLivedSignatures(db: Queryable, kids: readonly string[]): Promise<PublishedKey[]> {
  const rows = await db.query<{ public_jwk: PublishedKey }>(
    `SELECT public_jwk FROM signing_keys WHERE alg = $2 AND (retired_at IS NULL OR kid = ANY($1::text[]))
     ORDER BY retired_at IS NOT NULL, created_at DESC`,
    [kids, SIGNING_ALG],
  );
  return rows.map((row) => row.public_jwk);
}

/** The kid and the sealed private JWK of the active key of `alg`. */
export async function activeSigningKeyRow(db: Queryable, alg: SigningAlgorithm = SIGNING_ALG): Promise<{ kid: string; sealed: string }> {
  const [row] = await db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL AND alg = $1', [alg]);
  if (!row) throw new Error(`no active ${alg} signing key: ensureSigningKey() runs at start`);
  return { kid: row.kid, sealed: row.private_jwk };
}

/** The private KeyObject of a key as stored (sealed by the secret box). */
export function openPrivateKey(box: SecretBox, sealed: string): KeyObject {
  return createPrivateKey({ key: JSON.parse(box.open(sealed)) as JsonWebKey, format: 'jwk' });
}

/** The key to sign with now, of the algorithm given (ES256 unless said). */
export async function activeSigningKey(db: Queryable, box: SecretBox, alg: SigningAlgorithm = SIGNING_ALG): Promise<{ kid: string; key: KeyObject }> {
  const { kid, sealed } = await activeSigningKeyRow(db, alg);
  return { kid, key: openPrivateKey(box, sealed) };
}
