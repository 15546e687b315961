// The one input boundary: every class of input that used to make the server fail (HTTP 500) or
// that it used to accept is refused, with a clear error in the format of its route's family,
// before anything reaches the store, and changes nothing. Headers a client sends twice, and
// request targets that name another host, are refused too.
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { appInput, call, expectErrorPage, expectProblem, registerPublisher, registrationNumber, useServer } from './helpers.js';
import { fhirRequest, patientToken, seedRecord, type PatientSession } from './fhir-helpers.js';
import { form } from './oauth-helpers.js';
import { pageBrowser } from './page-browser.js';

const server = useServer();
let publisherKey: string;
let session: PatientSession;
/** A token that may create, so that a refused body is refused for the body, not the scope. */
let writer: PatientSession;

beforeAll(async () => {
  publisherKey = (await registerPublisher(server())).key;
  await seedRecord(server(), 'boundary-patient');
  session = await patientToken(server(), 'boundary-patient', 'patient/Observation.rs');
  writer = await patientToken(server(), 'boundary-patient', 'patient/Observation.crs');
});

const count = async (table: string) => (await server().app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

/** A request written by hand on a socket (what fetch cannot send: doubled headers, absolute targets); the status of the answer. */
async function rawStatus(text: string): Promise<{ status: number; response: string }> {
  const { hostname, port } = new URL(server().url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text.replace(/\n/g, '\r\n')));
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0), response }));
  });
}

const hostLine = () => `Host: ${new URL(server().url).host}`;

describe('NUL characters and unpaired surrogates', () => {
  it('are refused in a query, naming the parameter, in every family', async () => {
    const problem = await call(server(), 'GET', '/catalog/apps?q=a%00b');
    expectProblem(problem, 400, 'validation_failed');
    expect(problem.body.errors).toEqual([{ pointer: '/query/q', detail: 'contains a NUL character' }]);

    const fhir = await fhirRequest(server(), session, 'GET', '/fhir/Observation?code=a%00b');
    expect(fhir.status).toBe(400);
    expect(fhir.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid', expression: ['code'] }] });

    const page = await fetch(`${server().url}/oauth/authorize?client_id=a%00b&redirect_uri=x`, { redirect: 'manual' });
    expect(await expectErrorPage(page, 400)).toContain('/query/client_id');

    // An escape that is not UTF-8 text (a surrogate's bytes, a lone byte, a cut sequence, not hex) is
    // refused rather than kept raw or replaced: two readers would not agree on what was sent.
    for (const escape of ['%ED%A0%80', '%FF', '%E2%82', '%ZZ']) {
      const refused = await call(server(), 'GET', `/catalog/apps?q=a${escape}`);
      expectProblem(refused, 400, 'validation_failed');
      expect(refused.body.errors).toEqual([{ pointer: '/query/q', detail: 'has a %-escape that is not UTF-8 text' }]);
    }
  });

  it('are refused in a path parameter', async () => {
    const sandbox = await call(server(), 'GET', '/sandbox/clients/a%00b/report');
    expectProblem(sandbox, 400, 'validation_failed');
    expect(sandbox.body.errors[0]).toMatchObject({ pointer: '/params/clientId' });
  });

  it('are refused in a JSON body, in values and in member names, and nothing is written', async () => {
    const before = await count('publishers');
    for (const raw of [
      `{"name":"a\\u0000b","registrationNumber":"${registrationNumber()}","contactEmail":"a@b.fr"}`,
      `{"name":"a\\ud800b","registrationNumber":"${registrationNumber()}","contactEmail":"a@b.fr"}`,
      `{"name":"Éditeur","registrationNumber":"${registrationNumber()}","contactEmail":"a@b.fr","x\\u0000":1}`,
    ]) {
      const result = await call(server(), 'POST', '/publishers', { raw });
      expectProblem(result, 400, 'validation_failed');
      expect(result.body.errors[0].pointer).toMatch(/^\/body/);
    }
    expect((await call(server(), 'POST', '/publishers', { raw: '{"name":"a\\ud800b"}' })).body.errors).toEqual([{ pointer: '/body/name', detail: 'contains an unpaired surrogate (not valid Unicode text)' }]);
    expect(await count('publishers')).toBe(before);
  });

  it('are refused in a form body, OAuth and pages alike', async () => {
    const token = await fetch(`${server().url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=a%00b' });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('/body/grant_type: contains a NUL character') });
    const signIn = await fetch(`${server().url}/patient/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server().url }, body: 'patient_id=a%00b', redirect: 'manual' });
    await expectErrorPage(signIn, 400);
    expect(signIn.headers.getSetCookie()).toEqual([]);
    const escape = await fetch(`${server().url}/oauth/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=mes-cli&scope=%FF' });
    expect(await escape.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('/body/scope: has a %-escape that is not UTF-8 text') });
  });

  it('are never made up from bytes that are not UTF-8: such a body is refused, not repaired', async () => {
    const before = await count('publishers');
    const latin1 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc9]), Buffer.from(`diteur","registrationNumber":"${registrationNumber()}","contactEmail":"a@b.fr"}`)]);
    const json = await fetch(`${server().url}/publishers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: latin1 });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 'validation_failed', errors: [{ pointer: '/body', detail: 'is not valid UTF-8' }] });
    const formBody = await fetch(`${server().url}/oauth/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from([0x63, 0x3d, 0xff]) });
    expect(formBody.status).toBe(400);
    expect(await count('publishers')).toBe(before);
  });
});

describe('integers', () => {
  it.each(['Infinity', '-Infinity', 'NaN', '0x10', ' 1', '1 ', '+1', '1e2', '01', '-0', '1.0', '99999999999999999999'])('refuses limit=%j, naming the parameter', async (value) => {
    const result = await call(server(), 'GET', `/catalog/apps?limit=${encodeURIComponent(value)}`);
    expectProblem(result, 400, 'validation_failed');
    expect(result.body.errors[0].pointer).toBe('/query/limit');
  });

  it('refuses out-of-range cursors and counts, and takes the documented range', async () => {
    expectProblem(await call(server(), 'GET', '/certification/decisions?after=99999999999999999999'), 400, 'validation_failed');
    const fhir = await fhirRequest(server(), session, 'GET', '/fhir/Observation?_count=Infinity');
    expect(fhir.status).toBe(400);
    expect(fhir.body.issue[0].expression).toEqual(['_count']);
    expect((await fhirRequest(server(), session, 'GET', '/fhir/Observation?_count=100')).status).toBe(200);
    expect((await call(server(), 'GET', '/catalog/apps?limit=100')).status).toBe(200);
  });
});

describe('form bodies with a repeated field', () => {
  it('are refused on every form of the pages, with a page, and change nothing', async () => {
    const me = pageBrowser(server);
    await me.post('/patient/sign-in', { patient_id: 'boundary-patient', return_to: '/patient/apps' });
    const cookie = [...me.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const twice = (path: string, body: string) =>
      fetch(`${server().url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: server().url, 'content-type': 'application/x-www-form-urlencoded' }, body });
    for (const [path, body] of <[string, string][]>[
      ['/patient/sign-in', 'patient_id=boundary-patient&patient_id=other'],
      ['/device', 'user_code=ABCD-EFGH&user_code=IJKL-MNOP&decision=approve'],
      ['/patient/sign-out', 'csrf_token=a&csrf_token=b'],
      ['/patient/apps/00000000-0000-4000-8000-000000000000/withdrawal', 'csrf_token=a&csrf_token=b'],
      ['/patient/apps/notices/00000000-0000-4000-8000-000000000000/dismissal', 'csrf_token=a&csrf_token=b'],
      ['/patient/authorize', 'interaction=a&interaction=b&decision=approve'],
    ]) {
      expect(await expectErrorPage(await twice(path, body), 400), path).toContain('is repeated');
    }
    // Still signed in: the refused sign-out did nothing.
    expect((await me.get('/patient/apps')).status).toBe(200);
  });

  it('are refused at the OAuth endpoints with RFC 6749 JSON', async () => {
    const result = await fetch(`${server().url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'a' }).toString() + '&grant_type=b' });
    expect(result.status).toBe(400);
    expect(await result.json()).toEqual({ error: 'invalid_request', error_description: 'parameter "grant_type" is repeated' });
  });
});

describe('media types and headers', () => {
  it('answers 415 to a body declared in another charset than UTF-8, in the family format', async () => {
    const json = await call(server(), 'POST', '/apps', { key: publisherKey, raw: JSON.stringify(appInput()), headers: { 'content-type': 'application/json; charset=utf-16' } });
    expectProblem(json, 415, 'unsupported_media_type');
    expect(json.body.detail).toContain('utf-16');
    expect((await call(server(), 'POST', '/apps', { key: publisherKey, raw: JSON.stringify(appInput()), headers: { 'content-type': 'application/json; charset=UTF-8' } })).status).toBe(201);
    const oauth = await fetch(`${server().url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }, body: 'grant_type=x' });
    expect(oauth.status).toBe(415);
    expect(await oauth.json()).toMatchObject({ error: 'invalid_request' });
    const fhir = await fhirRequest(server(), writer, 'POST', '/fhir/Observation', { raw: '{}', contentType: 'application/fhir+json; charset=latin1' });
    expect(fhir.status).toBe(415);
    expect(fhir.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] });
    const page = await fetch(`${server().url}/patient/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16', origin: server().url }, body: 'patient_id=x' });
    await expectErrorPage(page, 415);
  });

  it('refuses two Content-Type headers, two Host headers, and a target naming another host', async () => {
    const body = '{"name":"Éditeur"}';
    const twoTypes = await rawStatus(`POST /publishers HTTP/1.1\n${hostLine()}\nContent-Type: application/json\nContent-Type: text/plain\nContent-Length: ${Buffer.byteLength(body)}\nConnection: close\n\n${body}`);
    expect(twoTypes.status).toBe(400);
    expect(twoTypes.response).toContain('two Content-Type headers');
    const twoHosts = await rawStatus(`GET /healthz HTTP/1.1\n${hostLine()}\nHost: evil.example.com\nConnection: close\n\n`);
    expect(twoHosts.status).toBe(400);
    expect(twoHosts.response).toContain('two Host headers');
    const otherHost = await rawStatus(`GET http://evil.example.com/healthz HTTP/1.1\n${hostLine()}\nConnection: close\n\n`);
    expect(otherHost.status).toBe(400);
    expect(otherHost.response).toContain('another host');
    expect((await rawStatus(`GET /healthz HTTP/1.1\n${hostLine()}\nConnection: close\n\n`)).status).toBe(200);
  });
});

describe('framework-level errors', () => {
  it('answer in the format of the route family: problem, OperationOutcome under /fhir, a page for a browser', async () => {
    const badPath = await call(server(), 'GET', '/apps/%C0%AE');
    expectProblem(badPath, 400, 'validation_failed');
    const badFhirPath = await fetch(`${server().url}/fhir/Observation/%C0%AE`);
    expect(badFhirPath.status).toBe(400);
    expect(await badFhirPath.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    await expectErrorPage(await fetch(`${server().url}/patient/%C0%AE`, { headers: { accept: 'text/html,application/xhtml+xml' } }), 400);

    expectProblem(await call(server(), 'GET', '/no-such-thing'), 404, 'route_not_found');
    const unknownFhir = await fetch(`${server().url}/fhir/Dragon`);
    expect(unknownFhir.status).toBe(404);
    expect(await unknownFhir.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    await expectErrorPage(await fetch(`${server().url}/patient/nowhere`, { headers: { accept: 'text/html' } }), 404);
  });

  it('answer a body too large or of another media type in the route family format', async () => {
    const tooLarge = 'patient_id=' + 'x'.repeat(2 * 1024 * 1024);
    await expectErrorPage(await fetch(`${server().url}/patient/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server().url }, body: tooLarge }), 413);
    await expectErrorPage(await fetch(`${server().url}/patient/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', origin: server().url }, body: '{}' }), 415);
    const fhir = await fhirRequest(server(), writer, 'POST', '/fhir/Observation', { raw: 'x=1', contentType: 'text/plain' });
    expect(fhir.status).toBe(415);
    expect(fhir.body.resourceType).toBe('OperationOutcome');
    expectProblem(await call(server(), 'POST', '/publishers', { raw: 'name=x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
  });
});
