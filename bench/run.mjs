#!/usr/bin/env node
// `npm run bench`: measures the platform against yardsticks, in one process.
//
// With BENCH_DATABASE_URL, the headline scenarios are compared with the limit (bench/limit/, a
// minimal implementation of the same work) on PostgreSQL, in production and sandbox mode, runs
// alternating, with statements and PostgreSQL CPU per request (measureYardstick, lib/yardstick.mjs).
// Then the PGlite line: every selected scenario against a bare fastify baseline (BENCH_PGLITE=0 skips it).
//
// The servers (baseline and platform) run on this thread; autocannon runs in a worker thread
// (lib/load-worker.mjs). For each scenario of scenarios.mjs the baseline is measured right before
// the scenario, so the ratio compares two numbers taken on the same machine a few seconds apart.
// A scenario with a `supply` (requests that each spend a single-use item such as an authorization
// code) is run in segments: this thread mints each segment's items while no load runs, and the
// load generator spends exactly those (see serveSupply here, runSupplied in lib/load-worker.mjs).
// The servers' event-loop utilisation and the CPU of this thread, of the load generator's and of
// the process are measured over the measured load only (lib/cpu.mjs).
// Results go to bench/results/latest.json and a timestamped copy; a summary table to stdout,
// progress to stderr. Exits 1 when any measurement saw errors or non-2xx answers.
//
// Settings (environment): BENCH_SANDBOX_PATIENTS (10000; 0 skips the sandbox start timing),
// BENCH_DURATION (s, 10), BENCH_CONNECTIONS (10), BENCH_WARMUP (s, 2; 1
// when BENCH_DURATION < 5), BENCH_ROUNDS (1), BENCH_SCENARIOS (comma-separated names, all),
// BENCH_DATA_DIR (PGlite directory or memory://; a fresh temp dir), BENCH_DATABASE_URL (the
// comparison with the limit on PostgreSQL, in a throw-away schema), BENCH_PGLITE, BENCH_SDK,
// BENCH_CLI (0 skips); --quick sets short defaults (npm run bench:quick).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { processCpuSeconds, threadCpuSeconds } from './lib/cpu.mjs';
import { measureSdkOverhead } from './lib/sdk-overhead.mjs';
import { measureCliStartup } from './lib/cli-startup.mjs';
import { baseline, catalogPageSize, scenarios as allScenarios } from './scenarios.mjs';
import { yardstickNames } from './lib/yardstick-scenarios.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = join(benchDir, '..');
const resultsDir = join(benchDir, 'results');
const workerFile = join(benchDir, 'lib', 'load-worker.mjs');
const requireFromCatalogApi = createRequire(join(rootDir, 'catalog-api', 'package.json'));
const requireFromRoot = createRequire(join(rootDir, 'package.json'));

/** Certified apps put in the catalogue: more than one page, so the page has a next cursor too. */
const catalogApps = catalogPageSize + 4;

const log = (message) => process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------------------------------------
// Settings

function positiveInteger(name, fallback, { min = 1, max = 3600 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * `--quick` (npm run bench:quick): a few minutes at most. Unless set otherwise: 3 s runs of
 * fhir-search only, no SDK, sandbox start or CLI start-up measurement.
 */
const quick = process.argv.includes('--quick');
if (quick) {
  const defaults = { BENCH_DURATION: '3', BENCH_SCENARIOS: 'fhir-search', BENCH_SDK: '0', BENCH_SANDBOX_PATIENTS: '0', BENCH_CLI: '0' };
  for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
}

function readSettings() {
  const durationSeconds = positiveInteger('BENCH_DURATION', 10);
  const settings = {
    durationSeconds,
    warmupSeconds: positiveInteger('BENCH_WARMUP', durationSeconds < 5 ? 1 : 2, { min: 0 }),
    connections: positiveInteger('BENCH_CONNECTIONS', 10, { max: 10000 }),
    pipelining: 1,
    rounds: positiveInteger('BENCH_ROUNDS', 1, { max: 100 }),
    scenarios: allScenarios.map((s) => s.name),
    store: null, // filled in once the platform is up
    catalogApps: null,
  };
  const wanted = (process.env.BENCH_SCENARIOS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (wanted.length) {
    const unknown = wanted.filter((name) => !allScenarios.some((s) => s.name === name));
    if (unknown.length) {
      throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.name).join(', ')}`);
    }
    settings.scenarios = wanted;
  }
  // The headline scenarios are also compared with the limit on PostgreSQL (lib/yardstick.mjs).
  settings.databaseUrl = process.env.BENCH_DATABASE_URL || null;
  settings.yardstickScenarios = settings.databaseUrl ? yardstickNames.filter((name) => settings.scenarios.includes(name)) : [];
  // The PGlite line: every selected scenario against bare fastify, on the development store.
  settings.pglite = process.env.BENCH_PGLITE !== '0';
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Machine and build information

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function packageVersion(name, from = requireFromRoot) {
  // Some packages do not export their package.json: walk up from their entry point instead.
  try {
    let dir = dirname(from.resolve(name));
    while (dir !== dirname(dir)) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        if (manifest.name === name) return manifest.version;
      } catch {
        // no package.json here
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return null;
}

function machineInfo() {
  const cpus = os.cpus();
  const status = git('status', '--porcelain');
  return {
    node: process.version,
    v8: process.versions.v8,
    os: { type: os.type(), platform: os.platform(), release: os.release(), arch: os.arch() },
    cpus: { count: cpus.length, availableParallelism: os.availableParallelism(), model: cpus[0]?.model ?? null, speedMHz: cpus[0]?.speed ?? null },
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    versions: {
      fastify: packageVersion('fastify', requireFromCatalogApi),
      autocannon: packageVersion('autocannon'),
      pglite: packageVersion('@electric-sql/pglite', requireFromCatalogApi),
    },
    git: { commit: git('rev-parse', 'HEAD'), dirty: status === null ? null : status.length > 0 },
  };
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function warnWhenBuildLooksStale() {
  for (const pkg of ['catalog-api', 'sandbox']) {
    const dist = newestMtime(join(rootDir, pkg, 'dist'));
    if (dist && newestMtime(join(rootDir, pkg, 'src')) > dist) {
      log(`warning: ${pkg}/src is newer than ${pkg}/dist; run \`npm run build\` (npm run bench does) to measure the current code`);
    }
  }
}

async function importPlatform() {
  try {
    const api = await import('@mes/catalog-api');
    const sandbox = await import('@mes/sandbox');
    return { api, sandbox };
  } catch (error) {
    throw new Error(`cannot load the built platform (${error.message}); run \`npm run build\` at the repository root first`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The servers

async function startBaseline() {
  const { default: Fastify } = await import(pathToFileURL(requireFromCatalogApi.resolve('fastify')).href);
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ ok: true, service: 'baseline' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

async function startPlatform({ api, sandbox }) {
  const { buildApp, listen, loadConfig, catalog } = api;
  const tempDir = mkdtempSync(join(os.tmpdir(), 'mes-bench-'));
  // The PGlite line (PostgreSQL is the yardstick comparison's, lib/yardstick.mjs).
  const databaseUrl = undefined;
  const dataDir = process.env.BENCH_DATA_DIR || join(tempDir, 'data');
  const config = loadConfig(databaseUrl ? { DATABASE_URL: databaseUrl } : {}, {
    mode: 'sandbox',
    dataDir,
    logLevel: 'silent',
    port: 0,
  });
  if (databaseUrl) config.databaseSchema = `bench_${randomBytes(6).toString('hex')}`;
  const store = databaseUrl
    ? `PostgreSQL ${redactUrl(databaseUrl)}, schema ${config.databaseSchema} (dropped afterwards)`
    : dataDir === 'memory://' || dataDir === ':memory:'
      ? 'PGlite in memory'
      : `PGlite in ${dataDir}`;

  const cleanup = async () => {
    rmSync(tempDir, { recursive: true, force: true });
    if (config.databaseSchema) await dropSchema(databaseUrl, config.databaseSchema);
  };
  let app;
  try {
    app = await buildApp(config);
    // The sandbox's demo publisher and apps, then more certified apps so the catalogue has more
    // than one page.
    const seed = await sandbox.seedSandbox(app.db, tempDir);
    const template = sandbox.demoApps.find((demo) => demo.certified);
    const certifiedSeeded = sandbox.demoApps.filter((demo) => demo.certified).length;
    const { certified: _certified, ...input } = template;
    for (let i = certifiedSeeded + 1; i <= catalogApps; i += 1) {
      const created = await catalog.createApp(app.db, seed.publisherId, {
        ...input,
        name: `Appli de banc d'essai ${String(i).padStart(2, '0')}`,
      }, { sandbox: true });
      await catalog.setCertificationStatus(app.db, created.id, 'certified');
    }
    const server = await listen(app, config);
    // A second server on the same store that does not record the FHIR access history: the
    // fhir-search-without-history scenario measures what the history costs against it.
    const withoutHistory = await listen(await buildApp(config, { db: app.db, withoutAccessHistoryForBenchmark: true }), config);
    const listed = await (await fetch(`${server.url}/catalog/apps?limit=100`)).json();
    return {
      url: server.url,
      withoutHistoryUrl: withoutHistory.url,
      app,
      db: app.db,
      config,
      seed,
      catalog,
      store,
      catalogApps: Array.isArray(listed.items) ? listed.items.length : null,
      close: async () => {
        try {
          await withoutHistory.close();
          await server.close();
        } finally {
          await cleanup();
        }
      },
    };
  } catch (error) {
    if (app) await app.close().catch(() => {});
    await cleanup().catch(() => {});
    throw error;
  }
}

function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

async function dropSchema(databaseUrl, schema) {
  if (!/^bench_[0-9a-f]+$/.test(schema)) return;
  const { default: pg } = await import(pathToFileURL(requireFromCatalogApi.resolve('pg')).href);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

/**
 * One fetch of the scenario's request; must answer 2xx, then the scenario's check() runs. The
 * request is load()'s own, or its first `requests` entry passed through its setupRequest().
 */
async function defaultPreflight(scenario, url, params, ctx) {
  // A supplied scenario gets one freshly minted item, through the same take() as in a run.
  let supply;
  if (scenario.supply) {
    const items = [await scenario.supply.mint(ctx, params)];
    supply = { take: () => items.shift() };
  }
  const options = await scenario.load(params, supply);
  let request = { method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, body: options.body };
  const first = options.requests?.[0];
  if (first) {
    const { setupRequest, onResponse: _onResponse, ...fields } = first;
    request = { ...request, ...fields, headers: { ...request.headers, ...fields.headers } };
    if (setupRequest) request = setupRequest(request, {});
    if (!request) throw new Error('setupRequest() returned no request');
  }
  const { method, path, headers, body } = request;
  const response = await fetch(new URL(path, url), { method, headers, body });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  await scenario.check?.({ status: response.status, headers: response.headers, text, json }, params);
}

/**
 * The main thread's side of a scenario's supply: mints what the load generator asks for, `count`
 * items at most, `concurrency` at a time, stopping at `budgetMs`. The load generator asks between
 * its segments, so no load runs meanwhile.
 */
function serveSupply(scenario, ctx, params, port) {
  const { mint, concurrency = 8 } = scenario.supply;
  port.on('message', async ({ id, count, budgetMs }) => {
    const started = performance.now();
    const items = [];
    const mintedAt = [];
    let inFlight = 0;
    try {
      const lane = async () => {
        while (items.length + inFlight < count && performance.now() - started < budgetMs) {
          inFlight += 1;
          try {
            const item = await mint(ctx, params);
            items.push(item);
            mintedAt.push(Date.now());
          } finally {
            inFlight -= 1;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
      port.postMessage({ id, items, mintedAt, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      port.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

function runLoad({ scenario, url, params, settings, ctx, probe }) {
  return new Promise((resolve, reject) => {
    const channel = scenario.supply ? new MessageChannel() : null;
    if (channel) serveSupply(scenario, { ...ctx, url }, params, channel.port1);
    const worker = new Worker(workerFile, {
      workerData: {
        scenario: scenario.name,
        url,
        params,
        connections: settings.connections,
        duration: settings.durationSeconds,
        warmup: settings.warmupSeconds,
        supply: channel ? { port: channel.port2, lifetimeSeconds: scenario.supply.lifetimeSeconds ?? 60 } : undefined,
      },
      transferList: channel ? [channel.port2] : [],
    });
    let settled = false;
    // How busy the servers' thread (this one) and the process were while the measured load ran
    // (summed over the segments of a supplied run: minting pauses excluded).
    let window = null;
    const sums = { idle: 0, active: 0, wall: 0, thread: 0, process: 0 };
    const openWindow = () => {
      window = { elu: performance.eventLoopUtilization(), at: performance.now(), thread: threadCpuSeconds(), process: processCpuSeconds() };
      probe?.open();
    };
    const closeWindow = () => {
      if (!window) return;
      probe?.close();
      const elu = performance.eventLoopUtilization(window.elu);
      const thread = threadCpuSeconds();
      sums.idle += elu.idle;
      sums.active += elu.active;
      sums.wall += (performance.now() - window.at) / 1000;
      sums.thread = sums.thread === null || thread === null || window.thread === null ? null : sums.thread + thread - window.thread;
      sums.process += processCpuSeconds() - window.process;
      window = null;
    };
    worker.on('message', (message) => {
      if (message.phase === 'measuring') return openWindow();
      if (message.phase === 'paused') return closeWindow();
      closeWindow();
      channel?.port1.close();
      settled = true;
      if (!message.ok) return reject(new Error(`load generator: ${message.error}`));
      // Near 1 means the server was the bottleneck (what we want to measure); well below 1 means
      // the load generator was, or that the server waited for its thread pool (WebCrypto, file I/O).
      const total = sums.idle + sums.active;
      message.measured.serverEventLoopUtilization = total > 0 ? round2(sums.active / total) : null;
      message.measured.cpu = cpuBreakdown(sums, message.measured);
      resolve(message);
    });
    worker.once('error', (error) => {
      channel?.port1.close();
      if (!settled) reject(error);
      settled = true;
    });
    worker.once('exit', (code) => {
      channel?.port1.close();
      if (!settled) reject(new Error(`load generator exited with code ${code} before reporting`));
    });
  });
}

/**
 * Where the CPU went during the measured load, in cores (CPU seconds per second): the servers'
 * thread, the load generator's thread, and the process's other threads (libuv's pool, where
 * WebCrypto signs and verifies for jose and file I/O runs, plus V8's GC and compiler threads,
 * for both sides). Per request: the server side (servers' thread + other threads) and the load
 * generator. Null where per-thread CPU is unknown (not Linux).
 */
function cpuBreakdown(sums, measured) {
  const client = measured.loadGenerator?.cpuSeconds;
  if (!(sums.wall > 0) || sums.thread === null || typeof client !== 'number') return null;
  const other = Math.max(0, sums.process - sums.thread - client);
  const perRequest = (seconds) => (measured.totalRequests ? Math.round((seconds * 1e6) / measured.totalRequests) : null);
  return {
    serverThreadCores: round2(sums.thread / sums.wall),
    otherThreadsCores: round2(other / sums.wall),
    loadGeneratorCores: round2(client / sums.wall),
    processCores: round2(sums.process / sums.wall),
    serverCpuUsPerRequest: perRequest(sums.thread + other),
    loadGeneratorCpuUsPerRequest: perRequest(client),
  };
}

/** Errors of any kind seen by one run (warm-up included): what makes a measurement invalid. */
function problemsOf(run) {
  if (!run) return 0;
  return run.errors + run.non2xx + run.mismatches; // errors include timeouts
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round2 = (n) => Math.round(n * 100) / 100;
const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Folds the runs of one entry (one per round): mean req/s, median of each latency figure, summed counts. */
function summarize(runs) {
  const measured = runs.map((run) => run.measured);
  const latencyKeys = Object.keys(measured[0].latencyMs);
  const sum = (key) => measured.reduce((total, run) => total + run[key], 0);
  const warmupProblems = runs.reduce((total, run) => total + problemsOf(run.warmup), 0);
  const statusCodes = {};
  for (const run of measured) {
    for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  return {
    reqPerSec: round2(mean(measured.map((run) => run.reqPerSec))),
    latencyMs: Object.fromEntries(latencyKeys.map((key) => [key, round2(median(measured.map((run) => run.latencyMs[key])))])),
    totalRequests: sum('totalRequests'),
    measuredSeconds: round2(sum('durationSeconds')),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    non2xx: sum('non2xx'),
    mismatches: sum('mismatches'),
    warmupErrorsAndNon2xx: warmupProblems,
    statusCodes,
    serverEventLoopUtilization: meanOrNull(measured.map((run) => run.serverEventLoopUtilization)),
    loadGenerator: {
      eventLoopUtilization: meanOrNull(measured.map((run) => run.loadGenerator?.eventLoopUtilization)),
      setupRequestMeanUs: meanOrNull(measured.map((run) => run.loadGenerator?.setupRequestMeanUs)),
    },
    cpu: foldCpu(measured.map((run) => run.cpu)),
    ...(measured.some((run) => run.supply) ? { supply: foldSupply(measured.map((run) => run.supply)) } : {}),
  };
}

/** The CPU breakdown of several runs: each figure's mean (null when any run lacks it). */
function foldCpu(runs) {
  if (!runs.length || runs.some((run) => !run)) return null;
  return Object.fromEntries(Object.keys(runs[0]).map((key) => [key, meanOrNull(runs.map((run) => run[key]))]));
}

const meanOrNull = (values) => (values.every((v) => typeof v === 'number') ? round2(mean(values)) : null);

/** Supply figures of several measured runs: counts summed, the oldest item's age the max. */
function foldSupply(runs) {
  const folded = { minted: 0, mintSeconds: 0, used: 0, ranDry: 0, maxAgeSeconds: 0, segments: 0 };
  for (const run of runs) {
    if (!run) continue;
    for (const key of ['minted', 'mintSeconds', 'used', 'ranDry', 'segments']) folded[key] += run[key];
    folded.maxAgeSeconds = Math.max(folded.maxAgeSeconds, run.maxAgeSeconds);
  }
  folded.mintSeconds = round2(folded.mintSeconds);
  return folded;
}

function isClean(summary) {
  return summary.errors + summary.non2xx + summary.mismatches + summary.warmupErrorsAndNon2xx + (summary.supply?.ranDry ?? 0) === 0;
}

// ---------------------------------------------------------------------------------------------
// Output

function table(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  const line = (row) => row.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const fmt = (n, digits = 0) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Where the CPU went, per request and in cores (see cpuBreakdown). */
function cpuNote(entry, machine) {
  const { serverCpuUsPerRequest, loadGeneratorCpuUsPerRequest, serverThreadCores, otherThreadsCores, loadGeneratorCores, processCores } = entry.cpu;
  const setupUs = entry.loadGenerator?.setupRequestMeanUs;
  return (
    `CPU per request: server ${fmt(serverCpuUsPerRequest)} µs, load generator ${fmt(loadGeneratorCpuUsPerRequest)} µs` +
    `${typeof setupUs === 'number' ? ` (of which ≤${fmt(setupUs)} µs in setupRequest: signing, encoding)` : ''}. ` +
    `Cores busy: servers' thread ${fmt(serverThreadCores, 2)}, other threads ${fmt(otherThreadsCores, 2)}, ` +
    `load generator ${fmt(loadGeneratorCores, 2)}; the whole process ${fmt(processCores, 2)} of ${machine.cpus.count}.`
  );
}

function printSummary(results) {
  if (results.yardstick) printYardstick(results.yardstick, results.settings);
  if (!results.scenarios.length) return;
  const header = ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'server ELU', 'client ELU', 'baseline req/s', 'ratio'];
  const rows = [header];
  const b = results.baseline;
  if (b) {
    rows.push([
      `${b.name} (mean of ${b.runs})`,
      fmt(b.reqPerSec),
      fmt(b.latencyMs.p50, 2),
      fmt(b.latencyMs.p90, 2),
      fmt(b.latencyMs.p99, 2),
      fmt(b.latencyMs.max, 2),
      b.errors,
      b.non2xx,
      fmt(b.serverEventLoopUtilization, 2),
      fmt(b.loadGenerator?.eventLoopUtilization, 2),
      '',
      '1.00',
    ]);
  }
  for (const s of results.scenarios) {
    if (!s.reqPerSec && s.reqPerSec !== 0) {
      rows.push([s.name, 'FAILED', '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([
      s.ok ? s.name : `${s.name} (FAILED)`,
      fmt(s.reqPerSec),
      fmt(s.latencyMs.p50, 2),
      fmt(s.latencyMs.p90, 2),
      fmt(s.latencyMs.p99, 2),
      fmt(s.latencyMs.max, 2),
      s.errors,
      s.non2xx,
      fmt(s.serverEventLoopUtilization, 2),
      fmt(s.loadGenerator?.eventLoopUtilization, 2),
      fmt(s.baseline?.reqPerSec),
      s.ratioToBaseline === null ? '-' : fmt(s.ratioToBaseline, 3),
    ]);
  }
  const { settings, machine } = results;
  console.log(
    `\nBenchmark: ${settings.durationSeconds}s per measurement (after ${settings.warmupSeconds}s warm-up), ` +
      `${settings.connections} connections, ${settings.rounds} round(s); node ${machine.node}, ` +
      `${machine.cpus.count} x ${machine.cpus.model ?? 'cpu'}, store: ${settings.store}\n`,
  );
  console.log(table(rows));
  if (b?.cpu) console.log(`\n${b.name}:\n  ${cpuNote(b, machine)}`);
  for (const s of results.scenarios) {
    const notes = [];
    if (s.supply) {
      const { minted, mintSeconds, used, segments, maxAgeSeconds, ranDry } = s.supply;
      notes.push(
        `${used} requests in ${segments} segment(s), each spending single-use items minted just before its segment while no load ran ` +
          `(${minted} minted in ${fmt(mintSeconds, 1)} s, ${fmt(minted / mintSeconds)}/s; the oldest used ${fmt(maxAgeSeconds, 1)} s after minting` +
          `${ranDry ? `; THE SUPPLY RAN DRY ${ranDry} times` : ''}).`,
      );
    }
    if (s.cpu) notes.push(cpuNote(s, machine));
    if (notes.length) console.log(`\n${s.name}:\n${notes.map((note) => `  ${note}`).join('\n')}`);
    if (s.error) console.log(`\n${s.name}: ${s.error}`);
    else if (!s.ok) console.log(`\n${s.name}: errors or non-2xx answers during the run (status codes: ${JSON.stringify(s.statusCodes)}); ratio withheld`);
  }
  const start = results.sandboxStart;
  if (start && !start.error) {
    console.log(
      `\nsandbox start (npm start, embedded store, ${start.patients} synthetic patients, ${start.resources} resources): ` +
        `first start ${start.firstStartSeconds} s (server up after ${start.firstStartServerUpSeconds} s), warm start ${start.warmStartSeconds} s`,
    );
  } else if (start?.error) console.log(`\nsandbox start: ${start.error}`);
  const sdk = results.sdkOverhead;
  if (sdk && !sdk.error) {
    console.log(`\nSDK overhead (${sdk.description}): SDK ${fmt(sdk.sdkCallsPerSec)} calls/s, by hand ${fmt(sdk.byHandCallsPerSec)} calls/s, ratio ${sdk.ratio}`);
  } else if (sdk?.error) console.log(`\nSDK overhead: ${sdk.error}`);
  const cli = results.cliStartup;
  if (cli && !cli.error) {
    console.log(
      `\nCLI start-up (${cli.description}): mes --help ${cli.mesHelpMs} ms, mes review approve --help ${cli.mesCommandHelpMs} ms, ` +
        `bare oclif --help ${cli.bareOclifHelpMs} ms, ratio ${cli.ratio} (command ${cli.commandRatio})`,
    );
  } else if (cli?.error) console.log(`\nCLI start-up: ${cli.error}`);
  console.log(
    '\nratio = scenario req/s / baseline req/s measured just before it (1.0 = as fast as bare fastify).' +
      '\nserver ELU = event-loop utilisation of the servers\' thread during the run (≈1: the server was the bottleneck);' +
      '\nclient ELU = the same for the load generator\'s thread (≈1: the client was).' +
      `\nresults: ${relative(process.cwd(), join(resultsDir, 'latest.json')) || 'bench/results/latest.json'}`,
  );
}

function writeResults(results) {
  mkdirSync(resultsDir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  // Colons are replaced so that the name is valid on every file system.
  const stamped = join(resultsDir, `${results.startedAt.replace(/:/g, '-')}.json`);
  writeFileSync(stamped, text);
  writeFileSync(join(resultsDir, 'latest.json'), text);
  return stamped;
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The yardstick: the platform against the limit (bench/limit/) on PostgreSQL, lib/yardstick.mjs.

/**
 * For each line (production mode, then sandbox mode) and each headline scenario selected: the
 * equality check (both servers asked the same request, answers compared), then BENCH_ROUNDS pairs
 * of runs, platform then limit, with statements and PostgreSQL CPU measured per server.
 */
async function measureYardstick(settings, { api, sandbox }) {
  const { countStatements, serverProbe, startYardstick, checkEqual } = await import('./lib/yardstick.mjs');
  countStatements();
  log(`yardstick: starting the platform (production and sandbox mode) and the limit on ${redactUrl(settings.databaseUrl)}…`);
  const setup = await startYardstick({ api, sandbox, databaseUrl: settings.databaseUrl, grants: settings.connections * 4, catalogApps, log });
  const onSignal = (signal) => {
    log(`${signal}: closing the yardstick's servers…`);
    setup.close().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const lines = [];
  try {
    for (const line of setup.lines) {
      const probes = { platform: serverProbe(setup.monitor, line.applicationNames.platform), limit: serverProbe(setup.monitor, line.applicationNames.limit) };
      const entries = [];
      for (const name of settings.yardstickScenarios) {
        const entry = { name, equality: null, error: null, runs: { platform: [], limit: [] }, probes: { platform: [], limit: [] } };
        entries.push(entry);
        try {
          entry.equality = await checkEqual(line, name);
          log(`  ${line.mode} ${name}: the limit answers what the platform answers (${entry.equality.bytes} bytes${entry.equality.sameBytes ? ', byte for byte' : ', same JSON'})`);
        } catch (error) {
          entry.error = `equality check failed: ${error instanceof Error ? error.message : String(error)}`;
          log(`  ${line.mode} ${name}: ${entry.error}`);
        }
      }
      for (let round = 1; round <= settings.rounds; round += 1) {
        for (const entry of entries) {
          if (entry.error) continue;
          const tag = settings.rounds > 1 ? ` (round ${round}/${settings.rounds})` : '';
          for (const side of ['platform', 'limit']) {
            try {
              log(`  ${line.mode} ${entry.name}, ${side}${tag}…`);
              await probes[side].prepare();
              const run = await runLoad({
                scenario: { name: `yardstick:${entry.name}` },
                url: line.urls[side],
                params: line.params,
                settings,
                ctx: {},
                probe: probes[side],
              });
              const measured = await probes[side].result(run.measured.totalRequests);
              Object.assign(run.measured, measured);
              entry.runs[side].push(run);
              log(`    ${fmt(run.measured.reqPerSec)} req/s, p99 ${fmt(run.measured.latencyMs.p99, 2)} ms, ${fmt(measured.statementsPerRequest, 2)} statements/request, PostgreSQL ${fmt(measured.pgCpuUsPerRequest)} µs/request`);
            } catch (error) {
              entry.error = error instanceof Error ? error.message : String(error);
              log(`  ${line.mode} ${entry.name}: ${entry.error}`);
              break;
            }
          }
        }
      }
      lines.push({
        mode: line.mode,
        scenarios: entries.map((entry) => {
          const result = { name: entry.name, ok: false, equality: entry.equality };
          if (entry.error || !entry.runs.platform.length || entry.runs.platform.length !== entry.runs.limit.length) return { ...result, error: entry.error ?? 'not measured', ratio: null };
          const side = (runs) => {
            const summary = summarize(runs);
            const extra = (key) => meanOrNull(runs.map((run) => run.measured[key]));
            return { ...summary, statementsPerRequest: extra('statementsPerRequest'), pgCpuUsPerRequest: extra('pgCpuUsPerRequest') };
          };
          const platform = side(entry.runs.platform);
          const limit = side(entry.runs.limit);
          const ok = isClean(platform) && isClean(limit);
          return {
            ...result,
            ok,
            platform,
            limit,
            // platform req/s ÷ limit req/s: 1 = the platform does the work as cheaply as the limit.
            ratio: ok ? Math.round((platform.reqPerSec / limit.reqPerSec) * 1000) / 1000 : null,
            rounds: entry.runs.platform.map((run, i) => ({
              ratio: Math.round((run.measured.reqPerSec / entry.runs.limit[i].measured.reqPerSec) * 1000) / 1000,
              platform: run.measured,
              limit: entry.runs.limit[i].measured,
            })),
          };
        }),
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await setup.close();
  }
  return {
    description: 'the platform against the limit (bench/limit/), alternating runs on one PostgreSQL schema',
    store: `PostgreSQL ${redactUrl(settings.databaseUrl)}, schema ${setup.schema} (dropped afterwards)`,
    ok: lines.every((line) => line.scenarios.every((scenario) => scenario.ok)),
    lines,
  };
}

function printYardstick(yardstick, settings) {
  const header = ['line', 'scenario', 'platform req/s', 'limit req/s', 'ratio', 'p50 ms (p/l)', 'p99 ms (p/l)', 'statements/req (p/l)', 'server CPU µs/req (p/l)', 'PostgreSQL CPU µs/req (p/l)'];
  const rows = [header];
  const pair = (s, get, digits = 0) => `${fmt(get(s.platform), digits)} / ${fmt(get(s.limit), digits)}`;
  for (const line of yardstick.lines) {
    for (const s of line.scenarios) {
      if (!s.platform) {
        rows.push([line.mode, `${s.name} (FAILED)`, '', '', '', '', '', '', '', '']);
        continue;
      }
      rows.push([
        line.mode,
        s.ok ? s.name : `${s.name} (FAILED)`,
        fmt(s.platform.reqPerSec),
        fmt(s.limit.reqPerSec),
        s.ratio === null ? '-' : fmt(s.ratio, 3),
        pair(s, (x) => x.latencyMs.p50, 1),
        pair(s, (x) => x.latencyMs.p99, 1),
        pair(s, (x) => x.statementsPerRequest, 2),
        pair(s, (x) => x.cpu?.serverCpuUsPerRequest),
        pair(s, (x) => x.pgCpuUsPerRequest),
      ]);
    }
  }
  console.log(`\nThe platform against the limit: ${settings.durationSeconds}s per run, ${settings.rounds} round(s) alternating platform and limit; store: ${yardstick.store}\n`);
  console.log(table(rows));
  for (const line of yardstick.lines) for (const s of line.scenarios) if (s.error) console.log(`\n${line.mode} ${s.name}: ${s.error}`);
  console.log(
    '\nratio = platform req/s / limit req/s (1.0 = the platform does the same work as cheaply as the limit); (p/l) = platform / limit.' +
      '\nstatements/req: statements sent to PostgreSQL per request; CPU µs/req: the server process (load generator excluded) and its PostgreSQL backends.',
  );
}

async function main() {
  const startedAt = new Date().toISOString();
  const settings = readSettings();
  const machine = machineInfo();
  const selected = allScenarios.filter((s) => settings.scenarios.includes(s.name));
  warnWhenBuildLooksStale();
  const platformModules = await importPlatform();

  const yardstick = settings.yardstickScenarios.length ? await measureYardstick(settings, platformModules) : null;

  const entries = [];
  let sdkOverhead = null;
  // The PGlite line: every selected scenario against the bare fastify baseline, on the development store.
  if (settings.pglite) {
    log('starting the baseline server and the platform (sandbox mode, seeded)…');
    const baselineServer = await startBaseline();
    let platform;
    try {
      platform = await startPlatform(platformModules);
    } catch (error) {
      await baselineServer.close();
      throw error;
    }
    // Interrupted (Ctrl-C): still close the servers, so the temp dir and any PostgreSQL schema go.
    const onSignal = (signal) => {
      log(`${signal}: closing the servers…`);
      Promise.allSettled([baselineServer.close(), platform.close()]).then(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    settings.store = platform.store;
    settings.catalogApps = platform.catalogApps;
    const urls = { baseline: baselineServer.url, platform: platform.url, 'platform-without-history': platform.withoutHistoryUrl };
    const ctx = {
      url: platform.url,
      urls,
      baselineUrl: baselineServer.url,
      app: platform.app,
      db: platform.db,
      config: platform.config,
      seed: platform.seed,
      catalog: platform.catalog,
      api: platformModules.api,
      settings,
    };

    try {
      // Setup and pre-flight: a scenario that does not answer what it should is not measured.
      await defaultPreflight(baseline, urls.baseline, undefined, ctx);
      for (const scenario of selected) {
        const entry = { scenario, params: undefined, error: null, runs: [], baselineRuns: [] };
        entries.push(entry);
        try {
          entry.params = (await scenario.setup?.(ctx)) ?? null;
          const url = urls[scenario.target];
          if (!url) throw new Error(`unknown target "${scenario.target}" (use ${Object.keys(urls).map((name) => `'${name}'`).join(', ')})`);
          if (scenario.preflight) await scenario.preflight({ ...ctx, url }, entry.params);
          else await defaultPreflight(scenario, url, entry.params, { ...ctx, url });
        } catch (error) {
          entry.error = `setup or pre-flight failed: ${error instanceof Error ? error.message : String(error)}`;
          log(`${scenario.name}: ${entry.error}`);
        }
      }

      const measurable = entries.filter((entry) => !entry.error);
      const perRun = settings.warmupSeconds + settings.durationSeconds;
      log(
        `measuring ${measurable.map((e) => e.scenario.name).join(', ') || 'nothing'}: ` +
          `${measurable.length * 2 * settings.rounds} runs of ${perRun}s (≈${measurable.length * 2 * settings.rounds * perRun}s)`,
      );
      for (let round = 1; round <= settings.rounds; round += 1) {
        for (const entry of measurable) {
          if (entry.error) continue;
          const tag = settings.rounds > 1 ? ` (round ${round}/${settings.rounds})` : '';
          try {
            log(`  baseline before ${entry.scenario.name}${tag}…`);
            const base = await runLoad({ scenario: baseline, url: urls.baseline, params: undefined, settings, ctx });
            log(`    ${fmt(base.measured.reqPerSec)} req/s, p99 ${fmt(base.measured.latencyMs.p99, 2)} ms`);
            log(`  ${entry.scenario.name}${tag}…`);
            const run = await runLoad({ scenario: entry.scenario, url: urls[entry.scenario.target], params: entry.params, settings, ctx });
            log(`    ${fmt(run.measured.reqPerSec)} req/s, p99 ${fmt(run.measured.latencyMs.p99, 2)} ms`);
            entry.baselineRuns.push(base);
            entry.runs.push(run);
          } catch (error) {
            entry.error = error instanceof Error ? error.message : String(error);
            log(`${entry.scenario.name}: ${entry.error}`);
          }
        }
      }
      if (process.env.BENCH_SDK !== '0') {
        log('SDK overhead: mes.fhir.read against fetch by hand…');
        try {
          sdkOverhead = await measureSdkOverhead(ctx, rootDir);
          log(`    SDK ${fmt(sdkOverhead.sdkCallsPerSec)} calls/s, by hand ${fmt(sdkOverhead.byHandCallsPerSec)} calls/s, ratio ${sdkOverhead.ratio}`);
        } catch (error) {
          sdkOverhead = { error: error instanceof Error ? error.message : String(error) };
          log(`SDK overhead: ${sdkOverhead.error}`);
        }
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await Promise.allSettled([baselineServer.close(), platform.close()]);
    }
  }

  const allBaselineRuns = entries.flatMap((entry) => entry.baselineRuns);
  const baselineSummary = allBaselineRuns.length
    ? { name: baseline.name, description: baseline.description, runs: allBaselineRuns.length, ...summarize(allBaselineRuns) }
    : null;

  const scenarioResults = entries.map(({ scenario, error, runs, baselineRuns }) => {
    const result = { name: scenario.name, target: scenario.target, description: scenario.description, ok: false };
    if (!runs.length) return { ...result, error: error ?? 'not measured', ratioToBaseline: null };
    const own = summarize(runs);
    const base = summarize(baselineRuns);
    const ok = !error && isClean(own) && isClean(base);
    return {
      ...result,
      ok,
      ...(error ? { error } : {}),
      ...own,
      ratioToBaseline: ok ? Math.round((own.reqPerSec / base.reqPerSec) * 1000) / 1000 : null,
      baseline: base,
      // Each round as measured: the scenario, the baseline run just before it, and their warm-ups.
      rounds: runs.map((run, i) => ({
        ratio: Math.round((run.measured.reqPerSec / baselineRuns[i].measured.reqPerSec) * 1000) / 1000,
        scenario: run.measured,
        baseline: baselineRuns[i].measured,
        warmup: { scenario: run.warmup, baseline: baselineRuns[i].warmup },
      })),
    };
  });

  const sandboxStart = await measureSandboxStart(settings);
  let cliStartup = null;
  if (process.env.BENCH_CLI !== '0') {
    log('CLI start-up: mes --help against a bare oclif CLI…');
    cliStartup = await measureCliStartup(rootDir).catch((error) => ({ error: error instanceof Error ? error.message : String(error) }));
  }

  const results = {
    schemaVersion: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    ok:
      (scenarioResults.length > 0 || yardstick !== null) &&
      scenarioResults.every((s) => s.ok) &&
      (yardstick?.ok ?? true) &&
      !sdkOverhead?.error &&
      !cliStartup?.error,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((n) => Math.round(n * 100) / 100) },
    settings: { ...settings, databaseUrl: settings.databaseUrl && redactUrl(settings.databaseUrl), loadGenerator: `autocannon ${machine.versions.autocannon} in a worker thread of the same process` },
    yardstick,
    baseline: baselineSummary,
    scenarios: scenarioResults,
    sandboxStart,
    sdkOverhead,
    cliStartup,
  };
  const stamped = writeResults(results);
  printSummary(results);
  log(`wrote ${relative(rootDir, stamped)} and bench/results/latest.json`);
  return results.ok ? 0 : 1;
}

/**
 * `npm start` as a developer meets it, on the embedded store: the first start of the sandbox
 * process (the server up, then the synthetic patients generated and loaded) and a warm start on
 * the same data directory, timed from the spawn to the line that says the patients are ready.
 * BENCH_SANDBOX_PATIENTS (default 10000; 0 skips it).
 */
async function measureSandboxStart(settings) {
  const patients = positiveInteger('BENCH_SANDBOX_PATIENTS', 10_000, { min: 0, max: 200_000 });
  if (patients === 0) return null;
  const dataDir = mkdtempSync(join(os.tmpdir(), 'mes-bench-start-'));
  const entry = join(rootDir, 'sandbox', 'dist', 'start.js');
  const startOnce = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [entry], {
        env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', SANDBOX_PATIENTS: String(patients) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let listening = null;
      let ready = null;
      const onData = (chunk) => {
        output += chunk.toString();
        if (listening === null && output.includes('sandbox ready')) listening = performance.now() - started;
        const line = /Synthetic patients ready: \d+[^\n]*/.exec(output)?.[0];
        if (line && !ready) {
          const resources = /(\d+) resources/.exec(line)?.[1];
          ready = { seconds: Math.round(((performance.now() - started) / 1000) * 10) / 10, serverUpSeconds: Math.round(listening / 100) / 10, resources: resources ? Number(resources) : null };
          child.kill('SIGTERM');
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => (ready ? resolve(ready) : reject(new Error(`the sandbox exited with ${code} before its patients were ready:\n${output.slice(-2000)}`))));
    });
  try {
    log(`sandbox start with ${patients} synthetic patients: first start…`);
    const first = await startOnce();
    log(`    ${first.seconds} s (server up after ${first.serverUpSeconds} s, ${first.resources} resources)`);
    log('  warm start…');
    const warm = await startOnce();
    log(`    ${warm.seconds} s`);
    return { patients, resources: first.resources, firstStartSeconds: first.seconds, firstStartServerUpSeconds: first.serverUpSeconds, warmStartSeconds: warm.seconds };
  } catch (error) {
    log(`sandbox start: ${error.message}`);
    return { patients, error: error.message };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
