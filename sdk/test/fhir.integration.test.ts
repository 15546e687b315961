// The SDK's OAuth client and FHIR calls against the real server in sandbox mode (in-process, port
// 0): the pre-approved and the browser-style code flows, typed reads, searches that page, creates
// that never run twice, granular scopes, and the ends of access (withdrawal, suspension, expiry).
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import {
  ConflictError,
  ConsentWithdrawnError,
  createPublisherClient,
  MesError,
  OAuthError,
  PermissionDeniedError,
  ReauthorizationRequiredError,
  type PublisherClient,
} from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../catalog-api/test/fhir-helpers.js';
import { appInput, publisherRegistration } from './helpers/fixtures.js';
import { pageBrowser } from '../../catalog-api/test/page-session.js';

let server: TestServer;
let publisher: PublisherClient;
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
let patientCount = 0;

/** A patient of its own for each test, with the sample record. */
async function newPatient(): Promise<string> {
  patientCount += 1;
  const id = `sdk-fhir-${process.pid}-${patientCount}`;
  await records.insertResources(server.app.db, sampleRecord(id));
  return id;
}

const appScopes = [
  'patient/Immunization.rs',
  'patient/Observation.crs',
  'patient/Condition.rs',
  'patient/Patient.rs',
  'offline_access',
];

/** An app registered for `scopes`, and its public client's id. */
async function newApp(scopes: readonly string[] = appScopes): Promise<{ appId: string; clientId: string }> {
  const app = await publisher.apps.create(appInput({ scopes: scopes.map((scope) => ({ scope, justification: 'Pour les tests du SDK.' })) }));
  const [client] = (await publisher.clients.list(app.id)).items;
  return { appId: app.id, clientId: client!.clientId };
}

beforeAll(async () => {
  server = await startTestServer();
  const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('SDK FHIR SAS'));
  publisher = createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key });
});

afterAll(async () => {
  await server?.close();
});

describe('authorization and FHIR calls', () => {
  it('signs in a sandbox patient and reads their vaccinations, typed', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs', 'patient/Patient.rs'] });
    const info = await mes.sandbox.signIn({ patient });
    expect(info).toMatchObject({ audience: 'patient', patient, scopes: ['patient/Immunization.rs', 'patient/Patient.rs'], refreshable: false });

    const vaccinations = await mes.fhir.search('Immunization', { _sort: 'date' }).all({ limit: 10 });
    expect(vaccinations.map((immunization) => immunization.vaccineCode.coding?.[0]?.display)).toEqual(['dTP', 'Grippe']);
    const one = await mes.fhir.read('Immunization', vaccinations[0]!.id!);
    expect(one).toEqual(vaccinations[0]);
    const { data, response, requestId } = await mes.fhir.read('Patient', patient).withResponse();
    expect(data.name?.[0]?.family).toBe('Martin');
    expect(response.headers.get('content-type')).toContain('application/fhir+json');
    expect(requestId).toEqual(expect.any(String));
  });

  it('pages through a search: resources, pages and all({ limit })', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Observation.rs'] });
    await mes.sandbox.signIn({ patient });
    const first = await mes.fhir.search('Observation', { category: 'vital-signs', _count: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.bundle.resourceType).toBe('Bundle');
    const pages = [];
    for await (const page of mes.fhir.search('Observation', { category: 'vital-signs', _count: 2 }).pages()) pages.push(page.items.length);
    expect(pages).toEqual([2, 2, 2]);
    const all = [];
    for await (const observation of mes.fhir.search('Observation', { category: 'vital-signs', _count: 2 })) all.push(observation.id);
    expect(all).toHaveLength(6);
    await expect(mes.fhir.search('Observation', { _count: 2 }).all({ limit: 3 })).resolves.toHaveLength(3);
    await expect(mes.fhir.search('Observation', {}).all({ limit: 0 })).rejects.toThrow(/all\(\) needs a limit/);
    const range = await mes.fhir.search('Observation', { code: 'http://loinc.org|29463-7', date: ['ge2026-02-01', 'lt2026-04-01'] }).all({ limit: 10 });
    expect(range.map((observation) => observation.effectiveDateTime)).toEqual(['2026-03-15T08:00:00Z', '2026-02-15T08:00:00Z']);
  });

  it('creates an observation once, even when the answer is lost and the call retried', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    let dropped = false;
    // The first answer of the create is lost on the way back, as when a connection breaks.
    const losing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const request = new Request(input, init);
      if (!dropped && request.method === 'POST' && new URL(request.url).pathname === '/fhir/Observation') {
        dropped = true;
        throw new TypeError('fetch failed');
      }
      return response;
    };
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Observation.crs'], fetch: losing });
    await mes.sandbox.signIn({ patient });
    const created = await mes.fhir.create('Observation', {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Poids' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: '2026-11-30T08:00:00Z',
      valueQuantity: { value: 69.4, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    expect(dropped).toBe(true);
    expect(created.id).toEqual(expect.any(String));
    const weights = await mes.fhir.search('Observation', { code: 'http://loinc.org|29463-7', date: 'ge2026-11-30' }).all({ limit: 10 });
    expect(weights.map((observation) => observation.id)).toEqual([created.id]);
  });

  it('refuses, before any request, a type or interaction outside the scopes', async () => {
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs'] });
    const untyped = mes.fhir as unknown as { read(type: string, id: string): Promise<unknown>; create(type: string, body: unknown): Promise<unknown> };
    await expect(async () => untyped.read('Condition', 'x')).rejects.toThrow(/read of Condition is outside this client's scopes .*patient\/Condition\.r/);
    await expect(async () => untyped.create('Immunization', {})).rejects.toThrow(/is not a resource type the FHIR API accepts creates of/);
    await expect(async () => untyped.read('Immunization', '../x')).rejects.toThrow(MesError);
  });

  it('limits results to a granular scope, and maps a refused type to PermissionDeniedError', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp(['patient/Observation.rs?category=laboratory']);
    // Declared as a plain string[]: every type compiles. Condition is asked for but was not
    // registered by the app, so it is not granted: the server refuses it.
    const scope: string[] = ['patient/Observation.rs?category=laboratory', 'patient/Condition.rs'];
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope });
    await mes.sandbox.signIn({ patient });
    const observations = await mes.fhir.search('Observation').all({ limit: 50 });
    expect(observations.map((observation) => observation.code.coding?.[0]?.code).sort()).toEqual(['2093-3', '4548-4']);
    const refused = await mes.fhir.search('Condition').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, code: 'insufficient_scope' });
  });
});

describe('a booking app', () => {
  const inDays = (days: number, minutes = 0) => new Date(Math.floor(Date.now() / 60_000) * 60_000 + days * 86_400_000 + minutes * 60_000).toISOString();

  it('books, reschedules and cancels an appointment; overlaps and stale versions are ConflictErrors', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp(['patient/Appointment.crus']);
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Appointment.crus'] as const });
    await mes.sandbox.signIn({ patient });
    const booked = await mes.fhir.create('Appointment', {
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Téléconsultation de suivi',
      start: inDays(12),
      end: inDays(12, 20),
      participant: [{ actor: { reference: 'Practitioner/dr-martin', display: 'Dr Claire Martin' }, status: 'accepted' }],
    });
    expect(booked.participant?.[0]).toEqual({ actor: { reference: `Patient/${patient}` }, status: 'accepted' });
    expect(booked.meta?.versionId).toBe('1');

    const clash = await mes.fhir.create('Appointment', { ...booked, id: undefined, start: inDays(12, 10), end: inDays(12, 40) }).catch((error: unknown) => error);
    expect(clash).toBeInstanceOf(ConflictError);
    expect(clash).toMatchObject({ status: 409, code: 'conflict' });

    const moved = await mes.fhir.update('Appointment', { ...booked, id: booked.id!, start: inDays(13), end: inDays(13, 20) }, { ifMatch: true });
    expect(moved).toMatchObject({ start: inDays(13), meta: { versionId: '2' } });
    const stale = await mes.fhir.update('Appointment', { ...booked, id: booked.id!, description: 'Autre' }, { ifMatch: true }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale).toMatchObject({ status: 412 });

    const cancelled = await mes.fhir.update('Appointment', { ...moved, id: moved.id!, status: 'cancelled', cancelationReason: { text: 'Le patient a un empêchement' } }, { ifMatch: moved.meta!.versionId! });
    expect(cancelled.status).toBe('cancelled');
    const [found] = await mes.fhir.search('Appointment', { _id: booked.id! }).all({ limit: 1 });
    expect(found).toEqual(cancelled);
  });

  it('refuses an update before any request when the scopes do not allow it, or without an id', async () => {
    const { clientId } = await newApp(['patient/Appointment.crs']);
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Appointment.crs'] });
    const untyped = mes.fhir as unknown as { update(type: string, body: unknown): Promise<unknown> };
    await expect(async () => untyped.update('Appointment', { resourceType: 'Appointment', id: 'x', status: 'booked' })).rejects.toThrow(/update of Appointment is outside this client's scopes .*patient\/Appointment\.u/);
    await expect(async () => untyped.update('Observation', { id: 'x' })).rejects.toThrow(/is not a resource type the FHIR API accepts updates of/);
    const writer = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Appointment.u'] });
    await expect(async () => (writer.fhir as unknown as typeof untyped).update('Appointment', { resourceType: 'Appointment', status: 'booked' })).rejects.toThrow(/an update needs the resource's id/);
  });
});

describe('a messaging app', () => {
  it('sends the patient a message with a file, and reads the answer the patient wrote on their pages', async () => {
    const patient = await newPatient();
    const { clientId, appId } = await newApp(['patient/Communication.crs']);
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Communication.crs'] as const });
    await mes.sandbox.signIn({ patient });
    const prescription = Buffer.from('%PDF-1.4\n%ordonnance\n');
    const sent = await mes.fhir.create('Communication', {
      resourceType: 'Communication',
      status: 'completed',
      sender: { display: 'Dr Claire Martin' },
      payload: [
        { contentString: 'Voici votre ordonnance.' },
        { contentAttachment: { contentType: 'application/pdf', title: 'Ordonnance', data: prescription.toString('base64') } },
      ],
    });
    expect(sent.payload?.[1]?.contentAttachment?.size).toBe(prescription.length);

    // The patient answers in "Ma messagerie", as a browser would.
    const browser = pageBrowser(() => server);
    await browser.signIn(patient, '/patient/messages');
    const page = await browser.get(`/patient/messages/${appId}`);
    expect(page.html).toContain('Voici votre ordonnance.');
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!;
    expect((await browser.post(`/patient/messages/${appId}`, { csrf_token: csrf, text: 'Bien reçue, merci.' })).status).toBe(303);

    const conversation = await mes.fhir.search('Communication', { _sort: 'date' }).all({ limit: 10 });
    expect(conversation.map((message) => [message.sender?.reference ?? message.sender?.display, message.payload?.[0]?.contentString])).toEqual([
      ['Dr Claire Martin', 'Voici votre ordonnance.'],
      [`Patient/${patient}`, 'Bien reçue, merci.'],
    ]);
    expect(conversation[1]!.inResponseTo?.[0]?.reference).toBe(`Communication/${sent.id}`);
  });
});

describe('the ends of access', () => {
  it('refreshes an expired token once, then surfaces a withdrawal as ConsentWithdrawnError', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs', 'offline_access'] });
    const info = await mes.sandbox.signIn({ patient });
    expect(info.refreshable).toBe(true);
    await publisher.sandbox.expireTokens(clientId);
    await expect(mes.fhir.search('Immunization').all({ limit: 5 })).resolves.toHaveLength(2);
    expect(await mes.authorization()).toMatchObject({ refreshable: true });

    await publisher.sandbox.withdrawGrants(clientId, { patient });
    const error = await mes.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsentWithdrawnError);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error).toMatchObject({ reason: 'consent_withdrawn' });
    expect(await mes.authorization()).toBeUndefined();
  });

  it('stops at once when the app is suspended, and works again once it is reinstated', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs', 'offline_access'] });
    await mes.sandbox.signIn({ patient });
    await publisher.sandbox.suspendApp(clientId);
    const error = await mes.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error).toMatchObject({ reason: 'app_suspended' });
    // The grant outlives the suspension: reinstated, the app reads again without a new consent.
    await publisher.sandbox.reinstateApp(clientId);
    await expect(mes.fhir.search('Immunization').all({ limit: 5 })).resolves.toHaveLength(2);
  });

  it('needs a new authorization when a one-time access expires', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs'] });
    await mes.sandbox.signIn({ patient });
    await publisher.sandbox.expireTokens(clientId);
    const error = await mes.fhir.search('Immunization').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error).toMatchObject({ reason: 'access_expired' });
  });

  it('says so before any request when nobody authorized yet; the capability statement needs no token', async () => {
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs'] });
    await expect(mes.fhir.capabilities()).resolves.toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
    await expect(mes.fhir.search('Immunization')).rejects.toMatchObject({ name: 'ReauthorizationRequiredError', reason: 'not_authorized' });
  });
});

describe('the browser-style code flow', () => {
  it('checks state and iss, uses the state once, and maps a refusal to OAuthError', async () => {
    const patient = await newPatient();
    const { clientId } = await newApp();
    const mes = createPublisherClient({ baseUrl: server.url, clientId, redirectUri, scope: ['patient/Immunization.rs'] });
    const { url, state } = await mes.authorize({ loginHint: patient });
    // Pushed (PAR): the browser carries only the handle of the request.
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const redirect = await fetch(url, { redirect: 'manual' });
    const back = new URL(redirect.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe(state);

    const forged = new URL(back);
    forged.searchParams.set('iss', 'https://attacker.example');
    await expect(mes.handleCallback(forged)).rejects.toBeInstanceOf(OAuthError);
    // The state was used by the forged callback: the genuine one cannot be played after it.
    await expect(mes.handleCallback(back)).rejects.toMatchObject({ error: 'invalid_state' });

    const again = await mes.authorize({ loginHint: patient });
    const genuine = new URL((await fetch(again.url, { redirect: 'manual' })).headers.get('location')!);
    await expect(mes.handleCallback(genuine)).resolves.toMatchObject({ patient });
    await expect(mes.handleCallback(genuine)).rejects.toMatchObject({ error: 'invalid_state' });

    const refusedUrl = new URL(redirectUri);
    const pending = await mes.authorize();
    refusedUrl.search = new URLSearchParams({ error: 'access_denied', state: pending.state, iss: server.url }).toString();
    await expect(mes.handleCallback(refusedUrl)).rejects.toMatchObject({ name: 'OAuthError', error: 'access_denied' });
  });
});
