import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { secretBox } from '../src/core/secret-box.js';
import { openStore } from '../src/core/store/db.js';
import { activeSigningKey } from '../src/modules/oauth/index.js';
import { dropTestSchema, testConfig } from '../src/testing.js';
import { call, expectProblem, useServer } from './helpers.js';

const operatorToken = randomBytes(24).toString('base64url');
const server = useServer({ operatorToken });

describe('signing keys and the JWKS', () => {
  it('publishes one ES256 and one RS256 public key from the first start, and never private members', async () => {
    const jwks = await call(server(), 'GET', '/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    expect(jwks.body.keys).toHaveLength(2);
    const [ec, rsa] = jwks.body.keys;
    expect(ec).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    expect(Object.keys(ec).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(rsa).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB', kid: expect.any(String) });
    expect(Object.keys(rsa).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    // A 2048-bit modulus: 256 bytes, 342 base64url characters.
    expect(Buffer.from(rsa.n, 'base64url')).toHaveLength(256);
  });

  it('signs with keys that verifiers find in the JWKS', async () => {
    const config = server().config;
    const jwks = createLocalJWKSet((await call(server(), 'GET', '/jwks.json')).body);
    for (const alg of ['ES256', 'RS256'] as const) {
      const { kid, key } = await activeSigningKey(server().app.db, secretBox(config.keyEncryptionKey), alg);
      const token = await new SignJWT({ scope: 'openid' }).setProtectedHeader({ alg, kid }).setIssuedAt().setExpirationTime('5m').sign(key);
      await expect(jwtVerify(token, jwks)).resolves.toMatchObject({ payload: { scope: 'openid' }, protectedHeader: { alg, kid } });
    }
  });

  it('keeps the private key encrypted at rest', async () => {
    const rows = await server().app.db.query<{ private_jwk: string }>('SELECT private_jwk FROM signing_keys');
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^aes256gcm:/);
      expect(row.private_jwk).not.toContain('"d"');
    }
    const wrongKey = secretBox(randomBytes(32));
    expect(() => wrongKey.open(rows[0]!.private_jwk)).toThrow(/cannot be decrypted/);
    expect(() => secretBox(undefined).open(rows[0]!.private_jwk)).toThrow(/KEY_ENCRYPTION_KEY/);
  });

  it("rotates every algorithm's key on an operator request, keeping the retired keys published for the retention time", async () => {
    const before = (await call(server(), 'GET', '/jwks.json')).body.keys as { kid: string; alg: string }[];
    const rotated = await call(server(), 'POST', '/operator/signing-keys/rotation', { key: operatorToken });
    expect(rotated.status).toBe(200);
    const previous = (alg: string) => before.find((key) => key.alg === alg)!.kid;
    expect(rotated.body.keys).toEqual([
      { alg: 'ES256', activeKid: expect.any(String), retiredKid: previous('ES256') },
      { alg: 'RS256', activeKid: expect.any(String), retiredKid: previous('RS256') },
    ]);
    expect(rotated.body).toMatchObject({ activeKid: rotated.body.keys[0].activeKid, retiredKid: previous('ES256') });
    const active = rotated.body.keys.map((key: { activeKid: string }) => key.activeKid);
    const after = (await call(server(), 'GET', '/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(after).toEqual([...active, ...before.map((key) => key.kid)]);
    for (const [i, alg] of (['ES256', 'RS256'] as const).entries()) {
      const { kid } = await activeSigningKey(server().app.db, secretBox(server().config.keyEncryptionKey), alg);
      expect(kid).toBe(active[i]);
    }

    // Past the retention time the retired keys leave the set.
    await server().app.db.query(`UPDATE signing_keys SET retired_at = now() - interval '2 hours' WHERE retired_at IS NOT NULL`);
    const later = (await call(server(), 'GET', '/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(later).toEqual(active);
  });

  it('refuses rotation without the operator token', async () => {
    const before = (await call(server(), 'GET', '/jwks.json')).body.keys;
    expectProblem(await call(server(), 'POST', '/operator/signing-keys/rotation'), 401, 'authentication_required');
    expectProblem(await call(server(), 'POST', '/operator/signing-keys/rotation', { key: 'mes_pk_not-the-operator' }), 401, 'invalid_operator_token');
    expect((await call(server(), 'GET', '/jwks.json')).body.keys).toEqual(before);
  });
});

describe('signing keys shared through the store', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('are created once when several instances start on the same store', async () => {
    const config = testConfig();
    // On PGlite, instances of one process share the store through one Db; on PostgreSQL each opens its own pool.
    const shared = config.databaseUrl ? undefined : await openStore({ dataDir: 'memory://' });
    const apps = await Promise.all([0, 1, 2].map(() => buildApp(config, shared ? { db: shared } : {})));
    cleanups.push(async () => {
      await Promise.all(apps.map((app) => app.close()));
      await shared?.close();
      await dropTestSchema(config);
    });
    const sets = await Promise.all(apps.map(async (app) => (await app.inject({ url: '/jwks.json' })).json().keys));
    expect(sets[0]).toHaveLength(2);
    expect(sets[1]).toEqual(sets[0]);
    expect(sets[2]).toEqual(sets[0]);
  });
});
