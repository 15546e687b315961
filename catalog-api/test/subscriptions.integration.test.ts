// FHIR Subscriptions on the server side: what a subscription request may ask for (every refusal
// writes nothing), the apps' notification endpoints, the topics in the CapabilityStatement, an
// outbox that survives a restart, and two workers on one store delivering each event once.
// The end-to-end journey through the SDK is in sdk/test/subscriptions.integration.test.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Db } from '../src/core/store/db.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropTestSchema, testConfig } from '../src/testing.js';
import { fhirRequest, patientToken, seedRecord, type PatientSession } from './fhir-helpers.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';
import { startHttpsServer, type TestHttpsServer } from './https-server.js';

const HOST = 'hooks.app.example';
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
let receiver: TestHttpsServer;
const received: { path: string; body: any }[] = [];

function receive(request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({ path: request.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
    response.writeHead(200).end();
  });
}

beforeAll(async () => {
  receiver = await startHttpsServer([HOST], receive);
});
afterAll(async () => {
  await receiver?.close();
});

const server = useServer({ outboundAllowPrivateNetworks: true, notificationPollMs: 100 }, () => ({ outbound: { ca: receiver.ca, resolve: receiver.resolve } }));

const subscription = (overrides: Record<string, unknown> = {}, channel: Record<string, unknown> = {}) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'tests',
  criteria: `${server().url}/fhir/SubscriptionTopic/new-document`,
  channel: { type: 'rest-hook', endpoint: `${receiver.origin}/hooks/a`, payload: 'application/fhir+json', ...channel },
  ...overrides,
});

async function session(patient: string, scope = 'patient/DocumentReference.crs patient/Observation.crs'): Promise<PatientSession> {
  await seedRecord(server(), patient);
  const token = await patientToken(server(), patient, scope);
  await server().app.db.query('UPDATE apps SET notification_endpoints = $2 WHERE id = $1', [token.appId, [`${receiver.origin}/hooks`]]);
  return token;
}

const count = async () => Number((await server().app.db.query<{ n: string }>('SELECT count(*) AS n FROM subscriptions'))[0]!.n);

describe('what a subscription may ask for', () => {
  let alice: PatientSession;
  beforeAll(async () => {
    alice = await session('subs-alice');
  });

  it.each([
    ['a full-resource payload', () => subscription({}, { _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'full-resource' }] } }), 'not-supported', 'id-only'],
    ['another channel type', () => subscription({}, { type: 'websocket' }), 'not-supported', 'rest-hook'],
    ['another payload type', () => subscription({}, { payload: 'application/fhir+xml' }), 'value', 'application/fhir+json'],
    ['headers to send', () => subscription({}, { header: ['Authorization: Bearer secret'] }), 'not-supported', 'signature'],
    ['an unknown topic', () => subscription({ criteria: `${'https://elsewhere.example'}/fhir/SubscriptionTopic/new-document` }), 'value', 'not a topic'],
    ['a heartbeat too frequent', () => subscription({}, { extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 5 }] }), 'value', 'between 60'],
    ['a filter on another patient', () => subscription({ _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'DocumentReference?patient=Patient/subs-bob' }] } }), 'value', 'another patient'],
    ['a filter on anything else', () => subscription({ _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'DocumentReference?type=57833-6' }] } }), 'not-supported', 'only a filter'],
    ['an endpoint not registered', () => subscription({}, { endpoint: 'https://elsewhere.example/hooks' }), 'value', 'registered notification endpoints'],
    ['an http endpoint', () => subscription({}, { endpoint: `http://${HOST}/hooks/a` }), 'value', 'registered notification endpoints'],
  ])('refuses %s (422) and writes nothing', async (_name, body, code, words) => {
    const before = await count();
    const result = await fhirRequest(server(), alice, 'POST', '/fhir/Subscription', { body: body() });
    expect(result.status, JSON.stringify(result.body)).toBe(422);
    expect(result.body.resourceType).toBe('OperationOutcome');
    expect(result.body.issue[0].code).toBe(code);
    expect(result.body.issue[0].diagnostics).toContain(words);
    expect(await count()).toBe(before);
  });

  it('accepts a filter on the token’s own patient, and a heartbeat period', async () => {
    const body = subscription(
      { _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'DocumentReference?patient=Patient/subs-alice' }] } },
      { extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 3600 }] },
    );
    const result = await fhirRequest(server(), alice, 'POST', '/fhir/Subscription', { body });
    expect(result.status, JSON.stringify(result.body)).toBe(201);
    expect(result.headers.get('location')).toBe(`${server().url}/fhir/Subscription/${result.body.id}`);
    expect(result.body._criteria.extension[0].valueString).toBe('DocumentReference?patient=Patient/subs-alice');
    expect(result.body.channel.extension[0].valueUnsignedInt).toBe(3600);
    // The handshake, then a heartbeat once nothing was sent for the period (moved back here).
    await expect.poll(() => received.filter((item) => item.path === '/hooks/a').length, { timeout: 5000 }).toBe(1);
    await server().app.db.query(`UPDATE subscriptions SET last_sent_at = now() - interval '2 hours' WHERE id = $1`, [result.body.id]);
    await expect.poll(() => received.filter((item) => item.path === '/hooks/a').length, { timeout: 5000 }).toBe(2);
    const types = received.filter((item) => item.path === '/hooks/a').map((item) => item.body.entry[0].resource.parameter.find((p: any) => p.name === 'type').valueCode);
    expect(types).toEqual(['handshake', 'heartbeat']);
  });

  it('refuses a subscription to a topic the token cannot read (403)', async () => {
    const measurer = await session('subs-carol', 'patient/Observation.crs');
    const result = await fhirRequest(server(), measurer, 'POST', '/fhir/Subscription', { body: subscription() });
    expect(result.status).toBe(403);
    expect(result.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  it('answers 404 for an id that is not a subscription of this app and patient', async () => {
    expect((await fhirRequest(server(), alice, 'GET', '/fhir/Subscription/not-a-uuid')).status).toBe(404);
    expect((await fhirRequest(server(), alice, 'GET', '/fhir/Subscription/00000000-0000-4000-8000-000000000000/$status')).status).toBe(404);
  });

  it('lists the topics in the CapabilityStatement', async () => {
    const metadata = await call(server(), 'GET', '/fhir/metadata');
    const resource = metadata.body.rest[0].resource.find((entry: any) => entry.type === 'Subscription');
    expect(resource.interaction.map((i: any) => i.code).sort()).toEqual(['create', 'delete', 'read', 'search-type']);
    expect(resource.extension.map((e: any) => e.valueCanonical)).toEqual(
      ['new-document', 'appointment', 'new-message', 'new-measurement'].map((name) => `${server().url}/fhir/SubscriptionTopic/${name}`),
    );
  });
});

describe('notification endpoints of an app', () => {
  it('are https URLs, validated like redirect URIs, and can be changed', async () => {
    const publisher = await registerPublisher(server());
    const refused = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ notificationEndpoints: ['http://hooks.app.example/x'] }) });
    expectProblem(refused, 400, 'validation_failed');
    expect(refused.body.errors[0].pointer).toBe('/body/notificationEndpoints/0');
    const fragment = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput({ notificationEndpoints: ['https://hooks.app.example/x#y'] }) });
    expectProblem(fragment, 400, 'validation_failed');
    const created = await call(server(), 'POST', '/apps', { key: publisher.key, body: appInput() });
    expect(created.body.notificationEndpoints).toEqual([]);
    const updated = await call(server(), 'PATCH', `/apps/${created.body.id}`, { key: publisher.key, body: { notificationEndpoints: ['https://hooks.app.example/mes'] } });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.notificationEndpoints).toEqual(['https://hooks.app.example/mes']);
    // The public catalogue never shows them.
    expect(JSON.stringify((await call(server(), 'GET', '/catalog/apps')).body)).not.toContain('hooks.app.example');
  });
});

/** Two servers on one store, as instances on one PostgreSQL (on PGlite, one Db object shared). */
async function sharedStores(): Promise<{ config: ReturnType<typeof testConfig>; stores: Db[] }> {
  const config = testConfig({ outboundAllowPrivateNetworks: true, notificationPollMs: 100 });
  const open = () => openStore({ dataDir: config.dataDir, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl, schema: config.databaseSchema! } : {}) });
  const first = await open();
  return { config, stores: config.databaseUrl ? [first, await open()] : [first, first] };
}

const pdfDocument = () => ({
  resourceType: 'DocumentReference',
  status: 'current',
  type: { coding: [{ system: 'http://loinc.org', code: '57833-6' }] },
  content: [{ attachment: { contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') } }],
});

async function documentEvent(running: RunningServer, patient: string, path: string): Promise<{ session: PatientSession; documentId: string }> {
  const target = { ...running, config: testConfig() } as never;
  await seedRecord(target, patient);
  const token = await patientToken(target, patient, 'patient/DocumentReference.crs');
  await running.app.db.query('UPDATE apps SET notification_endpoints = $2 WHERE id = $1', [token.appId, [`${receiver.origin}/hooks`]]);
  const created = await fhirRequest(target, token, 'POST', '/fhir/Subscription', { body: { ...subscription({ criteria: `${running.url}/fhir/SubscriptionTopic/new-document` }, { endpoint: `${receiver.origin}${path}` }) } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const document = await fhirRequest(target, token, 'POST', '/fhir/DocumentReference', { body: pdfDocument() });
  expect(document.status, JSON.stringify(document.body)).toBe(201);
  return { session: token, documentId: document.body.id };
}

const focusesAt = (path: string) =>
  received
    .filter((item) => item.path === path)
    .flatMap((item) => item.body.entry.slice(1).map((entry: any) => entry.fullUrl as string));

describe('the outbox', () => {
  // One test, for the time servers take to start: a restart, then a second instance beside it.
  it('survives a restart, and two servers sharing the store deliver each event once', { timeout: 60_000 }, async () => {
    const { config, stores } = await sharedStores();
    const outbound = { ca: receiver.ca, resolve: receiver.resolve };
    const servers: RunningServer[] = [];
    try {
      // No worker on the first server: its event stays in the outbox when it stops.
      const first = await startServer({ ...config, notificationPollMs: 0 }, { db: stores[0]!, outbound });
      const path = '/hooks/restart';
      const { session, documentId } = await documentEvent(first, 'subs-restart', path);
      await first.close();
      expect(received.filter((item) => item.path === path)).toHaveLength(0);
      for (const store of stores) servers.push(await startServer(config, { db: store, outbound }));
      await expect.poll(() => focusesAt(path), { timeout: 5000 }).toEqual([`${first.url}/fhir/DocumentReference/${documentId}`]);

      // Now two servers with a worker each: every event is delivered by one of them, once.
      // Another app of the same patient deposits the documents (the first token is for the first server).
      const target = { ...servers[0]!, config } as never;
      const depositor = await patientToken(target, 'subs-restart', 'patient/DocumentReference.crs');
      expect(depositor.clientId).not.toBe(session.clientId);
      for (let i = 0; i < 5; i += 1) {
        const created = await fhirRequest(target, depositor, 'POST', '/fhir/DocumentReference', { body: pdfDocument() });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
      }
      await expect.poll(() => focusesAt(path).length, { timeout: 5000 }).toBe(6);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const numbers = received
        .filter((item) => item.path === path)
        .flatMap((item) => item.body.entry[0].resource.parameter.filter((p: any) => p.name === 'notification-event').map((p: any) => Number(p.part[0].valueString)));
      expect(numbers.sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      for (const running of servers) await running.close();
      for (const store of new Set(stores)) await store.close();
      await dropTestSchema(config);
    }
  });
});
