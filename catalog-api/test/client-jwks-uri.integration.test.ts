// Confidential clients that publish their keys at a jwks_uri: the set is fetched (safely) at
// registration and refused when unusable, then used to verify client assertions, cached as its
// Cache-Control says, fetched again once when the client rotates, and never fetched from a
// private address outside a sandbox on a developer's machine. The publisher's host is a real
// HTTPS server on loopback (see https-server.ts).
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateClient, CLIENT_ASSERTION_TYPE, ClientAuthError } from '../src/modules/oauth/client-auth.js';
import { remoteKeySets } from '../src/modules/oauth/client-remote-keys.js';
import { storeReplayCache } from '../src/modules/oauth/replay-cache.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

const HOST = 'keys.editeur.test';
let publisher: TestHttpsServer;
/** What the publisher's host answers at /jwks.json, changed by the tests. */
let answer: { status: number; body: string; cacheControl?: string };

beforeAll(async () => {
  publisher = await startHttpsServer([HOST], (request, response) => {
    if (request.url === '/jwks.json') {
      response.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.cacheControl ? { 'cache-control': answer.cacheControl } : {}) });
      return void response.end(answer.body);
    }
    if (request.url === '/moved') {
      response.writeHead(301, { location: '/jwks.json' });
      return void response.end();
    }
    response.writeHead(404);
    response.end('not found');
  });
});
afterAll(async () => publisher?.close());

const outbound = () => ({ outbound: { ca: publisher.ca, resolve: publisher.resolve } });
// A sandbox on a developer's machine (loopback allowed), and a production server (public addresses only).
const sandbox = useServer({ outboundAllowPrivateNetworks: true }, outbound);
const production = useServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' }, outbound);

interface Signer {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signer(kid: string): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'ES256' } };
}

const publish = (keys: unknown[], cacheControl?: string) => {
  answer = { status: 200, body: JSON.stringify({ keys }), ...(cacheControl ? { cacheControl } : {}) };
};
const jwksUri = () => `${publisher.origin}/jwks.json`;

async function newApp(server: () => { url: string }) {
  const { key } = await registerPublisher(server());
  const app = await call(server(), 'POST', '/apps', { key, body: appInput() });
  expect(app.status).toBe(201);
  return { key, clients: `/apps/${app.body.id}/clients` };
}

describe('registering a jwks_uri', () => {
  it('fetches the key set once, and registers the client', async () => {
    const { key, clients } = await newApp(sandbox);
    publish([(await signer('k1')).publicJwk]);
    const before = publisher.requests.length;
    const created = await call(sandbox(), 'POST', clients, { key, body: { type: 'confidential', jwksUri: jwksUri() } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ type: 'confidential', tokenEndpointAuthMethod: 'private_key_jwt', jwks: null, jwksUri: jwksUri() });
    expect(publisher.requests.slice(before).map((r) => r.path)).toEqual(['/jwks.json']);
  });

  it('switches a client between inline keys and a jwks_uri', async () => {
    const { key, clients } = await newApp(sandbox);
    const inline = (await signer('inline')).publicJwk;
    const created = await call(sandbox(), 'POST', clients, { key, body: { type: 'confidential', jwks: { keys: [inline] } } });
    publish([(await signer('remote')).publicJwk]);
    const toUri = await call(sandbox(), 'PUT', `${clients}/${created.body.clientId}/keys`, { key, body: { jwksUri: jwksUri() } });
    expect(toUri.status).toBe(200);
    expect(toUri.body).toMatchObject({ jwks: null, jwksUri: jwksUri() });
    answer = { status: 500, body: 'oops' };
    const broken = await call(sandbox(), 'PUT', `${clients}/${created.body.clientId}/keys`, { key, body: { jwksUri: `${jwksUri()}?v=2` } });
    expectProblem(broken, 400, 'invalid_client_metadata');
    // The refused change wrote nothing.
    expect((await call(sandbox(), 'GET', `${clients}/${created.body.clientId}`, { key })).body.jwksUri).toBe(jwksUri());
  });

  const rsa1024 = { ...(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as JWK), kid: 'small' };
  const p521 = { ...(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ format: 'jwk' }) as JWK), kid: 'p521' };
  const withPrivate = { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK), kid: 'leak' };

  it.each([
    ['an answer other than 200', () => (answer = { status: 404, body: '{}' }), jwksUri, /answered HTTP 404, not 200/],
    ['a body that is not JSON', () => (answer = { status: 200, body: '<html>' }), jwksUri, /is not JSON/],
    ['JSON that is not a JWK Set', () => (answer = { status: 200, body: '{"kty":"EC"}' }), jwksUri, /is not a JWK Set/],
    ['a set with a private key in it', () => publish([withPrivate]), jwksUri, /key "leak" holds the private member "d"/],
    [
      'a set with no key this profile can use',
      async () => publish([rsa1024, p521, { ...(await signer('enc')).publicJwk, use: 'enc' }]),
      jwksUri,
      /no usable signing key.*"small" RSA keys must have at least 2048 bits.*"p521" an EC key must be on P-256 or P-384.*"enc": use is "enc"/,
    ],
    ['a redirect', () => publish([]), () => `${publisher.origin}/moved`, /301.*redirects are not followed/],
    ['a name that does not resolve', () => publish([]), () => `https://nowhere.editeur.test:${publisher.port}/jwks.json`, /does not resolve/],
    ['a URL with a fragment', () => publish([]), () => `${jwksUri()}#keys`, /must not have a fragment/],
  ])('refuses %s, saying why, and registers nothing', async (_case, setUp, uri, reason) => {
    const { key, clients } = await newApp(sandbox);
    await setUp();
    const refused = await call(sandbox(), 'POST', clients, { key, body: { type: 'confidential', jwksUri: uri() } });
    expectProblem(refused, 400, 'invalid_client_metadata');
    expect(refused.body.errors).toEqual([{ pointer: '/body/jwksUri', detail: expect.stringMatching(reason) }]);
    expect((await call(sandbox(), 'GET', clients, { key })).body.items.map((c: { type: string }) => c.type)).toEqual(['public']);
  });

  it('outside the sandbox, refuses a jwks_uri on a private address before connecting', async () => {
    const { key, clients } = await newApp(production);
    publish([(await signer('k1')).publicJwk]);
    const before = publisher.requests.length;
    for (const uri of [jwksUri(), `https://127.0.0.1:${publisher.port}/jwks.json`, `https://[::1]:${publisher.port}/jwks.json`]) {
      const refused = await call(production(), 'POST', clients, { key, body: { type: 'confidential', jwksUri: uri } });
      expectProblem(refused, 400, 'invalid_client_metadata');
      expect(refused.body.errors[0].detail).toMatch(/is not a public address \(loopback\)/);
    }
    expect(publisher.requests.length).toBe(before);
    expect((await call(production(), 'GET', clients, { key })).body.items).toEqual([]);
  });
});

describe('client assertions verified with the keys at the jwks_uri', () => {
  let clientId: string;
  let clock: number;
  const keySets = () => remoteKeySets({ policy: { allowPrivateNetworks: true, timeoutMs: 2000, ...outbound().outbound }, now: () => clock });
  let remoteKeys: ReturnType<typeof keySets>;
  const issuer = 'https://api.mes.example.fr';
  const context = { issuer, endpointUrl: `${issuer}/oauth/token` };
  const deps = () => ({ db: sandbox().app.db, replay: storeReplayCache(sandbox().app.db), remoteKeys, now: () => clock });

  async function assertion(by: Signer, header: Record<string, unknown> = { kid: by.kid }): Promise<string> {
    const now = Math.floor(clock / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', ...header })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(by.privateKey);
  }
  const authenticate = async (by: Signer, header?: Record<string, unknown>) =>
    authenticateClient({ client_id: clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion(by, header) }, context, deps());
  async function refusedWith(attempt: Promise<unknown>, reason: RegExp) {
    const error = await attempt.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ClientAuthError);
    expect((error as ClientAuthError).error).toBe('invalid_client');
    expect((error as ClientAuthError).message).toMatch(reason);
  }
  const fetches = () => publisher.requests.filter((r) => r.path === '/jwks.json').length;

  let first: Signer;
  beforeAll(async () => {
    first = await signer('first');
    publish([first.publicJwk], 'max-age=120');
    const { key, clients } = await newApp(sandbox);
    clientId = (await call(sandbox(), 'POST', clients, { key, body: { type: 'confidential', jwksUri: jwksUri() } })).body.clientId;
  });

  it('verifies with the published key, then serves the set from its cache until Cache-Control says', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    const before = fetches();
    expect(await authenticate(first)).toMatchObject({ method: 'private_key_jwt', keyId: 'first', client: { clientId } });
    expect(await authenticate(first)).toMatchObject({ keyId: 'first' });
    expect(fetches() - before).toBe(1);
    clock += 119_000;
    await authenticate(first);
    expect(fetches() - before).toBe(1);
    clock += 2_000; // past max-age=120
    await authenticate(first);
    expect(fetches() - before).toBe(2);
  });

  it('follows a key rotation at the client with one early fetch, and no more within the cool-down', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    await authenticate(first);
    const rotated = await signer('second');
    publish([first.publicJwk, rotated.publicJwk], 'max-age=3600');
    const before = fetches();
    clock += 11_000; // past the cool-down: the unknown kid makes the server look again
    expect(await authenticate(rotated)).toMatchObject({ keyId: 'second' });
    expect(fetches() - before).toBe(1);

    const stranger = await signer('unknown');
    await refusedWith(authenticate(stranger), /no key of this client has kid unknown/);
    await refusedWith(authenticate(stranger), /no key of this client has kid unknown/);
    // Within 10 s of the last fetch, an unknown kid does not make the server fetch again.
    expect(fetches() - before).toBe(1);
  });

  it('refuses a key the client has removed from its set, once the set is fetched again', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    const current = await signer('current');
    publish([first.publicJwk, current.publicJwk], 'max-age=60');
    await authenticate(first);
    publish([current.publicJwk], 'max-age=60');
    clock += 61_000;
    await refusedWith(authenticate(first), /no key of this client has kid first/);
    expect(await authenticate(current)).toMatchObject({ keyId: 'current' });
  });

  it('verifies an assertion without kid against the keys that fit its algorithm, including keys published without kid', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    const anonymous = await signer('anonymous');
    const { kid: _kid, ...withoutKid } = anonymous.publicJwk;
    publish([(await signer('other')).publicJwk, withoutKid]);
    expect((await authenticate(anonymous, {})).method).toBe('private_key_jwt');
    // A header kid never matches a key that has none.
    await refusedWith(authenticate(anonymous, { kid: 'anonymous' }), /no key of this client has kid anonymous/);
  });

  it('refuses the client, saying why, when its set can no longer be fetched', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    answer = { status: 503, body: 'maintenance' };
    await refusedWith(authenticate(first), /the key set at this client's jwks_uri answered HTTP 503, not 200/);
    publish([first.publicJwk]);
  });

  it('refuses a set that turned into one holding a private key', async () => {
    clock = Date.now();
    remoteKeys = keySets();
    publish([first.publicJwk, withPrivateKey()]);
    await refusedWith(authenticate(first), /holds the private member "d": publish public keys only/);
    publish([first.publicJwk]);
  });
});

function withPrivateKey(): JWK {
  return { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK), kid: 'leaked' };
}
