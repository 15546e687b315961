import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Db } from '../src/core/store/db.js';
import { migrate } from '../src/core/store/migrate.js';
import { createDpopNonces, DPOP_NONCE_SECRET_NAME, DpopError, verifyDpopProof } from '../src/modules/oauth/dpop.js';
import { storeReplayCache } from '../src/modules/oauth/replay-cache.js';
import { dropTestSchema, testConfig } from '../src/testing.js';

const TOKEN_URL = 'https://api.example.fr/oauth/token';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * Two connections to one migrated store, as two server instances would have: two pools on one
 * fresh PostgreSQL schema, or the one in-memory PGlite twice (it cannot be shared otherwise).
 */
async function twoInstances(): Promise<[Db, Db]> {
  const config = testConfig();
  const open = () => openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema });
  const first = await open();
  cleanups.push(async () => {
    await first.close();
    await dropTestSchema(config);
  });
  await migrate(first);
  if (!config.databaseUrl) return [first, first];
  const second = await open();
  cleanups.push(() => second.close());
  return [first, second];
}

let key: { privateKey: CryptoKey; jwk: JWK };
let a: Db;
let b: Db;
beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  key = { privateKey, jwk: await exportJWK(publicKey) };
  [a, b] = await twoInstances();
});

async function proof(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
    .setIssuedAt()
    .sign(key.privateKey);
}

describe('DPoP on the store', () => {
  it('refuses a proof replayed to another instance', async () => {
    const instanceA = { replay: storeReplayCache(a), nonces: createDpopNonces(a) };
    const instanceB = { replay: storeReplayCache(b), nonces: createDpopNonces(b) };
    const dpop = await proof();
    const input = { headers: dpop, method: 'POST', url: TOKEN_URL };

    const { jti } = await verifyDpopProof(input, instanceA);
    const replayed = await verifyDpopProof(input, instanceB).catch((e: unknown) => e);
    expect(replayed).toBeInstanceOf(DpopError);
    expect(replayed).toMatchObject({ code: 'invalid_dpop_proof', message: expect.stringMatching(/"jti" was already used/) });
    await expect(verifyDpopProof(input, instanceA)).rejects.toThrow(/"jti" was already used/);

    const [row] = await a.query<{ expires_at: Date }>("SELECT expires_at FROM oauth_replay WHERE namespace = 'dpop' AND jti = $1", [jti]);
    const remembered = (new Date(row!.expires_at).getTime() - Date.now()) / 1000;
    expect(remembered).toBeGreaterThan(300);
    expect(remembered).toBeLessThanOrEqual(360);
  });

  it('lets only one of two instances accept the same proof at the same time', async () => {
    const dpop = await proof();
    const input = { headers: dpop, method: 'POST', url: TOKEN_URL };
    const results = await Promise.allSettled([
      verifyDpopProof(input, { replay: storeReplayCache(a), nonces: createDpopNonces(a) }),
      verifyDpopProof(input, { replay: storeReplayCache(b), nonces: createDpopNonces(b) }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('shares one nonce secret between instances, created once in server_secrets', async () => {
    await a.query('DELETE FROM server_secrets WHERE name = $1', [DPOP_NONCE_SECRET_NAME]);
    const noncesA = createDpopNonces(a);
    const noncesB = createDpopNonces(b);
    // Both start together: the first insert wins and both use its secret.
    const [fromA, fromB] = await Promise.all([noncesA.current(), noncesB.current()]);
    expect(fromA).toBe(fromB);
    expect(await noncesB.isValid(fromA)).toBe(true);
    const rows = await a.query<{ value: string }>('SELECT value FROM server_secrets WHERE name = $1', [DPOP_NONCE_SECRET_NAME]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0]!.value, 'base64url')).toHaveLength(32);
    // A later instance reads the same secret.
    expect(await createDpopNonces(b).current()).toBe(fromA);
  });

  it('accepts on one instance the nonce another one asked for', async () => {
    const instanceA = { replay: storeReplayCache(a), nonces: createDpopNonces(a) };
    const instanceB = { replay: storeReplayCache(b), nonces: createDpopNonces(b) };
    const first = { headers: await proof(), method: 'POST', url: TOKEN_URL, requireNonce: true };
    const asked = await verifyDpopProof(first, instanceA).then(
      () => expect.unreachable('a proof without a nonce was accepted'),
      (e: unknown) => e as DpopError,
    );
    expect(asked).toBeInstanceOf(DpopError);
    expect(asked).toMatchObject({ code: 'use_dpop_nonce', nonce: expect.any(String) });
    const retry = { headers: await proof({ nonce: asked.nonce }), method: 'POST', url: TOKEN_URL, requireNonce: true };
    await expect(verifyDpopProof(retry, instanceB)).resolves.toMatchObject({ jkt: expect.any(String) });
  });

  it('keeps the secret in memory after the first read', async () => {
    const nonces = createDpopNonces(a);
    const before = await nonces.current();
    await a.query('DELETE FROM server_secrets WHERE name = $1', [DPOP_NONCE_SECRET_NAME]);
    expect(await nonces.current()).toBe(before);
    expect(await nonces.isValid(before)).toBe(true);
  });
});
