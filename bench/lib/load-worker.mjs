// The load generator: runs autocannon in a worker thread, so that on a small machine the client
// and the servers (main thread) do not share one event loop. One worker per measurement: a
// warm-up run whose numbers are only checked for errors, then the measured run.
//
// workerData: { scenario, url, params, connections, duration, warmup, supply? }
// posts { phase: 'measuring' } when a measured stretch starts and { phase: 'paused' } when one
// ends early (the main thread counts its event-loop utilisation over those stretches only), then
// { ok: true, warmup, measured } or { ok: false, error }.
//
// A scenario with a `supply` (single-use items such as authorization codes, see scenarios.mjs)
// gets `supply.port`, a MessagePort to the main thread, which mints items on request. Each run is
// then made of segments: ask the main thread for the items of one segment (it mints them while
// no load runs), run autocannon with `amount` = that many requests, repeat until the warm-up or
// measured time is reached. The size of a segment comes from the rate of the one before.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { scenarioByName } from '../scenarios.mjs';
import { threadCpuSeconds } from './cpu.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
// autocannon's own latency histogram keeps whole milliseconds, too coarse for sub-millisecond
// answers; latencies are recorded here in microseconds from its 'response' events instead.
const hdr = createRequire(require.resolve('autocannon'))('hdr-histogram-js');

/** Longest segment of a supplied run, in seconds. */
const SEGMENT_MAX_SECONDS = 10;
/** A supplied item is used at most this long before it expires on the server, in seconds. */
const LIFETIME_MARGIN_SECONDS = 15;

/** Accumulates one or more autocannon runs (one for a plain scenario, segments for a supplied one). */
function newRecorder() {
  return {
    latencies: hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 120_000_000, // 120 s, in µs
      numberOfSignificantValueDigits: 3,
    }),
    samples: [], // requests completed in each full second
    runs: 0,
    amountMode: false,
    activeMs: 0, // from the start of each run to its last answer
    totalRequests: 0,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    mismatches: 0,
    statusCodes: {},
    setupRequest: { calls: 0, ms: 0 }, // time spent in the scenario's setupRequest (signing...)
    elu: { idle: 0, active: 0 }, // this thread's event loop over the runs
    cpuSeconds: 0, // this thread's CPU time over the runs (null when unknown)
  };
}

/** Where the timed setupRequest() wrappers add their time: the recorder of the run under way. */
let setupTimes = null;

/** Wraps each requests[].setupRequest to time it: the load generator's own cost per request. */
function timeSetupRequests(options) {
  if (!Array.isArray(options.requests)) return options;
  return {
    ...options,
    requests: options.requests.map((request) => {
      if (typeof request.setupRequest !== 'function') return request;
      const setup = request.setupRequest;
      return {
        ...request,
        setupRequest(req, context) {
          const started = performance.now();
          try {
            return setup(req, context);
          } finally {
            if (setupTimes) {
              setupTimes.ms += performance.now() - started;
              setupTimes.calls += 1;
            }
          }
        },
      };
    }),
  };
}

/**
 * One autocannon run added to `recorder`: `duration` seconds, or exactly `amount` requests. Returns
 * the run's own rate (requests per second while it ran). onStart() is called right before the
 * first request, onEnd() right after the last answer.
 */
/** The status every answer of the scenario must have, when not any 2xx (`expectedStatus`). */
let expectedStatus = null;

async function runInto(recorder, options, { duration, amount, onStart, onEnd }) {
  // Inside a worker thread autocannon hands back its raw result without aggregating it, and its
  // per-second request counts go to the `requests` histogram: collect those samples here.
  const samples = [];
  const collect = (values) => ({
    __custom: true,
    recordValue: (value) => values.push(value),
    reset: () => {
      values.length = 0;
    },
    destroy: () => {},
  });
  const connections = amount ? Math.min(options.connections, amount) : options.connections;
  setupTimes = recorder.setupRequest;
  onStart?.();
  const cpuStart = threadCpuSeconds();
  const eluStart = performance.eventLoopUtilization();
  const started = performance.now();
  let answered = 0;
  let end = null;
  const ended = () => {
    end = { at: performance.now(), elu: performance.eventLoopUtilization(eluStart), cpu: threadCpuSeconds() };
    onEnd?.();
  };
  const raw = await new Promise((resolve, reject) => {
    const instance = autocannon(
      { ...options, connections, ...(amount ? { amount } : { duration }), histograms: { requests: collect(samples), throughput: collect([]) } },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTimeMs) => {
      recorder.latencies.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
      answered += 1;
      // With `amount`, autocannon stops at its next one-second tick after the last answer: the
      // time after it is idle and is not counted.
      if (amount && answered === amount) ended();
    });
  });
  if (!end) ended();
  setupTimes = null;
  recorder.elu.idle += end.elu.idle;
  recorder.elu.active += end.elu.active;
  recorder.cpuSeconds = cpuStart === null || end.cpu === null || recorder.cpuSeconds === null ? null : recorder.cpuSeconds + end.cpu - cpuStart;
  // The last sample of an `amount` run covers a part of a second only.
  if (amount) samples.pop();
  const activeMs = amount ? end.at - started : (raw.duration ?? duration) * 1000;
  recorder.samples.push(...samples);
  recorder.runs += 1;
  recorder.amountMode ||= Boolean(amount);
  recorder.activeMs += activeMs;
  recorder.totalRequests += raw.totalCompletedRequests;
  recorder.errors += raw.errors;
  recorder.timeouts += raw.timeouts;
  // A scenario that expects another status (a 304) counts every other answer as unexpected.
  recorder.non2xx += expectedStatus ? raw.totalCompletedRequests - (raw.statusCodeStats[expectedStatus]?.count ?? 0) : raw.non2xx;
  recorder.mismatches += raw.mismatches;
  for (const [code, { count }] of Object.entries(raw.statusCodeStats)) recorder.statusCodes[code] = (recorder.statusCodes[code] ?? 0) + count;
  return activeMs > 0 ? raw.totalCompletedRequests / (activeMs / 1000) : 0;
}

/** A plain summary of a recorder (numbers only, safe to post to the main thread). */
function summaryOf(recorder, extra = {}) {
  const { latencies } = recorder;
  const ms = (us) => round(us / 1000);
  const activeSeconds = recorder.activeMs / 1000;
  const perSecond = meanOf(recorder.samples);
  const summary = {
    // Duration runs: the mean of the per-second counts. Amount runs (supplied scenarios): requests
    // over the time they took, since their last second is a partial one.
    reqPerSec: recorder.amountMode ? round(activeSeconds > 0 ? recorder.totalRequests / activeSeconds : 0) : perSecond.reqPerSec,
    reqPerSecStddev: perSecond.reqPerSecStddev,
    reqPerSecMin: perSecond.reqPerSecMin,
    samples: recorder.samples.length,
    totalRequests: recorder.totalRequests,
    durationSeconds: round(activeSeconds),
    latencyMs: {
      mean: ms(latencies.mean),
      p50: ms(latencies.getValueAtPercentile(50)),
      p90: ms(latencies.getValueAtPercentile(90)),
      p99: ms(latencies.getValueAtPercentile(99)),
      max: ms(latencies.maxValue),
    },
    errors: recorder.errors,
    timeouts: recorder.timeouts,
    non2xx: recorder.non2xx,
    mismatches: recorder.mismatches,
    statusCodes: recorder.statusCodes,
    loadGenerator: {
      eventLoopUtilization: round(recorder.elu.active / (recorder.elu.active + recorder.elu.idle || 1)),
      // Wall time in the scenario's setupRequest per request: on a busy machine it includes time
      // the thread waited for a core, so it is an upper bound of the CPU it cost.
      setupRequestMeanUs: recorder.setupRequest.calls ? round((recorder.setupRequest.ms * 1000) / recorder.setupRequest.calls) : null,
      cpuSeconds: recorder.cpuSeconds === null ? null : round(recorder.cpuSeconds),
    },
    ...extra,
  };
  latencies.destroy();
  return summary;
}

/** Mean, standard deviation and minimum of the per-second request counts. */
function meanOf(samples) {
  if (!samples.length) return { reqPerSec: 0, reqPerSecStddev: 0, reqPerSecMin: 0 };
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
  return { reqPerSec: round(mean), reqPerSecStddev: round(Math.sqrt(variance)), reqPerSecMin: Math.min(...samples) };
}

function round(value) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}

/**
 * The load generator's side of a supply: a FIFO of items minted by the main thread. take() is
 * what the scenario's setupRequest calls; it answers undefined when the stock is exhausted (the
 * scenario then sends a request the server refuses, so the run fails visibly).
 */
class Supply {
  constructor(port, lifetimeSeconds) {
    this.port = port;
    this.lifetimeSeconds = lifetimeSeconds;
    this.items = [];
    this.mintedAt = [];
    this.head = 0;
    this.nextId = 1;
    this.pending = new Map();
    port.on('message', (message) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`minting: ${message.error}`));
      else waiting.resolve(message);
    });
    this.resetStats();
  }

  resetStats() {
    this.stats = { minted: 0, mintSeconds: 0, used: 0, ranDry: 0, maxAgeSeconds: 0, segments: 0 };
  }

  get available() {
    return this.items.length - this.head;
  }

  take() {
    if (this.head >= this.items.length) {
      this.stats.ranDry += 1;
      return undefined;
    }
    const age = (Date.now() - this.mintedAt[this.head]) / 1000;
    if (age > this.stats.maxAgeSeconds) this.stats.maxAgeSeconds = age;
    this.stats.used += 1;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    return item;
  }

  /** Asks the main thread for `count` more items, minted within `budgetMs`; resolves with how many came. */
  async fill(count, budgetMs) {
    const id = this.nextId++;
    const answer = await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ type: 'mint', id, count, budgetMs });
    });
    // Start a fresh queue: every item of the previous segment was used.
    this.items = this.items.slice(this.head).concat(answer.items);
    this.mintedAt = this.mintedAt.slice(this.head).concat(answer.mintedAt);
    this.head = 0;
    this.stats.minted += answer.items.length;
    this.stats.mintSeconds += answer.seconds;
    return answer.items.length;
  }

  close() {
    this.port.close();
  }
}

/**
 * Runs a supplied scenario for about `seconds` of load, in segments of at most
 * SEGMENT_MAX_SECONDS: mint the segment's items (no load meanwhile), then run exactly that many
 * requests. `rate` (req/s) sizes the first segment; returns the last segment's rate.
 */
async function runSupplied(recorder, options, supply, { seconds, rate, minimum, window }) {
  const maxAgeSeconds = supply.lifetimeSeconds - LIFETIME_MARGIN_SECONDS;
  const before = recorder.activeMs / 1000;
  let done = 0;
  do {
    const length = Math.min(SEGMENT_MAX_SECONDS, seconds - done);
    const wanted = Math.max(minimum, Math.ceil(rate * length));
    // Minting may take at most what leaves room to use every item before maxAgeSeconds, even if
    // the segment runs 1.5 times slower than the one before.
    const budgetMs = Math.max(5, maxAgeSeconds - 1.5 * length) * 1000;
    const got = await supply.fill(wanted - supply.available, budgetMs);
    const amount = supply.available;
    if (amount === 0) throw new Error(`no item could be minted in ${budgetMs / 1000} s (${got} came)`);
    rate = await runInto(recorder, options, { amount, ...window });
    supply.stats.segments += 1;
    done = recorder.activeMs / 1000 - before;
  } while (done < seconds * 0.95);
  return rate;
}

/** Tells the main thread when measured load starts and stops: it measures the server over those stretches. */
const measuringWindow = {
  onStart: () => parentPort.postMessage({ phase: 'measuring' }),
  onEnd: () => parentPort.postMessage({ phase: 'paused' }),
};

async function main() {
  const { scenario: name, url, params, connections, duration, warmup, supply: supplyData } = workerData;
  const scenario = scenarioByName(name);
  if (!scenario) throw new Error(`no scenario named ${name}`);
  expectedStatus = scenario.expectedStatus ?? null;
  const supply = supplyData ? new Supply(supplyData.port, supplyData.lifetimeSeconds) : null;
  try {
    // autocannon takes the path as part of the url; requests[] may still set their own path.
    const { path, ...rest } = await scenario.load(params, supply ?? undefined);
    const options = timeSetupRequests({ ...rest, url: path ? new URL(path, url).href : url, connections });

    if (!supply) {
      const warm = warmup > 0 ? newRecorder() : null;
      if (warm) await runInto(warm, options, { duration: warmup });
      const measured = newRecorder();
      await runInto(measured, options, { duration, ...measuringWindow });
      return { warmup: warm && summaryOf(warm), measured: summaryOf(measured) };
    }

    // Warm-up: a first short segment (20 requests per connection) gives a first rate, then the
    // rest of the warm-up. It runs even with BENCH_WARMUP=0: the measured run needs a rate.
    const warm = newRecorder();
    const minimum = connections * 5;
    let rate = await runSupplied(warm, options, supply, { seconds: 0, rate: 0, minimum: connections * 20 });
    if (warmup > 0) rate = await runSupplied(warm, options, supply, { seconds: warmup, rate, minimum });
    const warmSupply = supply.stats;
    supply.resetStats();

    const measured = newRecorder();
    await runSupplied(measured, options, supply, { seconds: duration, rate, minimum, window: measuringWindow });
    const round2 = (stats) => ({ ...stats, mintSeconds: round(stats.mintSeconds), maxAgeSeconds: round(stats.maxAgeSeconds) });
    return {
      warmup: summaryOf(warm, { supply: round2(warmSupply) }),
      measured: summaryOf(measured, { supply: round2(supply.stats) }),
    };
  } finally {
    supply?.close();
  }
}

main().then(
  (result) => parentPort.postMessage({ ok: true, ...result }),
  (error) => parentPort.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
