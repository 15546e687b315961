// `mes sandbox exercise` against a real sandbox server: the reference run plays the app's public
// client through the SDK, and the client's traffic report then shows what the sandbox checks of
// certification look for. Also: the refresh skipped without offline_access, and the failures.
import { readdir } from 'node:fs/promises';
import { records, startTestServer, type TestServer } from '@mes/catalog-api';
import { createPublisherClient, type App, type Client } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../catalog-api/test/fhir-helpers.js';
import type { ErrorJson } from '../../src/base-command.js';
import type { ExerciseResult } from '../../src/commands/sandbox/exercise.js';
import { mes, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { appInput, registerPublisher, writeAppFile } from '../helpers/fixtures.js';

const PATIENT = 'cli-exercise-patient';
const OTHER_PATIENT = 'cli-exercise-other';
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
const appScopes = ['offline_access', 'launch/patient', 'patient/Observation.rs', 'patient/Patient.rs', 'patient/Immunization.rs'];

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
let owner: { key: string; id: string };

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  await records.insertResources(server.app.db, [
    ...sampleRecord(PATIENT, { family: 'Exercice', given: 'Anna' }),
    ...sampleRecord(OTHER_PATIENT, { family: 'Exercice', given: 'Marc' }),
  ]);
  owner = await registerPublisher(server.url, 'Exercise SAS');
  expect((await mes(['login', '--api-key', owner.key])).exitCode).toBe(0);
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

async function newApp(name: string, scopes: readonly string[]): Promise<App> {
  const file = await writeAppFile(config.dir, { name, redirectUris: [redirectUri], scopes: scopes.map((scope) => ({ scope, justification: 'Pour les tests.' })) }, `${name}.json`);
  const created = await mes<App>(['apps', 'create', '--file', file, '--json']);
  expect(created.exitCode, created.stdout).toBe(0);
  return created.result!;
}

const publicClientOf = async (appId: string): Promise<string> =>
  (await createPublisherClient({ baseUrl: server.url, apiKey: owner.key }).clients.list(appId)).items.find((client) => client.type === 'public')!.clientId;

describe('mes sandbox exercise', () => {
  it('plays the public client through every step; the report shows what certification looks for', async () => {
    const app = await newApp('ExerciseApp', appScopes);
    const clientId = await publicClientOf(app.id);
    const before = await readdir(config.dir);
    const { stdout, exitCode, error } = await mes(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT]);
    expect(exitCode, `${stdout}\n${error?.message}`).toBe(0);

    // Each step printed as it runs, then the table, the report and where the checks are previewed.
    expect(stdout).toContain(`Exercising client ${clientId} of app ${app.id} as patient ${PATIENT}`);
    for (const [index, title] of ['Sign the patient in', 'One FHIR search', 'Expire the access tokens', 'Inject a 429', 'Withdraw the grant', 'Read the traffic report'].entries()) {
      expect(stdout).toContain(`[${index + 1}/6] ${title}`);
    }
    expect(stdout).toMatch(/signed in: the authorization request pushed first \(PAR\)/);
    expect(stdout).toMatch(/Patient 1, Observation \d+, Immunization 2 \(resources on the first page, _count=5\)/);
    expect(stdout).toMatch(/the SDK threw ReauthorizationRequiredError \(consent_withdrawn\), forgot the tokens and made no further call/);
    const tableLines = stdout.split('\n').filter((line) => /^(STEP|sign_in|search|refresh|rate_limit|withdrawn_grant|report)\s+/.test(line));
    expect(tableLines[0]).toMatch(/^STEP\s+OUTCOME\s+DETAIL$/);
    expect(tableLines.slice(1).map((line) => line.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'sign_in ok',
      'search ok',
      'refresh ok',
      'rate_limit ok',
      'withdrawn_grant ok',
      'report ok',
    ]);
    expect(stdout).toMatch(/^Authorizations:\s+1 \(1 pushed with PAR, 1 with PKCE S256\)$/m);
    expect(stdout).toMatch(/^After a 429:\s+1: 1 waited for Retry-After, 0 retried too soon$/m);
    expect(stdout).toContain(`"mes apps checks ${app.id} --sandbox-client ${clientId}"`);
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^Certification reads the app's own traffic, not this reference run/);
    // The SDK kept its tokens and keys in memory: nothing was written to the configuration directory.
    expect(await readdir(config.dir)).toEqual(before);

    const report = (await createPublisherClient({ baseUrl: server.url, apiKey: owner.key }).sandbox.report(clientId));
    expect(report.authorization.pushed).toBeGreaterThanOrEqual(1);
    expect(report.authorization.pkce).toBe(report.authorization.requests);
    expect(report.refreshes).toBeGreaterThanOrEqual(1);
    expect(report.grantTypes).toMatchObject({ authorization_code: 1, refresh_token: 1 });
    expect(report.dpop.tokenRequestsWithProof).toBe(report.dpop.tokenRequests);
    expect(report.dpop.resourceRequestsWithProof).toBe(report.dpop.resourceRequests);
    expect(report.reactions.rateLimited).toMatchObject({ count: 1, retriedTooSoon: 0 });
    expect(report.reactions.grantEnded.count).toBeGreaterThanOrEqual(1);
    expect(report.reactions.grantEnded.retried).toBe(0);
    expect(report.scopes).toMatchObject({ refusedCalls: 0, unusedResourceScopes: [], resourceTypesCalled: ['Immunization', 'Observation', 'Patient'] });

    // What certification would conclude from this traffic: every sandbox check passes.
    const run = await createPublisherClient({ baseUrl: server.url, apiKey: owner.key }).certification.runAppChecks(app.id, { sandboxClientId: clientId });
    const sandboxChecks = Object.fromEntries(run.results.filter((check) => check.group === 'sandbox').map((check) => [check.id, check.status]));
    expect(sandboxChecks).toEqual({
      'sandbox.complete_flow': 'pass',
      'sandbox.refresh': 'pass',
      'sandbox.withdrawn_grant': 'pass',
      'sandbox.rate_limit': 'pass',
      'sandbox.scope_adherence': 'pass',
      'sandbox.least_privilege': 'pass',
    });
  });

  it('--json returns the client, the patient, the steps and the report after the run', async () => {
    const app = await newApp('ExerciseJson', appScopes);
    const clientId = await publicClientOf(app.id);
    const { stdout, exitCode } = await mes<ExerciseResult>(['sandbox', 'exercise', '--app', app.id, '--patient', OTHER_PATIENT, '--json']);
    expect(exitCode, stdout).toBe(0);
    const result = JSON.parse(stdout) as ExerciseResult;
    expect(Object.keys(result)).toEqual(['clientId', 'patient', 'steps', 'report']);
    expect(result).toMatchObject({ clientId, patient: OTHER_PATIENT, report: { clientId } });
    expect(result.steps.map(({ step, outcome }) => `${step} ${outcome}`)).toEqual([
      'sign_in ok',
      'search ok',
      'refresh ok',
      'rate_limit ok',
      'withdrawn_grant ok',
      'report ok',
    ]);
    for (const step of result.steps) expect(Object.keys(step)).toEqual(['step', 'outcome', 'detail']);
    expect(result.report).toMatchObject({
      authorization: { pushed: 1 },
      refreshes: 1,
      reactions: { rateLimited: { count: 1, retriedTooSoon: 0 }, grantEnded: { count: 1, retried: 0 } },
    });
    expect(result.steps.find((step) => step.step === 'report')!.detail).toContain(`${result.report.requests} request(s)`);
  });

  it('without offline_access the refresh step is skipped, and says why', async () => {
    const app = await newApp('ExerciseNoRefresh', ['patient/Immunization.rs', 'patient/Observation.rs?category=vital-signs']);
    const { stdout, exitCode } = await mes<ExerciseResult>(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT, '--json']);
    expect(exitCode, stdout).toBe(0);
    const result = JSON.parse(stdout) as ExerciseResult;
    expect(result.steps.map(({ step, outcome }) => `${step} ${outcome}`)).toEqual([
      'sign_in ok',
      'search ok',
      'refresh skipped',
      'rate_limit ok',
      'withdrawn_grant ok',
      'report ok',
    ]);
    expect(result.steps[2]!.detail).toMatch(/^offline_access was not granted/);
    expect(result.report).toMatchObject({ refreshes: 0, grantTypes: { authorization_code: 1 }, scopes: { refusedCalls: 0 } });
    expect(result.report.grantTypes).not.toHaveProperty('refresh_token');
  });

  it('--client plays another public client of the app; a confidential or unknown one is refused', async () => {
    const app = await newApp('ExerciseClients', appScopes);
    const sdk = createPublisherClient({ baseUrl: server.url, apiKey: owner.key });
    const second: Client = await sdk.clients.create(app.id, { type: 'public' });
    const { result, exitCode, stdout } = await mes<ExerciseResult>(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT, '--client', second.clientId, '--json']);
    expect(exitCode, stdout).toBe(0);
    expect(result!.clientId).toBe(second.clientId);
    // The app's first client saw nothing of the run.
    expect((await sdk.sandbox.report(await publicClientOf(app.id))).requests).toBe(0);

    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const confidential = await sdk.clients.create(app.id, { type: 'confidential', jwks: { keys: [{ kty: kty!, crv: crv!, x: x!, y: y!, kid: 'k1' }] } as never });
    for (const clientId of [confidential.clientId, 'mes_not_of_this_app']) {
      const refused = await mes(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT, '--client', clientId, '--json']);
      expect(refused.exitCode).toBe(1);
      expect((JSON.parse(refused.stdout) as ErrorJson).error.code).toBe('invalid_flag');
    }
  });

  it('refuses to start while faults are pending for the client', async () => {
    const app = await newApp('ExerciseFaults', appScopes);
    const clientId = await publicClientOf(app.id);
    expect((await mes(['sandbox', 'inject', clientId, '--fault', 'unavailable', '--target', 'fhir'])).exitCode).toBe(0);
    const refused = await mes(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT, '--json']);
    expect(refused.exitCode).toBe(1);
    expect((JSON.parse(refused.stdout) as ErrorJson).error.code).toBe('faults_pending');
    expect((await createPublisherClient({ baseUrl: server.url, apiKey: owner.key }).sandbox.report(clientId)).requests).toBe(0);
  });

  it('a failing step stops the run with its code: an unknown patient is refused at sign-in', async () => {
    const app = await newApp('ExerciseBadPatient', appScopes);
    const { exitCode, stdout } = await mes(['sandbox', 'exercise', '--app', app.id, '--patient', 'not:a:patient', '--json']);
    expect(exitCode).toBe(1);
    const { error } = JSON.parse(stdout) as ErrorJson;
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/^The sign_in step failed: /);
  });

  it('a wrong app id is not_found', async () => {
    const { exitCode, stdout } = await mes(['sandbox', 'exercise', '--app', '00000000-0000-4000-8000-000000000000', '--patient', PATIENT, '--json']);
    expect(exitCode).toBe(1);
    expect((JSON.parse(stdout) as ErrorJson).error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('outside the sandbox: sandbox_only, before anything is sent as the app', async () => {
    const production = await startTestServer({ mode: 'production', publicUrl: 'https://api.mes.example.fr' });
    try {
      const publisher = await registerPublisher(production.url, 'Production SAS');
      const sdk = createPublisherClient({ baseUrl: production.url, apiKey: publisher.key });
      const app = await sdk.apps.create({
        ...appInput,
        redirectUris: [redirectUri],
        scopes: appScopes.map((scope) => ({ scope, justification: 'Pour les tests.' })),
      });
      if (!(await sdk.clients.list(app.id)).items.some((client) => client.type === 'public')) await sdk.clients.create(app.id, { type: 'public' });
      const { exitCode, stdout } = await mes(['sandbox', 'exercise', '--app', app.id, '--patient', PATIENT, '--json'], { MES_API_URL: production.url, MES_API_KEY: publisher.key });
      expect(exitCode).toBe(1);
      expect((JSON.parse(stdout) as ErrorJson).error).toMatchObject({ code: 'sandbox_only', status: 404 });
    } finally {
      await production.close();
    }
  });
});
