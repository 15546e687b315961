// Client authentication (private_key_jwt and none) against a real store with clients registered
// through the API. Assertions are shaped as oauth4webapi's PrivateKeyJwt sends them: header
// { alg, kid }, claims { jti, aud: issuer, exp: now + 60, iat: now, nbf: now, iss, sub }, and
// client_id and client_assertion_type in the form.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateClient,
  CLIENT_ASSERTION_TYPE,
  ClientAuthError,
  type ClientAuthContext,
} from '../src/modules/oauth/client-auth.js';
import { storeReplayCache, type ReplayCache } from '../src/modules/oauth/replay-cache.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';

const server = useServer();

const issuer = 'https://api.mes.example.fr';
const tokenEndpoint = `${issuer}/oauth/token`;
const context: ClientAuthContext = { issuer, endpointUrl: tokenEndpoint };

interface Signer {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  /** The same private key as a JWK, to sign with another algorithm of its type (an RSA key: PS256 and RS384). */
  privateJwk: JWK;
  publicJwk: JWK;
}

async function signer(alg: 'ES256' | 'ES384' | 'PS256' | 'RS384' | 'EdDSA', kid: string): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const { kty, crv, x, y, n, e } = await exportJWK(publicKey);
  return { alg, kid, privateKey, privateJwk: await exportJWK(privateKey), publicJwk: JSON.parse(JSON.stringify({ kty, crv, x, y, n, e, kid })) };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims as oauth4webapi sends them, with `overrides` applied (`undefined` removes a claim). */
function claimsFor(clientId: string, overrides: Record<string, unknown> = {}, now = nowSeconds()): Record<string, unknown> {
  const claims: Record<string, unknown> = { jti: randomUUID(), aud: issuer, exp: now + 60, iat: now, nbf: now, iss: clientId, sub: clientId, ...overrides };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

async function sign(by: Signer, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: by.alg, kid: by.kid, ...header }).sign(await importJWK(by.privateJwk, by.alg));
}

const form = (clientId: string | undefined, assertion: string): Record<string, string | undefined> => ({
  grant_type: 'authorization_code',
  client_id: clientId,
  client_assertion_type: CLIENT_ASSERTION_TYPE,
  client_assertion: assertion,
});

let replay: ReplayCache;
const deps = () => ({ db: server().app.db, replay });

/** Asserts a refusal: its error code, status and a description that says why (and only RFC 6749 characters). */
async function expectRefused(attempt: Promise<unknown>, error: 'invalid_client' | 'invalid_request', description: RegExp): Promise<ClientAuthError> {
  const refused = await attempt.then(
    () => {
      throw new Error('authentication succeeded; it should have been refused');
    },
    (reason: unknown) => reason,
  );
  expect(refused).toBeInstanceOf(ClientAuthError);
  const clientAuthError = refused as ClientAuthError;
  expect({ error: clientAuthError.error, status: clientAuthError.status }).toEqual({ error, status: error === 'invalid_client' ? 401 : 400 });
  expect(clientAuthError.error_description).toMatch(description);
  expect(clientAuthError.error_description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  expect(clientAuthError.toJSON()).toEqual({ error, error_description: clientAuthError.error_description });
  return clientAuthError;
}

let ec: Signer;
let rsa: Signer;
let ed: Signer;
let ec384: Signer;
/** An RSA key registered for PS256 only. */
let rsaPs256Only: Signer;
let appId: string;
let confidentialId: string;
let publicId: string;

beforeAll(async () => {
  replay = storeReplayCache(server().app.db);
  [ec, rsa, ed, ec384, rsaPs256Only] = await Promise.all([
    signer('ES256', 'ec-1'),
    signer('PS256', 'rsa-1'),
    signer('EdDSA', 'ed-1'),
    signer('ES384', 'ec384-1'),
    signer('PS256', 'rsa-ps'),
  ]);
  const publisher = await registerPublisher(server());
  const app = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput() });
  appId = app.body.id;
  const clients = `/apps/${appId}/clients`;
  const confidential = await call(server(), 'POST', clients, {
    key: publisher.key,
    body: {
      type: 'confidential',
      jwks: { keys: [ec.publicJwk, rsa.publicJwk, { ...ed.publicJwk, alg: 'EdDSA', use: 'sig' }, ec384.publicJwk, { ...rsaPs256Only.publicJwk, alg: 'PS256' }] },
    },
  });
  expect(confidential.status).toBe(201);
  confidentialId = confidential.body.clientId;
  const listed = await call(server(), 'GET', clients, { key: publisher.key });
  publicId = listed.body.items.find((client: { type: string }) => client.type === 'public').clientId;
});

describe('private_key_jwt', () => {
  it.each([
    ['ES256', () => ec],
    ['ES384', () => ec384],
    ['PS256', () => rsa],
    // SMART App Launch's baseline: the same RSA key, registered without alg, signs RS384 too.
    ['RS384', () => ({ ...rsa, alg: 'RS384' })],
    ['EdDSA', () => ed],
  ])('authenticates a confidential client with its registered %s key', async (_alg, by) => {
    const result = await authenticateClient(form(confidentialId, await sign(by(), claimsFor(confidentialId))), context, deps());
    expect(result).toMatchObject({ method: 'private_key_jwt', keyId: by().kid });
    expect(result.client).toMatchObject({ clientId: confidentialId, appId, type: 'confidential', appCertificationStatus: 'draft' });
  });

  it.each([
    ['ES256', () => ec],
    ['ES384', () => ec384],
    ['PS256', () => rsa],
    ['Ed25519', () => ed],
  ])('accepts what oauth4webapi PrivateKeyJwt sends with a %s key', async (alg, by) => {
    const body = new URLSearchParams({ grant_type: 'authorization_code' });
    const clientAuth = oauth.PrivateKeyJwt({ key: by().privateKey, kid: by().kid });
    await clientAuth({ issuer, token_endpoint: tokenEndpoint }, { client_id: confidentialId }, body, new Headers());
    expect(JSON.parse(Buffer.from(body.get('client_assertion')!.split('.')[0]!, 'base64url').toString())).toEqual({ alg, kid: by().kid });
    const result = await authenticateClient(Object.fromEntries(body), context, deps());
    expect(result).toMatchObject({ method: 'private_key_jwt', keyId: by().kid, client: { clientId: confidentialId } });
  });

  it('accepts the fully-specified Ed25519 alg that oauth4webapi 3.x sends for Ed25519 keys', async () => {
    const assertion = await sign(ed, claimsFor(confidentialId), { alg: 'Ed25519' });
    expect((await authenticateClient(form(confidentialId, assertion), context, deps())).keyId).toBe('ed-1');
  });

  it('accepts the issuer or the endpoint URL as aud, as a string or in an array', async () => {
    for (const aud of [issuer, tokenEndpoint, [issuer], ['https://elsewhere.example.fr', tokenEndpoint]]) {
      const assertion = await sign(ec, claimsFor(confidentialId, { aud }));
      expect((await authenticateClient(form(confidentialId, assertion), context, deps())).method).toBe('private_key_jwt');
    }
    const parEndpoint = `${issuer}/oauth/par`;
    const assertion = await sign(ec, claimsFor(confidentialId, { aud: parEndpoint }));
    expect((await authenticateClient(form(confidentialId, assertion), { issuer, endpointUrl: parEndpoint }, deps())).method).toBe('private_key_jwt');
  });

  it('finds the key without a kid by trying each registered key that fits the alg', async () => {
    const assertion = await sign(rsa, claimsFor(confidentialId), { kid: undefined });
    expect((await authenticateClient(form(confidentialId, assertion), context, deps())).keyId).toBe('rsa-1');
  });

  it('accepts an assertion without client_id in the form (RFC 7521 makes it optional)', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId));
    expect((await authenticateClient(form(undefined, assertion), context, deps())).client.clientId).toBe(confidentialId);
  });

  it('accepts iat and nbf up to 10 s in the future (clock skew)', async () => {
    const now = nowSeconds();
    const at = { now: () => now * 1000 };
    const iat9 = await sign(ec, claimsFor(confidentialId, { iat: now + 9, nbf: now + 9, exp: now + 69 }, now));
    expect((await authenticateClient(form(confidentialId, iat9), context, { ...deps(), ...at })).method).toBe('private_key_jwt');
    const iat10 = await sign(ec, claimsFor(confidentialId, { iat: now + 10, nbf: now + 10, exp: now + 70 }, now));
    expect((await authenticateClient(form(confidentialId, iat10), context, { ...deps(), ...at })).method).toBe('private_key_jwt');
  });

  it('accepts an assertion living exactly 5 minutes', async () => {
    const now = nowSeconds();
    const assertion = await sign(ec, claimsFor(confidentialId, { exp: now + 300 }, now));
    expect((await authenticateClient(form(confidentialId, assertion), context, { ...deps(), now: () => now * 1000 })).method).toBe('private_key_jwt');
  });
});

describe('private_key_jwt refusals', () => {
  it('refuses an unsigned assertion (alg none)', async () => {
    const unsigned = `${b64({ alg: 'none' })}.${b64(claimsFor(confidentialId))}.`;
    await expectRefused(authenticateClient(form(confidentialId, unsigned), context, deps()), 'invalid_client', /alg none is refused/);
  });

  it('refuses an HMAC assertion (HS256 signed with some secret)', async () => {
    const hs256 = await new SignJWT(claimsFor(confidentialId)).setProtectedHeader({ alg: 'HS256', kid: 'ec-1' }).sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    await expectRefused(authenticateClient(form(confidentialId, hs256), context, deps()), 'invalid_client', /alg HS256 is refused: secret-based assertions/);
  });

  it('refuses algorithms outside ES256, ES384, RS384, PS256 and EdDSA (RS256)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs256 = await new SignJWT(claimsFor(confidentialId)).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(privateKey);
    await expectRefused(authenticateClient(form(confidentialId, rs256), context, deps()), 'invalid_client', /alg RS256 is not accepted/);
  });

  it('refuses something that is not a JWT', async () => {
    await expectRefused(authenticateClient(form(confidentialId, 'not-a-jwt'), context, deps()), 'invalid_client', /is not a signed JWT/);
  });

  it('refuses a wrong aud', async () => {
    for (const aud of ['https://other-as.example.fr', `${issuer}/oauth/authorize`, [`${issuer}/`], []]) {
      const assertion = await sign(ec, claimsFor(confidentialId, { aud }));
      await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /aud must be the issuer identifier https:\/\/api\.mes\.example\.fr/);
    }
    const missing = await sign(ec, claimsFor(confidentialId, { aud: undefined }));
    await expectRefused(authenticateClient(form(confidentialId, missing), context, deps()), 'invalid_client', /must have an aud claim/);
  });

  it('refuses an assertion without sub', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId, { sub: undefined }));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /must have a sub claim/);
  });

  it('refuses an assertion whose sub is not its iss', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId, { sub: publicId }));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /iss and sub must both be the client_id/);
    const noIss = await sign(ec, claimsFor(confidentialId, { iss: undefined }));
    await expectRefused(authenticateClient(form(confidentialId, noIss), context, deps()), 'invalid_client', /must have an iss claim/);
  });

  it('refuses an expired assertion', async () => {
    const now = nowSeconds();
    const assertion = await sign(ec, claimsFor(confidentialId, { iat: now - 61, nbf: now - 61, exp: now - 1 }, now));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, { ...deps(), now: () => now * 1000 }), 'invalid_client', /has expired/);
    const noExp = await sign(ec, claimsFor(confidentialId, { exp: undefined }));
    await expectRefused(authenticateClient(form(confidentialId, noExp), context, deps()), 'invalid_client', /must have an exp claim/);
  });

  it('refuses an exp more than 5 minutes after iat, or after now without iat', async () => {
    const now = nowSeconds();
    const at = { ...deps(), now: () => now * 1000 };
    const long = await sign(ec, claimsFor(confidentialId, { exp: now + 301 }, now));
    await expectRefused(authenticateClient(form(confidentialId, long), context, at), 'invalid_client', /lives too long: exp must be at most 300 s after iat/);
    const oldIat = await sign(ec, claimsFor(confidentialId, { iat: now - 250, exp: now + 60 }, now));
    await expectRefused(authenticateClient(form(confidentialId, oldIat), context, at), 'invalid_client', /lives too long: exp must be at most 300 s after iat/);
    const noIat = await sign(ec, claimsFor(confidentialId, { iat: undefined, exp: now + 301 }, now));
    await expectRefused(authenticateClient(form(confidentialId, noIat), context, at), 'invalid_client', /lives too long: exp must be at most 300 s after now/);
  });

  it('refuses iat more than 60 s in the future', async () => {
    const now = nowSeconds();
    const assertion = await sign(ec, claimsFor(confidentialId, { iat: now + 61, nbf: undefined, exp: now + 121 }, now));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, { ...deps(), now: () => now * 1000 }), 'invalid_client', /iat is 61 s in the future/);
  });

  it('refuses iat or nbf between 10 and 60 s in the future too (a single 10 s tolerance)', async () => {
    const now = nowSeconds();
    const at = { ...deps(), now: () => now * 1000 };
    const iat11 = await sign(ec, claimsFor(confidentialId, { iat: now + 11, nbf: undefined, exp: now + 71 }, now));
    await expectRefused(authenticateClient(form(confidentialId, iat11), context, at), 'invalid_client', /iat is 11 s in the future; clocks may differ by 10 s at most/);
    const nbf30 = await sign(ec, claimsFor(confidentialId, { nbf: now + 30 }, now));
    await expectRefused(authenticateClient(form(confidentialId, nbf30), context, at), 'invalid_client', /nbf is 30 s in the future/);
  });

  it('refuses a replayed jti, also through another replay cache on the same store', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId));
    expect((await authenticateClient(form(confidentialId, assertion), context, deps())).method).toBe('private_key_jwt');
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /already used \(same jti\)/);
    const otherInstance = { db: server().app.db, replay: storeReplayCache(server().app.db) };
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, otherInstance), 'invalid_client', /already used \(same jti\)/);
    // A new assertion re-using the jti is refused as well.
    const { jti } = JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()) as { jti: string };
    const sameJti = await sign(rsa, claimsFor(confidentialId, { jti }));
    await expectRefused(authenticateClient(form(confidentialId, sameJti), context, otherInstance), 'invalid_client', /already used \(same jti\)/);
  });

  it('refuses an assertion without jti', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId, { jti: undefined }));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /must have a jti claim/);
  });

  it('refuses an assertion signed by a key that is not registered, even with a registered kid', async () => {
    const impostor = { ...(await signer('ES256', 'ec-1')) };
    const assertion = await sign(impostor, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /signature does not verify with the registered key ec-1/);
    const withoutKid = await sign(impostor, claimsFor(confidentialId), { kid: undefined });
    await expectRefused(authenticateClient(form(confidentialId, withoutKid), context, deps()), 'invalid_client', /signature does not verify with any registered key/);
    const unknownKid = await sign({ ...impostor, kid: 'ec-2' }, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(confidentialId, unknownKid), context, deps()), 'invalid_client', /no key of this client has kid ec-2/);
  });

  it('refuses a kid whose key does not fit the alg', async () => {
    const assertion = await sign({ ...ec, kid: 'rsa-1' }, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(confidentialId, assertion), context, deps()), 'invalid_client', /key rsa-1 \(RSA\) cannot verify alg ES256/);
    // A P-384 key is not a P-256 one, whatever the header says.
    const wrongCurve = await sign({ ...ec, kid: 'ec384-1' }, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(confidentialId, wrongCurve), context, deps()), 'invalid_client', /key ec384-1 \(EC P-384\) cannot verify alg ES256/);
    // A key registered for PS256 verifies nothing else, even RS384 with the same RSA key.
    const otherAlg = await sign({ ...rsaPs256Only, alg: 'RS384' }, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(confidentialId, otherAlg), context, deps()), 'invalid_client', /key rsa-ps \(RSA, registered for PS256\) cannot verify alg RS384/);
    // Without a kid, only the keys that fit are tried: the PS256-only key is not among them for RS384.
    const noKid = await sign({ ...rsaPs256Only, alg: 'RS384' }, claimsFor(confidentialId), { kid: undefined });
    await expectRefused(authenticateClient(form(confidentialId, noKid), context, deps()), 'invalid_client', /signature does not verify with any registered key/);
  });

  it('refuses an unknown client', async () => {
    const unknown = 'mes_AAAAAAAAAAAAAAAAAAAAAA';
    const assertion = await sign(ec, claimsFor(unknown));
    await expectRefused(authenticateClient(form(unknown, assertion), context, deps()), 'invalid_client', /unknown client/);
  });

  it('refuses an assertion from a public client', async () => {
    const assertion = await sign(ec, claimsFor(publicId));
    await expectRefused(authenticateClient(form(publicId, assertion), context, deps()), 'invalid_client', /this client is public/);
  });

  it('refuses a wrong or missing client_assertion_type, and a type without assertion', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId));
    const wrong = { ...form(confidentialId, assertion), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' };
    await expectRefused(authenticateClient(wrong, context, deps()), 'invalid_request', /client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer/);
    const missing = { ...form(confidentialId, assertion), client_assertion_type: undefined };
    await expectRefused(authenticateClient(missing, context, deps()), 'invalid_request', /client_assertion_type is required with client_assertion/);
    const typeOnly = { ...form(confidentialId, assertion), client_assertion: undefined };
    await expectRefused(authenticateClient(typeOnly, context, deps()), 'invalid_request', /client_assertion_type was sent without client_assertion/);
    // None of these used up the assertion.
    expect((await authenticateClient(form(confidentialId, assertion), context, deps())).method).toBe('private_key_jwt');
  });

  it('refuses a client_id parameter that is not the assertion’s client', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId));
    await expectRefused(authenticateClient(form(publicId, assertion), context, deps()), 'invalid_request', /client_id does not match the client_assertion/);
  });
});

describe('none, and the methods this profile does not have', () => {
  it('authenticates a public client by its client_id', async () => {
    const result = await authenticateClient({ grant_type: 'authorization_code', client_id: publicId }, context, deps());
    expect(result).toMatchObject({ method: 'none', client: { clientId: publicId, appId, type: 'public', appCertificationStatus: 'draft' } });
  });

  it('refuses none for a confidential client', async () => {
    await expectRefused(authenticateClient({ client_id: confidentialId }, context, deps()), 'invalid_client', /this client is confidential: it must authenticate with private_key_jwt/);
  });

  it('refuses an unknown client_id and a request without any client authentication', async () => {
    await expectRefused(authenticateClient({ client_id: 'mes_unknown' }, context, deps()), 'invalid_client', /unknown client/);
    await expectRefused(authenticateClient({ grant_type: 'authorization_code' }, context, deps()), 'invalid_client', /no client authentication/);
  });

  it('refuses client secrets, in the body or through HTTP Basic', async () => {
    await expectRefused(authenticateClient({ client_id: confidentialId, client_secret: 's3cret' }, context, deps()), 'invalid_client', /client secrets \(client_secret_post\) are not supported/);
    const basic = `Basic ${Buffer.from(`${confidentialId}:s3cret`).toString('base64')}`;
    const refused = await expectRefused(authenticateClient({}, { ...context, authorization: basic }, deps()), 'invalid_client', /HTTP Basic client authentication \(client_secret_basic\) is not supported/);
    expect(refused.wwwAuthenticate).toBe(`Basic realm="${issuer}"`);
    await expectRefused(authenticateClient({ client_id: publicId }, { ...context, authorization: 'Bearer abc' }, deps()), 'invalid_request', /Authorization header is not a client authentication method/);
  });

  it('refuses more than one mechanism at once', async () => {
    const assertion = await sign(ec, claimsFor(confidentialId));
    await expectRefused(authenticateClient({ ...form(confidentialId, assertion), client_secret: 's3cret' }, context, deps()), 'invalid_request', /one mechanism only/);
  });
});
