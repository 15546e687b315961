// The patient's agenda through the FHIR API: an app books (POST), reschedules, confirms and cancels
// (PUT) appointments; every rule of an appointment's life refused with an OperationOutcome that
// names the element; overlaps refused (409), also when two bookings race; an app changes only its
// own bookings; If-Match; the access history; and "Mon agenda", the patient's page.
import { beforeAll, describe, expect, it } from 'vitest';
import { insertResources } from '../src/modules/records/index.js';
import { useServer } from './helpers.js';
import { fhirRequest, patientToken, seedGuardianship, seedRecord, type FhirResult, type PatientSession } from './fhir-helpers.js';
import { pageBrowser } from './page-session.js';

const server = useServer();
const A = 'agenda-patient-a';
const B = 'agenda-patient-b';
const CHILD = 'agenda-child';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let booking: PatientSession;
let otherBooking: PatientSession;
let writeOnly: PatientSession;
let readOnly: PatientSession;
let patientB: PatientSession;

/** An instant `ms` from now, on the minute, as FHIR writes it. */
const at = (ms: number) => new Date(Math.floor((Date.now() + ms) / 60_000) * 60_000).toISOString();

/** A booked appointment of `patient`, `startIn` ms from now, lasting `minutes`. */
function appointment(patient: string, startIn: number, minutes = 30, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    description: 'Consultation de suivi',
    start: at(startIn),
    end: at(startIn + minutes * 60_000),
    participant: [
      { actor: { reference: `Patient/${patient}` }, status: 'accepted' },
      { actor: { display: 'Dr Claire Martin, médecin généraliste' }, status: 'accepted' },
    ],
    ...overrides,
  };
}

const post = (session: PatientSession, body: unknown) => fhirRequest(server(), session, 'POST', '/fhir/Appointment', { body });
const put = (session: PatientSession, body: { id?: unknown; [element: string]: unknown }, headers: Record<string, string> = {}) =>
  fhirRequest(server(), session, 'PUT', `/fhir/Appointment/${String(body.id)}`, { body, headers });

function expectRefused(result: FhirResult, status: number, code: string, expression?: string) {
  expect({ status: result.status, code: result.body?.issue?.[0]?.code }, JSON.stringify(result.body)).toEqual({ status, code });
  expect(result.body.resourceType).toBe('OperationOutcome');
  if (expression) expect(result.body.issue[0].expression).toEqual([expression]);
}

const countAppointments = async (patient: string) =>
  Number((await server().app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resources WHERE patient_id = $1 AND resource_type = 'Appointment'`, [patient]))[0]!.n);

beforeAll(async () => {
  await seedRecord(server(), A);
  await seedRecord(server(), B, { family: 'Bernard' });
  await seedRecord(server(), CHILD, { given: 'Léo', birthDate: '2019-04-02' });
  await seedGuardianship(server(), A, CHILD, null);
  booking = await patientToken(server(), A, 'patient/Appointment.crus');
  otherBooking = await patientToken(server(), A, 'patient/Appointment.crus');
  writeOnly = await patientToken(server(), A, 'patient/Appointment.cu');
  readOnly = await patientToken(server(), A, 'patient/Appointment.rs');
  patientB = await patientToken(server(), B, 'patient/Appointment.crus');
});

describe('booking', () => {
  it('books an appointment for the token’s patient: 201 with its version, the patient among the participants, in search and in the history', async () => {
    const { participant, ...rest } = appointment(A, 10 * DAY) as { participant: unknown[] };
    const created = await post(booking, { ...rest, participant: participant.slice(1), patientInstruction: 'Apporter la lettre du cardiologue.' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('location')).toBe(`${server().url}/fhir/Appointment/${created.body.id}/_history/1`);
    expect(created.body.participant[0]).toEqual({ actor: { reference: `Patient/${A}` }, status: 'accepted' });
    expect(Date.parse(created.body.created)).toBeGreaterThan(Date.now() - 60_000);
    const found = await fhirRequest(server(), booking, 'GET', `/fhir/Appointment?_id=${created.body.id}`);
    expect(found.body.entry.map((entry: { resource: { id: string } }) => entry.resource.id)).toEqual([created.body.id]);
    const history = await server().app.db.query<{ interaction: string; app_id: string }>(
      `SELECT interaction, app_id FROM access_history WHERE patient_id = $1 AND resource_type = 'Appointment' AND interaction = 'create'`,
      [A],
    );
    expect(history).toContainEqual({ interaction: 'create', app_id: booking.appId });
  });

  it.each([
    ['in the past', appointment(A, -2 * HOUR), 'value', 'Appointment.start'],
    ['more than two years ahead', appointment(A, 800 * DAY), 'value', 'Appointment.start'],
    ['ending before it starts', { ...appointment(A, 20 * DAY), end: at(20 * DAY - HOUR) }, 'value', 'Appointment.end'],
    ['longer than 12 hours', appointment(A, 20 * DAY, 13 * 60), 'value', 'Appointment.end'],
    ['with a start and no end', { ...appointment(A, 20 * DAY), end: undefined }, 'required', 'Appointment.end'],
    ['booked without a time', { ...appointment(A, 20 * DAY), start: undefined, end: undefined }, 'required', 'Appointment.start'],
    ['already fulfilled', appointment(A, 20 * DAY, 30, { status: 'fulfilled' }), 'value', 'Appointment.status'],
    ['with nobody but the patient', appointment(A, 20 * DAY, 30, { participant: [{ actor: { reference: `Patient/${A}` }, status: 'accepted' }] }), 'required', 'Appointment.participant'],
    ['with a participant without status', appointment(A, 20 * DAY, 30, { participant: [{ actor: { display: 'Dr Martin' } }] }), 'required', 'Appointment.participant[0].status'],
    ['with a participant of neither actor nor type', appointment(A, 20 * DAY, 30, { participant: [{ status: 'accepted' }] }), 'required', 'Appointment.participant[0]'],
    ['with an observation as participant', appointment(A, 20 * DAY, 30, { participant: [{ actor: { reference: 'Observation/x' }, status: 'accepted' }] }), 'value', 'Appointment.participant[0].actor.reference'],
    ['with a cancellation reason while booked', appointment(A, 20 * DAY, 30, { cancelationReason: { text: 'Empêchement' } }), 'invalid', 'Appointment.cancelationReason'],
    ['with an empty description', appointment(A, 20 * DAY, 30, { description: ' ' }), 'invalid', 'Appointment.description'],
  ])('refuses an appointment %s, naming the element, and writes nothing', async (_label, body, code, expression) => {
    const before = await countAppointments(A);
    const refused = await post(booking, body);
    expectRefused(refused, code === 'invalid' && expression === 'Appointment.description' ? 400 : 422, code, expression);
    expect(await countAppointments(A)).toBe(before);
  });

  it('refuses an appointment for another patient (403) and one the schema refuses (400)', async () => {
    expectRefused(await post(booking, appointment(B, 20 * DAY)), 403, 'forbidden');
    const unknownStatus = await post(booking, appointment(A, 20 * DAY, 30, { status: 'confirmed' }));
    expect(unknownStatus.status).toBe(400);
    expect(unknownStatus.body.resourceType).toBe('OperationOutcome');
  });

  it('refuses a slot that overlaps another booked appointment (409 conflict); back-to-back and cancelled ones do not count', async () => {
    const first = await post(booking, appointment(A, 30 * DAY, 60));
    expect(first.status).toBe(201);
    const clash = await post(otherBooking, appointment(A, 30 * DAY + 30 * 60_000, 60));
    expectRefused(clash, 409, 'conflict', 'Appointment.start');
    expect(clash.body.issue[0].diagnostics).toContain(first.body.start);
    expect((await post(otherBooking, appointment(A, 30 * DAY + HOUR, 30))).status).toBe(201);
    // Another patient's agenda is their own.
    expect((await post(patientB, appointment(B, 30 * DAY, 60))).status).toBe(201);
    // Cancelled, the slot is free again.
    const cancelled = await put(booking, { ...first.body, status: 'cancelled', cancelationReason: { text: 'Empêchement du patient' } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect((await post(otherBooking, appointment(A, 30 * DAY, 30))).status).toBe(201);
  });

  it('books one of two racing bookings of the same slot, never both', async () => {
    const results = await Promise.all([post(booking, appointment(A, 40 * DAY)), post(otherBooking, appointment(A, 40 * DAY + 10 * 60_000))]);
    expect(results.map((result) => result.status).sort()).toEqual([201, 409]);
  });

  it('needs patient/Appointment.c (403 insufficient_scope), before looking at the body', async () => {
    const refused = await post(readOnly, { resourceType: 'Appointment', status: 'nonsense' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('changing a booking', () => {
  let booked: any;
  beforeAll(async () => {
    booked = (await post(booking, appointment(A, 50 * DAY))).body;
  });

  it('reschedules with If-Match, refuses a stale version (412), and makes no new version for the same content', async () => {
    const moved = await put(booking, { ...booked, start: at(51 * DAY), end: at(51 * DAY + HOUR) }, { 'if-match': 'W/"1"' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.headers.get('etag')).toBe('W/"2"');
    expect(moved.body.meta.versionId).toBe('2');
    expect(moved.body.start).toBe(at(51 * DAY));
    const stale = await put(booking, { ...booked, description: 'Autre motif' }, { 'if-match': 'W/"1"' });
    expectRefused(stale, 412, 'conflict');
    expect((await put(booking, moved.body, { 'if-match': 'nonsense' })).status).toBe(412);
    // A list names the version when one of its tags does, and * names any (FHIR's ETags compare weakly).
    expect((await put(booking, moved.body, { 'if-match': 'W/"9", W/"2"' })).status).toBe(200);
    expect((await put(booking, moved.body, { 'if-match': '*' })).status).toBe(200);
    const again = await put(booking, moved.body);
    expect(again.status).toBe(200);
    expect(again.body.meta.versionId).toBe('2');
    const read = await fhirRequest(server(), booking, 'GET', `/fhir/Appointment/${booked.id}`);
    expect(read.body).toEqual(moved.body);
    booked = moved.body;
  });

  it('refuses a reschedule into the past or onto another booking', async () => {
    expectRefused(await put(booking, { ...booked, start: at(-DAY), end: at(-DAY + HOUR) }), 422, 'value', 'Appointment.start');
    const other = await post(otherBooking, appointment(A, 60 * DAY));
    expectRefused(await put(booking, { ...booked, start: other.body.start, end: other.body.end }), 409, 'conflict');
  });

  it('follows the life of an appointment: not fulfilled before it starts, cancelled only with a reason, then final', async () => {
    expectRefused(await put(booking, { ...booked, status: 'fulfilled' }), 422, 'business-rule', 'Appointment.status');
    expectRefused(await put(booking, { ...booked, status: 'proposed' }), 422, 'business-rule', 'Appointment.status');
    expectRefused(await put(booking, { ...booked, status: 'cancelled' }), 422, 'required', 'Appointment.cancelationReason');
    const cancelled = await put(booking, {
      ...booked,
      status: 'cancelled',
      cancelationReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason', code: 'pat' }], text: 'Le patient a un empêchement' },
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expectRefused(await put(booking, { ...cancelled.body, status: 'booked', cancelationReason: undefined }), 422, 'business-rule', 'Appointment.status');
    expectRefused(await put(booking, { ...cancelled.body, description: 'Changé' }), 422, 'business-rule');
  });

  it('marks an appointment that has started as fulfilled', async () => {
    // A booking that has started: written as the care team's record would be (the API books only ahead).
    const started = { ...appointment(A, -20 * 60_000), id: 'agenda-started' } as const;
    await insertResources(server().app.db, [{ patientId: A, resource: started as never, sourceAppId: booking.appId }]);
    const done = await put(booking, { ...started, status: 'fulfilled' });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('fulfilled');
  });

  it('changes only the app’s own bookings: 403 for another app that may read them, 404 for one that may not', async () => {
    const mine = (await post(booking, appointment(A, 70 * DAY))).body;
    expectRefused(await put(otherBooking, { ...mine, description: 'Pris par une autre application' }), 403, 'forbidden');
    expectRefused(await put(writeOnly, { ...mine, description: 'Pris par une autre application' }), 404, 'not-found');
    // Another patient's token finds nothing with this id.
    expectRefused(await put(patientB, { ...mine, participant: [{ actor: { display: 'Dr X' }, status: 'accepted' }] }), 404, 'not-found');
    // Nor does the care team's record belong to any app.
    expectRefused(await put(booking, { ...appointment(A, 5 * DAY), id: `${A}-appointment-1` }), 403, 'forbidden');
    const unchanged = await fhirRequest(server(), booking, 'GET', `/fhir/Appointment/${mine.id}`);
    expect(unchanged.body.meta.versionId).toBe('1');
  });

  it('needs patient/Appointment.u, and the id of the URL in the body', async () => {
    const mine = (await post(booking, appointment(A, 80 * DAY))).body;
    const noUpdate = await patientToken(server(), A, 'patient/Appointment.crs');
    const refused = await put(noUpdate, mine);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const mismatch = await fhirRequest(server(), booking, 'PUT', `/fhir/Appointment/${mine.id}`, { body: { ...mine, id: 'another-id' } });
    expectRefused(mismatch, 400, 'invalid', 'Appointment.id');
    expectRefused(await put(booking, { ...mine, id: 'does-not-exist' }), 404, 'not-found');
  });

  it('records each change in the access history, and the CapabilityStatement says what Appointment allows', async () => {
    const updates = await server().app.db.query(`SELECT 1 FROM access_history WHERE patient_id = $1 AND interaction = 'update' AND app_id = $2`, [A, booking.appId]);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    const metadata = await fetch(`${server().url}/fhir/metadata`).then((response) => response.json());
    const described = metadata.rest[0].resource.find((resource: { type: string }) => resource.type === 'Appointment');
    expect(described.interaction.map((i: { code: string }) => i.code).sort()).toEqual(['create', 'read', 'search-type', 'update']);
    expect(described.updateCreate).toBe(false);
  });
});

describe('Mon agenda', () => {
  let soon: any;
  beforeAll(async () => {
    soon = (await post(booking, appointment(A, 20 * HOUR, 30, { patientInstruction: 'Venir à jeun.' }))).body;
    await insertResources(server().app.db, [{ patientId: CHILD, id: 'agenda-child-visit', resource: appointment(CHILD, 15 * DAY, 20, { description: 'Vaccin ROR, 2e dose' }) as never }]);
  });

  it('sends a visitor without a session to sign in', async () => {
    const visitor = await pageBrowser(server).get('/patient/agenda');
    expect(visitor.status).toBe(303);
    expect(visitor.location).toBe('/patient/sign-in?return_to=%2Fpatient%2Fagenda');
  });

  it('shows the reminder, the upcoming appointments with the app that added each, the child’s, and the cancelled ones with their reason', async () => {
    const parent = pageBrowser(server);
    await parent.signIn(A, '/patient/agenda');
    const page = await parent.get('/patient/agenda');
    expect(page.status).toBe(200);
    const text = page.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const reminders = text.slice(text.indexOf('Rappels'), text.indexOf('À venir'));
    // The care team's appointment of the sample record may fall within the two days too, depending on the day.
    expect(reminders).toMatch(/(Un rendez-vous|\d rendez-vous) dans les deux jours/);
    expect(reminders).toContain('Venir à jeun.');
    expect(page.html).toContain('aria-current="page">Mon agenda');
    expect(text).toContain('Ajouté par l’application');
    expect(text).toContain('Transmis par votre équipe de soins');
    expect(text).toContain('Pour Léo');
    expect(text).toContain('Vaccin ROR, 2e dose');
    expect(text).toContain('Motif de l’annulation : Le patient a un empêchement');
    expect(soon.status).toBe('booked');
    // A guardian may look at one child's agenda only, and at nobody else's.
    const child = await parent.get(`/patient/agenda?for=${CHILD}`);
    expect(child.status).toBe(200);
    expect(child.html).toContain('Vaccin ROR, 2e dose');
    expect(child.html).not.toContain('Venir à jeun.');
    expect((await parent.get(`/patient/agenda?for=${B}`)).status).toBe(403);
    expect((await parent.get('/patient/agenda?for=bad%20id')).status).toBe(400);
  });

  it('is in English too', async () => {
    const english = pageBrowser(server, { cookie: 'mes_lang=en' });
    await english.signIn(A, '/patient/agenda');
    const page = await english.get('/patient/agenda');
    expect(page.html).toContain('My agenda');
    expect(page.html).toMatch(/(An appointment|\d appointments) within two days/);
  });
});

