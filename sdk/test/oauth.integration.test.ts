// The SDK's other flows against the real server in sandbox mode: a confidential backend client
// (private_key_jwt, PAR), the device flow of command-line tools with the platform token on the
// publisher API, and the reliability habits under the sandbox's injected failures (429 and 503
// with Retry-After on the FHIR API and on the token endpoint).
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, OAuthError, ServerError, type PublisherClient } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../catalog-api/test/fhir-helpers.js';
import { appInput, publisherRegistration } from './helpers/fixtures.js';

let server: TestServer;
let publisher: PublisherClient;
let publisherKey: string;
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
const patient = `sdk-oauth-${process.pid}`;
const scopes = ['patient/Immunization.rs', 'patient/Observation.rs', 'offline_access'];

beforeAll(async () => {
  server = await startTestServer();
  const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('SDK OAuth SAS'));
  publisherKey = registered.apiKey.key;
  publisher = createPublisherClient({ baseUrl: server.url, apiKey: publisherKey });
  await records.insertResources(server.app.db, sampleRecord(patient));
});

afterAll(async () => {
  await server?.close();
});

async function newApp(): Promise<{ appId: string; publicClientId: string }> {
  const app = await publisher.apps.create(appInput({ scopes: scopes.map((scope) => ({ scope, justification: 'Pour les tests du SDK.' })) }));
  return { appId: app.id, publicClientId: (await publisher.clients.list(app.id)).items[0]!.clientId };
}

describe('a confidential backend client', () => {
  it('authenticates with private_key_jwt, pushes its request, and refreshes', async () => {
    const { appId } = await newApp();
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const registered = await publisher.clients.create(appId, { type: 'confidential', jwks: { keys: [{ kty: kty!, crv: crv!, x: x!, y: y!, kid: 'backend-1' }] } as never });
    const privateJwk = { ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid: 'backend-1' };
    const mes = createPublisherClient({
      baseUrl: server.url,
      clientId: registered.clientId,
      clientAuth: { method: 'private_key_jwt', privateKey: privateJwk },
      redirectUri,
      scope: scopes,
    });
    const { url } = await mes.authorize({ loginHint: patient });
    // PAR: the browser carries only the handle of the pushed request.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    await expect(mes.handleCallback(back)).resolves.toMatchObject({ patient, refreshable: true });
    await expect(mes.fhir.search('Immunization').all({ limit: 10 })).resolves.toHaveLength(2);
    await publisher.sandbox.expireTokens(registered.clientId);
    await expect(mes.fhir.search('Observation', { category: 'laboratory' }).all({ limit: 10 })).resolves.toHaveLength(2);
    await mes.signOut();
    await expect(mes.authorization()).resolves.toBeUndefined();
  });
});

describe('the device flow', () => {
  it('signs a command-line tool in, then calls the publisher API with the platform token', async () => {
    const cli = createPublisherClient({ baseUrl: server.url, clientId: 'mes-cli' });
    const device = await cli.deviceAuthorization({ scope: 'platform/apps.read' });
    expect(device.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verificationUri).toBe(`${server.url}/device`);
    // The person approves on the page, with their publisher API key.
    const approval = await fetch(device.verificationUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: device.userCode, api_key: publisherKey, decision: 'approve' }),
    });
    expect(approval.status).toBe(200);
    await expect(device.wait()).resolves.toMatchObject({ audience: 'platform', scopes: ['platform/apps.read'] });
    const { appId } = await newApp();
    const apps = await cli.apps.list().all({ limit: 100 });
    expect(apps.map((app) => app.id)).toContain(appId);
  }, 20_000);

  it('says so when the person refuses', async () => {
    const cli = createPublisherClient({ baseUrl: server.url, clientId: 'mes-cli' });
    const device = await cli.deviceAuthorization({ scope: 'platform/apps.read' });
    await fetch(device.verificationUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: device.userCode, api_key: publisherKey, decision: 'deny' }),
    });
    await expect(device.wait()).rejects.toMatchObject({ name: 'OAuthError', error: 'access_denied' });
  }, 20_000);
});

describe('injected failures', () => {
  it('waits out a 429 with Retry-After on the FHIR API, and gives up after maxRetries on 503', async () => {
    const { publicClientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId: publicClientId, redirectUri, scope: scopes });
    await mes.sandbox.signIn({ patient });
    await publisher.sandbox.injectFault(publicClientId, { kind: 'rate_limited', count: 1, target: 'fhir', retryAfterSeconds: 1 });
    await expect(mes.fhir.search('Immunization').all({ limit: 10 })).resolves.toHaveLength(2);

    await publisher.sandbox.injectFault(publicClientId, { kind: 'unavailable', count: 3, target: 'fhir', retryAfterSeconds: 1 });
    const error = await mes.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: 'transient' });
    const report = await publisher.sandbox.report(publicClientId);
    expect(report.faults).toMatchObject({ injected: 4, pending: 0 });
  });

  it('keeps the session when the token endpoint is briefly unavailable during a refresh', async () => {
    const { publicClientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId: publicClientId, redirectUri, scope: scopes });
    await mes.sandbox.signIn({ patient });
    await publisher.sandbox.expireTokens(publicClientId);
    await publisher.sandbox.injectFault(publicClientId, { kind: 'unavailable', count: 1, target: 'token', retryAfterSeconds: 1 });
    const error = await mes.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 503 });
    await expect(mes.authorization()).resolves.toMatchObject({ refreshable: true });
    await expect(mes.fhir.search('Immunization').all({ limit: 10 })).resolves.toHaveLength(2);
  });
});
