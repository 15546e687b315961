// The yardstick comparison (main thread): the platform and the limit (bench/limit/) side by side
// on one PostgreSQL schema, for the headline scenarios of lib/yardstick-scenarios.mjs.
//
// Two lines, each a pair of servers of one issuer:
// - production: the platform built with mode 'production' (PUBLIC_URL, KEY_ENCRYPTION_KEY,
//   sandbox hooks off), and a limit for the same issuer;
// - sandbox: the platform in sandbox mode (issuer = its own origin), and a limit for it.
// Setup goes through the sandbox server's HTTP API (a publisher, an app with a confidential
// client, the sandbox's pre-approved consent for a patient, the code exchange), then the app is
// certified with the platform's catalogue functions: production mode sees ordinary certified
// apps, clients and grants in the store, as if a patient had consented on the consent screen.
//
// What the bench measures beyond the load generator's figures (probe()):
// - statements per request: each server's pool connects with its own application_name, and
//   pg.Client.prototype.query is wrapped in this process to count the statements by it;
// - PostgreSQL CPU per request: the backends of each server (pg_stat_activity by
//   application_name) and their utime + stime from /proc/<pid>/stat over the measured window.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { pg, startLimit } from '../limit/server.mjs';
import { clientAssertion, CLIENT_ASSERTION_TYPE, dpopProof, jwtClaims, newEs256Key } from './oauth-client.mjs';
import { clientOf, mintCode, postToken } from './oauth-scenarios.mjs';
import { api, newPublisher } from './setup.mjs';
import { fhirHeaders, searchPath } from './yardstick-scenarios.mjs';

const PATIENT = 'bench-patient-1';
const OBSERVATIONS = 200;
const readId = `${PATIENT}-obs-7`;
const redirectUri = 'https://banc-essai.example.fr/oauth/callback';
const offlineScope = 'launch/patient patient/Observation.rs offline_access';

// ---------------------------------------------------------------------------------------------
// Statements, counted per application_name.

const statementCounts = new Map();
let counting = false;
/** Wraps pg.Client.prototype.query once: every statement any pool of this process sends is counted by application_name. */
export function countStatements() {
  if (counting) return statementCounts;
  counting = true;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(...args) {
    const name = this.connectionParameters?.application_name ?? '';
    statementCounts.set(name, (statementCounts.get(name) ?? 0) + 1);
    return query.apply(this, args);
  };
  return statementCounts;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL backends' CPU.

const TICKS_PER_SECOND = 100;
function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * What one server costs in statements and PostgreSQL CPU over the measured window: open() and
 * close() are called (synchronously) when the load generator starts and stops measuring; the pids
 * of the server's backends are looked up by application_name around them. Backends that appear
 * during the window are counted from their start.
 */
export function serverProbe(monitor, applicationName) {
  const pidsOf = async () => (await monitor.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((row) => row.pid);
  let known = [];
  const refreshPids = () =>
    pidsOf().then(
      (pids) => (known = pids),
      () => {},
    );
  const sums = { statements: 0, pgCpuSeconds: 0, backends: 0 };
  let window = null;
  let pending = [];
  return {
    /** Call before the run: the backends already connected (the warm-up fills the pool, the window refreshes them). */
    prepare: refreshPids,
    open() {
      const cpu = new Map(known.map((pid) => [pid, procCpuSeconds(pid)]));
      window = { statements: statementCounts.get(applicationName) ?? 0, cpu };
      // The pool may have grown in the warm-up: find its backends now, from their start if new.
      pending.push(
        pidsOf().then((pids) => {
          for (const pid of pids) if (!cpu.has(pid)) cpu.set(pid, 0);
        }, () => {}),
      );
    },
    close() {
      if (!window) return;
      const { cpu } = window;
      sums.statements += (statementCounts.get(applicationName) ?? 0) - window.statements;
      const ended = new Map([...cpu.keys()].map((pid) => [pid, procCpuSeconds(pid)]));
      const closed = window;
      pending.push(
        Promise.all(pending).then(async () => {
          // Backends found only now (connected during the window) count from their start.
          const pids = await pidsOf().catch(() => []);
          for (const pid of pids) if (!closed.cpu.has(pid)) ended.set(pid, procCpuSeconds(pid)), closed.cpu.set(pid, 0);
          for (const [pid, start] of closed.cpu) {
            const end = ended.get(pid) ?? procCpuSeconds(pid);
            if (typeof start === 'number' && typeof end === 'number') sums.pgCpuSeconds += end - start;
          }
          sums.backends = Math.max(sums.backends, closed.cpu.size);
        }),
      );
      window = null;
    },
    /** The totals, once every lookup has settled; per request with `requests`. */
    async result(requests) {
      await Promise.all(pending);
      pending = [];
      const result = {
        statementsPerRequest: requests ? Math.round((sums.statements / requests) * 100) / 100 : null,
        pgCpuUsPerRequest: requests ? Math.round((sums.pgCpuSeconds * 1e6) / requests) : null,
        backends: sums.backends,
      };
      Object.assign(sums, { statements: 0, pgCpuSeconds: 0, backends: 0 });
      return result;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The servers.

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const withApplicationName = (url, name) => {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
};

/** A patient's 200 vital signs (weights, heart rates), as lib/fhir-scenarios.mjs makes them. */
function records() {
  const subject = { reference: `Patient/${PATIENT}` };
  const items = [{ patientId: PATIENT, id: PATIENT, resource: { resourceType: 'Patient', name: [{ family: 'Banc', given: ['Essai'] }], birthDate: '1970-01-01' } }];
  for (let i = 0; i < OBSERVATIONS; i += 1) {
    const weight = i % 2 === 0;
    items.push({
      patientId: PATIENT,
      id: `${PATIENT}-obs-${i}`,
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: weight ? '29463-7' : '8867-4' }] },
        subject,
        effectiveDateTime: new Date(Date.UTC(2026, 0, 1) + i * 3600_000).toISOString(),
        valueQuantity: weight
          ? { value: 70 + (i % 7) / 10, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' }
          : { value: 60 + (i % 20), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
    });
  }
  return items;
}

/**
 * Starts both lines on a fresh schema of `databaseUrl` and sets up what the scenarios need.
 * `grants`: how many refresh tokens the token scenario sends round-robin.
 */
export async function startYardstick({ api: platformApi, sandbox, databaseUrl, grants = 40, catalogApps = 24, log = () => {} }) {
  const { buildApp, listen, loadConfig, catalog } = platformApi;
  const tag = randomBytes(4).toString('hex');
  const schema = `bench_${tag}`;
  const keyEncryptionKey = randomBytes(32);
  const tempDir = mkdtempSync(join(os.tmpdir(), 'mes-bench-yardstick-'));
  const monitor = new pg.Client({ connectionString: withApplicationName(databaseUrl, `mes-bench-monitor-${tag}`) });
  await monitor.connect();
  const toClose = [];
  const close = async () => {
    for (const fn of toClose.reverse()) await fn().catch(() => {});
    await monitor.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await monitor.end().catch(() => {});
    rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    const names = {
      sandbox: { platform: `mes-bench-platform-sandbox-${tag}`, limit: `mes-bench-limit-sandbox-${tag}` },
      production: { platform: `mes-bench-platform-production-${tag}`, limit: `mes-bench-limit-production-${tag}` },
    };
    const common = { logLevel: 'silent', host: '127.0.0.1', dataDir: join(tempDir, 'data'), keyEncryptionKey };
    const sandboxConfig = loadConfig({ DATABASE_URL: withApplicationName(databaseUrl, names.sandbox.platform) }, { ...common, mode: 'sandbox', port: 0 });
    sandboxConfig.databaseSchema = schema;
    const sandboxApp = await buildApp(sandboxConfig);
    toClose.push(() => sandboxApp.close());
    const sandboxServer = await listen(sandboxApp, sandboxConfig);
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const productionConfig = loadConfig(
      { DATABASE_URL: withApplicationName(databaseUrl, names.production.platform) },
      { ...common, mode: 'production', port, publicUrl },
    );
    productionConfig.databaseSchema = schema;
    const productionApp = await buildApp(productionConfig);
    toClose.push(() => productionApp.close());
    await listen(productionApp, productionConfig);

    // The catalogue: the sandbox's demo apps, and more certified apps than one page holds.
    const seed = await sandbox.seedSandbox(sandboxApp.db, tempDir);
    const template = sandbox.demoApps.find((demo) => demo.certified);
    const { certified: _certified, ...input } = template;
    for (let i = sandbox.demoApps.filter((demo) => demo.certified).length + 1; i <= catalogApps; i += 1) {
      const created = await catalog.createApp(sandboxApp.db, seed.publisherId, { ...input, name: `Appli de banc d'essai ${String(i).padStart(2, '0')}` }, { sandbox: true });
      await catalog.setCertificationStatus(sandboxApp.db, created.id, 'certified');
    }
    // The patient's records, an app reading them with a confidential client, certified.
    await platformApi.records.insertResources(sandboxApp.db, records());
    const ctx = { url: sandboxServer.url, api: platformApi };
    const key = await newPublisher(ctx, 'Éditeur du banc d’essai (limite)');
    const app = await api(ctx, 'POST', '/apps', {
      key,
      body: platformApi.sampleAppInput({
        name: 'Banc d’essai de la limite',
        websiteUrl: 'https://banc-essai.example.fr',
        redirectUris: [redirectUri],
        scopes: [
          { scope: 'launch/patient', justification: 'Savoir pour quel patient.' },
          { scope: 'offline_access', justification: 'Synchroniser sans vous redemander.' },
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures.' },
        ],
      }),
    });
    const clientKey = newEs256Key();
    const kid = 'bench-1';
    const client = await api(ctx, 'POST', `/apps/${app.id}/clients`, {
      key,
      body: { type: 'confidential', jwks: { keys: [{ ...clientKey.publicJwk, kid, alg: 'ES256', use: 'sig' }] } },
    });
    await catalog.setCertificationStatus(sandboxApp.db, app.id, 'certified');
    const dpopKey = newEs256Key();
    const base = {
      confidential: true,
      clientId: client.clientId,
      kid,
      clientPrivateJwk: clientKey.privateJwk,
      dpopPrivateJwk: dpopKey.privateJwk,
      dpopPublicJwk: dpopKey.publicJwk,
      dpopJkt: dpopKey.thumbprint,
      redirectUri,
      patient: PATIENT,
      readId,
      appId: app.id,
    };
    // Grants through the sandbox's consent (PAR, authorize with login_hint, code exchange).
    const minting = { ...base, issuer: sandboxServer.url };
    const refreshTokens = [];
    for (let i = 0; i < grants + 1; i += 1) {
      const { code, verifier } = await mintCode(minting, offlineScope);
      const tokens = await postToken(minting, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri });
      refreshTokens.push(tokens.refresh_token);
    }
    const [fhirRefreshToken, ...pool] = refreshTokens;

    const lines = [];
    for (const [mode, issuer, platformUrl] of [
      ['production', publicUrl, publicUrl],
      ['sandbox', sandboxServer.url, sandboxServer.url],
    ]) {
      const limit = await startLimit({ databaseUrl, schema, issuer, mode, keyEncryptionKey, applicationName: names[mode].limit });
      toClose.push(() => limit.close());
      lines.push({
        mode,
        issuer,
        urls: { platform: platformUrl, limit: limit.url },
        applicationNames: names[mode],
        params: { ...base, issuer, refreshTokens: pool, fhirRefreshToken },
      });
    }
    return { schema, lines, monitor, platformDb: productionApp.db, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The equality check: both servers asked the same request, their answers compared.

async function answer(url, path, init) {
  const response = await fetch(new URL(path, url), init);
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** What must be equal in headers: those that matter to a client (cache, versions, nonce). */
const comparedHeaders = ['content-type', 'cache-control', 'pragma', 'etag', 'last-modified', 'dpop-nonce'];

function compare(what, platform, limit, normalize = (json) => json) {
  const differences = [];
  if (platform.status !== limit.status) differences.push(`status ${platform.status} ≠ ${limit.status}`);
  for (const name of comparedHeaders) {
    const [a, b] = [platform.headers.get(name), limit.headers.get(name)];
    if (a !== b) differences.push(`header ${name}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  }
  const [a, b] = [normalize(platform.json), normalize(limit.json)];
  if (a === undefined || !isDeepStrictEqual(a, b)) differences.push(`body: platform ${platform.text.slice(0, 400)} ≠ limit ${limit.text.slice(0, 400)}`);
  if (differences.length) throw new Error(`${what}: the limit does not answer what the platform answers:\n  ${differences.join('\n  ')}`);
  return { status: platform.status, sameBytes: platform.text === limit.text, bytes: platform.text.length };
}

/** A token answer with what must differ between two issuances taken out: the token's jti, iat, exp (and signature). */
function normalizeTokenAnswer(json) {
  if (!json?.access_token) return json;
  const { header, payload } = jwtClaims(json.access_token);
  const { jti: _jti, iat: _iat, exp, ...claims } = payload;
  return { ...json, access_token: { header, claims, lifetime: exp - payload.iat } };
}

/**
 * Sends each scenario's request to both servers of a line and compares the answers; throws on
 * any difference. Returns what was compared, per scenario.
 */
export async function checkEqual(line, name) {
  const { params, urls } = line;
  if (name === 'catalog-list') {
    const [a, b] = await Promise.all([answer(urls.platform, '/catalog/apps?limit=20'), answer(urls.limit, '/catalog/apps?limit=20')]);
    if (a.status !== 200 || a.json?.items?.length !== 20) throw new Error(`catalog-list: the platform answered ${a.status} ${a.text.slice(0, 200)}`);
    return compare(`${line.mode} catalog-list`, a, b);
  }
  if (name === 'oauth-token-refresh') {
    const platform = await tokenAnswer({ ...params, fetchUrl: urls.platform });
    const limit = await tokenAnswer({ ...params, fetchUrl: urls.limit });
    if (platform.status !== 200) throw new Error(`oauth-token-refresh: the platform answered ${platform.status} ${platform.text.slice(0, 200)}`);
    return compare(`${line.mode} oauth-token-refresh`, platform, limit, normalizeTokenAnswer);
  }
  const accessToken = (await postToken(params, { grant_type: 'refresh_token', refresh_token: params.fhirRefreshToken })).access_token;
  const path = name === 'fhir-search' ? searchPath : `/fhir/Observation/${params.readId}`;
  const platform = await answer(urls.platform, path, { headers: fhirHeaders(params, accessToken, path) });
  const limit = await answer(urls.limit, path, { headers: fhirHeaders(params, accessToken, path) });
  if (platform.status !== 200) throw new Error(`${name}: the platform answered ${platform.status} ${platform.text.slice(0, 200)}`);
  return compare(`${line.mode} ${name}`, platform, limit);
}

/** One refresh_token request (fresh assertion and proof, the current nonce) to `params.fetchUrl`. */
export async function tokenAnswer(params, refreshToken = params.refreshTokens[0]) {
  const client = clientOf(params);
  const htu = `${params.issuer}/oauth/token`;
  const send = () =>
    answer(params.fetchUrl, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(client.signDpop, params.dpopPublicJwk, { htm: 'POST', htu, nonce: client.nonce }) },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: params.clientId,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: clientAssertion(client.signClient, { kid: params.kid, clientId: params.clientId, audience: params.issuer }),
      }),
    });
  let result = await send();
  if (result.status === 400 && result.json?.error === 'use_dpop_nonce') {
    client.nonce = result.headers.get('dpop-nonce');
    result = await send();
  }
  client.nonce = result.headers.get('dpop-nonce') ?? client.nonce;
  return result;
}
