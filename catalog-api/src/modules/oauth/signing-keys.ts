// The authorization server's signing keys (ES256): created at first start and kept in the store
// so every instance signs with the same key; rotation keeps the previous public key published
// until the tokens it signed have expired.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SecretBox } from '../../core/secret-box.js';
import type { Db, Queryable } from '../../core/store/db.js';

export const SIGNING_ALG = 'ES256';
/** Arbitrary constant that identifies the key-rotation lock among the server's advisory locks. */
const KEY_LOCK = 7_340_013;

export type PublishedKey = import('@mes/openapi').components['schemas']['PublishedJwk'];

async function createKey(tx: Queryable, box: SecretBox): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomBytes(12).toString('base64url');
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const publicJwk: PublishedKey = { kty: kty!, crv, x, y, kid, alg: SIGNING_ALG, use: 'sig' };
  const privateJwk = await exportJWK(privateKey);
  await tx.query('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk) VALUES ($1, $2, $3, $4)', [
    kid,
    SIGNING_ALG,
    JSON.stringify(publicJwk),
    box.seal(JSON.stringify(privateJwk)),
  ]);
  return kid;
}

/** Makes sure an active key exists; instances starting together create only one. */
export async function ensureSigningKey(db: Db, box: SecretBox): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const [active] = await tx.query<{ kid: string }>('SELECT kid FROM signing_keys WHERE retired_at IS NULL');
    return active ? active.kid : createKey(tx, box);
  });
}

/** Retires the active key and creates its successor; returns the new key id. */
export async function rotateSigningKey(db: Db, box: SecretBox): Promise<{ activeKid: string; retiredKid: string | null }> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const [retired] = await tx.query<{ kid: string }>(
      'UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL RETURNING kid',
    );
    return { activeKid: await createKey(tx, box), retiredKid: retired?.kid ?? null };
  });
}

/** The public keys a verifier may meet: the active one and those retired less than `retentionSeconds` ago. */
export async function publishedKeys(db: Queryable, retentionSeconds: number): Promise<PublishedKey[]> {
  const rows = await db.query<{ public_jwk: PublishedKey }>(
    `SELECT public_jwk FROM signing_keys
     WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
     ORDER BY retired_at IS NOT NULL, created_at DESC`,
    [retentionSeconds],
  );
  return rows.map((row) => row.public_jwk);
}

/**
 * The public keys a long-lived signature may name: the active key and every key in `kids`,
 * retired or not (a certificate signed three years ago still verifies with its key).
 */
export async function keysForLongLivedSignatures(db: Queryable, kids: readonly string[]): Promise<PublishedKey[]> {
  const rows = await db.query<{ public_jwk: PublishedKey }>(
    `SELECT public_jwk FROM signing_keys WHERE retired_at IS NULL OR kid = ANY($1::text[])
     ORDER BY retired_at IS NOT NULL, created_at DESC`,
    [kids],
  );
  return rows.map((row) => row.public_jwk);
}

/** The key to sign with now. */
export async function activeSigningKey(db: Queryable, box: SecretBox): Promise<{ kid: string; key: CryptoKey }> {
  const [row] = await db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk FROM signing_keys WHERE retired_at IS NULL');
  if (!row) throw new Error('no active signing key: ensureSigningKey() runs at start');
  const key = (await importJWK(JSON.parse(box.open(row.private_jwk)) as JWK, SIGNING_ALG)) as CryptoKey;
  return { kid: row.kid, key };
}
