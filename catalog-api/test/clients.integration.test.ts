import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';

const server = useServer();

const publicJwk = (key: KeyObject, kid: string) => ({ ...(key.export({ format: 'jwk' }) as Record<string, string>), kid });
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
const ed = () => generateKeyPairSync('ed25519');

async function appOfNewPublisher() {
  const publisher = await registerPublisher(server());
  const app = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput() });
  return { ...publisher, appId: app.body.id as string, clients: `/apps/${app.body.id}/clients` };
}

describe('OAuth clients of an app', () => {
  it('gives every new sandbox app a public client at once', async () => {
    const { key, clients, appId } = await appOfNewPublisher();
    const listed = await call(server(), 'GET', clients, { key });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ appId, type: 'public', tokenEndpointAuthMethod: 'none', jwks: null, jwksUri: null }),
    ]);
    expect(listed.body.items[0].clientId).toMatch(/^mes_[A-Za-z0-9_-]{22}$/);
  });

  it('registers confidential clients with ES256, ES384, PS256, RS384 and EdDSA public keys', async () => {
    const { key, clients } = await appOfNewPublisher();
    const jwks = {
      keys: [
        publicJwk(ec().publicKey, 'ec-1'),
        publicJwk(rsa(2048).publicKey, 'rsa-1'),
        { ...publicJwk(ed().publicKey, 'ed-1'), alg: 'EdDSA', use: 'sig' },
        { ...publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'ec384-1'), alg: 'ES384' },
        { ...publicJwk(rsa(3072).publicKey, 'rsa384-1'), alg: 'RS384' },
      ],
    };
    const created = await call(server(), 'POST', clients, { key, body: { type: 'confidential', jwks } });
    expect(created.status).toBe(201);
    // DPoP-bound tokens and RS256 ID tokens unless the client says otherwise.
    expect(created.body).toMatchObject({ type: 'confidential', tokenEndpointAuthMethod: 'private_key_jwt', jwks, jwksUri: null, dpopBoundAccessTokens: true, idTokenSignedResponseAlg: 'RS256' });
    expect(created.headers.get('location')).toBe(`${clients}/${created.body.clientId}`);
    expect((await call(server(), 'GET', `${clients}/${created.body.clientId}`, { key })).body).toEqual(created.body);
    // Clients with a jwksUri: client-jwks-uri.integration.test.ts.
  });

  it('rotates a confidential client’s keys, and refuses keys for a public client', async () => {
    const { key, clients } = await appOfNewPublisher();
    const created = await call(server(), 'POST', clients, { key, body: { type: 'confidential', jwks: { keys: [publicJwk(ec().publicKey, 'old')] } } });
    const both = { keys: [publicJwk(ec().publicKey, 'old'), publicJwk(ec().publicKey, 'new')] };
    const rotated = await call(server(), 'PUT', `${clients}/${created.body.clientId}/keys`, { key, body: { jwks: both } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(['old', 'new']);

    const publicClient = (await call(server(), 'GET', clients, { key })).body.items.find((c: { type: string }) => c.type === 'public');
    expectProblem(await call(server(), 'PUT', `${clients}/${publicClient.clientId}/keys`, { key, body: { jwks: both } }), 409, 'client_not_confidential');
    expectProblem(await call(server(), 'PUT', `${clients}/${created.body.clientId}/keys`, { key, body: { jwks: both, jwksUri: 'https://a.example.fr/jwks' } }), 400, 'validation_failed');
  });

  it('deletes a client', async () => {
    const { key, clients } = await appOfNewPublisher();
    const [client] = (await call(server(), 'GET', clients, { key })).body.items;
    expect((await call(server(), 'DELETE', `${clients}/${client.clientId}`, { key })).status).toBe(204);
    expectProblem(await call(server(), 'GET', `${clients}/${client.clientId}`, { key }), 404, 'not_found');
    expectProblem(await call(server(), 'DELETE', `${clients}/${client.clientId}`, { key }), 404, 'not_found');
  });

  it('keeps clients to the publisher of the app', async () => {
    const owner = await appOfNewPublisher();
    const other = await registerPublisher(server());
    const [client] = (await call(server(), 'GET', owner.clients, { key: owner.key })).body.items;
    const path = `${owner.clients}/${client.clientId}`;
    expectProblem(await call(server(), 'GET', owner.clients, { key: other.key }), 404, 'not_found');
    expectProblem(await call(server(), 'POST', owner.clients, { key: other.key, body: { type: 'public' } }), 404, 'not_found');
    expectProblem(await call(server(), 'GET', path, { key: other.key }), 404, 'not_found');
    expectProblem(await call(server(), 'DELETE', path, { key: other.key }), 404, 'not_found');
    expectProblem(await call(server(), 'PUT', `${path}/keys`, { key: other.key, body: { jwksUri: 'https://evil.example.com/jwks' } }), 404, 'not_found');
    expect((await call(server(), 'GET', owner.clients, { key: owner.key })).body.items).toEqual([client]);
  });
});

describe('client registrations that are refused, writing nothing', () => {
  async function expectRefused(body: unknown, status: number, code: string, pointer?: string) {
    const { key, clients } = await appOfNewPublisher();
    const result = await call(server(), 'POST', clients, { key, body });
    expectProblem(result, status, code);
    if (pointer) expect(result.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    expect((await call(server(), 'GET', clients, { key })).body.items).toHaveLength(1); // the sandbox's own public client
    return result;
  }

  it('refuses private key material', async () => {
    const { privateKey } = ec();
    const result = await expectRefused({ type: 'confidential', jwks: { keys: [{ ...(privateKey.export({ format: 'jwk' }) as object), kid: 'leak' }] } }, 400, 'validation_failed', '/body/jwks/keys/0/d');
    expect(result.body.errors[0].detail).toContain('"d"');
  });

  it('refuses RSA keys under 2048 bits', async () => {
    const result = await expectRefused({ type: 'confidential', jwks: { keys: [publicJwk(rsa(1024).publicKey, 'small')] } }, 400, 'invalid_client_metadata', '/body/jwks/keys/0');
    expect(result.body.detail).toContain('at least 2048 bits');
  });

  it('refuses keys on other curves, with the wrong algorithm, malformed, or with a repeated kid', async () => {
    const p521 = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, 'p521');
    await expectRefused({ type: 'confidential', jwks: { keys: [p521] } }, 400, 'validation_failed', '/body/jwks/keys/0/crv');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ ...publicJwk(ec().publicKey, 'a'), alg: 'PS256' }] } }, 400, 'invalid_client_metadata');
    // Each curve has its algorithm: a P-384 key is not an ES256 key, a P-256 key not an ES384 one, RSA is PS256 or RS384.
    const p384 = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'p384');
    const refused = await expectRefused({ type: 'confidential', jwks: { keys: [{ ...p384, alg: 'ES256' }] } }, 400, 'invalid_client_metadata');
    expect(refused.body.detail).toContain('an EC P-384 key is used with ES384, not ES256');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ ...publicJwk(ec().publicKey, 'a'), alg: 'ES384' }] } }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ ...publicJwk(rsa(2048).publicKey, 'a'), alg: 'RS256' }] } }, 400, 'validation_failed', '/body/jwks/keys/0/alg');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ ...publicJwk(ec().publicKey, 'a'), x: 'AAAA' }] } }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'no-y', x: 'AAAA' }] } }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'confidential', jwks: { keys: [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }] } }, 400, 'validation_failed');
    const key = publicJwk(ec().publicKey, 'same');
    await expectRefused({ type: 'confidential', jwks: { keys: [key, { ...publicJwk(ec().publicKey, 'x'), kid: 'same' }] } }, 400, 'invalid_client_metadata', '/body/jwks/keys/1/kid');
  });

  it('refuses inconsistent metadata', async () => {
    await expectRefused({ type: 'confidential' }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'confidential', jwks: { keys: [publicJwk(ec().publicKey, 'a')] }, jwksUri: 'https://a.example.fr/jwks' }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'public', jwks: { keys: [publicJwk(ec().publicKey, 'a')] } }, 400, 'invalid_client_metadata');
    await expectRefused({ type: 'confidential', jwksUri: 'http://a.example.fr/jwks' }, 400, 'validation_failed');
    await expectRefused({ type: 'secret' }, 400, 'validation_failed');
  });
});
