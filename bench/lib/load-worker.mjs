// The load generator: runs autocannon in a worker thread, so that on a small machine the client
// and the servers (main thread) do not share one event loop. One worker per measurement: a
// warm-up run whose numbers are only checked for errors, then the measured run.
//
// workerData: { scenario, url, params, connections, duration, warmup }
// posts { phase: 'measuring' } when the measured run starts, then { ok: true, warmup, measured }
// or { ok: false, error }
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { scenarioByName } from '../scenarios.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
// autocannon's own latency histogram keeps whole milliseconds, too coarse for sub-millisecond
// answers; latencies are recorded here in microseconds from its 'response' events instead.
const hdr = createRequire(require.resolve('autocannon'))('hdr-histogram-js');

/** One autocannon run; returns a plain summary (numbers only, safe to post to the main thread). */
async function runOnce(options, duration) {
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
  const latencies = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000, // 120 s, in µs
    numberOfSignificantValueDigits: 3,
  });
  const raw = await new Promise((resolve, reject) => {
    const instance = autocannon(
      { ...options, duration, histograms: { requests: collect(samples), throughput: collect([]) } },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, _statusCode, _bytes, responseTimeMs) => {
      latencies.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
  const ms = (us) => round(us / 1000);
  const summary = {
    ...meanOf(samples),
    samples: samples.length,
    totalRequests: raw.totalCompletedRequests,
    durationSeconds: round(raw.duration ?? duration),
    latencyMs: {
      mean: ms(latencies.mean),
      p50: ms(latencies.getValueAtPercentile(50)),
      p90: ms(latencies.getValueAtPercentile(90)),
      p99: ms(latencies.getValueAtPercentile(99)),
      max: ms(latencies.maxValue),
    },
    errors: raw.errors,
    timeouts: raw.timeouts,
    non2xx: raw.non2xx,
    mismatches: raw.mismatches,
    statusCodes: Object.fromEntries(Object.entries(raw.statusCodeStats).map(([code, { count }]) => [code, count])),
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

async function main() {
  const { scenario: name, url, params, connections, duration, warmup } = workerData;
  const scenario = scenarioByName(name);
  if (!scenario) throw new Error(`no scenario named ${name}`);
  // autocannon takes the path as part of the url; requests[] may still set their own path.
  const { path, ...rest } = scenario.load(params);
  const options = { ...rest, url: path ? new URL(path, url).href : url, connections };
  const warm = warmup > 0 ? await runOnce(options, warmup) : null;
  // Tells the main thread to start its event-loop utilisation window.
  parentPort.postMessage({ phase: 'measuring' });
  const measured = await runOnce(options, duration);
  return { warmup: warm, measured };
}

main().then(
  (result) => parentPort.postMessage({ ok: true, ...result }),
  (error) => parentPort.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
