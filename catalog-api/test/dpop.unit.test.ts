import { constants, createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  accessTokenHash,
  DPOP_MAX_AGE_SECONDS,
  DPOP_MAX_FUTURE_SECONDS,
  DPOP_NONCE_SLOT_SECONDS,
  DpopError,
  dpopNoncesFromSecret,
  htuOf,
  verifyDpopProof,
  type DpopNonces,
  type DpopProofInput,
} from '../src/modules/oauth/dpop.js';
import type { ReplayCache } from '../src/modules/oauth/replay-cache.js';

const TOKEN_URL = 'https://api.example.fr/oauth/token';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}
const keys = {} as Record<'ES256' | 'PS256' | 'EdDSA' | 'ES384' | 'other', KeyPair>;
async function keyPair(alg: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: await exportJWK(publicKey) };
}

beforeAll(async () => {
  keys.ES256 = await keyPair('ES256');
  keys.PS256 = await keyPair('PS256');
  keys.EdDSA = await keyPair('EdDSA');
  keys.ES384 = await keyPair('ES384');
  keys.other = await keyPair('ES256');
});

/** In-memory stand-in for the store's replay cache. */
function memoryReplayCache(clock: () => number): ReplayCache {
  const seen = new Map<string, number>();
  return {
    async firstUse(namespace, jti, expiresAt) {
      const key = `${namespace}\u0000${jti}`;
      const until = seen.get(key);
      if (until !== undefined && until > clock()) return false;
      seen.set(key, expiresAt.getTime());
      return true;
    },
  };
}

let clock: number;
let replay: ReplayCache;
let nonces: DpopNonces;
const nowSeconds = () => Math.floor(clock / 1000);
const deps = () => ({ replay, nonces, now: () => clock });

beforeEach(() => {
  clock = Date.UTC(2030, 0, 15, 9, 0, 0); // the start of a nonce slot
  replay = memoryReplayCache(() => clock);
  nonces = dpopNoncesFromSecret(randomBytes(32), { now: () => clock });
});

interface ProofOptions {
  alg?: string;
  /** The key pair whose private key signs (default: the one for `alg`). */
  signer?: KeyPair;
  /** Header overrides; `undefined` removes a member. */
  header?: Record<string, unknown>;
  /** Claim overrides; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
}

async function proof(options: ProofOptions = {}): Promise<string> {
  const alg = options.alg ?? 'ES256';
  const signer = options.signer ?? keys[alg as keyof typeof keys];
  const header = withOverrides({ typ: 'dpop+jwt', alg, jwk: signer.jwk }, options.header);
  const claims = withOverrides({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: nowSeconds() }, options.claims);
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(signer.privateKey);
}

function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete result[name];
  return result;
}

function request(headers: DpopProofInput['headers'], extra: Partial<DpopProofInput> = {}): DpopProofInput {
  return { headers, method: 'POST', url: TOKEN_URL, ...extra };
}

async function refusal(promise: Promise<unknown>): Promise<DpopError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DpopError);
  return error as DpopError;
}

async function expectInvalid(input: DpopProofInput, message: RegExp): Promise<void> {
  const error = await refusal(verifyDpopProof(input, deps()));
  expect(error.code).toBe('invalid_dpop_proof');
  expect(error.message).toMatch(message);
  expect(error.nonce).toBeUndefined();
}

describe('htuOf', () => {
  it('lower-cases scheme and host and drops the default port', () => {
    expect(htuOf('HTTPS://API.Example.FR:443/oauth/token')).toBe('https://api.example.fr/oauth/token');
    expect(htuOf('http://localhost:80/token')).toBe('http://localhost/token');
    expect(htuOf('http://localhost:3000/token')).toBe('http://localhost:3000/token');
    expect(htuOf('https://api.example.fr:8443/token')).toBe('https://api.example.fr:8443/token');
  });

  it('drops query and fragment, keeps the path case', () => {
    expect(htuOf('https://api.example.fr/fhir/Patient?_id=1#top')).toBe('https://api.example.fr/fhir/Patient');
    expect(htuOf('https://api.example.fr/token?')).toBe('https://api.example.fr/token');
    expect(htuOf('https://api.example.fr')).toBe('https://api.example.fr/');
  });

  it('normalizes percent-encodings and dot segments (RFC 3986 §6.2.2)', () => {
    expect(htuOf('https://api.example.fr/a%7eb/%2f/%c3%a9')).toBe('https://api.example.fr/a~b/%2F/%C3%A9');
    expect(htuOf('https://api.example.fr/fhir/../oauth/./token')).toBe('https://api.example.fr/oauth/token');
  });

  it('refuses what is not an absolute http(s) URL', () => {
    expect(() => htuOf('/oauth/token')).toThrow(TypeError);
    expect(() => htuOf('ftp://api.example.fr/token')).toThrow(/http\(s\)/);
  });
});

describe('verifyDpopProof accepts', () => {
  for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
    it(`a ${alg} proof, and returns the key thumbprint jose computes`, async () => {
      const dpop = await proof({ alg });
      const result = await verifyDpopProof(request(dpop), deps());
      expect(result.jkt).toBe(await calculateJwkThumbprint(keys[alg].jwk));
      expect(result.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(result.jwk).toEqual(keys[alg].jwk);
      expect(result.jti).toEqual(expect.any(String));
    });
  }

  it('EdDSA spelled Ed25519 (RFC 9864), as oauth4webapi 3.x writes it, even with a jwk that says EdDSA', async () => {
    const result = await verifyDpopProof(request(await proof({ alg: 'Ed25519', signer: keys.EdDSA })), deps());
    expect(result.jkt).toBe(await calculateJwkThumbprint(keys.EdDSA.jwk));
    await verifyDpopProof(request(await proof({ alg: 'Ed25519', signer: keys.EdDSA, header: { jwk: { ...keys.EdDSA.jwk, alg: 'EdDSA' } } })), deps());
  });

  it('returns the public members of the key only', async () => {
    const dpop = await proof({ header: { jwk: { ...keys.ES256.jwk, alg: 'ES256', use: 'sig', kid: 'k1', ext: true } } });
    const { jwk } = await verifyDpopProof(request(dpop), deps());
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  });

  it('a proof for the request URL with its query string, and an htu in another syntax of the same URL', async () => {
    await verifyDpopProof(request(await proof(), { url: `${TOKEN_URL}?x=1#y` }), deps());
    await verifyDpopProof(request(await proof({ claims: { htu: 'HTTPS://API.EXAMPLE.FR:443/oauth/token?a=b' } })), deps());
  });

  it('a single header given as a one-element array, and the iat window edges', async () => {
    await verifyDpopProof(request([await proof()]), deps());
    await verifyDpopProof(request(await proof({ claims: { iat: nowSeconds() - DPOP_MAX_AGE_SECONDS } })), deps());
    await verifyDpopProof(request(await proof({ claims: { iat: nowSeconds() + DPOP_MAX_FUTURE_SECONDS - 1 } })), deps());
  });

  it('a proof with the right ath for the access token it comes with', async () => {
    const accessToken = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
    const ath = createHash('sha256').update(accessToken).digest('base64url');
    expect(accessTokenHash(accessToken)).toBe(ath);
    const dpop = await proof({ claims: { htm: 'GET', htu: 'https://api.example.fr/fhir/Patient', ath } });
    await verifyDpopProof({ headers: dpop, method: 'GET', url: 'https://api.example.fr/fhir/Patient?_id=1', accessToken }, deps());
  });

  it('a typ written as the full media type, case-insensitively (RFC 7515 §4.1.9)', async () => {
    await verifyDpopProof(request(await proof({ header: { typ: 'application/DPoP+JWT' } })), deps());
  });
});

describe('verifyDpopProof refuses', () => {
  it('a request without a DPoP header', async () => {
    await expectInvalid(request(undefined), /^missing DPoP header$/);
    await expectInvalid(request(''), /^missing DPoP header$/);
    await expectInvalid(request([]), /^missing DPoP header$/);
  });

  it('two DPoP headers, as an array or joined by Node.js', async () => {
    const [a, b] = [await proof(), await proof()];
    await expectInvalid(request([a, b]), /^more than one DPoP header$/);
    await expectInvalid(request(`${a}, ${b}`), /^more than one DPoP header$/);
  });

  it('a header that is not a compact JWS', async () => {
    await expectInvalid(request('not-a-jws'), /not a compact JWS/);
    await expectInvalid(request('a.b.c.d'), /not a compact JWS/);
    await expectInvalid(request('a+b.c/d.e'), /not a compact JWS/);
    await expectInvalid(request(`${b64('x')}.${b64({})}.sig`), /header is not base64url-encoded JSON/);
  });

  it('a wrong or missing typ', async () => {
    await expectInvalid(request(await proof({ header: { typ: 'JWT' } })), /"typ" must be "dpop\+jwt"/);
    await expectInvalid(request(await proof({ header: { typ: undefined } })), /"typ" must be "dpop\+jwt"/);
  });

  it('alg none', async () => {
    const unsigned = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: keys.ES256.jwk })}.${b64({ jti: 'j', htm: 'POST', htu: TOKEN_URL, iat: nowSeconds() })}.`;
    await expectInvalid(request(unsigned), /alg "none" is refused/);
  });

  it('HS256 with a symmetric key in jwk', async () => {
    const secret = randomBytes(32);
    const jwk = { kty: 'oct', k: secret.toString('base64url') };
    const dpop = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: nowSeconds() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk } as never)
      .sign(secret);
    await expectInvalid(request(dpop), /alg HS256 is symmetric and refused/);
  });

  it('an asymmetric alg outside the list (ES384)', async () => {
    await expectInvalid(request(await proof({ alg: 'ES384' })), /alg ES384 is not allowed; use one of ES256, PS256, EdDSA, Ed25519/);
  });

  it('a proof without jwk', async () => {
    await expectInvalid(request(await proof({ header: { jwk: undefined } })), /header has no "jwk"/);
    await expectInvalid(request(await proof({ header: { jwk: 'key' } })), /"jwk" must be a JSON object/);
  });

  it('a private key in jwk', async () => {
    const privateJwk = await exportJWK(keys.ES256.privateKey);
    await expectInvalid(request(await proof({ header: { jwk: privateJwk } })), /must be a public key, it holds the private member "d"/);
    await expectInvalid(request(await proof({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } })), /private member "k"/);
  });

  it('a key that does not fit the alg', async () => {
    await expectInvalid(request(await proof({ header: { jwk: keys.PS256.jwk } })), /alg ES256 needs an EC P-256 key/);
    await expectInvalid(request(await proof({ header: { jwk: keys.ES384.jwk } })), /alg ES256 needs an EC P-256 key/);
    await expectInvalid(request(await proof({ header: { jwk: { ...keys.ES256.jwk, alg: 'ES384' } } })), /jwk is for alg ES384/);
  });

  it('an RSA key under 2048 bits', async () => {
    // jose will not sign with such a key, so the proof is signed by hand.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const input = `${b64({ typ: 'dpop+jwt', alg: 'PS256', jwk: publicKey.export({ format: 'jwk' }) })}.${b64({ jti: 'j', htm: 'POST', htu: TOKEN_URL, iat: nowSeconds() })}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    await expectInvalid(request(`${input}.${signature.toString('base64url')}`), /RSA key must have at least 2048 bits/);
  });

  it('a signature made by another key than the one in jwk', async () => {
    await expectInvalid(request(await proof({ signer: keys.other, header: { jwk: keys.ES256.jwk } })), /signature does not verify with the key in its jwk header/);
    const [head, body] = (await proof()).split('.');
    const [, , foreignSignature] = (await proof()).split('.');
    await expectInvalid(request(`${head}.${body}.${foreignSignature}`), /signature does not verify/);
  });

  it('a missing or oversized jti', async () => {
    await expectInvalid(request(await proof({ claims: { jti: undefined } })), /"jti" must be a string of 1 to 256 characters/);
    await expectInvalid(request(await proof({ claims: { jti: 'x'.repeat(257) } })), /"jti" must be a string/);
    await expectInvalid(request(await proof({ claims: { jti: 42 } })), /"jti" must be a string/);
  });

  it('a wrong htm', async () => {
    await expectInvalid(request(await proof({ claims: { htm: 'GET' } })), /"htm" "GET" does not match the request method POST/);
    await expectInvalid(request(await proof({ claims: { htm: 'post' } })), /"htm" "post" does not match/);
    await expectInvalid(request(await proof({ claims: { htm: undefined } })), /has no "htm"/);
  });

  it('a wrong htu: other path, other host, other scheme or port, userinfo, no URL', async () => {
    const mismatch = /"htu" .* does not match the request URL https:\/\/api\.example\.fr\/oauth\/token$/;
    await expectInvalid(request(await proof({ claims: { htu: 'https://api.example.fr/oauth/par' } })), mismatch);
    await expectInvalid(request(await proof({ claims: { htu: 'https://evil.example/oauth/token' } })), mismatch);
    await expectInvalid(request(await proof({ claims: { htu: 'http://api.example.fr/oauth/token' } })), mismatch);
    await expectInvalid(request(await proof({ claims: { htu: 'https://api.example.fr:8443/oauth/token' } })), mismatch);
    await expectInvalid(request(await proof({ claims: { htu: 'https://user@api.example.fr/oauth/token' } })), mismatch);
    await expectInvalid(request(await proof({ claims: { htu: '/oauth/token' } })), /"htu" is not an absolute http\(s\) URL/);
    await expectInvalid(request(await proof({ claims: { htu: undefined } })), /has no "htu"/);
  });

  it('an iat an hour in the past or in the future, or none', async () => {
    await expectInvalid(request(await proof({ claims: { iat: nowSeconds() - 3600 } })), /"iat" is more than 300 seconds in the past/);
    await expectInvalid(request(await proof({ claims: { iat: nowSeconds() + 3600 } })), /"iat" is 60 seconds or more in the future/);
    await expectInvalid(request(await proof({ claims: { iat: nowSeconds() - DPOP_MAX_AGE_SECONDS - 1 } })), /in the past/);
    await expectInvalid(request(await proof({ claims: { iat: nowSeconds() + DPOP_MAX_FUTURE_SECONDS } })), /in the future/);
    await expectInvalid(request(await proof({ claims: { iat: undefined } })), /"iat" must be a number/);
    await expectInvalid(request(await proof({ claims: { iat: '1700000000' } })), /"iat" must be a number/);
  });

  it('a replayed proof', async () => {
    const dpop = await proof();
    await verifyDpopProof(request(dpop), deps());
    await expectInvalid(request(dpop), /"jti" was already used/);
    // A new proof that reuses the identifier is refused too.
    const { jti } = await verifyDpopProof(request(await proof()), deps());
    await expectInvalid(request(await proof({ claims: { jti } })), /"jti" was already used/);
  });

  it('does not record the jti of a refused proof', async () => {
    const jti = randomUUID();
    await expectInvalid(request(await proof({ claims: { jti, htm: 'GET' } })), /"htm"/);
    await verifyDpopProof(request(await proof({ claims: { jti } })), deps());
  });

  it('a missing or wrong ath when an access token comes with the proof', async () => {
    const accessToken = 'access-token-value';
    const resource = { method: 'GET', url: 'https://api.example.fr/fhir/Patient', accessToken };
    const claims = { htm: 'GET', htu: resource.url };
    await expectInvalid({ headers: await proof({ claims }), ...resource }, /has no "ath" though it comes with an access token/);
    await expectInvalid(
      { headers: await proof({ claims: { ...claims, ath: accessTokenHash('another-token') } }), ...resource },
      /"ath" does not match the access token/,
    );
    await expectInvalid({ headers: await proof({ claims: { ...claims, ath: 42 } }), ...resource }, /"ath" does not match/);
  });
});

describe('verifyDpopProof with nonces', () => {
  it('asks for a nonce when one is required and missing, with a fresh one to retry with', async () => {
    const error = await refusal(verifyDpopProof(request(await proof(), { requireNonce: true }), deps()));
    expect(error.code).toBe('use_dpop_nonce');
    expect(error.message).toMatch(/must carry a nonce/);
    expect(error.nonce).toBe(await nonces.current());
    // The retry with that nonce passes.
    await verifyDpopProof(request(await proof({ claims: { nonce: error.nonce } }), { requireNonce: true }), deps());
  });

  it('asks again for a wrong nonce, even when none is required', async () => {
    for (const requireNonce of [true, false]) {
      const wrong = randomBytes(32).toString('base64url');
      const error = await refusal(verifyDpopProof(request(await proof({ claims: { nonce: wrong } }), { requireNonce }), deps()));
      expect(error.code).toBe('use_dpop_nonce');
      expect(error.message).toMatch(/nonce is not valid or has expired/);
      expect(error.nonce).toBe(await nonces.current());
    }
    await expectInvalid(request(await proof({ claims: { nonce: 7 } })), /"nonce" must be a string/);
  });

  it('checks the rest of the proof before the nonce, so the retry can succeed', async () => {
    await expectInvalid(request(await proof({ claims: { htm: 'GET' } }), { requireNonce: true }), /"htm"/);
  });

  it('accepts a nonce of the previous slot and refuses an older one', async () => {
    const issued = await nonces.current();
    clock += DPOP_NONCE_SLOT_SECONDS * 1000; // next slot: the nonce is from the previous one
    expect(await nonces.current()).not.toBe(issued);
    await verifyDpopProof(request(await proof({ claims: { nonce: issued } }), { requireNonce: true }), deps());

    clock += DPOP_NONCE_SLOT_SECONDS * 1000; // two slots later: expired
    const error = await refusal(verifyDpopProof(request(await proof({ claims: { nonce: issued } }), { requireNonce: true }), deps()));
    expect(error.code).toBe('use_dpop_nonce');
    expect(error.nonce).toBe(await nonces.current());
    expect(error.nonce).not.toBe(issued);
  });

  it('accepts a nonce of the next slot (an instance whose clock is a little ahead)', async () => {
    const ahead = dpopNoncesFromSecret(Buffer.alloc(32, 1), { now: () => clock + DPOP_NONCE_SLOT_SECONDS * 1000 });
    const behind = dpopNoncesFromSecret(Buffer.alloc(32, 1), { now: () => clock });
    expect(await behind.isValid(await ahead.current())).toBe(true);
    const farAhead = dpopNoncesFromSecret(Buffer.alloc(32, 1), { now: () => clock + 2 * DPOP_NONCE_SLOT_SECONDS * 1000 });
    expect(await behind.isValid(await farAhead.current())).toBe(false);
  });

  it('never takes a nonce made with another secret, or something that is not a nonce', async () => {
    const other = dpopNoncesFromSecret(randomBytes(32), { now: () => clock });
    expect(await nonces.isValid(await other.current())).toBe(false);
    expect(await nonces.isValid('')).toBe(false);
    expect(await nonces.isValid(`${await nonces.current()}x`)).toBe(false);
    expect(await nonces.isValid(await nonces.current())).toBe(true);
  });
});
