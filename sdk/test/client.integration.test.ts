// The SDK against the real server (in-process, port 0, in-memory store): every call goes over
// HTTP to the same handlers production runs.
import { catalog, startTestServer, type TestServer } from '@mes/catalog-api';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  createPublisherClient,
  NotFoundError,
  ProblemCode,
  type PublisherClient,
} from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appInput, publisherRegistration } from './helpers/fixtures.js';

let server: TestServer;
let anonymous: PublisherClient;

async function registeredClient(name?: string): Promise<{ client: PublisherClient; key: string; publisherId: string }> {
  const registered = await anonymous.publishers.register(publisherRegistration(name));
  return {
    client: createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key }),
    key: registered.apiKey.key,
    publisherId: registered.publisher.id,
  };
}

beforeAll(async () => {
  server = await startTestServer();
  anonymous = createPublisherClient({ baseUrl: server.url });
});

afterAll(async () => {
  await server?.close();
});

describe('health', () => {
  it('answers liveness and readiness', async () => {
    await expect(anonymous.health.get()).resolves.toEqual({ status: 'ok' });
    await expect(anonymous.health.ready()).resolves.toMatchObject({ status: 'ready' });
  });
});

describe('publishers and API keys', () => {
  it('registers, reads and updates the publisher of the key', async () => {
    const registration = publisherRegistration('Registre SAS');
    const registered = await anonymous.publishers.register(registration);
    expect(registered.apiKey.key).toMatch(/^mes_pk_/);
    expect(registered.publisher).toMatchObject({ name: 'Registre SAS', status: 'verified' });

    const mes = createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key });
    await expect(mes.publishers.me()).resolves.toMatchObject({ id: registered.publisher.id });
    const updated = await mes.publishers.update({ contactEmail: 'ops@registre.example' });
    expect(updated.contactEmail).toBe('ops@registre.example');

    const again = await anonymous.publishers.register(registration).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    expect((again as ConflictError).code).toBe(ProblemCode.publisher_exists);
  });

  it('creates, lists and revokes keys; a revoked key stops working', async () => {
    const { client: mes } = await registeredClient();
    const created = await mes.apiKeys.create({ label: 'ci' });
    expect(created.key).toMatch(/^mes_pk_/);
    const { items } = await mes.apiKeys.list();
    expect(items.map((key) => key.label)).toContain('ci');
    expect(items.every((key) => !('key' in key))).toBe(true);

    const second = createPublisherClient({ baseUrl: server.url, apiKey: created.key });
    await expect(second.publishers.me()).resolves.toBeDefined();
    await mes.apiKeys.revoke(created.id);
    const error = await second.publishers.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('invalid_api_key');
  });
});

describe('apps', () => {
  it('goes through register → create → list → update → delete', async () => {
    const { client: mes, publisherId } = await registeredClient();
    const created = await mes.apps.create(appInput({ name: 'App A' }));
    expect(created).toMatchObject({ name: 'App A', publisherId, certificationStatus: 'draft', logoUrl: null });

    await mes.apps.create(appInput({ name: 'App B' }));
    await mes.apps.create(appInput({ name: 'App C' }));

    const first = await mes.apps.list({ limit: 2 });
    expect(first.items.map((app) => app.name)).toEqual(['App A', 'App B']);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.nextPage();
    expect(second.items.map((app) => app.name)).toEqual(['App C']);
    expect(second.hasNextPage()).toBe(false);

    const names: string[] = [];
    for await (const app of mes.apps.list({ limit: 1 })) names.push(app.name);
    expect(names).toEqual(['App A', 'App B', 'App C']);
    expect((await mes.apps.list({ limit: 1 }).all({ limit: 2 })).map((app) => app.name)).toEqual(['App A', 'App B']);

    const updated = await mes.apps.update(created.id, { name: 'App A2', logoUrl: 'https://tensiosuivi.example.fr/logo.png' });
    expect(updated).toMatchObject({ id: created.id, name: 'App A2', logoUrl: 'https://tensiosuivi.example.fr/logo.png' });
    expect(updated.category).toBe(created.category);
    await expect(mes.apps.get(created.id)).resolves.toMatchObject({ name: 'App A2' });
    expect((await mes.apps.update(created.id, { logoUrl: null })).logoUrl).toBeNull();

    await expect(mes.apps.delete(created.id)).resolves.toBeUndefined();
    const gone = await mes.apps.get(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(NotFoundError);
    expect((await mes.apps.list().all({ limit: 10 })).map((app) => app.name)).toEqual(['App B', 'App C']);
  });

  it("hides another publisher's apps behind not_found", async () => {
    const owner = await registeredClient('Owner SAS');
    const other = await registeredClient('Other SAS');
    const app = await owner.client.apps.create(appInput());
    for (const call of [
      () => other.client.apps.get(app.id),
      () => other.client.apps.update(app.id, { name: 'Stolen' }),
      () => other.client.apps.delete(app.id),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe('not_found');
    }
    await expect(owner.client.apps.get(app.id)).resolves.toMatchObject({ name: 'TensioSuivi' });
  });

  it('manages an app’s OAuth clients', async () => {
    const { client } = await registeredClient('Clients SAS');
    const app = await client.apps.create(appInput());
    const [sandboxClient] = (await client.clients.list(app.id)).items;
    expect(sandboxClient).toMatchObject({ appId: app.id, type: 'public', tokenEndpointAuthMethod: 'none' });
    const { generateKeyPairSync } = await import('node:crypto');
    const jwk = { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as { kty: 'EC'; crv: 'P-256'; x: string; y: string }), kid: 'k1' };
    const backend = await client.clients.create(app.id, { type: 'confidential', jwks: { keys: [jwk] } });
    expect(backend.tokenEndpointAuthMethod).toBe('private_key_jwt');
    const rotated = await client.clients.replaceKeys(app.id, backend.clientId, { jwks: { keys: [jwk, { ...jwk, kid: 'k2' }] } });
    expect(rotated.jwks?.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    await expect(client.clients.get(app.id, backend.clientId)).resolves.toEqual(rotated);
    await client.clients.delete(app.id, backend.clientId);
    await expect(client.clients.get(app.id, backend.clientId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.clients.replaceKeys(app.id, sandboxClient!.clientId, { jwksUri: 'https://a.example.fr/jwks' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses to delete a certified app with app_not_deletable', async () => {
    const { client: mes } = await registeredClient();
    const app = await mes.apps.create(appInput({ name: 'Certifiée' }));
    await catalog.setCertificationStatus(server.app.db, app.id, 'certified');
    const error = await mes.apps.delete(app.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('app_not_deletable');
  });
});

describe('catalogue', () => {
  it('lists and shows certified apps only, with search and pagination', async () => {
    const { client: mes } = await registeredClient('Catalogue SAS');
    const certified = await mes.apps.create(appInput({ name: 'Zèbre Tension' }));
    const alsoCertified = await mes.apps.create(appInput({ name: 'Zèbre Sommeil', category: 'bien-etre' }));
    const draft = await mes.apps.create(appInput({ name: 'Zèbre Brouillon' }));
    await catalog.setCertificationStatus(server.app.db, certified.id, 'certified');
    await catalog.setCertificationStatus(server.app.db, alsoCertified.id, 'certified');

    const found = await anonymous.catalog.list({ q: 'zebre', limit: 1 }).all({ limit: 10 });
    expect(found.map((app) => app.name)).toEqual(['Zèbre Sommeil', 'Zèbre Tension']);
    const first = await anonymous.catalog.list({ q: 'zebre', limit: 1 });
    expect(first.hasNextPage()).toBe(true);

    const filtered = await anonymous.catalog.list({ q: 'zebre', category: 'bien-etre' });
    expect(filtered.items.map((app) => app.id)).toEqual([alsoCertified.id]);

    const shown = await anonymous.catalog.get(certified.id);
    expect(shown).toMatchObject({ id: certified.id, certificationStatus: 'certified', publisher: { name: 'Catalogue SAS' } });
    expect(shown).not.toHaveProperty('redirectUris');

    const hidden = await anonymous.catalog.get(draft.id).catch((e: unknown) => e);
    expect(hidden).toBeInstanceOf(NotFoundError);
  });
});

describe('errors from real responses', () => {
  it('401 without a key: authentication_required, with the request id of the response', async () => {
    const error = await anonymous.apps.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    const auth = error as AuthenticationError;
    expect(auth.status).toBe(401);
    expect(auth.code).toBe('authentication_required');
    expect(auth.requestId).toBeTruthy();
    expect(auth.requestId).toBe(auth.headers.get('x-request-id'));
    expect(auth.requestId).toBe(auth.problem?.requestId);
    expect(auth.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('401 with an unknown key: invalid_api_key', async () => {
    const mes = createPublisherClient({ baseUrl: server.url, apiKey: 'mes_pk_unknown' });
    const error = await mes.publishers.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('invalid_api_key');
    expect((error as AuthenticationError).message).toMatch(/^invalid_api_key: The API key is unknown or revoked\. \(request id .+\)$/);
  });

  it('404 for an unknown app', async () => {
    const { client: mes } = await registeredClient();
    const error = await mes.apps.get('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe('not_found');
    expect((error as NotFoundError).requestId).toBeTruthy();
  });

  it('400 with code, field errors and request id', async () => {
    const { client: mes } = await registeredClient();
    const error = await mes.apps.create(appInput({ name: 'x' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const bad = error as BadRequestError;
    expect(bad.code).toBe('validation_failed');
    expect(bad.requestId).toBe(bad.headers.get('x-request-id'));
    expect(bad.errors).toContainEqual(expect.objectContaining({ pointer: '/body/name' }));

    const scope = await mes.apps
      .create(appInput({ scopes: [{ scope: 'patient/Nothing.zz', justification: 'Une justification suffisante.' }] }))
      .catch((e: unknown) => e);
    expect(scope).toBeInstanceOf(BadRequestError);
    expect((scope as BadRequestError).code).toBe('invalid_scope');

    const cursor = await mes.apps.list({ cursor: 'bm90LWEtY3Vyc29y' }).catch((e: unknown) => e);
    expect((cursor as BadRequestError).code).toBe('invalid_cursor');
  });
});

describe('retried creates', () => {
  it('creates an app once when the answer to the first attempt is lost and the SDK retries it', async () => {
    const { key } = await registeredClient('Éditeur au réseau instable');
    let lost = 0;
    // A network that delivers the first create to the server, then drops its answer.
    const flaky: typeof fetch = async (input, init) => {
      const method = input instanceof Request ? input.method : (init?.method ?? 'GET');
      const response = await fetch(input, init);
      if (method === 'POST' && lost === 0) {
        lost += 1;
        await response.body?.cancel();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return response;
    };
    const client = createPublisherClient({ baseUrl: server.url, apiKey: key, fetch: flaky });
    const app = await client.apps.create(appInput({ name: 'Créée une seule fois' }));
    expect(lost).toBe(1);
    const listed = await client.apps.list({ limit: 100 });
    expect(listed.items.map((item) => item.id)).toEqual([app.id]);
  });
});
