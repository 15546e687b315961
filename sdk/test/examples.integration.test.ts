// The programs of sdk/examples/, bundled with esbuild as sdk/examples/run.mjs does (packages left
// as imports: @mes/sdk is the built package, sdk/dist, which `npm test` builds first) and run
// unchanged as child processes against the real server in sandbox mode (in-process, port 0); the
// single-page app runs in Chromium.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, type PublisherClient, type Observation } from '@mes/sdk/publisher';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeInBrowser, useBrowser } from '../../catalog-api/test/browser/browser.js';
import { sampleRecord } from '../../catalog-api/test/fhir-helpers.js';
import { READY_TIMEOUT_MS, startProcess, type StartedProcess } from '../../catalog-api/test/spawn-server.js';
import { appInput, publisherRegistration } from './helpers/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = join(root, 'sdk/examples');
const entries = {
  'node-backend': 'node-backend/server.ts',
  'device-upload': 'device-upload/upload.ts',
  'cli-device-flow': 'cli-device-flow/cli.ts',
  'browser-spa': 'browser-spa/dev-server.ts',
} as const;
type Example = keyof typeof entries;

// Bundles go under the repository (its .tmp/ is gitignored) so that their imports of @mes/sdk and
// esbuild resolve as in an app's own node_modules; state files go to the system's temp dir.
let bundles: string;
let state: string;
let server: TestServer;
let apiKey: string;
let publisher: PublisherClient;
let patients = 0;

/** A patient of its own for each test, with the sample record. */
async function newPatient(): Promise<string> {
  patients += 1;
  const id = `sdk-examples-${process.pid}-${patients}`;
  await records.insertResources(server.app.db, sampleRecord(id));
  return id;
}

/** A running example: its output so far, and its exit. */
interface Program {
  output(): string;
  /** Resolves with the first match of `pattern` in the output; fails when the program ends first, or after `timeout`. */
  waitFor(pattern: RegExp, timeout?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

const running = new Set<StartedProcess>();
/** A test runs at most two programs one after the other, each given READY_TIMEOUT_MS to get going. */
const PROGRAMS_TEST_TIMEOUT_MS = 2 * READY_TIMEOUT_MS + 60_000;

/**
 * Starts an example. It is stopped when its test ends, passed, failed or timed out, and never
 * outlives the test process (catalog-api/test/spawn-server.ts); what it prints is waited for
 * within READY_TIMEOUT_MS, however loaded the machine.
 */
function run(example: Example, env: Record<string, string>, options: { cwd?: string } = {}): Program {
  const program = startProcess(join(bundles, `${example}.mjs`), { MES_API_URL: server.url, MES_API_KEY: apiKey, ...env }, { cwd: options.cwd ?? state });
  running.add(program);
  void program.exited.then(() => running.delete(program));
  return {
    output: program.output,
    exited: program.exited,
    waitFor: (pattern, timeout = READY_TIMEOUT_MS) =>
      program.waitFor(pattern, timeout).catch((error: Error) => {
        throw new Error(`${example}: ${error.message}`);
      }),
  };
}

/** Runs an example to its end; fails with its output when it exits non-zero. */
async function runToEnd(example: Example, env: Record<string, string>): Promise<string> {
  const program = run(example, env);
  const code = await program.exited;
  if (code !== 0) throw new Error(`${example} exited with ${code}:\n${program.output()}`);
  return program.output();
}

beforeAll(async () => {
  if (!existsSync(join(root, 'sdk/dist/index.js'))) throw new Error('sdk/dist is missing: run `npm run build` (npm test does it first)');
  mkdirSync(join(root, '.tmp'), { recursive: true });
  bundles = mkdtempSync(join(root, '.tmp', 'sdk-examples-'));
  state = mkdtempSync(join(tmpdir(), 'mes-sdk-examples-'));
  await Promise.all(
    Object.entries(entries).map(([name, entry]) =>
      build({
        entryPoints: [join(examples, entry)],
        outfile: join(bundles, `${name}.mjs`),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        logLevel: 'warning',
      }),
    ),
  );
  server = await startTestServer();
  const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('Exemples SAS'));
  apiKey = registered.apiKey.key;
  publisher = createPublisherClient({ baseUrl: server.url, apiKey });
});

/** Stops every example still running: SIGTERM, then SIGKILL after 3 s. */
async function stopAll(): Promise<void> {
  await Promise.all([...running].map((program) => program.stop('SIGTERM', 3_000)));
}

// A server, or a program of a test that failed half-way, does not outlive its test.
afterEach(stopAll);

afterAll(async () => {
  await server?.close();
  if (bundles) rmSync(bundles, { recursive: true, force: true });
  if (state) rmSync(state, { recursive: true, force: true });
});

/** The sample record's vital signs as /measurements shows them, newest first. */
function expectedMeasurements(patient: string) {
  const vitals = sampleRecord(patient)
    .map((item) => item.resource as Observation)
    .filter((resource) => resource.resourceType === 'Observation' && resource.category?.[0]?.coding?.[0]?.code === 'vital-signs')
    .sort((a, b) => b.effectiveDateTime!.localeCompare(a.effectiveDateTime!));
  return vitals.map((observation) => ({
    date: observation.effectiveDateTime,
    loinc: observation.code.coding![0]!.code,
    value: observation.valueQuantity?.value,
    components: observation.component?.map((part) => part.valueQuantity!.value),
  }));
}

describe('node-backend', () => {
  it('signs a patient in with PAR and private_key_jwt, pages through their measurements, and keeps the session across a restart', { timeout: PROGRAMS_TEST_TIMEOUT_MS }, async () => {
    const patient = await newPatient();
    const env = { PORT: '0', STATE_DIR: join(state, 'node-backend') };
    const backend = run('node-backend', env);
    const origin = (await backend.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;

    const login = await fetch(`${origin}/login?patient=${patient}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const loginCookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
    const authorization = new URL(login.headers.get('location')!);
    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${server.url}/oauth/authorize`);
    // Pushed (PAR): the browser carries only the client and the request's handle.
    expect([...authorization.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);

    // The sandbox pre-approves the login_hint's consent: straight back to the backend's /callback.
    const consent = await fetch(authorization, { redirect: 'manual' });
    expect(consent.status).toBe(303);
    const callback = new URL(consent.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${origin}/callback`);
    const back = await fetch(callback, { headers: { cookie: loginCookie }, redirect: 'manual' });
    expect(back.status, await back.clone().text()).toBe(303);
    expect(back.headers.get('location')).toBe('/measurements');
    // Signed in: a new cookie; the one of the sign-in (which could have been planted) no longer works.
    const cookie = back.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).not.toBe(loginCookie);
    expect((await fetch(`${origin}/measurements`, { headers: { cookie: loginCookie } })).status).toBe(401);
    expect((await fetch(callback, { headers: { cookie: loginCookie }, redirect: 'manual' })).status).toBe(400);

    const expected = expectedMeasurements(patient);
    const measurements = async () => {
      const response = await fetch(`${origin}/measurements`, { headers: { cookie } });
      expect(response.status, await response.clone().text()).toBe(200);
      const body = (await response.json()) as { patient: string; count: number; measurements: Array<{ date: string; loinc: string; value?: number; components?: Array<{ value: number }> }> };
      expect(body.patient).toBe(patient);
      expect(body.count).toBe(expected.length);
      expect(body.measurements.map((m) => ({ date: m.date, loinc: m.loinc, value: m.value, components: m.components?.map((part) => part.value) }))).toEqual(expected);
    };
    await measurements();
    expect(expected.map((m) => m.value ?? m.components)).toEqual([70.1, 70.9, 70.5, [128, 82], 70.8, 71.2]);
    expect((await fetch(`${origin}/measurements`)).status).toBe(401);
    // The state file holds refresh tokens and private keys: no one else may read it.
    for (const file of ['tokens.json', 'client-key.json']) expect(statSync(join(env.STATE_DIR, file)).mode & 0o777).toBe(0o600);

    // Restarted (on another port): the same key, so the same client; the user's session from the
    // file; and, its access token expired meanwhile, refreshed (offline access, private_key_jwt).
    await stopAll();
    const again = run('node-backend', env);
    const newOrigin = (await again.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const clientId = /OAuth client (\S+)\)/.exec(backend.output())![1]!;
    expect(again.output()).toContain(`(OAuth client ${clientId})`);
    await publisher.sandbox.expireTokens(clientId);
    const restarted = await fetch(`${newOrigin}/measurements`, { headers: { cookie } });
    expect(restarted.status).toBe(200);
    expect(((await restarted.json()) as { count: number }).count).toBe(expected.length);
    const app = (await publisher.apps.list().all({ limit: 100 })).find((each) => each.name === 'Mes mesures (exemple backend)')!;
    expect(app.redirectUris).toEqual([`${newOrigin}/callback`]);
    expect((await publisher.clients.list(app.id)).items.filter((client) => client.type === 'confidential')).toHaveLength(1);
    // What the sandbox saw of the backend: PAR, DPoP on every request, one refresh.
    const report = await publisher.sandbox.report(clientId);
    expect(report).toMatchObject({ authorization: { requests: 1, pushed: 1 }, refreshes: 1, grantTypes: { authorization_code: 1, refresh_token: 1 } });
    expect(report.dpop.resourceRequestsWithProof).toBe(report.dpop.resourceRequests);
  });
});

describe('device-upload', () => {
  it('uploads a batch of weighings once: a second run records nothing new', { timeout: PROGRAMS_TEST_TIMEOUT_MS }, async () => {
    const patient = await newPatient();
    const day = 24 * 3600_000;
    const readings = [80.4, 80.1, 79.8].map((kg, i) => ({ id: `w-${process.pid}-${i + 1}`, takenAt: new Date(Date.now() - (3 - i) * day).toISOString(), kg }));
    const readingsFile = join(state, 'readings.json');
    writeFileSync(readingsFile, JSON.stringify(readings));
    const env = { READINGS_FILE: readingsFile, STATE_DIR: join(state, 'device-upload'), DEVICE_ID: `scale-${process.pid}` };

    const first = await runToEnd('device-upload', { ...env, MES_PATIENT: patient });
    expect(first).toContain(`Authorized for patient ${patient}: offline_access patient/Observation.c?category=vital-signs.`);
    expect(first).toContain('3 new, 0 already uploaded.');
    // No MES_PATIENT: the second run works with the stored grant, and re-sends every reading.
    const second = await runToEnd('device-upload', env);
    expect(second).toContain(`Authorized for patient ${patient} (stored).`);
    expect(second).toContain('0 new, 3 already uploaded.');
    const ids = (output: string) => [...output.matchAll(/→ (Observation\/\S+)/g)].map((match) => match[1]);
    expect(ids(second)).toEqual(ids(first));

    // What the record holds, read by another app of the publisher.
    const reader = await publisher.apps.create(appInput({ name: 'Lecteur de pesées', scopes: [{ scope: 'patient/Observation.rs', justification: 'Vérifier les pesées déposées.' }] }));
    const [client] = (await publisher.clients.list(reader.id)).items;
    const mes = createPublisherClient({ baseUrl: server.url, clientId: client!.clientId, redirectUri: reader.redirectUris[0], scope: ['patient/Observation.rs'] });
    await mes.sandbox.signIn({ patient });
    const weights = await mes.fhir.search('Observation', { code: 'http://loinc.org|29463-7', date: `ge${readings[0]!.takenAt.slice(0, 10)}`, _sort: 'date' }).all({ limit: 50 });
    expect(weights.map((weight) => [weight.effectiveDateTime, weight.valueQuantity?.value, weight.device?.display])).toEqual(
      readings.map((reading) => [reading.takenAt, reading.kg, `Balance connectée scale-${process.pid}`]),
    );
  });
});

describe('cli-device-flow', () => {
  it('prints a code, and once it is approved at /device lists the publisher’s apps', { timeout: PROGRAMS_TEST_TIMEOUT_MS }, async () => {
    const registered = await createPublisherClient({ baseUrl: server.url }).publishers.register(publisherRegistration('Ligne de commande SAS'));
    const own = createPublisherClient({ baseUrl: server.url, apiKey: registered.apiKey.key });
    await own.apps.create(appInput({ name: 'Tensio A' }));
    await own.apps.create(appInput({ name: 'Tensio B' }));

    const cli = run('cli-device-flow', { MES_API_KEY: '' });
    const [, verificationUri, userCode] = await cli.waitFor(/open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})/);
    expect(verificationUri).toBe(`${server.url}/device`);
    // The person approves in a browser with their publisher API key.
    const approval = await fetch(`${server.url}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: userCode!, api_key: registered.apiKey.key, decision: 'approve' }),
    });
    expect(approval.status).toBe(200);
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toContain('Signed in (platform/apps.read).');
    expect(cli.output()).toMatch(/Your apps:\n {2}Tensio A {2}\[draft\] {2}\S+\n {2}Tensio B {2}\[draft\] {2}\S+\n$/);
  });
});

describeInBrowser('browser-spa', () => {
  const browser = useBrowser();

  it('signs in with the button, lists the vaccinations, keeps them on reload, and signs out', { timeout: PROGRAMS_TEST_TIMEOUT_MS }, async () => {
    const patient = await newPatient();
    const spa = run('browser-spa', { PORT: '0' }, { cwd: join(examples, 'browser-spa') });
    const origin = (await spa.waitFor(/Serving the SPA on (http:\/\/127\.0\.0\.1:\d+)\//))[1]!;
    const page = await browser.newPage({ javaScriptEnabled: true });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    // Chromium also logs every 4xx as an error, and the token endpoint's DPoP nonce challenge is one.
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    const listed = () => page.locator('#vaccinations li').allTextContents();
    const shown = async () => `status "${await page.locator('#status').textContent()}", page errors: ${problems.join(' | ') || 'none'}`;

    // A step that fails (CORS missing on the platform, a refused token…) says what the page saw.
    const step = <T>(promise: Promise<T>) =>
      promise.catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await shown()}`);
      });
    await page.goto(`${origin}/?patient=${patient}`);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    // The platform's redirect brings the browser back to the page, which exchanges the code.
    await step(page.waitForURL(`${origin}/`));
    await step(expect.poll(listed, { timeout: 10_000 }).toEqual(['20 octobre 2025 : Grippe', '1 juin 2025 : dTP']));
    expect(await page.locator('#status').textContent()).toBe('2 vaccination(s).');

    await page.reload();
    await expect.poll(listed, { timeout: 10_000 }).toHaveLength(2);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toBe('Vous êtes déconnecté.');
    // Signed out for good: the tab's storage no longer holds an authorization.
    await page.reload();
    await expect.poll(() => page.locator('#status').textContent()).toBe('Connectez-vous pour voir vos vaccinations.');
    expect(problems).toEqual([]);
  });
});

