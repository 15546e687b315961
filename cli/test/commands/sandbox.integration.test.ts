// `mes sandbox` against a real sandbox server: synthetic patients, a patient-data token through an
// app's public client, FHIR calls signed with `mes sandbox proof`, then every control (faults,
// token expiry, withdrawal, suspension, scenarios, reset) seen from the FHIR API, and the report.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { records, type TestServer } from '@mes/catalog-api';
import type { App, ControlResult, Fault, FaultList, SandboxPatientList, ScenarioResult, TrafficReport } from '@mes/sdk/publisher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../catalog-api/test/fhir-helpers.js';
import type { ErrorJson } from '../../src/base-command.js';
import type { ProofResult } from '../../src/commands/sandbox/proof.js';
import type { SavedSandboxToken } from '../../src/sandbox-token.js';
import { mes, mesProcess, startCliEnvironment, tempConfigDir } from '../helpers/cli.js';
import { registerPublisher, writeAppFile } from '../helpers/fixtures.js';

const PATIENT = 'cli-sandbox-patient';
const PARENT = 'cli-sandbox-parent';
const CHILD = 'cli-sandbox-child';
const SCENARIO_PATIENT = 'cli-sandbox-scenario';
const redirectUri = 'https://tensiosuivi.example.fr/oauth/callback';
const appScopes = ['offline_access', 'launch/patient', 'patient/Observation.rs', 'patient/Patient.rs', 'patient/Immunization.rs'];

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
let owner: { key: string; id: string };
let app: App;
let clientId: string;
let tokenFile: string;

beforeAll(async () => {
  ({ server, config } = await startCliEnvironment());
  tokenFile = join(config.dir, 'sandbox-token.json');
  const db = server.app.db;
  await records.insertResources(db, [
    ...sampleRecord(PATIENT, { family: 'Durand', given: 'Éloïse', birthDate: '1975-02-03' }),
    ...sampleRecord(PARENT, { family: 'Garnier', given: 'Inès' }),
    ...sampleRecord(CHILD, { family: 'Garnier', given: 'Léo', birthDate: '2015-06-07' }),
    ...sampleRecord(SCENARIO_PATIENT, { family: 'Scénario', given: 'Paul' }),
  ]);
  await records.insertGuardianships(db, [{ guardianId: PARENT, childId: CHILD, relationship: 'MTH', validUntil: null }]);
  owner = await registerPublisher(server.url, 'Sandbox SAS');
  expect((await mes(['login', '--api-key', owner.key])).exitCode).toBe(0);
  const file = await writeAppFile(config.dir, {
    name: 'SandboxApp',
    redirectUris: [redirectUri],
    scopes: appScopes.map((scope) => ({ scope, justification: 'Pour les tests.' })),
  });
  const created = await mes<App>(['apps', 'create', '--file', file, '--json']);
  expect(created.exitCode).toBe(0);
  app = created.result!;
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

/** A new token for the patient through `mes sandbox token`, saved where `mes sandbox proof` reads it. */
async function newToken(patient = PATIENT): Promise<SavedSandboxToken> {
  const { result, exitCode, stdout } = await mes<SavedSandboxToken>(['sandbox', 'token', '--app', app.id, '--patient', patient, '--json']);
  expect(exitCode, stdout).toBe(0);
  clientId = result!.clientId;
  return result!;
}

/** A FHIR request as curl would make it: the saved token, and the proof printed by `mes sandbox proof`. */
async function fhir(path = '/fhir/Observation', query = '') {
  const url = `${server.url}${path}`;
  const proof = await mes(['sandbox', 'proof', '--url', url]);
  expect(proof.exitCode).toBe(0);
  const { accessToken } = JSON.parse(await readFile(tokenFile, 'utf8')) as SavedSandboxToken;
  const response = await fetch(`${url}${query}`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof.stdout.trim() } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as { resourceType?: string; entry?: unknown[]; issue?: { code: string }[] }) : undefined };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;

describe('mes sandbox patients', () => {
  it('lists synthetic patients by name, with their children', async () => {
    const found = await mes<SandboxPatientList>(['sandbox', 'patients', '--search', 'eloise', '--json']);
    expect(found.exitCode).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual({ items: [{ id: PATIENT, name: 'Éloïse Durand', birthDate: '1975-02-03', children: [] }] });

    const human = await mes(['sandbox', 'patients', '--search', 'garnier']);
    const [head, ...rows] = human.stdout.trim().split('\n');
    expect(head).toMatch(/^ID\s+NAME\s+BIRTH DATE\s+CHILDREN$/);
    expect(rows.find((row) => row.startsWith(PARENT))).toMatch(/Inès Garnier\s+1980-05-04\s+cli-sandbox-child$/);
    expect((await mes(['sandbox', 'patients', '--search', 'nobody-by-that-name'])).stdout.trim()).toBe('No synthetic patient matches.');
    expect((await mes(['sandbox', 'patients', '--limit', '0'])).exitCode).toBe(2);
  });
});

describe('mes sandbox token and proof', () => {
  it('gets a DPoP-bound token through the public client and saves it with its key, 0600', async () => {
    const token = await newToken();
    expect(token).toMatchObject({
      apiUrl: server.url,
      clientId: expect.stringMatching(/^mes_/),
      patient: PATIENT,
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      scope: [...appScopes].sort().join(' '),
      dpopPrivateJwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), d: expect.any(String) },
    });
    expect(Date.parse(token.expiresAt)).toBeGreaterThan(Date.now());
    expect(JSON.parse(await readFile(tokenFile, 'utf8'))).toEqual(token);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect((await stat(config.dir)).mode & 0o777).toBe(0o700);
    // The token is bound to the saved key (RFC 9449 cnf.jkt) and issued to the app's public client.
    expect(claims(token.accessToken)).toMatchObject({ client_id: token.clientId, cnf: { jkt: expect.any(String) } });
  });

  it('prints the token, where the key is, and how to call the API', async () => {
    const { stdout, exitCode } = await mes(['sandbox', 'token', '--app', app.id, '--patient', PATIENT]);
    expect(exitCode).toBe(0);
    const saved = JSON.parse(await readFile(tokenFile, 'utf8')) as SavedSandboxToken;
    expect(stdout).toContain(`Token for patient ${PATIENT} from client ${saved.clientId}, saved with its DPoP key in ${tokenFile}.`);
    expect(stdout).toMatch(new RegExp(`^Access token:\\s+${saved.accessToken}$`, 'm'));
    expect(stdout).toMatch(/^Scope:\s+launch\/patient\n\s+offline_access\n/m);
    expect(stdout).toMatch(/^Expires:\s+\S+Z \(in \d+ s\)$/m);
    expect(stdout).toContain(`DPoP key:      ${tokenFile} (dpopPrivateJwk`);
    // The example calls the first resource type the token may read.
    expect(stdout).toContain(`URL=${server.url}/fhir/Immunization`);
    expect(stdout).toContain(`curl -H "Authorization: DPoP $(jq -r .accessToken ${tokenFile})" -H "DPoP: $(mes sandbox proof --url "$URL")" "$URL"`);
  });

  it('signs proofs that the FHIR API accepts: htm, htu without the query, ath of the saved token', async () => {
    const token = await newToken();
    const url = `${server.url}/fhir/Observation`;
    const { result, stdout } = await mes<ProofResult>(['sandbox', 'proof', '--url', `${url}?category=vital-signs`, '--method', 'get']);
    expect(stdout.trim()).toBe(result!.proof);
    expect(stdout.trim().split('.')).toHaveLength(3);
    expect(header(result!.proof)).toMatchObject({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: token.dpopPrivateJwk.x } });
    expect(header(result!.proof).jwk).not.toHaveProperty('d');
    expect(claims(result!.proof)).toMatchObject({ htm: 'GET', htu: url, ath: expect.any(String), jti: expect.any(String), iat: expect.any(Number) });

    const search = await fhir('/fhir/Observation', '?category=vital-signs');
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ resourceType: 'Bundle' });
    expect(search.body?.entry).toHaveLength(6);
    expect((await fhir(`/fhir/Patient/${PATIENT}`)).status).toBe(200);
  });

  it('a proof is for its own URL and token only', async () => {
    await newToken();
    const { accessToken } = JSON.parse(await readFile(tokenFile, 'utf8')) as SavedSandboxToken;
    const proof = (await mes(['sandbox', 'proof', '--url', `${server.url}/fhir/Immunization`])).stdout.trim();
    const elsewhere = await fetch(`${server.url}/fhir/Observation`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
    expect(elsewhere.status).toBe(401);
    expect((await mes(['sandbox', 'proof', '--url', 'not-a-url'])).error?.message).toMatch(/must be an absolute http\(s\) URL/);
  });

  it('acts for a child with <guardian>:<child>', async () => {
    const token = await newToken(`${PARENT}:${CHILD}`);
    expect(token.patient).toBe(CHILD);
    const child = await fhir(`/fhir/Patient/${CHILD}`);
    expect(child.status).toBe(200);
    expect((await fhir(`/fhir/Patient/${PARENT}`)).status).toBe(404);
  });

  it('refuses a redirect URI the app did not register, before any request', async () => {
    const { exitCode, stdout } = await mes(['sandbox', 'token', '--app', app.id, '--patient', PATIENT, '--redirect-uri', 'https://evil.example/cb', '--json']);
    expect(exitCode).toBe(1);
    expect((JSON.parse(stdout) as ErrorJson).error.code).toBe('invalid_flag');
  });

  it('reports the authorization server refusing, with its error code', async () => {
    const { exitCode, error } = await mes(['sandbox', 'token', '--app', app.id, '--patient', 'not:a:patient']);
    expect(exitCode).toBe(1);
    expect(error?.message).toMatch(/^access_denied: the authorization endpoint refused the request: login_hint must be/);
  });

  it('the real binary prints the proof alone on stdout', async () => {
    await newToken();
    const env = { MES_CONFIG_DIR: config.dir, MES_API_URL: server.url, MES_API_KEY: undefined };
    const printed = await mesProcess(['sandbox', 'proof', '--url', `${server.url}/fhir/Observation`], env);
    expect(printed.exitCode).toBe(0);
    expect(printed.stderr).toBe('');
    expect(printed.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });
});

describe('mes sandbox controls, seen from the FHIR API', () => {
  beforeAll(async () => {
    await newToken();
  });

  it('inject: a 429 with Retry-After on the next FHIR call, then the real answer', async () => {
    const injected = await mes<Fault>(['sandbox', 'inject', clientId, '--fault', 'rate_limited', '--target', 'fhir', '--retry-after', '7', '--json']);
    expect(injected.exitCode).toBe(0);
    expect(JSON.parse(injected.stdout)).toMatchObject({ kind: 'rate_limited', target: 'fhir', remaining: 1, retryAfterSeconds: 7, latencyMs: null });
    const limited = await fhir();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body?.issue?.[0]?.code).toBe('throttled');
    expect((await fhir()).status).toBe(200);

    const human = await mes(['sandbox', 'inject', clientId, '--fault', 'unavailable', '--count', '2']);
    expect(human.stdout).toContain(`Injected unavailable for the next 2 token or FHIR request(s) of ${clientId}.`);
    expect(human.stdout).toMatch(/^Timing:\s+Retry-After 2 s$/m);
    await mes(['sandbox', 'faults', clientId, '--clear']);
  });

  it('inject refuses a fault where it cannot apply, with the server code', async () => {
    const refused = await mes(['sandbox', 'inject', clientId, '--fault', 'invalid_client', '--target', 'fhir', '--json']);
    expect(refused.exitCode).toBe(1);
    expect((JSON.parse(refused.stdout) as ErrorJson).error).toMatchObject({ code: 'validation_failed', errors: [{ pointer: '/body/target' }] });
    expect((await mes(['sandbox', 'inject', clientId, '--fault', 'teapot'])).exitCode).toBe(2);
  });

  it('faults lists the pending faults and --clear removes them', async () => {
    await mes(['sandbox', 'inject', clientId, '--fault', 'unavailable', '--count', '3', '--target', 'fhir']);
    const listed = await mes<FaultList>(['sandbox', 'faults', clientId, '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ items: [{ kind: 'unavailable', target: 'fhir', remaining: 3, retryAfterSeconds: 2 }] });
    const table = (await mes(['sandbox', 'faults', clientId])).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^ID\s+KIND\s+TARGET\s+REMAINING\s+TIMING\s+CREATED$/);
    expect(table[1]).toMatch(/unavailable\s+fhir\s+3\s+Retry-After 2 s/);

    const cleared = await mes<ControlResult>(['sandbox', 'faults', clientId, '--clear', '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ clientId, done: 'pending faults cleared', count: 1 });
    expect((await mes<FaultList>(['sandbox', 'faults', clientId, '--json'])).result).toEqual({ items: [] });
    expect((await mes(['sandbox', 'faults', clientId])).stdout.trim()).toBe(`No pending fault for ${clientId}.`);
    expect((await fhir()).status).toBe(200);
  });

  it('expire-tokens makes the saved token fail with 401; a new one works', async () => {
    expect((await fhir()).status).toBe(200);
    const expired = await mes<ControlResult>(['sandbox', 'expire-tokens', clientId]);
    expect(expired.exitCode).toBe(0);
    expect(expired.stdout.trim()).toBe(`${clientId}: every access token issued so far now fails as expired; refresh tokens still work.`);
    const refused = await fhir();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await newToken();
    expect((await fhir()).status).toBe(200);
  });

  it('withdraw ends the patient’s grants: the saved token fails', async () => {
    const withdrawn = await mes<ControlResult>(['sandbox', 'withdraw', clientId, '--patient', PATIENT, '--json']);
    expect(withdrawn.exitCode).toBe(0);
    expect(withdrawn.result).toMatchObject({ clientId, done: expect.stringMatching(/^grants withdrawn/) });
    expect(withdrawn.result!.count).toBeGreaterThanOrEqual(1);
    expect((await fhir()).status).toBe(401);
    await newToken();
    expect((await fhir()).status).toBe(200);
  });

  it('trigger writes what a topic is about into the patient’s record; a bad topic or patient is refused', async () => {
    const triggered = await mes<{ resource: string; notified: number }>(['sandbox', 'trigger', clientId, 'new-measurement', '--patient', PATIENT, '--json']);
    expect(triggered.exitCode).toBe(0);
    expect(triggered.result).toMatchObject({ clientId, topic: 'new-measurement', patient: PATIENT, resource: expect.stringMatching(/^Observation\//), notified: 0 });
    const [type, id] = triggered.result!.resource.split('/');
    const stored = await server.app.db.query(`SELECT content FROM fhir_resources WHERE patient_id = $1 AND resource_type = $2 AND id = $3`, [PATIENT, type, id]);
    expect(stored).toHaveLength(1);
    const human = await mes(['sandbox', 'trigger', clientId, 'new-document', '--patient', PATIENT]);
    expect(human.stdout.trim()).toMatch(/^DocumentReference\/[0-9a-f-]+ written for .+; 0 subscriptions to notify\.$/);
    expect((await mes(['sandbox', 'trigger', clientId, 'nothing', '--patient', PATIENT])).exitCode).not.toBe(0);
    expect((await mes(['sandbox', 'trigger', clientId, 'new-document', '--patient', 'nobody-here'])).exitCode).not.toBe(0);
  });

  it('suspend stops the tokens at once; --reinstate brings them back', async () => {
    const suspended = await mes(['sandbox', 'suspend', clientId]);
    expect(suspended.stdout.trim()).toBe(`${clientId}: app suspended: its tokens stop working at once.`);
    expect((await fhir()).status).toBe(401);
    expect((await mes<App>(['apps', 'show', app.id, '--json'])).result?.certificationStatus).toBe('suspended');
    const reinstated = await mes<ControlResult>(['sandbox', 'suspend', clientId, '--reinstate', '--json']);
    expect(reinstated.result).toEqual({ clientId, done: 'app reinstated' });
    expect((await fhir()).status).toBe(200);
  });

  it('scenario puts a patient into a state: consent withdrawn ends their tokens', async () => {
    await newToken(SCENARIO_PATIENT);
    expect((await fhir()).status).toBe(200);
    const applied = await mes<ScenarioResult>(['sandbox', 'scenario', 'consent-withdrawn', '--patient', SCENARIO_PATIENT, '--client', clientId, '--json']);
    expect(applied.exitCode).toBe(0);
    expect(applied.result).toEqual({ scenario: 'consent-withdrawn', patient: SCENARIO_PATIENT, done: '1 grant(s) of the client withdrawn' });
    expect((await fhir()).status).toBe(401);

    const closed = await mes(['sandbox', 'scenario', 'account-closed', '--patient', SCENARIO_PATIENT]);
    expect(closed.stdout.trim()).toMatch(new RegExp(`^Scenario account-closed for patient ${SCENARIO_PATIENT}: account closed; 0 grant\\(s\\) ended\\.$`));
    const refused = await mes(['sandbox', 'token', '--app', app.id, '--patient', SCENARIO_PATIENT, '--json']);
    expect((JSON.parse(refused.stdout) as ErrorJson).error.code).toBe('access_denied');

    const needsClient = await mes(['sandbox', 'scenario', 'app-suspended', '--patient', PATIENT, '--json']);
    expect((JSON.parse(needsClient.stdout) as ErrorJson).error.code).toBe('validation_failed');
    expect((await mes(['sandbox', 'scenario', 'dragons', '--patient', PATIENT])).exitCode).toBe(2);
  });
});

describe('mes sandbox report', () => {
  it('reset starts the traffic again; the report --json matches what the app did', async () => {
    const reset = await mes<ControlResult>(['sandbox', 'reset', clientId, '--json']);
    expect(reset.result).toMatchObject({ clientId, done: 'faults, token expiry and traffic cleared' });
    expect((await mes<TrafficReport>(['sandbox', 'report', clientId, '--json'])).result).toMatchObject({ requests: 0, firstRequestAt: null });
    expect((await mes(['sandbox', 'report', clientId])).stdout).toContain('No traffic recorded for this client yet');

    await newToken();
    expect((await fhir()).status).toBe(200);
    await mes(['sandbox', 'inject', clientId, '--fault', 'rate_limited', '--target', 'fhir', '--retry-after', '30']);
    expect((await fhir()).status).toBe(429);
    // Retried at once, not 30 s later: the report calls it too soon.
    expect((await fhir()).status).toBe(200);

    const { stdout, exitCode } = await mes<TrafficReport>(['sandbox', 'report', clientId, '--json']);
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout) as TrafficReport;
    expect(report).toMatchObject({
      clientId,
      // The authorization request, the code exchange twice (the first proof has no nonce), three FHIR calls.
      requests: 6,
      grantTypes: { authorization_code: 1 },
      authorization: { requests: 1, pushed: 0, pkce: 1 },
      dpop: { tokenRequests: 2, tokenRequestsWithProof: 2, resourceRequests: 3, resourceRequestsWithProof: 3 },
      refreshes: 0,
      scopes: { requested: [...appScopes].sort(), resourceTypesCalled: ['Observation'], unusedResourceScopes: ['Immunization', 'Patient'], refusedCalls: 0 },
      reactions: { unauthorized: { count: 0, recovered: 0 }, rateLimited: { count: 1, waitedRetryAfter: 0, retriedTooSoon: 1 }, unavailable: { count: 0 } },
      faults: { injected: 1, pending: 0 },
    });
    expect(report.firstRequestAt).toEqual(expect.any(String));

    const human = (await mes(['sandbox', 'report', clientId])).stdout;
    expect(human).toMatch(/^Requests:\s+6, from \S+ \S+ to \S+ \S+$/m);
    expect(human).toMatch(/^Grant types:\s+authorization_code ×1$/m);
    expect(human).toMatch(/^Authorizations:\s+1 \(0 pushed with PAR, 1 with PKCE S256\)$/m);
    expect(human).toMatch(/^DPoP at token:\s+2 of 2 request\(s\) with a proof$/m);
    expect(human).toMatch(/^DPoP at FHIR:\s+3 of 3 request\(s\) with a proof$/m);
    expect(human).toMatch(/^Unused scopes:\s+Immunization$/m);
    expect(human).toMatch(/^After a 429:\s+1: 0 waited for Retry-After, 1 retried too soon$/m);
    expect(human).toMatch(/^Faults:\s+1 injected, 0 pending$/m);
    expect(human).toContain('To look at:\n  - Scopes asked for but never used (Immunization, Patient)');
    expect(human).toContain('  - 1 retry(ies) after a 429 came before Retry-After had passed');
  });
});

describe('mes sandbox errors', () => {
  it('an unknown client, or another publisher’s, is not_found', async () => {
    const unknown = await mes(['sandbox', 'report', 'mes_nothing']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.error?.message).toMatch(/^not_found: No client mes_nothing\. \(request id .+\)$/);
    const json = await mes(['sandbox', 'inject', 'mes_nothing', '--fault', 'unavailable', '--json']);
    expect(json.exitCode).toBe(1);
    expect((JSON.parse(json.stdout) as ErrorJson).error).toMatchObject({ code: 'not_found', status: 404 });

    const stranger = await registerPublisher(server.url, 'Stranger SAS');
    for (const args of [['sandbox', 'faults', clientId], ['sandbox', 'suspend', clientId], ['sandbox', 'expire-tokens', clientId], ['sandbox', 'token', '--app', app.id, '--patient', PATIENT]]) {
      const { exitCode, error } = await mes(args, { MES_API_KEY: stranger.key });
      expect(exitCode, args.join(' ')).toBe(1);
      expect(error?.message, args.join(' ')).toMatch(/^not_found: /);
    }
    expect((await fhir()).status).toBe(200);
  });

  it('without an API key: no_api_key; without a saved token: no_sandbox_token', async () => {
    const empty = await tempConfigDir();
    try {
      const env = { MES_CONFIG_DIR: empty.dir };
      for (const args of [['sandbox', 'patients', '--json'], ['sandbox', 'report', clientId, '--json'], ['sandbox', 'token', '--app', app.id, '--patient', PATIENT, '--json']]) {
        const { exitCode, stdout } = await mes(args, env);
        expect(exitCode, args.join(' ')).toBe(1);
        expect((JSON.parse(stdout) as ErrorJson).error.code, args.join(' ')).toBe('no_api_key');
      }
      const proof = await mes(['sandbox', 'proof', '--url', `${server.url}/fhir/Observation`, '--json'], env);
      expect(proof.exitCode).toBe(1);
      expect((JSON.parse(proof.stdout) as ErrorJson).error.code).toBe('no_sandbox_token');
    } finally {
      await empty.remove();
    }
  });
});
