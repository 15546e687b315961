// The platform's keys as the signer and the access-token verifier keep them: imported once by kid,
// read again on rotation, retired keys verifying while they are published. The store is a stand-in
// that answers the two queries involved.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { secretBox, type SecretBox } from '../src/core/secret-box.js';
import type { Queryable } from '../src/core/store/db.js';
import { accessTokenSigner, type AccessTokenClaims } from '../src/modules/oauth/access-tokens.js';
import { signCompactJws } from '../src/modules/oauth/jws.js';
import type { PublishedKey } from '../src/modules/oauth/signing-keys.js';
import { signedTokenVerifier } from '../src/modules/oauth/token-state.js';
import { testConfig } from '../src/testing.js';

const issuer = 'https://api.example.fr';
const audience = `${issuer}/fhir`;
const claims: AccessTokenClaims = { issuer, audience, subject: 'person-1', clientId: 'client-1', scope: 'patient/Observation.rs', jkt: 'thumb', patient: 'patient-1', grantId: 'grant-1' };

interface StoredKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  publicJwk: PublishedKey;
  sealed: string;
  /** null while active; 'published' when retired but still published; 'gone' past retention. */
  retired: null | 'published' | 'gone';
}

/** An in-memory signing_keys table, counting reads. */
function keyStore(box: SecretBox) {
  const keys: StoredKey[] = [];
  const reads = { published: 0, active: 0 };
  const add = (alg: 'ES256' | 'RS256' = 'ES256') => {
    const { publicKey, privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomBytes(6).toString('base64url');
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as PublishedKey;
    keys.push({ kid, alg, publicJwk, sealed: box.seal(JSON.stringify(privateKey.export({ format: 'jwk' }))), retired: null });
    return { kid, privateKey };
  };
  const rotate = () => {
    for (const key of keys) if (key.retired === null && key.alg === 'ES256') key.retired = 'published';
    return add('ES256');
  };
  const db = {
    async query(sql: string, params: unknown[] = []) {
      if (sql.includes('SELECT public_jwk')) {
        reads.published++;
        return keys.filter((key) => key.retired !== 'gone').map((key) => ({ public_jwk: key.publicJwk }));
      }
      if (sql.includes('SELECT kid, private_jwk')) {
        reads.active++;
        return keys.filter((key) => key.retired === null && key.alg === params[0]).map((key) => ({ kid: key.kid, private_jwk: key.sealed }));
      }
      throw new Error(`unexpected query: ${sql}`);
    },
  } as unknown as Queryable;
  return { keys, reads, add, rotate, db };
}

function countingBox(): SecretBox & { opened: number } {
  const inner = secretBox(randomBytes(32));
  const box = {
    opened: 0,
    seal: inner.seal,
    open(stored: string) {
      box.opened++;
      return inner.open(stored);
    },
  };
  return box;
}

describe('the access-token signer', () => {
  it('decrypts and imports each private key once, and signs what jose verifies with the published key set', async () => {
    const box = countingBox();
    const store = keyStore(box);
    store.add('ES256');
    store.add('RS256');
    const sign = accessTokenSigner(store.db, box, -1); // asks the store every time
    const tokens = [await sign(claims), await sign(claims), await sign.idToken({ issuer, clientId: 'client-1', subject: 'person-1', alg: 'RS256' })];
    expect(box.opened).toBe(2); // one ES256, one RS256
    expect(store.reads.active).toBe(3);
    const jwks = createLocalJWKSet({ keys: store.keys.map((key) => key.publicJwk) });
    for (const token of tokens) await expect(compactVerify(token, jwks)).resolves.toBeDefined();
    expect(decodeProtectedHeader(tokens[0]!)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: store.keys[0]!.kid });
    expect(decodeProtectedHeader(tokens[2]!)).toEqual({ alg: 'RS256', typ: 'JWT', kid: store.keys[1]!.kid });
  });

  it('signs with the new key after a rotation once its cache time has passed', async () => {
    const box = countingBox();
    const store = keyStore(box);
    const first = store.add('ES256');
    const sign = accessTokenSigner(store.db, box, -1);
    expect(decodeProtectedHeader(await sign(claims)).kid).toBe(first.kid);
    const second = store.rotate();
    expect(decodeProtectedHeader(await sign(claims)).kid).toBe(second.kid);
    expect(box.opened).toBe(2);
  });
});

describe('the access-token verifier', () => {
  const config = testConfig();

  it('verifies with each key imported once, reads the keys again for an unknown kid, and keeps a retired key while it is published', async () => {
    const box = countingBox();
    const store = keyStore(box);
    store.add('ES256');
    store.add('RS256');
    const sign = accessTokenSigner(store.db, box, -1);
    const verify = signedTokenVerifier(store.db, config);
    const before = await sign(claims);
    expect(await verify(before, { issuer, audience })).toMatchObject({ sub: 'person-1', grant_id: 'grant-1', cnf: { jkt: 'thumb' } });
    expect(await verify(await sign(claims), { issuer, audience })).not.toBeNull();
    expect(store.reads.published).toBe(1);

    // Another instance rotates: a token naming the new kid makes this verifier read the keys again
    // (at most once a second); the retired key still verifies the tokens it signed.
    store.rotate();
    const after = await sign(claims);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await verify(after, { issuer, audience })).not.toBeNull();
    expect(store.reads.published).toBe(2);
    expect(await verify(before, { issuer, audience })).not.toBeNull();

    // Past retention the retired key is no longer published: its tokens stop verifying at the next read.
    for (const key of store.keys) if (key.retired === 'published') key.retired = 'gone';
    const fresh = signedTokenVerifier(store.db, config);
    expect(await fresh(before, { issuer, audience })).toBeNull();
    expect(await fresh(after, { issuer, audience })).not.toBeNull();
  });

  it('refuses what is not an ES256 at+jwt of this issuer and audience, signed by a published key', async () => {
    const box = countingBox();
    const store = keyStore(box);
    const { kid, privateKey } = store.add('ES256');
    const verify = signedTokenVerifier(store.db, config);
    const now = Math.floor(Date.now() / 1000);
    const good = { iss: issuer, sub: 'person-1', aud: audience, iat: now, exp: now + 300, jti: 'j1', client_id: 'c', scope: 's', patient: 'p', grant_id: 'g' };
    const token = (payload: Record<string, unknown> = good, header: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', kid }, key = privateKey) =>
      signCompactJws(header as { alg: 'ES256' }, payload, key);
    expect(await verify(token(), { issuer, audience })).not.toBeNull();
    expect(await verify(token(good, { alg: 'ES256', typ: 'application/AT+JWT', kid }), { issuer, audience })).not.toBeNull();
    expect(await verify(token({ ...good, aud: ['other', audience] }), { issuer, audience })).not.toBeNull();

    const refused = async (value: string) => expect(await verify(value, { issuer, audience })).toBeNull();
    await refused(token(good, { alg: 'ES256', typ: 'JWT', kid }));
    await refused(token(good, { alg: 'ES256', kid }));
    await refused(token(good, { alg: 'ES256', typ: 'at+jwt', kid: 'unknown' }));
    await refused(token(good, { alg: 'ES256', typ: 'at+jwt', kid }, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    await refused(token({ ...good, iss: 'https://evil.example' }));
    await refused(token({ ...good, aud: `${issuer}/platform` }));
    await refused(token({ ...good, exp: now - 1 }));
    await refused(token({ ...good, exp: String(now + 300) }));
    await refused(token({ ...good, nbf: now + 60 }));
    await refused(token({ ...good, iat: 'yesterday' }));
    for (const claim of ['jti', 'exp', 'sub', 'iss', 'aud']) {
      const { [claim]: _, ...without } = good as Record<string, unknown>;
      await refused(token(without));
    }
    await refused(token({ ...good, jti: 7 }));
    await refused(token({ ...good, cnf: { jkt: 7 } }));
    await refused(token({ ...good, cnf: null }));
    // alg none, an RS256 token and a token with crit are refused before any key is looked at.
    const [header, payload] = token().split('.');
    await refused(`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.`);
    await refused(`${header}.${payload}.`);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await refused(signCompactJws({ alg: 'RS256', typ: 'at+jwt', kid }, good, rsa));
    await refused(token(good, { alg: 'ES256', typ: 'at+jwt', kid, crit: ['exp'] }));
    await refused('not a token');
  });
});
