// The FHIR API as an app meets it: the capability statement, search with every parameter and
// keyset paging, reads with ETag, and the two writes with their validation. Isolation between
// patients and the authorization rules have their own file (fhir-security.integration.test.ts).
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { systems } from '../src/modules/records/vocabulary.js';
import { useServer } from './helpers.js';
import { ALL_PATIENT_SCOPES, fhirRequest, heartRate, patientToken, searchAll, seedRecord, type PatientSession } from './fhir-helpers.js';

const server = useServer();
const everything = ['launch/patient', ...ALL_PATIENT_SCOPES].join(' ');

let session: PatientSession;
const PATIENT = 'fhir-patient-1';
beforeAll(async () => {
  await seedRecord(server(), PATIENT);
  session = await patientToken(server(), PATIENT, everything);
});

const get = (path: string) => fhirRequest(server(), session, 'GET', path);
// A page without results has no entry at all (FHIR JSON has no empty arrays).
const ids = (bundle: { entry?: { resource: { id: string } }[] }) => (bundle.entry ?? []).map((entry) => entry.resource.id);

function expectOutcome(result: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect({ status: result.status, resourceType: result.body?.resourceType, code: result.body?.issue?.[0]?.code }).toEqual({ status, resourceType: 'OperationOutcome', code });
  expect(result.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(result.body.issue[0].diagnostics).toEqual(expect.any(String));
}

describe('the capability statement', () => {
  it('lists exactly the types, interactions and search parameters served, with the SMART oauth-uris', async () => {
    const response = await fetch(`${server().url}/fhir/metadata`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const statement = await response.json();
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance', format: ['json', 'application/fhir+json'] });
    const rest = statement.rest[0];
    const uris = Object.fromEntries(rest.security.extension[0].extension.map((e: { url: string; valueUri: string }) => [e.url, e.valueUri]));
    expect(uris).toEqual({
      authorize: `${server().url}/oauth/authorize`,
      token: `${server().url}/oauth/token`,
      revoke: `${server().url}/oauth/revoke`,
      introspect: `${server().url}/oauth/introspect`,
      manage: `${server().url}/patient/apps`,
    });
    const byType = Object.fromEntries(rest.resource.map((r: { type: string; interaction: { code: string }[]; searchParam: { name: string }[] }) => [r.type, r]));
    expect(Object.keys(byType).sort()).toEqual(['AllergyIntolerance', 'Appointment', 'Communication', 'Condition', 'DocumentReference', 'Immunization', 'MedicationStatement', 'Observation', 'Patient', 'Subscription']);
    expect(byType.Appointment.interaction.map((i: { code: string }) => i.code)).toEqual(['create', 'read', 'search-type', 'update']);
    expect(byType.Communication.interaction.map((i: { code: string }) => i.code)).toEqual(['create', 'read', 'search-type']);
    expect(byType.Communication.searchParam.map((p: { name: string }) => p.name)).toEqual(['_id', '_lastUpdated', 'category', 'patient', 'sent', 'status']);
    expect(byType.Observation.interaction.map((i: { code: string }) => i.code)).toEqual(['create', 'read', 'search-type']);
    expect(byType.Condition.interaction.map((i: { code: string }) => i.code)).toEqual(['read', 'search-type']);
    expect(byType.Observation.searchParam.map((p: { name: string }) => p.name)).toEqual(['_id', '_lastUpdated', 'category', 'code', 'date', 'patient', 'status']);
    // Every advertised search parameter is accepted by the server.
    for (const [type, resource] of Object.entries(byType) as [string, { searchParam: { name: string; type: string } [] }][]) {
      for (const param of resource.searchParam) {
        const value = param.type === 'date' ? 'ge2000' : param.name === 'patient' ? PATIENT : type === 'Subscription' ? 'active' : 'x';
        const result = await get(`/fhir/${type}?${param.name}=${encodeURIComponent(value)}`);
        expect(result.status, `${type}?${param.name}: ${JSON.stringify(result.body)}`).toBe(200);
      }
    }
  });
});

describe('search', () => {
  it('answers a searchset Bundle with self link, full URLs, versions and no-store', async () => {
    const result = await get('/fhir/Observation');
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(result.body.link).toEqual([{ relation: 'self', url: `${server().url}/fhir/Observation` }]);
    const [first] = result.body.entry;
    expect(first.fullUrl).toBe(`${server().url}/fhir/Observation/${first.resource.id}`);
    expect(first.search).toEqual({ mode: 'match' });
    expect(first.resource.meta).toEqual({ versionId: '1', lastUpdated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // Newest first by default.
    const dates = result.body.entry.map((e: { resource: { effectiveDateTime: string } }) => e.resource.effectiveDateTime);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  it('pages with opaque next links (keyset), visiting every resource once, in order', async () => {
    const whole = await get('/fhir/Observation?_count=100');
    const { pages, resources } = await searchAll(server(), session, '/fhir/Observation?_count=3');
    expect(pages.length).toBe(Math.ceil(whole.body.entry.length / 3));
    expect(resources.map((r) => r.id)).toEqual(ids(whole.body));
    expect(pages.at(-1)!.body.link.map((l: { relation: string }) => l.relation)).toEqual(['self']);
    const next = pages[0]!.body.link[1].url as string;
    expect(next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir\/Observation\?_count=3&_cursor=[A-Za-z0-9_-]+$/);
    // The self link of a later page names its own position.
    expect(pages[1]!.body.link[0].url).toBe(next);
  });

  it('sorts by date either way, and by _lastUpdated', async () => {
    const ascending = await get('/fhir/Observation?_sort=date&code=29463-7');
    expect(ascending.body.entry.map((e: { resource: { effectiveDateTime: string } }) => e.resource.effectiveDateTime)).toEqual([
      '2026-01-15T08:00:00Z',
      '2026-02-15T08:00:00Z',
      '2026-03-15T08:00:00Z',
      '2026-04-15T08:00:00Z',
      '2026-05-15T08:00:00Z',
    ]);
    const paged = await searchAll(server(), session, '/fhir/Observation?_sort=date&code=29463-7&_count=2');
    expect(paged.resources.map((r) => r.id)).toEqual(ids(ascending.body));
    expect((await get('/fhir/Observation?_sort=-_lastUpdated')).status).toBe(200);
  });

  it.each([
    ['date=ge2026-03-01', ['fhir-patient-1-weight-5', 'fhir-patient-1-weight-4', 'fhir-patient-1-cholesterol-1', 'fhir-patient-1-weight-3', 'fhir-patient-1-bp-1']],
    ['date=ge2026-02&date=lt2026-03', ['fhir-patient-1-weight-2', 'fhir-patient-1-hba1c-1']],
    ['date=2026-03-15', ['fhir-patient-1-weight-3']],
    ['date=gt2026-04', ['fhir-patient-1-weight-5']],
    ['date=le2026-01', ['fhir-patient-1-weight-1']],
    ['date=lt2026-01-15T08:00:00Z', []],
    ['date=2026-01-15T09:00:00%2B01:00', ['fhir-patient-1-weight-1']],
    ['code=http://loinc.org|85354-9', ['fhir-patient-1-bp-1']],
    ['code=85354-9,4548-4', ['fhir-patient-1-bp-1', 'fhir-patient-1-hba1c-1']],
    ['code=http://snomed.info/sct|85354-9', []],
    ['category=laboratory', ['fhir-patient-1-cholesterol-1', 'fhir-patient-1-hba1c-1']],
    ['category=laboratory&code=2093-3', ['fhir-patient-1-cholesterol-1']],
    ['status=final&code=4548-4', ['fhir-patient-1-hba1c-1']],
    ['status=preliminary', []],
    ['_id=fhir-patient-1-weight-1,fhir-patient-1-bp-1', ['fhir-patient-1-bp-1', 'fhir-patient-1-weight-1']],
    [`patient=${PATIENT}&code=4548-4`, ['fhir-patient-1-hba1c-1']],
    [`patient=Patient/${PATIENT}&code=4548-4`, ['fhir-patient-1-hba1c-1']],
    ['_lastUpdated=ge2000-01-01&code=4548-4', ['fhir-patient-1-hba1c-1']],
    ['_lastUpdated=lt2000-01-01', []],
  ])('Observation?%s', async (query, expected) => {
    const result = await get(`/fhir/Observation?${query}&_count=100`);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(ids(result.body)).toEqual(expected);
  });

  it.each([
    ['Immunization', 'vaccine-code=http://www.whocc.no/atc|J07BB02', ['fhir-patient-1-vaccine-2']],
    ['Immunization', 'date=2025-06', ['fhir-patient-1-vaccine-1']],
    ['AllergyIntolerance', 'category=medication&clinical-status=active', ['fhir-patient-1-allergy-1']],
    ['AllergyIntolerance', 'code=http://snomed.info/sct|91936005', ['fhir-patient-1-allergy-1']],
    ['Condition', 'code=I10&category=problem-list-item', ['fhir-patient-1-condition-1']],
    ['Condition', 'clinical-status=resolved', []],
    ['MedicationStatement', 'code=http://www.whocc.no/atc|C09AA05&status=active', ['fhir-patient-1-medication-1']],
    ['DocumentReference', 'type=http://loinc.org|11488-4', ['fhir-patient-1-document-1']],
    ['Appointment', 'date=ge2026-12-01&status=booked', ['fhir-patient-1-appointment-1']],
    ['Patient', '', ['fhir-patient-1']],
  ])('%s?%s', async (type, query, expected) => {
    const result = await get(`/fhir/${type}?${query}`);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(ids(result.body)).toEqual(expected);
  });

  it.each([
    ['date=tomorrow', 'date'],
    ['date=2026-13-01', 'date'],
    ['date=2026-02-30', 'date'],
    ['date=ne2026', 'date'],
    ['_count=0', '_count'],
    ['_count=101', '_count'],
    ['_sort=name', '_sort'],
    ['colour=blue', 'colour'],
    ['vaccine-code=J07BB02', 'vaccine-code'],
    ['_cursor=bm90LWEtY3Vyc29y', '_cursor'],
    ['_cursor=***', '_cursor'],
    ['_id=../etc', '_id'],
  ])('refuses %s with an OperationOutcome naming the parameter', async (query, parameter) => {
    const result = await get(`/fhir/Observation?${query}`);
    expectOutcome(result, 400, 'invalid');
    expect(JSON.stringify(result.body.issue)).toContain(parameter);
  });

  it('refuses a cursor reused with other parameters', async () => {
    const first = await get('/fhir/Observation?_count=2');
    const cursor = new URL(first.body.link[1].url).searchParams.get('_cursor')!;
    const reused = await get(`/fhir/Observation?_count=2&category=laboratory&_cursor=${cursor}`);
    expectOutcome(reused, 400, 'invalid');
    expect(reused.body.issue[0].diagnostics).toMatch(/belongs to another search/);
  });
});

describe('read', () => {
  it('answers the resource with ETag and Last-Modified', async () => {
    const result = await get(`/fhir/Observation/${PATIENT}-bp-1`);
    expect(result.status).toBe(200);
    expect(result.headers.get('etag')).toBe('W/"1"');
    expect(new Date(result.headers.get('last-modified')!).getTime()).toBeGreaterThan(0);
    expect(result.body).toMatchObject({
      resourceType: 'Observation',
      id: `${PATIENT}-bp-1`,
      component: [{ valueQuantity: { value: 128, code: 'mm[Hg]' } }, { valueQuantity: { value: 82 } }],
    });
    expect((await get(`/fhir/Patient/${PATIENT}`)).body.identifier[0].system).toBe(systems.ins);
  });

  it('answers 404 for an id it does not have', async () => {
    expectOutcome(await get('/fhir/Observation/nothing-here'), 404, 'not-found');
    expectOutcome(await get('/fhir/Observation/bad%20id'), 400, 'invalid');
  });
});

describe('writes', () => {
  const measurement = (overrides: Record<string, unknown> = {}) => heartRate(64, '2026-11-29T07:00:00Z', { device: { display: 'Montre connectée' }, ...overrides });
  const post = (type: string, body: unknown, contentType?: string) =>
    fhirRequest(server(), session, 'POST', `/fhir/${type}`, { body, ...(contentType ? { contentType } : {}) });

  it('creates a measurement for the token’s patient, readable at once', async () => {
    const created = await post('Observation', measurement());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('location')).toBe(`${server().url}/fhir/Observation/${created.body.id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), subject: { reference: `Patient/${PATIENT}` }, meta: { versionId: '1' } });
    const read = await get(`/fhir/Observation/${created.body.id}`);
    expect(read.body).toEqual(created.body);
    // Plain application/json is accepted for FHIR JSON too.
    expect((await post('Observation', measurement(), 'application/json')).status).toBe(201);
  });

  it('creates a blood pressure with its two components', async () => {
    const created = await post(
      'Observation',
      measurement({
        code: { coding: [{ system: systems.loinc, code: '85354-9' }] },
        valueQuantity: undefined,
        component: [
          { code: { coding: [{ system: systems.loinc, code: '8480-6' }] }, valueQuantity: { value: 131, system: systems.ucum, code: 'mm[Hg]' } },
          { code: { coding: [{ system: systems.loinc, code: '8462-4' }] }, valueQuantity: { value: 84, system: systems.ucum, code: 'mm[Hg]' } },
        ],
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  });

  it('stores an SpO2 coded 2708-6, with or without pulse oximetry’s 59408-5, and adds 2708-6 to a 59408-5 sent alone', async () => {
    const spo2 = (...codes: string[]) =>
      measurement({ code: { coding: codes.map((code) => ({ system: systems.loinc, code })) }, valueQuantity: { value: 97, unit: '%', system: systems.ucum, code: '%' } });
    const codesOf = (body: { code: { coding: { code: string }[] } }) => body.code.coding.map((coding) => coding.code);
    for (const codes of [['2708-6'], ['2708-6', '59408-5'], ['59408-5', '2708-6']]) {
      const created = await post('Observation', spo2(...codes));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(codesOf(created.body)).toEqual(codes);
    }
    const alone = await post('Observation', spo2('59408-5'));
    expect(alone.status, JSON.stringify(alone.body)).toBe(201);
    expect(alone.body.code.coding).toEqual([
      { system: systems.loinc, code: '59408-5' },
      { system: systems.loinc, code: '2708-6', display: 'Saturation en oxygène' },
    ]);
    // Either code finds it.
    for (const code of ['2708-6', '59408-5']) expect(ids((await get(`/fhir/Observation?code=${code}&_count=100`)).body)).toContain(alone.body.id);
    // Either code is held to the same rules.
    expectOutcome(await post('Observation', { ...spo2('59408-5'), valueQuantity: { value: 97, system: systems.ucum, code: '{percent}' } }), 422, 'code-invalid');
    expectOutcome(await post('Observation', { ...spo2('2708-6'), category: [{ coding: [{ system: systems.observationCategory, code: 'laboratory' }] }] }), 422, 'required');
  });

  it('fills in the unit’s text a device left out, and keeps the one it gave', async () => {
    const bare = await post('Observation', measurement({ valueQuantity: { value: 64, system: systems.ucum, code: '/min' } }));
    expect(bare.body.valueQuantity).toEqual({ value: 64, unit: 'battements/min', system: systems.ucum, code: '/min' });
    const given = await post('Observation', measurement({ valueQuantity: { value: 64, unit: 'bpm', system: systems.ucum, code: '/min' } }));
    expect(given.body.valueQuantity.unit).toBe('bpm');
    const pressure = await post(
      'Observation',
      measurement({
        code: { coding: [{ system: systems.loinc, code: '85354-9' }] },
        valueQuantity: undefined,
        component: [
          { code: { coding: [{ system: systems.loinc, code: '8462-4' }] }, valueQuantity: { value: 84, system: systems.ucum, code: 'mm[Hg]' } },
          { code: { coding: [{ system: systems.loinc, code: '8480-6' }] }, valueQuantity: { value: 131, unit: 'mm Hg', system: systems.ucum, code: 'mm[Hg]' } },
        ],
      }),
    );
    expect(pressure.body.component.map((component: { valueQuantity: { unit: string } }) => component.valueQuantity.unit)).toEqual(['mmHg', 'mm Hg']);
  });

  it.each([
    ['an unknown LOINC code', { code: { coding: [{ system: systems.loinc, code: '1234-5' }] } }, 422, 'code-invalid', 'Observation.code'],
    ['no LOINC coding', { code: { coding: [{ system: 'http://example.org', code: 'x' }] } }, 422, 'required', 'Observation.code'],
    ['the wrong category', { category: [{ coding: [{ system: systems.observationCategory, code: 'laboratory' }] }] }, 422, 'required', 'Observation.category'],
    ['the wrong unit', { valueQuantity: { value: 64, system: systems.ucum, code: '/s' } }, 422, 'code-invalid', 'Observation.valueQuantity'],
    ['an implausible value', { valueQuantity: { value: 900, system: systems.ucum, code: '/min' } }, 422, 'value', 'Observation.valueQuantity.value'],
    ['no date', { effectiveDateTime: undefined }, 422, 'required', 'Observation.effectiveDateTime'],
    ['a date next year', { effectiveDateTime: '2099-01-01T00:00:00Z' }, 422, 'value', 'Observation.effectiveDateTime'],
    ['components on a single value', { component: [{ code: { coding: [{ code: '8480-6' }] } }] }, 422, 'invalid', 'Observation.component'],
    ['a status of a cancelled one', { status: 'cancelled' }, 422, 'value', 'Observation.status'],
    ['an unknown element', { colour: 'blue' }, 400, 'invalid', 'Observation.colour'],
    ['a wrong type', { status: 3 }, 400, 'invalid', 'Observation.status'],
    ['another resource type', { resourceType: 'Patient' }, 400, 'invalid', 'Observation.resourceType'],
    // What RFC 3339 allows and FHIR's dateTime does not.
    ['a date-time with a space', { effectiveDateTime: '2026-11-29 07:00:00Z' }, 400, 'invalid', 'Observation.effectiveDateTime'],
    ['an offset without its colon', { effectiveDateTime: '2026-11-29T08:00:00+0100' }, 400, 'invalid', 'Observation.effectiveDateTime'],
    ['a code with spaces around it', { code: { coding: [{ system: systems.loinc, code: ' 8867-4' }] } }, 400, 'invalid', 'Observation.code.coding[0].code'],
    ['a system with a space', { code: { coding: [{ system: systems.loinc, code: '8867-4' }, { system: 'urn:x y', code: 'a' }] } }, 400, 'invalid', 'Observation.code.coding[1].system'],
    // FHIR has no empty values.
    ['an empty element', { category: [{ coding: [{ system: systems.observationCategory, code: 'vital-signs' }] }, {}] }, 400, 'invalid', 'Observation.category[1]'],
    ['an empty list', { component: [] }, 400, 'invalid', 'Observation.component'],
    ['a blank text', { valueQuantity: { value: 64, unit: ' ', system: systems.ucum, code: '/min' } }, 400, 'invalid', 'Observation.valueQuantity.unit'],
  ])('refuses a measurement with %s, writing nothing', async (_case, overrides, status, code, expression) => {
    const before = (await get('/fhir/Observation?_count=100')).body.entry.length;
    const refused = await post('Observation', measurement(overrides as Record<string, unknown>));
    expectOutcome(refused, status, code);
    expect(JSON.stringify(refused.body.issue)).toContain(expression);
    expect((await get('/fhir/Observation?_count=100')).body.entry.length).toBe(before);
  });

  it('refuses a body that is not JSON, or not FHIR JSON', async () => {
    expectOutcome(await fhirRequest(server(), session, 'POST', '/fhir/Observation', { raw: '{"resourceType":', contentType: 'application/fhir+json' }), 400, 'structure');
    expectOutcome(await fhirRequest(server(), session, 'POST', '/fhir/Observation', { raw: '<Observation/>', contentType: 'application/fhir+xml' }), 415, 'not-supported');
  });

  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
  const document = (overrides: Record<string, unknown> = {}, attachment: Record<string, unknown> = {}) => ({
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: systems.loinc, code: '57833-6', display: 'Ordonnance' }] },
    description: 'Ordonnance déposée par l’application',
    content: [{ attachment: { contentType: 'application/pdf', data: pdf.toString('base64'), title: 'Ordonnance', ...attachment } }],
    ...overrides,
  });

  it('deposits a PDF document, filling in its size and SHA-1', async () => {
    const created = await post('DocumentReference', document());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.content[0].attachment).toMatchObject({ size: pdf.length, hash: createHash('sha1').update(pdf).digest('base64') });
    expect(created.body.date).toEqual(expect.any(String));
    expect((await get(`/fhir/DocumentReference/${created.body.id}`)).body.content[0].attachment.data).toBe(pdf.toString('base64'));
  });

  it.each([
    ['an unknown type', document({ type: { coding: [{ system: systems.loinc, code: '00000-0' }] } }), 422, 'code-invalid'],
    ['something that is not a PDF', document({}, { data: Buffer.from('MZ executable').toString('base64') }), 422, 'value'],
    ['another content type', document({}, { contentType: 'image/png' }), 422, 'code-invalid'],
    ['no data', document({}, { data: undefined }), 422, 'required'],
    ['data that is not base64', document({}, { data: 'not base64!' }), 422, 'invalid'],
    ['a wrong size', document({}, { size: 3 }), 422, 'value'],
    ['a wrong hash', document({}, { hash: createHash('sha1').update('other').digest('base64') }), 422, 'value'],
    ['a status of superseded', document({ status: 'superseded' }), 422, 'value'],
    ['a date with more decimals than FHIR’s nine', document({ date: '2026-11-29T07:00:00.1234567890Z' }), 400, 'invalid'],
    ['an empty title', document({}, { title: '' }), 400, 'invalid'],
  ])('refuses a document with %s', async (_case, body, status, code) => {
    expectOutcome(await post('DocumentReference', body), status, code);
  });

  it('refuses a document over 2 MiB, and a body over the limit', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2 * 1024 * 1024)]);
    const tooBig = await post('DocumentReference', document({}, { data: big.toString('base64') }));
    expect(tooBig.status).toBe(400); // longer than the schema's maxLength of the base64 text
    const huge = await fhirRequest(server(), session, 'POST', '/fhir/DocumentReference', { raw: JSON.stringify(document({}, { data: 'A'.repeat(5 * 1024 * 1024) })) });
    expectOutcome(huge, 413, 'too-costly');
  });
});
