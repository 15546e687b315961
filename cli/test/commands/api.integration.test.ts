// `mes api <operationId>` against a real server: the list covers the spec, public and
// authenticated calls, bodies from a file, standard input and --field, form bodies, text answers,
// redirects, FHIR calls with the saved sandbox token, and the exit-code contract (1 for 4xx, 2 for
// 5xx, no answer and wrong flags).
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { records, type TestServer } from '@mes/catalog-api';
import type { App } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../catalog-api/test/fhir-helpers.js';
import type { ListedOperation } from '../../src/commands/api/index.js';
import type { ErrorJson } from '../../src/base-command.js';
import { cliRoot, mes, mesProcess, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { registerPublisher, writeAppFile } from '../helpers/fixtures.js';

const PATIENT = 'cli-api-patient';
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
let owner: { key: string; id: string };
let appFile: string;
let workDir: string;
const withKey = () => ({ MES_API_KEY: owner.key });

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  await records.insertResources(server.app.db, sampleRecord(PATIENT, { family: 'Durand', given: 'Éloïse', birthDate: '1975-02-03' }));
  owner = await registerPublisher(server.url, 'Api SAS');
  // The config directory itself is created by "mes login"; files go next to it.
  workDir = dirname(config.dir);
  appFile = await writeAppFile(workDir, {
    name: 'ApiApp',
    redirectUris: [redirectUri],
    scopes: ['launch/patient', 'patient/Patient.rs', 'patient/Observation.rs'].map((scope) => ({ scope, justification: 'Pour les tests.' })),
  });
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

async function specOperationIds(): Promise<string[]> {
  const spec = JSON.parse(await readFile(join(cliRoot, '../openapi/dist/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };
  return Object.values(spec.paths)
    .flatMap((item) => Object.entries(item).filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method)))
    .map(([, operation]) => operation.operationId!)
    .sort();
}

async function createApp(name: string): Promise<App> {
  const { result, exitCode, stdout } = await mes<App>(['api', 'createApp', '--body', appFile, '--field', `name=${name}`, '--json'], withKey());
  expect(exitCode, stdout).toBe(0);
  return result!;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('mes api --list', () => {
  it('--json lists every operation of the spec, once', async () => {
    const { stdout, exitCode } = await mes<ListedOperation[]>(['api', '--list', '--json']);
    expect(exitCode).toBe(0);
    const listed = JSON.parse(stdout) as ListedOperation[];
    expect(listed.map((operation) => operation.operationId).sort()).toEqual(await specOperationIds());
    expect(listed.find((operation) => operation.operationId === 'getApp')).toEqual({
      operationId: 'getApp',
      method: 'GET',
      path: '/apps/{appId}',
      summary: expect.any(String),
      tag: 'apps',
      security: expect.arrayContaining(['publisherApiKey']),
    });
  });

  it('prints a table, filters by --tag, and helps with a misspelt operation', async () => {
    const { stdout } = await mes(['api', '--list', '--tag', 'catalog']);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^OPERATION\s+METHOD\s+PATH\s+SUMMARY$/);
    expect(rows.filter((row) => /^\w+\s+(GET|POST)/.test(row)).map((row) => row.split(/\s+/)[0])).toEqual(['getCatalogApp', 'listCatalogApps']);
    expect(stdout).toContain('mes api <operationId>');

    const misspelt = await mes(['api', 'getapp']);
    expect(misspelt.exitCode).toBe(1);
    expect(misspelt.error?.message).toContain('did you mean "mes api getApp"?');
  });

  it('has --help with examples and the exit codes for each operation', async () => {
    const { stdout } = await mes(['api', 'getApp', '--help']);
    expect(stdout).toContain('--app-id=<uuid>');
    expect(stdout).toContain('GET /apps/{appId}');
    expect(stdout).toMatch(/Exit codes: 0 when the server answers 2xx/);
    expect(stdout).toContain('$ mes api getApp --app-id "$APP_ID"');
  });
});

describe('mes api <operationId>', () => {
  it('calls a public operation: --json prints only the response body', async () => {
    const health = await mes(['api', 'getHealth', '--json']);
    expect(health.exitCode).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: expect.any(String) });

    const catalog = await mes(['api', 'listCatalogApps', '--limit', '5', '--json']);
    expect(catalog.exitCode).toBe(0);
    expect(JSON.parse(catalog.stdout)).toEqual({ items: [], nextCursor: null });

    const human = await mes(['api', 'listCatalogApps']);
    expect(human.stdout).toBe(`${JSON.stringify({ items: [], nextCursor: null }, null, 2)}\n`);
  });

  it('sends the API key to an authenticated operation, with a path parameter', async () => {
    const app = await createApp('ByPath');
    const shown = await mes<App>(['api', 'getApp', '--app-id', app.id, '--json'], withKey());
    expect(shown.exitCode).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: app.id, name: 'ByPath', publisherId: owner.id, certificationStatus: 'draft' });

    // The key saved by "mes login" works as MES_API_KEY does.
    const login = await tempConfigDir();
    try {
      const env = { MES_CONFIG_DIR: login.dir };
      expect((await mes(['login', '--api-key', owner.key], env)).exitCode).toBe(0);
      expect((await mes<App>(['api', 'getApp', '--app-id', app.id, '--json'], env)).result).toMatchObject({ id: app.id });
    } finally {
      await login.remove();
    }
  });

  it('POSTs --body from a file, --field over it, and --body - from standard input', async () => {
    const fromFile = await mes<App>(['api', 'createApp', '--body', appFile, '--json'], withKey());
    expect(fromFile.exitCode).toBe(0);
    expect(fromFile.result).toMatchObject({ name: 'ApiApp', redirectUris: [redirectUri] });

    const overridden = await mes<App>(['api', 'createApp', '--body', appFile, '--field', 'name=Fielded', '--field', 'category=prevention', '--json'], withKey());
    expect(overridden.exitCode).toBe(0);
    expect(overridden.result).toMatchObject({ name: 'Fielded', category: 'prevention', redirectUris: [redirectUri] });

    // JSON values, and repeated array fields adding items (a real process: runCommand would strip the quotes).
    const spawned = await mesProcess(
      ['api', 'createApp', '--body', '-', '--field', 'name=Spawned', '--field', 'redirectUris=https://a.example.fr/cb', '--field', 'redirectUris=http://127.0.0.1:8765/cb', '--field', 'supportContact={"email":"aide@spawned.example.fr"}', '--json'],
      { ...withKey(), MES_CONFIG_DIR: config.dir, MES_API_URL: server.url },
      await readFile(appFile, 'utf8'),
    );
    expect(spawned.exitCode, spawned.stderr).toBe(0);
    expect(JSON.parse(spawned.stdout)).toMatchObject({
      name: 'Spawned',
      redirectUris: ['https://a.example.fr/cb', 'http://127.0.0.1:8765/cb'],
      supportContact: { email: 'aide@spawned.example.fr' },
    });
  });

  it('PATCHes with --field alone, and DELETEs (no content: nothing on stdout under --json)', async () => {
    const app = await createApp('ToPatch');
    const patched = await mes<App>(['api', 'updateApp', '--app-id', app.id, '--field', 'name=Patched', '--json'], withKey());
    expect(patched.result).toMatchObject({ id: app.id, name: 'Patched' });

    const deleted = await mes(['api', 'deleteApp', '--app-id', app.id, '--json'], withKey());
    expect(deleted.exitCode).toBe(0);
    expect(deleted.stdout).toBe('');
    const human = await mes(['api', 'deleteApp', '--app-id', app.id], withKey());
    expect(human.exitCode).toBe(1);
  });

  it('a 404 exits with 1 and prints the problem: code, message and request id', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const json = await mes(['api', 'getApp', '--app-id', missing, '--json'], withKey());
    expect(json.exitCode).toBe(1);
    const { error } = JSON.parse(json.stdout) as ErrorJson;
    expect(error).toMatchObject({ code: 'not_found', status: 404, requestId: expect.any(String) });
    expect(error.message).toMatch(/^not_found: .+ \(request id .+\)$/);

    const human = await mes(['api', 'getApp', '--app-id', missing], withKey());
    expect(human.exitCode).toBe(1);
    expect(human.error?.message).toMatch(/^not_found: .+ \(request id .+\)$/);

    const catalogue = await mes(['api', 'getCatalogApp', '--app-id', missing, '--json']);
    expect(catalogue.exitCode).toBe(1);
    expect((JSON.parse(catalogue.stdout) as ErrorJson).error.code).toBe('not_found');
  });

  it('reports the invalid fields of a 400 with their JSON pointers', async () => {
    const { exitCode, stdout } = await mes(['api', 'createApp', '--field', 'name=X', '--json'], withKey());
    expect(exitCode).toBe(1);
    const { error } = JSON.parse(stdout) as ErrorJson;
    expect(error.code).toBe('validation_failed');
    expect(error.errors?.length).toBeGreaterThan(0);
    expect(error.errors?.[0]).toEqual({ pointer: expect.any(String), detail: expect.any(String) });
  });

  it('without a key, an authenticated operation answers 401 (exit 1) with a hint', async () => {
    const { exitCode, error } = await mes(['api', 'listApps'], { MES_API_KEY: undefined });
    expect(exitCode).toBe(1);
    expect(error?.message).toMatch(/^\w+: /);
    expect(error?.message).toContain('mes login --api-key');
  });

  it('refuses a missing required path flag before calling the server', async () => {
    const human = await mes(['api', 'getApp'], withKey());
    expect(human.exitCode).toBe(2);
    expect(human.error?.message).toContain('Missing required flag app-id');
    const json = await mes(['api', 'getApp', '--json'], withKey());
    expect(json.exitCode).toBe(2);
    expect((JSON.parse(json.stdout) as ErrorJson).error.message).toContain('Missing required flag app-id');
  });

  it('refuses a missing required body, an unreadable file and a malformed --field (exit 1)', async () => {
    const noBody = await mes(['api', 'createApp', '--json'], withKey());
    expect(noBody.exitCode).toBe(1);
    expect((JSON.parse(noBody.stdout) as ErrorJson).error.code).toBe('missing_body');
    const noFile = await mes(['api', 'createApp', '--body', join(workDir, 'nope.json'), '--json'], withKey());
    expect((JSON.parse(noFile.stdout) as ErrorJson).error.code).toBe('invalid_file');
    const badField = await mes(['api', 'createApp', '--field', 'novalue', '--json'], withKey());
    expect(badField.exitCode).toBe(1);
    expect((JSON.parse(badField.stdout) as ErrorJson).error.code).toBe('invalid_flag');
  });

  it('a connection failure exits with 2', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { exitCode, stdout } = await mes(['api', 'getHealth', '--api-url', url, '--json']);
    expect(exitCode).toBe(2);
    expect((JSON.parse(stdout) as ErrorJson).error.code).toBe('connection_failed');
    const real = await mesProcess(['api', 'getHealth', '--api-url', url], {});
    expect(real.exitCode).toBe(2);
    expect(real.stderr).toContain(`Cannot reach ${url}`);
  });

  it('sends form bodies (OAuth), and prints text answers and redirects as they are', async () => {
    const device = await mes<{ device_code: string; user_code: string }>(['api', 'deviceAuthorization', '--field', 'client_id=mes-cli', '--json']);
    expect(device.exitCode, device.stdout).toBe(0);
    expect(JSON.parse(device.stdout)).toMatchObject({ device_code: expect.any(String), user_code: expect.any(String) });

    const refused = await mes(['api', 'deviceAuthorization', '--field', 'client_id=nobody', '--json']);
    expect(refused.exitCode).toBe(1);
    // An RFC 6749 error: its `error` is the code.
    expect((JSON.parse(refused.stdout) as ErrorJson).error).toMatchObject({ code: 'unauthorized_client', status: 400 });

    const css = await mes(['api', 'getStylesheet', '--json']);
    expect(css.exitCode).toBe(0);
    expect(css.stdout).toMatch(/[{}]/);
    expect(() => JSON.parse(css.stdout)).toThrow();

    const redirect = await mes(['api', 'switchLanguage', '--lang', 'en', '--return-to', '/catalogue', '--json']);
    expect(redirect.exitCode).toBe(0);
    expect(JSON.parse(redirect.stdout)).toMatchObject({ status: 303, location: expect.stringContaining('/catalogue') });
  });
});

describe('mes api with the sandbox token (FHIR)', () => {
  let clientId: string;

  beforeAll(async () => {
    expect((await mes(['login', '--api-key', owner.key])).exitCode).toBe(0);
    const app = await createApp('FhirApp');
    const token = await mes<{ clientId: string }>(['sandbox', 'token', '--app', app.id, '--patient', PATIENT, '--json']);
    expect(token.exitCode, token.stdout).toBe(0);
    clientId = token.result!.clientId;
  });

  it('reads and searches with the saved token and a DPoP proof per request', async () => {
    const patient = await mes(['api', 'readPatient', '--id', PATIENT, '--json']);
    expect(patient.exitCode, patient.stdout).toBe(0);
    expect(JSON.parse(patient.stdout)).toMatchObject({ resourceType: 'Patient', id: PATIENT });

    const bundle = await mes(['api', 'searchObservation', '--code', 'http://loinc.org|29463-7', '--count', '2', '--json']);
    expect(bundle.exitCode, bundle.stdout).toBe(0);
    expect(JSON.parse(bundle.stdout)).toMatchObject({ resourceType: 'Bundle', entry: expect.any(Array) });
    expect((JSON.parse(bundle.stdout) as { entry: unknown[] }).entry).toHaveLength(2);

    const count = await mes(['api', 'searchObservation', '--code', 'http://loinc.org|29463-7', '--summary', 'count', '--json']);
    expect(count.exitCode, count.stdout).toBe(0);
    expect(JSON.parse(count.stdout)).toMatchObject({ resourceType: 'Bundle', total: 5 });
  });

  it('reads conditionally: a 304 prints nothing under --json, and says so otherwise', async () => {
    // runCommand strips the quotes of an entity tag: `*` names any version.
    const current = await mes(['api', 'readPatient', '--id', PATIENT, '--if-none-match', '*', '--json']);
    expect(current.exitCode).toBe(0);
    expect(current.stdout).toBe('');
    const said = await mes(['api', 'readPatient', '--id', PATIENT, '--if-modified-since', '"Fri, 01 Jan 2100 00:00:00 GMT"']);
    expect(said.exitCode).toBe(0);
    expect(said.stdout.trim()).toBe('304 Not Modified');
    const changed = await mes(['api', 'readPatient', '--id', PATIENT, '--if-modified-since', '"Mon, 01 Jan 2001 00:00:00 GMT"', '--json']);
    expect(JSON.parse(changed.stdout)).toMatchObject({ resourceType: 'Patient' });
  });

  it('a FHIR 404 exits with 1, a 503 with 2', async () => {
    const missing = await mes(['api', 'readPatient', '--id', 'someone-else', '--json']);
    expect(missing.exitCode).toBe(1);
    expect((JSON.parse(missing.stdout) as ErrorJson).error.status).toBe(404);

    expect((await mes(['sandbox', 'inject', clientId, '--fault', 'unavailable', '--target', 'fhir'])).exitCode).toBe(0);
    const unavailable = await mes(['api', 'readPatient', '--id', PATIENT, '--json']);
    expect(unavailable.exitCode).toBe(2);
    expect((JSON.parse(unavailable.stdout) as ErrorJson).error.status).toBe(503);
  });

  it('sends the token to the server that issued it only', async () => {
    const { url, requests, close } = await recordingServer();
    try {
      expect((await mes(['api', 'readPatient', '--id', PATIENT, '--api-url', url, '--json'])).exitCode).toBe(0);
      expect(requests[0]?.headers.authorization).toBeUndefined();
      expect(requests[0]?.headers.dpop).toBeUndefined();
    } finally {
      await close();
    }
  });
});

describe('the request on the wire', () => {
  it('encodes path segments, repeats array query parameters, sends headers, Accept and the key', async () => {
    const { url, requests, close } = await recordingServer();
    try {
      const args = ['api', 'searchObservation', '--api-url', url, '--date', 'ge2026-01-01', '--date', 'lt2026-07-01', '--count', '5', '--sort', '-date', '--json'];
      expect((await mes(args)).exitCode).toBe(0);
      expect(requests[0]).toMatchObject({ method: 'GET', url: '/fhir/Observation?date=ge2026-01-01&date=lt2026-07-01&_count=5&_sort=-date' });
      expect(requests[0]!.headers.accept).toBe('application/fhir+json');

      expect((await mes(['api', 'getApp', '--api-url', url, '--app-id', 'a/b?c', '--json'], withKey())).exitCode).toBe(0);
      expect(requests[1]).toMatchObject({ method: 'GET', url: '/apps/a%2Fb%3Fc' });
      expect(requests[1]!.headers).toMatchObject({ authorization: `Bearer ${owner.key}`, accept: 'application/json, application/problem+json' });

      // A public operation never gets the key.
      expect((await mes(['api', 'getHealth', '--api-url', url, '--json'], withKey())).exitCode).toBe(0);
      expect(requests[2]!.headers.authorization).toBeUndefined();

      const dotted = await mes(['api', 'getApp', '--api-url', url, '--app-id', '..', '--json'], withKey());
      expect(dotted.exitCode).toBe(1);
      expect((JSON.parse(dotted.stdout) as ErrorJson).error.code).toBe('invalid_flag');

      const form = await mes(['api', 'token', '--api-url', url, '--dpop', 'proof', '--field', 'grant_type=refresh_token', '--field', 'refresh_token=r1', '--json']);
      expect(form.exitCode).toBe(0);
      expect(requests[3]).toMatchObject({ method: 'POST', url: '/oauth/token', body: 'grant_type=refresh_token&refresh_token=r1' });
      expect(requests[3]!.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', dpop: 'proof' });
      expect(requests).toHaveLength(4);
    } finally {
      await close();
    }
  });

  it('a 5xx exits with 2 and an answer that is not a problem still gets a code', async () => {
    const { url, close } = await recordingServer(502, 'text/html', '<h1>Bad gateway</h1>');
    try {
      const { exitCode, stdout } = await mes(['api', 'getHealth', '--api-url', url, '--json']);
      expect(exitCode).toBe(2);
      expect((JSON.parse(stdout) as ErrorJson).error).toMatchObject({ code: 'http_502', status: 502 });
    } finally {
      await close();
    }
  });
});

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP server that records each request and answers the same thing to all. */
async function recordingServer(status = 200, contentType = 'application/json', body = '{"ok":true}') {
  const requests: Recorded[] = [];
  const server = createHttpServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      requests.push({ method: request.method!, url: request.url!, headers: request.headers, body: text });
      response.writeHead(status, { 'content-type': contentType }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}
