// The authorization rules of the FHIR API, each tried the way an app could break it: another
// patient's data by read, search, id, patient parameter, paging cursor and write; scopes per type
// and interaction; granular scopes as filters; the token, its proof and the grant behind it
// (withdrawal, suspension, account closure at the next request); a guardian whose guardianship
// has ended.
import { calculateJwkThumbprint, decodeJwt, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretBox } from '../src/core/secret-box.js';
import { closePatientAccount, withdrawGrant } from '../src/modules/consent/index.js';
import { accessTokenSigner } from '../src/modules/oauth/access-tokens.js';
import { insertGrant } from '../src/modules/oauth/grant-repository.js';
import { activeSigningKey } from '../src/modules/oauth/signing-keys.js';
import { systems } from '../src/modules/records/vocabulary.js';
import { useServer } from './helpers.js';
import { fhirRequest, patientToken, seedGuardianship, seedRecord, searchAll, type PatientSession } from './fhir-helpers.js';
import { commandLineSignIn, newKeys, resourceProof } from './oauth-helpers.js';
import { registerPublisher } from './helpers.js';

const server = useServer();
const A = 'isolation-a';
const B = 'isolation-b';
const types = ['Patient', 'Observation', 'Immunization', 'AllergyIntolerance', 'Condition', 'MedicationStatement', 'DocumentReference', 'Appointment'];
const allRead = types.map((type) => `patient/${type}.rs`).join(' ');

let a: PatientSession;
let b: PatientSession;
let recordB: Awaited<ReturnType<typeof seedRecord>>;
beforeAll(async () => {
  await seedRecord(server(), A, { family: 'Arnaud' });
  recordB = await seedRecord(server(), B, { family: 'Bernard' });
  a = await patientToken(server(), A, `${allRead} patient/Observation.c patient/DocumentReference.c`);
  b = await patientToken(server(), B, allRead);
});

const as = (session: Pick<PatientSession, 'token' | 'keys'>) => ({
  get: (path: string) => fhirRequest(server(), session, 'GET', path),
  post: (path: string, body: unknown) => fhirRequest(server(), session, 'POST', path, { body }),
});

function expectOutcome(result: { status: number; body: any }, status: number, code: string) {
  expect({ status: result.status, resourceType: result.body?.resourceType, code: result.body?.issue?.[0]?.code }, JSON.stringify(result.body)).toEqual({
    status,
    resourceType: 'OperationOutcome',
    code,
  });
}

/** The patient a resource of the API is about. */
const aboutPatient = (resource: any): string =>
  resource.resourceType === 'Patient'
    ? resource.id.replace(/-patient$/, '')
    : (resource.subject ?? resource.patient ?? resource.participant?.find((p: any) => p.actor?.reference)?.actor)?.reference?.replace('Patient/', '');

describe('a token for patient A never reaches patient B', () => {
  it.each(types)('search of %s returns A’s data only, on every page', async (type) => {
    const { resources } = await searchAll(server(), a, `/fhir/${type}?_count=2`);
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) expect(aboutPatient(resource)).toBe(A);
  });

  it.each(types)('read of B’s %s by id answers 404, as for an id that does not exist', async (type) => {
    const ofB = recordB.filter((item) => item.resource.resourceType === type);
    for (const item of ofB) {
      expectOutcome(await as(a).get(`/fhir/${type}/${item.id}`), 404, 'not-found');
      expect((await as(b).get(`/fhir/${type}/${item.id}`)).status).toBe(200);
    }
  });

  it('finds none of B’s resources by _id', async () => {
    const bIds = recordB.filter((item) => item.resource.resourceType === 'Observation').map((item) => item.id!);
    // Nothing found: a searchset without entries (FHIR JSON has no empty arrays).
    expect((await as(a).get(`/fhir/Observation?_id=${bIds.slice(0, 5).join(',')}`)).body.entry).toBeUndefined();
  });

  it('refuses a search that names patient B', async () => {
    for (const value of [B, `Patient/${B}`]) {
      const result = await as(a).get(`/fhir/Observation?patient=${encodeURIComponent(value)}`);
      expectOutcome(result, 403, 'forbidden');
    }
  });

  it('refuses to continue A’s search with B’s token (a cursor is bound to its search and patient)', async () => {
    const first = await as(a).get('/fhir/Observation?_count=2');
    const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    const stolen = await as(b).get(next);
    expectOutcome(stolen, 400, 'invalid');
    expect(stolen.body.issue[0].diagnostics).toMatch(/another search/);
    // And a cursor crafted to point anywhere stays inside the token's patient.
    const cursor = Buffer.from(JSON.stringify({ f: 'x', v: '2030-01-01T00:00:00Z', i: `${B}-weight-5` })).toString('base64url');
    expectOutcome(await as(a).get(`/fhir/Observation?_cursor=${cursor}`), 400, 'invalid');
  });

  it('refuses to write for B', async () => {
    const measurement = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: systems.observationCategory, code: 'vital-signs' }] }],
      code: { coding: [{ system: systems.loinc, code: '29463-7' }] },
      subject: { reference: `Patient/${B}` },
      effectiveDateTime: '2026-11-01T08:00:00Z',
      valueQuantity: { value: 70, system: systems.ucum, code: 'kg' },
    };
    const before = (await as(b).get('/fhir/Observation?_count=100')).body.entry.length;
    expectOutcome(await as(a).post('/fhir/Observation', measurement), 403, 'forbidden');
    expect((await as(b).get('/fhir/Observation?_count=100')).body.entry.length).toBe(before);
  });
});

describe('scopes', () => {
  const patient = 'scopes-patient';
  beforeAll(async () => {
    await seedRecord(server(), patient);
  });

  it('are enforced per type and interaction, with an insufficient_scope challenge', async () => {
    const readOnly = await patientToken(server(), patient, 'patient/Observation.r');
    const read = await as(readOnly).get(`/fhir/Observation/${patient}-weight-1`);
    expect(read.status).toBe(200);
    const search = await as(readOnly).get('/fhir/Observation');
    expectOutcome(search, 403, 'forbidden');
    expect(search.headers.get('www-authenticate')).toBe(
      'DPoP algs="ES256 PS256 EdDSA", error="insufficient_scope", error_description="needs patient/Observation.s", scope="patient/Observation.s"',
    );
    expectOutcome(await as(readOnly).get('/fhir/Immunization'), 403, 'forbidden');
    expectOutcome(await as(readOnly).get(`/fhir/Immunization/${patient}-vaccine-1`), 403, 'forbidden');

    const searchOnly = await patientToken(server(), patient, 'patient/Observation.s');
    expect((await as(searchOnly).get('/fhir/Observation')).status).toBe(200);
    expectOutcome(await as(searchOnly).get(`/fhir/Observation/${patient}-weight-1`), 403, 'forbidden');
    expectOutcome(await as(searchOnly).post('/fhir/Observation', {}), 403, 'forbidden');
  });

  it('read v1 aliases and wildcards as their v2 equivalents', async () => {
    const v1 = await patientToken(server(), patient, 'patient/Observation.read');
    expect((await as(v1).get('/fhir/Observation')).status).toBe(200);
    const wildcard = await patientToken(server(), patient, 'patient/*.rs');
    for (const type of types) expect((await as(wildcard).get(`/fhir/${type}`)).status, type).toBe(200);
    expectOutcome(await as(wildcard).post('/fhir/Observation', {}), 403, 'forbidden');
  });

  it('filter by granular scopes: vital signs only never show a laboratory result', async () => {
    const vital = await patientToken(server(), patient, 'patient/Observation.rs?category=vital-signs');
    const { resources } = await searchAll(server(), vital, '/fhir/Observation?_count=2');
    expect(resources.length).toBe(6);
    for (const resource of resources) expect(JSON.stringify(resource.category)).toContain('vital-signs');
    expect((await as(vital).get('/fhir/Observation?category=laboratory')).body.entry).toBeUndefined();
    expect((await as(vital).get(`/fhir/Observation?_id=${patient}-hba1c-1`)).body.entry).toBeUndefined();
    expectOutcome(await as(vital).get(`/fhir/Observation/${patient}-hba1c-1`), 404, 'not-found');
    expect((await as(vital).get(`/fhir/Observation/${patient}-weight-1`)).status).toBe(200);
  });

  it('filter by code with system, and combine two granular scopes as either', async () => {
    const two = await patientToken(server(), patient, 'patient/Observation.rs?code=http://loinc.org|4548-4 patient/Observation.rs?code=http://loinc.org|85354-9');
    const { resources } = await searchAll(server(), two, '/fhir/Observation');
    expect(resources.map((r) => r.id).sort()).toEqual([`${patient}-bp-1`, `${patient}-hba1c-1`]);
  });

  it('limit what a granular create scope may write', async () => {
    const devices = await patientToken(server(), patient, 'patient/Observation.c?category=vital-signs patient/Observation.rs');
    const measurement = (code: string, unit: string, value: number, category: string) => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: systems.observationCategory, code: category }] }],
      code: { coding: [{ system: systems.loinc, code }] },
      effectiveDateTime: '2026-11-28T08:00:00Z',
      valueQuantity: { value, system: systems.ucum, code: unit },
    });
    expect((await as(devices).post('/fhir/Observation', measurement('8867-4', '/min', 70, 'vital-signs'))).status).toBe(201);
    const glucose = await as(devices).post('/fhir/Observation', measurement('2339-0', 'mg/dL', 95, 'laboratory'));
    expectOutcome(glucose, 403, 'forbidden');
    expect(glucose.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('the token, its proof and its grant', () => {
  const patient = 'token-patient';
  beforeAll(async () => {
    await seedRecord(server(), patient);
  });
  const url = () => `${server().url}/fhir/Observation`;
  async function raw(headers: Record<string, string>) {
    const response = await fetch(url(), { headers });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  it('refuses requests without a valid DPoP-bound token, with a DPoP challenge and an OperationOutcome', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    const cases: [string, Record<string, string>, string][] = [
      ['no credential', {}, ''],
      ['no proof', { authorization: `DPoP ${session.token}` }, 'invalid_dpop_proof'],
      ['a bearer token (downgrade)', { authorization: `Bearer ${session.token}` }, 'invalid_token'],
      ['a proof without ath', { authorization: `DPoP ${session.token}`, dpop: await resourceProof(session.keys, { method: 'GET', url: url(), accessToken: session.token }, { ath: undefined }) }, 'invalid_dpop_proof'],
      ['a proof for another URL', { authorization: `DPoP ${session.token}`, dpop: await resourceProof(session.keys, { method: 'GET', url: `${server().url}/fhir/Condition`, accessToken: session.token }) }, 'invalid_dpop_proof'],
      ['a proof by another key', { authorization: `DPoP ${session.token}`, dpop: await resourceProof(await newKeys(), { method: 'GET', url: url(), accessToken: session.token }) }, 'invalid_token'],
      ['a malformed token', { authorization: 'DPoP abc', dpop: await resourceProof(session.keys, { method: 'GET', url: url(), accessToken: 'abc' }) }, 'invalid_token'],
    ];
    for (const [name, headers, error] of cases) {
      const result = await raw(headers);
      expect(result.status, name).toBe(401);
      expect(result.body.resourceType, name).toBe('OperationOutcome');
      expect(result.body.issue[0].code, name).toBe('login');
      // A request made with a Bearer token is answered in the Bearer scheme (RFC 6750), the others in DPoP's.
      const scheme = headers.authorization?.startsWith('Bearer') ? /^Bearer error=/ : /^DPoP algs="ES256 PS256 EdDSA"/;
      expect(result.headers.get('www-authenticate'), name).toMatch(scheme);
      if (error) expect(result.headers.get('www-authenticate'), name).toContain(`error="${error}"`);
    }
    // The sandbox takes Bearer tokens from clients registered for them: the challenge offers both schemes.
    expect((await raw({})).headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 PS256 EdDSA", error="invalid_token", error_description="[^"]+", Bearer$/);
    expect((await raw({ authorization: `Bearer ${session.token}` })).body.issue[0].diagnostics).toContain('this token is DPoP-bound');
  });

  it('refuses a replayed request', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    const headers = { authorization: `DPoP ${session.token}`, dpop: await resourceProof(session.keys, { method: 'GET', url: url(), accessToken: session.token }) };
    expect((await raw(headers)).status).toBe(200);
    // The proof's identifier is recorded in the same statement that reads the grant: the replay is still refused.
    const replayed = await raw(headers);
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    expect(replayed.body.issue[0].diagnostics).toContain('"jti" was already used');
  });

  it('refuses a platform token, and an expired patient token', async () => {
    const publisher = await registerPublisher(server());
    const platform = await commandLineSignIn(server().url, publisher.key, 'platform/apps.read');
    expectOutcome(await as({ token: platform.accessToken, keys: platform.keys }).get('/fhir/Observation'), 401, 'login');

    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    const { kid, key } = await activeSigningKey(server().app.db, secretBox(server().config.keyEncryptionKey));
    const claims = decodeJwt(session.token);
    const expired = await new SignJWT({ ...claims, iat: claims.iat! - 600, exp: claims.iat! - 300 }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(key);
    expectOutcome(await as({ token: expired, keys: session.keys }).get('/fhir/Observation'), 401, 'login');
  });

  it('stops at the next request when the patient withdraws the grant, the app is suspended, or the account is closed', async () => {
    const withdrawn = await patientToken(server(), patient, 'patient/Observation.rs');
    expect((await as(withdrawn).get('/fhir/Observation')).status).toBe(200);
    await withdrawGrant(server().app.db, withdrawn.grantId);
    expectOutcome(await as(withdrawn).get('/fhir/Observation'), 401, 'login');

    const suspended = await patientToken(server(), patient, 'patient/Observation.rs');
    expect((await as(suspended).get('/fhir/Observation')).status).toBe(200);
    await server().app.db.query(`UPDATE apps SET certification_status = 'suspended' WHERE id = $1`, [suspended.appId]);
    expectOutcome(await as(suspended).get('/fhir/Observation'), 401, 'login');

    const closing = 'closing-patient';
    await seedRecord(server(), closing);
    const closed = await patientToken(server(), closing, 'patient/Observation.rs');
    expect((await as(closed).get('/fhir/Observation')).status).toBe(200);
    await closePatientAccount(server().app.db, closing);
    expectOutcome(await as(closed).get('/fhir/Observation'), 401, 'login');
  });
});

describe('the access check a read or a search runs in its own statement', () => {
  const patient = 'combined-patient';
  let observationId: string;
  beforeAll(async () => {
    const record = await seedRecord(server(), patient);
    observationId = record.find((item) => item.resource.resourceType === 'Observation')!.id!;
  });
  const historyCount = async () =>
    Number((await server().app.db.query<{ n: string }>('SELECT count(*) AS n FROM access_history WHERE patient_id = $1', [patient]))[0]!.n);
  const expectGrantEnded = (result: { status: number; headers: Headers; body: any }, name: string) => {
    expect(result.status, `${name}: ${JSON.stringify(result.body)}`).toBe(401);
    expect(result.body.resourceType, name).toBe('OperationOutcome');
    expect(result.headers.get('www-authenticate'), name).toContain('grant_ended="consent_withdrawn"');
  };

  it('runs the check and the work in one statement, and records the access', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    const db = server().app.db;
    const sent: string[] = [];
    const query = db.query.bind(db);
    db.query = ((sql: string, params?: readonly unknown[]) => (sent.push(sql), query(sql, params))) as typeof db.query;
    try {
      const before = await historyCount();
      sent.length = 0;
      const search = await as(session).get('/fhir/Observation?_count=2');
      const read = await as(session).get(`/fhir/Observation/${observationId}`);
      expect([search.status, read.status]).toEqual([200, 200]);
      // The proof's identifier is recorded in the statement that reads the resources, never alone.
      const proofs = sent.filter((sql) => sql.includes('oauth_replay'));
      expect(proofs).toHaveLength(2);
      for (const sql of proofs) expect(sql).toContain('fhir_resources');
      expect(await historyCount()).toBe(before + 2);
    } finally {
      db.query = query;
    }
  });

  it('refuses an ended grant before a bad parameter, a bad cursor or a missing resource, and records the proof all the same', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    expect((await as(session).get('/fhir/Observation')).status).toBe(200);
    await withdrawGrant(server().app.db, session.grantId);
    const before = await historyCount();
    const paths = [
      '/fhir/Observation',
      '/fhir/Observation?_count=100000',
      '/fhir/Observation?date=yesterday',
      '/fhir/Observation?unknown-parameter=1',
      '/fhir/Observation?_cursor=not-a-cursor',
      '/fhir/Observation?_summary=count',
      '/fhir/Observation?_total=accurate',
      '/fhir/Observation?_elements=!!',
      `/fhir/Observation/${observationId}`,
      '/fhir/Observation/no-such-observation',
      `/fhir/Observation/${observationId}?_summary=bogus`,
    ];
    for (const path of paths) expectGrantEnded(await as(session).get(path), path);
    // Nothing was read for the app, so nothing is in the patient's history.
    expect(await historyCount()).toBe(before);

    // The proof of a request refused on its parameters was recorded: sent again, it is a replay.
    const url = `${server().url}/fhir/Observation`;
    const headers = { authorization: `DPoP ${session.token}`, dpop: await resourceProof(session.keys, { method: 'GET', url, accessToken: session.token }) };
    expect((await fetch(`${url}?date=yesterday`, { headers })).status).toBe(401);
    const replayed = await fetch(`${url}?_count=2`, { headers });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });

  it('refuses a replayed proof, with nothing read and nothing recorded', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    const url = `${server().url}/fhir/Observation/${observationId}`;
    const headers = { authorization: `DPoP ${session.token}`, dpop: await resourceProof(session.keys, { method: 'GET', url, accessToken: session.token }) };
    expect((await fetch(url, { headers })).status).toBe(200);
    const before = await historyCount();
    const replayed = await fetch(url, { headers });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    expect(JSON.stringify(await replayed.json())).not.toContain('valueQuantity');
    expect(await historyCount()).toBe(before);
  });

  it('still answers a valid token’s bad request with its own error', async () => {
    const session = await patientToken(server(), patient, 'patient/Observation.rs');
    expect((await as(session).get('/fhir/Observation?_count=100000')).status).toBe(400);
    expect((await as(session).get('/fhir/Observation?date=yesterday')).status).toBe(400);
    expect((await as(session).get('/fhir/Observation?_cursor=not-a-cursor')).status).toBe(400);
    expectOutcome(await as(session).get('/fhir/Observation/no-such-observation'), 404, 'not-found');
    expect((await as(session).get('/fhir/Observation?_summary=count')).body.total).toBeGreaterThan(0);
    expect((await as(session).get('/fhir/Observation?_total=accurate&_count=1')).body.total).toBeGreaterThan(1);
  });
});

describe('a guardian acting for a child', () => {
  const guardian = 'guardian-parent';
  const child = 'guardian-child';
  const coming = 'guardian-teen';
  beforeAll(async () => {
    await seedRecord(server(), child, { given: 'Léo', birthDate: '2015-02-01' });
    await seedRecord(server(), coming, { given: 'Inès', birthDate: '2008-11-20' });
    await seedGuardianship(server(), guardian, child, '2033-02-01');
    // This one came of age yesterday.
    await seedGuardianship(server(), guardian, coming, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
  });

  /** A token a guardian obtained for a child: the grant's patient is the child, its approver the guardian. */
  async function guardianToken(patient: string) {
    const session = await patientToken(server(), guardian, 'patient/Observation.rs');
    const grantId = await insertGrant(server().app.db, { appId: session.appId, clientId: session.clientId, patientId: patient, actorId: guardian, scope: 'patient/Observation.rs', expiresAt: null });
    const sign = accessTokenSigner(server().app.db, secretBox(server().config.keyEncryptionKey));
    const token = await sign({
      issuer: server().url,
      audience: `${server().url}/fhir`,
      subject: guardian,
      clientId: session.clientId,
      scope: 'patient/Observation.rs',
      jkt: await calculateJwkThumbprint(session.keys.publicJwk),
      patient,
      grantId,
    });
    return { token, keys: session.keys };
  }

  it('reads the child’s data while the guardianship lasts, and no longer after the child comes of age', async () => {
    const forChild = await guardianToken(child);
    const search = await as(forChild).get('/fhir/Observation');
    expect(search.status).toBe(200);
    for (const entry of search.body.entry) expect(entry.resource.subject.reference).toBe(`Patient/${child}`);

    const forTeen = await guardianToken(coming);
    const refused = await as(forTeen).get('/fhir/Observation');
    expectOutcome(refused, 403, 'forbidden');
    expect(refused.body.issue[0].diagnostics).toMatch(/guardianship ended/);
  });
});
