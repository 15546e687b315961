import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  allowedAlgorithm,
  BoundedCache,
  JwsError,
  jwkThumbprint,
  parseCompactJws,
  payloadJson,
  publicKeyFromJwk,
  signCompactJws,
  unverifiedClaims,
  verifyCompactJws,
  verifySignature,
  type JwsAlgorithm,
  type JwsErrorCode,
} from '../src/modules/oauth/jws.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const pairs = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  Ed25519: generateKeyPairSync('ed25519'),
  shortRsa: generateKeyPairSync('rsa', { modulusLength: 1024 }),
  otherEs256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
const keyFor: Record<JwsAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: pairs.ES256,
  ES384: pairs.ES384,
  PS256: pairs.RSA,
  RS256: pairs.RSA,
  RS384: pairs.RSA,
  EdDSA: pairs.Ed25519,
  Ed25519: pairs.Ed25519,
};
const ALL: JwsAlgorithm[] = ['ES256', 'ES384', 'PS256', 'RS256', 'RS384', 'EdDSA', 'Ed25519'];

function refusedWith(code: JwsErrorCode, action: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(JwsError);
  expect((caught as JwsError).code).toBe(code);
  if (message) expect((caught as JwsError).message).toMatch(message);
}

/** A JWS over `header` and `payload` signed by hand (node:crypto), to build what the module would refuse to sign. */
function handSigned(header: Record<string, unknown>, payload: Record<string, unknown> = { sub: 'x' }, key = pairs.ES256.privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('signCompactJws and verifyCompactJws', () => {
  it.each(ALL)('sign and verify %s, and agree with jose both ways', async (alg) => {
    const { privateKey, publicKey } = keyFor[alg];
    const jws = signCompactJws({ alg, typ: 'JWT', kid: 'k1' }, { sub: 'patient-1', n: 1 }, privateKey);
    const verified = verifyCompactJws(jws, [alg], publicKey);
    expect(verified.alg).toBe(alg);
    expect(verified.header).toEqual({ alg, typ: 'JWT', kid: 'k1' });
    expect(payloadJson(verified)).toEqual({ sub: 'patient-1', n: 1 });
    // jose (WebCrypto) verifies what node:crypto signed, and the other way round.
    await expect(compactVerify(jws, publicKey, { algorithms: [alg] })).resolves.toBeDefined();
    const byJose = await new SignJWT({ sub: 'patient-2' }).setProtectedHeader({ alg }).sign(privateKey);
    expect(payloadJson(verifyCompactJws(byJose, [alg], publicKey))).toEqual({ sub: 'patient-2' });
  });
});

describe('verifyCompactJws refuses', () => {
  const good = () => signCompactJws({ alg: 'ES256' }, { sub: 'x' }, pairs.ES256.privateKey);

  it('a signature by another key, or over other content', () => {
    refusedWith('signature', () => verifyCompactJws(good(), ['ES256'], pairs.otherEs256.publicKey));
    const [header, , signature] = good().split('.');
    refusedWith('signature', () => verifyCompactJws(`${header}.${b64({ sub: 'y' })}.${signature}`, ['ES256'], pairs.ES256.publicKey));
    const bytes = Buffer.from(signature!, 'base64url');
    bytes[10]! ^= 1;
    refusedWith('signature', () => verifyCompactJws(`${header}.${b64({ sub: 'x' })}.${bytes.toString('base64url')}`, ['ES256'], pairs.ES256.publicKey));
  });

  it('an algorithm that does not fit the key: ES256 with an RSA key, another curve, RS256 with an EC key, EdDSA with P-256', () => {
    const jws = good();
    refusedWith('key', () => verifyCompactJws(jws, ['ES256'], pairs.RSA.publicKey), /ES256 needs an EC P-256 key/);
    refusedWith('key', () => verifyCompactJws(jws, ['ES256'], pairs.ES384.publicKey), /ES256 needs an EC P-256 key/);
    const rs = signCompactJws({ alg: 'RS256' }, {}, pairs.RSA.privateKey);
    refusedWith('key', () => verifyCompactJws(rs, ['RS256'], pairs.ES256.publicKey), /RS256 needs an RSA key/);
    const ed = signCompactJws({ alg: 'EdDSA' }, {}, pairs.Ed25519.privateKey);
    refusedWith('key', () => verifyCompactJws(ed, ['EdDSA'], pairs.ES256.publicKey), /EdDSA needs an Ed25519 key/);
    // A private key where a public one is expected, and the other way round.
    refusedWith('key', () => verifyCompactJws(jws, ['ES256'], pairs.ES256.privateKey), /public key/);
    refusedWith('key', () => signCompactJws({ alg: 'ES256' }, {}, pairs.ES256.publicKey), /private key/);
    refusedWith('key', () => signCompactJws({ alg: 'ES256' }, {}, pairs.RSA.privateKey), /ES256 needs an EC P-256 key/);
  });

  it('an RSA key under 2048 bits, to verify or to sign', () => {
    refusedWith('key', () => signCompactJws({ alg: 'RS256' }, {}, pairs.shortRsa.privateKey), /at least 2048 bits/);
    const input = `${b64({ alg: 'RS256' })}.${b64({})}`;
    const signature = sign('sha256', Buffer.from(input), pairs.shortRsa.privateKey).toString('base64url');
    refusedWith('key', () => verifyCompactJws(`${input}.${signature}`, ['RS256'], pairs.shortRsa.publicKey), /at least 2048 bits/);
  });

  it('an alg outside the allowed list, alg none, HS256, a missing alg', () => {
    refusedWith('algorithm', () => verifyCompactJws(good(), ['PS256'], pairs.ES256.publicKey), /ES256 is not accepted here; use one of PS256/);
    refusedWith('algorithm', () => verifyCompactJws(`${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`, ['ES256'], pairs.ES256.publicKey), /none/);
    const hs = handSigned({ alg: 'HS256' });
    refusedWith('algorithm', () => verifyCompactJws(hs, ['ES256'], pairs.ES256.publicKey), /HS256/);
    // Not even a caller that allows every algorithm this module knows lets HS256 or none through.
    refusedWith('algorithm', () => allowedAlgorithm({ alg: 'HS256' }, ALL));
    refusedWith('algorithm', () => allowedAlgorithm({ alg: 'none' }, ALL));
    refusedWith('algorithm', () => allowedAlgorithm({}, ALL), /missing/);
    refusedWith('algorithm', () => allowedAlgorithm({ alg: 'toString' }, ALL));
  });

  it('an empty signature (what alg none carries)', () => {
    const [header, payload] = good().split('.');
    refusedWith('signature', () => verifyCompactJws(`${header}.${payload}.`, ['ES256'], pairs.ES256.publicKey));
  });

  it('an ES256 signature that is not 64 bytes: DER-encoded, one byte short or long', () => {
    const input = `${b64({ alg: 'ES256' })}.${b64({ sub: 'x' })}`;
    const der = sign('sha256', Buffer.from(input), pairs.ES256.privateKey);
    const p1363 = sign('sha256', Buffer.from(input), { key: pairs.ES256.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(p1363).toHaveLength(64);
    expect(verifyCompactJws(`${input}.${p1363.toString('base64url')}`, ['ES256'], pairs.ES256.publicKey).alg).toBe('ES256');
    for (const signature of [der, p1363.subarray(0, 63), Buffer.concat([p1363, Buffer.from([0])])]) {
      refusedWith('signature', () => verifyCompactJws(`${input}.${signature.toString('base64url')}`, ['ES256'], pairs.ES256.publicKey));
    }
  });
});

describe('parseCompactJws refuses', () => {
  const [header, payload, signature] = handSigned({ alg: 'ES256' }).split('.') as [string, string, string];

  it('anything but three parts', () => {
    for (const jws of ['', 'abc', `${header}.${payload}`, `${header}.${payload}.${signature}.x`, `${header}.${payload}.${signature}.x.y`]) {
      refusedWith('malformed', () => parseCompactJws(jws), /three parts/);
    }
    refusedWith('malformed', () => parseCompactJws(`.${payload}.${signature}`), /header is empty/);
  });

  it('padding, characters outside base64url, non-canonical encodings', () => {
    const padded = Buffer.from('{"alg":"ES256" }').toString('base64'); // 16 bytes: ends with '=='
    expect(padded).toMatch(/=$/);
    refusedWith('malformed', () => parseCompactJws(`${padded}.${payload}.${signature}`), /header is not base64url without padding/);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload}=.${signature}`), /payload is not base64url/);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload}.${signature}==`), /signature is not base64url/);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload.replace(/^./, '+')}.${signature}`), /payload/);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload}.${signature.replace(/^./, '/')}`), /signature/);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload}.${signature}AAA`), /signature/); // 86 + 3: 4n+1 characters, not base64
    // 'eyJ9' and 'eyJ-' decode to the same bytes in a lenient decoder; only one is canonical.
    const last = signature.at(-1)!;
    const sibling = String.fromCharCode(last.charCodeAt(0) + 1);
    refusedWith('malformed', () => parseCompactJws(`${header}.${payload}.${signature.slice(0, -1)}${sibling}`), /canonical/);
  });

  it('a header that is not a JSON object, or not UTF-8', () => {
    for (const value of ['x', 42, null, ['alg']]) {
      const error = (() => {
        try {
          parseCompactJws(`${b64(value)}.${payload}.${signature}`);
        } catch (caught) {
          return caught as JwsError;
        }
      })();
      expect(error?.code).toBe('malformed');
      expect(error?.part).toBe('header');
    }
    refusedWith('malformed', () => parseCompactJws(`${Buffer.from('{"alg":"ES256"').toString('base64url')}.${payload}.${signature}`), /header is not UTF-8 JSON/);
    refusedWith('malformed', () => parseCompactJws(`${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${payload}.${signature}`), /not UTF-8 JSON/);
  });

  it('crit, known or not, and b64', () => {
    refusedWith('unsupported', () => parseCompactJws(handSigned({ alg: 'ES256', crit: ['exp'], exp: 1 })), /"crit"/);
    refusedWith('unsupported', () => parseCompactJws(handSigned({ alg: 'ES256', crit: ['b64'], b64: false })), /"crit"/);
    refusedWith('unsupported', () => parseCompactJws(handSigned({ alg: 'ES256', b64: true })), /"b64"/);
  });

  it('a payload that is not a JSON object, when asked for claims', () => {
    refusedWith('malformed', () => unverifiedClaims(`${header}.${b64([1])}.${signature}`), /payload is not a JSON object/);
    refusedWith('malformed', () => unverifiedClaims(`${header}.${Buffer.from('not json').toString('base64url')}.${signature}`), /payload is not UTF-8 JSON/);
    expect(unverifiedClaims(`${header}.${payload}.${signature}`)).toEqual({ sub: 'x' });
  });
});

describe('keys from JWKs', () => {
  it('computes RFC 7638 thumbprints as jose does, and the RFC example', async () => {
    for (const { publicKey } of [pairs.ES256, pairs.RSA, pairs.Ed25519]) {
      const jwk = publicKey.export({ format: 'jwk' });
      expect(jwkThumbprint({ ...jwk, kid: 'ignored', alg: 'ignored' })).toBe(await calculateJwkThumbprint(jwk as never));
    }
    const rfcExample = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(rfcExample)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    refusedWith('key', () => jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'abc' }), /lacks "y"/);
    refusedWith('key', () => jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' }), /kty oct/);
  });

  it('imports only the public members, and refuses what is not a public key', () => {
    const privateJwk = pairs.ES256.privateKey.export({ format: 'jwk' });
    const key = publicKeyFromJwk(privateJwk);
    expect(key.type).toBe('public');
    const jws = signCompactJws({ alg: 'ES256' }, {}, createPrivateKey({ key: privateJwk, format: 'jwk' }));
    expect(verifySignature(parseCompactJws(jws), 'ES256', key)).toBe(true);
    const jwk = pairs.ES256.publicKey.export({ format: 'jwk' });
    refusedWith('key', () => publicKeyFromJwk({ ...jwk, y: Buffer.alloc(32, 1).toString('base64url') }), /not a valid public key/); // off the curve
    refusedWith('key', () => publicKeyFromJwk({ kty: 'oct', k: 'c2VjcmV0' }));
  });
});

describe('BoundedCache', () => {
  it('keeps at most its capacity, forgetting the least recently used', () => {
    const cache = new BoundedCache<string, number>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i);
    expect(cache.get('a')).toBe(0); // 'a' is now the most recent: 'b' is the oldest
    cache.set('d', 3);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([0, 2, 3]);
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect([cache.get('k997'), cache.get('k998'), cache.get('k999')]).toEqual([997, 998, 999]);
  });

  it('creates a value once per key while it is kept', () => {
    const cache = new BoundedCache<string, object>(2);
    let created = 0;
    const make = () => ({ n: ++created });
    const first = cache.getOrCreate('x', make);
    expect(cache.getOrCreate('x', make)).toBe(first);
    expect(created).toBe(1);
    cache.getOrCreate('y', make);
    cache.getOrCreate('z', make); // 'x' goes
    expect(cache.getOrCreate('x', make)).not.toBe(first);
    expect(created).toBe(4);
    expect(cache.size).toBe(2);
  });

  it('has a positive integer capacity', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
    expect(() => new BoundedCache(1.5)).toThrow(RangeError);
  });
});
