#!/usr/bin/env node
// `npm run test:cluster`: three catalog API instances (catalog-api/dist/main.js) on one PostgreSQL
// database behind HAProxy (cluster/haproxy.cfg), under a mixed load of apps (token refreshes,
// FHIR reads and searches, creates with an Idempotency-Key); one instance is killed (SIGKILL) in
// the middle of it, and started again afterwards. It passes when no acknowledged write is lost,
// every create made exactly one resource however often it was retried, every patient's access
// history verifies and holds every access an app was answered, and a withdrawal made through one
// instance is refused at the very next request by each of the others. See cluster/README.md.
//
// Every process it starts is stopped however it ends (cluster/lib/processes.mjs), and its
// PostgreSQL schema is dropped. It installs nothing: HAProxy must be there (apt-get install haproxy).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { authorize, exchange, failureKind, fhirRequest, registerApp, tokenRequest } from './lib/app-client.mjs';
import { findHaproxy, serverStates, setServerState, startBalancer, waitForStates } from './lib/balancer.mjs';
import { createLoad } from './lib/load.mjs';
import { forgetState, killAllNow, recordStateIn, startProcess, stopAll, sweepLeftovers } from './lib/processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'catalog-api/dist/main.js');
const exitWithParent = pathToFileURL(join(root, 'scripts/exit-with-parent.mjs')).href;
const stateFile = join(root, '.tmp/cluster/state.json');

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, got "${raw}"`);
  return value;
}

const settings = {
  databaseUrl: process.env.CLUSTER_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
  /** Load before the kill, and after it. */
  beforeKillSeconds: seconds('CLUSTER_BEFORE_KILL_SECONDS', 10),
  afterKillSeconds: seconds('CLUSTER_AFTER_KILL_SECONDS', 15),
  /** The whole run's outer limit: past it, everything is stopped and the run fails. */
  limitSeconds: seconds('CLUSTER_LIMIT_SECONDS', 900),
  patients: 4,
  /** Concurrent loops of each kind. */
  loops: { refreshConfidential: 2, refreshPublic: 1, read: 3, search: 2, create: 3 },
  /** Then load again, with SIGTERM to another instance in the middle. */
  gracefulBeforeSeconds: 3,
  gracefulAfterSeconds: 5,
  /** Concurrent creates sent straight to the instance that is killed, in the 2 s before the kill. */
  directCreates: 6,
};

const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const progress = (message) => process.stderr.write(`[cluster ${elapsed().padStart(5)} s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (the kernel's pick, released at once for the process that will use it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** What the run needs and does not have: said in one line, without a stack. */
class Unmet extends Error {}

async function dropSchema(schema) {
  if (!/^cluster_[0-9a-f]+$/.test(schema ?? '')) return;
  const client = new pg.Client({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Clean-up, whatever happens: at the end, on an error, on Ctrl-C or SIGTERM, past the outer limit.

let schema;
/** The run's logs (each instance's, HAProxy's) and HAProxy's socket: removed when the run passes, kept otherwise. */
let work;
let passed = false;
let cleaning;
function cleanUp() {
  cleaning ??= (async () => {
    await stopAll(10_000);
    if (schema) await dropSchema(schema).catch((error) => progress(`could not drop schema ${schema}: ${error.message}`));
    forgetState();
    if (work && passed) rmSync(work, { recursive: true, force: true });
    else if (work) progress(`the logs of this run are kept in ${work}`);
  })();
  return cleaning;
}
process.once('exit', killAllNow);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(signal, () => {
    progress(`${signal}: stopping every process and dropping the schema`);
    void cleanUp().finally(() => process.exit(128 + number));
  });
}
setTimeout(() => {
  progress(`the run passed its outer limit of ${settings.limitSeconds} s: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, settings.limitSeconds * 1000).unref();

// ---------------------------------------------------------------------------------------------

async function main() {
  const haproxy = findHaproxy();
  if (!haproxy) {
    throw new Unmet(
      'HAProxy is not installed, and the cluster test installs nothing itself. On Debian or Ubuntu: apt-get install haproxy (as root), ' +
        'then run npm run test:cluster again (or set HAPROXY to its path).',
    );
  }
  const { version } = haproxy;
  if (!existsSync(entry)) throw new Unmet(`${entry} is missing: run npm run build (npm run test:cluster builds first)`);

  const leftover = sweepLeftovers(stateFile);
  if (leftover) {
    progress(`an earlier run was killed before cleaning up: its processes are ended, its schema ${leftover.schema} dropped, its logs ${leftover.work} removed`);
    await dropSchema(leftover.schema).catch(() => {});
    if (typeof leftover.work === 'string' && leftover.work.startsWith(join(tmpdir(), 'mes-cluster-'))) rmSync(leftover.work, { recursive: true, force: true });
  }

  schema = `cluster_${randomBytes(6).toString('hex')}`;
  work = mkdtempSync(join(tmpdir(), 'mes-cluster-'));
  recordStateIn(stateFile, { schema, work });
  const [lbPort, ...ports] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const issuer = `http://127.0.0.1:${lbPort}`;
  const operatorToken = randomBytes(32).toString('base64url');
  const env = {
    PATH: process.env.PATH,
    MES_MODE: 'sandbox',
    HOST: '127.0.0.1',
    PUBLIC_URL: issuer,
    DATABASE_URL: settings.databaseUrl,
    DATABASE_SCHEMA: schema,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    OPERATOR_TOKEN: operatorToken,
    LOG_LEVEL: 'warn',
  };
  progress(`${version}; PostgreSQL ${settings.databaseUrl.replace(/\/\/[^@/]*@/, '//…@')}, schema ${schema}; logs in ${work}`);

  // The instances: the operators' process entry, each on its own port, the same PUBLIC_URL (the
  // balancer), the same KEY_ENCRYPTION_KEY and database. Started together: migrations are applied
  // once, under the advisory lock.
  const instances = ports.map((port, index) => ({ name: `instance-${index + 1}`, port, url: `http://127.0.0.1:${port}` }));
  const startInstance = (instance) => {
    instance.process = startProcess(instance.name, process.execPath, ['--import', exitWithParent, entry], {
      env: { ...env, PORT: String(instance.port) },
      logFile: join(work, `${instance.name}.log`),
    });
    return instance.process;
  };
  const waitReady = async (instance, limitMs = 120_000) => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const exited = instance.process.exitInfo();
      if (exited) throw new Error(`${instance.name} exited (${JSON.stringify(exited)}) before it was ready; see ${instance.process.logFile}`);
      const answer = await exchange(`${instance.url}/readyz`, {}, 2000);
      if (answer.status === 200) return;
      if (Date.now() > deadline) throw new Error(`${instance.name} was not ready within ${limitMs / 1000} s (last: ${answer.status || answer.error}); see ${instance.process.logFile}`);
      await sleep(100);
    }
  };
  instances.forEach(startInstance);
  await Promise.all(instances.map((instance) => waitReady(instance)));
  progress(`3 instances ready on ports ${ports.join(', ')}`);

  const socket = join(work, 'haproxy.sock');
  startBalancer({ haproxy: haproxy.command, bind: `127.0.0.1:${lbPort}`, socket, instances: instances.map((i) => `127.0.0.1:${i.port}`), logFile: join(work, 'haproxy.log') });
  await waitForStates(socket, (states) => instances.every((i) => states[i.name]?.status === 'UP'), { what: 'HAProxy to see every instance UP' });
  progress(`HAProxy on ${issuer}, every instance UP`);

  // Setup, through the balancer: the app, a grant per patient for each client, a few measurements.
  const catalogApi = await import(pathToFileURL(join(root, 'catalog-api/dist/index.js')).href);
  const app = await registerApp({ issuer, catalogApi });
  const patients = Array.from({ length: settings.patients }, (_, i) => `cluster-patient-${i + 1}`);
  const confidentialSessions = [];
  const publicSessions = [];
  for (const patient of patients) {
    confidentialSessions.push(await authorize(app.confidential, patient));
    publicSessions.push(await authorize(app.public, patient));
  }
  const knownIds = new Map(patients.map((patient) => [patient, []]));
  const load = createLoad({ confidentialSessions, publicSessions, knownIds });
  for (const session of confidentialSessions) {
    for (let i = 0; i < 3; i += 1) {
      const seeded = await load.create(session, 'setup');
      if (!seeded.acknowledged) throw new Error(`setup: a create was refused: ${seeded.kinds.join(', ')}`);
    }
  }
  progress(`app ${app.appId}: ${patients.length} patients, a grant each for the confidential and the public client, ${knownIds.size * 3} measurements`);

  const failures = [];
  const check = (ok, message) => {
    if (!ok) failures.push(message);
    return ok;
  };

  // The load, and the kill in the middle of it.
  const victim = instances[1];
  const loadStarted = performance.now();
  const killAt = loadStarted + settings.beforeKillSeconds * 1000;
  const loadDone = load.run({ until: killAt + settings.afterKillSeconds * 1000, loops: settings.loops });
  progress(`load running (${Object.entries(settings.loops).map(([kind, n]) => `${n} ${kind}`).join(', ')}); ${victim.name} is killed in ${settings.beforeKillSeconds} s`);
  // For the last seconds before the kill, creates also go straight to the instance that will die,
  // so that some are surely in flight there when it does, at every stage of their work.
  await sleep(killAt - 2000 - performance.now());
  const statesBeforeKill = await serverStates(socket);
  const direct = load.runDirect({ concurrency: settings.directCreates, target: victim.url });
  await sleep(killAt - performance.now());
  const killedAt = performance.now();
  victim.process.signal('SIGKILL');
  direct.stop();
  progress(`${victim.name} killed (SIGKILL, pid ${victim.process.pid})`);
  const downStates = await waitForStates(socket, (states) => states[victim.name]?.status?.startsWith('DOWN') || states[victim.name]?.status === 'MAINT', {
    timeoutMs: 30_000,
    intervalMs: 20,
    what: `HAProxy to mark ${victim.name} DOWN`,
  });
  const markedDownAt = performance.now();
  progress(`HAProxy marked ${victim.name} DOWN after ${Math.round(markedDownAt - killedAt)} ms`);
  await Promise.all([loadDone, direct.done]);
  const loadEnded = performance.now();
  progress(`load stopped; ${load.events.length} requests`);

  // The dead instance comes back: how long until the balancer sends it requests again.
  const restartedAt = performance.now();
  startInstance(victim);
  await waitReady(victim);
  const readyAgainAt = performance.now();
  await waitForStates(socket, (states) => states[victim.name]?.status === 'UP', { intervalMs: 20, what: `HAProxy to see ${victim.name} UP again` });
  const upAgainAt = performance.now();
  progress(`${victim.name} started again: ready after ${Math.round(readyAgainAt - restartedAt)} ms, UP at HAProxy after ${Math.round(upAgainAt - restartedAt)} ms`);

  // A restart as a deploy does it, under load: the instance is drained at the balancer (no new
  // requests; those in flight finish), stopped with SIGTERM, started again, and put back.
  const stopped = instances[2];
  const gracefulStarted = performance.now();
  const drainAt = gracefulStarted + settings.gracefulBeforeSeconds * 1000;
  const gracefulLoadDone = load.run({ until: drainAt + settings.gracefulAfterSeconds * 1000, loops: settings.loops });
  await sleep(drainAt - performance.now());
  const drainedAt = performance.now();
  await setServerState(socket, stopped.name, 'drain');
  await waitForStates(socket, (states) => states[stopped.name]?.current === 0, { intervalMs: 20, what: `${stopped.name}'s requests to finish` });
  const idleAfterMs = Math.round(performance.now() - drainedAt);
  const terminatedAt = performance.now();
  stopped.process.signal('SIGTERM');
  const stoppedExit = await stopped.process.exited;
  const stoppedAfterMs = Math.round(performance.now() - terminatedAt);
  check(stoppedExit.code === 0, `${stopped.name} exited ${JSON.stringify(stoppedExit)} on SIGTERM, not 0`);
  startInstance(stopped);
  await waitReady(stopped);
  await waitForStates(socket, (states) => states[stopped.name]?.status?.startsWith('UP') || states[stopped.name]?.status?.startsWith('DRAIN'), {
    intervalMs: 20,
    what: `HAProxy to see ${stopped.name} answer its checks again`,
  });
  await setServerState(socket, stopped.name, 'ready');
  const backAt = performance.now();
  progress(
    `${stopped.name} restarted under load: drained (no request left after ${idleAfterMs} ms), SIGTERM (exited ${stoppedExit.code} after ${stoppedAfterMs} ms), ` +
      `started, back in the balancer ${Math.round(backAt - drainedAt)} ms after the drain began`,
  );
  await gracefulLoadDone;
  const gracefulEnded = performance.now();
  progress(`load stopped; ${load.events.length} requests in all`);
  const statesAfter = await serverStates(socket);

  // ---- Checks --------------------------------------------------------------------------------

  // 1. Every create: exactly one resource when acknowledged (the one the app was told of), at most
  //    one otherwise; retried creates (several attempts) made one resource.
  const db = new pg.Client({ connectionString: settings.databaseUrl, options: `-c search_path=${schema}` });
  await db.connect();
  let stored;
  try {
    const rows = await db.query(
      `SELECT patient_id, resource_date, array_agg(id ORDER BY id) AS ids FROM fhir_resources
        WHERE resource_type = 'Observation' AND patient_id = ANY($1) GROUP BY patient_id, resource_date`,
      [patients],
    );
    stored = new Map(rows.rows.map((row) => [`${row.patient_id} ${new Date(row.resource_date).toISOString()}`, row.ids]));
  } finally {
    await db.end();
  }
  const emptyFigures = () => ({ total: 0, acknowledged: 0, lost: 0, retried: 0, retriedAcknowledged: 0, answeredFromKey: 0, waitedOnKey: 0, duplicated: 0, notAcknowledged: 0, notAcknowledgedButStored: 0 });
  const createFigures = {};
  for (const create of load.creates) {
    const ids = stored.get(`${create.patient} ${create.effectiveDateTime}`) ?? [];
    const figures = (createFigures[create.phase] ??= emptyFigures());
    figures.total += 1;
    if (create.attempts > 1) figures.retried += 1;
    if (create.replayed) figures.answeredFromKey += 1;
    if (create.kinds.some((kind) => kind.includes('Idempotency-Key'))) figures.waitedOnKey += 1;
    if (ids.length > 1) figures.duplicated += 1;
    if (create.acknowledged) {
      figures.acknowledged += 1;
      if (create.attempts > 1) figures.retriedAcknowledged += 1;
      if (ids.length === 0) figures.lost += 1;
      check(
        ids.length === 1 && ids[0] === create.id,
        `create ${create.key} (${create.patient}, ${create.attempts} attempts: ${create.kinds.join(', ') || 'first time'}) was acknowledged as ${create.id}; the store holds ${JSON.stringify(ids)}`,
      );
    } else {
      figures.notAcknowledged += 1;
      if (ids.length === 1) figures.notAcknowledgedButStored += 1;
      check(ids.length <= 1, `create ${create.key} (not acknowledged: ${create.kinds.join(', ')}) left ${ids.length} resources`);
    }
  }
  // Creates sent to the instance before it was killed that had to be sent again: in flight there when it died.
  const inFlightAtKill = load.creates.filter((create) => create.phase === 'sent to the instance killed' && create.firstSentAt < killedAt && create.attempts > 1).length;
  check(inFlightAtKill > 0, 'no create was in flight on the killed instance: the kill did not test retried creates (run again)');

  // 2. Every patient's access history verifies, and holds at least every access an app was answered.
  const historyPatients = [...patients];
  const withdrawalPatient = 'cluster-patient-withdrawal';
  historyPatients.push(withdrawalPatient);
  // 3 (below) makes accesses for the withdrawal patient first.

  // 3. A withdrawal made through one instance is refused at the next request by each of the
  //    others, sent to each directly (and through the balancer).
  const withdrawal = { through: instances[0].name, checks: [] };
  const session = await authorize(app.confidential, withdrawalPatient);
  for (const instance of instances) {
    const answer = await fhirRequest(session, 'GET', '/fhir/Observation?_count=1', { target: instance.url });
    check(answer.status === 200, `before the withdrawal, ${instance.name} answered ${failureKind(answer)}`);
    if (answer.status === 200) load.answeredAccesses.set(withdrawalPatient, (load.answeredAccesses.get(withdrawalPatient) ?? 0) + 1);
  }
  const withdrawn = await exchange(`${instances[0].url}/sandbox/clients/${app.confidential.clientId}/withdrawal`, {
    method: 'POST',
    headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ patient: withdrawalPatient }),
  });
  check(withdrawn.status === 200, `the withdrawal through ${instances[0].name} answered ${failureKind(withdrawn)}`);
  for (const target of [...instances.slice(1).map((i) => ({ name: i.name, url: i.url })), { name: 'the balancer', url: issuer }]) {
    const read = await fhirRequest(session, 'GET', '/fhir/Observation?_count=1', { target: target.url });
    const challenge = read.headers?.get('www-authenticate') ?? '';
    const readRefused = read.status === 401 && challenge.includes('grant_ended="consent_withdrawn"');
    const refresh = await tokenRequest(session.client, { grant_type: 'refresh_token', refresh_token: session.refreshToken }, target.url);
    const refreshRefused = refresh.status === 400 && refresh.json?.error === 'invalid_grant' && refresh.json?.grant_ended === 'consent_withdrawn';
    withdrawal.checks.push({ at: target.name, read: `${read.status} ${/grant_ended="([^"]+)"/.exec(challenge)?.[1] ?? failureKind(read)}`, refresh: `${refresh.status} ${refresh.json?.grant_ended ?? failureKind(refresh)}` });
    check(readRefused, `after the withdrawal, a read at ${target.name} answered ${read.status} ${challenge || read.text}`);
    check(refreshRefused, `after the withdrawal, a refresh at ${target.name} answered ${refresh.status} ${refresh.text ?? refresh.error}`);
  }

  const history = [];
  for (const patient of historyPatients) {
    const answer = await exchange(`${issuer}/operator/access-history/verification?patient=${patient}`, { headers: { authorization: `Bearer ${operatorToken}` } });
    const answered = load.answeredAccesses.get(patient) ?? 0;
    history.push({ patient, ok: answer.json?.ok ?? null, entries: answer.json?.entries ?? null, answered });
    check(answer.status === 200 && answer.json?.ok === true, `the access history of ${patient} does not verify: ${answer.status} ${answer.text ?? answer.error}`);
    check((answer.json?.entries ?? 0) >= answered, `the access history of ${patient} holds ${answer.json?.entries} entries, fewer than the ${answered} accesses its app was answered`);
  }

  const restartErrors = load.events.filter((event) => event.t >= drainedAt && event.kind !== 'ok');
  check(restartErrors.length === 0, `the drained restart of ${stopped.name} cost ${restartErrors.length} errors: ${[...new Set(restartErrors.map((event) => `${event.op}: ${event.kind}`))].join('; ')}`);

  // ---- Figures -------------------------------------------------------------------------------
  const phaseOf = (t) =>
    t < killedAt
      ? 'before the kill'
      : t < markedDownAt
        ? `from the SIGKILL of ${victim.name} until HAProxy marked it DOWN`
        : t < drainedAt
          ? 'after that, until the restart of another instance'
          : `from the drain of ${stopped.name} on (drain, SIGTERM, start, back in the balancer)`;
  const byPhase = {};
  const requestsByOperation = {};
  for (const event of load.events) {
    const phase = (byPhase[phaseOf(event.t)] ??= { requests: 0, errors: 0, errorsByKind: {} });
    phase.requests += 1;
    requestsByOperation[event.op] = (requestsByOperation[event.op] ?? 0) + 1;
    if (event.kind !== 'ok') {
      phase.errors += 1;
      const key = `${event.op}: ${event.kind}`;
      phase.errorsByKind[key] = (phase.errorsByKind[key] ?? 0) + 1;
    }
  }
  // A create whose key the killed instance held answers 409 until the key is taken as lost (60 s):
  // counted apart from the failover itself.
  const waitsOnKey = (event) => event.kind.includes('Idempotency-Key');
  const errorsAfterKill = load.events.filter((event) => event.t >= killedAt && event.t < gracefulStarted && event.kind !== 'ok' && !waitsOnKey(event));
  const lastErrorAfterKill = errorsAfterKill.length ? Math.round(Math.max(...errorsAfterKill.map((event) => event.t)) - killedAt) : null;
  const keyWaits = load.creates.filter((create) => create.kinds.some((kind) => kind.includes('Idempotency-Key')));
  const keyWaitEndedAfterKill = keyWaits.length ? Math.round(Math.max(...keyWaits.map((create) => create.endedAt)) - killedAt) : null;
  const failedOperations = {};
  for (const failed of load.operations.failed) failedOperations[`${failed.op}: ${failed.kind}`] = (failedOperations[`${failed.op}: ${failed.kind}`] ?? 0) + 1;
  // The loops stop starting operations after the planned load; operations already started may go on (retries).
  const plannedLoad = settings.beforeKillSeconds + settings.afterKillSeconds + settings.gracefulBeforeSeconds + settings.gracefulAfterSeconds;
  const duringLoad = (loadEnded - loadStarted) / 1000;

  const results = {
    passed: failures.length === 0,
    failures,
    durationSeconds: Number(elapsed()),
    settings: { ...settings, databaseUrl: settings.databaseUrl.replace(/\/\/[^@/]*@/, '//…@'), haproxy: version, node: process.version },
    requests: {
      total: load.events.length,
      perSecond: Math.round(
        load.events.filter((event) => event.t < killAt + settings.afterKillSeconds * 1000 || (event.t >= gracefulStarted && event.t < gracefulEnded)).length / plannedLoad,
      ),
      loadSeconds: plannedLoad,
      lastOperationOfTheKillPhaseEndedAfterSeconds: Number(duringLoad.toFixed(1)),
      byOperation: requestsByOperation,
      byPhase,
    },
    operations: { succeeded: load.operations.ok, failedAfterRetries: failedOperations },
    failover: {
      killed: victim.name,
      markedDownAfterMs: Math.round(markedDownAt - killedAt),
      lastClientErrorAfterKillMs: lastErrorAfterKill,
      createsWaitingOnKeysOfTheKilledInstance: keyWaits.length,
      lastOfThemAcknowledgedAfterKillMs: keyWaitEndedAfterKill,
      restartReadyAfterMs: Math.round(readyAgainAt - restartedAt),
      restartUpAtBalancerAfterMs: Math.round(upAgainAt - restartedAt),
      balancer: { beforeKill: statesBeforeKill, atMarkDown: downStates, end: statesAfter },
    },
    restart: {
      instance: stopped.name,
      noRequestLeftAfterDrainMs: idleAfterMs,
      exit: stoppedExit,
      exitedAfterSigtermMs: stoppedAfterMs,
      backInTheBalancerAfterDrainMs: Math.round(backAt - drainedAt),
      errors: load.events.filter((event) => event.t >= drainedAt && event.kind !== 'ok').length,
    },
    creates: { ...createFigures, inFlightOnTheKilledInstance: inFlightAtKill },
    accessHistory: history,
    withdrawal,
  };
  const resultsDir = join(root, 'cluster/results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results);
  return results;
}

function printSummary(results) {
  const lines = [];
  const { requests, failover, creates } = results;
  lines.push('', `Cluster test: ${results.passed ? 'PASSED' : 'FAILED'} in ${results.durationSeconds} s`);
  lines.push(
    `  requests: ${requests.total} (${requests.perSecond}/s over the ${requests.loadSeconds} s of load; the last retried operation of the kill phase ended at ${requests.lastOperationOfTheKillPhaseEndedAfterSeconds} s): ` +
      Object.entries(requests.byOperation).map(([op, n]) => `${op} ${n}`).join(', '),
  );
  for (const [phase, figures] of Object.entries(requests.byPhase)) {
    lines.push(`  ${phase}: ${figures.requests} requests, ${figures.errors} errors`);
    for (const [kind, n] of Object.entries(figures.errorsByKind).sort((a, b) => b[1] - a[1])) lines.push(`      ${String(n).padStart(5)}  ${kind}`);
  }
  const failed = Object.entries(results.operations.failedAfterRetries);
  lines.push(`  operations: ${results.operations.succeeded} succeeded${failed.length ? `; failed after retries: ${failed.map(([kind, n]) => `${n} × ${kind}`).join('; ')}` : ', none failed after retries'}`);
  lines.push(
    `  failover: ${failover.killed} killed; HAProxy marked it DOWN after ${failover.markedDownAfterMs} ms; last error seen by a client ${failover.lastClientErrorAfterKillMs ?? '—'} ms after the kill` +
      ` (besides ${failover.createsWaitingOnKeysOfTheKilledInstance} create(s) waiting on a key the killed instance held${failover.lastOfThemAcknowledgedAfterKillMs === null ? '' : `, acknowledged ${failover.lastOfThemAcknowledgedAfterKillMs} ms after the kill`});` +
      ` started again: ready after ${failover.restartReadyAfterMs} ms, UP at HAProxy after ${failover.restartUpAtBalancerAfterMs} ms`,
  );
  const { inFlightOnTheKilledInstance, ...createPhases } = creates;
  lines.push(`  creates in flight on ${failover.killed} when it was killed: ${inFlightOnTheKilledInstance}`);
  for (const [phase, figures] of Object.entries(createPhases)) {
    lines.push(
      `  creates (${phase}): ${figures.total}, ${figures.acknowledged} acknowledged (${figures.lost} lost), ${figures.retried} retried by the app ` +
        `(${figures.retriedAcknowledged} acknowledged: ${figures.answeredFromKey} with the answer kept for the key, ${figures.waitedOnKey} after waiting on a key the killed instance held), ` +
        `${figures.duplicated} with more than one resource; ${figures.notAcknowledged} never acknowledged (${figures.notAcknowledgedButStored} of them stored)`,
    );
  }
  const { restart } = results;
  lines.push(
    `  restart of ${restart.instance} under load: drained (no request left after ${restart.noRequestLeftAfterDrainMs} ms), SIGTERM (exit ${restart.exit.code} after ${restart.exitedAfterSigtermMs} ms), ` +
      `back in the balancer ${restart.backInTheBalancerAfterDrainMs} ms after the drain began; ${restart.errors} errors`,
  );
  const balancerEnd = failover.balancer.end;
  lines.push(
    `  HAProxy: ${Object.values(balancerEnd).reduce((sum, server) => sum + server.retries, 0)} retries, ${Object.values(balancerEnd).reduce((sum, server) => sum + server.redispatches, 0)} redispatches to another instance; ` +
      `${balancerEnd[failover.killed].connectionErrors} connection errors and ${balancerEnd[failover.killed].responseErrors} response errors at ${failover.killed}`,
  );
  lines.push(`  access history: ${results.accessHistory.map((h) => `${h.patient} ${h.ok ? 'ok' : 'NOT OK'} (${h.entries} entries ≥ ${h.answered} answered)`).join('; ')}`);
  lines.push(`  withdrawal through ${results.withdrawal.through}: ${results.withdrawal.checks.map((c) => `${c.at}: read ${c.read}, refresh ${c.refresh}`).join('; ')}`);
  for (const failure of results.failures) lines.push(`  FAILED: ${failure}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

let exitCode = 1;
try {
  const results = await main();
  passed = results.passed;
  exitCode = passed ? 0 : 1;
} catch (error) {
  progress(error instanceof Unmet ? error.message : `error: ${error.stack ?? error.message}`);
} finally {
  progress('stopping HAProxy and the instances, dropping the schema');
  await cleanUp();
}
process.exit(exitCode);
