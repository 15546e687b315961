// FHIR Subscriptions through the SDK against the real server in sandbox mode (in-process, port 0)
// and a real HTTPS receiver standing in for the app's webhook endpoint: subscribe, be notified of
// a new document within seconds, verify the notification with @mes/sdk/webhooks, read its focus
// with the app's token, and stop being notified once the patient withdraws the grant. Then every
// rule's negative case, and retries with backoff.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, NotFoundError, PermissionDeniedError, BadRequestError, MesError, type PublisherClient } from '@mes/sdk/publisher';
import { verifyNotification, NotificationVerificationError } from '@mes/sdk/webhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../catalog-api/test/fhir-helpers.js';
import { startHttpsServer, type TestHttpsServer } from '../../catalog-api/test/https-server.js';
import { appInput, publisherRegistration } from './helpers/fixtures.js';

const HOST = 'hooks.tensiosuivi.example';
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
const LOINC = 'http://loinc.org';
const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: TestServer;
let receiver: TestHttpsServer;
let publisher: PublisherClient;
const received: Received[] = [];
/** Statuses the receiver answers, in order, before answering 200 (per path). */
const failures = new Map<string, number[]>();
let patientCount = 0;

function receive(request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const path = request.url ?? '';
    received.push({ path, headers: request.headers, body: Buffer.concat(chunks) });
    const status = failures.get(path)?.shift() ?? 200;
    response.writeHead(status, status === 503 ? { 'retry-after': '0' } : {}).end();
  });
}

const document = (title = 'Ordonnance') => ({
  resourceType: 'DocumentReference' as const,
  status: 'current' as const,
  type: { coding: [{ system: LOINC, code: '57833-6', display: 'Ordonnance' }] },
  description: `${title} déposée par l’application`,
  content: [{ attachment: { contentType: 'application/pdf', data: pdf.toString('base64'), title } }],
});

async function newPatient(): Promise<string> {
  patientCount += 1;
  const id = `sdk-subs-${process.pid}-${patientCount}`;
  await records.insertResources(server.app.db, sampleRecord(id));
  return id;
}

const appScopes = ['patient/DocumentReference.crs', 'patient/Observation.crs', 'patient/Patient.rs'];

async function newApp(scopes: readonly string[] = appScopes, endpoints = [`${receiver.origin}/hooks`]) {
  const app = await publisher.apps.create(appInput({ scopes: scopes.map((scope) => ({ scope, justification: 'Pour les tests.' })), notificationEndpoints: endpoints }));
  const [client] = (await publisher.clients.list(app.id)).items;
  return { appId: app.id, clientId: client!.clientId };
}

async function signedIn(scope: readonly string[] = appScopes, patient?: string, app?: { clientId: string }) {
  const who = patient ?? (await newPatient());
  const { clientId } = app ?? (await newApp());
  const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: [...scope] });
  await mes.sandbox.signIn({ patient: who });
  return { mes, clientId, patient: who };
}

/** Waits until `predicate` holds for what was received on `path`, or fails after `ms`. */
async function waitFor(path: string, predicate: (items: Received[]) => boolean, ms = 5000): Promise<Received[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const items = received.filter((item) => item.path === path);
    if (predicate(items)) return items;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms on ${path}; received ${items.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const typeOf = (item: Received) => (JSON.parse(item.body.toString()) as any).entry[0].resource.parameter.find((p: any) => p.name === 'type').valueCode as string;

let pathCount = 0;
/** A fresh endpoint path under the registered one, so each test sees only its own notifications. */
const freshPath = () => `/hooks/t${++pathCount}`;

beforeAll(async () => {
  receiver = await startHttpsServer([HOST], receive);
  server = await startTestServer(
    { outboundAllowPrivateNetworks: true, notificationPollMs: 100, notificationRetryBaseMs: 100, notificationRetryMaxMs: 300, notificationMaxAttempts: 3 },
    { outbound: { ca: receiver.ca, resolve: receiver.resolve } },
  );
  const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('SDK Subscriptions SAS'));
  publisher = createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key });
});

afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

beforeEach(() => {
  failures.clear();
});

describe('notifications instead of polling', () => {
  it('notifies of a new document within seconds, signed; the app reads it with its token; withdrawal stops it', async () => {
    const { mes, clientId, patient } = await signedIn();
    const path = freshPath();
    const subscription = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}` });
    expect(subscription).toMatchObject({ resourceType: 'Subscription', status: 'requested', criteria: `${server.url}/fhir/SubscriptionTopic/new-document` });
    // The handshake comes first; answered, the subscription is active.
    const [handshake] = await waitFor(path, (items) => items.length >= 1);
    expect(typeOf(handshake!)).toBe('handshake');
    expect(handshake!.headers['content-type']).toBe('application/fhir+json');
    await expect.poll(async () => (await mes.subscriptions.read(subscription.id!)).status, { timeout: 3000 }).toBe('active');

    const started = Date.now();
    const created = await mes.fhir.create('DocumentReference', document());
    const [, notification] = await waitFor(path, (items) => items.length >= 2);
    expect(Date.now() - started).toBeLessThan(3000);

    const verified = await verifyNotification({ headers: notification!.headers as Record<string, string>, body: notification!.body }, { issuer: server.url, clientId });
    expect(verified).toMatchObject({
      subscriptionId: subscription.id,
      topic: 'new-document',
      type: 'event-notification',
      status: 'active',
      eventsSinceSubscriptionStart: 1,
      events: [{ eventNumber: 1, resourceType: 'DocumentReference', id: created.id, focus: `${server.url}/fhir/DocumentReference/${created.id}` }],
    });
    // id-only: the Bundle carries the address of the document and nothing of its content.
    expect(notification!.body.toString()).not.toContain(pdf.toString('base64'));

    const read = await mes.fhir.read('DocumentReference', verified.events[0]!.id);
    expect(read.id).toBe(created.id);
    await expect
      .poll(async () => (await server.app.db.query(`SELECT 1 FROM access_history WHERE patient_id = $1 AND resource_type = 'DocumentReference' AND interaction = 'read'`, [patient])).length, { timeout: 3000 })
      .toBe(1);

    const status = await mes.subscriptions.status(subscription.id!);
    expect(status.entry![0]!.resource!.parameter).toEqual(
      expect.arrayContaining([
        { name: 'status', valueCode: 'active' },
        { name: 'type', valueCode: 'query-status' },
        { name: 'events-since-subscription-start', valueString: '1' },
      ]),
    );

    // The patient withdraws the grant: the next document is not notified, and the subscription is off.
    await publisher.sandbox.withdrawGrants(clientId, { patient });
    const other = await signedIn(appScopes, patient, { clientId });
    expect(await other.mes.subscriptions.read(subscription.id!)).toMatchObject({ status: 'off', error: 'the patient withdrew the app’s access' });
    await other.mes.fhir.create('DocumentReference', document('Compte rendu'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((item) => item.path === path)).toHaveLength(2);
  });

  it('checks the grant before each delivery: an app suspended gets no notification, and its subscription ends', async () => {
    const { mes, clientId, patient } = await signedIn();
    const path = freshPath();
    const subscription = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}` });
    await waitFor(path, (items) => items.length >= 1);
    // Another app of the same patient deposits a document after this app was suspended.
    const depositor = await signedIn(appScopes, patient);
    await publisher.sandbox.suspendApp(clientId);
    await depositor.mes.fhir.create('DocumentReference', document());
    await expect
      .poll(async () => (await server.app.db.query<{ status: string; status_reason: string }>('SELECT status, status_reason FROM subscriptions WHERE id = $1', [subscription.id]))[0], { timeout: 3000 })
      .toEqual({ status: 'off', status_reason: 'the grant ended (app_suspended)' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((item) => item.path === path)).toHaveLength(1);
    expect(await server.app.db.query(`SELECT 1 FROM subscription_events WHERE subscription_id = $1 AND state = 'pending'`, [subscription.id])).toEqual([]);
  });

  it('ends the subscriptions of a grant the patient withdraws at once', async () => {
    const { mes, patient } = await signedIn();
    const subscription = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${freshPath()}` });
    const [grant] = await server.app.db.query<{ id: string }>('SELECT grant_id AS id FROM subscriptions WHERE id = $1', [subscription.id]);
    const consent = await import('../../catalog-api/src/modules/consent/index.js');
    expect(await consent.withdrawOwnGrant(server.app.db, grant!.id, patient)).toBe(true);
    const [row] = await server.app.db.query<{ status: string }>('SELECT status FROM subscriptions WHERE id = $1', [subscription.id]);
    expect(row!.status).toBe('off');
  });

  it('lists and deletes the app’s own subscriptions', async () => {
    const { mes } = await signedIn();
    const path = freshPath();
    const one = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}`, heartbeatPeriod: 3600 });
    const two = await mes.subscriptions.create({ topic: 'new-measurement', endpoint: `${receiver.origin}${path}` });
    const listed = await mes.subscriptions.list();
    expect(listed.entry!.map((entry) => entry.resource!.id)).toEqual([two.id, one.id]);
    await mes.subscriptions.delete(one.id!);
    expect((await mes.subscriptions.read(one.id!)).status).toBe('off');
    expect((await mes.subscriptions.list({ status: 'off' })).entry!.map((entry) => entry.resource!.id)).toEqual([one.id]);
  });
});

describe('security rules', () => {
  it('hides a subscription from another app and from another patient (404)', async () => {
    const owner = await signedIn();
    const subscription = await owner.mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${freshPath()}` });
    const otherApp = await signedIn(appScopes, owner.patient);
    await expect(otherApp.mes.subscriptions.read(subscription.id!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(otherApp.mes.subscriptions.delete(subscription.id!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(otherApp.mes.subscriptions.status(subscription.id!)).rejects.toBeInstanceOf(NotFoundError);
    expect((await otherApp.mes.subscriptions.list()).entry).toBeUndefined();
    const otherPatient = await signedIn(appScopes, undefined, { clientId: owner.clientId });
    await expect(otherPatient.mes.subscriptions.read(subscription.id!)).rejects.toBeInstanceOf(NotFoundError);
    expect((await owner.mes.subscriptions.read(subscription.id!)).status).not.toBe('off');
  });

  it('refuses a topic whose resources the token cannot read (403)', async () => {
    const { mes } = await signedIn(['patient/Observation.crs']);
    // The SDK refuses before sending; the server refuses what a client sends anyway.
    await expect(mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}/hooks` })).rejects.toBeInstanceOf(MesError);
    // Without scopes given to the client, the SDK cannot check: the server refuses.
    const { clientId } = await newApp(['patient/Observation.crs']);
    const unchecked = createPublisherClient({ baseUrl: server.url, clientId, redirectUri });
    await unchecked.sandbox.signIn({ patient: await newPatient(), scope: ['patient/Observation.crs'] });
    const refused = await unchecked.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}/hooks` }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect((refused as PermissionDeniedError).message).toContain('patient/DocumentReference.r');
    expect((await unchecked.subscriptions.list()).entry).toBeUndefined();
    // Reading the topic's resource is enough.
    expect((await unchecked.subscriptions.create({ topic: 'new-measurement', endpoint: `${receiver.origin}/hooks` })).status).toBe('requested');
  });

  it('refuses an endpoint the app did not register, and a full-resource payload (422)', async () => {
    const { mes } = await signedIn();
    const refused = await mes.subscriptions.create({ topic: 'new-document', endpoint: 'https://elsewhere.example/hooks' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).status).toBe(422);
    expect((refused as BadRequestError).message).toContain('registered notification endpoints');
    // A prefix that is not a path below the registered one.
    await expect(mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}/hooksevil` })).rejects.toBeInstanceOf(BadRequestError);
    expect((await mes.subscriptions.list()).entry).toBeUndefined();
  });

  it('refuses tampered bodies, another audience and old signatures', async () => {
    const { mes, clientId } = await signedIn();
    const path = freshPath();
    await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}` });
    const [handshake] = await waitFor(path, (items) => items.length >= 1);
    const headers = handshake!.headers as Record<string, string>;
    const ok = await verifyNotification({ headers, body: handshake!.body }, { issuer: server.url, clientId });
    expect(ok.type).toBe('handshake');
    const reason = (promise: Promise<unknown>) => promise.then(() => 'verified', (error: unknown) => (error instanceof NotificationVerificationError ? error.reason : String(error)));
    const tampered = Buffer.from(handshake!.body.toString().replace('"handshake"', '"heartbeat"'));
    expect(await reason(verifyNotification({ headers, body: tampered }, { issuer: server.url, clientId }))).toBe('bad_signature');
    expect(await reason(verifyNotification({ headers, body: handshake!.body }, { issuer: server.url, clientId: 'another-app' }))).toBe('wrong_audience');
    expect(await reason(verifyNotification({ headers, body: handshake!.body }, { issuer: server.url, clientId, now: () => Date.now() + 600_000 }))).toBe('expired');
    expect(await reason(verifyNotification({ headers: {}, body: handshake!.body }, { issuer: server.url, clientId }))).toBe('missing_signature');
  });
});

describe('delivery', () => {
  it('retries with backoff until the endpoint answers, logging each attempt', async () => {
    const { mes } = await signedIn();
    const path = freshPath();
    failures.set(path, [503, 500]);
    const subscription = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}` });
    await waitFor(path, (items) => items.length >= 3);
    await expect.poll(async () => (await mes.subscriptions.read(subscription.id!)).status, { timeout: 3000 }).toBe('active');
    const log = await server.app.db.query<{ http_status: number }>('SELECT http_status FROM subscription_deliveries WHERE subscription_id = $1 ORDER BY id', [subscription.id]);
    expect(log.map((row) => row.http_status)).toEqual([503, 500, 200]);
  });

  it('goes to error after the last attempt, says why in $status, and comes back on success', async () => {
    const { mes } = await signedIn();
    const path = freshPath();
    failures.set(path, [500, 500, 500]);
    const subscription = await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${path}` });
    await expect.poll(async () => (await mes.subscriptions.read(subscription.id!)).status, { timeout: 4000 }).toBe('error');
    const status = await mes.subscriptions.status(subscription.id!);
    expect(JSON.stringify(status)).toContain('the endpoint answered 500');
    await mes.fhir.create('DocumentReference', document());
    await expect.poll(async () => (await mes.subscriptions.read(subscription.id!)).status, { timeout: 4000 }).toBe('active');
  });
});

describe('the sandbox makes things happen', () => {
  it('notifies of each topic the sandbox triggers (a message only to the app it is written to), and of a booking changed', async () => {
    const scopes = ['patient/DocumentReference.rs', 'patient/Observation.rs', 'patient/Appointment.crus', 'patient/Communication.crs'];
    const { mes, clientId, patient } = await signedIn(scopes, undefined, await newApp(scopes));
    const other = await signedIn(scopes, patient, await newApp(scopes));
    const path = freshPath();
    const otherPath = freshPath();
    for (const topic of ['new-document', 'appointment', 'new-message', 'new-measurement'] as const) {
      await mes.subscriptions.create({ topic, endpoint: `${receiver.origin}${path}` });
    }
    await other.mes.subscriptions.create({ topic: 'new-message', endpoint: `${receiver.origin}${otherPath}` });
    await waitFor(path, (items) => items.length >= 4);
    await waitFor(otherPath, (items) => items.length >= 1);

    const written: string[] = [];
    for (const topic of ['new-document', 'appointment', 'new-message', 'new-measurement'] as const) {
      const event = await publisher.sandbox.triggerEvent(clientId, { topic, patient });
      // Only this app subscribed to these topics; the other app's message subscription is not told of a message to this app.
      expect(event).toMatchObject({ clientId, topic, patient, notified: 1 });
      written.push(event.resource);
    }
    const notifications = await waitFor(path, (items) => items.filter((item) => typeOf(item) === 'event-notification').length >= 4);
    const foci = await Promise.all(
      notifications.filter((item) => typeOf(item) === 'event-notification').map(async (item) => (await verifyNotification({ headers: item.headers as Record<string, string>, body: item.body }, { issuer: server.url, clientId })).events[0]!),
    );
    expect(foci.map((event) => `${event.resourceType}/${event.id}`).sort()).toEqual([...written].sort());
    // Each is read with the app's token; the message, from the patient, is in this app's conversation only.
    for (const event of foci) await expect(mes.fhir.read(event.resourceType as 'DocumentReference', event.id)).resolves.toMatchObject({ id: event.id });
    const message = foci.find((event) => event.resourceType === 'Communication')!;
    await expect(other.mes.fhir.read('Communication', message.id)).rejects.toBeInstanceOf(NotFoundError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((item) => item.path === otherPath && typeOf(item) === 'event-notification')).toHaveLength(0);

    // A booking the app reschedules is an appointment event too (the other app, subscribed to messages only, hears nothing).
    const booked = await mes.fhir.create('Appointment', {
      resourceType: 'Appointment',
      status: 'booked',
      start: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 16) + ':00Z',
      end: new Date(Date.now() + 30 * 86_400_000 + 1_800_000).toISOString().slice(0, 16) + ':00Z',
      participant: [{ actor: { display: 'Dr Claire Martin' }, status: 'accepted' }],
    });
    await mes.fhir.update('Appointment', { ...booked, id: booked.id!, status: 'cancelled', cancelationReason: { text: 'Empêchement' } });
    const appointmentEvents = await waitFor(path, (items) => items.filter((item) => typeOf(item) === 'event-notification').length >= 6);
    expect(appointmentEvents.length).toBeGreaterThanOrEqual(6);
  });

  it('counts in the traffic report the empty polls a subscription would have saved', async () => {
    const { mes, clientId } = await signedIn(['patient/DocumentReference.rs']);
    const nothingNew = { _lastUpdated: `gt${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}` };
    for (let i = 0; i < 3; i++) expect((await mes.fhir.search('DocumentReference', nothingNew)).items).toEqual([]);
    await mes.subscriptions.create({ topic: 'new-document', endpoint: `${receiver.origin}${freshPath()}` });
    await mes.fhir.search('DocumentReference', nothingNew);
    const report = await publisher.sandbox.report(clientId);
    expect(report.polling).toEqual({ searches: 4, emptySearches: 4, savedBySubscriptions: 3, byTopic: { 'new-document': { searches: 4, empty: 4, saved: 3 } } });
  });

  it('refuses an unknown patient, another publisher’s client and an unknown topic, and writes nothing', async () => {
    const { clientId, patient } = await signedIn();
    await expect(publisher.sandbox.triggerEvent(clientId, { topic: 'new-document', patient: 'nobody-here' })).rejects.toBeInstanceOf(NotFoundError);
    const stranger = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('Autre éditeur SAS'));
    const strangerClient = createPublisherClient({ baseUrl: server.url, apiKey: stranger.apiKey.key });
    await expect(strangerClient.sandbox.triggerEvent(clientId, { topic: 'new-document', patient })).rejects.toBeInstanceOf(NotFoundError);
    await expect(publisher.sandbox.triggerEvent(clientId, { topic: 'nothing' as 'new-document', patient })).rejects.toBeInstanceOf(BadRequestError);
    const documents = await server.app.db.query(`SELECT 1 FROM fhir_resources WHERE patient_id = $1 AND resource_type = 'DocumentReference'`, [patient]);
    expect(documents).toHaveLength(sampleRecord(patient).filter((item) => item.resource.resourceType === 'DocumentReference').length);
  });
});
