// FHIR REST as clients use it: `_format` and `Accept` (JSON only, 406 otherwise), `_summary=count`
// and `_total` (Bundle.total, confined as the search itself), `_elements` (subsets tagged
// SUBSETTED), conditional reads (If-None-Match, If-Modified-Since: 304), what the
// CapabilityStatement claims of them, and what the access history records.
import { beforeAll, describe, expect, it } from 'vitest';
import { useServer } from './helpers.js';
import { fhirRequest, patientToken, searchAll, seedRecord, type FhirResult, type PatientSession } from './fhir-helpers.js';

const server = useServer();
const A = 'rest-patient-a';
const B = 'rest-patient-b';
const everything = ['Patient', 'Observation', 'Immunization', 'AllergyIntolerance', 'Condition', 'MedicationStatement', 'DocumentReference', 'Appointment']
  .map((type) => `patient/${type}.rs`)
  .join(' ');

let a: PatientSession;
let vitalSignsOnly: PatientSession;
let writer: PatientSession;
beforeAll(async () => {
  await seedRecord(server(), A);
  await seedRecord(server(), B, { family: 'Bernard' });
  a = await patientToken(server(), A, everything);
  vitalSignsOnly = await patientToken(server(), A, 'patient/Observation.rs?category=vital-signs');
  writer = await patientToken(server(), A, 'patient/Observation.crs');
});

const get = (path: string, headers: Record<string, string> = {}, session: PatientSession = a) => fhirRequest(server(), session, 'GET', path, { headers });

function expectOutcome(result: FhirResult, status: number, code: string, expression?: string[]) {
  expect({ status: result.status, resourceType: result.body?.resourceType, code: result.body?.issue?.[0]?.code }, JSON.stringify(result.body)).toEqual({
    status,
    resourceType: 'OperationOutcome',
    code,
  });
  expect(result.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(result.body.issue[0].diagnostics).toEqual(expect.any(String));
  if (expression) expect(result.body.issue[0].expression).toEqual(expression);
}

const weight = {
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  effectiveDateTime: '2026-11-30T06:00:00Z',
  valueQuantity: { value: 69.5, system: 'http://unitsofmeasure.org', code: 'kg' },
};

const historyOf = async (patientId: string) =>
  (
    await server().app.db.query<{ interaction: string; resource_type: string; resource_count: number; client_id: string }>(
      'SELECT interaction, resource_type, resource_count, client_id FROM access_history WHERE patient_id = $1 ORDER BY seq',
      [patientId],
    )
  ).map((entry) => ({ ...entry, resource_count: Number(entry.resource_count) }));

describe('_format', () => {
  it.each([
    'json',
    'JSON',
    'application/json',
    encodeURIComponent('application/fhir+json'),
    'application/fhir+json', // the + unencoded arrives as a space
    encodeURIComponent('application/json+fhir'),
    encodeURIComponent('Application/FHIR+JSON; fhirVersion=4.0'),
    encodeURIComponent('application/fhir+json;charset=utf-8'),
  ])('accepts _format=%s on searches, reads, creates and the capability statement, answering FHIR JSON', async (format) => {
    const search = await get(`/fhir/Observation?_format=${format}&_count=2`);
    expect(search.status, JSON.stringify(search.body)).toBe(200);
    expect(search.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(search.body.entry).toHaveLength(2);
    const read = await get(`/fhir/Patient/${A}?_format=${format}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const metadata = await fetch(`${server().url}/fhir/metadata?_format=${format}`);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const created = await fhirRequest(server(), writer, 'POST', `/fhir/Observation?_format=${format}`, { body: weight });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  });

  it.each(['xml', 'text/xml', 'application/xml', encodeURIComponent('application/fhir+xml'), encodeURIComponent('application/xml+fhir'), 'html', 'turtle', 'jsonp', encodeURIComponent('application/fhir+json;fhirVersion=3.0')])(
    'answers _format=%s with 406 naming _format, on every FHIR operation',
    async (format) => {
      expectOutcome(await get(`/fhir/Observation?_format=${format}`), 406, 'not-supported', ['_format']);
      expectOutcome(await get(`/fhir/Observation/${A}-bp-1?_format=${format}`), 406, 'not-supported', ['_format']);
      const metadata = await fetch(`${server().url}/fhir/metadata?_format=${format}`);
      expectOutcome({ status: metadata.status, headers: metadata.headers, body: await metadata.json() }, 406, 'not-supported', ['_format']);
      expectOutcome(await fhirRequest(server(), writer, 'POST', `/fhir/Observation?_format=${format}`, { body: weight }), 406, 'not-supported', ['_format']);
    },
  );

  it('says that XML is not served, and writes nothing when it refuses a create', async () => {
    const before = (await get('/fhir/Observation?_summary=count', {}, writer)).body.total;
    const refused = await fhirRequest(server(), writer, 'POST', '/fhir/Observation?_format=xml', { body: weight });
    expect(refused.body.issue[0].diagnostics).toMatch(/JSON only.*XML is not served/);
    expect((await get('/fhir/Observation?_summary=count', {}, writer)).body.total).toBe(before);
  });

  it('wins over Accept, and is still a known parameter only once', async () => {
    expect((await get('/fhir/Observation?_format=json', { accept: 'application/fhir+xml' })).status).toBe(200);
    expectOutcome(await get('/fhir/Observation?_format=xml', { accept: 'application/fhir+json' }), 406, 'not-supported', ['_format']);
    expectOutcome(await get('/fhir/Observation?_format=json&_format=json'), 400, 'invalid', ['_format']);
  });

  it('leaves unknown parameters refused, each named', async () => {
    expectOutcome(await get('/fhir/Observation?_include=Observation:subject'), 400, 'invalid', ['_include']);
    expectOutcome(await get(`/fhir/Observation/${A}-bp-1?_pretty=true`), 400, 'invalid', ['_pretty']);
  });
});

describe('Accept', () => {
  it.each([undefined, '*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/fhir+json; fhirVersion=4.0', 'application/fhir+xml, application/fhir+json;q=0.5', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'])(
    'answers FHIR JSON to Accept: %s',
    async (accept) => {
      const result = await get(`/fhir/Observation/${A}-bp-1`, accept === undefined ? {} : { accept });
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    },
  );

  it.each(['application/fhir+xml', 'application/xml, text/xml', 'text/html', 'application/fhir+json;q=0', 'application/fhir+json; fhirVersion=3.0'])('answers Accept: %s with 406', async (accept) => {
    const refused = await get(`/fhir/Observation/${A}-bp-1`, { accept });
    expectOutcome(refused, 406, 'not-supported');
    expect(refused.body.issue[0].diagnostics).toMatch(/^Accept: .*FHIR JSON only/);
    expectOutcome(await get('/fhir/Observation', { accept }), 406, 'not-supported');
    const metadata = await fetch(`${server().url}/fhir/metadata`, { headers: { accept } });
    expect(metadata.status).toBe(406);
    expect((await metadata.json()).resourceType).toBe('OperationOutcome');
  });

  it('is judged after the token: an app without a valid one learns nothing else first', async () => {
    const anonymous = await fetch(`${server().url}/fhir/Observation?_format=xml`, { headers: { accept: 'application/fhir+xml' } });
    expect(anonymous.status).toBe(401);
  });
});

describe('_summary=count and _total', () => {
  it('counts what a full walk of the pages returns, with the self link and no entries', async () => {
    for (const query of ['', 'category=laboratory', 'date=ge2026-03-01', 'code=29463-7&_sort=date', 'status=preliminary']) {
      const { resources } = await searchAll(server(), a, `/fhir/Observation?${query}&_count=3`);
      const counted = await get(`/fhir/Observation?${query}&_summary=count`);
      expect(counted.status, JSON.stringify(counted.body)).toBe(200);
      expect(counted.headers.get('cache-control')).toBe('no-store');
      expect(counted.body.total, query).toBe(resources.length);
      expect(counted.body).toEqual({
        resourceType: 'Bundle',
        type: 'searchset',
        total: resources.length,
        link: [{ relation: 'self', url: expect.stringMatching(/\/fhir\/Observation\?.*_summary=count$/) }],
      });
    }
  });

  it('counts every type', async () => {
    for (const type of ['Patient', 'Immunization', 'AllergyIntolerance', 'Condition', 'MedicationStatement', 'DocumentReference', 'Appointment']) {
      const { resources } = await searchAll(server(), a, `/fhir/${type}`);
      expect((await get(`/fhir/${type}?_summary=count`)).body.total, type).toBe(resources.length);
    }
  });

  it('never counts another patient’s resources', async () => {
    const stored = await server().app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resources WHERE resource_type = 'Observation' AND patient_id IN ($1, $2)`, [A, B]);
    const { resources } = await searchAll(server(), a, '/fhir/Observation');
    expect(stored[0]!.n).toBeGreaterThan(resources.length);
    expect((await get('/fhir/Observation?_summary=count')).body.total).toBe(resources.length);
    expect((await get('/fhir/Observation?_total=accurate')).body.total).toBe(resources.length);
    // B's resources by id: none counted.
    expect((await get(`/fhir/Observation?_id=${B}-bp-1,${B}-hba1c-1&_summary=count`)).body.total).toBe(0);
    expect((await get(`/fhir/Observation?_id=${B}-bp-1,${A}-bp-1&_total=accurate`)).body.total).toBe(1);
    // And naming B is refused as for any search.
    expectOutcome(await get(`/fhir/Observation?patient=${B}&_summary=count`), 403, 'forbidden', ['patient']);
  });

  it('counts within a granular scope only what the scope lets the token see', async () => {
    const { resources } = await searchAll(server(), vitalSignsOnly, '/fhir/Observation?_count=2');
    const all = (await get('/fhir/Observation?_summary=count')).body.total;
    const counted = await get('/fhir/Observation?_summary=count', {}, vitalSignsOnly);
    expect(counted.body.total).toBe(resources.length);
    expect(counted.body.total).toBeLessThan(all);
    expect((await get('/fhir/Observation?category=laboratory&_summary=count', {}, vitalSignsOnly)).body.total).toBe(0);
    expect((await get('/fhir/Observation?_total=accurate&_count=2', {}, vitalSignsOnly)).body.total).toBe(resources.length);
  });

  it.each(['accurate', 'estimate'])('_total=%s gives Bundle.total on every page, whatever the cursor, and the links keep it', async (total) => {
    const { pages, resources } = await searchAll(server(), a, `/fhir/Observation?_count=3&_total=${total}`);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) {
      expect(page.body.total).toBe(resources.length);
      for (const link of page.body.link) expect(link.url).toContain(`_total=${total}`);
    }
    // With a cursor, _summary=count still counts the whole search.
    const next = new URL(pages[0]!.body.link.find((link: { relation: string }) => link.relation === 'next').url);
    next.searchParams.delete('_total');
    next.searchParams.set('_summary', 'count');
    expect((await get(`${next.pathname}${next.search}`)).body.total).toBe(resources.length);
  });

  it('answers no total without _total, or with _total=none; _summary=false and data answer as usual', async () => {
    const plain = await get('/fhir/Observation?_count=5');
    expect(plain.body.total).toBeUndefined();
    expect((await get('/fhir/Observation?_count=5&_total=none')).body).toEqual(plain.body);
    for (const summary of ['false', 'data']) {
      const result = await get(`/fhir/Observation?_count=5&_summary=${summary}`);
      expect(result.body.entry).toEqual(plain.body.entry);
    }
    expect((await get(`/fhir/Observation/${A}-bp-1?_summary=data`)).body).toEqual((await get(`/fhir/Observation/${A}-bp-1`)).body);
    expect((await get(`/fhir/Observation/${A}-bp-1?_summary=false`)).status).toBe(200);
  });

  it.each([
    ['/fhir/Observation?_summary=true', 'not-supported'],
    ['/fhir/Observation?_summary=text', 'not-supported'],
    [`/fhir/Observation/${A}-bp-1?_summary=true`, 'not-supported'],
    [`/fhir/Observation/${A}-bp-1?_summary=count`, 'not-supported'],
    ['/fhir/Observation?_summary=everything', 'invalid'],
  ])('refuses %s with 400 naming _summary', async (path, code) => {
    expectOutcome(await get(path), 400, code, ['_summary']);
  });

  it('refuses an unknown _total, naming it', async () => {
    expectOutcome(await get('/fhir/Observation?_total=exact'), 400, 'invalid', ['_total']);
  });
});

describe('conditional reads', () => {
  const path = `/fhir/Observation/${A}-weight-1`;

  it.each(['W/"1"', '"1"', '*', '"7", W/"1"', 'W/"0",W/"1",'])('answer If-None-Match: %s with 304, no body, ETag, Last-Modified and no-store', async (ifNoneMatch) => {
    const first = await get(path);
    const result = await get(path, { 'if-none-match': ifNoneMatch });
    expect(result.status).toBe(304);
    expect(result.body).toBeUndefined();
    expect(result.headers.get('etag')).toBe('W/"1"');
    expect(result.headers.get('last-modified')).toBe(first.headers.get('last-modified'));
    expect(result.headers.get('cache-control')).toBe('no-store');
  });

  it.each(['W/"2"', '"11"', 'W/"1" junk', 'no-quotes'])('answer the resource to If-None-Match: %s', async (ifNoneMatch) => {
    const result = await get(path, { 'if-none-match': ifNoneMatch });
    expect(result.status).toBe(200);
    expect(result.body.id).toBe(`${A}-weight-1`);
    expect(result.headers.get('etag')).toBe('W/"1"');
  });

  it('answer If-Modified-Since by Last-Modified, and let If-None-Match decide when both are sent', async () => {
    const first = await get(path);
    const lastModified = new Date(first.headers.get('last-modified')!);
    const at = (offsetSeconds: number) => new Date(lastModified.getTime() + offsetSeconds * 1000).toUTCString();
    expect((await get(path, { 'if-modified-since': at(0) })).status).toBe(304);
    expect((await get(path, { 'if-modified-since': at(3600) })).status).toBe(304);
    const changed = await get(path, { 'if-modified-since': at(-1) });
    expect(changed.status).toBe(200);
    expect(changed.body.id).toBe(`${A}-weight-1`);
    expect((await get(path, { 'if-modified-since': 'yesterday' })).status).toBe(200);
    expect((await get(path, { 'if-none-match': 'W/"2"', 'if-modified-since': at(3600) })).status).toBe(200);
    expect((await get(path, { 'if-none-match': 'W/"1"', 'if-modified-since': at(-3600) })).status).toBe(304);
  });

  it('never tell that another patient’s resource, or one the scopes hide, exists', async () => {
    expectOutcome(await get(`/fhir/Observation/${B}-weight-1`, { 'if-none-match': '*' }), 404, 'not-found');
    expectOutcome(await get(`/fhir/Observation/${B}-weight-1`, { 'if-none-match': 'W/"1"' }), 404, 'not-found');
    expectOutcome(await get(`/fhir/Observation/${B}-weight-1`, { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() }), 404, 'not-found');
    expectOutcome(await get(`/fhir/Observation/${A}-hba1c-1`, { 'if-none-match': '*' }, vitalSignsOnly), 404, 'not-found');
    expect((await get(`/fhir/Observation/${A}-weight-1`, { 'if-none-match': '*' }, vitalSignsOnly)).status).toBe(304);
    // A token that may not read at all is refused before anything is compared.
    const searchOnly = await patientToken(server(), A, 'patient/Observation.s');
    expectOutcome(await get(path, { 'if-none-match': '*' }, searchOnly), 403, 'forbidden');
  });
});

describe('_elements', () => {
  it('answers a read with the elements named, the mandatory ones, resourceType, id and meta, tagged SUBSETTED', async () => {
    const full = await get(`/fhir/Observation/${A}-weight-1`);
    const subset = await get(`/fhir/Observation/${A}-weight-1?_elements=subject,value`);
    expect(subset.status).toBe(200);
    expect(subset.body).toEqual({
      resourceType: 'Observation',
      id: `${A}-weight-1`,
      meta: { ...full.body.meta, tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }] },
      status: 'final',
      code: full.body.code,
      subject: full.body.subject,
      valueQuantity: full.body.valueQuantity,
    });
    expect(subset.headers.get('etag')).toBe(full.headers.get('etag'));
  });

  it('subsets every entry of a search, and the next link keeps it', async () => {
    const { pages, resources } = await searchAll(server(), a, '/fhir/Immunization?_elements=occurrence&_count=1');
    expect(pages.length).toBe(2);
    expect(pages[0]!.body.link.find((link: { relation: string }) => link.relation === 'next').url).toContain('_elements=occurrence');
    for (const resource of resources) {
      expect(Object.keys(resource).sort()).toEqual(['id', 'meta', 'occurrenceDateTime', 'resourceType', 'status', 'vaccineCode']);
      expect(resource.meta.tag).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }]);
    }
    // Without _elements, no tag.
    expect((await get('/fhir/Immunization')).body.entry[0].resource.meta.tag).toBeUndefined();
  });

  it.each(['', 'Subject', 'subject,', 'subject..code', 'Observation.subject', 'value[x]', encodeURIComponent('subject code')])('refuses _elements=%s with 400 naming _elements', async (value) => {
    expectOutcome(await get(`/fhir/Observation?_elements=${value}`), 400, 'invalid', ['_elements']);
    expectOutcome(await get(`/fhir/Observation/${A}-weight-1?_elements=${value}`), 400, 'invalid', ['_elements']);
  });
});

describe('the capability statement', () => {
  it('claims JSON, versioned resources and conditional reads, and lists no result parameter as a search parameter', async () => {
    const statement = await (await fetch(`${server().url}/fhir/metadata`)).json();
    expect(statement.format).toEqual(['json', 'application/fhir+json']);
    const resources = statement.rest[0].resource as { type: string; versioning: string; conditionalRead: string; searchParam: { name: string }[] }[];
    expect(resources).toHaveLength(10);
    for (const resource of resources) {
      // The patient's data is read conditionally; a Subscription is the app's own, read as it is.
      expect(resource).toMatchObject(resource.type === 'Subscription' ? { versioning: 'versioned' } : { versioning: 'versioned', conditionalRead: 'full-support' });
      if (resource.type === 'Subscription') expect(resource.conditionalRead).toBe('not-supported');
      const names = resource.searchParam.map((parameter) => parameter.name);
      for (const result of ['_count', '_sort', '_cursor', '_format', '_summary', '_total', '_elements']) expect(names, resource.type).not.toContain(result);
    }
  });
});

describe('the access history', () => {
  it('records a count as a search of no resource, a 304 as a read of one, and nothing for what it refuses', async () => {
    const session = await patientToken(server(), A, 'patient/Observation.rs');
    const mine = async () => (await historyOf(A)).filter((entry) => entry.client_id === session.clientId).map((e) => [e.resource_type, e.interaction, e.resource_count]);
    await get('/fhir/Observation?_summary=count', {}, session);
    await get('/fhir/Observation?_count=3&_total=accurate', {}, session);
    await get(`/fhir/Observation/${A}-weight-1`, { 'if-none-match': 'W/"1"' }, session);
    await get(`/fhir/Observation/${A}-weight-1?_elements=code`, {}, session);
    // Refused before any data is touched: not recorded.
    await get('/fhir/Observation?_format=xml', {}, session);
    await get('/fhir/Observation', { accept: 'application/fhir+xml' }, session);
    await get('/fhir/Observation?_summary=true', {}, session);
    await get('/fhir/Observation?_elements=Bad', {}, session);
    expect(await mine()).toEqual([
      ['Observation', 'search', 0],
      ['Observation', 'search', 3],
      ['Observation', 'read', 1],
      ['Observation', 'read', 1],
    ]);
  });
});
