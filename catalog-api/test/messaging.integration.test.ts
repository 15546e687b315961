// Secure messaging between an app's care team and the patient: the app sends a message with files
// (POST /fhir/Communication), every rule refused with an OperationOutcome naming the element; an
// app sees only its own conversation; the patient reads it, downloads a file and answers in "Ma
// messagerie"; the app reads the answer; and once the patient withdraws the access, neither side
// can write any more. Every refusal changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { withdrawOwnGrant } from '../src/modules/consent/index.js';
import { insertResources } from '../src/modules/records/index.js';
import { useServer } from './helpers.js';
import { fhirRequest, patientToken, seedGuardianship, seedRecord, type FhirResult, type PatientSession } from './fhir-helpers.js';
import { pageBrowser } from './page-session.js';

const server = useServer();
const A = 'messaging-patient-a';
const B = 'messaging-patient-b';
const CHILD = 'messaging-child';

const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n');
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

let teleconsult: PatientSession;
let otherApp: PatientSession;
let readOnly: PatientSession;
let patientB: PatientSession;

function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Communication',
    status: 'completed',
    sender: { reference: 'Practitioner/dr-martin', display: 'Dr Claire Martin' },
    topic: { text: 'Suite de votre téléconsultation' },
    payload: [
      { contentString: 'Bonjour, voici votre ordonnance et la photo de la notice.\nBonne journée.' },
      { contentAttachment: { contentType: 'application/pdf', title: 'Ordonnance du 8 décembre.pdf', data: pdf.toString('base64') } },
      { contentAttachment: { contentType: 'image/png', title: 'Notice', data: png.toString('base64') } },
    ],
    ...overrides,
  };
}

const send = (session: PatientSession, body: unknown) => fhirRequest(server(), session, 'POST', '/fhir/Communication', { body });
const search = (session: PatientSession, query = '') => fhirRequest(server(), session, 'GET', `/fhir/Communication${query}`);
const countMessages = async (patient: string) =>
  Number((await server().app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resources WHERE patient_id = $1 AND resource_type = 'Communication'`, [patient]))[0]!.n);

function expectRefused(result: FhirResult, status: number, code: string, expression?: string) {
  expect({ status: result.status, code: result.body?.issue?.[0]?.code }, JSON.stringify(result.body)).toEqual({ status, code });
  if (expression) expect(result.body.issue[0].expression).toEqual([expression]);
}

beforeAll(async () => {
  await seedRecord(server(), A);
  await seedRecord(server(), B, { family: 'Bernard' });
  await seedRecord(server(), CHILD, { given: 'Léo', birthDate: '2019-04-02' });
  await seedGuardianship(server(), A, CHILD, null);
  teleconsult = await patientToken(server(), A, 'patient/Communication.crs');
  otherApp = await patientToken(server(), A, 'patient/Communication.crs');
  readOnly = await patientToken(server(), A, 'patient/Communication.rs');
  patientB = await patientToken(server(), B, 'patient/Communication.crs');
});

describe('an app sends a message', () => {
  let sent: any;

  it('sends text and files to the token’s patient: 201, the patient as subject and recipient, sizes and hashes filled in, sent set', async () => {
    const created = await send(teleconsult, { ...message(), sent: '2020-01-01T00:00:00Z' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    sent = created.body;
    expect(sent.subject).toEqual({ reference: `Patient/${A}` });
    expect(sent.recipient).toEqual([{ reference: `Patient/${A}` }]);
    expect(Date.parse(sent.sent)).toBeGreaterThan(Date.now() - 60_000);
    expect(sent.payload[1].contentAttachment).toMatchObject({ size: pdf.length, hash: expect.any(String) });
    expect(sent.payload[2].contentAttachment.size).toBe(png.length);
  });

  it.each([
    ['a draft', message({ status: 'preparation' }), 422, 'value', 'Communication.status'],
    ['without a sender', message({ sender: undefined }), 422, 'required', 'Communication.sender'],
    ['written as the patient', message({ sender: { reference: `Patient/${A}` } }), 422, 'value', 'Communication.sender.reference'],
    ['to another patient', message({ recipient: [{ reference: `Patient/${B}` }] }), 403, 'forbidden', 'Communication.recipient[0]'],
    ['about another patient', message({ subject: { reference: `Patient/${B}` } }), 403, 'forbidden', 'Communication.subject'],
    ['without any part', message({ payload: undefined }), 422, 'required', 'Communication.payload'],
    ['with a part both text and file', message({ payload: [{ contentString: 'x', contentAttachment: { contentType: 'application/pdf', data: pdf.toString('base64') } }] }), 422, 'invalid', 'Communication.payload[0]'],
    ['with a GIF', message({ payload: [{ contentAttachment: { contentType: 'image/gif', data: 'R0lGODlh' } }] }), 422, 'code-invalid', 'Communication.payload[0].contentAttachment.contentType'],
    ['with a PDF said to be a PNG', message({ payload: [{ contentAttachment: { contentType: 'image/png', data: pdf.toString('base64') } }] }), 422, 'value', 'Communication.payload[0].contentAttachment.data'],
    ['with a wrong size', message({ payload: [{ contentAttachment: { contentType: 'application/pdf', data: pdf.toString('base64'), size: 3 } }] }), 422, 'value', 'Communication.payload[0].contentAttachment.size'],
    // The schema bounds one file's base64 (2 MiB decoded); the platform, the files of a message together.
    ['with a file over 2 MiB', message({ payload: [{ contentAttachment: { contentType: 'application/pdf', data: Buffer.concat([pdf, Buffer.alloc(2 * 1024 * 1024)]).toString('base64') } }] }), 400, 'invalid', 'Communication.payload[0].contentAttachment.data'],
    ['with files over 3 MiB in all', message({ payload: [0, 1].map(() => ({ contentAttachment: { contentType: 'application/pdf', data: Buffer.concat([pdf, Buffer.alloc(1.55 * 1024 * 1024)]).toString('base64') } })) }), 422, 'value', 'Communication.payload[1].contentAttachment'],
    ['already received', message({ received: '2026-12-01T10:00:00Z' }), 422, 'invalid', 'Communication.received'],
  ])('refuses a message %s, naming the element, and stores nothing', async (_label, body, status, code, expression) => {
    const before = await countMessages(A);
    expectRefused(await send(teleconsult, body), status, code, expression);
    expect(await countMessages(A)).toBe(before);
  });

  it('answers a message of the same conversation only', async () => {
    const reply = await send(teleconsult, message({ inResponseTo: [{ reference: `Communication/${sent.id}` }], payload: [{ contentString: 'Un complément.' }] }));
    expect(reply.status).toBe(201);
    expectRefused(await send(otherApp, message({ inResponseTo: [{ reference: `Communication/${sent.id}` }] })), 422, 'value', 'Communication.inResponseTo[0]');
  });

  it('needs patient/Communication.c to send, .s to search', async () => {
    const refused = await send(readOnly, message());
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const noMessages = await patientToken(server(), A, 'patient/Observation.rs');
    expect((await search(noMessages)).status).toBe(403);
  });

  it('shows an app only its own conversation, whatever its scopes, and records every read in the access history', async () => {
    const own = await search(teleconsult, '?_sort=date');
    expect(own.body.entry.map((entry: any) => entry.resource.id)[0]).toBe(sent.id);
    expect((await search(otherApp)).body.entry).toBeUndefined();
    expectRefused(await fhirRequest(server(), otherApp, 'GET', `/fhir/Communication/${sent.id}`), 404, 'not-found');
    expectRefused(await fhirRequest(server(), patientB, 'GET', `/fhir/Communication/${sent.id}`), 404, 'not-found');
    const read = await fhirRequest(server(), readOnly, 'GET', `/fhir/Communication/${sent.id}`);
    expect(read.status).toBe(404);
    const history = await server().app.db.query<{ interaction: string; app_id: string; resource_count: number }>(
      `SELECT interaction, app_id, resource_count FROM access_history WHERE patient_id = $1 AND resource_type = 'Communication' ORDER BY seq`,
      [A],
    );
    expect(history.filter((entry) => entry.app_id === teleconsult.appId).map((entry) => entry.interaction)).toEqual(expect.arrayContaining(['create', 'search']));
    expect(history.filter((entry) => entry.app_id === otherApp.appId && entry.interaction === 'read').map((entry) => Number(entry.resource_count))).toEqual([0]);
  });
});

describe('Ma messagerie', () => {
  it('lists the conversation, shows the messages with their files, and sends the patient’s answer to the app', async () => {
    const patient = pageBrowser(server);
    await patient.signIn(A, '/patient/messages');
    const list = await patient.get('/patient/messages');
    expect(list.status).toBe(200);
    expect(list.html).toContain(`href="/patient/messages/${teleconsult.appId}"`);
    expect(list.html).toContain('aria-current="page">Ma messagerie');

    const conversation = await patient.get(`/patient/messages/${teleconsult.appId}`);
    expect(conversation.status).toBe(200);
    expect(conversation.html).toContain('Bonjour, voici votre ordonnance et la photo de la notice.<br>Bonne journée.');
    expect(conversation.html).toContain('Dr Claire Martin');
    const link = /href="(\/patient\/messages\/[^"]+\/files\/1)"/.exec(conversation.html)![1]!;
    const file = await patient.get(link);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="Ordonnance-du-8-decembre.pdf"');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(file.bytes).equals(pdf)).toBe(true);
    expect((await patient.get(link.replace(/files\/1$/, 'files/0'))).status).toBe(404);

    const csrf = /name="csrf_token" value="([^"]+)"/.exec(conversation.html)![1]!;
    const answered = await patient.post(`/patient/messages/${teleconsult.appId}`, { csrf_token: csrf, text: 'Merci docteur, je passe à la pharmacie ce soir.' });
    expect(answered.status).toBe(303);
    expect(answered.location).toBe(`/patient/messages/${teleconsult.appId}?notice=sent`);
    const latest = await search(teleconsult, '?_sort=-date&_count=1');
    const reply = latest.body.entry[0].resource;
    expect(reply).toMatchObject({ sender: { reference: `Patient/${A}` }, subject: { reference: `Patient/${A}` }, payload: [{ contentString: 'Merci docteur, je passe à la pharmacie ce soir.' }] });
    expect(reply.inResponseTo[0].reference).toMatch(/^Communication\//);
    // The other app never sees it.
    expect((await search(otherApp)).body.entry).toBeUndefined();
  });

  it('refuses an answer without the CSRF token, for someone else, or empty, and sends nothing', async () => {
    const patient = pageBrowser(server);
    await patient.signIn(A, '/patient/messages');
    const page = await patient.get(`/patient/messages/${teleconsult.appId}`);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!;
    const before = await countMessages(A);
    expect((await patient.post(`/patient/messages/${teleconsult.appId}`, { csrf_token: 'wrong', text: 'x' })).status).toBe(403);
    expect((await patient.post(`/patient/messages/${teleconsult.appId}`, { csrf_token: csrf, text: 'x', for: B })).status).toBe(403);
    expect((await patient.post(`/patient/messages/${teleconsult.appId}`, { csrf_token: csrf, text: '   ' })).status).toBe(400);
    expect((await patient.post(`/patient/messages/${otherApp.appId}-unknown`, { csrf_token: csrf, text: 'x' })).status).toBe(403);
    expect(await countMessages(A)).toBe(before);
    // Another person finds neither the conversation nor its files.
    const stranger = pageBrowser(server);
    await stranger.signIn(B, '/patient/messages');
    expect((await stranger.get(`/patient/messages/${teleconsult.appId}`)).status).toBe(404);
    expect((await stranger.get('/patient/messages/not-an-app')).status).toBe(404);
    const link = /href="(\/patient\/messages\/[^"]+\/files\/1)"/.exec(page.html)![1]!;
    expect((await stranger.get(link)).status).toBe(404);
    expect((await stranger.get(`/patient/messages?for=${A}`)).status).toBe(403);
  });

  it('stops both directions at once when the patient withdraws the app’s access', async () => {
    expect(await withdrawOwnGrant(server().app.db, teleconsult.grantId, A)).toBe(true);
    const refused = await send(teleconsult, message({ payload: [{ contentString: 'Encore un message ?' }] }));
    expect(refused.status).toBe(401);
    expect((await search(teleconsult)).status).toBe(401);
    const patient = pageBrowser(server);
    await patient.signIn(A, '/patient/messages');
    const page = await patient.get(`/patient/messages/${teleconsult.appId}`);
    expect(page.status).toBe(200);
    expect(page.html, page.html).toContain('Merci docteur');
    expect(page.html).not.toContain('name="text"');
    expect(page.html).toContain('vous ne pouvez plus lui écrire, et elle ne peut plus vous écrire');
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.html)![1]!;
    const before = await countMessages(A);
    expect((await patient.post(`/patient/messages/${teleconsult.appId}`, { csrf_token: csrf, text: 'Vous me lisez ?' })).status).toBe(403);
    expect(await countMessages(A)).toBe(before);
  });

  it('lets a guardian write for a child, in the child’s conversation', async () => {
    const childApp = await patientToken(server(), CHILD, 'patient/Communication.crs');
    expect((await send(childApp, message({ payload: [{ contentString: 'Le carnet de santé de Léo est à jour.' }] }))).status).toBe(201);
    // The sandbox's authorization for the child is given by the child here, so the guardian's list is the child's conversation through `for`.
    const parent = pageBrowser(server);
    await parent.signIn(A, '/patient/messages');
    const page = await parent.get(`/patient/messages/${childApp.appId}?for=${CHILD}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Le carnet de santé de Léo est à jour.');
    expect(page.html).toContain('Pour Léo');
  });

  it('shows what the care team sent through no app, read-only, and no app sees it', async () => {
    await insertResources(server().app.db, [
      {
        patientId: B,
        id: 'messaging-care-team-1',
        resource: {
          resourceType: 'Communication',
          status: 'completed',
          subject: { reference: `Patient/${B}` },
          topic: { text: 'Vos résultats d’analyse' },
          sent: '2026-12-01T09:00:00Z',
          sender: { display: 'Dr Lefèvre' },
          recipient: [{ reference: `Patient/${B}` }],
          payload: [{ contentString: 'Vos résultats sont normaux.' }],
        },
      },
    ]);
    const patient = pageBrowser(server);
    await patient.signIn(B, '/patient/messages');
    const list = await patient.get('/patient/messages');
    expect(list.html).toContain('href="/patient/messages/equipe-de-soins"');
    const page = await patient.get('/patient/messages/equipe-de-soins');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Vos résultats sont normaux.');
    expect(page.html).toContain('messagerie sécurisée de santé');
    expect(page.html).not.toContain('name="text"');
    expect((await search(patientB)).body.entry ?? []).toEqual([]);
    expectRefused(await fhirRequest(server(), patientB, 'GET', '/fhir/Communication/messaging-care-team-1'), 404, 'not-found');
  });

  it('is in English too', async () => {
    const english = pageBrowser(server, { cookie: 'mes_lang=en' });
    await english.signIn(A, '/patient/messages');
    const page = await english.get('/patient/messages');
    expect(page.html).toContain('<h1>My messages</h1>');
  });
});
